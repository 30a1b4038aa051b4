import type { Adapter, RelationInfo } from '../../src/adapters/adapter.js';
import type { Capabilities } from '../../src/adapters/capabilities.js';
import type { Relation } from '../../src/adapters/ddl.js';
import type { Driver, ExecOptions, ExecResult } from '../../src/adapters/driver.js';
import type { ModelManifestNode, SeedManifestNode } from '../../src/compile/manifest.js';
import { modelKindOf } from '../../src/compile/model-kind.js';
import type { MaterializeContext } from '../../src/materialize/materialization.js';
import type { NodeConfig } from '../../src/project/types.js';

/**
 * A MaterializeContext that records every statement a strategy sends (SQL-text tests), the
 * adapter's operations (swap, deleteWhere, replacePartitions) included: the recording sits under
 * the adapter, at its driver. Everything else is real: the adapter is a real one (embedded), seen
 * through a different capability set; statements are forwarded to it unless `forward` is false,
 * and `failOn` makes a statement throw, to walk the failure paths.
 */
export interface RecordingOptions {
  readonly adapter: Adapter;
  readonly relation: Relation;
  readonly sql?: string;
  readonly config?: NodeConfig;
  readonly existing?: RelationInfo;
  readonly capabilities?: Partial<Capabilities>;
  readonly cluster?: string;
  readonly runId?: string;
  readonly forward?: boolean;
  readonly failOn?: (sql: string) => Error | undefined;
  /** For seeds: the project folder and the CSV path in it. */
  readonly seed?: { readonly rootPath: string; readonly file: string };
}

export interface Recording {
  readonly ctx: MaterializeContext;
  readonly statements: string[];
}

export function recordingContext(opts: RecordingOptions): Recording {
  const capabilities: Capabilities = { ...opts.adapter.capabilities, ...opts.capabilities };
  const statements: string[] = [];
  const real = opts.adapter.driver;
  // Statements run through execute are recorded; what a driver sends on its own (a file load) is not.
  const driver: Driver = {
    kind: real.kind,
    execute: async (sql: string, execOpts?: ExecOptions): Promise<ExecResult> => {
      statements.push(sql);
      const failure = opts.failOn?.(sql);
      if (failure) throw failure;
      return opts.forward !== false ? real.execute(sql, execOpts) : { elapsedMs: 0, queryId: 'recorded' };
    },
    query: (sql, o) => real.query(sql, o),
    insertStream: (table, body, format, o) => real.insertStream(table, body, format, o),
    insertFile: (table, path, format, o) => real.insertFile(table, path, format, o),
    describeFile: (path, format, o) => real.describeFile(path, format, o),
    insertLocalSelect: (table, columns, select, o) => real.insertLocalSelect(table, columns, select, o),
    queryLocal: (sql, o) => real.queryLocal(sql, o),
    close: async () => undefined,
  };
  const adapter = Object.create(opts.adapter, {
    capabilities: { value: capabilities },
    ddl: { value: { capabilities, ...(opts.cluster ? { cluster: opts.cluster } : {}) } },
    driver: { value: driver },
  }) as Adapter;
  const config = opts.config ?? {};
  const node = opts.seed
    ? ({ resource_type: 'seed', name: opts.relation.name, config, root_path: opts.seed.rootPath, original_file_path: opts.seed.file } as unknown as SeedManifestNode)
    : ({ resource_type: 'model', name: opts.relation.name, config, original_file_path: `models/${opts.relation.name}.sql` } as unknown as ModelManifestNode);
  const ctx: MaterializeContext = {
    warehouse: adapter,
    node,
    kind: opts.seed ? { materialized: 'seed' } : modelKindOf(config, () => ({ file: node.original_file_path })),
    relation: opts.relation,
    existing: opts.existing,
    fullRefresh: false,
    runId: opts.runId ?? 'run1',
    sql: () => opts.sql ?? 'SELECT 1 AS id',
    hooks: (kind) => (config[kind] as string[] | undefined) ?? [],
  };
  return { ctx, statements };
}
