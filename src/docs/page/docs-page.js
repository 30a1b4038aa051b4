// kiln docs page: plain browser script, inlined into target/docs/index.html with its data
// (#kiln-data), dagre (graph layout), Chart.js (dashboards) and kiln's own selector (kilnSelector).
(function () {
  'use strict';
  /** The inlined data: plain JSON, or gzip+base64 for large projects (see site-html.ts). */
  function loadData() {
    var el = document.getElementById('kiln-data');
    if (el.getAttribute('data-encoding') !== 'gzip-base64') return Promise.resolve(JSON.parse(el.textContent));
    var bin = atob(el.textContent.trim()), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).text().then(JSON.parse);
  }
  loadData().then(start, function (e) {
    document.getElementById('app').textContent = 'kiln docs: cannot read the inlined data: ' + e.message;
  });

  function start(D) {
  var N = D.nodes;
  var L = D.layout;
  var byId = new Map(N.map(function (n, i) { return [n.id, i]; }));
  var SVG_LIMIT = 1500; // above this many nodes the graph is drawn on a canvas
  var NEIGHBOURHOOD_LIMIT = 250;
  var SVGNS = 'http://www.w3.org/2000/svg';

  // ---------- small helpers ----------
  function h(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'html') e.innerHTML = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) e.append(c); });
    return e;
  }
  function s(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function fmtNum(v) { return v === null || v === undefined ? '' : Number(v).toLocaleString('en'); }
  function fmtBytes(v) {
    if (v === null || v === undefined) return '';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (i ? v.toFixed(1) : v) + ' ' + u[i];
  }
  function fmtSecs(v) { return v === null || v === undefined ? '' : v < 10 ? v.toFixed(2) + 's' : v.toFixed(1) + 's'; }
  function badge(status) { return h('span', { class: 'badge ' + (status || 'none'), text: status || 'not run' }); }
  function statusClass(n) { return n.status || 'none'; }
  function nodeLink(id) {
    var i = byId.get(id);
    return h('a', { href: '#/node/' + encodeURIComponent(id), text: i === undefined ? id : N[i].label });
  }
  function walk(start, depth, next) {
    var seen = new Set(), frontier = [start];
    for (var d = 0; d < depth && frontier.length; d++) {
      var up = [];
      frontier.forEach(function (i) { next(i).forEach(function (j) { if (!seen.has(j)) { seen.add(j); up.push(j); } }); });
      frontier = up;
    }
    seen.delete(start);
    return seen;
  }
  function ancestors(i, depth) { return walk(i, depth === undefined ? Infinity : depth, function (k) { return N[k].p; }); }
  function descendants(i, depth) { return walk(i, depth === undefined ? Infinity : depth, function (k) { return N[k].c; }); }

  // ---------- selection: kiln's own selector over the page's graph ----------
  var selectable = N.map(function (n) {
    return { uniqueId: n.id, name: n.name, resourceType: n.type, originalFilePath: n.path, fqn: n.fqn, tags: n.tags,
      sourceName: n.source_name || undefined, config: n.config };
  });
  var idSet = function (set) { var out = new Set(); set.forEach(function (i) { out.add(N[i].id); }); return out; };
  var dagShim = {
    has: function (id) { return byId.has(id); },
    ancestors: function (id, depth) { return idSet(ancestors(byId.get(id), depth)); },
    descendants: function (id, depth) { return idSet(descendants(byId.get(id), depth)); },
  };
  var selectionState = { results: new Map(N.filter(function (n) { return n.status; }).map(function (n) { return [n.id, n.status]; })) };
  /** Indices selected by a --select expression (and optional --exclude); throws with a readable message. */
  function selectIndices(select, exclude) {
    var ids = kilnSelector.selectNodes(selectable, dagShim, select ? [select] : undefined, exclude ? [exclude] : undefined, selectionState, []);
    var out = [];
    ids.forEach(function (id) { var i = byId.get(id); if (i !== undefined) out.push(i); });
    return out;
  }
  window.kilnDocs = { data: D, selectIndices: selectIndices };

  // ---------- shell ----------
  var app = document.getElementById('app');
  var main, navLinks = {};
  function shell() {
    app.textContent = '';
    var nav = h('nav');
    [['lineage', 'Lineage'], ['sources', 'Sources'], ['tests', 'Tests'], ['timeline', 'Run timeline'], ['dashboards', 'Dashboards']].forEach(function (p) {
      navLinks[p[0]] = h('a', { href: '#/' + p[0], text: p[1], 'data-page': p[0] });
      nav.append(navLinks[p[0]]);
    });
    var runText;
    if (!D.run) runText = 'not run yet';
    else {
      var counts = {};
      N.concat(D.tests).forEach(function (n) { if (n.status) counts[n.status] = (counts[n.status] || 0) + 1; });
      runText = 'last ' + (D.run.which || 'run') + ' ' + (D.run.generated_at || '').replace('T', ' ').slice(0, 19) + ' · ' +
        Object.keys(counts).map(function (k) { return counts[k] + ' ' + k; }).join(', ');
    }
    app.append(h('header', { class: 'top' }, [
      h('span', { class: 'brand', text: D.project }, [h('small', { text: 'kiln docs' + (D.target ? ' · ' + D.target : '') })]),
      nav,
      h('span', { class: 'run', id: 'run-summary', text: runText }),
    ]));
    var notes = [];
    if (!D.run) notes.push('Not run yet: statuses, row counts and the run timeline appear after `kiln run` or `kiln build`.');
    if (D.catalog.message) notes.push(D.catalog.message);
    D.warnings.forEach(function (w) { if (notes.indexOf(w) < 0) notes.push(w); });
    if (notes.length) app.append(h('div', { class: 'banner', id: 'banner', text: notes.join(' · ') }));
    main = h('main');
    app.append(main);
  }

  var charts = [];
  function route() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
    var page = hash.split('/')[0] || 'lineage';
    Object.keys(navLinks).forEach(function (k) { navLinks[k].classList.toggle('active', k === page || (page === 'node' && k === 'lineage')); });
    main.textContent = '';
    main.className = page === 'lineage' ? 'graph-page' : 'page';
    if (page === 'node') nodePage(hash.slice(5));
    else if (page === 'sources') sourcesPage();
    else if (page === 'tests') testsPage();
    else if (page === 'timeline') timelinePage();
    else if (page === 'dashboards') dashboardsPage();
    else lineagePage();
  }

  // ---------- lineage ----------
  var lineage = { select: '', exclude: '', focus: null, depth: 2 };

  function lineagePage() {
    var wrap = h('div', { class: 'canvas-wrap', id: 'graph' });
    var input = h('input', { type: 'text', id: 'select', placeholder: '--select  e.g. +fct_reviews  tag:daily  path:models/marts', value: lineage.select });
    var exclude = h('input', { type: 'text', id: 'exclude', placeholder: '--exclude', value: lineage.exclude, style: 'width:160px' });
    var err = h('span', { class: 'err', id: 'select-error' });
    var count = h('span', { class: 'count', id: 'node-count' });
    var detail = h('aside', { class: 'detail', id: 'detail', hidden: '' });
    function apply() {
      lineage.select = input.value.trim();
      lineage.exclude = exclude.value.trim();
      lineage.focus = null;
      draw();
    }
    input.addEventListener('keydown', function (e) { if (e.key === 'Enter') apply(); });
    exclude.addEventListener('keydown', function (e) { if (e.key === 'Enter') apply(); });
    var legend = h('span', { class: 'legend' }, [['success', '#dcf3e5'], ['error', '#fbdada'], ['warn', '#fff0c2'], ['skipped', '#e6e8ec'], ['not run', '#fff']].map(function (x) {
      return h('span', {}, [h('i', { style: 'background:' + x[1] }), x[0]]);
    }));
    main.append(h('div', { class: 'lineage' }, [
      h('div', { class: 'stage' }, [
        h('div', { class: 'toolbar' }, [input, exclude,
          h('button', { id: 'apply', text: 'Select', onclick: apply }),
          h('button', { text: 'Whole graph', onclick: function () { input.value = ''; exclude.value = ''; apply(); } }),
          count, err, legend]),
        wrap,
      ]),
      detail,
    ]));

    function draw() {
      err.textContent = '';
      var shown, positions = null, title;
      if (lineage.focus !== null) {
        shown = neighbourhood(lineage.focus, lineage.depth);
        positions = dagreLayout(shown);
        title = 'neighbourhood of ' + N[lineage.focus].label;
      } else {
        try {
          shown = lineage.select || lineage.exclude ? selectIndices(lineage.select, lineage.exclude) : N.map(function (_, i) { return i; });
        } catch (e) {
          err.textContent = e.message + (e.hint ? ' (' + e.hint + ')' : '');
          shown = N.map(function (_, i) { return i; });
        }
        // A small selection gets a fresh, compact layout; a large one keeps the cached positions.
        if (shown.length < N.length && shown.length <= NEIGHBOURHOOD_LIMIT) positions = dagreLayout(shown);
        title = shown.length === N.length ? 'whole graph' : 'selection';
      }
      count.textContent = 'showing ' + shown.length + ' of ' + N.length + ' nodes (' + title + ')';
      var view = shown.length > SVG_LIMIT ? canvasGraph(wrap, shown, positions, onPick) : svgGraph(wrap, shown, positions, onPick);
      wrap.graphView = view;
      if (lineage.picked !== undefined && lineage.picked !== null && shown.indexOf(lineage.picked) >= 0) view.highlight(lineage.picked);
      else closeDetail();
    }
    function closeDetail() { detail.hidden = true; lineage.picked = null; }
    function onPick(i) {
      lineage.picked = i;
      if (i === null) { closeDetail(); return; }
      showDetail(detail, i, function focus() { lineage.focus = i; draw(); });
    }
    lineage.redraw = draw;
    draw();
  }

  function neighbourhood(i, depth) {
    var out = [i], seen = new Set([i]);
    var add = function (set) { set.forEach(function (j) { if (!seen.has(j) && out.length < NEIGHBOURHOOD_LIMIT) { seen.add(j); out.push(j); } }); };
    for (var d = 1; d <= depth; d++) { add(ancestors(i, d)); add(descendants(i, d)); }
    return out;
  }

  function dagreLayout(indices) {
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 70, marginx: 20, marginy: 20 });
    g.setDefaultEdgeLabel(function () { return {}; });
    var inSet = new Set(indices);
    indices.forEach(function (i) { g.setNode(String(i), { width: L.w[i], height: L.h }); });
    indices.forEach(function (i) { N[i].p.forEach(function (p) { if (inSet.has(p)) g.setEdge(String(p), String(i)); }); });
    dagre.layout(g);
    var pos = new Map();
    indices.forEach(function (i) { var n = g.node(String(i)); pos.set(i, [n.x, n.y]); });
    return pos;
  }

  /** Pan and zoom shared by both renderers: calls apply(tx, ty, k) on change. */
  function panZoom(wrap, bounds, apply) {
    var t = { x: 0, y: 0, k: 1 };
    function fit() {
      var W = wrap.clientWidth || 800, H = wrap.clientHeight || 600;
      var k = Math.min(1.2, Math.min(W / (bounds.w + 40), H / (bounds.h + 40)));
      t.k = k;
      t.x = (W - bounds.w * k) / 2 - bounds.x * k;
      t.y = (H - bounds.h * k) / 2 - bounds.y * k;
      apply(t);
    }
    wrap.onwheel = function (e) {
      e.preventDefault();
      var r = wrap.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
      var f = Math.exp(-e.deltaY * (e.ctrlKey ? 0.01 : 0.0015));
      var k = Math.max(0.01, Math.min(4, t.k * f));
      t.x = mx - (mx - t.x) * (k / t.k);
      t.y = my - (my - t.y) * (k / t.k);
      t.k = k;
      apply(t);
    };
    var drag = null;
    wrap.onpointerdown = function (e) { drag = { x: e.clientX, y: e.clientY, tx: t.x, ty: t.y, moved: false }; };
    wrap.onpointermove = function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true;
      wrap.classList.add('dragging');
      t.x = drag.tx + dx; t.y = drag.ty + dy;
      apply(t);
    };
    wrap.onpointerup = function () { wrap.classList.remove('dragging'); setTimeout(function () { drag = null; }, 0); };
    fit();
    return { t: t, fit: fit, wasDrag: function () { return drag !== null && drag.moved; } };
  }

  function boundsOf(indices, pos) {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    indices.forEach(function (i) {
      var p = pos(i), w = L.w[i] / 2;
      x0 = Math.min(x0, p[0] - w); x1 = Math.max(x1, p[0] + w); y0 = Math.min(y0, p[1] - L.h / 2); y1 = Math.max(y1, p[1] + L.h / 2);
    });
    return indices.length ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : { x: 0, y: 0, w: 1, h: 1 };
  }

  function edgePath(a, b, ia, ib) {
    var x1 = a[0] + L.w[ia] / 2, y1 = a[1], x2 = b[0] - L.w[ib] / 2, y2 = b[1];
    var mx = (x1 + x2) / 2;
    return 'M' + x1 + ',' + y1 + ' C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' + x2 + ',' + y2;
  }

  function highlightSets(i, inSet) {
    var up = ancestors(i), down = descendants(i);
    return { up: up, down: down, inSet: inSet };
  }

  function svgGraph(wrap, indices, positions, onPick) {
    wrap.textContent = '';
    var pos = function (i) { return positions ? positions.get(i) : [L.x[i], L.y[i]]; };
    var inSet = new Set(indices);
    var svg = s('svg', {});
    var root = s('g', {});
    var edges = s('g', { class: 'edges' }), nodes = s('g', { class: 'nodes' });
    var edgeEls = [], nodeEls = new Map();
    indices.forEach(function (i) {
      N[i].p.forEach(function (p) {
        if (!inSet.has(p)) return;
        var e = s('path', { class: 'edge', d: edgePath(pos(p), pos(i), p, i), 'data-from': N[p].id, 'data-to': N[i].id });
        edgeEls.push([e, p, i]);
        edges.append(e);
      });
    });
    indices.forEach(function (i) {
      var n = N[i], p = pos(i), w = L.w[i];
      var g = s('g', { class: 'node ' + statusClass(n), transform: 'translate(' + (p[0] - w / 2) + ',' + (p[1] - L.h / 2) + ')', 'data-id': n.id, 'data-type': n.type });
      g.append(s('rect', { class: 'box', width: w, height: L.h }));
      g.append(s('rect', { class: 'kind', width: 5, height: L.h - 2, x: 1, y: 1, fill: n.type === 'source' ? '#0e9384' : n.type === 'seed' ? '#7a5af8' : /dashboards\//.test(n.path) ? '#e04f16' : '#2b59c3' }));
      var t = s('text', { x: 12, y: L.h / 2 });
      t.textContent = n.label.length > 34 ? n.label.slice(0, 33) + '…' : n.label;
      g.append(t);
      var title = s('title', {});
      title.textContent = n.label + ' (' + n.type + (n.materialized ? ', ' + n.materialized : '') + ') — ' + (n.status || 'not run');
      g.append(title);
      nodeEls.set(i, g);
      nodes.append(g);
    });
    root.append(edges, nodes);
    svg.append(root);
    wrap.append(svg, h('div', { class: 'hint', text: 'scroll to zoom · drag to pan · click a node' }));
    var pz = panZoom(wrap, boundsOf(indices, pos), function (t) { root.setAttribute('transform', 'translate(' + t.x + ',' + t.y + ') scale(' + t.k + ')'); });
    function highlight(i) {
      var hs = highlightSets(i, inSet);
      svg.classList.toggle('has-hl', i !== null);
      nodeEls.forEach(function (g, j) {
        g.classList.toggle('hl-sel', j === i);
        g.classList.toggle('hl-up', i !== null && hs.up.has(j));
        g.classList.toggle('hl-down', i !== null && hs.down.has(j));
      });
      edgeEls.forEach(function (x) {
        var e = x[0], a = x[1], b = x[2];
        e.classList.toggle('hl-up', i !== null && hs.up.has(a) && (b === i || hs.up.has(b)));
        e.classList.toggle('hl-down', i !== null && hs.down.has(b) && (a === i || hs.down.has(a)));
      });
    }
    svg.addEventListener('click', function (e) {
      if (pz.wasDrag()) return;
      var g = e.target.closest && e.target.closest('g.node');
      var i = g ? byId.get(g.getAttribute('data-id')) : null;
      if (i === null) { svg.classList.remove('has-hl'); nodeEls.forEach(function (el) { el.classList.remove('hl-sel', 'hl-up', 'hl-down'); }); onPick(null); return; }
      highlight(i);
      onPick(i);
    });
    svg.addEventListener('dblclick', function (e) {
      var g = e.target.closest && e.target.closest('g.node');
      if (g) location.hash = '#/node/' + encodeURIComponent(g.getAttribute('data-id'));
    });
    return { kind: 'svg', highlight: function (i) { highlight(i); onPick(i); } };
  }

  /** The dense overview: every node and edge on a canvas; labels appear when zoomed in. */
  function canvasGraph(wrap, indices, positions, onPick) {
    wrap.textContent = '';
    var canvas = h('canvas', { id: 'overview' });
    wrap.append(canvas, h('div', { class: 'hint', text: indices.length + ' nodes: too dense to read whole · zoom in, or click a node for its neighbourhood' }));
    var ctx = canvas.getContext('2d');
    var pos = function (i) { return positions ? positions.get(i) : [L.x[i], L.y[i]]; };
    var inSet = new Set(indices);
    var fill = { success: '#47b576', pass: '#47b576', error: '#d64545', fail: '#d64545', warn: '#e0a100', skipped: '#b7bfcc', none: '#ffffff' };
    var hl = null, frame = 0, current = { x: 0, y: 0, k: 1 };
    function render() {
      frame = 0;
      var t = current, dpr = window.devicePixelRatio || 1;
      var W = wrap.clientWidth, H = wrap.clientHeight;
      if (canvas.width !== W * dpr || canvas.height !== H * dpr) { canvas.width = W * dpr; canvas.height = H * dpr; }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, W, H);
      ctx.setTransform(dpr * t.k, 0, 0, dpr * t.k, dpr * t.x, dpr * t.y);
      var x0 = -t.x / t.k, y0 = -t.y / t.k, x1 = (W - t.x) / t.k, y1 = (H - t.y) / t.k;
      var visible = function (p, i) { return p[0] + L.w[i] / 2 >= x0 && p[0] - L.w[i] / 2 <= x1 && p[1] + L.h >= y0 && p[1] - L.h <= y1; };
      ctx.lineWidth = 1 / t.k;
      ctx.strokeStyle = hl ? 'rgba(120,130,150,0.05)' : 'rgba(120,130,150,0.18)';
      ctx.beginPath();
      indices.forEach(function (i) {
        var b = pos(i);
        N[i].p.forEach(function (p) {
          if (!inSet.has(p)) return;
          var a = pos(p);
          if (Math.max(a[1], b[1]) < y0 || Math.min(a[1], b[1]) > y1 || b[0] < x0 || a[0] > x1) return;
          ctx.moveTo(a[0] + L.w[p] / 2, a[1]);
          ctx.lineTo(b[0] - L.w[i] / 2, b[1]);
        });
      });
      ctx.stroke();
      if (hl) {
        [['up', '#2b59c3'], ['down', '#c2410c']].forEach(function (x) {
          ctx.strokeStyle = x[1]; ctx.lineWidth = 2 / t.k; ctx.beginPath();
          hl[x[0]].forEach(function (j) {
            var js = x[0] === 'up' ? N[j].c : N[j].p;
            js.forEach(function (k) {
              if (!(k === hl.i || hl[x[0]].has(k)) || !inSet.has(k)) return;
              var a = x[0] === 'up' ? j : k, b = x[0] === 'up' ? k : j;
              ctx.moveTo(pos(a)[0] + L.w[a] / 2, pos(a)[1]); ctx.lineTo(pos(b)[0] - L.w[b] / 2, pos(b)[1]);
            });
          });
          ctx.stroke();
        });
      }
      var labels = t.k * L.h > 14;
      ctx.font = '12px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      indices.forEach(function (i) {
        var p = pos(i);
        if (!visible(p, i)) return;
        var on = !hl || i === hl.i || hl.up.has(i) || hl.down.has(i);
        ctx.globalAlpha = on ? 1 : 0.2;
        ctx.fillStyle = fill[statusClass(N[i])] || '#fff';
        ctx.fillRect(p[0] - L.w[i] / 2, p[1] - L.h / 2, L.w[i], L.h);
        ctx.lineWidth = (hl && i === hl.i ? 3 : 1) / t.k;
        ctx.strokeStyle = hl && hl.up.has(i) ? '#2b59c3' : hl && hl.down.has(i) ? '#c2410c' : hl && i === hl.i ? '#111' : '#7a8599';
        ctx.strokeRect(p[0] - L.w[i] / 2, p[1] - L.h / 2, L.w[i], L.h);
        if (labels) { ctx.fillStyle = '#1d2330'; ctx.fillText(N[i].label.slice(0, 34), p[0] - L.w[i] / 2 + 8, p[1]); }
      });
      ctx.globalAlpha = 1;
    }
    var b = boundsOf(indices, pos);
    b.dense = true;
    var pz = panZoom(wrap, b, function (t) { current = t; if (!frame) frame = requestAnimationFrame(render); });
    function highlight(i) {
      hl = i === null ? null : { i: i, up: ancestors(i), down: descendants(i) };
      if (!frame) frame = requestAnimationFrame(render);
    }
    canvas.addEventListener('click', function (e) {
      if (pz.wasDrag()) return;
      var r = canvas.getBoundingClientRect(), t = current;
      var x = (e.clientX - r.left - t.x) / t.k, y = (e.clientY - r.top - t.y) / t.k;
      var hit = null, best = Infinity;
      indices.forEach(function (i) {
        var p = pos(i), dx = Math.max(0, Math.abs(x - p[0]) - L.w[i] / 2), dy = Math.max(0, Math.abs(y - p[1]) - L.h / 2);
        var d = dx + dy;
        if (d < best) { best = d; hit = i; }
      });
      if (best * t.k > 8) hit = null;
      highlight(hit);
      onPick(hit);
    });
    new ResizeObserver(function () { if (!frame) frame = requestAnimationFrame(render); }).observe(wrap);
    return { kind: 'canvas', highlight: function (i) { highlight(i); onPick(i); } };
  }

  function columnsTable(n) {
    if (!n.columns.length) return h('p', { class: 'muted', text: D.catalog.available ? 'No columns documented or found in the warehouse.' : 'No documented columns (catalog not available).' });
    return h('table', { class: 'grid columns' }, [
      h('thead', {}, [h('tr', {}, ['Column', 'Type', 'Description', 'Tests'].map(function (t) { return h('th', { text: t }); }))]),
      h('tbody', {}, n.columns.map(function (c) {
        return h('tr', { 'data-column': c.name }, [h('td', {}, [h('code', { text: c.name })]), h('td', {}, [h('code', { text: c.type || '' })]), h('td', { text: c.description }),
          h('td', {}, c.tests.map(function (t) { return h('span', { title: t.name }, [badge(t.status), ' ', t.name.replace(/_.*/, ''), ' ']); }))]);
      })),
    ]);
  }

  function showDetail(panel, i, focus) {
    var n = N[i];
    panel.hidden = false;
    panel.textContent = '';
    panel.append(
      h('h2', { text: n.label }),
      h('div', {}, [badge(n.status), ' ', h('span', { class: 'muted', text: n.type + (n.materialized ? ' · ' + n.materialized : '') })]),
      h('div', { class: 'actions' }, [
        h('a', { href: '#/node/' + encodeURIComponent(n.id), text: 'Open node page' }),
        h('button', { text: 'Neighbourhood', onclick: focus }),
        h('button', { text: 'Select +' + n.name + '+', onclick: function () { var inp = document.getElementById('select'); inp.value = '+' + (n.type === 'source' ? 'source:' + n.label : n.name) + '+'; document.getElementById('apply').click(); } }),
      ]),
      n.description ? h('p', { text: n.description }) : null,
      h('dl', { class: 'kv' }, [h('dt', { text: 'upstream' }), h('dd', { text: String(ancestors(i).size) + ' nodes' }), h('dt', { text: 'downstream' }), h('dd', { text: String(descendants(i).size) + ' nodes' }),
        h('dt', { text: 'path' }), h('dd', { text: n.path })]),
      h('h2', { text: 'Columns' }),
      columnsTable(n),
    );
  }

  // ---------- node page ----------
  function nodePage(id) {
    var i = byId.get(id);
    if (i === undefined) { main.append(h('div', { class: 'empty', text: 'No node ' + id })); return; }
    var n = N[i];
    var kv = [['unique id', n.id], ['file', n.path], ['relation', n.relation || '(none)'], ['materialized', n.materialized || ''],
      ['last status', n.status || 'not run yet'], ['execution time', fmtSecs(n.time)], ['rows affected', fmtNum(n.rows)]];
    if (n.stats) kv.push(['rows in warehouse', fmtNum(n.stats.rows)], ['size', fmtBytes(n.stats.bytes)]);
    if (n.message) kv.push(['message', n.message]);
    var list = function (ids) { return ids.length ? h('ul', {}, ids.map(function (j) { return h('li', {}, [nodeLink(N[j].id), ' ', badge(N[j].status)]); })) : h('p', { class: 'muted', text: 'none' }); };
    var tests = D.tests.filter(function (t) { return t.attached === n.id; });
    main.append(
      h('h1', { text: n.label }),
      h('div', {}, [badge(n.status), ' ', h('span', { class: 'muted', text: n.type }), ' ', n.tags.map(function (t) { return h('span', { class: 'tag', text: t }); })].flat()),
      n.description ? h('p', { text: n.description }) : h('p', { class: 'muted', text: 'No description.' }),
      h('dl', { class: 'kv' }, kv.flatMap(function (x) { return [h('dt', { text: x[0] }), h('dd', { text: String(x[1]) })]; })),
      h('h2', { text: 'Columns' }), columnsTable(n),
      h('h2', { text: 'Upstream' }), list(n.p),
      h('h2', { text: 'Downstream' }), list(n.c),
      h('h2', { text: 'Tests' }),
      tests.length ? testsTable(tests) : h('p', { class: 'muted', text: 'No tests on this node.' }),
      h('h2', { text: 'Config' }), h('pre', { class: 'code', text: JSON.stringify(n.config, null, 2) }),
      n.compiled_code !== null ? h('h2', { text: 'Compiled SQL' + (n.compiled_path ? ' — ' + n.compiled_path : '') }) : null,
      n.compiled_code !== null ? h('pre', { class: 'code', id: 'compiled-sql', text: n.compiled_code }) : null,
      n.raw_code !== null ? h('h2', { text: 'Source — ' + n.path }) : null,
      n.raw_code !== null ? h('pre', { class: 'code', text: n.raw_code }) : null,
    );
  }

  // ---------- sources ----------
  function sourcesPage() {
    main.append(h('h1', { text: 'Sources' }));
    if (!D.sources.length) { main.append(h('div', { class: 'empty', text: 'No sources declared in sources.yml.' })); return; }
    var hasLedger = D.sources.some(function (x) { return x.load; });
    var hasQuarantine = D.sources.some(function (x) { return x.quarantined !== null; });
    if (!hasLedger) main.append(h('p', { class: 'muted', text: 'No load ledger in the raw database yet: files, loads and rejects appear after `kiln stage`.' }));
    var head = ['Source', 'Table', 'Loader', 'Relation', 'Rows', 'Size', 'Files loaded', 'Rows loaded', 'Rejected', 'Last load', 'Freshness'];
    main.append(h('table', { class: 'grid', id: 'sources' }, [
      h('thead', {}, [h('tr', {}, head.map(function (t) { return h('th', { text: t }); }))]),
      h('tbody', {}, D.sources.map(function (x) {
        var rejected = x.load ? x.load.rejected : hasQuarantine ? x.quarantined : null;
        return h('tr', {}, [h('td', { text: x.source_name }), h('td', {}, [nodeLink(x.id)]), h('td', { text: x.loader || '' }), h('td', {}, [h('code', { text: x.relation || '' })]),
          h('td', { class: 'num', text: fmtNum(x.rows) }), h('td', { class: 'num', text: fmtBytes(x.bytes) }),
          h('td', { class: 'num', text: x.load ? fmtNum(x.load.files) : '' }), h('td', { class: 'num', text: x.load ? fmtNum(x.load.rows) : '' }),
          h('td', { class: 'num', text: fmtNum(rejected) }), h('td', { text: x.load ? (x.load.last_load || '') + (x.load.last_status ? ' (' + x.load.last_status + ')' : '') : '' }),
          h('td', { text: x.freshness ? JSON.stringify(x.freshness) + (x.loaded_at_field ? ' on ' + x.loaded_at_field : '') : '' })]);
      })),
    ]));
  }

  // ---------- tests ----------
  function testsTable(tests) {
    return h('table', { class: 'grid tests' }, [
      h('thead', {}, [h('tr', {}, ['Status', 'Test', 'Kind', 'On', 'Severity', 'Failures', 'Message / query to reproduce'].map(function (t) { return h('th', { text: t }); }))]),
      h('tbody', {}, tests.map(function (t) {
        return h('tr', { 'data-id': t.id }, [h('td', {}, [badge(t.status)]), h('td', { text: t.name }), h('td', { text: t.type === 'unit_test' ? 'unit' : t.test_name || '' }),
          h('td', {}, t.attached ? [nodeLink(t.attached), t.column ? '.' + t.column : ''] : []), h('td', { text: t.severity || '' }), h('td', { class: 'num', text: fmtNum(t.failures) }),
          h('td', {}, [t.message ? h('div', { text: t.message }) : null, t.sql ? h('details', { class: 'sql' }, [h('summary', { text: 'SQL' }), h('pre', { class: 'code', text: t.sql })]) : null])]);
      })),
    ]);
  }
  function testsPage() {
    main.append(h('h1', { text: 'Tests' }));
    if (!D.tests.length) { main.append(h('div', { class: 'empty', text: 'No data tests or unit tests in this project yet.' })); return; }
    var counts = {};
    D.tests.forEach(function (t) { var k = t.status || 'not run'; counts[k] = (counts[k] || 0) + 1; });
    main.append(h('div', { class: 'cards' }, Object.keys(counts).map(function (k) { return h('div', { class: 'card' }, [h('b', { text: String(counts[k]) }), k]); })));
    var order = { error: 0, fail: 1, warn: 2, skipped: 3, pass: 4, success: 4 };
    var sorted = D.tests.slice().sort(function (a, b) { return (order[a.status] === undefined ? 5 : order[a.status]) - (order[b.status] === undefined ? 5 : order[b.status]) || a.name.localeCompare(b.name); });
    main.append(testsTable(sorted));
  }

  // ---------- run timeline ----------
  function timelinePage() {
    main.append(h('h1', { text: 'Run timeline' }));
    if (!D.run) { main.append(h('div', { class: 'empty', id: 'timeline-empty', text: 'Not run yet: run `kiln run` or `kiln build`, then generate the docs again.' })); return; }
    var bars = D.timeline;
    if (!bars.length) { main.append(h('div', { class: 'empty', id: 'timeline-empty', text: 'The last run recorded no timings.' })); return; }
    var threads = [];
    bars.forEach(function (b) { if (threads.indexOf(b.thread) < 0) threads.push(b.thread); });
    var end = Math.max.apply(null, bars.map(function (b) { return b.end; })) || 1;
    var busy = threads.map(function (t) { return bars.filter(function (b) { return b.thread === t; }).reduce(function (acc, b) { return acc + (b.end - b.start); }, 0); });
    main.append(h('p', { class: 'muted', text: (D.run.which || 'run') + ' · ' + bars.length + ' nodes on ' + threads.length + ' threads · wall ' + fmtSecs(end / 1000) + ' · ' +
      threads.map(function (t, k) { return t + ' busy ' + Math.round(100 * busy[k] / end) + '%'; }).join(', ') }));
    var labelW = 110, W = Math.max(900, (main.clientWidth || 1100) - 60), rowH = 30, axisH = 24;
    var scale = (W - labelW - 20) / end;
    var svg = s('svg', { width: W, height: axisH + threads.length * rowH + 10, id: 'gantt' });
    var raw = end / 1000 / 8, mag = Math.pow(10, Math.floor(Math.log10(raw || 1)));
    var step = raw / mag > 5 ? 10 * mag : raw / mag > 2 ? 5 * mag : raw / mag > 1 ? 2 * mag : mag;
    for (var tk = 0; tk * step * 1000 <= end; tk++) {
      var x = labelW + tk * step * 1000 * scale;
      svg.append(s('line', { x1: x, x2: x, y1: axisH - 4, y2: axisH + threads.length * rowH, stroke: '#e4e7ec' }));
      var tt = s('text', { x: x + 2, y: 14 }); tt.textContent = +(tk * step).toFixed(3) + 's'; svg.append(tt);
    }
    threads.forEach(function (t, k) {
      var y = axisH + k * rowH;
      var lt = s('text', { x: 6, y: y + rowH / 2 + 4 }); lt.textContent = t; svg.append(lt);
      svg.append(s('line', { x1: labelW, x2: W - 10, y1: y + rowH, y2: y + rowH, stroke: '#f0f2f5' }));
    });
    bars.forEach(function (b) {
      var y = axisH + threads.indexOf(b.thread) * rowH + 4, x = labelW + b.start * scale, w = Math.max(1.5, (b.end - b.start) * scale);
      var r = s('rect', { class: 'bar ' + b.status, x: x, y: y, width: w, height: rowH - 8, rx: 3, 'data-id': b.id });
      var title = s('title', {}); title.textContent = b.name + ' — ' + b.status + ', ' + fmtSecs((b.end - b.start) / 1000); r.append(title);
      r.addEventListener('click', function () { location.hash = '#/node/' + encodeURIComponent(b.id); });
      svg.append(r);
      if (w > 60) { var bt = s('text', { x: x + 4, y: y + (rowH - 8) / 2 + 4, 'pointer-events': 'none' }); bt.textContent = b.name.slice(0, Math.floor(w / 7)); svg.append(bt); }
    });
    main.append(h('div', { class: 'gantt' }, [svg]));
    var slow = bars.slice().sort(function (a, b) { return (b.end - b.start) - (a.end - a.start); }).slice(0, 10);
    main.append(h('h2', { text: 'Slowest' }), h('table', { class: 'grid' }, [h('tbody', {}, slow.map(function (b) {
      return h('tr', {}, [h('td', {}, [badge(b.status)]), h('td', {}, [byId.has(b.id) ? nodeLink(b.id) : b.name]), h('td', { text: b.thread }), h('td', { class: 'num', text: fmtSecs((b.end - b.start) / 1000) })]);
    }))]));
  }

  // ---------- dashboards ----------
  var PALETTE = ['#2b59c3', '#e04f16', '#16a34a', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#475467', '#65a30d', '#7c3aed', '#0d9488', '#b91c1c'];
  function chartConfig(d) {
    var c = d.chart, rows = d.rows;
    var num = function (v) { return v === null || v === undefined ? null : Number(v); };
    if (c.kind === 'line') {
      var xs = Array.from(new Set(rows.map(function (r) { return String(r[c.x]); }))).sort();
      var datasets;
      if (c.series) {
        var groups = Array.from(new Set(rows.map(function (r) { return String(r[c.series]); })));
        datasets = groups.map(function (g, k) {
          var m = new Map(rows.filter(function (r) { return String(r[c.series]) === g; }).map(function (r) { return [String(r[c.x]), num(r[c.y[0]])]; }));
          return { label: g, data: xs.map(function (x) { return m.has(x) ? m.get(x) : null; }), borderColor: PALETTE[k % PALETTE.length], backgroundColor: PALETTE[k % PALETTE.length], spanGaps: true, tension: 0.2, pointRadius: 2 };
        });
      } else {
        datasets = c.y.map(function (y, k) {
          var m = new Map(rows.map(function (r) { return [String(r[c.x]), num(r[y])]; }));
          return { label: y, data: xs.map(function (x) { return m.has(x) ? m.get(x) : null; }), borderColor: PALETTE[k % PALETTE.length], backgroundColor: PALETTE[k % PALETTE.length], spanGaps: true, tension: 0.2, pointRadius: 2 };
        });
      }
      return { type: 'line', data: { labels: xs.map(function (x) { return x.replace(/ 00:00:00$/, ''); }), datasets: datasets },
        options: { animation: false, maintainAspectRatio: false, interaction: { mode: 'index', intersect: false }, scales: { y: { beginAtZero: false } } } };
    }
    var top = rows.slice().sort(function (a, b) { return num(b[c.y[0]]) - num(a[c.y[0]]); }).slice(0, 25);
    return { type: 'bar', data: { labels: top.map(function (r) { return String(r[c.x]); }),
      datasets: c.y.map(function (y, k) { return { label: y, data: top.map(function (r) { return num(r[y]); }), backgroundColor: PALETTE[k % PALETTE.length] }; }) },
      options: { animation: false, maintainAspectRatio: false, indexAxis: 'y', plugins: { legend: { display: c.y.length > 1 } } } };
  }
  function rowsTable(d) {
    var cols = d.columns.length ? d.columns.map(function (c) { return c.name; }) : Object.keys(d.rows[0] || {});
    return h('table', { class: 'grid' }, [h('thead', {}, [h('tr', {}, cols.map(function (c) { return h('th', { text: c }); }))]),
      h('tbody', {}, d.rows.slice(0, 50).map(function (r) { return h('tr', {}, cols.map(function (c) { return h('td', { text: r[c] === null ? 'NULL' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c]) }); })); }))]);
  }
  function dashboardsPage() {
    main.append(h('h1', { text: 'Dashboards' }), h('p', { class: 'muted', text: 'Rows of the models under models/dashboards/, captured at ' + D.generated_at.replace('T', ' ').slice(0, 19) + ' UTC.' }));
    if (!D.dashboards.length) { main.append(h('div', { class: 'empty', text: 'No dashboard models: put models under models/dashboards/ to chart them here.' })); return; }
    var grid = h('div', { class: 'dash-grid' });
    main.append(grid);
    D.dashboards.forEach(function (d) {
      var card = h('section', { class: 'dash', 'data-id': d.id, id: 'dash-' + d.name }, [
        h('h3', {}, [nodeLink(d.id)]),
        d.description ? h('div', { class: 'muted', text: d.description }) : null,
      ]);
      grid.append(card);
      if (d.error) { card.append(h('div', { class: 'dash-error', text: d.error })); return; }
      if (!d.rows.length) { card.append(h('div', { class: 'empty', text: 'The model returned no rows.' })); return; }
      if (!d.chart || d.chart.kind === 'table' || !d.chart.x || !d.chart.y.length) { card.append(rowsTable(d)); return; }
      var canvas = h('canvas', { 'aria-label': d.name + ' chart' });
      card.append(h('div', { class: 'chart-box' }, [canvas]), h('div', { class: 'muted', style: 'font-size:12px', text: d.chart.kind + ' chart of ' + d.chart.y.join(', ') + ' by ' + d.chart.x + (d.chart.series ? ' per ' + d.chart.series : '') + ' · ' + d.rows.length + ' rows' }));
      try { charts.push(new Chart(canvas, chartConfig(d))); } catch (e) { card.append(h('div', { class: 'dash-error', text: 'chart failed: ' + e.message })); }
    });
  }

  // ---------- boot ----------
  shell();
  window.addEventListener('hashchange', route);
  route();
  if (D.served && location.protocol.indexOf('http') === 0) {
    // Under `kiln docs serve`: reload when the site is regenerated.
    var seen = null;
    setInterval(function () {
      fetch('/__kiln/version', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (v) {
        if (seen !== null && v.version !== seen) location.reload();
        seen = v.version;
      }).catch(function () { /* server stopped */ });
    }, 2000);
  }
  }
})();
