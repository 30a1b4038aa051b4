import type { Command } from 'commander';
import { installPackages } from '../../api/deps.js';
import { clean, list, show } from '../../api/inspect.js';
import { compileOrReuse } from '../../api/invocation.js';
import { initProject, kilnInstalledFor, PACKAGE_NAME } from '../../api/init.js';
import { KilnError } from '../../errors.js';
import type { Wrap } from '../command-runner.js';
import { cliContext, EXIT } from '../context.js';

/** Commands that read the project (and at most query a model): compile, ls, show, init, clean. */
export function registerProjectCommands(program: Command, wrap: Wrap): void {
  program
    .command('compile')
    .description('write target/compiled/**.sql and target/manifest.json (no database needed)')
    .action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        const t0 = performance.now();
        const { counts, targetPath, reused } = compileOrReuse(ctx.options);
        const seconds = ((performance.now() - t0) / 1000).toFixed(2);
        ctx.reporter.emit({
          type: 'info',
          message: `Compiled ${counts.model} models, ${counts.snapshot ? `${counts.snapshot} snapshots, ` : ''}${counts.seed} seeds, ${counts.source} sources in ${seconds}s → ${targetPath}/manifest.json${reused ? ' (unchanged)' : ''}`,
        });
        return EXIT.ok;
      }),
    );

  program
    .command('ls')
    .alias('list')
    .description('list the selected nodes')
    .option('--output <format>', 'name | path | json', 'name')
    .option('--resource-type <types...>', 'model, snapshot, seed, source, test, unit_test')
    .action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        const { output, resourceType } = cmd.opts<{ output: string; resourceType?: string[] }>();
        if (!['name', 'path', 'json'].includes(output)) {
          throw new KilnError('CONFIG_INVALID', `--output must be name, path or json, got '${output}'`);
        }
        const nodes = list({ ...ctx.options, ...(resourceType ? { resourceTypes: resourceType } : {}) });
        for (const n of nodes) {
          const text = output === 'json' ? JSON.stringify(n) : output === 'path' ? n.original_file_path : n.resource_type === 'model' ? n.name : `${n.resource_type}:${n.name}`;
          streams.out.write(`${text}\n`);
        }
        return EXIT.ok;
      }),
    );

  program
    .command('show [name]')
    .description("print the first rows of a model's query, a seed, a source (source.table), a raw relation (database.table), an inline query or the quarantine")
    .option('--limit <n>', 'rows to show', '10')
    .option('--inline <sql>', "a query written like a model: {{ ref('x') }}, {{ source('a', 'b') }}, vars and macros work")
    .option('--quarantine [source.table]', "records staging rejected: all, or one source table's")
    .action(
      wrap(async (cmd, streams, name) => {
        const ctx = cliContext(cmd, streams);
        const opts = cmd.opts<{ limit: string; inline?: string; quarantine?: true | string }>();
        const limit = Number(opts.limit);
        const given = [name !== undefined, opts.inline !== undefined, opts.quarantine !== undefined].filter(Boolean).length;
        if (given !== 1) {
          throw new KilnError('CONFIG_INVALID', given === 0 ? 'kiln show needs a name, --inline or --quarantine' : 'kiln show takes one of a name, --inline or --quarantine', {
            hint: "e.g. kiln show dim_customer, kiln show app.users, kiln show --inline \"SELECT count() FROM {{ ref('dim_customer') }}\", kiln show --quarantine",
          });
        }
        const request = opts.inline !== undefined ? { inline: opts.inline } : opts.quarantine !== undefined ? { quarantine: opts.quarantine } : { model: String(name) };
        const { columns, rows } = await show({ ...ctx.options, ...request, limit: Number.isFinite(limit) ? limit : 10 });
        if (ctx.flags.json) streams.out.write(`${JSON.stringify({ columns, rows })}\n`);
        else streams.out.write(formatTable(columns, rows));
        return EXIT.ok;
      }),
    );

  program
    .command('init [dir]')
    .description('scaffold a new project')
    .action(
      wrap(async (cmd, streams, dir) => {
        const { root, files } = initProject(typeof dir === 'string' ? dir : '.');
        // `npx kiln` finds kiln only where its package is installed (the npm name `kiln` is another package).
        const next = kilnInstalledFor(root) ? `cd ${root} && npx kiln build` : `cd ${root} && npm install --save-dev ${PACKAGE_NAME} && npx kiln build`;
        streams.out.write(`Created a kiln project in ${root}:\n${files.map((f) => `  ${f}`).join('\n')}\nNext: ${next}\n`);
        return EXIT.ok;
      }),
    );

  program
    .command('deps')
    .description('install the packages packages.yml lists into dbt_packages/ and write package-lock.yml')
    .action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        const { installed, lockFile } = await installPackages({ ...(ctx.options.projectDir ? { projectDir: ctx.options.projectDir } : {}), ...(ctx.options.env ? { env: ctx.options.env } : {}) });
        if (!lockFile) {
          streams.out.write('No packages to install (no packages.yml or dependencies.yml)\n');
          return EXIT.ok;
        }
        for (const p of installed) streams.out.write(`Installed ${p.name}${p.version ? ` ${p.version}` : ''} (${p.source})\n`);
        streams.out.write(`${installed.length} package${installed.length === 1 ? '' : 's'} in dbt_packages/, locked in ${lockFile}\n`);
        return EXIT.ok;
      }),
    );

  program
    .command('clean')
    .description('remove the target/ folder')
    .action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        streams.out.write(`Removed ${clean(ctx.options)}\n`);
        return EXIT.ok;
      }),
    );
}

function formatTable(columns: string[], rows: Record<string, unknown>[]): string {
  if (!columns.length) return '(no rows)\n';
  const cell = (v: unknown) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v)).slice(0, 60);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  const sep = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(columns), sep, ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n') + `\n(${rows.length} rows)\n`;
}
