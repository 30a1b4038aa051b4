import { describe, expect, it } from 'vitest';
import { kindsOfProfile, seedProfile, seedRows, seedType } from '../../src/adapters/seed-sql.js';

/** Seed typing as dbt's agate does it: the kind decision and the SQL text that reads the file. */
describe('seed column kinds', () => {
  const profile = (counts: Record<string, number>) => kindsOfProfile(['c'], { rows: 3, ...counts });

  it('is the first of integer, number, date, datetime, boolean that every non-empty field has, else text', () => {
    expect(profile({ n_0: 3, integer_0: 3, number_0: 3 })[0]).toEqual({ kind: 'integer', nullable: false, fraction: false });
    expect(profile({ n_0: 3, integer_0: 2, number_0: 3 })[0]!.kind).toBe('number');
    expect(profile({ n_0: 3, boolean_0: 3 })[0]!.kind).toBe('boolean');
    expect(profile({ n_0: 3, datetime_0: 3, frac_0: 1 })[0]).toEqual({ kind: 'datetime', nullable: false, fraction: true });
    expect(profile({ n_0: 3, boolean_0: 2 })[0]!.kind).toBe('text');
  });

  it('a column with an empty field is Nullable; one with no value at all is Nullable(String)', () => {
    expect(profile({ n_0: 2, integer_0: 2, number_0: 2 })[0]).toEqual({ kind: 'integer', nullable: true, fraction: false });
    expect(seedType('integer', true, false)).toBe('Nullable(Int64)');
    expect(seedType('boolean', false, false)).toBe('Bool');
    expect(seedType('datetime', false, true)).toBe('DateTime64(6)');
    expect(profile({ n_0: 0 })[0]!.kind).toBe('empty');
    expect(seedType('empty', false, false)).toBe('Nullable(String)');
  });
});

describe('seed SQL text', () => {
  it('profiles every column read as text, by number (a header may name anything)', () => {
    const sql = seedProfile('/p/s.csv', ['a`b']);
    expect(sql).toContain("FROM file('/p/s.csv', 'CSVWithNames', '`a\\\\`b` Nullable(String)')");
    expect(sql).toContain("countIf(if(lower(trimBoth(`a\\`b`)) IN ('', 'null'), NULL, trimBoth(`a\\`b`)) IS NOT NULL) AS n_0");
  });

  it('reads declared columns as their type and converts the others from text', () => {
    const sql = seedRows('/p/s.csv', [
      { name: 'code', type: 'FixedString(3)', kind: 'declared' },
      { name: 'ok', type: 'UInt8', kind: 'boolean' },
    ]);
    expect(sql).toBe(
      "SELECT `code` AS `code`, CAST(if(if(lower(trimBoth(`ok`)) IN ('', 'null'), NULL, trimBoth(`ok`)) IS NULL, NULL, lower(if(lower(trimBoth(`ok`)) IN ('', 'null'), NULL, trimBoth(`ok`))) = 'true'), 'UInt8') AS `ok`\n" +
        "FROM file('/p/s.csv', 'CSVWithNames', '`code` FixedString(3), `ok` Nullable(String)')",
    );
  });
});
