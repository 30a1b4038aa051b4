import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allOutput, removeProjects, runKiln, runResults, startKiln, writeFiles } from '../helpers/kiln-cli.js';
import { DAILY_METRICS, notPassed, referenceProject, withReviews } from '../helpers/reference-project.js';
import { queryWarehouse, relationNames } from '../helpers/warehouse.js';

/**
 * The reference project's daily metrics (issue 15): fact_content_metrics_daily is a
 * materialized_view fed by the raw reviews and events, so `kiln stage` and `kiln watch` update
 * content_metrics_daily (what the dashboards read) with no model run, and the numbers are always
 * those a full rebuild gives: a new events file through the views; new reviews in a changed dump
 * (swapped in, which fires no view, so staging rebuilds the model), double submissions dropped; a
 * replaced events file; staging again adds nothing.
 */
afterAll(removeProjects);

const MODEL = 'model.movies.fact_content_metrics_daily';
const REBUILT = 'fact_content_metrics_daily is rebuilt after the load';

describe('the reference project: daily metrics fed by materialized views', () => {
  const dir = referenceProject();
  const db = join(dir, '.kiln/dev');
  const metrics = async () => (await queryWarehouse<{ row: string }>(db, DAILY_METRICS)).map((r) => r.row);
  /** A title's day as `avg_rating reviews_count hype_index` (avg_rating NULL on a day without reviews), or undefined. */
  const day = async (contentId: number, date: string) =>
    (
      await queryWarehouse<{ row: string }>(
        db,
        `SELECT concat(ifNull(toString(avg_rating), 'NULL'), ' ', toString(reviews_count), ' ', toString(hype_index)) AS row FROM analytics.content_metrics_daily WHERE content_id = ${contentId} AND date = '${date}'`,
      )
    ).map((r) => r.row)[0];
  /** The metrics now equal what rebuilding the model from every staged row gives. */
  const expectSameAsFullRebuild = async () => {
    const maintained = await metrics();
    const rebuild = await runKiln(dir, ['run', '--select', 'fact_content_metrics_daily', '--full-refresh']);
    expect(rebuild.code, allOutput(rebuild)).toBe(0);
    expect(maintained).toEqual(await metrics());
  };
  const dump = join(dir, 'data/mysql/app.sql');

  it('builds with both views, and every test passes (the planted-defect ground truth included)', async () => {
    const r = await runKiln(dir, ['build']);
    expect(notPassed(dir)).toEqual([]);
    expect(r.code, allOutput(r)).toBe(0);
    expect(runResults(dir).get('test.movies.assert_sample_matches_ground_truth')?.status).toBe('pass');
    expect(runResults(dir).get('test.movies.assert_daily_metrics_match_reviews')?.status).toBe('pass');
    expect(await relationNames(db, 'analytics')).toEqual(expect.arrayContaining(['fact_content_metrics_daily', 'fact_content_metrics_daily_events', 'fact_content_metrics_daily_reviews']));
    expect(await day(14, '2025-11-08')).toBeUndefined();
  }, 300_000);

  it('kiln stage of a new events file updates the metrics through the views', async () => {
    writeFiles(dir, {
      'data/events/2025/11/08/app-events-00.jsonl': [
        '{"ts":"2025-11-08T10:00:00Z","event":"content_view","user_id":5,"content_id":14}',
        '{"ts":"2025-11-08T10:05:00Z","event":"share","user_id":6,"content_id":14}',
        '{"ts":"not a time","event":"share","user_id":6,"content_id":14}',
        '{"ts":"2025-11-08T11:00:00+02:00","event":"carousel_click","user_id":7,"slide_id":1}',
        '',
      ].join('\n'),
    });
    const r = await runKiln(dir, ['stage']);
    expect(r.code, allOutput(r)).toBe(0);
    expect(r.stdout).not.toContain(REBUILT);
    expect(runResults(dir).get(MODEL)?.message).toBe('materialized view analytics.fact_content_metrics_daily: its views saw every load');
    // weights 1 + 4 for title 14 (hype 9.4): 5 × 1.094; the line without a time is not counted
    expect(await day(14, '2025-11-08')).toBe('NULL 0 5.47');
    await expectSameAsFullRebuild();
  }, 300_000);

  it('new reviews in a changed dump: staging rebuilds the model, a double submission counts once', async () => {
    writeFileSync(
      dump,
      withReviews(readFileSync(dump, 'utf8'), [
        "(421,14,42,9.00,'2025-11-08 09:00:00','2025-11-08 09:00:00')",
        // the same user, title and moment again: a double submission, the lowest id stays
        "(422,14,42,2.00,'2025-11-08 09:00:00','2025-11-08 09:00:00')",
        "(423,3,43,7.25,'2025-11-08 10:00:00','2025-11-08 10:00:00')",
        // a rating out of range: dropped
        "(424,3,44,11.00,'2025-11-08 11:00:00','2025-11-08 11:00:00')",
      ]),
    );
    const r = await runKiln(dir, ['stage']);
    expect(r.code, allOutput(r)).toBe(0);
    // the first of the dump's reloaded tables to be swapped drops the views (reviews, content, users or slides)
    expect(r.stdout).toMatch(new RegExp(`${REBUILT}: the reload of raw\\.app__\\w+ reaches none of its materialized views`));
    expect(r.stdout).toMatch(/OK +materialized_view model analytics\.fact_content_metrics_daily/);
    expect(await day(14, '2025-11-08')).toBe('9 1 5.47');
    expect(await day(3, '2025-11-08')).toBe('7.25 1 0');
    const staged = await metrics();
    // Staging the same data again loads nothing and counts nothing twice.
    const again = await runKiln(dir, ['stage']);
    expect(again.code, allOutput(again)).toBe(0);
    expect(again.stdout).not.toContain(REBUILT);
    expect(await metrics()).toEqual(staged);
    await expectSameAsFullRebuild();
  }, 300_000);

  it('a replaced events file: its earlier lines stop counting', async () => {
    writeFiles(dir, { 'data/events/2025/11/08/app-events-00.jsonl': '{"ts":"2025-11-08T10:00:00Z","event":"content_view","user_id":5,"content_id":14}\n' });
    const r = await runKiln(dir, ['stage']);
    expect(r.code, allOutput(r)).toBe(0);
    expect(r.stdout).toContain(`${REBUILT}: the reload of raw.events__app_events reaches none of its materialized views`);
    expect(await day(14, '2025-11-08')).toBe('9 1 1.09');
    await expectSameAsFullRebuild();
  }, 300_000);

  it('agrees with fact_reviews once the models are rebuilt (assert_daily_metrics_match_reviews)', async () => {
    const r = await runKiln(dir, ['build', '--exclude', 'assert_sample_matches_ground_truth']);
    expect(notPassed(dir)).toEqual([]);
    expect(r.code, allOutput(r)).toBe(0);
    expect(runResults(dir).get('test.movies.assert_daily_metrics_match_reviews')?.status).toBe('pass');
    expect(runResults(dir).get(MODEL)?.message).toBe('materialized view analytics.fact_content_metrics_daily unchanged');
  }, 300_000);

  it('kiln watch updates the metrics as a new events file and new reviews land', async () => {
    const watch = startKiln(dir, ['watch', '--debounce', '300', '--exclude', 'assert_sample_matches_ground_truth']);
    await watch.waitFor(/Watching for changes/, { timeoutMs: 240_000 });
    const mark = watch.stdout().length;
    writeFiles(dir, { 'data/events/2025/11/09/app-events-00.jsonl': '{"ts":"2025-11-09T08:00:00Z","event":"watchlist_add","user_id":9,"content_id":3}\n' });
    writeFileSync(dump, withReviews(readFileSync(dump, 'utf8'), ["(425,3,45,6.00,'2025-11-09 12:00:00','2025-11-09 12:00:00')"]));
    // one rebuild, or two if the watcher reports the files apart
    await watch.waitFor(/\[watch\][^\n]*app-events-00\.jsonl[^\n]*\n/, { from: mark, timeoutMs: 240_000 });
    await watch.waitFor(/\[watch\][^\n]*app\.sql[^\n]*\n/, { from: mark, timeoutMs: 240_000 });
    watch.child.kill('SIGINT');
    expect((await watch.done).code).toBe(0);
    // the review, and watchlist_add (weight 3) for title 3 (hype 73.9): 3 × 1.739
    expect(await day(3, '2025-11-09')).toBe('6 1 5.22');
    await expectSameAsFullRebuild();
  }, 400_000);

  it('lines quarantined for two reasons are counted once: the reconciliation holds and every events row of the summary has the same raw_rows', async () => {
    // The sample's malformed lines are all 'malformed JSON'; a 'null' line is 'not a JSON object'.
    // With two reasons, a summary that counted each reason's rows apart (seen at 1M events) made
    // assert_events_reconcile pass or fail on the order of any()'s rows.
    writeFiles(dir, { 'data/events/2025/11/10/app-events-00.jsonl': 'null\n{"ts":"2025-11-10T08:00:00Z","event":\n{"ts":"2025-11-10T09:00:00Z","event":"share","user_id":2,"content_id":3}\n' });
    const r = await runKiln(dir, ['build', '--exclude', 'assert_sample_matches_ground_truth']);
    expect(notPassed(dir)).toEqual([]);
    expect(r.code, allOutput(r)).toBe(0);
    const summary = await queryWarehouse<{ reasons: string; raw: string; lines: string }>(
      db,
      "SELECT toString(countIf(action = 'quarantined')) AS reasons, arrayStringConcat(arrayMap(x -> toString(x), groupUniqArray(raw_rows)), ',') AS raw, (SELECT toString(count()) FROM analytics.fact_events) AS lines FROM analytics.stg_rejects_summary WHERE source_table = 'events.app_events'",
    );
    expect(summary[0]?.reasons).toBe('2');
    const totals = await queryWarehouse<{ n: string }>(db, "SELECT toString(count()) AS n FROM raw.events__app_events");
    const quarantined = await queryWarehouse<{ n: string }>(db, "SELECT toString(count()) AS n FROM raw._kiln_quarantine WHERE source_name = 'events'");
    expect(summary[0]?.raw).toBe(String(Number(totals[0]?.n) + Number(quarantined[0]?.n)));
  }, 300_000);
});
