import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import type { Wrap } from '../command-runner.js';
import { cliContext, EXIT } from '../context.js';

/** `kiln docs generate` and `kiln docs serve [--port 8080]`. */
export function registerDocsCommands(program: Command, wrap: Wrap): void {
  const docs = program.command('docs').description('static docs site: lineage, columns, tests, run timeline, dashboards');
  docs
    .command('generate')
    .description('write target/docs/index.html (self-contained) and target/catalog.json')
    .option('--no-compile', 'use target/manifest.json as it is')
    .action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        const { compile } = cmd.opts<{ compile: boolean }>();
        // Loaded when used: the docs generator pulls in the layout library.
        const { docsGenerate } = await import('../../api/docs.js');
        await docsGenerate({ ...ctx.options, noCompile: compile === false });
        return EXIT.ok;
      }),
    );
  docs
    .command('serve')
    .description('serve the docs on localhost and regenerate them when the manifest changes')
    .option('--port <n>', 'port (0 picks a free one)', '8080')
    .option('--no-compile', 'use target/manifest.json as it is')
    .action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        const opts = cmd.opts<{ port: string; compile: boolean }>();
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new KilnError('CONFIG_INVALID', `--port must be a port number, got '${opts.port}'`);
        }
        const { docsServe } = await import('../../api/docs.js');
        const server = await docsServe({ ...ctx.options, noCompile: opts.compile === false, port });
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await server.close();
        return EXIT.ok;
      }),
    );
}
