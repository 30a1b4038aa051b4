#!/usr/bin/env node
// kiln docs on the 10k-model synthetic project (shared/bench/gen-dag.js): how long `docs generate`
// takes, how big the page is, and how long Chromium takes to open it and answer a click.
// Targets (issue 7): generate ≤ 5 s, open ≤ 3 s. Usage: node bench/docs-bench.js [N]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const n = Number(process.argv[2] ?? 10000);
const genDag = [join(repo, '..', 'shared', 'bench', 'gen-dag.js'), '/work/shared/bench/gen-dag.js'].find(existsSync);
const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';
if (!genDag) {
  process.stderr.write('docs-bench: shared/bench/gen-dag.js not found next to the repo\n');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'kiln-docs-bench-'));
const rows = [];
const timed = (label, args, target) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(repo, 'bin', 'kiln.js'), ...args], { cwd: dir, encoding: 'utf8' });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  rows.push([label, `${s.toFixed(2)} s`, target ?? '']);
  return s;
};

try {
  spawnSync(process.execPath, [genDag, String(n), dir], { stdio: 'ignore' });
  timed(`kiln compile (${n} models)`, ['compile']);
  timed('kiln docs generate --no-compile (first: layout computed)', ['docs', 'generate', '--no-compile'], '≤ 5 s');
  timed('kiln docs generate --no-compile (layout cached)', ['docs', 'generate', '--no-compile'], '≤ 5 s');
  timed('kiln docs generate (compile + site)', ['docs', 'generate']);
  const file = join(dir, 'target', 'docs', 'index.html');
  rows.push(['index.html size', `${(statSync(file).size / 1e6).toFixed(1)} MB`, 'self-contained']);

  if (!existsSync(CHROMIUM)) {
    rows.push(['open in Chromium', `skipped: install Debian's chromium package`, '≤ 3 s']);
  } else {
    const { chromium } = await import('playwright-core');
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
      viewport: { width: 1400, height: 850 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto('about:blank');
    const opens = [];
    for (let k = 0; k < 3; k++) {
      await page.goto('about:blank');
      const t0 = performance.now();
      await page.goto(`file://${file}#/lineage`);
      await page.waitForSelector('#overview, svg g.node');
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      opens.push((performance.now() - t0) / 1000);
    }
    opens.sort((a, b) => a - b);
    rows.push([`open in Chromium, lineage painted (median of 3)`, `${opens[1].toFixed(2)} s`, '≤ 3 s']);
    const box = await page.locator('.canvas-wrap').boundingBox();
    // Zoom in, click a node, time until its neighbourhood is laid out (dagre in the page).
    const t1 = performance.now();
    const picked = await page.evaluate(() => {
      const { data } = window.kilnDocs;
      return data.nodes[Math.floor(data.nodes.length / 2)].id;
    });
    await page.fill('#select', `1+${picked.split('.').pop()}+1`);
    await page.click('#apply');
    await page.waitForSelector('svg g.node');
    rows.push([`select 1+node+1 and lay it out`, `${((performance.now() - t1) / 1000).toFixed(2)} s`, '']);
    const t2 = performance.now();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.click('svg g.node');
    await page.waitForSelector('#detail:not([hidden])');
    rows.push([`click a node → highlight + detail`, `${((performance.now() - t2) / 1000).toFixed(2)} s`, '']);
    await page.screenshot({ path: join(repo, 'target', 'docs-bench-10k.png') });
    await context.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const width = [0, 1, 2].map((c) => Math.max(...rows.map((r) => String(r[c]).length), 6));
const line = (r) => `| ${r.map((v, c) => String(v).padEnd(width[c])).join(' | ')} |`;
process.stdout.write(`\nkiln docs, ${n}-model synthetic project\n${line(['step', 'result', 'target'])}\n|${width.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}\n`);
