import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

/**
 * Suites that start installed programs (clickhouse-server, mariadb, chromium) run only where
 * those are installed. Where they are missing the suite is skipped with a message naming the
 * Debian packages; with KILN_REQUIRE_SERVERS=1 (as .ci/run sets it) it fails instead, so a
 * machine lacking them can never pass by running less.
 */
export const programsRequired = process.env.KILN_REQUIRE_SERVERS === '1';

/** The first of `paths` that exists. */
export const firstExisting = (paths: readonly string[]): string | undefined => paths.find((path) => existsSync(path));

/** Null when every one of `paths` exists, else a message naming the missing ones and the packages that bring them. */
export function missingPrograms(paths: readonly string[], debianPackages: readonly string[]): string | null {
  const missing = paths.filter((path) => !existsSync(path));
  return missing.length === 0 ? null : `${missing.join(', ')} not installed (apt-get install ${debianPackages.join(' ')})`;
}

/**
 * Per-test timeout in suites that start servers or a browser: their tests wait on those and
 * spawn kiln several times. The longest (a MariaDB dump staged in two styles) takes 26 s idle
 * and took 105 s with the 2-core machine at load 10-17; this leaves about 3x that.
 */
export const SERVER_TEST_TIMEOUT_MS = 300_000;

/** describe() when `missing` is null; otherwise skips the suite with the message, or fails it under KILN_REQUIRE_SERVERS=1. */
export function describeIfInstalled(name: string, missing: string | null, fn: () => void): void {
  if (missing === null) describe(name, { timeout: SERVER_TEST_TIMEOUT_MS }, fn);
  else describeMissing(name, missing);
}

/**
 * The suite `name` in place of one that cannot run because `missing`: one skipped test saying
 * so (also printed), or under KILN_REQUIRE_SERVERS=1 one failing test.
 */
export function describeMissing(name: string, missing: string): void {
  describe(name, () => {
    if (programsRequired) {
      it('has the programs it starts installed', () => {
        throw new Error(`${missing}; KILN_REQUIRE_SERVERS=1 makes a missing program a failure, not a skip`);
      });
    } else {
      console.warn(`skipping "${name}": ${missing}; with KILN_REQUIRE_SERVERS=1 this fails instead`);
      it.skip(missing, () => undefined);
    }
  });
}
