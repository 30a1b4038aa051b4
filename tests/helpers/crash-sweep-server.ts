import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { toView, type RelationRows, type WarehouseView } from './crash-sweep.js';

/**
 * The `view` and `restore` of a crash-point sweep (crash-sweep.ts) for a target on a ClickHouse
 * server: the warehouse is the given databases of that server, read and reset over HTTP.
 *
 *   crashSweep({ prepare, args: [..., '--target', 'srv'], env,
 *     restore: serverRestore(server, [db, rawDb]), view: serverView(server, [db, rawDb]) })
 *
 * Files the command reads or writes in the project folder are not restored here.
 */

export interface ServerLogin {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** The server's version; before 19.3 a table with LowCardinality columns needs a setting to be created. */
  readonly version?: string;
}

const ENGINES_WITHOUT_ROWS = new Set(['View', 'MaterializedView']);
const q = (name: string): string => '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
const str = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function connect(server: ServerLogin): ClickHouseClient {
  const old = server.version !== undefined && /^(1[0-8]|19\.[0-2])\./.test(server.version);
  const settings: ClickHouseSettings = old ? ({ allow_experimental_low_cardinality_type: 1 } as ClickHouseSettings) : {};
  return createClient({ url: server.url, username: server.username, password: server.password, clickhouse_settings: settings });
}

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

interface TableRow {
  readonly database: string;
  readonly name: string;
  readonly engine: string;
}

async function tablesOf(client: ClickHouseClient, databases: readonly string[]): Promise<TableRow[]> {
  if (databases.length === 0) return [];
  return rows<TableRow>(client, `SELECT database, name, engine FROM system.tables WHERE database IN (${databases.map(str).join(', ')}) ORDER BY database, name`);
}

/** Reads every relation of `databases` (views included, scratch relations included) into a sweep view. */
export function serverView(server: ServerLogin, databases: readonly string[]): () => Promise<WarehouseView> {
  return async () => {
    const client = connect(server);
    try {
      const out: RelationRows[] = [];
      for (const t of await tablesOf(client, databases)) {
        out.push({ database: t.database, name: t.name, rows: await rows<Record<string, unknown>>(client, `SELECT * FROM ${q(t.database)}.${q(t.name)}`) });
      }
      return toView(out);
    } finally {
      await client.close();
    }
  };
}

interface SavedTable extends TableRow {
  readonly create: string;
  /** Where its rows were copied; undefined for a view. */
  readonly copy?: string;
}

/**
 * A sweep's `restore` for server databases. Its first call (the sweep makes it right after
 * `prepare`) remembers `databases` as they are: each relation's CREATE statement and, for tables,
 * a copy of the rows in a database of its own (`snapshotDatabase`). Every call then drops
 * `databases` and builds them again from that: the same relations with the same rows. A database
 * that did not exist at the first call is dropped.
 */
export function serverRestore(
  server: ServerLogin,
  databases: readonly string[],
  snapshotDatabase = `sweep_snapshot_${process.pid}_${++snapshots}`,
): () => Promise<void> {
  let saved: { readonly existing: readonly string[]; readonly tables: readonly SavedTable[] } | undefined;
  return async () => {
    const client = connect(server);
    try {
      if (!saved) saved = await snapshot(client, databases, snapshotDatabase);
      for (const db of databases) await client.command({ query: `DROP DATABASE IF EXISTS ${q(db)}` });
      for (const db of saved.existing) await client.command({ query: `CREATE DATABASE ${q(db)}` });
      // Tables before views: a view's SELECT may read a table.
      const ordered = [...saved.tables].sort((a, b) => Number(ENGINES_WITHOUT_ROWS.has(a.engine)) - Number(ENGINES_WITHOUT_ROWS.has(b.engine)));
      for (const t of ordered) {
        await client.command({ query: t.create });
        if (t.copy) await client.command({ query: `INSERT INTO ${q(t.database)}.${q(t.name)} SELECT * FROM ${t.copy}` });
      }
    } finally {
      await client.close();
    }
  };
}

let snapshots = 0;

async function snapshot(client: ClickHouseClient, databases: readonly string[], into: string): Promise<{ existing: string[]; tables: SavedTable[] }> {
  const existing = (await rows<{ name: string }>(client, `SELECT name FROM system.databases WHERE name IN (${databases.map(str).join(', ')})`)).map((d) => d.name);
  await client.command({ query: `DROP DATABASE IF EXISTS ${q(into)}` });
  await client.command({ query: `CREATE DATABASE ${q(into)}` });
  const tables: SavedTable[] = [];
  let n = 0;
  for (const t of await tablesOf(client, existing)) {
    const [shown] = await rows<{ statement: string }>(client, `SHOW CREATE TABLE ${q(t.database)}.${q(t.name)}`);
    if (!shown) throw new Error(`SHOW CREATE TABLE ${t.database}.${t.name} returned nothing`);
    if (ENGINES_WITHOUT_ROWS.has(t.engine)) {
      tables.push({ ...t, create: shown.statement });
      continue;
    }
    const copy = `${q(into)}.${q(`t${++n}`)}`;
    await client.command({ query: `CREATE TABLE ${copy} AS ${q(t.database)}.${q(t.name)}` });
    await client.command({ query: `INSERT INTO ${copy} SELECT * FROM ${q(t.database)}.${q(t.name)}` });
    tables.push({ ...t, create: shown.statement, copy });
  }
  return { existing, tables };
}
