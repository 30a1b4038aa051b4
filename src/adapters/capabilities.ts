/**
 * What a ClickHouse version can do. Derived once from `SELECT version()`; code asks a flag,
 * never compares versions in place.
 */
export interface Capabilities {
  /** `EXCHANGE TABLES a AND b` (Atomic databases, 21.x+ by default). */
  readonly exchangeTables: boolean;
  /** `CREATE OR REPLACE VIEW`. */
  readonly createOrReplaceView: boolean;
  /** `DELETE FROM t WHERE …` (lightweight delete, 23.3+). */
  readonly lightweightDelete: boolean;
  /** `{name:Type}` query parameters. */
  readonly queryParameters: boolean;
  /** The `MySQLDump` input format (22.x+). */
  readonly mysqlDumpFormat: boolean;
  /** `WITH name AS (SELECT …)` common table expressions. */
  readonly ctes: boolean;
  /** Schema inference for file() and input formats. */
  readonly schemaInference: boolean;
  /** `insert_deduplication_token` setting. */
  readonly insertDeduplicationToken: boolean;
  /** The `Bool` data type. */
  readonly bool: boolean;
  /**
   * `mysql()` keeps MySQL NULLs (external_table_functions_use_nulls). Older servers turn them into
   * defaults and DECIMAL into String, so staging pulls MySQL through the local engine instead.
   */
  readonly mysqlTableNulls: boolean;
  /**
   * What staging's JSON-lines checks use: `JSONExtract`, `JSONType`, `isValidJSON`,
   * `isValidUTF8`, `accurateCastOrNull`, `cast_string_to_date_time_mode`. Without them a server
   * checks streamed lines with `visitParam*` functions and a regular expression.
   */
  readonly jsonFunctions: boolean;
  /**
   * `LowCardinality` is a stable type (19.3+). Before, creating a table or view with one needs
   * `allow_experimental_low_cardinality_type`, which the adapter then sends with every statement.
   */
  readonly stableLowCardinality: boolean;
  /**
   * `CREATE TABLE … EMPTY AS SELECT`: a table from a query without running it, also in a Memory
   * database (validation's shadow, kept off disk). The floor is conservative: below it the
   * shadow is an ordinary database whose inputs are empty, which checks the same, only slower.
   */
  readonly emptyAsSelect: boolean;
  /** `EXPLAIN AST <statement>`: parses without running (20.6+). Hooks are parse-checked with it. */
  readonly explainAst: boolean;
  /**
   * `ALTER TABLE <materialized view> MODIFY QUERY`: a materialized view's SELECT changes in one
   * statement, with no moment where inserts into its source go unseen. Without it (18.16) a
   * changed view is dropped and created again around a rebuild of its target.
   */
  readonly alterMaterializedViewQuery: boolean;
  /** Per-column `CODEC(…)` (19.1+). */
  readonly columnCodecs: boolean;
  /** `TTL` on columns and tables (19.6+). */
  readonly ttl: boolean;
  /** Data-skipping `INDEX … TYPE … GRANULARITY` in CREATE TABLE (19.3+; see stableSkippingIndexes). */
  readonly skippingIndexes: boolean;
  /**
   * Skipping indexes are no longer experimental (20.1+). Before, creating one needs
   * `allow_experimental_data_skipping_indices`, which the adapter then sends with every statement.
   */
  readonly stableSkippingIndexes: boolean;
  /** `CONSTRAINT name CHECK expr` in CREATE TABLE (19.14+ here). */
  readonly checkConstraints: boolean;
  /** `PROJECTION name (query)` in CREATE TABLE (21.6+). */
  readonly projections: boolean;
}

/**
 * The first version kiln uses for a table option, for "needs ClickHouse N" messages; the
 * capability flags above are derived from the same numbers, so the two cannot disagree.
 * Each is the release whose changelog (docs/en/whats-new/changelog/2019.md and 2021.md of
 * ClickHouse/ClickHouse) first lists the feature; 18.16.1 refuses all five (checked on Debian's
 * build: CODEC, TTL, INDEX and CHECK are syntax errors, allow_experimental_data_skipping_indices
 * an unknown setting):
 * - codecs: 19.1.6, "Custom per column compression codecs for tables" (#3899);
 * - ttl: 19.6.2.11, "TTL expressions for columns and tables" (#4212);
 * - skipping indexes: 19.3.3, experimental `minmax` and `set` indices (#4143), behind
 *   allow_experimental_data_skipping_indices until 20.1 (stableSkippingIndexes); the
 *   bloom_filter family came in 19.5.2.6 (#4499), and an older server names an unknown type itself;
 * - check constraints: 19.14.3.3, "Table constraints … checked at insert" (#5273);
 * - projections: 21.6, merged in May 2021 behind an experimental flag (#20202; production-ready
 *   and used by queries by default from 22.2, per the 22.2 release post).
 */
export const TABLE_OPTION_SINCE = {
  columnCodecs: [19, 1],
  ttl: [19, 6],
  skippingIndexes: [19, 3],
  checkConstraints: [19, 14],
  projections: [21, 6],
} as const satisfies Record<string, readonly [number, number]>;

/** How ephemeral models are inlined: CTEs (the manifest's form) or subqueries (servers without CTEs). */
export type EphemeralStyle = 'cte' | 'subquery';

export function parseVersion(version: string): [number, number] {
  const [major = 0, minor = 0] = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  return [major, minor];
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [ma, mi] = parseVersion(version);
  return ma > major || (ma === major && mi >= minor);
}

export function capabilitiesFor(version: string): Capabilities {
  return {
    exchangeTables: atLeast(version, 21, 1),
    createOrReplaceView: atLeast(version, 20, 8),
    lightweightDelete: atLeast(version, 23, 3),
    queryParameters: atLeast(version, 19, 11),
    mysqlDumpFormat: atLeast(version, 22, 10),
    ctes: atLeast(version, 20, 10),
    schemaInference: atLeast(version, 22, 1),
    insertDeduplicationToken: atLeast(version, 22, 2),
    bool: atLeast(version, 21, 12),
    mysqlTableNulls: atLeast(version, 20, 4),
    jsonFunctions: atLeast(version, 23, 3),
    stableLowCardinality: atLeast(version, 19, 3),
    emptyAsSelect: atLeast(version, 24, 1),
    explainAst: atLeast(version, 20, 6),
    alterMaterializedViewQuery: atLeast(version, 21, 12),
    columnCodecs: atLeast(version, ...TABLE_OPTION_SINCE.columnCodecs),
    ttl: atLeast(version, ...TABLE_OPTION_SINCE.ttl),
    skippingIndexes: atLeast(version, ...TABLE_OPTION_SINCE.skippingIndexes),
    stableSkippingIndexes: atLeast(version, 20, 1),
    checkConstraints: atLeast(version, ...TABLE_OPTION_SINCE.checkConstraints),
    projections: atLeast(version, ...TABLE_OPTION_SINCE.projections),
  };
}
