import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Byte-level rewrites of a JSON-lines file on its way to a server, so the server parses the
 * records and this process never does: no JSON parsing, no per-record objects, memory bounded
 * by the stream's chunks (plus the longest line). A line holding only whitespace is not a record.
 */

const NL = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const BACKSLASH = 92;
const OPEN = 123; // {
const CLOSE = 125; // }
const KEY = Buffer.from('_kiln_line');
const TAG = Buffer.from('"_kiln_line":');

const isSpace = (b: number | undefined) => b === SP || b === TAB || b === CR;

/** A growable output buffer for one input chunk. */
class Output {
  private buf: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.room(n);
    const buf = this.buf;
    // A record is short: a plain loop beats Buffer#copy's per-call checks (the hot spot otherwise).
    if (n < 512) for (let i = start, o = this.pos; i < end; i++, o++) buf[o] = src[i]!;
    else buf.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  /** A non-negative integer in decimal. */
  uint(n: number): void {
    this.room(20);
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    for (let i = this.pos + digits - 1; i >= this.pos; i--, n = Math.floor(n / 10)) this.buf[i] = 48 + (n % 10);
    this.pos += digits;
  }

  /** Bytes as a TabSeparated field (backslash and tab escaped; a line holds no newline). */
  field(src: Buffer, start: number, end: number): void {
    let run = start;
    for (let i = start; i < end; i++) {
      const b = src[i];
      if (b !== BACKSLASH && b !== TAB) continue;
      this.bytes(src, run, i);
      this.room(2);
      this.buf[this.pos++] = BACKSLASH;
      this.buf[this.pos++] = b === TAB ? 116 : BACKSLASH; // \t or \\
      run = i + 1;
    }
    this.bytes(src, run, end);
  }

  take(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Splits the byte stream into numbered lines (1-based, a trailing CR dropped) for `line()`. */
abstract class LineTransform extends Transform {
  /** Records seen: lines with something other than whitespace. */
  records = 0;
  /** Number of the last line seen. */
  lastLine = 0;
  private carry: Buffer[] = [];

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let nl = chunk.indexOf(NL);
    if (nl < 0) {
      this.carry.push(chunk);
      done();
      return;
    }
    const out = new Output(chunk.length + (chunk.length >> 2) + 64);
    let start = 0;
    if (this.carry.length > 0) {
      const first = Buffer.concat([...this.carry, chunk.subarray(0, nl)]);
      this.carry = [];
      this.split(out, first, 0, first.length, isUtf8(first));
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    // One validation for the chunk's complete lines; only a chunk that fails looks line by line.
    const last = chunk.lastIndexOf(NL);
    const allUtf8 = last < start || isUtf8(chunk.subarray(start, last));
    while (nl >= 0) {
      this.split(out, chunk, start, nl, allUtf8 || isUtf8(chunk.subarray(start, nl)));
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) this.carry.push(chunk.subarray(start));
    done(null, out.take());
  }

  override _flush(done: TransformCallback): void {
    if (this.carry.length === 0) return done();
    const rest = Buffer.concat(this.carry);
    this.carry = [];
    const out = new Output(rest.length + 64);
    this.split(out, rest, 0, rest.length, isUtf8(rest));
    done(null, out.take());
  }

  private split(out: Output, buf: Buffer, start: number, end: number, utf8: boolean): void {
    const n = ++this.lastLine;
    if (end > start && buf[end - 1] === CR) end--;
    let first = start;
    while (first < end && isSpace(buf[first])) first++;
    if (first === end) return;
    this.records++;
    this.line(out, buf, start, end, first, n, utf8);
  }

  /** One record: `buf[start, end)`, its first non-blank byte at `first`, line number `n`. */
  protected abstract line(out: Output, buf: Buffer, start: number, end: number, first: number, n: number, utf8: boolean): void;
}

/**
 * Pass one: every line that looks like one JSON object (valid UTF-8, `{` … `}`) gets its line
 * number as a last key, `{…,"_kiln_line":7}`, for the server's JSONEachRow reader (last, as the
 * insert lists its columns: 18.16 reads keys in column order a little faster). The other
 * lines are withheld; like lines the server could not read, they are missing from the rows and
 * go to the second pass. So are lines that hold `_kiln_line` themselves: such a line could claim
 * another line's number, and withheld, every number the server reads is one this pass wrote.
 */
export class TagJsonLines extends LineTransform {
  /** Lines sent to the server. */
  sent = 0;
  private scanned: Buffer | null = null;
  private keyInBuffer = false;

  protected line(out: Output, buf: Buffer, _start: number, end: number, first: number, n: number, utf8: boolean): void {
    let last = end - 1;
    while (isSpace(buf[last])) last--;
    if (!utf8 || buf[first] !== OPEN || buf[last] !== CLOSE) return;
    // One search per chunk; only a chunk that has the key looks line by line.
    if (buf !== this.scanned) (this.scanned = buf), (this.keyInBuffer = buf.includes(KEY));
    if (this.keyInBuffer && buf.subarray(first, end).includes(KEY)) return;
    this.sent++;
    let inner = last - 1;
    while (isSpace(buf[inner])) inner--;
    out.bytes(buf, first, last);
    if (inner !== first) out.byte(44); // , after the object's last member
    out.bytes(TAG, 0, TAG.length);
    out.uint(n);
    out.byte(CLOSE);
    out.byte(NL);
  }
}

/**
 * Missing line numbers as gaps `[after, before]`: lines after+1 … before-1, sorted, disjoint.
 * `null` wants every line.
 */
export type LineGaps = ReadonlyArray<readonly [number, number]> | null;

/**
 * Pass two: the wanted lines as TabSeparated rows `line number, text, bad UTF-8 flag` (text with
 * invalid UTF-8 has it replaced by U+FFFD, as the quarantine keeps it).
 */
export class LineRowsTsv extends LineTransform {
  private gap = 0;

  constructor(private readonly gaps: LineGaps) {
    super();
  }

  private wants(n: number): boolean {
    const gaps = this.gaps;
    if (gaps === null) return true;
    while (this.gap < gaps.length && n >= gaps[this.gap]![1]) this.gap++;
    return this.gap < gaps.length && n > gaps[this.gap]![0];
  }

  protected line(out: Output, buf: Buffer, start: number, end: number, _first: number, n: number, utf8: boolean): void {
    if (!this.wants(n)) return;
    out.uint(n);
    out.byte(TAB);
    if (utf8) out.field(buf, start, end);
    else {
      const text = Buffer.from(buf.toString('utf8', start, end));
      out.field(text, 0, text.length);
    }
    out.byte(TAB);
    out.byte(utf8 ? 48 : 49);
    out.byte(NL);
  }
}
