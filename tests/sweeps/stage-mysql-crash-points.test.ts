import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, it } from 'vitest';
import { describeWithMariaDb, type MariaDbServer } from '../harness/mariadb.js';
import { ALL_SWEEPS, crashSweep, embeddedView, withoutRefreshMarks, reportSweep } from '../helpers/crash-sweep.js';
import { projectYml, removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';

/**
 * Crash-point sweeps of `kiln stage` from MySQL (live tables and a dump) on the embedded engine:
 * a file of its own so the two test workers share the sweeps (stage-crash-points.test.ts has the
 * file sources).
 */
afterAll(removeProjects);

const embedded = (dir: string) => embeddedView(join(dir, '.kiln/dev'));


const MYSQL_SOURCES = (how: string) => `sources:
  - name: app
    loader: mysql
${how}
    tables:
      - name: users
      - name: orders
        incremental_key: id
`;
const LIVE = `    connection: { host: "{{ env_var('MYSQL_HOST', '') }}", port: "{{ env_var('MYSQL_PORT', '3306') }}", database: app,
                  user: "{{ env_var('MYSQL_USER', '') }}", password: "{{ env_var('MYSQL_PASSWORD', '') }}" }`;

// The MariaDB suite's own timeout (its describe's) is a server test's; a sweep runs kiln dozens of times.
const SWEEP_TIMEOUT = 1_800_000;

describeWithMariaDb('crash-point sweeps of kiln stage from MySQL (embedded)', (getServer) => {
  let ready = false;
  const env = () => {
    const s = getServer();
    return { MYSQL_HOST: s.host, MYSQL_PORT: String(s.port), MYSQL_USER: s.user, MYSQL_PASSWORD: s.password };
  };
  async function fill(s: MariaDbServer): Promise<void> {
    if (ready) return;
    await s.query(
      `CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), born DATE NULL);
       INSERT INTO users VALUES (1, 'ann', '1990-01-02'), (2, 'bob', NULL);
       CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, total DECIMAL(8,2));
       INSERT INTO orders VALUES (10, 1, 9.50), (11, 2, 3.25), (12, 1, 1.00);`,
      s.database,
    );
    ready = true;
  }

  it('live tables (mysql()), one whole and one incremental', { timeout: SWEEP_TIMEOUT }, async () => {
    const s = getServer();
    await fill(s);
    const sweep = await crashSweep({
      prepare: async () => writeProject({ 'project.yml': projectYml('sweep'), 'sources.yml': MYSQL_SOURCES(LIVE) }),
      args: ['stage', '--threads', '1'],
      env: env(),
    });
    reportSweep('stage mysql live', sweep, 8);
  });

  it.skipIf(!ALL_SWEEPS)('live tables, --full-refresh killed then a plain kiln stage (KILN_SWEEPS=all)', { timeout: SWEEP_TIMEOUT }, async () => {
    const s = getServer();
    await fill(s);
    const sweep = await crashSweep({
      prepare: async () => {
        const dir = writeProject({ 'project.yml': projectYml('sweep'), 'sources.yml': MYSQL_SOURCES(LIVE) });
        const r = await runKiln(dir, ['stage', '--threads', '1'], { env: env() });
        if (r.code !== 0) throw new Error(r.stderr);
        return dir;
      },
      args: ['stage', '--full-refresh', '--threads', '1'],
      rerun: ['stage', '--threads', '1'],
      env: env(),
      view: withoutRefreshMarks(embedded),
    });
    reportSweep('stage mysql live --full-refresh, rerun plain stage', sweep, 8);
  });

  it('a dump', { timeout: SWEEP_TIMEOUT }, async () => {
    const s = getServer();
    await fill(s);
    const sweep = await crashSweep({
      prepare: async () => {
        const dir = writeProject({ 'project.yml': projectYml('sweep'), 'sources.yml': MYSQL_SOURCES('    dump: dump/app.sql') });
        mkdirSync(join(dir, 'dump'), { recursive: true });
        await s.dump(join(dir, 'dump/app.sql'));
        return dir;
      },
      args: ['stage', '--threads', '1'],
    });
    reportSweep('stage mysql dump', sweep, 6);
  });
});
