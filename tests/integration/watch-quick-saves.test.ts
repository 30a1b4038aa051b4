import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { watch, type RebuildReport } from '../../src/api/watch.js';
import { projectYml, removeProjects, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

// chokidar drops a change that lands right after one it reported; kiln must still rebuild it.
it('a model saved again right after a rebuild is rebuilt with the new SQL', async () => {
  const dir = writeProject({
    'project.yml': projectYml('quick'),
    'models/base.sql': "{{ config(materialized='table') }}\nSELECT number AS id FROM numbers(10)\n",
    'models/dim.sql': "{{ config(materialized='table') }}\nSELECT id, id * 2 AS v FROM {{ ref('base') }}\n",
  });
  let resolveNext: ((r: RebuildReport | Error) => void) | undefined;
  const session = await watch({
    projectDir: dir,
    debounceMs: 10,
    onRebuild: (r) => resolveNext?.(r),
    onError: (e) => resolveNext?.(e as Error),
  });
  try {
    for (const factor of [3, 4, 5, 6]) {
      const next = new Promise<RebuildReport | Error>((r) => (resolveNext = r));
      // Saved the moment the previous rebuild reported, as an editor's autosave can.
      writeFileSync(join(dir, 'models/dim.sql'), `{{ config(materialized='table') }}\nSELECT id, id * ${factor} AS v FROM {{ ref('base') }}\n`);
      const report = await Promise.race([next, new Promise<Error>((r) => setTimeout(() => r(new Error(`no rebuild after saving factor ${factor}`)), 15_000))]);
      if (report instanceof Error) throw report;
      expect(report.rebuilt).toContain('dim');
      expect(report.results.find((x) => x.unique_id === 'model.quick.dim')?.status).toBe('success');
    }
  } finally {
    await session.close();
  }
}, 90_000);
