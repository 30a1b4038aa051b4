import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import type { Relation } from '../adapters/ddl.js';
import * as sql from '../adapters/staging-sql.js';
import type { FileTable } from './source-options.js';
import { dropQuietly, scratchRelation, type StageContext } from './stage-context.js';
import { LineRowsTsv, TagJsonLines, type LineGaps } from './line-rows.js';

/**
 * JSON lines into a server without the local engine: the file's bytes stream to the server,
 * which parses them. Pass one sends each line tagged with its number to the server's JSONEachRow
 * reader, skipping what it cannot read; when rows are missing, pass two sends just those lines
 * as text, and SQL checks them into rows or rejects (`jsonlLinesRead`). A clean file is read once.
 */
export class JsonlStream {
  private readonly tagged: Relation;
  private readonly lines: Relation;
  private readonly views: Relation[];

  constructor(
    private readonly ctx: StageContext,
    private readonly table: FileTable,
    private readonly rows: Relation,
    private readonly rejects: Relation,
  ) {
    const r = (role: string) => scratchRelation(table.relation, ctx.runId, role);
    this.tagged = r('tagged');
    this.lines = r('lines');
    this.views = ['mvtagged', 'mvlinerows', 'mvlinerejects'].map(r);
  }

  /** Whether this path can load the table into this adapter's server. */
  static fits(ctx: StageContext, table: FileTable): boolean {
    const { adapter } = ctx;
    return table.loader === 'jsonl' && adapter.driver.kind !== 'embedded' && (adapter.capabilities.jsonFunctions || sql.liteJsonlColumns(table.columns));
  }

  get scratch(): Relation[] {
    return [...this.views, this.tagged, this.lines];
  }

  async create(): Promise<void> {
    const { adapter } = this.ctx;
    const d = adapter.ddl;
    if (this.table.columns) await adapter.execute(sql.createNullTable(d, this.tagged, sql.taggedIntakeColumns(this.table.columns)));
    await adapter.execute(sql.createNullTable(d, this.lines, sql.LINE_COLUMNS));
  }

  /** Loads one file into the rows and rejects tables (empty before). */
  async load(file: string): Promise<void> {
    const { adapter, stamp } = this.ctx;
    const d = adapter.ddl;
    const columns = this.table.columns;
    let gaps: LineGaps = null;
    if (columns) {
      const taggedView = this.views[0]!;
      await adapter.execute(sql.routeTaggedRows(d, taggedView, this.tagged, this.rows, columns, stamp, file));
      const tag = new TagJsonLines();
      try {
        await adapter.insertStream(this.tagged, fileThrough(file, tag), 'JSONEachRow', { settings: sql.TAGGED_JSON_SETTINGS });
      } finally {
        await dropQuietly(adapter, taggedView);
      }
      const r = await adapter.query<{ n: string | number; lines: string | number; strays: string | number }>(sql.lineCounts(this.rows));
      const [n, lines, strays] = [Number(r.rows[0]?.n ?? 0), Number(r.rows[0]?.lines ?? 0), Number(r.rows[0]?.strays ?? 0)];
      if (strays > 0 || n !== lines) {
        await adapter.execute(sql.truncate(d, this.rows));
      } else if (n === tag.records) {
        return;
      } else {
        const g = await adapter.query<{ gaps: Array<[string | number, string | number]> }>(sql.lineGaps(this.rows, tag.lastLine));
        gaps = (g.rows[0]?.gaps ?? []).map(([a, b]) => [Number(a), Number(b)] as const);
      }
    }
    const read = sql.jsonlLinesRead(this.lines, columns, adapter.capabilities.jsonFunctions);
    const [, rowsView, rejectsView] = this.views as [Relation, Relation, Relation];
    await adapter.execute(sql.routeLineRows(d, rowsView, this.rows, read, stamp, file));
    await adapter.execute(sql.routeLineRejects(d, rejectsView, this.rejects, read, stamp, file, this.table.sourceName, this.table.tableName));
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
