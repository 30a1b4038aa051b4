import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { KilnError } from '../errors.js';
import type { DocsData } from './docs-data.js';

/**
 * Assembles the one self-contained `index.html`: the page's own script and styles, the layout and
 * charting libraries' browser builds, kiln's own selector (the compiled `graph/selector.js`, so
 * the page filters with exactly the CLI's syntax) and the data, all inlined. Nothing is fetched.
 */

const here = dirname(fileURLToPath(import.meta.url));
/** The package root, from `dist/docs/` or `src/docs/` alike. */
const packageRoot = join(here, '..', '..');
const require = createRequire(import.meta.url);

function readAsset(file: string, what: string): string {
  if (!existsSync(file)) {
    throw new KilnError('INTERNAL', `kiln docs: ${what} is missing (${file})`, { hint: 'reinstall kiln (`npm ci`) and run `npm run build`' });
  }
  return readFileSync(file, 'utf8');
}

/** A library's minified browser (IIFE/UMD) build, found next to its package entry. */
function libraryBundle(pkg: string, file: string): string {
  return readAsset(join(dirname(require.resolve(pkg)), file), `${pkg}'s browser build`);
}

/** An ES module's body as a plain script: imports dropped, `export` keywords removed. */
export function scriptBody(moduleText: string): string {
  return moduleText
    .replace(/^import\s[^;]*;\s*$/gm, '')
    .replace(/^export\s+(?=(?:async\s+)?(?:function|class|const|let|var)\b)/gm, '')
    .replace(/^\/\/# sourceMappingURL=.*$/gm, '');
}

/** kiln's selector and its error type as a browser global `kilnSelector`. */
export function selectorBundle(): string {
  const errors = readAsset(join(packageRoot, 'dist', 'errors.js'), 'dist/errors.js');
  const selector = readAsset(join(packageRoot, 'dist', 'graph', 'selector.js'), 'dist/graph/selector.js');
  return `var kilnSelector = (function () {\n${scriptBody(errors)}\n${scriptBody(selector)}\nreturn { selectNodes: selectNodes, parseAtom: parseAtom, KilnError: KilnError };\n})();`;
}

let cached: { css: string; app: string; libs: string } | undefined;

function assets(): { css: string; app: string; libs: string } {
  cached ??= {
    css: readAsset(join(packageRoot, 'src', 'docs', 'page', 'docs-page.css'), 'the docs page styles'),
    app: readAsset(join(packageRoot, 'src', 'docs', 'page', 'docs-page.js'), 'the docs page script'),
    libs: [libraryBundle('@dagrejs/dagre', 'dagre.min.js'), libraryBundle('chart.js', 'chart.umd.min.js'), selectorBundle()].join('\n;\n'),
  };
  return cached;
}

/** JSON safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Above this much JSON the data is inlined gzip-compressed (base64): a 10k-model site shrinks ~8x and opens faster. */
export const COMPRESS_ABOVE = 1_000_000;

/** The data element: plain JSON for small sites (readable in the file), gzip+base64 for large ones. */
export function dataElement(data: DocsData): string {
  const json = scriptJson(data);
  if (json.length <= COMPRESS_ABOVE) return `<script type="application/json" id="kiln-data">${json}</script>`;
  const packed = gzipSync(json, { level: 6 }).toString('base64');
  return `<script type="application/octet-stream" id="kiln-data" data-encoding="gzip-base64">${packed}</script>`;
}

export function renderSiteHtml(data: DocsData): string {
  const { css, app, libs } = assets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kiln docs">
<title>${escapeHtml(data.project)} · kiln docs</title>
<style>${css}</style>
</head>
<body>
<div id="app"><p class="boot">Loading ${data.nodes.length} nodes…</p></div>
${dataElement(data)}
<script>${libs.replace(/<\/script/gi, '<\\/script')}</script>
<script>${app.replace(/<\/script/gi, '<\\/script')}</script>
</body>
</html>
`;
}
