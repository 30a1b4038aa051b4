import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TemplateCacheFile } from '../../src/compile/template-cache-file.js';
import { KilnError } from '../../src/errors.js';
import type { MacroFile } from '../../src/project/nodes.js';
import type { CompiledTemplateCache } from '../../src/template/template-cache.js';
import { sourceRelationsOf, TemplateEngine } from '../../src/template/template-engine.js';

const MACROS: MacroFile[] = [{ path: 'macros/m.sql', source: "{% macro cents(col) %}round({{ col }} * 100){% endmacro %}" }];
const MODEL = "{% set cols = ['a', 'b'] %}SELECT {% for c in cols %}{{ cents(c) }}{% if not loop.last %}, {% endif %}{% endfor %} FROM {{ ref('x') }}";

class MemoryCache implements CompiledTemplateCache {
  readonly entries = new Map<string, string>();
  hits = 0;
  get(key: string) {
    const v = this.entries.get(key);
    if (v !== undefined) this.hits++;
    return v;
  }
  set(key: string, source: string) {
    this.entries.set(key, source);
  }
}

function engine(templateCache?: CompiledTemplateCache): TemplateEngine {
  return new TemplateEngine({
    projectName: 'p',
    scope: { vars: {}, env: {} },
    target: { name: 'dev', engine: 'embedded', database: 'analytics', raw_database: 'raw' },
    runStartedAt: new Date('2025-01-01T00:00:00Z'),
    invocationId: 'inv',
    sources: sourceRelationsOf(new Map()),
    macros: MACROS,
    ...(templateCache ? { templateCache } : {}),
  });
}

function attempt(eng: TemplateEngine, code: string) {
  try {
    return eng.render({ name: 'm', file: 'models/m.sql', code });
  } catch (err) {
    if (!(err instanceof KilnError)) throw err;
    return { code: err.code, message: err.message, location: err.location, hint: err.hint };
  }
}

describe('compiled-template cache', () => {
  it('renders the same with no cache, a cold cache and a warm one', () => {
    const cache = new MemoryCache();
    const plain = attempt(engine(), MODEL);
    expect(attempt(engine(cache), MODEL)).toEqual(plain);
    expect(cache.entries.size).toBe(3); // kiln's cross-database macros, the macro file and the model
    expect(attempt(engine(cache), MODEL)).toEqual(plain);
    expect(cache.hits).toBe(3);
  });

  it('keeps syntax errors as they were and never caches them', () => {
    const cache = new MemoryCache();
    const broken = 'SELECT 1\n{% if x %}\nFROM t';
    expect(attempt(engine(cache), broken)).toEqual(attempt(engine(), broken));
    expect(cache.entries.size).toBe(2); // only the macro files (kiln's and the project's)
  });

  it('compiles afresh over a corrupt entry', () => {
    const cache = new MemoryCache();
    attempt(engine(cache), MODEL);
    for (const key of cache.entries.keys()) cache.entries.set(key, 'this is not javascript {');
    expect(attempt(engine(cache), MODEL)).toEqual(attempt(engine(), MODEL));
  });
});

describe('TemplateCacheFile', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const fileIn = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-tcache-'));
    dirs.push(dir);
    return join(dir, '.cache', 'templates.json');
  };

  it('round-trips, keeps only what was used, and drops everything on a new version', () => {
    const file = fileIn();
    const first = TemplateCacheFile.open(file, 'v1');
    first.set('a', 'A');
    first.set('b', 'B');
    first.save();
    const second = TemplateCacheFile.open(file, 'v1');
    expect(second.get('a')).toBe('A');
    second.save(); // 'b' was not used
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).entries)).toEqual(['a']);
    expect(TemplateCacheFile.open(file, 'v2').get('a')).toBeUndefined();
  });

  it('treats a missing or corrupt file as empty and does not write when nothing changed', () => {
    const file = fileIn();
    const empty = TemplateCacheFile.open(file, 'v1');
    expect(empty.get('a')).toBeUndefined();
    empty.save();
    expect(existsSync(file)).toBe(false);
    const other = TemplateCacheFile.open(file, 'v1');
    other.set('a', 'A');
    other.save();
    writeFileSync(file, '{ not json');
    expect(TemplateCacheFile.open(file, 'v1').get('a')).toBeUndefined();
  });
});
