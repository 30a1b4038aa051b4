import { badge, fmtSecs, h, nodeLink, s } from './dom.js';
import type { PageContext } from './page-context.js';

/** `#/timeline`: the last run as a Gantt chart, one row per thread, and its slowest nodes. */
export function timelinePage(ctx: PageContext): void {
  const { data, graph, main } = ctx;
  main.append(h('h1', { text: 'Run timeline' }));
  if (!data.run) {
    main.append(h('div', { class: 'empty', id: 'timeline-empty', text: 'Not run yet: run `kiln run` or `kiln build`, then generate the docs again.' }));
    return;
  }
  const bars = data.timeline;
  if (!bars.length) {
    main.append(h('div', { class: 'empty', id: 'timeline-empty', text: 'The last run recorded no timings.' }));
    return;
  }
  const threads: string[] = [];
  for (const b of bars) if (!threads.includes(b.thread)) threads.push(b.thread);
  const end = Math.max(...bars.map((b) => b.end)) || 1;
  const busy = threads.map((t) => bars.filter((b) => b.thread === t).reduce((acc, b) => acc + (b.end - b.start), 0));
  main.append(
    h('p', {
      class: 'muted',
      text: `${data.run.which || 'run'} · ${bars.length} nodes on ${threads.length} threads · wall ${fmtSecs(end / 1000)} · ${threads.map((t, k) => `${t} busy ${Math.round((100 * busy[k]!) / end)}%`).join(', ')}`,
    }),
  );
  const labelW = 110;
  const W = Math.max(900, (main.clientWidth || 1100) - 60);
  const rowH = 30;
  const axisH = 24;
  const scale = (W - labelW - 20) / end;
  const svg = s('svg', { width: W, height: axisH + threads.length * rowH + 10, id: 'gantt' });
  // About eight ticks at 1, 2 or 5 times a power of ten seconds.
  const raw = end / 1000 / 8;
  const mag = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  const step = raw / mag > 5 ? 10 * mag : raw / mag > 2 ? 5 * mag : raw / mag > 1 ? 2 * mag : mag;
  for (let tk = 0; tk * step * 1000 <= end; tk++) {
    const x = labelW + tk * step * 1000 * scale;
    svg.append(s('line', { x1: x, x2: x, y1: axisH - 4, y2: axisH + threads.length * rowH, stroke: '#e4e7ec' }));
    const tt = s('text', { x: x + 2, y: 14 });
    tt.textContent = `${+(tk * step).toFixed(3)}s`;
    svg.append(tt);
  }
  threads.forEach((t, k) => {
    const y = axisH + k * rowH;
    const lt = s('text', { x: 6, y: y + rowH / 2 + 4 });
    lt.textContent = t;
    svg.append(lt);
    svg.append(s('line', { x1: labelW, x2: W - 10, y1: y + rowH, y2: y + rowH, stroke: '#f0f2f5' }));
  });
  for (const b of bars) {
    const y = axisH + threads.indexOf(b.thread) * rowH + 4;
    const x = labelW + b.start * scale;
    const w = Math.max(1.5, (b.end - b.start) * scale);
    const r = s('rect', { class: `bar ${b.status}`, x, y, width: w, height: rowH - 8, rx: 3, 'data-id': b.id });
    const title = s('title');
    title.textContent = `${b.name} — ${b.status}, ${fmtSecs((b.end - b.start) / 1000)}`;
    r.append(title);
    r.addEventListener('click', () => {
      location.hash = `#/node/${encodeURIComponent(b.id)}`;
    });
    svg.append(r);
    if (w > 60) {
      const bt = s('text', { x: x + 4, y: y + (rowH - 8) / 2 + 4, 'pointer-events': 'none' });
      bt.textContent = b.name.slice(0, Math.floor(w / 7));
      svg.append(bt);
    }
  }
  main.append(h('div', { class: 'gantt' }, [svg]));
  const slow = [...bars].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, 10);
  main.append(
    h('h2', { text: 'Slowest' }),
    h('table', { class: 'grid' }, [
      h(
        'tbody',
        {},
        slow.map((b) =>
          h('tr', {}, [
            h('td', {}, [badge(b.status)]),
            h('td', {}, [graph.byId.has(b.id) ? nodeLink(graph, b.id) : b.name]),
            h('td', { text: b.thread }),
            h('td', { class: 'num', text: fmtSecs((b.end - b.start) / 1000) }),
          ]),
        ),
      ),
    ]),
  );
}
