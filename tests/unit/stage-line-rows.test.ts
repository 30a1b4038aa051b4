import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineRowsTsv, TagJsonLines } from '../../src/stage/line-rows.js';

/** Runs bytes through a transform in chunks of `size` bytes. */
async function through(transform: TagJsonLines | LineRowsTsv, input: Buffer, size = 7): Promise<string> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += size) chunks.push(input.subarray(i, i + size));
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks, { objectMode: false }).pipe(transform)) out.push(c as Buffer);
  return Buffer.concat(out).toString('latin1');
}

const FILE = Buffer.concat([
  Buffer.from('{"a":1}\n\n  \r\n{ }\r\n[1,2]\n{oops\n{"b":"x\\ty\tz"}  \n'),
  Buffer.from([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x0a]),
  Buffer.from('{"last":true}'),
]);

describe('JSON lines to a server, byte by byte', () => {
  it('tags each object-looking line with its number and withholds the rest', async () => {
    const tag = new TagJsonLines();
    expect(await through(tag, FILE)).toBe(
      '{"a":1,"_kiln_line":1}\n{ "_kiln_line":4}\n{"b":"x\\ty\tz","_kiln_line":7}\n{"last":true,"_kiln_line":9}\n',
    );
    // Blank lines are not records; [1,2], {oops and the invalid UTF-8 line are withheld.
    expect([tag.records, tag.sent, tag.lastLine]).toEqual([7, 4, 9]);
  });

  it('sends the wanted lines as TabSeparated rows, escaped, invalid UTF-8 replaced and flagged', async () => {
    expect(await through(new LineRowsTsv([[4, 7], [7, 9]]), FILE, 5)).toBe(
      '5\t[1,2]\t0\n6\t{oops\t0\n8\t{"e":"\u00ef\u00bf\u00bd"}\t1\n',
    );
    const all = await through(new LineRowsTsv(null), FILE, 1000);
    expect(all.split('\n').map((l) => l.split('\t')[0])).toEqual(['1', '4', '5', '6', '7', '8', '9', '']);
    expect(all).toContain('7\t{"b":"x\\\\ty\\tz"}  \t0\n');
  });

  it('withholds a line that names _kiln_line itself, so it cannot claim another line\'s number', async () => {
    const tag = new TagJsonLines();
    const input = Buffer.from('{"a":1}\n{"a":2,"_kiln_line":1}\n{"m":{"_kiln_line":9}}\n{"a":4}\n');
    for (const size of [5, 1000]) {
      expect(await through(new TagJsonLines(), input, size)).toBe('{"a":1,"_kiln_line":1}\n{"a":4,"_kiln_line":4}\n');
    }
    await through(tag, input);
    expect([tag.records, tag.sent]).toEqual([4, 2]);
  });

  it('keeps a line longer than many chunks whole', async () => {
    const long = `{"s":"${'x'.repeat(100_000)}"}`;
    const out = await through(new TagJsonLines(), Buffer.from(`${long}\n{"n":2}\n`), 1000);
    expect(out).toBe(`${long.slice(0, -1)},"_kiln_line":1}\n{"n":2,"_kiln_line":2}\n`);
  });
});
