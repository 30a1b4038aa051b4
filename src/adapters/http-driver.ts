import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { KilnError } from '../errors.js';
import { describeFile, insertInto, type Relation } from './ddl.js';
import type { Driver, ExecOptions, ExecResult, LocalSelectOptions, QueryResult } from './driver.js';
import type { LocalEngine } from './local-engine.js';
import { CH_ERRORS, clickHouseCodeOf, SqlError } from './sql-error.js';

export interface HttpDriverOptions {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  readonly maxConnections?: number;
  /** Attempts for a statement that failed to reach the server (connection refused/reset). */
  readonly retries?: number;
  readonly requestTimeoutMs?: number;
}

/** Errors where the request never reached ClickHouse, so sending it again is safe. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Errors after which a read-only statement may be retried. */
const INTERRUPTED = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/** A ClickHouse server over HTTP(S) through @clickhouse/client. TLS follows the URL scheme. */
export class HttpDriver implements Driver {
  readonly kind = 'clickhouse' as const;
  private readonly client: ClickHouseClient;
  private readonly retries: number;
  private local: Promise<LocalEngine> | null = null;

  constructor(private readonly opts: HttpDriverOptions) {
    this.retries = opts.retries ?? 3;
    try {
      this.client = createClient({
        url: opts.url,
        username: opts.username,
        password: opts.password,
        application: 'kiln',
        max_open_connections: opts.maxConnections ?? 8,
        request_timeout: opts.requestTimeoutMs ?? 10 * 60_000,
        compression: { request: false, response: false },
        // Errors reach the user once, through kiln, not also from the client's own logger.
        log: { level: ClickHouseLogLevel.OFF },
        ...(opts.settings ? { clickhouse_settings: opts.settings as Record<string, never> } : {}),
      });
    } catch (err) {
      // A malformed URL or an unknown URL parameter is a target config problem (exit 2), not a bug.
      throw new KilnError('TARGET_INVALID', `invalid ClickHouse url ${redactUrl(opts.url)}: ${String((err as Error).message).replaceAll(opts.password || '\u0000', '***')}`, {
        hint: 'url is http(s)://host:port[/database]; user and password go in username and password',
      });
    }
  }

  async execute(sql: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const queryId = opts.queryId ?? randomUUID();
    return this.withRetry(sql, async () => {
      const r = await this.client.command({
        query: sql,
        query_id: queryId,
        ...(opts.settings ? { clickhouse_settings: opts.settings as Record<string, never> } : {}),
      });
      return { elapsedMs: elapsedFromSummary(r.summary), queryId };
    });
  }

  async query<T = Record<string, unknown>>(sql: string, opts: ExecOptions = {}): Promise<QueryResult<T>> {
    const queryId = opts.queryId ?? randomUUID();
    return this.withRetry(sql, async () => {
      const rs = await this.client.query({
        query: sql,
        format: 'JSONEachRow',
        query_id: queryId,
        // Without it an error after the first rows arrives as HTTP 200 with text in the body.
        clickhouse_settings: { wait_end_of_query: 1, ...(opts.settings ?? {}) } as unknown as Record<string, never>,
      });
      const rows = await rs.json<T>();
      const summary = rs.response_headers['x-clickhouse-summary'];
      return { rows, elapsedMs: elapsedFromSummary(parseSummary(summary)), queryId };
    });
  }

  /** The body is bytes in `format`, streamed as they come: ClickHouse parses them. */
  async insertStream(
    table: Relation,
    body: Readable,
    format: string,
    opts: ExecOptions & { readonly columns?: readonly string[] } = {},
  ): Promise<ExecResult> {
    const queryId = opts.queryId ?? randomUUID();
    const query = insertInto(table, opts.columns, { format });
    try {
      // exec, not insert: insert wants objects for JSON formats, and a byte stream is what we have.
      const r = await this.client.exec({
        query,
        values: body,
        query_id: queryId,
        ...(opts.settings ? { clickhouse_settings: opts.settings as Record<string, never> } : {}),
      });
      r.stream.resume();
      await new Promise<void>((resolve, reject) => {
        r.stream.once('end', resolve).once('close', resolve).once('error', reject);
      });
      return { elapsedMs: elapsedFromSummary(r.summary), queryId };
    } catch (err) {
      throw this.toError(err, query);
    }
  }

  insertFile(table: Relation, path: string, format: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.insertStream(table, createReadStream(path), format, opts);
  }

  /**
   * Old servers cannot infer a file's schema, and the file is local anyway: the in-process
   * engine reads it (this process has no embedded session when its target is a server).
   */
  async describeFile(path: string, format: string, opts: ExecOptions = {}): Promise<Array<{ name: string; type: string }>> {
    const rows = await (await this.localEngine()).query<{ name: string; type: string }>(describeFile(path, format), opts.settings);
    return rows.map(({ name, type }) => ({ name, type }));
  }

  /** The local engine parses (files this server may have no format for) and streams TabSeparated rows. */
  async insertLocalSelect(table: Relation, columns: readonly string[], select: string, opts: LocalSelectOptions = {}): Promise<ExecResult> {
    const body = (await this.localEngine()).stream(select, 'TabSeparated', opts.settings);
    const { settings: _local, insertSettings, ...rest } = opts;
    return this.insertStream(table, body, 'TabSeparated', { ...rest, ...(insertSettings ? { settings: insertSettings } : {}), columns });
  }

  async queryLocal<T = Record<string, unknown>>(sql: string, opts: ExecOptions = {}): Promise<QueryResult<T>> {
    const t0 = performance.now();
    const rows = await (await this.localEngine()).query<T>(sql, opts.settings);
    return { rows, elapsedMs: performance.now() - t0, queryId: opts.queryId ?? randomUUID() };
  }

  /**
   * Old servers cannot infer a file's schema or read every format, and the file is local anyway:
   * ClickHouse in this process reads it (a server-target process has no embedded session).
   */
  private localEngine(): Promise<LocalEngine> {
    // Loaded on first use: chdb's native library costs about 250 MB of memory.
    this.local ??= import('./local-engine.js').then((m) => m.LocalEngine.acquire());
    return this.local;
  }

  async close(): Promise<void> {
    const local = this.local;
    this.local = null;
    (await local?.catch(() => null))?.release();
    await this.client.close();
  }

  /** The URL as it may be shown: never with credentials. */
  get displayUrl(): string {
    return redactUrl(this.opts.url);
  }

  private async withRetry<R>(sql: string, fn: () => Promise<R>): Promise<R> {
    const readOnly = /^\s*(select|show|describe|desc|exists|with)\b/i.test(sql);
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const code = networkCode(err);
        const retryable = code !== undefined && (NOT_SENT.has(code) || (readOnly && INTERRUPTED.has(code)));
        if (!retryable || attempt >= this.retries) throw this.toError(err, sql);
        await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  private toError(err: unknown, sql: string): KilnError {
    const code = networkCode(err);
    if (code !== undefined) {
      return new KilnError('WAREHOUSE_UNREACHABLE', `cannot reach ClickHouse at ${this.displayUrl}: ${code}`, {
        hint: 'check the target url, that the server is running, and the network path to it',
        cause: err,
      });
    }
    const e = err as { message?: string; code?: string };
    const message = (e.message ?? String(err)).replaceAll(this.opts.password || '\u0000', '***');
    // 18.16 errors arrive as plain Errors; read the code from the message in both formats.
    const chCode = clickHouseCodeOf(message) ?? (e.code !== undefined && /^\d+$/.test(e.code) ? Number(e.code) : undefined);
    if (chCode === CH_ERRORS.WRONG_PASSWORD || chCode === CH_ERRORS.UNKNOWN_USER || chCode === CH_ERRORS.AUTHENTICATION_FAILED) {
      return new KilnError('WAREHOUSE_UNREACHABLE', `ClickHouse at ${this.displayUrl} rejected user '${this.opts.username}': wrong user or password`, {
        hint: 'check the username and password env vars of the target',
      });
    }
    return new SqlError(message, chCode, sql, err);
  }
}

function networkCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (NOT_SENT.has(code) || INTERRUPTED.has(code))) return code;
    if (/socket hang up/i.test((cur as Error).message ?? '')) return 'ECONNRESET';
    if (/Timeout error/i.test((cur as Error).message ?? '')) return 'ETIMEDOUT';
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function parseSummary(header: unknown): Record<string, string> | undefined {
  if (typeof header !== 'string') return undefined;
  try {
    return JSON.parse(header) as Record<string, string>;
  } catch {
    return undefined;
  }
}

function elapsedFromSummary(summary: { elapsed_ns?: string } | Record<string, string> | undefined): number {
  const ns = summary ? Number((summary as { elapsed_ns?: string }).elapsed_ns) : NaN;
  return Number.isFinite(ns) ? ns / 1e6 : 0;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.username = '';
    for (const key of [...u.searchParams.keys()]) if (/pass|token|secret/i.test(key)) u.searchParams.set(key, '***');
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}
