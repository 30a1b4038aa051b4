import { KilnError } from '../errors.js';
import type { ModelNode, SeedNode } from '../project/nodes.js';
import type { NodeConfig } from '../project/types.js';
import type { TemplateEngine } from '../template/template-engine.js';
import type { NodeRelation } from './manifest-nodes.js';

/**
 * Where a model, snapshot or seed lands, as dbt names it: its ClickHouse database is
 * `generate_schema_name(config.schema, node)` (a custom schema is a ClickHouse database; dbt's
 * default makes it `<target schema>_<custom>`), or `generate_database_name(config.database, node)`
 * where kiln's `database` config names one; its table is `generate_alias_name(config.alias, node)`.
 * A legacy snapshot's `target_schema` is used as written, as in dbt. The macros run only where the
 * project overrides them; otherwise their defaults are computed here, with no render per node.
 */
export function relationNamer(engine: TemplateEngine, targetDatabase: string): (node: ModelNode | SeedNode, config: NodeConfig) => NodeRelation {
  const overridden = {
    schema: engine.rootOverrides('generate_schema_name'),
    alias: engine.rootOverrides('generate_alias_name'),
    database: engine.rootOverrides('generate_database_name'),
  };
  return (node, config) => {
    const call = (macro: string, custom: unknown): string => {
      const out = engine.callMacro(macro, { name: node.name, file: node.originalFilePath }, [custom ?? null, nodeContext(node, config)]).sql.trim();
      if (out === '' || out === 'None' || out === 'null' || out === 'undefined') {
        throw new KilnError('CONFIG_INVALID', `${macro}() gave no name for ${node.resourceType} '${node.name}'`, {
          location: { file: node.originalFilePath },
          hint: `the project's ${macro} macro must render or return a name for every node`,
        });
      }
      return out;
    };
    const custom = (key: 'schema' | 'alias' | 'database'): string | undefined => {
      const v = config[key];
      return v === undefined || v === null ? undefined : String(v).trim();
    };
    let database: string;
    const targetSchema = (config as Record<string, unknown>).target_schema;
    if (custom('database') !== undefined) database = overridden.database ? call('generate_database_name', custom('database')) : custom('database')!;
    else if (node.resourceType === 'snapshot' && typeof targetSchema === 'string' && targetSchema.trim() !== '') database = targetSchema.trim();
    else if (overridden.schema) database = call('generate_schema_name', custom('schema'));
    else database = custom('schema') === undefined ? targetDatabase : `${targetDatabase}_${custom('schema')}`;
    const alias = overridden.alias ? call('generate_alias_name', custom('alias')) : custom('alias') || node.name;
    return { database, alias };
  };
}

/** What dbt's naming macros read of `node`. */
function nodeContext(node: ModelNode | SeedNode, config: NodeConfig): Record<string, unknown> {
  return {
    name: node.name,
    unique_id: node.uniqueId,
    resource_type: node.resourceType,
    package_name: node.packageName ?? node.uniqueId.split('.')[1],
    fqn: [...node.fqn],
    path: node.originalFilePath,
    original_file_path: node.originalFilePath,
    config: { ...config },
    tags: [...(config.tags ?? [])],
  };
}
