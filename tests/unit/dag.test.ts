import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/errors.js';
import { Dag } from '../../src/graph/dag.js';

const node = (uniqueId: string, ...dependsOn: string[]) => ({ uniqueId, dependsOn });

describe('Dag', () => {
  it('orders dependencies first, ties broken by id', () => {
    const dag = new Dag([node('d', 'b', 'c'), node('c', 'a'), node('b', 'a'), node('a'), node('e')]);
    expect(dag.topologicalOrder()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const reversed = new Dag([node('z'), node('y', 'z'), node('x', 'y')]);
    expect(reversed.topologicalOrder()).toEqual(['z', 'y', 'x']);
  });

  it('ignores dependencies on unknown nodes (e.g. undeclared sources)', () => {
    const dag = new Dag([node('a', 'ghost')]);
    expect(dag.parents('a')).toEqual([]);
    expect(dag.topologicalOrder()).toEqual(['a']);
  });

  it('walks ancestors and descendants to a depth', () => {
    const dag = new Dag([node('a'), node('b', 'a'), node('c', 'b'), node('d', 'c')]);
    expect([...dag.ancestors('d')].sort()).toEqual(['a', 'b', 'c']);
    expect([...dag.ancestors('d', 2)].sort()).toEqual(['b', 'c']);
    expect([...dag.descendants('a', 1)]).toEqual(['b']);
    expect(dag.children('b')).toEqual(['c']);
  });

  it('a cycle is an error that prints the whole path back to its start', () => {
    // c reads b, b reads a, a reads c: data flows a → b → c → a
    const dag = new Dag([node('a', 'c'), node('b', 'a'), node('c', 'b'), node('x')]);
    let err: unknown;
    try {
      dag.assertAcyclic((id) => `models/${id}.sql`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe('CYCLE');
    expect((err as KilnError).message).toBe('dependency cycle: models/a.sql → models/b.sql → models/c.sql → models/a.sql');
    expect(() => dag.topologicalOrder()).toThrow(/dependency cycle: a → b → c → a/);
  });

  it('a self-reference is a cycle of one', () => {
    const dag = new Dag([node('a', 'a')]);
    expect(dag.cycles()).toEqual([['a', 'a']]);
  });

  it('reports how many more cycles there are', () => {
    const dag = new Dag([node('a', 'b'), node('b', 'a'), node('c', 'd'), node('d', 'c')]);
    expect(() => dag.assertAcyclic()).toThrow(KilnError);
    try {
      dag.assertAcyclic();
    } catch (e) {
      expect((e as KilnError).hint).toContain('1 more cycle');
    }
  });

  it('an acyclic graph passes', () => {
    expect(() => new Dag([node('a'), node('b', 'a')]).assertAcyclic()).not.toThrow();
  });
});
