import { Command, CommanderError, Option } from 'commander';
import type { CommandRunner } from './command-runner.js';
import { registerDocsCommands } from './commands/docs-commands.js';
import { registerExecuteCommands } from './commands/execute-commands.js';
import { registerProjectCommands } from './commands/project-commands.js';
import { registerRetryCommands } from './commands/retry-commands.js';
import { registerWatchCommands } from './commands/watch-commands.js';
import { registerStageCommands } from './commands/stage-commands.js';
import { registerTestCommands } from './commands/test-commands.js';
import { registerUnlockCommands } from './commands/unlock-commands.js';
import { EXIT, reportFailure } from './context.js';
import { JsonReporter, TerminalReporter, type OutputStreams } from './terminal-reporter.js';

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(/\s+/).filter(Boolean)];

export function buildProgram(streams: OutputStreams, setExit: (code: number) => void): Command {
  const program = new Command('kiln')
    .description('Declarative, dbt-style SQL transformations for ClickHouse')
    .version('0.1.0')
    .option('--project-dir <dir>', 'project folder (default: current folder)')
    .option('--target <name>', "target from project.yml or profiles.yml, or 'embedded' (default: KILN_TARGET or project target)")
    .option('--profiles-dir <dir>', "folder with dbt's profiles.yml (default: DBT_PROFILES_DIR, the project folder, ~/.dbt)")
    .option('--vars <yaml>', "override vars, e.g. '{data_root: /data}'")
    .option('--threads <n>', 'nodes run concurrently (default 4)')
    .option('-s, --select <selector>', 'nodes to include (dbt syntax); repeatable', collect)
    .option('--exclude <selector>', 'nodes to leave out; repeatable', collect)
    .option('--state <dir>', 'folder with an earlier manifest.json, for state:modified')
    .option('--full-refresh', 'rebuild incremental models and reload sources from scratch')
    .option('--event-time-start <time>', 'microbatch models: process batches from this UTC time (backfill)')
    .option('--event-time-end <time>', 'microbatch models: process batches up to this UTC time')
    .option('--fail-fast', 'stop at the first failure')
    .option('--wait [seconds]', 'when another run holds the target lock, wait for it (up to SECONDS; without a value, until it is released)')
    .option('--junit <file>', 'write test results as JUnit XML')
    .option('--json', 'machine-readable output (one JSON object per line)')
    .option('--strict', 'unknown YAML keys and test arguments are errors (as with strict: true in project.yml or CI=true)')
    .option('--no-color', 'no ANSI colours')
    .addOption(new Option('--debug', 'show stack traces').hideHelp(false))
    .configureOutput({
      writeOut: (s) => streams.out.write(s),
      writeErr: (s) => streams.err.write(s),
    })
    .exitOverride()
    .showSuggestionAfterError(true);

  const wrap = (fn: CommandRunner) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const positional = args.slice(0, -2);
      try {
        setExit(await fn(cmd, streams, ...positional));
      } catch (err) {
        const flags = cmd.optsWithGlobals<{ debug?: boolean; json?: boolean }>();
        // --json promises machine output: a fatal error is one JSON line too.
        const reporter = flags.json ? new JsonReporter(streams.out) : new TerminalReporter(streams, false);
        setExit(reportFailure(err, reporter, flags.debug === true));
      }
    };

  registerProjectCommands(program, wrap);
  registerExecuteCommands(program, wrap);
  registerRetryCommands(program, wrap);
  registerWatchCommands(program, wrap);
  registerStageCommands(program, wrap);
  registerTestCommands(program, wrap);
  registerDocsCommands(program, wrap);
  registerUnlockCommands(program, wrap);
  return program;
}

/**
 * A reader that goes away (`kiln ls | head`) is not an error: output stops quietly and the
 * command finishes its work (a build still completes and writes run_results.json), as
 * `git log | head` does. Without a listener, Node throws EPIPE with a stack trace.
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

/** Entry point for bin/kiln.js. Sets process.exitCode; never calls process.exit. */
export async function main(argv: string[], streams: OutputStreams = { out: process.stdout, err: process.stderr }): Promise<number> {
  if (streams.out === process.stdout) quietOnClosedPipe(process.stdout);
  if (streams.err === process.stderr) quietOnClosedPipe(process.stderr);
  let code: number = EXIT.ok;
  const program = buildProgram(streams, (c) => (code = c));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors are invalid invocations.
      code = err.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    } else {
      code = reportFailure(err, new TerminalReporter(streams, false), argv.includes('--debug'));
    }
  }
  process.exitCode = code;
  return code;
}
