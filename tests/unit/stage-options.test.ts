import { describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import * as ddl from '../../src/adapters/ddl.js';
import * as fileSql from '../../src/adapters/file-read-sql.js';
import * as mysqlSql from '../../src/adapters/mysql-staging-sql.js';
import * as sql from '../../src/adapters/staging-sql.js';
import type { SourceNode } from '../../src/project/nodes.js';
import { overRejectLimit, stageTableOf } from '../../src/stage/source-options.js';

const node = (options: Record<string, unknown>, columns: SourceNode['columns'] = []): SourceNode => ({
  resourceType: 'source',
  uniqueId: 'source.p.s.t',
  name: 't',
  sourceName: 's',
  tableName: 't',
  identifier: 's__t',
  loader: typeof options.loader === 'string' ? options.loader : undefined,
  options,
  originalFilePath: 'sources.yml',
  fqn: ['p', 's', 't'],
  description: '',
  columns,
  dataTests: [],
  meta: {},
  config: {},
  patch: { file: 'sources.yml', line: 7 },
});

describe('source options', () => {
  it('resolves paths against the project, reads declared columns and max_rejected', () => {
    const t = stageTableOf(node({ loader: 'jsonl', path: 'logs/**/*.jsonl', max_rejected: '1%' }, [{ name: 'ts', data_type: 'DateTime', data_tests: [] }]), '/proj', 'raw');
    expect(t).toMatchObject({ loader: 'jsonl', path: '/proj/logs/**/*.jsonl', relation: { database: 'raw', name: 's__t' }, columns: [{ name: 'ts', type: 'DateTime' }], maxRejected: 0.01 });
  });

  it('a live connection wins when its host is set; otherwise the dump', () => {
    const conn = { host: '', port: '3306', database: 'app', user: 'u', password: 'p' };
    expect(stageTableOf(node({ loader: 'mysql', dump: 'd.sql', connection: conn }), '/proj', 'raw')).toMatchObject({ source: { kind: 'dump', dump: '/proj/d.sql' } });
    expect(stageTableOf(node({ loader: 'mysql', dump: 'd.sql', connection: { ...conn, host: 'db' } }), '/proj', 'raw')).toMatchObject({ source: { kind: 'live', connection: { host: 'db', port: 3306 } } });
  });

  it('bad options are exit-2 errors at the table line', () => {
    const bad = (o: Record<string, unknown>) => {
      try {
        stageTableOf(node(o), '/proj', 'raw');
      } catch (err) {
        return `${(err as { kind: string }).kind} ${(err as Error).message} @${(err as { location: { line: number } }).location.line}`;
      }
      return 'no error';
    };
    expect(bad({ loader: 'parquet', path: 'x' })).toBe("invalid source s.t: unknown loader 'parquet' @7");
    expect(bad({ loader: 'csv' })).toBe('invalid source s.t: a csv table needs path: (a file or a glob) @7');
    expect(bad({ loader: 'csv', path: 'x', delimiter: ';;' })).toBe("invalid source s.t: delimiter must be one character, got ';;' @7");
    expect(bad({ loader: 'csv', path: 'x', max_rejected: 1.5 })).toMatch(/max_rejected must be a count or a fraction/);
    expect(bad({ loader: 'mysql' })).toMatch(/needs dump: .* or connection: with a host/);
  });

  it('max_rejected: a count, or a fraction of the records', () => {
    expect(overRejectLimit(undefined, 100, 100)).toBe(false);
    expect(overRejectLimit(0, 1, 100)).toBe(true);
    expect(overRejectLimit(2, 2, 100)).toBe(false);
    expect(overRejectLimit(0.01, 1, 100)).toBe(false);
    expect(overRejectLimit(0.01, 2, 100)).toBe(true);
  });
});

describe('staging SQL', () => {
  it('deletes with a lightweight DELETE where the server has one, else a mutation', () => {
    const t = { database: 'raw', name: 'x' };
    expect(ddl.deleteWhere({ capabilities: capabilitiesFor('26.7') }, t, "f = 'a'")).toBe("DELETE FROM `raw`.`x` WHERE f = 'a'");
    expect(ddl.deleteWhere({ capabilities: capabilitiesFor('18.16.1') }, t, "f = 'a'")).toBe("ALTER TABLE `raw`.`x` DELETE WHERE f = 'a'");
  });

  it('a live MySQL load continues after the highest key staged, numbers compared as numbers', () => {
    const conn = { host: 'db', port: 3306, database: 'app', user: 'u', password: 'p' };
    const stamp = { loadId: 'L', loadedAt: '2025-01-01 00:00:00' };
    expect(mysqlSql.mysqlSelect(conn, 'reviews', stamp, { key: 'id', after: '41' })).toContain('\nWHERE `id` > 41\nORDER BY `id`');
    expect(mysqlSql.mysqlSelect(conn, 'reviews', stamp, { key: 'code', after: "o'k\\" })).toContain("\nWHERE `code` > 'o\\'k\\\\'\nORDER BY `code`");
    expect(mysqlSql.mysqlSelect(conn, 'reviews', stamp, { key: 'id', after: null })).not.toContain('WHERE');
    expect(mysqlSql.dumpCreateTableStart('we`ird')).toBe('CREATE TABLE `we``ird` (');
  });

  it('CSV lines account for records spanning lines before them', () => {
    const read = fileSql.csvRead('/f.csv', { header: ['a'], delimiter: ',', columns: [{ name: 'a', type: 'String' }], multiline: [[3, 2], [9, 1]] });
    expect(read.select).toContain('_row_number + 2 + arrayElement([0, 2, 3], arrayCount(x -> x < _row_number, [3, 9]) + 1) AS __line');
  });

  it('dump dates are read as text; NULL stays NULL, zero and impossible dates become the epoch', () => {
    const read = mysqlSql.dumpSelect('/d.sql', 't', [{ name: 'd', type: 'Nullable(DateTime)' }, { name: 'n', type: 'Int32' }], { loadId: 'L', loadedAt: '2025-01-01 00:00:00' });
    expect(read.select).toContain(
      "if(isNull(`d`), NULL, if(match(`d`, '^0000|^\\\\d{4}-00|^\\\\d{4}-\\\\d{2}-00'), CAST(0 AS DateTime), ifNull(accurateCastOrNull(`d`, 'DateTime'), CAST(0 AS DateTime)))) AS `d`, `n`",
    );
    expect(read.select).toContain("'`d` Nullable(String), `n` Int32'");
  });
});
