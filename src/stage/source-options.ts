import { SOURCE_LOADERS } from '../project/source-enums.js';
import { isAbsolute, resolve } from 'node:path';
import type { Relation } from '../adapters/ddl.js';
import type { MySqlConnection } from '../adapters/mysql-staging-sql.js';
import type { StagedColumn } from '../adapters/staging-sql.js';
import { KilnError, type SourceLocation } from '../errors.js';
import { sourceDatabase, type SourceNode } from '../project/nodes.js';

/**
 * A source table's loader options, typed and validated. Built from the parsed SourceNode (its
 * options hold rendered secrets: nothing here is ever printed whole).
 */
interface StageTableBase {
  readonly uniqueId: string;
  readonly sourceName: string;
  readonly tableName: string;
  readonly relation: Relation;
  readonly location: SourceLocation;
  /** A count (≥ 1) or a fraction of the table's records (< 1); undefined: rejects only warn. */
  readonly maxRejected: number | undefined;
  /**
   * `sharding_key` (the table's, else its source's): on a cluster target the raw table is split
   * across the shards by it (sharded-raw.ts); undefined: one replica set holds it whole.
   */
  readonly shardingKey: string | undefined;
}

export interface FileTable extends StageTableBase {
  readonly loader: 'csv' | 'jsonl';
  /** Absolute path or glob (`**` allowed). */
  readonly path: string;
  /** The project's folder: file names in messages are relative to it. */
  readonly root: string;
  readonly required: boolean;
  readonly delimiter: string;
  /** Declared columns; null: CSV header names as String, or JSONL's one `raw` column. */
  readonly columns: readonly StagedColumn[] | null;
}

export interface MySqlTable extends StageTableBase {
  readonly loader: 'mysql';
  /** The table's name in MySQL. */
  readonly mysqlTable: string;
  readonly source: { readonly kind: 'live'; readonly connection: MySqlConnection; readonly incrementalKey?: string } | { readonly kind: 'dump'; readonly dump: string };
}

export type StageTable = FileTable | MySqlTable;


export function stageTableOf(node: SourceNode, root: string, rawDatabase: string): StageTable {
  const o = node.options;
  const location: SourceLocation = node.patch ?? { file: node.originalFilePath };
  const invalid = (message: string, hint?: string) =>
    new KilnError('CONFIG_INVALID', `source ${node.sourceName}.${node.tableName}: ${message}`, { location, ...(hint ? { hint } : {}) });
  const loader = node.loader;
  if (!loader || !(SOURCE_LOADERS as readonly string[]).includes(loader)) {
    throw invalid(loader ? `unknown loader '${loader}'` : 'no loader', `set loader: to one of ${SOURCE_LOADERS.join(', ')} on the source or the table`);
  }
  const base: StageTableBase = {
    uniqueId: node.uniqueId,
    sourceName: node.sourceName,
    tableName: node.tableName,
    relation: { database: sourceDatabase(node, rawDatabase), name: node.identifier },
    location,
    maxRejected: maxRejectedOf(o.max_rejected, invalid),
    shardingKey: shardingKeyOf(o.sharding_key, invalid),
  };
  if (loader === 'mysql') {
    const mysqlTable = typeof o.mysql_table === 'string' ? o.mysql_table : node.tableName;
    const conn = o.connection as Record<string, unknown> | undefined;
    const host = conn && typeof conn.host === 'string' ? conn.host.trim() : '';
    // A live connection wins when its host is set (from the environment); otherwise the dump.
    if (host) {
      const port = Number(conn!.port ?? 3306);
      if (!Number.isInteger(port) || port <= 0) throw invalid(`connection port '${String(conn!.port)}' is not a port number`);
      const text = (k: string) => (conn![k] === undefined || conn![k] === null ? '' : String(conn![k]));
      if (!text('database')) throw invalid('connection needs a database');
      return {
        ...base,
        loader,
        mysqlTable,
        source: {
          kind: 'live',
          connection: { host, port, database: text('database'), user: text('user'), password: text('password') },
          ...(typeof o.incremental_key === 'string' ? { incrementalKey: o.incremental_key } : {}),
        },
      };
    }
    if (typeof o.dump !== 'string' || !o.dump) {
      throw invalid('a mysql source needs dump: (a mysqldump file) or connection: with a host', 'set MYSQL_HOST or point dump: at a dump file');
    }
    return { ...base, loader, mysqlTable, source: { kind: 'dump', dump: absolute(root, o.dump) } };
  }
  if (typeof o.path !== 'string' || !o.path) throw invalid(`a ${loader} table needs path: (a file or a glob)`);
  const delimiter = o.delimiter === undefined ? ',' : String(o.delimiter);
  if ([...delimiter].length !== 1) throw invalid(`delimiter must be one character, got '${delimiter}'`);
  const columns = node.columns.length
    ? node.columns.map((c) => ({ name: c.name, type: c.data_type ?? 'String' }))
    : null;
  return { ...base, loader: loader as 'csv' | 'jsonl', path: absolute(root, o.path), root, required: o.required === true, delimiter, columns };
}

function absolute(root: string, path: string): string {
  return isAbsolute(path) ? path : resolve(root, path);
}

function maxRejectedOf(value: unknown, invalid: (m: string, h?: string) => KilnError): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim().endsWith('%') ? Number(value.trim().slice(0, -1)) / 100 : Number(value);
  if (!Number.isFinite(n) || n < 0 || (n >= 1 && !Number.isInteger(n))) {
    throw invalid(`max_rejected must be a count or a fraction like 0.01, got '${String(value)}'`);
  }
  return n;
}

function shardingKeyOf(value: unknown, invalid: (m: string, h?: string) => KilnError): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !value.trim()) {
    throw invalid(`sharding_key must be an expression of the table's columns, got '${String(value)}'`, 'for example sharding_key: cityHash64(id)');
  }
  return value.trim();
}

/** True when `rejected` of `total` records break the table's max_rejected. */
export function overRejectLimit(limit: number | undefined, rejected: number, total: number): boolean {
  if (limit === undefined) return false;
  if (limit < 1 && limit > 0) return total > 0 && rejected / total > limit;
  return rejected > limit;
}

/** Where a live table is, for messages and the ledger: never with the password. */
export function describeConnection(c: MySqlConnection, table?: string): string {
  return `mysql://${c.user}@${c.host}:${c.port}/${c.database}${table ? `/${table}` : ''}`;
}
