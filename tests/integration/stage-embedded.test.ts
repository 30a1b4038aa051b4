import { afterAll, describe, expect, it } from 'vitest';
import { removeProjects, writeFiles } from '../helpers/kiln-cli.js';
import { runStage, stageProject } from '../helpers/stage-project.js';
import { queryTarget, withTarget } from '../helpers/warehouse.js';

afterAll(removeProjects);

const SOURCES = `sources:
  - name: events
    loader: jsonl
    tables:
      - name: typed
        path: "logs/**/*.jsonl"
        columns:
          - { name: ts, type: "DateTime('UTC')" }
          - { name: event, type: String }
          - { name: user_id, type: "Nullable(UInt32)" }
          - { name: meta, type: String }
      - name: lines
        path: "logs/**/*.jsonl"
  - name: exports
    loader: csv
    tables:
      - name: titles
        path: "exports/titles*.csv"
`;

describe('kiln stage on the embedded engine', () => {
  const dir = stageProject(SOURCES, {
    'logs/2025/11/04/a.jsonl':
      '{"ts":"2025-11-04T12:34:56Z","event":"review_created","user_id":42,"meta":{"k":[1,2]},"extra":1}\n' +
      '\n' +
      '{"ts":"2025-11-04T14:00:00+02:00","event":"carousel_impression"}\n' +
      'not json at all\n' +
      '{"ts":"2025-11-04T12:00:00Z","event":"x","user_id":"abc"}\n' +
      '[1,2,3]\n' +
      '{"event":"two"} {"event":"objects"}\n',
    'logs/2025/11/05/b.jsonl': '{"ts":"2025-11-05T00:00:00Z","event":"e\\"q","user_id":7}\n' + Buffer.from([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]).toString('latin1') + '\n',
    'exports/titles_1.csv': '\uFEFFtconst,title,year\r\ntt1,"Comma, Inc.",1999\r\ntt2,"Multi\r\nline ""quoted""",2001\r\ntt3,short\r\ntt4,ok,2020\r\n',
  });
  // Invalid UTF-8 byte written raw.
  writeFiles(dir, {
    'logs/2025/11/05/b.jsonl': Buffer.concat([
      Buffer.from('{"ts":"2025-11-05T00:00:00Z","event":"e\\"q","user_id":7}\n'),
      Buffer.from([0x7b, 0x22, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x0a]),
    ]),
  });

  it('loads good records, quarantines the rest with file, line and reason', async () => {
    const { results, infos } = await runStage(dir);
    expect(results.map((r) => [r.unique_id, r.status])).toEqual([
      ['source.staged.events.typed', 'success'],
      ['source.staged.events.lines', 'success'],
      ['source.staged.exports.titles', 'success'],
    ]);
    expect(infos).toContain('events.typed: 2 file(s) (0 unchanged), 3 row(s) loaded, 5 rejected');
    // Each step reports the time ClickHouse spent on it, as a model's does (run_results.json).
    for (const r of results) expect(r.adapter_response.query_time_ms).toBeGreaterThan(0);
    const typed = await queryTarget(dir, `SELECT toString(ts) AS ts, event, user_id, meta, toString(_kiln_line) AS line, replaceRegexpOne(_kiln_file, '.*/logs/', '') AS file FROM raw.events__typed ORDER BY file, _kiln_line`);
    expect(typed).toEqual([
      { ts: '2025-11-04 12:34:56', event: 'review_created', user_id: 42, meta: '{"k":[1,2]}', line: '1', file: '2025/11/04/a.jsonl' },
      { ts: '2025-11-04 12:00:00', event: 'carousel_impression', user_id: null, meta: '', line: '3', file: '2025/11/04/a.jsonl' },
      { ts: '2025-11-05 00:00:00', event: 'e"q', user_id: 7, meta: '', line: '1', file: '2025/11/05/b.jsonl' },
    ]);
    const rejected = await queryTarget(dir, `SELECT table_name, replaceRegexpOne(file, '.*/logs/', '') AS f, toString(line) AS line, raw, reason FROM raw._kiln_quarantine WHERE table_name = 'typed' ORDER BY f, _kiln_quarantine.line`);
    expect(rejected).toEqual([
      { table_name: 'typed', f: '2025/11/04/a.jsonl', line: '4', raw: 'not json at all', reason: 'malformed JSON' },
      { table_name: 'typed', f: '2025/11/04/a.jsonl', line: '5', raw: '{"ts":"2025-11-04T12:00:00Z","event":"x","user_id":"abc"}', reason: 'unparseable value for user_id (Nullable(UInt32))' },
      { table_name: 'typed', f: '2025/11/04/a.jsonl', line: '6', raw: '[1,2,3]', reason: 'not a JSON object' },
      { table_name: 'typed', f: '2025/11/04/a.jsonl', line: '7', raw: '{"event":"two"} {"event":"objects"}', reason: 'malformed JSON' },
      { table_name: 'typed', f: '2025/11/05/b.jsonl', line: '2', raw: '{"event":"\uFFFD"}', reason: 'invalid UTF-8' },
    ]);
    const lines = await queryTarget<{ n: string }>(dir, 'SELECT toString(count()) AS n FROM raw.events__lines');
    expect(lines[0]!.n).toBe('4');
    const csv = await queryTarget(dir, 'SELECT tconst, title, year, toString(_kiln_line) AS line FROM raw.exports__titles ORDER BY _kiln_line');
    expect(csv).toEqual([
      { tconst: 'tt1', title: 'Comma, Inc.', year: '1999', line: '2' },
      { tconst: 'tt2', title: 'Multi\r\nline "quoted"', year: '2001', line: '3' },
      { tconst: 'tt4', title: 'ok', year: '2020', line: '6' },
    ]);
    const csvRejects = await queryTarget(dir, `SELECT toString(line) AS line, raw, reason FROM raw._kiln_quarantine WHERE table_name = 'titles'`);
    expect(csvRejects).toEqual([{ line: '5', raw: 'tt3,short', reason: 'wrong column count (expected 3)' }]);
  });

  it('loads an unchanged file once, and a changed file replaces its rows', async () => {
    const again = await runStage(dir);
    expect(again.infos).toContain('events.typed: 2 file(s) (2 unchanged), 0 row(s) loaded, 0 rejected');
    expect(await queryTarget(dir, 'SELECT toString(count()) AS n FROM raw.events__typed')).toEqual([{ n: '3' }]);
    writeFiles(dir, { 'logs/2025/11/05/b.jsonl': '{"ts":"2025-11-06T00:00:00Z","event":"new","user_id":8}\n{"ts":"2025-11-06T00:00:01Z","event":"new2"}\n' });
    const changed = await runStage(dir, { select: ['source:events.typed'] });
    expect(changed.infos).toEqual(['events.typed: 2 file(s) (1 unchanged), 2 row(s) loaded, 0 rejected']);
    expect(await queryTarget(dir, `SELECT event FROM raw.events__typed ORDER BY event`)).toEqual([{ event: 'carousel_impression' }, { event: 'new' }, { event: 'new2' }, { event: 'review_created' }]);
    // The old version's reject went with it.
    expect(await queryTarget(dir, `SELECT toString(count()) AS n FROM raw._kiln_quarantine WHERE table_name = 'typed'`)).toEqual([{ n: '4' }]);
  });

  it('--full-refresh reloads everything', async () => {
    const { infos } = await runStage(dir, { fullRefresh: true, select: ['source:events.typed'] });
    expect(infos).toEqual(['events.typed: 2 file(s) (0 unchanged), 4 row(s) loaded, 4 rejected']);
    expect(await queryTarget(dir, 'SELECT toString(count()) AS n FROM raw.events__typed')).toEqual([{ n: '4' }]);
    expect(await queryTarget(dir, `SELECT toString(count()) AS n FROM raw._kiln_quarantine WHERE table_name = 'typed'`)).toEqual([{ n: '4' }]);
  });
});

describe('a raw table from an earlier kiln', () => {
  it('keeps loading into it: its metadata columns stay as they were (String, not LowCardinality)', async () => {
    const dir = stageProject(`sources:\n  - name: ev\n    loader: jsonl\n    tables:\n      - { name: old, path: "old/*.jsonl" }\n`, {
      'old/a.jsonl': '{"n":1}\n{"n":2}\n',
    });
    await withTarget(dir, async (adapter) => {
      await adapter.execute('CREATE DATABASE IF NOT EXISTS raw');
      await adapter.execute("CREATE TABLE raw.ev__old (raw String, _kiln_load_id String, _kiln_loaded_at DateTime('UTC'), _kiln_file String, _kiln_line UInt64) ENGINE = MergeTree ORDER BY tuple()");
    });
    const { results, infos } = await runStage(dir);
    expect(results.map((r) => r.status)).toEqual(['success']);
    expect(infos).toEqual(['ev.old: 1 file(s) (0 unchanged), 2 row(s) loaded, 0 rejected']);
    expect(await queryTarget(dir, `SELECT raw, toTypeName(_kiln_file) AS type, replaceRegexpOne(_kiln_file, '.*/', '') AS file FROM raw.ev__old ORDER BY _kiln_line`)).toEqual([
      { raw: '{"n":1}', type: 'String', file: 'a.jsonl' },
      { raw: '{"n":2}', type: 'String', file: 'a.jsonl' },
    ]);
  });
});
