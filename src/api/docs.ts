import { createReadStream, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { basename, join, relative } from 'node:path';
import { watch } from 'chokidar';
import { KILN_VERSION } from '../compile/compile-project.js';
import { generateSite, type SiteOutcome } from '../docs/generate-site.js';
import type { WarehouseCapture } from '../docs/warehouse-capture.js';
import { KilnError } from '../errors.js';
import { loadProject } from '../project/load-project.js';
import { silentReporter, type Reporter } from '../report/events.js';
import { openInvocation } from './invocation.js';
import type { InvocationOptions } from './options.js';

/** Options of `docsGenerate` and `docsServe`. */
export interface DocsOptions extends InvocationOptions {
  /** Use target/manifest.json as it is instead of compiling first (dbt's `--no-compile`). */
  readonly noCompile?: boolean;
}

/** The generated site: its files, the data it shows, and how long it took. */
export interface DocsOutcome extends SiteOutcome {
  readonly targetDir: string;
  readonly seconds: number;
}

async function generate(options: DocsOptions, served: boolean, reuseCapture?: WarehouseCapture): Promise<DocsOutcome> {
  const t0 = performance.now();
  const reporter = options.reporter ?? silentReporter;
  let targetDir: string;
  let target;
  if (options.noCompile) {
    const project = loadProject({
      ...(options.projectDir ? { projectDir: options.projectDir } : {}),
      ...(options.target ? { target: options.target } : {}),
      ...(options.profilesDir ? { profilesDir: options.profilesDir } : {}),
    ...(options.profilesDir ? { profilesDir: options.profilesDir } : {}),
      ...(options.vars ? { vars: options.vars } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    targetDir = join(project.root, project.config.targetPath);
    target = project.target;
  } else {
    const inv = openInvocation({ ...options, select: [], exclude: [] });
    targetDir = inv.targetDir;
    target = inv.compiled.project.target;
  }
  const outcome = await generateSite({ targetDir, target, kilnVersion: KILN_VERSION, served, ...(reuseCapture ? { reuseCapture } : {}) });
  for (const message of outcome.warnings) reporter.emit({ type: 'warning', warning: { message } });
  return { ...outcome, targetDir, seconds: (performance.now() - t0) / 1000 };
}

/** `kiln docs generate`: target/catalog.json and the self-contained target/docs/index.html. */
export async function docsGenerate(options: DocsOptions): Promise<DocsOutcome> {
  const outcome = await generate(options, false);
  const reporter = options.reporter ?? silentReporter;
  const rel = (f: string) => relative(process.cwd(), f) || f;
  reporter.emit({
    type: 'info',
    message: `Docs: ${outcome.data.nodes.length} nodes, ${outcome.data.tests.length} tests, ${outcome.data.dashboards.length} dashboards → ${rel(outcome.indexFile)}${outcome.catalogFile ? ` and ${rel(outcome.catalogFile)}` : ' (no catalog)'} in ${outcome.seconds.toFixed(2)}s`,
  });
  return outcome;
}

/** A running `kiln docs serve`; `close` stops it. */
export interface DocsServer {
  readonly url: string;
  /** Resolves after the next regeneration (for tests and tooling). */
  nextRegeneration(): Promise<void>;
  close(): Promise<void>;
}

const SERVED_FILES: Readonly<Record<string, string>> = {
  '/catalog.json': 'catalog.json',
  '/manifest.json': 'manifest.json',
  '/run_results.json': 'run_results.json',
};

/**
 * `kiln docs serve`: generates once, serves target/docs on localhost and regenerates (from the
 * artifacts on disk, without compiling) whenever manifest.json or run_results.json changes.
 * The warehouse is read again only after run_results.json changes: a command writes it after
 * closing the warehouse, while manifest.json is written as a command starts, when opening the
 * (single-process) embedded warehouse here would lock that command out.
 */
export async function docsServe(options: DocsOptions & { port: number; host?: string }): Promise<DocsServer> {
  const reporter: Reporter = options.reporter ?? silentReporter;
  const first = await generate(options, true);
  const { targetDir } = first;
  let lastCapture = first.capture;
  let runChanged = false;
  let version = 1;
  let waiters: Array<() => void> = [];

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/__kiln/version') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ version }));
      return;
    }
    const file = path === '/' || path === '/index.html' ? join(targetDir, 'docs', 'index.html') : SERVED_FILES[path] ? join(targetDir, SERVED_FILES[path]) : null;
    if (!file || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/json', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new KilnError('CONFIG_INVALID', `cannot serve docs on ${host}:${options.port}: ${err.message}`, { hint: 'pick another port with --port' })),
    );
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : options.port}/`;

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const regenerate = () => {
    running = running.then(async () => {
      try {
        const fresh = runChanged;
        runChanged = false;
        const outcome = await generate({ ...options, noCompile: true }, true, fresh ? undefined : lastCapture);
        lastCapture = outcome.capture;
        version += 1;
        reporter.emit({ type: 'info', message: `Docs regenerated (${outcome.data.nodes.length} nodes) in ${outcome.seconds.toFixed(2)}s` });
      } catch (err) {
        reporter.emit({ type: 'warning', warning: { message: `docs not regenerated: ${(err as Error).message}` } });
      }
      const done = waiters;
      waiters = [];
      for (const w of done) w();
    });
  };
  const watcher = watch(targetDir, {
    depth: 0,
    ignoreInitial: true,
    ignored: (p: string) => p !== targetDir && !['manifest.json', 'run_results.json'].includes(basename(p)),
  });
  watcher.on('all', (_event, p) => {
    if (!['manifest.json', 'run_results.json'].includes(basename(p))) return;
    if (basename(p) === 'run_results.json') runChanged = true;
    // A command writes manifest.json then run_results.json: one regeneration for both.
    clearTimeout(timer);
    timer = setTimeout(regenerate, 300);
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  reporter.emit({ type: 'info', message: `Serving docs at ${url} (regenerates when ${relative(process.cwd(), join(targetDir, 'manifest.json')) || 'manifest.json'} changes; Ctrl-C to stop)` });

  return {
    url,
    nextRegeneration: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
      await running;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
