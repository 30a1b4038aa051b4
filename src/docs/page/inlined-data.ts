import type { DocsData } from '../docs-data.js';

/** The data inlined in #kiln-data: plain JSON, or gzip+base64 for large projects (see site-html.ts). */
export async function loadInlinedData(): Promise<DocsData> {
  const el = document.getElementById('kiln-data')!;
  const text = el.textContent ?? '';
  if (el.getAttribute('data-encoding') !== 'gzip-base64') return JSON.parse(text) as DocsData;
  const bin = atob(text.trim());
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return JSON.parse(await new Response(stream).text()) as DocsData;
}
