import type { Adapter, ColumnInfo } from '../adapters/adapter.js';
import { describeSelect, type Relation } from '../adapters/ddl.js';
import { qualifiedName } from '../adapters/quoting.js';
import * as q from '../adapters/test-queries.js';
import type { CompiledProject } from '../compile/compile-project.js';
import { splitCsvLine } from '../project/csv-line.js';
import type { UnitTestManifestNode } from '../compile/manifest.js';
import { resolveSql } from '../compile/sql-resolver.js';
import { parseUnitTestInput } from '../compile/unit-test-nodes.js';
import { YamlLocator } from '../compile/yaml-locator.js';
import { KilnError, type SourceLocation } from '../errors.js';
import type { StepOutput } from '../execute/run-steps.js';
import { refPlaceholder, resolvePlaceholders } from '../template/placeholders.js';
import { diffRows, formatRowDiff, isEmptyDiff, type Row } from './row-diff.js';
import type { UnitTestScratch } from './unit-test-scratch.js';

/** One table the model reads, replaced by fixture rows in the scratch database. */
interface Fixture {
  /** How the test names it: `ref('x')`, `source('a', 'b')`, `this`. */
  readonly label: string;
  /** What the rendered model SQL contains for it: a ref name, or a source's quoted relation. */
  readonly ref?: string;
  readonly sourceRelation?: string;
  /** Where its real table lives (for column types). */
  readonly real: Relation | undefined;
  /** For an ephemeral model: its query, whose result columns are the fixture's columns. */
  readonly query?: string;
  readonly declared: ReadonlyArray<{ readonly name: string; readonly data_type?: string }>;
  readonly scratch: Relation;
  readonly given?: { readonly rows: unknown; readonly format: 'dict' | 'csv'; readonly index: number };
}

export interface UnitTestContext {
  readonly compiled: CompiledProject;
  readonly adapter: Adapter;
  readonly locator: YamlLocator;
  /** The run's scratch database, shared by its unit tests. */
  readonly scratch: UnitTestScratch;
  /** This test's number in the run; its scratch tables are named after it. */
  readonly index: number;
}

/**
 * Runs a unit test: the model's SQL (rendered with the test's var and is_incremental overrides)
 * against fixture tables in the run's scratch database, its output compared with `expect` as a
 * multiset inside ClickHouse. Rows come back to kiln only when they differ, for the diff.
 * Inputs the test does not give are empty tables.
 */
export async function runUnitTest(ctx: UnitTestContext, node: UnitTestManifestNode): Promise<StepOutput> {
  try {
    await ctx.scratch.acquire();
    return await runInScratch(ctx, node);
  } finally {
    await ctx.scratch.release();
  }
}

async function runInScratch(ctx: UnitTestContext, node: UnitTestManifestNode): Promise<StepOutput> {
  const { compiled, adapter, scratch } = ctx;
  const model = compiled.parsed.models.find((m) => m.name === node.model)!;
  // Rendered at compile with the test's overrides (vars, is_incremental).
  const rendered = compiled.execution.unitTests[node.unique_id]!;
  const fixtures = planFixtures(compiled, node, rendered.refs, rendered.sources, (name) => scratch.table(ctx.index, name));
  let queryTimeMs = 0;
  const exec = async (sql: string) => (queryTimeMs += (await adapter.execute(sql)).elapsedMs);
  const query = async <T>(sql: string) => {
    const r = await adapter.query<T>(sql);
    queryTimeMs += r.elapsedMs;
    return r.rows;
  };
  const asModelError = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw modelError(node, model.originalFilePath, err);
    }
  };

  const types = await realColumns(adapter, fixtures.map((f) => f.real).filter((r): r is Relation => r !== undefined));
  for (const f of fixtures) {
    if (f.query === undefined) continue;
    const described = await query<ColumnInfo>(describeSelect(f.query)).catch(() => []);
    types.set(`ephemeral.${f.ref}`, described.map((c) => ({ name: c.name, type: c.type })));
  }
  for (const f of fixtures) {
    const columns = columnsFor(f, types, node);
    await exec(q.createFixtureTable(f.scratch, columns));
    if (f.given) {
      const typeList = async () => columns.map((c) => `${c.name} ${c.type}`).join(', ');
      await loadRows(ctx, node, f.scratch, columns.map((c) => c.name), typeList, f.given.rows, f.given.format, ['given', f.given.index, 'rows'], f.label, exec);
    }
  }
  let sql = resolvePlaceholders(rendered.sql, (name) => {
    const f = fixtures.find((x) => x.ref === name);
    return f ? qualifiedName(f.scratch.database, f.scratch.name) : name;
  });
  for (const f of fixtures) if (f.sourceRelation) sql = sql.split(f.sourceRelation).join(qualifiedName(f.scratch.database, f.scratch.name));

  const expected = scratch.table(ctx.index, 'expected');
  const expectColumns = fixtureColumns(node.expect.rows, node.expect.format);
  let same: boolean;
  if (expectColumns.length === 0) {
    // No rows and no column named: the model must return nothing.
    const [row] = await asModelError(() => query<{ n: string | number }>(q.countRowsOf(sql)));
    same = Number(row?.n ?? 0) === 0;
  } else {
    // The expected rows get the model's column types: the table is created from its query.
    try {
      await exec(q.createFixtureTableLike(expected, sql, expectColumns));
    } catch (err) {
      throw await expectTableError(ctx, node, model.originalFilePath, sql, expectColumns, err, query);
    }
    const typeList = async () => (await query<ColumnInfo>(q.describeTable(expected))).map((c) => `${c.name} ${c.type}`).join(', ');
    await loadRows(ctx, node, expected, expectColumns, typeList, node.expect.rows, node.expect.format, ['expect', 'rows'], 'expect', exec);
    // A comparison ClickHouse cannot make (types without an order) falls through to the diff below.
    const [row] = await query<{ same: string | number }>(q.sameRows(sql, expected, expectColumns)).catch(() => []);
    same = Number(row?.same ?? 0) === 1;
  }
  if (same) return { status: 'pass', failures: 0, queryTimeMs };

  // They differ: read both sides for a diff a person can read.
  const compared = expectColumns.length ? expectColumns : (await asModelError(() => query<ColumnInfo>(describeSelect(sql)))).map((c) => c.name);
  const actualRows = await asModelError(() => query<Row>(q.selectColumns(q.subquery(sql), compared)));
  const expectedRows = expectColumns.length ? await query<Row>(q.selectColumns(qualifiedName(expected.database, expected.name), compared)) : [];
  const diff = diffRows(compared, expectedRows, actualRows);
  if (isEmptyDiff(diff)) return { status: 'pass', failures: 0, queryTimeMs };
  const at = rowLocation(ctx, node, []);
  return {
    status: 'fail',
    failures: diff.missing.length + diff.unexpected.length,
    queryTimeMs,
    message: `${at.file}${at.line ? `:${at.line}` : ''}: unit test '${node.name}' of model '${node.model}': actual rows differ from expect\n${formatRowDiff(compared, diff, expectedRows.length, actualRows.length)}`,
  };
}

/** Why the expected table could not be made from the model's query: the model, or an expect column it lacks. */
async function expectTableError(
  ctx: UnitTestContext,
  node: UnitTestManifestNode,
  modelFile: string,
  sql: string,
  expectColumns: readonly string[],
  err: unknown,
  query: <T>(sql: string) => Promise<T[]>,
): Promise<unknown> {
  if (!(err instanceof KilnError)) return err;
  let names: string[];
  try {
    names = (await query<ColumnInfo>(describeSelect(sql))).map((c) => c.name);
  } catch (describeErr) {
    return modelError(node, modelFile, describeErr);
  }
  const unknown = expectColumns.find((c) => !names.includes(c));
  if (unknown === undefined) return modelError(node, modelFile, err);
  return new KilnError('CONFIG_INVALID', `unit test '${node.name}': expect has column '${unknown}', which model '${node.model}' does not return`, {
    location: rowLocation(ctx, node, ['expect']),
    hint: `the model returns: ${names.join(', ')}`,
  });
}

function planFixtures(
  compiled: CompiledProject,
  node: UnitTestManifestNode,
  refs: readonly string[],
  sources: ReadonlyArray<readonly [string, string]>,
  scratchTable: (name: string) => Relation,
): Fixture[] {
  const { manifest, parsed } = compiled;
  const givenFor = (match: (input: ReturnType<typeof parseUnitTestInput>) => boolean) => {
    const index = node.given.findIndex((g) => match(parseUnitTestInput(g.input)));
    return index < 0 ? undefined : { rows: node.given[index]!.rows, format: node.given[index]!.format, index };
  };
  const out: Fixture[] = [];
  let n = 0;
  const scratch = () => scratchTable(`input_${n++}`);
  for (const name of new Set(refs)) {
    const self = name === node.model;
    const target = Object.values(manifest.nodes).find((x) => x.name === name);
    const parsedNode = parsed.models.find((m) => m.name === name) ?? parsed.seeds.find((s) => s.name === name);
    const ephemeral = target?.resource_type === 'model' && target.config.materialized === 'ephemeral';
    const given = self ? givenFor((i) => i?.kind === 'this' || (i?.kind === 'ref' && i.name === name)) : givenFor((i) => i?.kind === 'ref' && i.name === name);
    out.push({
      label: self ? 'this' : `ref('${name}')`,
      ref: name,
      real: target && !ephemeral ? { database: target.database, name: target.alias } : undefined,
      ...(ephemeral ? { query: resolveSql(compiled.execution.refs, { sql: refPlaceholder(name), refs: [name] }, 'subquery') } : {}),
      declared: parsedNode?.columns ?? [],
      scratch: scratch(),
      ...(given ? { given } : {}),
    });
  }
  for (const [s, t] of sources) {
    if (out.some((f) => f.label === `source('${s}', '${t}')`)) continue;
    const src = Object.values(manifest.sources).find((x) => x.source_name === s && x.name === t)!;
    const parsedSource = parsed.sources.find((x) => x.uniqueId === src.unique_id);
    const given = givenFor((i) => i?.kind === 'source' && i.source === s && i.table === t);
    out.push({
      label: `source('${s}', '${t}')`,
      sourceRelation: src.relation_name,
      real: { database: src.database, name: src.identifier },
      declared: parsedSource?.columns ?? [],
      scratch: scratch(),
      ...(given ? { given } : {}),
    });
  }
  return out;
}

/** Column types of the real relations, in one query (system.columns keeps table order). */
async function realColumns(adapter: Adapter, relations: readonly Relation[]): Promise<Map<string, ColumnInfo[]>> {
  const out = new Map<string, ColumnInfo[]>();
  if (relations.length === 0) return out;
  const r = await adapter.query<{ database: string; table: string; name: string; type: string }>(q.columnsOfTables(relations));
  for (const row of r.rows) {
    const key = `${row.database}.${row.table}`;
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push({ name: row.name, type: row.type });
  }
  return out;
}

function columnsFor(f: Fixture, types: ReadonlyMap<string, ColumnInfo[]>, node: UnitTestManifestNode): ColumnInfo[] {
  const real = f.real ? types.get(`${f.real.database}.${f.real.name}`) : types.get(`ephemeral.${f.ref}`);
  if (real && real.length) return real;
  const declared = f.declared.filter((c) => c.data_type);
  if (declared.length && declared.length === f.declared.length) return declared.map((c) => ({ name: c.name, type: c.data_type! }));
  throw new KilnError('CONFIG_INVALID', `unit test '${node.name}': cannot tell the column types of ${f.label}: it is not built yet and its columns declare no data_type`, {
    location: { file: node.declared_at.file, ...(node.declared_at.line ? { line: node.declared_at.line } : {}) },
    hint: f.label.startsWith('source')
      ? `stage it first (kiln stage), or declare data_type for each of its columns`
      : `build it first (kiln run -s +${f.ref ?? node.model}), or declare data_type for each of its columns`,
  });
}

/** Column names a fixture's rows mention: the union of keys, or the CSV header. */
function fixtureColumns(rows: unknown, format: 'dict' | 'csv'): string[] {
  if (format === 'csv') return splitCsvLine(String(rows).trim().split(/\r?\n/)[0] ?? '', ',').map((c) => c.trim());
  const out = new Set<string>();
  for (const r of rows as Array<Record<string, unknown>>) for (const k of Object.keys(r)) out.add(k);
  return [...out];
}

/** Inserts fixture rows; when ClickHouse rejects them, finds the row and points at its YAML line. */
async function loadRows(
  ctx: UnitTestContext,
  node: UnitTestManifestNode,
  table: Relation,
  names: readonly string[],
  typeList: () => Promise<string>,
  rows: unknown,
  format: 'dict' | 'csv',
  path: Array<string | number>,
  label: string,
  exec: (sql: string) => Promise<unknown>,
): Promise<void> {
  let lines: string[];
  let insertColumns: string[];
  let firstRowOffset: (i: number) => Array<string | number>;
  if (format === 'csv') {
    const all = String(rows).replace(/\s+$/, '').split(/\r?\n/);
    insertColumns = splitCsvLine(all[0] ?? '', ',').map((c) => c.trim());
    lines = all.slice(1).filter((l) => l.trim() !== '');
    firstRowOffset = () => path;
  } else {
    const list = rows as Array<Record<string, unknown>>;
    insertColumns = fixtureColumns(list, 'dict');
    lines = list.map((r) => JSON.stringify(r));
    firstRowOffset = (i) => [...path, i];
  }
  const unknown = insertColumns.find((c) => !names.includes(c));
  if (unknown !== undefined) {
    throw new KilnError('CONFIG_INVALID', `unit test '${node.name}': ${label} has column '${unknown}', which ${label === 'expect' ? `model '${node.model}' does not return` : `${label} does not have`}`, {
      location: rowLocation(ctx, node, path),
      hint: `its columns: ${names.join(', ')}`,
    });
  }
  if (lines.length === 0) return;
  const fmt = format === 'csv' ? 'CSV' : 'JSONEachRow';
  const cols = format === 'csv' ? insertColumns : [];
  try {
    await exec(q.insertRows(table, cols, fmt, lines.join('\n')));
    return;
  } catch (err) {
    if (!(err instanceof KilnError)) throw err;
    // Find the first row ClickHouse cannot read, to name it (the error path only).
    for (let i = 0; i < lines.length; i++) {
      try {
        await exec(q.insertRows(table, cols, fmt, lines[i]!));
      } catch (rowErr) {
        const line = rowLocation(ctx, node, firstRowOffset(i));
        const csvLine = format === 'csv' && line.line ? { ...line, line: line.line + 2 + i } : line;
        throw new KilnError('SQL_ERROR', `unit test '${node.name}': row ${i + 1} of ${label} does not fit the column types: ${(rowErr as Error).message.split('\n')[0]}`, {
          location: csvLine,
          hint: `column types: ${await typeList()}`,
        });
      }
    }
    throw new KilnError('SQL_ERROR', `unit test '${node.name}': the rows of ${label} do not fit the column types: ${err.message.split('\n')[0]}`, {
      location: rowLocation(ctx, node, path),
      hint: `column types: ${await typeList()}`,
    });
  }
}

function rowLocation(ctx: UnitTestContext, node: UnitTestManifestNode, path: Array<string | number>): SourceLocation {
  const file = node.declared_at.file;
  const line = ctx.locator.lineInEntryMatching(file, 'unit_tests', (e) => e.name === node.name && e.model === node.model, path) ?? node.declared_at.line;
  return { file, ...(line ? { line } : {}) };
}

function modelError(node: UnitTestManifestNode, modelFile: string, err: unknown): unknown {
  if (!(err instanceof KilnError)) return err;
  return new KilnError('SQL_ERROR', `unit test '${node.name}': model '${node.model}' failed on the fixture rows: ${err.message}`, {
    location: { file: modelFile },
    hint: `the test is declared at ${node.declared_at.file}${node.declared_at.line ? `:${node.declared_at.line}` : ''}`,
  });
}
