import { createHash } from 'node:crypto';
import { KilnError, type SourceLocation } from '../errors.js';
import { didYouMean } from '../project/closest.js';
import { isPlainObject } from '../project/node-config.js';
import { uniqueIds, type UnitTestSpec } from '../project/nodes.js';
import type { TestCompileContext } from './data-test-nodes.js';
import type { UnitTestRender } from './execution-manifest.js';
import type { UnitTestManifestNode } from './manifest.js';

/** A `given` input: `ref('x')`, `source('a', 'b')` or `this` (the model itself, for incremental runs). */
export type UnitTestInput =
  | { readonly kind: 'ref'; readonly name: string }
  | { readonly kind: 'source'; readonly source: string; readonly table: string }
  | { readonly kind: 'this' };

const REF = /^\s*ref\s*\(\s*(?:['"][^'"]+['"]\s*,\s*)?['"]([^'"]+)['"]\s*\)\s*$/;
const SOURCE = /^\s*source\s*\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*$/;

export function parseUnitTestInput(text: string): UnitTestInput | undefined {
  const ref = REF.exec(text);
  if (ref) return { kind: 'ref', name: ref[1]! };
  const source = SOURCE.exec(text);
  if (source) return { kind: 'source', source: source[1]!, table: source[2]! };
  return text.trim() === 'this' ? { kind: 'this' } : undefined;
}

/** `unit_tests:` entries → manifest unit test nodes, validated against the compiled models. */
export function compileUnitTests(ctx: TestCompileContext): { nodes: Record<string, UnitTestManifestNode>; rendered: Record<string, UnitTestRender> } {
  const nodes: Record<string, UnitTestManifestNode> = {};
  const rendered: Record<string, UnitTestRender> = {};
  const projectName = ctx.project.config.name;
  const models = [...ctx.refable].filter(([, v]) => v.uniqueId.startsWith('model.')).map(([name]) => name);
  const sources = new Set(ctx.parsed.sources.map((s) => `${s.sourceName}.${s.tableName}`));
  // Any table of a whole-database source may be given (only the database knows which exist).
  const wholeDatabase = new Set(ctx.parsed.wholeDatabaseSources.map((w) => w.sourceName));
  for (const spec of ctx.parsed.unitTests) {
    ctx.diagnostics.capture(() => {
      const node = unitTestNode(ctx, spec, projectName, models, sources, wholeDatabase);
      if (!node) return;
      if (nodes[node.unique_id]) {
        throw new KilnError('DUPLICATE_NODE', `two unit tests of model '${spec.model}' are named '${spec.name}'`, { location: spec.location });
      }
      nodes[node.unique_id] = node;
      rendered[node.unique_id] = renderForTest(ctx, node);
    });
  }
  return { nodes, rendered };
}

/** The tested model rendered with the test's overrides, so running the test needs no template engine. */
function renderForTest(ctx: TestCompileContext, node: UnitTestManifestNode): UnitTestRender {
  const model = ctx.parsed.models.find((m) => m.name === node.model)!;
  const out = ctx.engine.render({
    name: model.name,
    file: model.originalFilePath,
    code: model.rawCode,
    isIncremental: node.overrides.is_incremental === true,
    vars: node.overrides.vars,
  });
  return { sql: out.sql, refs: out.refs, sources: out.sources };
}

function unitTestNode(
  ctx: TestCompileContext,
  spec: UnitTestSpec,
  projectName: string,
  models: readonly string[],
  sources: ReadonlySet<string>,
  wholeDatabase: ReadonlySet<string>,
): UnitTestManifestNode | undefined {
  const where = spec.location;
  const raw = spec.raw;
  const label = `unit test '${spec.name}'`;
  const config = isPlainObject(raw.config) ? raw.config : {};
  if (config.enabled === false) return undefined;
  if (!spec.model || !models.includes(spec.model)) {
    const disabled = ctx.disabled.has(spec.model);
    throw new KilnError('UNKNOWN_REF', `${label} is for model '${spec.model || '(none)'}', which ${disabled ? 'is disabled' : 'does not exist'}`, {
      location: where,
      hint: spec.model ? didYouMean(spec.model, models) ?? 'set model: to the name of a model file' : 'add model: <model name>',
    });
  }
  const given = raw.given ?? [];
  if (!Array.isArray(given)) throw new KilnError('CONFIG_INVALID', `${label}: 'given' must be a list of inputs`, { location: where });
  const inputs = given.map((g: unknown, i: number) => {
    if (!isPlainObject(g) || typeof g.input !== 'string') {
      throw new KilnError('CONFIG_INVALID', `${label}: given[${i}] needs input: ref('model') or source('src', 'table')`, { location: where });
    }
    const input = parseUnitTestInput(g.input);
    if (!input) {
      throw new KilnError('CONFIG_INVALID', `${label}: cannot read input '${g.input}'`, {
        location: where,
        hint: "write input: ref('stg_reviews'), input: source('app', 'reviews') or input: this",
      });
    }
    if (input.kind === 'ref' && !ctx.refable.has(input.name)) {
      throw new KilnError('UNKNOWN_REF', `${label}: unknown ref '${input.name}' in given`, {
        location: where,
        hint: didYouMean(input.name, ctx.refable.keys()) ?? 'no model or seed has that name',
      });
    }
    if (input.kind === 'source' && !sources.has(`${input.source}.${input.table}`) && !wholeDatabase.has(input.source)) {
      throw new KilnError('UNKNOWN_SOURCE', `${label}: unknown source '${input.source}.${input.table}' in given`, {
        location: where,
        hint: didYouMean(`${input.source}.${input.table}`, sources) ?? 'declare it in sources.yml',
      });
    }
    return { input: g.input, ...fixture(g, `${label}: input ${g.input}`, where) };
  });
  if (!isPlainObject(raw.expect)) {
    throw new KilnError('CONFIG_INVALID', `${label} needs expect: { rows: [...] }`, { location: where });
  }
  const overrides = isPlainObject(raw.overrides) ? raw.overrides : {};
  const macros = isPlainObject(overrides.macros) ? overrides.macros : {};
  const isIncremental = macros.is_incremental ?? overrides.is_incremental;
  if (isIncremental !== undefined && typeof isIncremental !== 'boolean') {
    throw new KilnError('CONFIG_INVALID', `${label}: overrides is_incremental must be true or false`, { location: where });
  }
  if (overrides.vars !== undefined && !isPlainObject(overrides.vars)) {
    throw new KilnError('CONFIG_INVALID', `${label}: overrides vars must be a mapping`, { location: where });
  }
  const modelId = ctx.refable.get(spec.model)!.uniqueId;
  const modelNode = ctx.parsed.models.find((m) => m.name === spec.model)!;
  const tags = [config.tags ?? raw.tags ?? []].flat().map(String);
  return {
    unique_id: uniqueIds.unitTest(projectName, spec.model, spec.name),
    resource_type: 'unit_test',
    name: spec.name,
    model: spec.model,
    package_name: projectName,
    original_file_path: where.file,
    path: where.file,
    fqn: [...modelNode.fqn, spec.name],
    description: typeof raw.description === 'string' ? raw.description : '',
    tags,
    config: { ...config, tags, enabled: true },
    depends_on: { nodes: [modelId], macros: [] },
    given: inputs,
    expect: fixture(raw.expect, `${label}: expect`, where),
    overrides: { vars: (overrides.vars as Record<string, unknown> | undefined) ?? {}, is_incremental: isIncremental ?? null },
    declared_at: { file: where.file, line: where.line ?? null },
    checksum: { name: 'sha256', checksum: createHash('sha256').update(JSON.stringify(raw)).digest('hex') },
  };
}

function fixture(raw: Record<string, unknown>, label: string, where: SourceLocation): { rows: unknown; format: 'dict' | 'csv' } {
  const format = raw.format ?? 'dict';
  if (format === 'dict') {
    const rows = raw.rows ?? [];
    if (!Array.isArray(rows) || !rows.every((r) => isPlainObject(r))) {
      throw new KilnError('CONFIG_INVALID', `${label}: rows must be a list of mappings`, { location: where, hint: 'rows: [{ id: 1, name: a }]' });
    }
    return { rows, format };
  }
  if (format === 'csv') {
    if (typeof raw.rows !== 'string' || !raw.rows.trim()) {
      throw new KilnError('CONFIG_INVALID', `${label}: format csv needs rows: | followed by a header line and data lines`, { location: where });
    }
    return { rows: raw.rows, format };
  }
  throw new KilnError('CONFIG_INVALID', `${label}: format '${String(format)}' is not supported`, {
    location: where,
    hint: 'use format: dict (YAML rows, the default) or format: csv',
  });
}
