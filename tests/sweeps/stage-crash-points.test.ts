import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { ALL_SWEEPS, crashSweep, embeddedView, withoutRefreshMarks, reportSweep, CSV_SWEEP } from '../helpers/crash-sweep.js';

const embedded = (dir: string) => embeddedView(join(dir, '.kiln/dev'));
import { projectYml, removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

/**
 * Crash-point sweeps of `kiln stage` on the embedded engine (issue 12): every statement of the
 * command is a crash point; after each, the rerun must leave the clean run's warehouse (raw rows,
 * quarantine exactly once, ledger, no scratch table). The data holds a malformed record, so the
 * quarantine is swept too.
 */

const { sources: CSV_SOURCES, xOld: X_OLD, xNew: X_NEW } = CSV_SWEEP;
const Y = 'id,name\n9,zed\n';

/** A CSV source over data/x.csv (with a malformed record) and, with `two`, data/y.csv. */
const csvProject = (two = true) =>
  writeProject({ 'project.yml': projectYml('sweep'), 'sources.yml': CSV_SOURCES, 'data/x.csv': X_OLD, ...(two ? { 'data/y.csv': Y } : {}) });

async function staged(dir: string, args: readonly string[] = ['stage', '--threads', '1']): Promise<string> {
  const r = await runKiln(dir, args);
  if (r.code !== 0) throw new Error(`kiln ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return dir;
}


/** The names in raw.s__t of the file x.csv, sorted: what a reader sees of that file. */
async function namesOfX(dir: string): Promise<string> {
  const view = await embeddedView(join(dir, '.kiln/dev'));
  const rows = (view['raw.s__t'] ?? []).map((r) => Object.fromEntries(JSON.parse(r) as Array<[string, unknown]>));
  return rows
    .filter((r) => String(r._kiln_file).endsWith('/data/x.csv'))
    .map((r) => String(r.name))
    .sort()
    .join(',');
}

describe('crash-point sweeps of kiln stage (embedded)', () => {
  it('csv, first load of two files with a malformed record', async () => {
    const sweep = await crashSweep({ prepare: async () => csvProject(), args: ['stage', '--threads', '1'] });
    reportSweep('stage csv (first load)', sweep, 10);
  });

  it('csv, reload of a changed file: a reader sees its old rows or its new rows, never neither', async () => {
    const sweep = await crashSweep({
      prepare: async () => {
        const dir = await staged(csvProject());
        writeFileSync(join(dir, 'data/x.csv'), X_NEW);
        return dir;
      },
      args: ['stage', '--threads', '1'],
      afterCrash: async (dir) => {
        const seen = await namesOfX(dir);
        return seen === 'ann,cy' || seen === 'ann,cy,dee' ? null : `raw.s__t holds x.csv as [${seen}], neither its old nor its new rows`;
      },
    });
    reportSweep('stage csv (reload of a changed file)', sweep, 8);
  });

  it('jsonl, first load with a malformed line', async () => {
    const sweep = await crashSweep({
      prepare: async () =>
        writeProject({
          'project.yml': projectYml('sweep'),
          'sources.yml': `sources:
  - name: ev
    loader: jsonl
    tables:
      - name: t
        path: logs/*.jsonl
        columns: [{ name: id, type: UInt32 }, { name: what, type: String }]
`,
          'logs/a.jsonl': '{"id": 1, "what": "a"}\n{oops\n{"id": 2, "what": "b"}\n',
        }),
      args: ['stage', '--threads', '1'],
    });
    reportSweep('stage jsonl', sweep, 8);
  });

  it.skipIf(!ALL_SWEEPS)('--full-refresh, rerun the same (KILN_SWEEPS=all)', async () => {
    const sweep = await crashSweep({
      prepare: async () => {
        const dir = await staged(csvProject(false));
        writeFileSync(join(dir, 'data/x.csv'), X_NEW);
        return dir;
      },
      args: ['stage', '--full-refresh', '--threads', '1'],
    });
    reportSweep('stage --full-refresh', sweep, 10);
  });

  it('--full-refresh killed, then a plain kiln stage: no row or reject twice', async () => {
    const sweep = await crashSweep({
      prepare: async () => staged(csvProject(false)),
      args: ['stage', '--full-refresh', '--threads', '1'],
      rerun: ['stage', '--threads', '1'],
      view: withoutRefreshMarks(embedded),
    });
    reportSweep('stage --full-refresh, rerun plain stage', sweep, 10);
  });

  it.skipIf(!ALL_SWEEPS)('--prune of a vanished file (KILN_SWEEPS=all)', async () => {
    const sweep = await crashSweep({
      prepare: async () => {
        const dir = await staged(csvProject());
        rmSync(join(dir, 'data/x.csv'));
        return dir;
      },
      args: ['stage', '--prune', '--threads', '1'],
    });
    reportSweep('stage --prune', sweep, 4);
  });
});
