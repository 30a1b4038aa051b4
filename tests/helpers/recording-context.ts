import type { Adapter, RelationInfo } from '../../src/adapters/adapter.js';
import type { Capabilities } from '../../src/adapters/capabilities.js';
import type { Relation } from '../../src/adapters/ddl.js';
import type { ModelManifestNode, SeedManifestNode } from '../../src/compile/manifest.js';
import { modelKindOf } from '../../src/compile/model-kind.js';
import type { MaterializeContext } from '../../src/materialize/materialization.js';
import type { NodeConfig } from '../../src/project/types.js';

/**
 * A MaterializeContext whose `exec` records every statement a strategy sends (SQL-text tests).
 * Everything else is real: the adapter is a real one (embedded), seen through a different
 * capability set; statements are forwarded to it unless `forward` is false, and `failOn` makes
 * `exec` throw for matching statements, to walk the failure paths.
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
  const adapter = Object.create(opts.adapter, {
    capabilities: { value: capabilities },
    ddl: { value: { capabilities, ...(opts.cluster ? { cluster: opts.cluster } : {}) } },
  }) as Adapter;
  const config = opts.config ?? {};
  const node = opts.seed
    ? ({ resource_type: 'seed', name: opts.relation.name, config, root_path: opts.seed.rootPath, original_file_path: opts.seed.file } as unknown as SeedManifestNode)
    : ({ resource_type: 'model', name: opts.relation.name, config, original_file_path: `models/${opts.relation.name}.sql` } as unknown as ModelManifestNode);
  const statements: string[] = [];
  const ctx: MaterializeContext = {
    adapter,
    node,
    kind: opts.seed ? { materialized: 'seed' } : modelKindOf(config, () => ({ file: node.original_file_path })),
    relation: opts.relation,
    existing: opts.existing,
    fullRefresh: false,
    runId: opts.runId ?? 'run1',
    sql: () => opts.sql ?? 'SELECT 1 AS id',
    hooks: (kind) => (config[kind] as string[] | undefined) ?? [],
    exec: async (sql, execOpts) => {
      statements.push(sql);
      const failure = opts.failOn?.(sql);
      if (failure) throw failure;
      if (opts.forward !== false) await adapter.execute(sql, execOpts);
    },
    query: async <T>(sql: string) => (await adapter.query<T>(sql)).rows,
  };
  return { ctx, statements };
}
