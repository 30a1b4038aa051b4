import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allOutput, KILN_BIN, REPO_ROOT, removeProjects, runKiln, writeFiles } from '../helpers/kiln-cli.js';
import { runStage, stageProject } from '../helpers/stage-project.js';
import { queryTarget, withTarget } from '../helpers/warehouse.js';

afterAll(removeProjects);

const NOBODY = { uid: 65534, gid: 65534 };

/** Whether `user` can start kiln from this checkout: node, bin/kiln.js and dist/ readable along their whole paths. */
function canRunKilnAs(user: { uid: number; gid: number }): boolean {
  const probe = `for (const f of ${JSON.stringify([KILN_BIN, join(REPO_ROOT, 'dist/cli/kiln.bundle.js'), join(REPO_ROOT, 'node_modules/chdb/package.json')])}) require('fs').accessSync(f, require('fs').constants.R_OK)`;
  return spawnSync(process.execPath, ['-e', probe], { uid: user.uid, gid: user.gid, stdio: 'ignore' }).status === 0;
}

const jsonl = (extra = '') => `sources:
  - name: ev
    loader: jsonl
    tables:
      - name: t
        path: "logs/*.jsonl"
        columns: [{ name: id, type: UInt32 }, { name: s, type: String }]
${extra}`;

describe('staging bad input', () => {
  it('a glob matching nothing warns; with required: true the table fails (exit 1)', async () => {
    const dir = stageProject(jsonl());
    const { results, warnings } = await runStage(dir);
    expect(results[0]!.status).toBe('success');
    expect(warnings.some((w) => /ev\.t: .*logs\/\*\.jsonl matches no file/.test(w))).toBe(true);
    const strict = stageProject(jsonl().replace('path: "logs/*.jsonl"', 'path: "logs/*.jsonl"\n        required: true'));
    const r = await runKiln(strict, ['stage']);
    expect(r.code).toBe(1);
    expect(allOutput(r)).toMatch(/sources\.yml:5: source ev\.t: .*matches no file/);
  });

  it('an empty file loads nothing and warns; an unreadable one fails its table', async (ctx) => {
    const dir = stageProject(jsonl(), { 'logs/empty.jsonl': '', 'logs/ok.jsonl': '{"id":1,"s":"a"}\n' });
    const { results, warnings, infos } = await runStage(dir);
    expect(results[0]!.status).toBe('success');
    expect(infos).toEqual(['ev.t: 2 file(s) (0 unchanged), 1 row(s) loaded, 0 rejected']);
    expect(warnings.some((w) => /empty\.jsonl is empty/.test(w))).toBe(true);
    writeFiles(dir, { 'logs/secret.jsonl': '{"id":2}\n' });
    // Root reads a mode-000 file anyway: as root, kiln runs as `nobody` on a project nobody owns.
    const user = process.getuid?.() === 0 ? NOBODY : undefined;
    // nobody must reach this checkout (node, bin/kiln.js, node_modules): not so under a private folder such as /root.
    if (user && !canRunKilnAs(user)) {
      ctx.skip(`running as root, this case runs kiln as nobody, who cannot read ${KILN_BIN} (a parent folder is private): move the checkout or run as a normal user`);
    }
    if (user) for (const rel of ['', ...readdirSync(dir, { recursive: true, encoding: 'utf8' })]) chownSync(join(dir, rel), user.uid, user.gid);
    chmodSync(join(dir, 'logs/secret.jsonl'), 0o000);
    const again = await runKiln(dir, ['stage'], user ? { user } : {});
    expect(again.code, allOutput(again)).toBe(1);
    expect(allOutput(again)).toMatch(/cannot read .*secret\.jsonl: EACCES/);
  });

  it('rejects over max_rejected fail the table (exit 1); under it they only warn', async () => {
    const bad = '{"id":1,"s":"a"}\n{"id":"x"}\n{broken\n';
    const over = stageProject(jsonl().replace('path:', 'max_rejected: 1\n        path:'), { 'logs/a.jsonl': bad });
    const r = await runKiln(over, ['stage']);
    expect(r.code).toBe(1);
    expect(allOutput(r)).toContain('2 rejected record(s) exceed max_rejected 1');
    const fraction = stageProject(jsonl().replace('path:', 'max_rejected: 0.7\n        path:'), { 'logs/a.jsonl': bad });
    const ok = await runStage(fraction);
    expect(ok.results[0]!.status).toBe('success');
    expect(ok.warnings).toContain('ev.t: 2 record(s) rejected');
  });

  it('a file of 4 GiB or more into a raw table numbering lines as UInt32 fails, naming --full-refresh', async () => {
    const dir = stageProject(jsonl(), { 'logs/a.jsonl': '{"id":1,"s":"a"}\n' });
    expect((await runStage(dir)).results[0]!.status).toBe('success');
    // Sparse: the size is what counts (more lines than a UInt32 numbers need at least 4 GiB), no disk used.
    truncateSync(join(dir, 'logs/a.jsonl'), 2 ** 32);
    const r = await runKiln(dir, ['stage']);
    expect(r.code).toBe(1);
    expect(allOutput(r)).toMatch(/a\.jsonl: 4 GiB or more, it may hold more lines than `raw`\.`ev__t` numbers \(UInt32 _kiln_line\)/);
    expect(allOutput(r)).toContain('hint: run kiln stage --full-refresh');
    expect(await queryTarget(dir, `SELECT toTypeName(_kiln_line) AS type, count() AS n FROM raw.ev__t GROUP BY type`)).toEqual([{ type: 'UInt32', n: '1' }]);
  });

  it('a 64 MiB line loads whole', async () => {
    const big = 'x'.repeat(64 * 1024 * 1024);
    const dir = stageProject(jsonl(), { 'logs/big.jsonl': `{"id":1,"s":"${big}"}\n{"id":2,"s":"small"}\n` });
    const { results } = await runStage(dir);
    expect(results[0]!.status).toBe('success');
    expect(await queryTarget(dir, 'SELECT id, toUInt32(length(s)) AS n FROM raw.ev__t ORDER BY id')).toEqual([
      { id: 1, n: 64 * 1024 * 1024 },
      { id: 2, n: 5 },
    ]);
  });

  it('a load cut short (rows written, ledger still "started") is replaced on the next run: each row once', async () => {
    const dir = stageProject(jsonl(), { 'logs/a.jsonl': '{"id":1,"s":"a"}\n{"id":2,"s":"b"}\n' });
    await runStage(dir);
    // Leave the warehouse as a run killed after attaching the rows but before marking the file loaded.
    await withTarget(dir, async (a) => {
      await a.execute(`INSERT INTO raw.ev__t SELECT * FROM raw.ev__t`);
      await a.execute(`INSERT INTO raw._kiln_ledger SELECT source_name, table_name, file, size, fingerprint, 0, 0, 'started', 'killed', now(), seq + 1 FROM raw._kiln_ledger`);
    });
    expect(await queryTarget(dir, 'SELECT toString(count()) AS n FROM raw.ev__t')).toEqual([{ n: '4' }]);
    const { infos } = await runStage(dir);
    expect(infos).toEqual(['ev.t: 1 file(s) (0 unchanged), 2 row(s) loaded, 0 rejected']);
    expect(await queryTarget(dir, 'SELECT id FROM raw.ev__t ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('two sources colliding after <source>__<table> naming is exit 2', async () => {
    const dir = stageProject(`sources:
  - name: a__b
    loader: csv
    tables: [{ name: c, path: x.csv }]
  - name: a
    loader: csv
    tables: [{ name: b__c, path: y.csv }]
`);
    const r = await runKiln(dir, ['stage']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sources\.yml:\d+: source tables a__b\.c and a\.b__c would both load into raw\.a__b__c/);
  });
});
