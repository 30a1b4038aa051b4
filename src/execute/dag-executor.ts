/**
 * A generic DAG executor: runs each node once all its dependencies succeeded, at most `threads`
 * at a time. A node that fails marks everything downstream skipped; with `failFast` nothing new
 * starts after the first failure. Knows nothing about SQL.
 */

export interface DagTask {
  readonly id: string;
  /** Dependencies inside this execution; others are assumed satisfied. */
  readonly deps: readonly string[];
}

export interface TaskOutcome<R> {
  readonly result: R;
  /** False when dependants must not run (an error or an error-severity test failure). */
  readonly ok: boolean;
}

export interface DagExecution<R> {
  readonly tasks: readonly DagTask[];
  readonly threads: number;
  readonly failFast?: boolean;
  run(task: DagTask, threadId: number): Promise<TaskOutcome<R>>;
  /** Called for a task that will not run; `cause` is the failed upstream id (or undefined for fail-fast). */
  skip(task: DagTask, cause: string | undefined): R;
}

export async function executeDag<R>(exec: DagExecution<R>): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  const byId = new Map(exec.tasks.map((t) => [t.id, t]));
  const pending = new Map<string, number>();
  const dependants = new Map<string, string[]>();
  for (const t of exec.tasks) {
    const deps = t.deps.filter((d) => byId.has(d) && d !== t.id);
    pending.set(t.id, deps.length);
    for (const d of deps) {
      if (!dependants.has(d)) dependants.set(d, []);
      dependants.get(d)!.push(t.id);
    }
  }
  const ready = exec.tasks.filter((t) => pending.get(t.id) === 0).map((t) => t.id);
  const freeThreads = Array.from({ length: Math.max(1, exec.threads) }, (_, i) => exec.threads - i);
  let stopped = false;
  let running = 0;

  const skipDownstream = (id: string, cause: string) => {
    const queue = [...(dependants.get(id) ?? [])];
    while (queue.length) {
      const next = queue.shift()!;
      if (results.has(next)) continue;
      results.set(next, exec.skip(byId.get(next)!, cause));
      queue.push(...(dependants.get(next) ?? []));
    }
  };

  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (!stopped && ready.length && freeThreads.length) {
        const id = ready.shift()!;
        if (results.has(id)) continue; // skipped meanwhile
        const thread = freeThreads.pop()!;
        running++;
        exec
          .run(byId.get(id)!, thread)
          .then((outcome) => {
            results.set(id, outcome.result);
            if (!outcome.ok) {
              skipDownstream(id, id);
              if (exec.failFast) stopped = true;
            } else {
              for (const d of dependants.get(id) ?? []) {
                const left = pending.get(d)! - 1;
                pending.set(d, left);
                if (left === 0 && !results.has(d)) ready.push(d);
              }
            }
          })
          .catch(reject)
          .finally(() => {
            running--;
            freeThreads.push(thread);
            pump();
          });
      }
      if (running === 0 && (stopped || ready.length === 0)) resolve();
    };
    pump();
  });

  for (const t of exec.tasks) if (!results.has(t.id)) results.set(t.id, exec.skip(t, undefined));
  return results;
}
