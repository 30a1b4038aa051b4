import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, expect, it } from 'vitest';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { describeWithMariaDb } from '../harness/mariadb.js';

describeWithClickHouse('ClickHouse server harness', (getServer) => {
  it('answers SELECT 1 and reports its version', async () => {
    const server = getServer();
    expect(server.version).toMatch(/^\d+\.\d+/);
    const client = createClient({ url: server.url, username: server.username, password: server.password });
    try {
      const result = await client.query({ query: 'SELECT 1 AS one, version() AS version', format: 'JSONEachRow' });
      expect(await result.json()).toEqual([{ one: 1, version: server.version }]);
    } finally {
      await client.close();
    }
  });
});

describeWithMariaDb('MariaDB harness', (getServer) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-harness-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers SELECT 1 and dumps a table over TCP in both insert styles', async () => {
    const server = getServer();
    expect(await server.query('SELECT 1 AS one')).toBe('one\n1\n');
    await server.query("CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(10)); INSERT INTO t VALUES (1, 'a'), (2, 'b');", server.database);

    await server.dump(join(dir, 'rows.sql'), { extendedInsert: false });
    const rows = readFileSync(join(dir, 'rows.sql'), 'utf8');
    expect(rows).toContain("INSERT INTO `t` VALUES (1,'a');\nINSERT INTO `t` VALUES (2,'b');\n");

    await server.dump(join(dir, 'extended.sql'));
    // mariadb-dump 10.11 puts each row of an extended INSERT on its own line; MySQL's mysqldump keeps one line.
    expect(readFileSync(join(dir, 'extended.sql'), 'utf8')).toMatch(/INSERT INTO `t` VALUES\s*\(1,'a'\),\s*\(2,'b'\);/);
  });
});
