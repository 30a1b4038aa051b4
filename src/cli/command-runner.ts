import type { Command } from 'commander';
import type { OutputStreams } from './terminal-reporter.js';

/** A command body: returns the exit code; errors it throws are mapped by main. */
export type CommandRunner = (cmd: Command, streams: OutputStreams, ...args: unknown[]) => Promise<number>;

export type Wrap = (fn: CommandRunner) => (...args: unknown[]) => Promise<void>;
