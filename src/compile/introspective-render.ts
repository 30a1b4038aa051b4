import { KilnError } from '../errors.js';
import { AnswerBook, type WarehouseQuestion } from '../template/introspection.js';
import type { RelationName } from '../template/dbt-context.js';
import type { RenderOutput } from '../template/template-engine.js';
import type { CompiledProject } from './compile-project.js';
import { assertOneStatement } from './check-statements.js';
import { engineOf } from './engine-of.js';
import type { ExecutableModel } from './execution-manifest.js';
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

/** The model's SQL, incremental SQL and hooks, rendered with `execute` true against the target. */
export async function renderIntrospective(compiled: CompiledProject, uniqueId: string, exec: ExecutableModel, ask: AskWarehouse): Promise<ExecutableModel> {
  const engine = engineOf.get(compiled);
  const node = compiled.parsed.models.find((m) => m.uniqueId === uniqueId);
  if (!engine || !node) throw new KilnError('INTERNAL', `model ${uniqueId} asks the warehouse while rendering, and its compile is not at hand to render it again`);
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
  const where = { file: node.originalFilePath };
  const render = async (code: string, what: string, isIncremental: boolean): Promise<RenderedSql> => {
    for (let round = 0; ; round++) {
      let out: RenderOutput;
      try {
        out = engine.render({ name: node.name, file: node.originalFilePath, code, isIncremental, answers: book, refRelation });
      } catch (err) {
        // A render that failed on an answer it did not have yet (an empty column list) is retried with it.
        if (book.missing.size === 0 || round >= MAX_ROUNDS) throw err;
        await answerMissing();
        continue;
      }
      if (book.missing.size === 0) {
        assertOneStatement(out.sql, where, what);
        return { sql: out.sql, refs: out.refs };
      }
      if (round >= MAX_ROUNDS) {
        throw new KilnError('TEMPLATE_ERROR', `${what} asked the warehouse more than ${MAX_ROUNDS} times in a row while rendering`, {
          location: where,
          hint: 'each run_query/statement whose SQL depends on the previous answer is one round; render fewer in sequence',
        });
      }
      await answerMissing();
    }
  };
  const config = compiled.manifest.nodes[uniqueId]?.config;
  const sql = await render(node.rawCode, `model '${node.name}'`, false);
  const incrementalSql = exec.incrementalSql ? await render(node.rawCode, `model '${node.name}' (is_incremental)`, true) : undefined;
  const hooks = async (list: readonly string[] | undefined, kind: string) => {
    const out: RenderedSql[] = [];
    for (const h of list ?? []) out.push(await render(h, `a ${kind} of model '${node.name}'`, false));
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
