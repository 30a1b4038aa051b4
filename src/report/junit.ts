import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NodeResult } from './run-results.js';

/**
 * JUnit XML for CI systems: one <testsuite> per resource type (data tests, unit tests, models…),
 * one <testcase> per node. A failed test carries its failing-row count and compiled SQL path; a
 * warning passes, with its message in <system-out>.
 */
export function junitXml(results: readonly NodeResult[], suiteName = 'kiln'): string {
  const byType = new Map<string, NodeResult[]>();
  for (const r of results) {
    const type = r.unique_id.split('.')[0] ?? 'node';
    if (!byType.has(type)) byType.set(type, []);
    byType.get(type)!.push(r);
  }
  const order = ['unit_test', 'test', 'source', 'seed', 'model', 'snapshot'];
  const types = [...byType.keys()].sort((a, b) => rank(order, a) - rank(order, b) || a.localeCompare(b));
  const suites = types.map((type) => suite(type, byType.get(type)!));
  const all = (pred: (r: NodeResult) => boolean) => results.filter(pred).length;
  const time = results.reduce((s, r) => s + r.execution_time, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${esc(suiteName)}" tests="${results.length}" failures="${all((r) => r.status === 'fail')}" errors="${all((r) => r.status === 'error')}" skipped="${all((r) => r.status === 'skipped')}" time="${time.toFixed(3)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

const SUITE_NAMES: Record<string, string> = { test: 'data tests', unit_test: 'unit tests', model: 'models', seed: 'seeds', source: 'sources' };

function suite(type: string, results: readonly NodeResult[]): string {
  const count = (s: string) => results.filter((r) => r.status === s).length;
  const time = results.reduce((s, r) => s + r.execution_time, 0);
  const head = `  <testsuite name="${esc(SUITE_NAMES[type] ?? type)}" tests="${results.length}" failures="${count('fail')}" errors="${count('error')}" skipped="${count('skipped')}" time="${time.toFixed(3)}">`;
  return [head, ...results.map(testcase), '  </testsuite>'].join('\n');
}

function testcase(r: NodeResult): string {
  const name = r.unique_id.split('.').slice(2).join('.');
  const open = `    <testcase name="${esc(name)}" classname="${esc(r.unique_id)}"${r.original_file_path ? ` file="${esc(r.original_file_path)}"` : ''} time="${r.execution_time.toFixed(3)}"`;
  const message = r.message ?? '';
  const sql = r.compiled_path ? `\ncompiled SQL: ${r.compiled_path}` : '';
  switch (r.status) {
    case 'fail': {
      const rows = r.failures ?? 0;
      const summary = r.unique_id.startsWith('unit_test.') ? `${rows} differing row${rows === 1 ? '' : 's'}` : `${rows} failing row${rows === 1 ? '' : 's'}`;
      return `${open}>\n      <failure type="fail" message="${esc(summary)}">${esc(`${message}${message.includes(r.compiled_path ?? '\u0000') ? '' : sql}`)}</failure>\n    </testcase>`;
    }
    case 'error':
      return `${open}>\n      <error type="error" message="${esc(message.split('\n')[0] ?? '')}">${esc(`${message}${sql}`)}</error>\n    </testcase>`;
    case 'skipped':
      return `${open}>\n      <skipped message="${esc(message)}"/>\n    </testcase>`;
    case 'warn':
      return `${open}>\n      <system-out>${esc(`warning: ${message}`)}</system-out>\n    </testcase>`;
    default:
      return `${open}/>`;
  }
}

function rank(order: readonly string[], type: string): number {
  const i = order.indexOf(type);
  return i < 0 ? order.length : i;
}

/** XML-escapes text and drops characters XML 1.0 cannot carry (ANSI escapes, NUL). */
function esc(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function writeText(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
