import { readFileSync } from 'node:fs';
import { runHooks } from './hooks.js';
import { join } from 'node:path';
import * as ddl from '../adapters/ddl.js';
import { checkTable } from '../adapters/shadow-sql.js';
import { kindsOfProfile, seedProfile, seedRows, seedType, type SeedColumn } from '../adapters/seed-sql.js';
import { splitCsvLine } from '../project/csv-line.js';
import type { SeedManifestNode } from '../compile/manifest.js';
import { KilnError } from '../errors.js';
import { tableOptions, tempRelation, type MaterializationStrategy, type MaterializeContext } from './materialization.js';
import { buildThenSwap } from './swap.js';
import { escapeRegExp } from '../escape-regexp.js';

/**
 * A seed CSV is loaded by ClickHouse itself into a temporary table, then swapped in like a
 * table. Column types are dbt's (agate's inference, see seed-sql.ts: integers, numbers, dates,
 * datetimes, booleans, else text; a column with an empty field is Nullable) unless
 * `column_types` names them. The file is read by the engine in this process, also for a server
 * target (its rows are streamed to the server), so every target reads a CSV the same way.
 *
 * Crash safety (issue 12), statements in order: profile the file (read); CREATE TABLE tmp;
 * INSERT INTO tmp from the file; a count (read); the swap (swap.ts). Only the swap's one
 * EXCHANGE or RENAME changes the seed's table, so a kill leaves the old seed (or none) or the
 * whole new one, plus scratch tables the next run drops; the rerun loads the whole file again.
 * A changed seed is therefore never half old, half new, and never loaded twice.
 */
export const seedMaterialization: MaterializationStrategy = {
  name: 'seed',
  async run(ctx) {
    const node = ctx.node as SeedManifestNode;
    const file = join(node.root_path, node.original_file_path);
    const settings = csvSettings(node);
    const columns = await seedColumns(ctx, file, settings);
    const temp = tempRelation(ctx.relation, ctx.runId);
    let rows = 0;
    await runHooks(ctx, 'pre_hook');
    await buildThenSwap(ctx, temp, async () => {
      await ctx.warehouse.execute(ddl.createTable(ctx.warehouse.ddl, temp, columns, tableOptions(node.config)));
      await ctx.warehouse.insertLocalSelect(temp, columns.map((c) => c.name), seedRows(file, columns), { settings });
      rows = await ctx.warehouse.countRows(temp);
    });
    await runHooks(ctx, 'post_hook');
    return { rowsAffected: rows, message: `loaded seed ${ctx.relation.database}.${ctx.relation.name}` };
  },
  async check(ctx) {
    // The file's columns and column_types with the seed's table options; its rows are not read.
    const node = ctx.node as SeedManifestNode;
    const settings = csvSettings(node);
    const columns = await seedColumns(ctx, join(node.root_path, node.original_file_path), settings);
    await ctx.warehouse.execute(checkTable(ctx.warehouse.ddl, ctx.relation, columns, tableOptions(node.config)));
  },
};

/** How ClickHouse reads the seed's CSV: its `delimiter`, if set. */
function csvSettings(node: SeedManifestNode): Record<string, string | number> {
  return typeof node.config.delimiter === 'string' ? { format_csv_delimiter: node.config.delimiter } : {};
}

async function seedColumns(ctx: MaterializeContext, file: string, settings: Record<string, string | number>): Promise<SeedColumn[]> {
  const declared = (ctx.node.config.column_types ?? {}) as Record<string, string>;
  const names = headerOf(file, settings.format_csv_delimiter as string | undefined);
  for (const name of Object.keys(declared)) {
    if (!names.includes(name)) {
      throw new KilnError('CONFIG_INVALID', `column_types names '${name}', which is not a column of ${ctx.node.original_file_path}`, {
        location: { file: ctx.node.original_file_path, line: 1 },
        hint: `columns: ${names.join(', ')}`,
      });
    }
  }
  const profile = await ctx.warehouse.queryLocal<Record<string, unknown>>(seedProfile(file, names), { settings });
  const kinds = kindsOfProfile(names, profile.rows[0] ?? {});
  const columns = names.map((name, i): SeedColumn => {
    const type = declared[name];
    if (type !== undefined) return { name, type, kind: 'declared' };
    const { kind, nullable, fraction } = kinds[i]!;
    return { name, type: ctx.warehouse.portableType(seedType(kind, nullable, fraction)), kind };
  });
  assertKeysNotNullable(ctx.node as SeedManifestNode, columns);
  return columns;
}

/**
 * A column kiln typed with an empty field is Nullable (as dbt types it), and ClickHouse refuses a
 * Nullable column in a sorting or partition key unless the table allows it: say which column and
 * how to type it, before any statement, rather than pass on ClickHouse's ILLEGAL_COLUMN. (A
 * Nullable type the seed declares in column_types is its author's choice: ClickHouse answers.)
 */
function assertKeysNotNullable(node: SeedManifestNode, columns: readonly SeedColumn[]): void {
  const nullable = columns.filter((c) => c.kind !== 'declared' && c.type.startsWith('Nullable('));
  const options = tableOptions(node.config);
  if (!nullable.length || options.settings?.allow_nullable_key) return;
  for (const key of ['order_by', 'primary_key', 'partition_by'] as const) {
    const value = options[key];
    const text = Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : '';
    const hit = nullable.find((c) => new RegExp(`(^|[^\\w])${escapeRegExp(c.name)}($|[^\\w])`).test(text));
    if (hit === undefined) continue;
    throw new KilnError('CONFIG_INVALID', `${key} uses column '${hit.name}', which has empty fields and so is ${hit.type}; ClickHouse cannot ${key === 'partition_by' ? 'partition' : 'sort'} by a Nullable column`, {
      location: { file: node.original_file_path, line: 1 },
      hint: `give '${hit.name}' a type in column_types (an empty field then loads as that type's default), fill its empty fields, or ${key} another column`,
    });
  }
}

/** The CSV's header fields: the seed's column names. */
function headerOf(file: string, delimiter = ','): string[] {
  const first = readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '';
  return splitCsvLine(first, delimiter).map((h) => h.trim());
}
