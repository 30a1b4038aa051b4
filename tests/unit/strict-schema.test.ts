import { afterAll, describe, expect, it } from 'vitest';
import { testColumn } from '../../src/adapters/test-queries.js';
import { compileProject, type CompiledProject } from '../../src/compile/compile-project.js';
import type { TestManifestNode } from '../../src/compile/manifest.js';
import { formatError, formatLocation, KilnError, KilnErrors, type Warning } from '../../src/errors.js';
import { loadProject } from '../../src/project/load-project.js';
import { projectYml, removeProjects, writeProject, type ProjectFiles } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

/** Compiles with an explicit environment, so the test process's own CI variable plays no part. */
function compile(files: ProjectFiles, opts: { env?: Record<string, string>; strict?: boolean } = {}): CompiledProject {
  const dir = writeProject(files);
  const project = loadProject({ projectDir: dir, env: opts.env ?? {}, ...(opts.strict ? { strict: true } : {}) });
  return compileProject(project, { invocationId: 'inv-1', runStartedAt: new Date('2025-01-02T03:04:05Z') });
}

function compileErrors(files: ProjectFiles, opts: { env?: Record<string, string>; strict?: boolean } = {}): KilnError[] {
  try {
    compile(files, opts);
  } catch (err) {
    if (err instanceof KilnErrors) return [...err.errors];
    expect(err).toBeInstanceOf(KilnError);
    return [err as KilnError];
  }
  throw new Error('expected compile to fail');
}

/** `file:line: message (hint)`, the way a user reads a warning. */
const line = (w: Warning) => `${formatLocation(w.location)}: ${w.message}${w.hint ? ` (${w.hint})` : ''}`;
const warningLines = (c: CompiledProject) => c.warnings.map(line);

/** The issue's misspellings, one of each, in one project. */
const TYPOS: ProjectFiles = {
  'project.yml': projectYml('proj'),
  'sources.yml': `sources:
  - name: files
    loader: csv
    tables:
      - name: orders
        path: data/orders.csv
        requird: true
        max_rejectd: 0
      - name: items
        path: data/items.csv
        colums:
          - { name: id, data_type: UInt32 }
`,
  'models/m.sql': 'SELECT 1 AS id, 5 AS rating',
  'models/schema.yml': `models:
  - name: m
    columns:
      - name: id
        data_test: [not_null]
      - name: rating
        data_tests:
          - accepted_range: { min_valu: 0, max_value: 10 }
`,
};

const TYPO_WARNINGS = [
  "sources.yml:7: unknown key 'requird' in source table (ignored) (did you mean 'required'?)",
  "sources.yml:8: unknown key 'max_rejectd' in source table (ignored) (did you mean 'max_rejected'?)",
  "sources.yml:11: unknown key 'colums' in source table (ignored) (did you mean 'columns'?)",
  "models/schema.yml:5: unknown key 'data_test' in column (ignored) (did you mean 'data_tests'?)",
  "models/schema.yml:8: test 'accepted_range' has no argument 'min_valu' (ignored) (did you mean 'min_value'?)",
];

describe('unknown keys warn with file:line and the closest key', () => {
  it("catches each of the issue's misspellings", () => {
    const c = compile(TYPOS);
    expect(warningLines(c)).toEqual(TYPO_WARNINGS);
  });

  it("loader: jsnl is exit 2 at compile, with its line and the loader it meant", () => {
    const errors = compileErrors({
      'project.yml': projectYml('proj'),
      'sources.yml': 'sources:\n  - name: ev\n    loader: jsnl\n    tables: [{ name: e, path: e.jsonl }]\n',
    });
    expect(errors.map(formatError)).toEqual(["sources.yml:3: source 'ev': unknown loader 'jsnl'\n  hint: did you mean 'jsonl'?"]);
    expect(errors[0]!.kind).toBe('invalid');
  });

  it('checks a table-level loader and freshness periods', () => {
    const errors = compileErrors({
      'project.yml': projectYml('proj'),
      'sources.yml': `sources:
  - name: ev
    loader: jsonl
    freshness:
      warn_after: { count: 12, period: hours }
    tables:
      - name: e
        path: e.jsonl
        loader: cvs
        freshness:
          error_after: { count: 1, period: dya }
`,
    });
    expect(errors.map((e) => `${formatLocation(e.location)}: ${e.message}`)).toEqual([
      'sources.yml:9: source ev.e: unknown loader \'cvs\'',
      "sources.yml:11: source ev.e: freshness error_after period 'dya' is not one of minute, hour, day",
    ]);
  });

  it('accepts the dbt spellings kiln supports without a word', () => {
    const c = compile({
      'project.yml': projectYml('proj', 'config-version: 2\nprofile: x\nstrict: false\n'),
      'sources.yml': `version: 2
sources:
  - name: app
    description: the app
    meta: { owner: me }
    tags: [raw]
    loader: csv
    freshness: { warn_after: { count: 1, period: day } }
    loaded_at_field: _kiln_loaded_at
    tables:
      - name: users
        identifier: app_users
        path: u.csv
        docs: { show: true }
        tests: [{ unique: { column_name: id } }]
        columns:
          - { name: id, description: key, data_type: UInt32, quote: true, meta: {}, tags: [k], tests: [not_null] }
`,
      'models/m.sql': 'SELECT 1 AS id',
      'models/schema.yml': `version: 2
models:
  - name: m
    description: a model
    docs: { show: false }
    meta: { a: 1 }
    tags: [x]
    config: { materialized: table }
    data_tests:
      - expression_is_true: { arguments: { expression: 'id > 0' }, config: { severity: warn }, description: positive ids }
    columns:
      - name: id
        description: key
        data_type: UInt32
        quote: false
        data_tests: [unique]
        tests: [not_null]
unit_tests:
  - name: ut
    model: m
    description: one row
    config: { tags: [u] }
    given: []
    expect: { rows: [{ id: 1 }] }
`,
    });
    expect(c.warnings).toEqual([]);
  });

  it('a dbt key for a feature kiln lacks says it is ignored, and strict mode leaves it a warning', () => {
    const files: ProjectFiles = {
      'project.yml': projectYml('proj', 'on-run-end: ["select 1"]\n'),
      'models/m.sql': 'SELECT 1 AS id',
      'models/schema.yml': 'models:\n  - name: m\n    columns:\n      - name: id\n        granularity: 2\n',
    };
    const expected = [
      "project.yml:5: project key 'on-run-end' is not supported by kiln (ignored)",
      "models/schema.yml:5: 'granularity' in column is not supported by kiln (ignored)",
    ];
    expect(warningLines(compile(files))).toEqual(expected);
    expect(warningLines(compile(files, { strict: true }))).toEqual(expected);
  });

  it('seed properties, unit tests and source connections are checked too', () => {
    const c = compile({
      'project.yml': projectYml('proj'),
      'seeds/codes.csv': 'code\nA\n',
      'seeds/seeds.yml': 'seeds:\n  - name: codes\n    descripton: codes\n',
      'sources.yml': 'sources:\n  - name: app\n    loader: mysql\n    dump: app.sql\n    connection: { host: h, pasword: x }\n    tables: [{ name: users }]\n',
      'models/m.sql': "SELECT 1 AS id FROM {{ source('app', 'users') }}",
      'models/unit.yml': `unit_tests:
  - name: ut
    model: m
    given:
      - input: source('app', 'users')
        row: [{ id: 1 }]
    expect: { rows: [{ id: 1 }], formt: dict }
`,
    });
    expect(warningLines(c)).toEqual([
      "sources.yml:5: unknown key 'pasword' in connection (ignored) (did you mean 'password'?)",
      "models/unit.yml:6: unknown key 'row' in unit test input (ignored) (did you mean 'rows'?)",
      "models/unit.yml:7: unknown key 'formt' in unit test expect (ignored) (did you mean 'format'?)",
      "seeds/seeds.yml:3: unknown key 'descripton' in seed (ignored) (did you mean 'description'?)",
    ]);
  });

  it('unknown keys of targets other than the selected one warn too', () => {
    const c = compile({
      'project.yml': projectYml('proj', '  prod: { engine: clickhouse, url: "http://x:8123", pasword: secret }\n'),
    });
    expect(warningLines(c)).toEqual(["project.yml:5: unknown key 'pasword' in target 'prod' (ignored) (did you mean 'password'?)"]);
  });
});

describe('strict mode', () => {
  const expectAllErrors = (errors: KilnError[], reason: string) => {
    expect(errors.map((e) => `${formatLocation(e.location)}: ${e.message}`)).toEqual(TYPO_WARNINGS.map((w) => w.replace(/ \(ignored\) \(did you mean '[a-z_]+'\?\)$/, '')));
    for (const e of errors) {
      expect(e.kind).toBe('invalid');
      expect(e.hint).toMatch(/^did you mean '[a-z_]+'\? \(an error under (.+)\)$/);
      expect(e.hint!.endsWith(`(an error under ${reason})`)).toBe(true);
    }
  };

  it('--strict makes every unknown key an error, all reported at once', () => {
    expectAllErrors(compileErrors(TYPOS, { strict: true }), '--strict');
  });

  it('strict: true in project.yml does the same', () => {
    expectAllErrors(compileErrors({ ...TYPOS, 'project.yml': projectYml('proj', 'strict: true\n') }), 'strict: true in project.yml');
  });

  it('CI=true does the same; strict: false in project.yml keeps them warnings there', () => {
    expectAllErrors(compileErrors(TYPOS, { env: { CI: 'true' } }), 'CI=true');
    expect(compile({ ...TYPOS, 'project.yml': projectYml('proj', 'strict: false\n') }, { env: { CI: 'true' } }).warnings).toHaveLength(5);
    expect(compile(TYPOS, { env: { CI: 'false' } }).warnings).toHaveLength(5);
  });

  it('strict errors come with the project\'s other errors', () => {
    const errors = compileErrors({ ...TYPOS, 'models/bad.sql': "SELECT * FROM {{ ref('nope') }}" }, { strict: true });
    expect(errors.map((e) => e.message)).toContain("unknown ref 'nope'");
    expect(errors).toHaveLength(6);
  });

  it('an unknown key in a test config is an unknown key too', () => {
    const errors = compileErrors({
      'project.yml': projectYml('proj'),
      'models/m.sql': 'SELECT 1 AS id',
      'models/schema.yml': 'models:\n  - name: m\n    columns:\n      - name: id\n        data_tests:\n          - unique: { config: { severity: warn, sevrity: error } }\n',
    }, { strict: true });
    expect(errors.map((e) => `${formatLocation(e.location)}: ${e.message}`)).toEqual(["models/schema.yml:6: unknown key 'sevrity' in the config of test 'unique'"]);
    expect(errors[0]!.hint).toMatch(/^did you mean 'severity'\?/);
  });
});

describe('generic test arguments against the macro signature', () => {
  const files = (testEntry: string): ProjectFiles => ({
    'project.yml': projectYml('proj'),
    'macros/at_least.sql': "{% test at_least(model, column_name, min_count, label='rows') %}\nSELECT 1 FROM {{ model }} HAVING count() < {{ min_count }}\n{% endtest %}\n",
    'models/m.sql': 'SELECT 1 AS id',
    'models/schema.yml': `models:\n  - name: m\n    columns:\n      - name: id\n        data_tests:\n          - ${testEntry}\n`,
  });

  it("a user test's unknown argument warns with the closest parameter", () => {
    const c = compile(files('at_least: { min_count: 1, lable: x }'));
    expect(warningLines(c)).toEqual(["models/schema.yml:6: test 'at_least' has no argument 'lable' (ignored) (did you mean 'label'?)"]);
  });

  it('in block style, the warning points at the misspelled argument or config key itself', () => {
    const c = compile({
      'project.yml': projectYml('proj'),
      'models/m.sql': 'SELECT 5 AS rating',
      'models/schema.yml': `models:
  - name: m
    columns:
      - name: rating
        data_tests:
          - accepted_range:
              max_value: 10
              min_valu: 0
          - unique:
              config:
                sevrity: warn
          - test_name: accepted_values
            valus: [5]
            values: [5]
`,
    });
    expect(warningLines(c)).toEqual([
      "models/schema.yml:8: test 'accepted_range' has no argument 'min_valu' (ignored) (did you mean 'min_value'?)",
      "models/schema.yml:11: unknown key 'sevrity' in the config of test 'unique' (ignored) (did you mean 'severity'?)",
      "models/schema.yml:13: test 'accepted_values' has no argument 'valus' (ignored) (did you mean 'values'?)",
    ]);
  });

  it('a missing required argument is an error naming the macro', () => {
    const errors = compileErrors(files('at_least: { min_cnt: 1 }'));
    expect(errors.map(formatError)).toEqual([
      "models/schema.yml:6: test 'at_least' needs argument 'min_count'\n  hint: its macro is test at_least(model, column_name, min_count, label=…) at macros/at_least.sql:1",
    ]);
  });

  it('a macro that reads kwargs takes any argument', () => {
    const c = compile({
      ...files('loose: { anything: 1 }'),
      'macros/loose.sql': '{% test loose(model) %}SELECT 1 FROM {{ model }} WHERE {{ kwargs.anything }} = 0{% endtest %}',
    });
    expect(c.warnings).toEqual([]);
  });

  it('builtin tests: accepted_values without values is still the specific error', () => {
    const errors = compileErrors(files('accepted_values: { valuse: [a] }'));
    expect(errors.map((e) => e.message)).toEqual(["test 'accepted_values' needs a non-empty values list"]);
  });
});

describe('YAML column names in test SQL', () => {
  it('kiln quotes a name unless it is a single function call or quote: false says it is an expression', () => {
    expect(testColumn('id', undefined)).toBe('`id`');
    expect(testColumn('order date', undefined)).toBe('`order date`');
    expect(testColumn('a) OR (1=1', undefined)).toBe('`a) OR (1=1`');
    expect(testColumn('x; DROP TABLE y', undefined)).toBe('`x; DROP TABLE y`');
    expect(testColumn('coalesce(a) OR (1=1)', undefined)).toBe('`coalesce(a) OR (1=1)`');
    expect(testColumn('weird`name', undefined)).toBe('`weird\\`name`');
    expect(testColumn('coalesce(a, b)', undefined)).toBe('coalesce(a, b)');
    expect(testColumn("lower(concat(a, ')'))", undefined)).toBe("lower(concat(a, ')'))");
    expect(testColumn('a || b', false)).toBe('a || b');
    expect(testColumn('coalesce(a, b)', true)).toBe('`coalesce(a, b)`');
  });

  it("compiles kiln's tests with the column quoted, and a project's own tests as written (dbt) unless quote: true", () => {
    const c = compile({
      'project.yml': projectYml('proj'),
      'macros/is_even.sql': '{% test is_even(model, column_name) %}SELECT * FROM {{ model }} WHERE {{ column_name }} % 2 != 0{% endtest %}',
      'models/m.sql': 'SELECT 1 AS `order date`, 2 AS a, 3 AS b',
      'models/schema.yml': `models:
  - name: m
    columns:
      - name: order date
        data_tests: [not_null]
      - name: a) OR (1=1
        data_tests: [unique]
      - name: coalesce(a, b)
        data_tests: [not_null]
      - name: a + b
        quote: false
        data_tests: [not_null, is_even]
      - name: b
        quote: true
        data_tests: [is_even]
    data_tests:
      - unique: { column_name: "a || '-' || b" }
`,
    });
    const on = (column: string, test: string) =>
      Object.values(c.manifest.tests).filter((t) => t.column_name === column && t.test_metadata?.name === test).map((t) => (t as TestManifestNode).compiled_code);
    expect(on('order date', 'not_null')).toEqual([expect.stringContaining('WHERE `order date` IS NULL')]);
    expect(on('a) OR (1=1', 'unique')).toEqual([expect.stringContaining('WHERE `a) OR (1=1` IS NOT NULL')]);
    expect(on('coalesce(a, b)', 'not_null')).toEqual([expect.stringContaining('WHERE coalesce(a, b) IS NULL')]);
    expect(on('a + b', 'not_null')).toEqual([expect.stringContaining('WHERE a + b IS NULL')]);
    expect(on('a + b', 'is_even')).toEqual([expect.stringContaining('WHERE a + b % 2 != 0')]);
    expect(on('b', 'is_even')).toEqual([expect.stringContaining('WHERE `b` % 2 != 0')]);
    // A column_name argument (not a column's name) is dbt's expression slot: as written.
    expect(on("a || '-' || b", 'unique')).toEqual([expect.stringContaining("WHERE a || '-' || b IS NOT NULL")]);
  });
});

describe('folder configs in project.yml', () => {
  it('a folder config that names no folder of models warns with its line and the folder it meant', () => {
    const c = compile({
      'project.yml': projectYml('proj', 'models:\n  proj:\n    staging: { +materialized: view }\n  marts:\n    core: { +materialized: table }\n  stagin: { +tags: [x] }\nseeds:\n  +enabled: true\n  refrence: { +enabled: true }\n'),
      'models/staging/a.sql': 'SELECT 1 AS id',
      'models/marts/core/b.sql': 'SELECT 1 AS id',
      'seeds/reference/c.csv': 'id\n1\n',
    });
    expect(warningLines(c)).toEqual([
      "project.yml:10: folder config 'stagin' under models: applies to nothing: no folder of models is named so (ignored) (did you mean 'staging'?)",
      "project.yml:13: folder config 'refrence' under seeds: applies to nothing: no folder of seeds is named so (ignored) (did you mean 'reference'?)",
    ]);
  });
});
