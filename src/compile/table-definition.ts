import type { CheckConstraint, ColumnDefinition, Projection, SkippingIndex, TableElements } from '../adapters/ddl.js';
import { KilnError, type SourceLocation, type Warning } from '../errors.js';
import { isPlainObject } from '../project/node-config.js';
import type { ColumnSpec, NodeConfig } from '../project/types.js';
import type { ConfigKeyLocator } from './model-kind.js';

/**
 * A model's table as its YAML and config define it beyond the SELECT: an enforced contract
 * (dbt's `contract: {enforced: true}` with column `data_type`s and `constraints`), dbt-clickhouse's
 * column `codec`/`ttl`, and the `indexes`/`projections` configs. Validated at compile, so a typo
 * is exit 2 before anything runs; plain data, so it survives the execution manifest's JSON.
 */
export interface TableDefinition {
  /** The contract's columns in its order, each type as the table gets it (not_null applied). */
  readonly contract?: readonly ColumnDefinition[];
  /** Codec and TTL by column name, for columns the contract does not list (no contract: all). */
  readonly columnOptions: Readonly<Record<string, { readonly codec?: string; readonly ttl?: string }>>;
  readonly elements: Required<TableElements>;
}

/** Constraint types dbt knows that ClickHouse has no way to enforce: accepted, with a warning. */
const UNENFORCED = ['primary_key', 'unique', 'foreign_key', 'custom'];
const CONSTRAINT_TYPES = ['not_null', 'check', ...UNENFORCED];

/**
 * Materializations whose relation is a table kiln defines: a microbatch model is incremental, and
 * a materialized_view's target is an ordinary MergeTree table its views insert into (dbt has no
 * contracts on its materialized views, which are the database's own; kiln's target is a table).
 * The distributed kinds' defined table is `<name>_local` on every shard (dbt-clickhouse applies
 * projections there too); their Distributed table copies its columns.
 */
export const DEFINED_TABLE_KINDS: ReadonlySet<string> = new Set(['table', 'incremental', 'materialized_view', 'distributed_table', 'distributed_incremental']);
const TABLE_KINDS = DEFINED_TABLE_KINDS;

export interface DefinitionInput {
  readonly modelName: string;
  readonly materialized: string;
  readonly config: NodeConfig;
  readonly columns: readonly ColumnSpec[];
  /** Where the model's properties (its columns) are declared. */
  readonly properties: SourceLocation;
  readonly locate: ConfigKeyLocator;
}

/** The model's table definition, or undefined when it has none of these options (the plain CREATE … AS path). */
export function tableDefinitionOf(input: DefinitionInput, warnings: Warning[]): TableDefinition | undefined {
  const { modelName, materialized, config, columns, properties, locate } = input;
  const invalid = (location: SourceLocation, message: string, hint: string) => new KilnError('CONFIG_INVALID', message, { location, hint });
  const enforced = contractEnforced(config.contract, locate('contract'));
  const hasColumnOptions = columns.some((c) => c.codec !== undefined || c.ttl !== undefined);
  const hasConstraints = columns.some((c) => (c.constraints?.length ?? 0) > 0);
  const indexes = skippingIndexes(config.indexes, locate('indexes'));
  const projections = namedQueries(config.projections, locate('projections'));
  if (!enforced && !hasColumnOptions && !indexes.length && !projections.length) {
    if (hasConstraints) {
      warnings.push({ message: `constraints of model '${modelName}' are applied only with an enforced contract (ignored)`, location: properties, hint: 'add config: {contract: {enforced: true}}' });
    }
    return undefined;
  }
  if (enforced && materialized === 'ephemeral') {
    throw invalid(locate('contract'), `model '${modelName}' is ephemeral and cannot have an enforced contract`, 'materialize it as table, incremental or view, or remove the contract');
  }
  if (enforced && materialized === 'snapshot') {
    // dbt supports contracts on models only: snapshots (and sources, seeds) are outside them.
    throw invalid(locate('contract'), `snapshot '${modelName}' cannot have an enforced contract: contracts apply to models (table, view, incremental, materialized_view), not snapshots`, 'remove contract from its config, and check its columns with data tests instead');
  }
  if (!TABLE_KINDS.has(materialized) && materialized !== 'view') {
    warnings.push({ message: `contracts and table options are not supported for ${materialized} '${modelName}' (ignored)`, location: properties });
    return undefined;
  }
  if (!TABLE_KINDS.has(materialized)) {
    const options = [hasColumnOptions ? 'column codec/ttl' : '', indexes.length ? 'indexes' : '', projections.length ? 'projections' : '', enforced && hasConstraints ? 'constraints' : ''].filter(Boolean);
    if (options.length) {
      warnings.push({ message: `${options.join(', ')} of model '${modelName}' apply to tables only; it is a ${materialized} (ignored)`, location: properties });
    }
    if (!enforced) return undefined;
  }

  const checks: CheckConstraint[] = [];
  const contract: ColumnDefinition[] = [];
  const columnOptions: Record<string, { codec?: string; ttl?: string }> = {};
  for (const column of columns) {
    const options = { ...(column.codec ? { codec: column.codec } : {}), ...(column.ttl ? { ttl: column.ttl } : {}) };
    if (!enforced) {
      if (options.codec || options.ttl) columnOptions[column.name] = options;
      continue;
    }
    if (!column.data_type?.trim()) {
      throw invalid(properties, `model '${modelName}' has an enforced contract but column '${column.name}' has no data_type`, 'give every column of a contracted model a data_type, e.g. data_type: UInt32');
    }
    let type = column.data_type.trim();
    (column.constraints ?? []).forEach((raw, i) => {
      const constraint = isPlainObject(raw) ? raw : { type: raw };
      const kind = String(constraint.type ?? '');
      if (!CONSTRAINT_TYPES.includes(kind)) {
        throw invalid(properties, `unknown constraint type '${kind}' on column '${column.name}' of model '${modelName}'`, `use one of ${CONSTRAINT_TYPES.join(', ')}`);
      }
      if (kind === 'not_null') type = withoutNullable(type);
      else if (kind === 'check') {
        if (typeof constraint.expression !== 'string' || !constraint.expression.trim()) {
          throw invalid(properties, `check constraint on column '${column.name}' of model '${modelName}' has no expression`, "write it as {type: check, expression: 'rating BETWEEN 1 AND 5'}");
        }
        const name = typeof constraint.name === 'string' && constraint.name ? constraint.name : `${column.name}_check${i ? `_${i + 1}` : ''}`;
        checks.push({ name, expression: constraint.expression });
      } else if (constraint.warn_unenforced !== false) {
        warnings.push({
          message: `constraint '${kind}' on column '${column.name}' of model '${modelName}' is not enforced by ClickHouse`,
          location: properties,
          hint: 'check it with a data test instead, or set warn_unenforced: false',
        });
      }
    });
    if (!TABLE_KINDS.has(materialized)) {
      contract.push({ name: column.name, type });
      continue;
    }
    contract.push({ name: column.name, type, ...options });
  }
  if (enforced && contract.length === 0) {
    throw invalid(properties, `model '${modelName}' has an enforced contract but declares no columns`, 'list its columns with name and data_type under columns:');
  }
  const names = new Set<string>();
  for (const c of contract) {
    if (names.has(c.name)) throw invalid(properties, `column '${c.name}' appears twice in the contract of model '${modelName}'`, 'list each column once');
    names.add(c.name);
  }
  return {
    ...(enforced ? { contract } : {}),
    columnOptions,
    elements: TABLE_KINDS.has(materialized) ? { indexes, projections, checks } : { indexes: [], projections: [], checks: [] },
  };
}

function contractEnforced(value: unknown, where: SourceLocation): boolean {
  if (value === undefined || value === null) return false;
  if (!isPlainObject(value) || (value.enforced !== undefined && typeof value.enforced !== 'boolean')) {
    throw new KilnError('CONFIG_INVALID', "config 'contract' must be a mapping like {enforced: true}", { location: where });
  }
  return value.enforced === true;
}

/** `Nullable(T)` → `T`: what a not_null constraint means for a ClickHouse column. */
export function withoutNullable(type: string): string {
  const m = /^\s*Nullable\s*\((.*)\)\s*$/i.exec(type);
  return m ? m[1]!.trim() : type;
}

/**
 * `indexes:` as dbt-clickhouse spells it (`{name, definition: 'col TYPE minmax GRANULARITY 2'}`)
 * or split into `expression`, `type` and `granularity`.
 */
function skippingIndexes(value: unknown, where: SourceLocation): SkippingIndex[] {
  return listOf(value, 'indexes', where).map((raw) => {
    const name = requiredString(raw, 'name', 'an index', where);
    if (typeof raw.definition === 'string') {
      const m = /^(.+?)\s+TYPE\s+(.+?)(?:\s+GRANULARITY\s+(\d+))?\s*$/is.exec(raw.definition.trim());
      if (!m) {
        throw new KilnError('CONFIG_INVALID', `index '${name}' has a definition without TYPE: '${raw.definition}'`, { location: where, hint: "write it as 'column TYPE minmax GRANULARITY 4'" });
      }
      return { name, expression: m[1]!, type: m[2]!, ...(m[3] ? { granularity: Number(m[3]) } : {}) };
    }
    const granularity = raw.granularity === undefined ? undefined : Number(raw.granularity);
    if (granularity !== undefined && !(Number.isInteger(granularity) && granularity > 0)) {
      throw new KilnError('CONFIG_INVALID', `index '${name}' has granularity '${String(raw.granularity)}'`, { location: where, hint: 'granularity is a positive whole number' });
    }
    return {
      name,
      expression: requiredString(raw, 'expression', `index '${name}'`, where),
      type: requiredString(raw, 'type', `index '${name}'`, where),
      ...(granularity !== undefined ? { granularity } : {}),
    };
  });
}

function namedQueries(value: unknown, where: SourceLocation): Projection[] {
  return listOf(value, 'projections', where).map((raw) => {
    const name = requiredString(raw, 'name', 'a projection', where);
    return { name, query: requiredString(raw, 'query', `projection '${name}'`, where) };
  });
}

function listOf(value: unknown, key: string, where: SourceLocation): Array<Record<string, unknown>> {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    if (!isPlainObject(item)) throw new KilnError('CONFIG_INVALID', `each entry of '${key}' must be a mapping`, { location: where, hint: key === 'indexes' ? "{name: idx_user, definition: 'user_id TYPE bloom_filter GRANULARITY 4'}" : "{name: by_user, query: 'SELECT * ORDER BY user_id'}" });
    return item;
  });
}

function requiredString(raw: Record<string, unknown>, key: string, what: string, where: SourceLocation): string {
  const v = raw[key];
  if (typeof v === 'string' && v.trim()) return v.trim();
  if (typeof v === 'number') return String(v);
  throw new KilnError('CONFIG_INVALID', `${what} needs a '${key}'`, { location: where });
}
