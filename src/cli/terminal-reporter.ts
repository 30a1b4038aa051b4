import { formatError, formatLocation, type Warning } from '../errors.js';
import type { KilnEvent, Reporter } from '../report/events.js';
import type { NodeResult, NodeStatus } from '../report/run-results.js';

export interface OutputStreams {
  readonly out: NodeJS.WritableStream & { isTTY?: boolean };
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
}

const COLORS = { red: 31, green: 32, yellow: 33, blue: 34, gray: 90, bold: 1 } as const;

/** Renders events as the lines a person reads: one per node, a live progress line on a TTY, a summary. */
export class TerminalReporter implements Reporter {
  private progress = '';
  private readonly running = new Map<string, string>();
  private total = 0;
  private done = 0;

  constructor(
    private readonly streams: OutputStreams,
    private readonly color: boolean,
    private readonly github = false,
  ) {}

  emit(event: KilnEvent): void {
    switch (event.type) {
      case 'warning':
        this.line(this.streams.err, `${this.paint('yellow', 'warning')}: ${formatWarning(event.warning)}`);
        break;
      case 'info':
        this.line(this.streams.out, event.message);
        break;
      case 'phase':
        this.total = event.total;
        this.done = 0;
        this.line(this.streams.out, this.paint('bold', `${event.name}: ${event.total} node${event.total === 1 ? '' : 's'}`));
        break;
      case 'node_start':
        this.running.set(event.uniqueId, event.label);
        this.drawProgress();
        break;
      case 'node_done':
        this.running.delete(event.result.unique_id);
        this.done = event.index;
        this.line(this.streams.out, this.nodeLine(event.result, event.label, event.index, event.total));
        if (event.result.message && (event.result.status === 'error' || event.result.status === 'fail' || event.result.status === 'warn')) {
          for (const l of event.result.message.split('\n')) this.line(this.streams.out, `      ${l}`);
          if (this.github && event.result.status !== 'warn') this.annotate(event.result);
        }
        this.drawProgress();
        break;
      case 'summary':
        this.clearProgress();
        this.line(this.streams.out, this.summary(event.results, event.elapsedSeconds));
        break;
    }
  }

  /** Prints a fatal error (exit 2 class) the same way everywhere. */
  error(text: string): void {
    this.line(this.streams.err, `${this.paint('red', 'error')}: ${text}`);
  }

  private nodeLine(r: NodeResult, label: string, index: number, total: number): string {
    const width = String(total).length;
    const status = STATUS_TEXT[r.status];
    const head = `${String(index).padStart(width)} of ${total} ${this.paint(STATUS_COLOR[r.status], status.padEnd(7))} ${label}`;
    const facts: string[] = [];
    if (r.rows_affected !== null && r.rows_affected !== undefined) facts.push(`${thousands(r.rows_affected)} rows`);
    if (r.failures !== null && r.failures !== undefined && r.status !== 'pass') facts.push(`${r.failures} failing`);
    if (r.status !== 'skipped') facts.push(`${r.execution_time.toFixed(2)}s`);
    const tail = facts.length ? ` [${facts.join(', ')}]` : '';
    const dots = Math.max(3, 72 - stripAnsi(head).length);
    return `${head} ${this.paint('gray', '.'.repeat(dots))}${tail}`;
  }

  private summary(results: readonly NodeResult[], elapsed: number): string {
    const count = (s: NodeStatus) => results.filter((r) => r.status === s).length;
    const parts: string[] = [];
    const ok = count('success') + count('pass');
    if (ok) parts.push(this.paint('green', `${ok} ok`));
    if (count('warn')) parts.push(this.paint('yellow', `${count('warn')} warned`));
    if (count('fail')) parts.push(this.paint('red', `${count('fail')} failed`));
    if (count('error')) parts.push(this.paint('red', `${count('error')} errored`));
    if (count('skipped')) parts.push(this.paint('yellow', `${count('skipped')} skipped`));
    if (!parts.length) parts.push('nothing to do');
    return `\nFinished ${results.length} node${results.length === 1 ? '' : 's'} in ${elapsed.toFixed(2)}s: ${parts.join(', ')}${testTable(results)}`;
  }

  private annotate(r: NodeResult): void {
    const loc = /^([^\s:]+):(\d+)/.exec(r.message ?? '');
    const file = loc?.[1] ?? r.original_file_path ?? '';
    const line = loc?.[2] ?? '1';
    const msg = (r.message ?? '').split('\n')[0]!.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
    this.line(this.streams.out, `::error file=${file},line=${line}::${r.unique_id}: ${msg}`);
  }

  private line(stream: NodeJS.WritableStream, text: string): void {
    this.clearProgress();
    stream.write(`${text}\n`);
  }

  private drawProgress(): void {
    if (!this.streams.err.isTTY || this.total === 0) return;
    const names = [...this.running.values()].map((l) => l.split(' ').pop()).join(', ');
    const text = names ? `  [${this.done}/${this.total}] running ${names}` : '';
    this.clearProgress();
    if (text) {
      const cols = (this.streams.err as { columns?: number }).columns ?? 100;
      this.progress = text.slice(0, cols - 1);
      this.streams.err.write(this.paint('gray', this.progress));
    }
  }

  private clearProgress(): void {
    if (this.progress) {
      this.streams.err.write(`\r${' '.repeat(this.progress.length)}\r`);
      this.progress = '';
    }
  }

  private paint(color: keyof typeof COLORS, text: string): string {
    return this.color ? `\u001b[${COLORS[color]}m${text}\u001b[0m` : text;
  }
}

const STATUS_TEXT: Record<NodeStatus, string> = {
  success: 'OK',
  error: 'ERROR',
  skipped: 'SKIP',
  pass: 'PASS',
  fail: 'FAIL',
  warn: 'WARN',
};
const STATUS_COLOR: Record<NodeStatus, keyof typeof COLORS> = {
  success: 'green',
  pass: 'green',
  error: 'red',
  fail: 'red',
  warn: 'yellow',
  skipped: 'yellow',
};

/** When tests ran: a table of passed / warned / failed / errored / skipped per kind of node. */
function testTable(results: readonly NodeResult[]): string {
  const kinds: Array<[string, string]> = [['model', 'models'], ['snapshot', 'snapshots'], ['seed', 'seeds'], ['source', 'sources'], ['test', 'data tests'], ['unit_test', 'unit tests']];
  const of = (kind: string) => results.filter((r) => r.unique_id.startsWith(`${kind}.`));
  if (of('test').length + of('unit_test').length === 0) return '';
  const cols: Array<[string, (r: NodeResult) => boolean]> = [
    ['passed', (r) => r.status === 'pass' || r.status === 'success'],
    ['warned', (r) => r.status === 'warn'],
    ['failed', (r) => r.status === 'fail'],
    ['errored', (r) => r.status === 'error'],
    ['skipped', (r) => r.status === 'skipped'],
  ];
  const rows = kinds.filter(([k]) => of(k).length).map(([k, label]) => [label, ...cols.map(([, f]) => String(of(k).filter(f).length))]);
  const head = ['', ...cols.map(([c]) => c)];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  const fmt = (r: readonly string[]) => `  ${r[0]!.padEnd(width)}  ${r.slice(1).map((v, i) => v.padStart(head[i + 1]!.length)).join('  ')}`;
  return `\n${[head, ...rows].map(fmt).join('\n')}`;
}

function formatWarning(w: Warning): string {
  const where = formatLocation(w.location);
  const head = where ? `${where}: ${w.message}` : w.message;
  return w.hint ? `${head} (${w.hint})` : head;
}

function stripAnsi(s: string): string {
  return s.replace(/\u001b\[\d+m/g, '');
}

/** `--json`: one JSON object per event, for machines. */
export class JsonReporter implements Reporter {
  constructor(private readonly out: NodeJS.WritableStream) {}
  emit(event: KilnEvent): void {
    if (event.type === 'node_start') return;
    this.out.write(`${JSON.stringify(event)}\n`);
  }
  error(text: string): void {
    this.out.write(`${JSON.stringify({ type: 'error', message: text })}\n`);
  }
}

export { formatError };

/** 1234567 → "1,234,567". Not toLocaleString: its first call loads ICU's number data (~30 ms per process). */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
