import { KilnError } from '../errors.js';
import type { TargetConfig } from '../project/types.js';
import { capabilitiesFor, type Capabilities } from './capabilities.js';
import * as ddl from './ddl.js';
import type { Driver, ExecOptions, ExecResult, QueryResult } from './driver.js';
import { MeteredDriver } from './metered-driver.js';
import { quoteIdentifier, quoteString } from './quoting.js';
import * as stagingSql from './staging-sql.js';
import type { Readable } from 'node:stream';

export interface RelationInfo {
  readonly database: string;
  readonly name: string;
  readonly engine: string;
  readonly isView: boolean;
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
}

/**
 * kiln's one adapter: ClickHouse SQL and capabilities over a swappable driver (chdb in-process,
 * or HTTP). Engine differences that are not transport are capability flags, never version checks.
 */
export class Adapter {
  readonly ddl: ddl.DdlContext;
  /** Settings every statement to the warehouse carries (none on current servers). */
  private readonly always: Readonly<Record<string, number>>;

  private constructor(
    readonly driver: Driver,
    readonly target: TargetConfig,
    readonly version: string,
    readonly capabilities: Capabilities,
  ) {
    this.ddl = { capabilities, ...(target.cluster ? { cluster: target.cluster } : {}) };
    this.always = capabilities.stableLowCardinality ? {} : { allow_experimental_low_cardinality_type: 1 };
  }

  /** This adapter over a driver that adds up the time ClickHouse spends on its statements. */
  metered(): { adapter: Adapter; elapsedMs(): number } {
    const driver = new MeteredDriver(this.driver);
    return { adapter: new Adapter(driver, this.target, this.version, this.capabilities), elapsedMs: () => driver.elapsedMs };
  }

  private withSettings<O extends ExecOptions>(opts: O | undefined): O | undefined {
    if (Object.keys(this.always).length === 0) return opts;
    return { ...opts, settings: { ...this.always, ...opts?.settings } } as O;
  }

  /** Opens the target's warehouse and reads its version once. Unreachable → exit-2 error. */
  static async connect(target: TargetConfig, opts: { threads?: number } = {}): Promise<Adapter> {
    // Drivers load on connect: chdb's native library and the HTTP client cost a few hundred ms of
    // startup that compile, ls and clean never need.
    const http = target.engine === 'embedded' ? undefined : await import('./http-driver.js');
    const driver: Driver = !http
      ? (await import('./embedded-driver.js')).EmbeddedDriver.open(target.path!)
      : new http.HttpDriver({
          url: target.url!,
          username: target.username ?? 'default',
          password: target.password ?? '',
          ...(target.settings ? { settings: target.settings } : {}),
          maxConnections: Math.max(2, opts.threads ?? 4),
        });
    let version: string;
    try {
      const r = await driver.query<{ v: string }>('SELECT version() AS v');
      version = r.rows[0]?.v ?? '0';
    } catch (err) {
      await driver.close().catch(() => undefined);
      if (err instanceof KilnError && err.code === 'WAREHOUSE_UNREACHABLE') {
        throw new KilnError(err.code, `target '${target.name}': ${err.message}`, err.hint ? { hint: err.hint } : {});
      }
      const where = !http ? target.path : http.redactUrl(target.url ?? '');
      throw new KilnError('WAREHOUSE_UNREACHABLE', `target '${target.name}' (${where}) did not answer SELECT version(): ${(err as Error).message}`, {
        hint: 'check the target settings in project.yml',
      });
    }
    return new Adapter(driver, target, version, capabilitiesFor(version));
  }

  execute(sql: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.driver.execute(sql, this.withSettings(opts));
  }

  query<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.driver.query<T>(sql, this.withSettings(opts));
  }

  /** `columns`: the names the body's rows give, in order; the table's other columns get their defaults. */
  insertStream(table: ddl.Relation, body: Readable, format: string, opts: ExecOptions & { columns?: readonly string[] } = {}): Promise<ExecResult> {
    const { columns, ...rest } = opts;
    return this.driver.insertStream(ddl.rel(table), body, format, this.withSettings({ ...rest, ...(columns ? { columns: columns.map(quoteIdentifier) } : {}) }));
  }

  insertFile(table: ddl.Relation, path: string, format: string, opts?: ExecOptions & { structure?: string }): Promise<ExecResult> {
    return this.driver.insertFile(ddl.rel(table), path, format, this.withSettings(opts));
  }

  /** Rows of a SELECT over local files, inserted by ClickHouse (see Driver.insertLocalSelect). */
  insertLocalSelect(table: ddl.Relation, columns: readonly string[], select: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.driver.insertLocalSelect(ddl.rel(table), columns.map(quoteIdentifier), select, opts);
  }

  queryLocal<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.driver.queryLocal<T>(sql, opts);
  }

  /** Deletes rows and returns once they are gone (old servers run deletes as async mutations). */
  async deleteRows(table: ddl.Relation, where: string): Promise<void> {
    await this.execute(stagingSql.deleteRows(this.ddl, table, where));
    if (this.capabilities.lightweightDelete) return;
    for (let wait = 5; ; wait = Math.min(wait * 2, 500)) {
      const r = await this.query<{ n: string | number }>(stagingSql.pendingMutations(table));
      if (Number(r.rows[0]?.n ?? 0) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Columns ClickHouse infers for a local file, in types this server has. */
  async describeFile(path: string, format: string, opts?: ExecOptions): Promise<ColumnInfo[]> {
    const cols = await this.driver.describeFile(path, format, opts);
    return cols.map((c) => ({ name: c.name, type: this.portableType(c.type) }));
  }

  /** Maps types newer than the server to ones it has (inference runs on a current engine). */
  portableType(type: string): string {
    if (this.capabilities.bool) return type;
    return type
      .replace(/\bBool\b/g, 'UInt8')
      .replace(/\bDateTime64\([^)]*\)/g, 'DateTime')
      .replace(/\bDate32\b/g, 'Date');
  }

  async createDatabase(database: string): Promise<void> {
    await this.execute(ddl.createDatabase(this.ddl, database));
  }

  /** Tables and views in the given databases (one query: the warehouse state a plan reads). */
  async listRelations(databases: readonly string[]): Promise<RelationInfo[]> {
    if (databases.length === 0) return [];
    const list = databases.map(quoteString).join(', ');
    const r = await this.query<{ database: string; name: string; engine: string }>(
      `SELECT database, name, engine FROM system.tables WHERE database IN (${list})`,
    );
    return r.rows.map((row) => ({ ...row, isView: row.engine === 'View' }));
  }

  /** Columns in table order (system.columns lists them so; 18.16 has no `position` to sort by). */
  async columns(relation: ddl.Relation): Promise<ColumnInfo[]> {
    const r = await this.query<ColumnInfo>(
      `SELECT name, type FROM system.columns WHERE database = ${quoteString(relation.database)} AND table = ${quoteString(relation.name)}`,
    );
    return r.rows;
  }

  async countRows(relation: ddl.Relation): Promise<number> {
    const r = await this.query<{ n: string | number }>(ddl.countRows(relation));
    return Number(r.rows[0]?.n ?? 0);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
