import { KilnError, type SourceLocation } from '../errors.js';

/**
 * One ClickHouse materialized view of a `materialized_view` model: `suffix` names it
 * (`<model>_<suffix>`), `sql` is the SELECT it runs on every insert into its source.
 */
export interface MaterializedViewPart {
  readonly suffix: string;
  readonly sql: string;
}

const MARKER = /^[ \t]*--[ \t]*([A-Za-z_][A-Za-z0-9_]*):(begin|end)[ \t]*$/gm;
const BETWEEN_PARTS = /^(\s|--[^\n]*\n|UNION\s+ALL)*$/i;

/**
 * The views a `materialized_view` model defines. Without markers the whole SELECT is one view,
 * `<model>_mv`. Several views feeding one target are written as dbt-clickhouse does: each view's
 * SELECT between `--<name>:begin` and `--<name>:end` comment lines, joined by UNION ALL, so the
 * whole file is also the query that backfills the target; the view is `<model>_<name>`.
 * Throws CONFIG_INVALID (at `where`, the marker's line when `rawCode` has it) for unbalanced,
 * repeated or misplaced markers.
 */
export function materializedViewParts(sql: string, where: SourceLocation, rawCode?: string): MaterializedViewPart[] {
  const markers = [...sql.matchAll(MARKER)];
  if (markers.length === 0) return [{ suffix: 'mv', sql }];
  const invalid = (message: string, name: string | undefined, hint: string) => {
    const line = name && rawCode ? lineOf(rawCode, name) : undefined;
    return new KilnError('CONFIG_INVALID', message, { location: line ? { ...where, line } : where, hint });
  };
  const parts: MaterializedViewPart[] = [];
  let cursor = 0;
  for (let i = 0; i < markers.length; i += 2) {
    const begin = markers[i]!;
    const end = markers[i + 1];
    const name = begin[1]!;
    if (begin[2] !== 'begin') throw invalid(`'--${name}:end' has no '--${name}:begin' before it`, name, `wrap each view's SELECT in --${name}:begin … --${name}:end`);
    if (!end || end[2] !== 'end' || end[1] !== name) throw invalid(`'--${name}:begin' is not closed by '--${name}:end'`, name, 'views cannot nest; close each before the next begins');
    if (parts.some((p) => p.suffix === name)) throw invalid(`two views are named '${name}'`, name, 'give each --<name>:begin block its own name');
    if (!BETWEEN_PARTS.test(sql.slice(cursor, begin.index))) {
      throw invalid(`SQL outside the --<name>:begin/end blocks`, name, 'only UNION ALL and comments may stand between the blocks of a materialized_view model');
    }
    parts.push({ suffix: name, sql: sql.slice(begin.index + begin[0].length, end.index).trim() });
    cursor = end.index + end[0].length;
  }
  if (!BETWEEN_PARTS.test(sql.slice(cursor))) {
    throw invalid(`SQL after the last --<name>:end`, undefined, 'only UNION ALL and comments may stand between the blocks of a materialized_view model');
  }
  return parts;
}

/** The materialized view's name for a part of model relation `alias`. */
export function materializedViewName(alias: string, part: MaterializedViewPart): string {
  return `${alias}_${part.suffix}`;
}

function lineOf(rawCode: string, name: string): number | undefined {
  const i = rawCode.search(new RegExp(`--[ \\t]*${name}:(begin|end)`));
  return i < 0 ? undefined : rawCode.slice(0, i).split('\n').length;
}
