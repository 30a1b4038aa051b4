import { describe, expect, it } from 'vitest';
import { KilnError, type Warning } from '../../src/errors.js';
import { Dag } from '../../src/graph/dag.js';
import { parseAtom, selectNodes, type SelectableNode } from '../../src/graph/selector.js';

/**
 *   source app.users ─► stg_users ─┐
 *                 seed codes ──────┴► dim_user ─┐
 *   source app.reviews ─► stg_reviews ──────────┴► fct_reviews ─► report        lonely
 */
const model = (name: string, path: string, materialized: string, tags: string[] = []): SelectableNode => ({
  uniqueId: `model.p.${name}`,
  name,
  resourceType: 'model',
  originalFilePath: path,
  fqn: ['p', ...path.split('/').slice(1, -1), name],
  tags,
  config: { materialized, tags },
});
const NODES: SelectableNode[] = [
  { uniqueId: 'source.p.app.users', name: 'users', sourceName: 'app', resourceType: 'source', originalFilePath: 'sources.yml', fqn: ['p', 'app', 'users'], tags: [], config: {} },
  { uniqueId: 'source.p.app.reviews', name: 'reviews', sourceName: 'app', resourceType: 'source', originalFilePath: 'sources.yml', fqn: ['p', 'app', 'reviews'], tags: [], config: {} },
  { uniqueId: 'seed.p.codes', name: 'codes', resourceType: 'seed', originalFilePath: 'seeds/codes.csv', fqn: ['p', 'codes'], tags: [], config: { materialized: 'seed' } },
  model('stg_users', 'models/staging/stg_users.sql', 'view', ['stg']),
  model('stg_reviews', 'models/staging/stg_reviews.sql', 'view', ['stg', 'nightly']),
  model('dim_user', 'models/marts/dim_user.sql', 'table', ['core']),
  model('fct_reviews', 'models/marts/fct_reviews.sql', 'table', ['core', 'nightly']),
  model('report', 'models/report.sql', 'view'),
  model('lonely', 'models/lonely.sql', 'ephemeral'),
];
const DAG = new Dag([
  { uniqueId: 'source.p.app.users', dependsOn: [] },
  { uniqueId: 'source.p.app.reviews', dependsOn: [] },
  { uniqueId: 'seed.p.codes', dependsOn: [] },
  { uniqueId: 'model.p.stg_users', dependsOn: ['source.p.app.users'] },
  { uniqueId: 'model.p.stg_reviews', dependsOn: ['source.p.app.reviews'] },
  { uniqueId: 'model.p.dim_user', dependsOn: ['model.p.stg_users', 'seed.p.codes'] },
  { uniqueId: 'model.p.fct_reviews', dependsOn: ['model.p.stg_reviews', 'model.p.dim_user'] },
  { uniqueId: 'model.p.report', dependsOn: ['model.p.fct_reviews'] },
  { uniqueId: 'model.p.lonely', dependsOn: [] },
]);

/** Selected names, sorted: models bare, others as `type:name`. */
function sel(select: string[] | undefined, exclude?: string[], warnings: Warning[] = []): string[] {
  const ids = selectNodes(NODES, DAG, select, exclude, {}, warnings);
  return [...ids]
    .map((id) => {
      const [type, , ...rest] = id.split('.');
      return type === 'model' ? rest.join('.') : `${type}:${rest.join('.')}`;
    })
    .sort();
}

describe('selection syntax', () => {
  it('no --select selects everything', () => {
    expect(sel(undefined)).toHaveLength(NODES.length);
  });

  it('name, +name, name+, n+name, name+n', () => {
    expect(sel(['dim_user'])).toEqual(['dim_user']);
    expect(sel(['+dim_user'])).toEqual(['dim_user', 'seed:codes', 'source:app.users', 'stg_users']);
    expect(sel(['dim_user+'])).toEqual(['dim_user', 'fct_reviews', 'report']);
    expect(sel(['1+fct_reviews'])).toEqual(['dim_user', 'fct_reviews', 'stg_reviews']);
    expect(sel(['2+fct_reviews'])).toEqual(['dim_user', 'fct_reviews', 'seed:codes', 'source:app.reviews', 'stg_reviews', 'stg_users']);
    expect(sel(['stg_users+1'])).toEqual(['dim_user', 'stg_users']);
    expect(sel(['+stg_users+'])).toEqual(['dim_user', 'fct_reviews', 'report', 'source:app.users', 'stg_users']);
  });

  it('@name: the node, its descendants and all their ancestors', () => {
    expect(sel(['@stg_reviews'])).toEqual([
      'dim_user', 'fct_reviews', 'report', 'seed:codes', 'source:app.reviews', 'source:app.users', 'stg_reviews', 'stg_users',
    ]);
    expect(sel(['@report'])).not.toContain('lonely');
  });

  it('tag:, path:, source:, config.<key>:', () => {
    expect(sel(['tag:nightly'])).toEqual(['fct_reviews', 'stg_reviews']);
    expect(sel(['path:models/staging'])).toEqual(['stg_reviews', 'stg_users']);
    expect(sel(['path:models/staging/'])).toEqual(['stg_reviews', 'stg_users']);
    expect(sel(['path:models/marts/dim_user.sql'])).toEqual(['dim_user']);
    expect(sel(['source:app'])).toEqual(['source:app.reviews', 'source:app.users']);
    expect(sel(['source:app.users+'])).toEqual(['dim_user', 'fct_reviews', 'report', 'source:app.users', 'stg_users']);
    expect(sel(['config.materialized:table'])).toEqual(['dim_user', 'fct_reviews']);
    expect(sel(['config.tags:core'])).toEqual(['dim_user', 'fct_reviews']);
    expect(sel(['resource_type:seed'])).toEqual(['seed:codes']);
  });

  it('wildcards match names and source tables', () => {
    expect(sel(['stg_*'])).toEqual(['stg_reviews', 'stg_users']);
    expect(sel(['app.*'])).toEqual(['source:app.reviews', 'source:app.users']);
    expect(sel(['tag:n*'])).toEqual(['fct_reviews', 'stg_reviews']);
  });

  it('space is a union, comma an intersection, several --select values add up', () => {
    expect(sel(['tag:core report'])).toEqual(['dim_user', 'fct_reviews', 'report']);
    expect(sel(['tag:core', 'report'])).toEqual(['dim_user', 'fct_reviews', 'report']);
    expect(sel(['tag:nightly,config.materialized:table'])).toEqual(['fct_reviews']);
    expect(sel(['+report,tag:stg'])).toEqual(['stg_reviews', 'stg_users']);
    expect(sel(['tag:nightly,tag:core lonely'])).toEqual(['fct_reviews', 'lonely']);
  });

  it('--exclude subtracts, with the same syntax', () => {
    expect(sel(['+fct_reviews'], ['tag:stg', 'source:app'])).toEqual(['dim_user', 'fct_reviews', 'seed:codes']);
    expect(sel(undefined, ['dim_user+ lonely source:app resource_type:seed'])).toEqual(['stg_reviews', 'stg_users']);
  });

  it('matching nothing is a warning, not an error', () => {
    const warnings: Warning[] = [];
    expect(sel(['no_such_model'], undefined, warnings)).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toBe('--select no_such_model matched no nodes');
  });

  it('an unknown method or an empty value is SELECTOR_INVALID', () => {
    for (const bad of ['colour:red', 'tag:']) {
      let err: unknown;
      try {
        sel([bad]);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(KilnError);
      expect((err as KilnError).code).toBe('SELECTOR_INVALID');
    }
  });

  it('parseAtom reads graph operators and methods', () => {
    expect(parseAtom('2+tag:x+3')).toMatchObject({ method: 'tag', value: 'x', parents: 2, children: 3, at: false });
    expect(parseAtom('+path:models/a')).toMatchObject({ method: 'path', value: 'models/a', parents: Infinity, children: 0 });
    expect(parseAtom('@m')).toMatchObject({ method: 'name', value: 'm', at: true, parents: 0, children: 0 });
  });

  it('state:modified without --state is an error with a hint', () => {
    expect(() => sel(['state:modified'])).toThrow(/needs --state/);
  });
});
