import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import type { Relation } from '../adapters/ddl.js';
import * as fileSql from '../adapters/file-read-sql.js';
import * as sql from '../adapters/staging-sql.js';
import type { FileTable } from './source-options.js';
import { dropQuietly, scratchRelation, type StageContext } from './stage-context.js';
import { LineRowsTsv, TagJsonLines, type LineGaps } from './line-rows.js';

/**
 * JSON lines into a server without the local engine: the file's bytes stream to the server,
 * which parses them. Pass one sends each line tagged with its number to the server's JSONEachRow
 * reader, straight into the rows table, skipping what it cannot read; when rows are missing, pass
 * two sends just those lines as text, and SQL checks them into rows or rejects
 * (`jsonlLinesRead`). A clean file is read once.
 */
export class JsonlStream {
  private readonly tagged: Relation | null;
  private readonly lines: Relation;
  private readonly views: [Relation, Relation, Relation];

  constructor(
    private readonly ctx: StageContext,
    private readonly table: FileTable,
    private readonly rows: Relation,
    private readonly rejects: Relation,
    /** The rows table's columns, as the server has them. */
    private readonly target: readonly sql.StagedColumn[],
  ) {
    const r = (role: string) => scratchRelation(table.relation, ctx.runId, role);
    // Narrow integers go through an intake table that keeps them from wrapping around.
    this.tagged = table.columns && fileSql.hasNarrowInts(table.columns) ? r('tagged') : null;
    this.lines = r('lines');
    this.views = [r('mvtagged'), r('mvlinerows'), r('mvlinerejects')];
  }

  /** Whether this path can load the table into this adapter's server. */
  static fits(ctx: StageContext, table: FileTable): boolean {
    const { adapter } = ctx;
    return table.loader === 'jsonl' && adapter.driver.kind !== 'embedded' && (adapter.capabilities.jsonFunctions || fileSql.liteJsonlColumns(table.columns));
  }

  get scratch(): Relation[] {
    return [...this.views, ...(this.tagged ? [this.tagged] : []), this.lines];
  }

  async create(): Promise<void> {
    const { adapter } = this.ctx;
    const d = adapter.ddl;
    const lineType = this.target.find((c) => c.name === '_kiln_line')!.type;
    if (this.tagged) await adapter.execute(sql.createNullTable(d, this.tagged, fileSql.taggedIntakeColumns(this.table.columns!, lineType)));
    await adapter.execute(sql.createNullTable(d, this.lines, fileSql.lineColumns(lineType)));
  }

  /** Loads one file into the rows and rejects tables (empty before). */
  async load(file: string): Promise<void> {
    const { adapter, stamp } = this.ctx;
    const d = adapter.ddl;
    const columns = this.table.columns;
    const [taggedView, rowsView, rejectsView] = this.views;
    let gaps: LineGaps = null;
    if (columns) {
      const tag = new TagJsonLines();
      const body = fileThrough(file, tag);
      const settings = fileSql.TAGGED_JSON_SETTINGS;
      if (!this.tagged) {
        await adapter.insertStream(this.rows, body, 'JSONEachRow', { settings, columns: [...columns.map((c) => c.name), '_kiln_line'] });
      } else {
        await adapter.execute(fileSql.routeTaggedRows(d, taggedView, this.tagged, this.rows, this.target, columns, stamp, file));
        try {
          await adapter.insertStream(this.tagged, body, 'JSONEachRow', { settings });
        } finally {
          await dropQuietly(adapter, taggedView);
        }
      }
      const r = await adapter.query<{ n: string | number; strays: string | number }>(fileSql.lineCounts(this.rows));
      const [n, strays] = [Number(r.rows[0]?.n ?? 0), Number(r.rows[0]?.strays ?? 0)];
      if (strays > 0) {
        await adapter.execute(sql.truncate(d, this.rows));
      } else if (n === tag.records) {
        return;
      } else {
        const g = await adapter.query<{ gaps: Array<[string | number, string | number]> }>(fileSql.lineGaps(this.rows, tag.lastLine));
        gaps = (g.rows[0]?.gaps ?? []).map(([a, b]) => [Number(a), Number(b)] as const);
      }
    }
    const read = fileSql.jsonlLinesRead(this.lines, columns, adapter.capabilities.jsonFunctions);
    await adapter.execute(fileSql.routeLineRows(d, rowsView, this.rows, this.target, read, stamp, file));
    await adapter.execute(fileSql.routeLineRejects(d, rejectsView, this.rejects, read, stamp, file, this.table.sourceName, this.table.tableName));
    try {
      await adapter.insertStream(this.lines, fileThrough(file, new LineRowsTsv(gaps)), 'TabSeparated', { settings: read.settings });
    } finally {
      await dropQuietly(adapter, rowsView);
      await dropQuietly(adapter, rejectsView);
    }
  }
}

/** The file's bytes through a transform; a read error fails the request that consumes it. */
function fileThrough(file: string, transform: TagJsonLines | LineRowsTsv): Readable {
  return pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), transform, () => undefined);
}
