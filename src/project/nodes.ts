import type { SourceLocation } from '../errors.js';
import type { ColumnSpec, NodeConfig } from './types.js';
import type { YamlFile } from './yaml-file.js';

/** Nodes as read from the project's files, before templates are rendered. */

interface BaseNode {
  readonly uniqueId: string;
  readonly name: string;
  /** Project-relative, `/`-separated. */
  readonly originalFilePath: string;
  readonly fqn: readonly string[];
  readonly description: string;
  readonly columns: readonly ColumnSpec[];
  /** Model-level `data_tests:` entries as written. */
  readonly dataTests: readonly unknown[];
  readonly meta: Readonly<Record<string, unknown>>;
  /** Where the YAML properties for this node were declared, if anywhere. */
  readonly patch?: SourceLocation;
  /** The package (packages.yml) that defines it; undefined for the root project's own. */
  readonly packageName?: string;
}

/** A model, or a snapshot (SCD2 history of a query): both are SQL that renders and is ref()-able. */
export interface ModelNode extends BaseNode {
  readonly resourceType: 'model' | 'snapshot';
  readonly rawCode: string;
  /** Folder + properties config; `config()` calls in the SQL are applied at render time. */
  readonly config: NodeConfig;
}

export interface SeedNode extends BaseNode {
  readonly resourceType: 'seed';
  readonly absPath: string;
  /** sha256 of the file's bytes, read with the project. */
  readonly checksum: string;
  /** The CSV header's column names. */
  readonly header: readonly string[];
  readonly config: NodeConfig;
}

export interface SourceNode extends BaseNode {
  readonly resourceType: 'source';
  readonly sourceName: string;
  readonly tableName: string;
  /** The raw table name: `<source>__<table>` unless `identifier` overrides it. */
  readonly identifier: string;
  readonly loader: string | undefined;
  /** Source-level and table-level YAML merged (loader options, freshness, max_rejected, …). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly config: NodeConfig;
}

export type ParsedNode = ModelNode | SeedNode | SourceNode;

/**
 * A `loader: mysql` source declared without `tables:`: every table of its database (or dump).
 * Which tables exist is only known with the database, so compile makes a SourceNode for each
 * table a model or test reads (`wholeDatabaseTable`), and staging lists the others.
 */
export interface WholeDatabaseSource {
  readonly sourceName: string;
  /** The source's YAML options, rendered (loader, connection or dump, max_rejected, …). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly originalFilePath: string;
  /** Where the source is declared. */
  readonly patch: SourceLocation;
  readonly description: string;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly config: NodeConfig;
}

/** The database a source table loads into: its `database:` option, else the target's raw database. */
export function sourceDatabase(node: SourceNode, rawDatabase: string): string {
  return typeof node.options.database === 'string' ? node.options.database : rawDatabase;
}

/** The node of one table of a whole-database source: named and loaded like a declared table. */
export function wholeDatabaseTable(projectName: string, source: WholeDatabaseSource, table: string): SourceNode {
  return {
    resourceType: 'source',
    uniqueId: uniqueIds.source(projectName, source.sourceName, table),
    name: table,
    sourceName: source.sourceName,
    tableName: table,
    identifier: `${source.sourceName}__${table}`,
    loader: 'mysql',
    options: source.options,
    originalFilePath: source.originalFilePath,
    fqn: [projectName, source.sourceName, table],
    description: source.description,
    columns: [],
    dataTests: [],
    meta: source.meta,
    config: source.config,
    patch: source.patch,
  };
}

export interface MacroFile {
  readonly path: string;
  readonly source: string;
  /** The package that defines it (its macros live under that name); undefined for the root project's and kiln's own. */
  readonly package?: string;
}

/** A singular data test: a query returning failing rows (`tests/data/*.sql`). */
export interface SingularTestFile {
  readonly name: string;
  readonly path: string;
  readonly rawCode: string;
  readonly fqn: readonly string[];
}

export interface UnitTestSpec {
  readonly name: string;
  readonly model: string;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly location: SourceLocation;
}

/** Everything `project/` reads from disk. */
export interface ParsedProject {
  readonly models: readonly ModelNode[];
  readonly seeds: readonly SeedNode[];
  /** Declared source tables; after compile also the tables read from whole-database sources. */
  readonly sources: readonly SourceNode[];
  readonly wholeDatabaseSources: readonly WholeDatabaseSource[];
  readonly macros: readonly MacroFile[];
  readonly singularTests: readonly SingularTestFile[];
  readonly unitTests: readonly UnitTestSpec[];
  /** Every properties file as parsed, by project-relative path: later stages point at their lines. */
  readonly propertyFiles: ReadonlyMap<string, YamlFile>;
}

/**
 * `source('s', 't')` → the source table's unique id: a package's own source has its package's
 * name in it; one no file declares (a table of a whole-database source) is the root project's.
 */
export function sourceIdLookup(sources: readonly SourceNode[], rootName: string): (source: string, table: string) => string {
  const ids = new Map<string, string>();
  for (const s of sources) if (!ids.has(`${s.sourceName}.${s.tableName}`)) ids.set(`${s.sourceName}.${s.tableName}`, s.uniqueId);
  return (source, table) => ids.get(`${source}.${table}`) ?? uniqueIds.source(rootName, source, table);
}

export const uniqueIds = {
  model: (project: string, name: string) => `model.${project}.${name}`,
  seed: (project: string, name: string) => `seed.${project}.${name}`,
  snapshot: (project: string, name: string) => `snapshot.${project}.${name}`,
  source: (project: string, source: string, table: string) => `source.${project}.${source}.${table}`,
  test: (project: string, name: string) => `test.${project}.${name}`,
  unitTest: (project: string, model: string, name: string) => `unit_test.${project}.${model}.${name}`,
};
