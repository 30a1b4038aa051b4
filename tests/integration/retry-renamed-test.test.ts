import { afterAll, describe, expect, it } from 'vitest';
import { projectYml, removeProjects, runKiln, runResults, writeFiles, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

const schema = (values: string) => `models:
  - name: letters
    columns:
      - name: letter
        data_tests:
          - not_null
          - accepted_values:
              values: [${values}]
`;

describe('kiln retry after a failing test was edited (its id changed)', () => {
  it('reruns the edited test through the node it tests instead of dropping it', async () => {
    const dir = writeProject({
      'project.yml': projectYml('rt'),
      'models/letters.sql': "{{ config(materialized='table') }}SELECT arrayJoin(['a', 'b', 'c']) AS letter",
      'models/schema.yml': schema("'a', 'b'"),
    });
    const first = await runKiln(dir, ['build']);
    expect(first.code).toBe(1);
    const failed = [...runResults(dir)].filter(([, r]) => r.status === 'fail').map(([id]) => id);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/^test\.rt\.accepted_values_letters_letter__a__b/);

    writeFiles(dir, { 'models/schema.yml': schema("'a', 'b', 'c'") });
    const retry = await runKiln(dir, ['retry']);
    expect(retry.stderr).toBe('');
    expect(retry.code).toBe(0);
    const results = runResults(dir);
    const ids = [...results.keys()];
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(/^test\.rt\.accepted_values_letters_letter__a__b__c/);
    expect(results.get(ids[0]!)!.status).toBe('pass');
    // The test that did not change and passed is not rerun.
    expect(ids.some((id) => id.includes('not_null'))).toBe(false);
  });
});
