import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { KilnError } from '../errors.js';
import type { DocsData } from './docs-data.js';

/**
 * Assembles the one self-contained `index.html`: the page's script (src/docs/page/*.ts with kiln's
 * selector, dagre and Chart.js, bundled at build time by scripts/bundle-docs.mjs), its styles and
 * the data, all inlined. Nothing is fetched.
 */

/** `dist/docs/` under the package root, whether this module runs from `dist/docs/` or, in tests, from `src/docs/`. */
const bundleDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'docs');

function readBundle(file: string): string {
  const path = join(bundleDir, file);
  if (!existsSync(path)) {
    throw new KilnError('INTERNAL', `kiln docs: the docs page bundle is missing (${path})`, { hint: 'run `npm run build` (it bundles the page after tsc)' });
  }
  return readFileSync(path, 'utf8');
}

let cached: { css: string; script: string } | undefined;

/** The page's script and styles, read once per process. */
function pageAssets(): { css: string; script: string } {
  cached ??= { css: readBundle('page.bundle.css'), script: readBundle('page.bundle.js') };
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
  const { css, script } = pageAssets();
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
<script>${script.replace(/<\/script/gi, '<\\/script')}</script>
</body>
</html>
`;
}
