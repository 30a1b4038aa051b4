import type { ColumnInfo, WarehouseOperations } from '../adapters/adapter.js';
import { SqlError } from '../adapters/sql-error.js';
import { TABLE_OPTION_SINCE, type Capabilities } from '../adapters/capabilities.js';
import * as ddl from '../adapters/ddl.js';
import type { TableDefinition } from '../compile/table-definition.js';
import { KilnError } from '../errors.js';
import type { NodeConfig } from '../project/types.js';
import { tableOptions, tempRelation, type MaterializeContext } from './materialization.js';

/**
 * Tables whose definition is more than `CREATE TABLE … AS SELECT`: an enforced contract, column
 * codecs/TTLs, skipping indexes, projections, CHECK constraints (compile/table-definition.ts).
 * The table is created empty with its full definition, then filled by INSERT … SELECT, all under
 * the strategy's temporary name, so the swap and its crash safety are the plain table's.
 */

/**
 * The model's SELECT against its contract, before anything is built: ClickHouse spells the
 * contract's types canonically in an empty Memory table (a scratch relation of this run, dropped
 * here or by the next run), and DESCRIBE of the SELECT gives what the model returns.
 * Throws CONTRACT_MISMATCH listing every difference. Returns the contract's canonical columns.
 */
export async function checkContract(ctx: MaterializeContext, contract: readonly ddl.ColumnDefinition[], sql: string): Promise<ColumnInfo[]> {
  const expected = await canonicalTypes(ctx, contract);
  const actual = (await ctx.warehouse.query<ColumnInfo>(ddl.describeSelect(sql))).rows.map((c) => ({ name: c.name, type: c.type }));
  const diff = contractDiff(expected, actual);
  if (diff.length) {
    throw new KilnError('CONTRACT_MISMATCH', `the model's columns do not match its enforced contract: ${diff.join('; ')}`, {
      location: { file: ctx.node.original_file_path },
      hint: "change the SELECT (CAST(x AS Type) gives a column its contract type) or the contract's columns in the model's YAML",
    });
  }
  return expected;
}

/**
 * The contract checked before the run changes anything, for a model whose inputs' types are all
 * declared (compile/known-structures.ts): each input relation is replaced by empty rows of its
 * declared types and ClickHouse describes the result, so the check does not depend on what the
 * warehouse holds now. Reads only. Returns the differences; a query ClickHouse cannot describe
 * this way returns undefined and is left to the build-time check.
 */
export async function contractDifferencesBeforeRun(
  warehouse: Pick<WarehouseOperations, 'query'>,
  contract: readonly ddl.ColumnDefinition[],
  sql: string,
  inputs: ReadonlyMap<string, readonly ddl.ColumnDefinition[]>,
): Promise<string[] | undefined> {
  let substituted = sql;
  for (const [relation, columns] of inputs) substituted = substituted.split(relation).join(`(${ddl.emptyRows(columns)})`);
  try {
    const describe = async (q: string) => (await warehouse.query<ColumnInfo>(ddl.describeSelect(q))).rows.map((c) => ({ name: c.name, type: c.type }));
    return contractDiff(await describe(ddl.emptyRows(contract)), await describe(substituted));
  } catch (err) {
    if (err instanceof SqlError) return undefined;
    throw err;
  }
}

/** An incremental model's existing table against its contract: a difference needs a full refresh. */
export async function checkExistingTable(ctx: MaterializeContext, expected: readonly ColumnInfo[]): Promise<void> {
  const existing = await ctx.warehouse.columns(ctx.relation);
  const diff = contractDiff(expected, existing);
  if (diff.length) {
    throw new KilnError('CONTRACT_MISMATCH', `the existing table ${ctx.relation.database}.${ctx.relation.name} does not match the model's enforced contract: ${diff.join('; ').replaceAll("model's SELECT", 'table')}`, {
      location: { file: ctx.node.original_file_path },
      hint: 'rebuild it with --full-refresh (the contract changed since the table was built)',
    });
  }
}

async function canonicalTypes(ctx: MaterializeContext, columns: readonly ddl.ColumnDefinition[]): Promise<ColumnInfo[]> {
  const d = ctx.warehouse.ddl;
  const probe = tempRelation(ctx.relation, `${ctx.runId}_contract`);
  try {
    await ctx.warehouse.execute(ddl.createTypeProbe(d, probe, columns));
    return await ctx.warehouse.columns(probe);
  } catch (err) {
    throw new KilnError('CONTRACT_MISMATCH', `a data_type of the model's contract is not a ClickHouse type: ${(err as Error).message.split('\n')[0]}`, {
      location: { file: ctx.node.original_file_path },
      hint: 'use ClickHouse type names in data_type (UInt32, String, Nullable(Float64), DateTime, …)',
    });
  } finally {
    await ctx.warehouse.execute(ddl.dropRelation(d, probe)).catch(() => undefined);
  }
}

/**
 * Every difference between the contract's columns and the model's, one line each: the contract's
 * columns in its order (missing, or of another type), then the model's extra columns in its order.
 * Column order is not part of the contract (as in dbt): the table gets the contract's order.
 */
export function contractDiff(expected: readonly ColumnInfo[], actual: readonly ColumnInfo[]): string[] {
  const byName = new Map(actual.map((c) => [c.name, c]));
  const declared = new Set(expected.map((c) => c.name));
  const out: string[] = [];
  for (const c of expected) {
    const got = byName.get(c.name);
    if (!got) out.push(`'${c.name}' is missing from the model's SELECT (contract: ${c.type})`);
    else if (normalizeType(got.type) !== normalizeType(c.type)) out.push(`'${c.name}' is ${got.type} in the model's SELECT, the contract says ${c.type}`);
  }
  for (const c of actual) if (!declared.has(c.name)) out.push(`'${c.name}' (${c.type}) is in the model's SELECT but not in the contract`);
  return out;
}

/** Spacing differs between versions (`Decimal(18, 2)` vs `Decimal(18,2)`); the type does not. */
function normalizeType(type: string): string {
  return type.replace(/\s+/g, '');
}

/**
 * Creates `temp` empty with the model's full definition and fills it from `sql`. Without a
 * contract the columns and types are the SELECT's (DESCRIBE), with the YAML's codecs and TTLs.
 */
export async function buildDefinedTable(ctx: MaterializeContext, def: TableDefinition, temp: ddl.Relation, sql: string): Promise<void> {
  const columns = await createDefinedTable(ctx, def, temp, sql, tableOptions(ctx.node.config));
  await ctx.warehouse.execute(ddl.insertSelectColumns(temp, sql, columns));
}

/**
 * Creates `temp` empty with the model's full definition (contract columns, or the SELECT's with
 * their codecs and TTLs; indexes, projections, CHECKs) and the table options given; returns its
 * column names, for INSERTs that fill it by name.
 */
export async function createDefinedTable(ctx: MaterializeContext, def: TableDefinition, temp: ddl.Relation, sql: string, options: ddl.TableOptions): Promise<string[]> {
  const described = def.contract ? [] : (await ctx.warehouse.query<ColumnInfo>(ddl.describeSelect(sql))).rows.map((c) => ({ name: c.name, type: c.type }));
  const columns = definedColumns(ctx, def, described);
  await ctx.warehouse.execute(ddl.createTable(ctx.warehouse.ddl, temp, columns, options, def.elements));
  return columns.map((c) => c.name);
}

/**
 * The columns a defined table gets: the contract's, or `described` (the SELECT's, or an existing
 * table's) with the YAML's codecs and TTLs. A codec/TTL for a column not among them is an error.
 */
export function definedColumns(ctx: MaterializeContext, def: TableDefinition, described: readonly ColumnInfo[]): ddl.ColumnDefinition[] {
  const columns: ddl.ColumnDefinition[] = def.contract ? [...def.contract] : described.map((c) => ({ name: c.name, type: c.type, ...def.columnOptions[c.name] }));
  const unknown = Object.keys(def.columnOptions).filter((name) => !columns.some((c) => c.name === name));
  if (unknown.length) {
    throw new KilnError('CONFIG_INVALID', `codec/ttl given for column${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}, which the model does not return`, {
      location: { file: ctx.node.original_file_path },
      hint: "fix the column's name in the model's YAML",
    });
  }
  return columns;
}

/** The first table option the server cannot do, with the version that has it (checked before any change). */
export function unsupportedTableOption(def: TableDefinition | undefined, config: NodeConfig, caps: Capabilities): { option: string; since: string } | undefined {
  const since = (key: keyof typeof TABLE_OPTION_SINCE) => TABLE_OPTION_SINCE[key].join('.');
  const columns = [...(def?.contract ?? []), ...Object.values(def?.columnOptions ?? {})];
  if (!caps.columnCodecs && columns.some((c) => c.codec)) return { option: 'column codec', since: since('columnCodecs') };
  if (!caps.ttl && columns.some((c) => c.ttl)) return { option: 'column ttl', since: since('ttl') };
  if (!caps.ttl && typeof config.ttl === 'string' && config.ttl.trim()) return { option: 'ttl', since: since('ttl') };
  if (!def) return undefined;
  if (!caps.skippingIndexes && def.elements.indexes.length) return { option: 'indexes (data-skipping)', since: since('skippingIndexes') };
  if (!caps.projections && def.elements.projections.length) return { option: 'projections', since: since('projections') };
  if (!caps.checkConstraints && def.elements.checks.length) return { option: 'check constraints', since: since('checkConstraints') };
  return undefined;
}

/**
 * A table option the target's server lacks (codec on 18.16, projections before 21.6, …) as the
 * error to report before any change, naming the option and the version that has it.
 */
export function unsupportedTableOptionError(
  node: { readonly name: string; readonly original_file_path: string; readonly config: NodeConfig },
  def: TableDefinition | undefined,
  target: { readonly name: string; readonly version: string; readonly capabilities: Capabilities },
): KilnError | undefined {
  const missing = unsupportedTableOption(def, node.config, target.capabilities);
  if (!missing) return undefined;
  return new KilnError('CONFIG_INVALID', `model '${node.name}' uses ${missing.option}, which needs ClickHouse ${missing.since} or later; target '${target.name}' runs ${target.version}`, {
    location: { file: node.original_file_path },
    hint: `remove ${missing.option} for this target (e.g. with a target.name condition) or upgrade the server`,
  });
}
