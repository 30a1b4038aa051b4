import { cpSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allOutput, projectYml, removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

afterAll(removeProjects);

/** Staging exactly once (issue 12): files by identity, vanished files, relayout of old tables. */

const sources = (path: string) => `sources:
  - name: s
    loader: csv
    tables:
      - name: t
        path: "${path}"
`;
const X = 'id,name\n1,ann\n2,bob,extra\n3,cy\n';

const project = (path = 'data/*.csv', files: Record<string, string> = { 'data/x.csv': X }) =>
  writeProject({ 'project.yml': projectYml('once'), 'sources.yml': sources(path), ...files });

const warehouse = (dir: string) => join(dir, '.kiln/dev');
const rowsOf = (dir: string) => queryWarehouse<{ id: string; file: string }>(warehouse(dir), `SELECT id, replaceRegexpOne(_kiln_file, '.*/', '') AS file FROM raw.s__t ORDER BY id`);
const rejectsOf = (dir: string) => queryWarehouse<{ line: string }>(warehouse(dir), `SELECT toString(line) AS line FROM raw._kiln_quarantine ORDER BY line`);

async function stage(dir: string, ...flags: string[]) {
  const r = await runKiln(dir, ['stage', '--threads', '1', ...flags]);
  expect(r.code, allOutput(r)).toBe(0);
  return r;
}

describe('files by identity', () => {
  it('a symlink to an ancestor folder (a loop) and a second link to a file load the file once', async () => {
    const dir = project('data/**/*.csv');
    mkdirSync(join(dir, 'data/sub'));
    symlinkSync('..', join(dir, 'data/sub/up'));
    symlinkSync('../x.csv', join(dir, 'data/sub/alias.csv'));
    linkSync(join(dir, 'data/x.csv'), join(dir, 'data/y.csv'));
    const r = await stage(dir);
    expect(r.stdout).toContain('s.t: 1 file(s) (0 unchanged), 2 row(s) loaded, 1 rejected');
    expect((await rowsOf(dir)).map((x) => x.id)).toEqual(['1', '3']);
    expect(await rejectsOf(dir)).toEqual([{ line: '3' }]);
    // Found again by every path, it stays loaded once.
    const again = await stage(dir);
    expect(again.stdout).toContain('s.t: 1 file(s) (1 unchanged), 0 row(s) loaded, 0 rejected');
  });
});

describe('a file staged earlier that is gone', () => {
  it('warns with its row count; kiln stage --prune removes its rows, rejects and ledger entry', async () => {
    const dir = project('data/*.csv', { 'data/x.csv': X, 'data/y.csv': 'id,name\n9,zed\n' });
    await stage(dir);
    rmSync(join(dir, 'data/x.csv'));
    const warned = await stage(dir);
    expect(allOutput(warned)).toContain('source s.t: data/x.csv was staged (2 rows) but is gone; kiln stage --prune removes its rows');
    expect((await rowsOf(dir)).map((x) => x.id)).toEqual(['1', '3', '9']);

    const pruned = await stage(dir, '--prune');
    expect(allOutput(pruned)).not.toContain('but is gone');
    expect(await rowsOf(dir)).toEqual([{ id: '9', file: 'y.csv' }]);
    expect(await rejectsOf(dir)).toEqual([]);
    const after = await stage(dir);
    expect(allOutput(after)).not.toContain('but is gone');
    // Back again, it is loaded as a new file.
    writeFileSync(join(dir, 'data/x.csv'), X);
    const back = await stage(dir);
    expect(back.stdout).toContain('s.t: 2 file(s) (1 unchanged), 2 row(s) loaded, 1 rejected');
    expect((await rowsOf(dir)).map((x) => x.id)).toEqual(['1', '3', '9']);
  });
});

describe('a full refresh killed part-way', () => {
  // The forgetting happens in the first statements of the refresh (the full sweep, each point
  // rerun both ways, is tests/sweeps/stage-crash-points.test.ts); 14 covers them with room for more
  // statements before them.
  const POINTS = 14;
  it('is finished by the next plain kiln stage: every row and reject once, at every kill point', { timeout: 900_000 }, async () => {
    const dir = project();
    await stage(dir);
    cpSync(join(dir, '.kiln'), join(dir, '.kiln-start'), { recursive: true });
    for (let point = 1; point <= POINTS; point++) {
      rmSync(join(dir, '.kiln'), { recursive: true, force: true });
      cpSync(join(dir, '.kiln-start'), join(dir, '.kiln'), { recursive: true });
      const killed = await runKiln(dir, ['stage', '--full-refresh', '--threads', '1'], { env: { KILN_CRASH_AFTER: String(point) } });
      await stage(dir);
      const seen = await queryWarehouse<{ ids: string[]; lines: string[] }>(
        warehouse(dir),
        'SELECT (SELECT arraySort(groupArray(id)) FROM raw.s__t) AS ids, (SELECT arraySort(groupArray(toString(line))) FROM raw._kiln_quarantine) AS lines',
      );
      expect(seen, `killed after statement ${point}`).toEqual([{ ids: ['1', '3'], lines: ['3'] }]);
      if (killed.signal !== 'SIGKILL' && killed.code !== 137) break;
    }
  });
});

describe('tables from before per-file partitions', () => {
  it('are rebuilt partitioned, keeping their rows; a changed file then replaces its rows once', async () => {
    const dir = project();
    const w = warehouse(dir);
    await queryWarehouse(w, 'CREATE DATABASE IF NOT EXISTS raw');
    await queryWarehouse(
      w,
      "CREATE TABLE raw.s__t (id String, name String, _kiln_load_id LowCardinality(String), _kiln_loaded_at DateTime('UTC'), _kiln_file LowCardinality(String), _kiln_line UInt32) ENGINE = MergeTree ORDER BY tuple()",
    );
    await queryWarehouse(
      w,
      "CREATE TABLE raw._kiln_quarantine (source_name String, table_name String, file String, line UInt64, raw String, reason String, _kiln_load_id String, _kiln_loaded_at DateTime('UTC')) ENGINE = MergeTree ORDER BY tuple()",
    );
    const file = join(dir, 'data/x.csv');
    await queryWarehouse(w, `INSERT INTO raw.s__t VALUES ('1', 'old', 'l0', now(), '${file}', 2), ('7', 'other', 'l0', now(), '/elsewhere/z.csv', 2)`);
    await queryWarehouse(w, `INSERT INTO raw._kiln_quarantine VALUES ('s', 't', '${file}', 5, 'x', 'bad', 'l0', now())`);
    await stage(dir);
    const keys = await queryWarehouse<{ name: string; key: string }>(w, `SELECT name, partition_key AS key FROM system.tables WHERE database = 'raw' ORDER BY name`);
    expect(keys).toEqual([
      { name: '_kiln_ledger', key: '' },
      { name: '_kiln_quarantine', key: '(source_name, table_name, file)' },
      { name: 's__t', key: '_kiln_file' },
    ]);
    // The file had no ledger entry, so it loaded as new and replaced what the table held of it.
    expect(await rowsOf(dir)).toEqual([
      { id: '1', file: 'x.csv' },
      { id: '3', file: 'x.csv' },
      { id: '7', file: 'z.csv' },
    ]);
    expect(await rejectsOf(dir)).toEqual([{ line: '3' }]);
  });
});
