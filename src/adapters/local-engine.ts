import { Readable } from 'node:stream';
import { Session } from 'chdb';
import { SqlError } from './sql-error.js';
import { withSettings } from './ddl.js';

/**
 * ClickHouse on this machine for a process whose target is a server: it reads local files (schema
 * inference, dumps, JSON lines, CSV) so parsing stays in ClickHouse even when the server is too
 * old to do it, and streams the rows on. chdb allows one engine per process and refuses its
 * stateless API while a Session is open, so every user shares one temporary Session.
 */
let shared: { session: Session; users: number; turn: Promise<void> } | null = null;

/** One statement at a time: a chdb Session runs one stream at once, and steps run in parallel. */
async function exclusive(): Promise<() => void> {
  const state = shared!;
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const before = state.turn;
  state.turn = before.then(() => mine);
  await before;
  return release;
}

export class LocalEngine {
  private released = false;

  private constructor(private readonly session: Session) {}

  static acquire(): LocalEngine {
    if (!shared) shared = { session: new Session(), users: 0, turn: Promise.resolve() };
    shared.users++;
    return new LocalEngine(shared.session);
  }

  async query<T>(sql: string, settings?: ExecSettings): Promise<T[]> {
    const text = withSettings(sql, settings);
    const release = await exclusive();
    try {
      const r = await this.session.queryAsync(text, { format: 'JSONEachRow' });
      const out = r.text();
      return out ? out.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T) : [];
    } catch (err) {
      throw new SqlError((err as Error).message, (err as { clickhouseCode?: number }).clickhouseCode, sql, err);
    } finally {
      release();
    }
  }

  /**
   * The result of a SELECT as a byte stream in `format`, produced block by block (small blocks:
   * memory stays flat whatever the file size).
   */
  stream(sql: string, format: string, settings?: ExecSettings): Readable {
    const text = withSettings(sql, { max_block_size: 8192, ...settings });
    const session = this.session;
    async function* chunks(): AsyncGenerator<Buffer> {
      const release = await exclusive();
      try {
        const stream = session.queryStream(text, { format });
        for await (const chunk of stream) yield Buffer.from(chunk.raw());
      } catch (err) {
        throw new SqlError((err as Error).message, (err as { clickhouseCode?: number }).clickhouseCode, sql, err);
      } finally {
        // Also runs when the consumer stops early (the generator is returned).
        release();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  release(): void {
    if (this.released || !shared) return;
    this.released = true;
    if (--shared.users === 0) {
      shared.session.close();
      shared = null;
    }
  }
}

export type ExecSettings = Readonly<Record<string, string | number | boolean>>;
