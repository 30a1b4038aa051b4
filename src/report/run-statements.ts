import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * `target/run/<path>.sql`: every statement a node sent, exactly as sent and in order (dbt keeps
 * the same folder), so an error's line and column can be read against the text ClickHouse saw.
 * `compiledPath` is the node's `target/compiled/…` path; the run copy mirrors it under `run/`.
 */
export function runPathOf(compiledPath: string, targetPath: string): string | null {
  const prefix = `${targetPath.replace(/\/+$/, '')}/compiled/`;
  return compiledPath.startsWith(prefix) ? `${targetPath.replace(/\/+$/, '')}/run/${compiledPath.slice(prefix.length)}` : null;
}

export function writeRunStatements(root: string, runPath: string, statements: readonly string[]): void {
  const file = join(root, runPath);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, statements.map((s) => `${s.replace(/;?\s*$/, '')};\n`).join('\n'));
}
