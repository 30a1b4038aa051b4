import { KilnError, type SourceLocation } from '../errors.js';
import { isPlainObject } from '../project/node-config.js';

/** Keys of a test entry that configure the test rather than being arguments of its macro (dbt's list). */
export const TEST_CONFIG_KEYS: readonly string[] = [
  'severity', 'tags', 'enabled', 'where', 'limit', 'warn_if', 'error_if', 'fail_calc', 'store_failures',
  'store_failures_as', 'meta', 'database', 'schema', 'alias',
];

/** `warn_if` / `error_if`: a comparison of the failing-row count with a number, e.g. `>10`. */
export interface Threshold {
  readonly op: '=' | '!=' | '>' | '>=' | '<' | '<=';
  readonly value: number;
}

const THRESHOLD = /^\s*(==|=|!=|<>|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/;

export function parseThreshold(text: unknown, key: string, where: SourceLocation): Threshold {
  const m = THRESHOLD.exec(String(text));
  if (!m) {
    throw new KilnError('CONFIG_INVALID', `${key} '${String(text)}' is not a comparison with a number`, {
      location: where,
      hint: `write it like ${key}: ">10" or "!= 0" (compared with the number of failing rows)`,
    });
  }
  const op = m[1] === '==' ? '=' : m[1] === '<>' ? '!=' : (m[1] as Threshold['op']);
  return { op, value: Number(m[2]) };
}

export function thresholdMet(t: Threshold, failures: number): boolean {
  switch (t.op) {
    case '=':
      return failures === t.value;
    case '!=':
      return failures !== t.value;
    case '>':
      return failures > t.value;
    case '>=':
      return failures >= t.value;
    case '<':
      return failures < t.value;
    case '<=':
      return failures <= t.value;
  }
}

/**
 * dbt's rule: with severity error, error_if is checked first, then warn_if; with severity warn,
 * error_if is ignored.
 */
export function testStatus(failures: number, config: { severity: 'ERROR' | 'WARN'; warn_if: string; error_if: string }): 'pass' | 'warn' | 'fail' {
  const at: SourceLocation = { file: '' };
  if (config.severity === 'ERROR' && thresholdMet(parseThreshold(config.error_if, 'error_if', at), failures)) return 'fail';
  if (thresholdMet(parseThreshold(config.warn_if, 'warn_if', at), failures)) return 'warn';
  return 'pass';
}

/** The config of one test, validated; what lands in the manifest node's `config`. */
export interface TestConfig {
  readonly enabled: boolean;
  readonly severity: 'ERROR' | 'WARN';
  readonly warn_if: string;
  readonly error_if: string;
  readonly fail_calc: string;
  readonly where: string | null;
  readonly limit: number | null;
  readonly store_failures: boolean;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, unknown>>;
  readonly alias?: string;
  readonly [key: string]: unknown;
}

/** Merges folder config and the test's own (later wins; tags accumulate) and validates it. */
export function testConfig(layers: ReadonlyArray<Readonly<Record<string, unknown>>>, where: SourceLocation): TestConfig {
  const merged: Record<string, unknown> = {};
  const tags: string[] = [];
  for (const layer of layers) {
    for (const [rawKey, value] of Object.entries(layer)) {
      const key = rawKey.replace(/^\+/, '').replace(/-/g, '_');
      if (value === undefined || value === null) continue;
      if (key === 'tags') tags.push(...(Array.isArray(value) ? value : [value]).map(String));
      else merged[key] = value;
    }
  }
  const severity = String(merged.severity ?? 'error').toUpperCase();
  if (severity !== 'ERROR' && severity !== 'WARN') {
    throw new KilnError('CONFIG_INVALID', `test severity '${String(merged.severity)}' is not error or warn`, {
      location: where,
      hint: 'severity: error (fails the run) or severity: warn (reported, never blocks)',
    });
  }
  const warnIf = String(merged.warn_if ?? '!= 0');
  const errorIf = String(merged.error_if ?? '!= 0');
  parseThreshold(warnIf, 'warn_if', where);
  parseThreshold(errorIf, 'error_if', where);
  const limit = merged.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || (limit as number) < 0)) {
    throw new KilnError('CONFIG_INVALID', `test limit must be a whole number, got '${String(limit)}'`, { location: where });
  }
  for (const key of ['enabled', 'store_failures'] as const) {
    if (merged[key] !== undefined && typeof merged[key] !== 'boolean') {
      throw new KilnError('CONFIG_INVALID', `test config '${key}' must be true or false`, { location: where });
    }
  }
  const failCalc = merged.fail_calc ?? 'count(*)';
  if (typeof failCalc !== 'string' || failCalc.trim() === '') {
    throw new KilnError('CONFIG_INVALID', `test config 'fail_calc' must be a SQL aggregate over the failing rows, such as 'sum(n)'`, { location: where });
  }
  if (merged.where !== undefined && typeof merged.where !== 'string') {
    throw new KilnError('CONFIG_INVALID', `test config 'where' must be a SQL condition string`, { location: where });
  }
  return {
    ...merged,
    enabled: merged.enabled !== false,
    severity,
    warn_if: warnIf,
    error_if: errorIf,
    fail_calc: failCalc,
    where: (merged.where as string | undefined) ?? null,
    limit: (limit as number | undefined) ?? null,
    store_failures: merged.store_failures === true,
    tags: [...new Set(tags)],
    meta: isPlainObject(merged.meta) ? merged.meta : {},
  };
}
