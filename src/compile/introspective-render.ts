import { KilnError, type SourceLocation } from '../errors.js';
import { AnswerBook, type WarehouseQuestion } from '../template/introspection.js';
import type { RelationName } from '../template/dbt-context.js';
import type { RenderOutput } from '../template/template-engine.js';
import type { CompiledProject } from './compile-project.js';
import { assertOneStatement } from './check-statements.js';
import { engineOf } from './engine-of.js';
import { hookStatements, sideStatementOutsideHook, TEST_DROP_HINT } from './hook-statements.js';
import type { ExecutableModel, TestRender } from './execution-manifest.js';
import { resolveSql, type RenderedSql } from './sql-resolver.js';

/**
 * Rendering at execution, for the models compile marked introspective (see execution-manifest.ts):
 * the one exception to "execution renders nothing". Such a model is rendered again with
 * `execute` true against the target; every other node still runs from the execution manifest.
 */


/** Asks the warehouse one question (see template/introspection.ts). */
export type AskWarehouse = (q: WarehouseQuestion) => Promise<unknown>;

/** Renders that keep asking new questions are stopped after this many rounds. */
const MAX_ROUNDS = 20;

const QUALIFIED = /^`((?:[^`\\]|\\.)*)`\.`((?:[^`\\]|\\.)*)`$/;

/** Renders until every question it asks the warehouse is answered, then checks it is one statement. */
async function renderAnswered(
  compiled: CompiledProject,
  where: SourceLocation,
  what: string,
  ask: AskWarehouse,
  render: (answers: AnswerBook, refRelation: (name: string) => RelationName | undefined) => RenderOutput,
): Promise<RenderedSql & { readonly statements?: readonly string[] }> {
  const { relations } = compiled.execution.refs;
  const refRelation = (name: string): RelationName | undefined => {
    const m = QUALIFIED.exec(relations[name] ?? '');
    return m ? { database: m[1]!.replace(/\\(.)/g, '$1'), table: m[2]!.replace(/\\(.)/g, '$1') } : undefined;
  };
  const book = new AnswerBook();
  const answerMissing = async () => {
    for (const q of [...book.missing.values()]) {
      // SQL built from ref() holds placeholders: resolve them (an ephemeral as a subquery) first.
      book.record(q, await ask(q.kind === 'query' ? { kind: 'query', sql: resolveSql(compiled.execution.refs, { sql: q.sql, refs: [] }, 'subquery') } : q));
    }
  };
  for (let round = 0; ; round++) {
    let out: RenderOutput;
    try {
      out = render(book, refRelation);
    } catch (err) {
      // A render that failed on an answer it did not have yet (an empty column list) is retried with it.
      if (book.missing.size === 0 || round >= MAX_ROUNDS) throw err;
      await answerMissing();
      continue;
    }
    if (book.missing.size === 0) {
      assertOneStatement(out.sql, where, what);
      return { sql: out.sql, refs: out.refs, ...(out.statements ? { statements: out.statements } : {}) };
    }
    if (round >= MAX_ROUNDS) {
      throw new KilnError('TEMPLATE_ERROR', `${what} asked the warehouse more than ${MAX_ROUNDS} times in a row while rendering`, {
        location: where,
        hint: 'each run_query/statement whose SQL depends on the previous answer is one round; render fewer in sequence',
      });
    }
    await answerMissing();
  }
}

function engineFor(compiled: CompiledProject, uniqueId: string) {
  const engine = engineOf.get(compiled);
  if (!engine) throw new KilnError('INTERNAL', `${uniqueId} asks the warehouse while rendering, and its compile is not at hand to render it again`);
  return engine;
}

/** The model's SQL, incremental SQL and hooks, rendered with `execute` true against the target. */
export async function renderIntrospective(compiled: CompiledProject, uniqueId: string, exec: ExecutableModel, ask: AskWarehouse): Promise<ExecutableModel> {
  const engine = engineFor(compiled, uniqueId);
  const node = compiled.parsed.models.find((m) => m.uniqueId === uniqueId);
  if (!node) throw new KilnError('INTERNAL', `model ${uniqueId} is not in the parsed project`);
  const where = { file: node.originalFilePath };
  const render = (code: string, what: string, isIncremental: boolean) =>
    renderAnswered(compiled, where, what, ask, (answers, refRelation) => engine.render({ name: node.name, file: node.originalFilePath, code, isIncremental, answers, refRelation }));
  const config = compiled.manifest.nodes[uniqueId]?.config;
  const sql = await render(node.rawCode, `model '${node.name}'`, false);
  if (sql.statements?.length) throw sideStatementOutsideHook(`model '${node.name}'`, where);
  const renderHook = async (code: string, what: string): Promise<RenderedSql[]> => {
    const out = await render(code, what, false);
    return hookStatements(out);
  };
  const incrementalSql = exec.incrementalSql ? await render(node.rawCode, `model '${node.name}' (is_incremental)`, true) : undefined;
  const hooks = async (list: readonly string[] | undefined, kind: string) => {
    const out: RenderedSql[] = [];
    for (const h of list ?? []) out.push(...(await renderHook(h, `a ${kind} of model '${node.name}'`)));
    return out;
  };
  return {
    ...exec,
    sql,
    ...(incrementalSql ? { incrementalSql } : {}),
    preHooks: config?.pre_hook?.length ? await hooks(config.pre_hook, 'pre_hook') : exec.preHooks,
    postHooks: config?.post_hook?.length ? await hooks(config.post_hook, 'post_hook') : exec.postHooks,
  };
}

/** A data test's query rendered with `execute` true against the target (see TestRender). */
export async function renderIntrospectiveTest(compiled: CompiledProject, uniqueId: string, test: TestRender, ask: AskWarehouse): Promise<RenderedSql> {
  const rerender = test.rerender;
  const node = compiled.manifest.tests[uniqueId];
  if (!rerender || !node) return test;
  const engine = engineFor(compiled, uniqueId);
  const where = { file: node.declared_at.file, ...(node.declared_at.line ? { line: node.declared_at.line } : {}) };
  const out = await renderAnswered(compiled, where, `test '${node.name}'`, ask, (answers, refRelation) =>
    'macro' in rerender
      ? engine.callMacro(rerender.macro, { name: node.name, file: where.file, answers, refRelation }, { ...rerender.args })
      : engine.render({ name: node.name, file: where.file, code: rerender.code, answers, refRelation }),
  );
  if (out.statements?.length) throw sideStatementOutsideHook(`test '${node.name}'`, where, TEST_DROP_HINT);
  // The test's relation and ref() arguments were placeholders already: keep every ref compile saw.
  return { sql: out.sql, refs: [...new Set([...test.refs, ...out.refs])] };
}
