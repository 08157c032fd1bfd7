import { ArgSpecs, Flags, FlagSpecs } from './args';
import { Output } from './output';

/** What every command receives. Nothing here is global: tests build one with fake io and env. */
export interface CommandContext {
  flags: Flags;
  out: Output;
  env: Record<string, string | undefined>;
  /** Working directory the command resolves relative paths against. */
  cwd: string;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
  /** What to run if a forced exit (a second Ctrl-C) leaves processes behind; undefined clears it. */
  setCleanupHint(hint: string | undefined): void;
}

/** One `dr` command, one module in `automation/cli/commands/`. */
export interface Command {
  /** Words after `dr`, e.g. `backup postgres`. */
  name: string;
  summary: string;
  flags: FlagSpecs;
  /** Positional arguments after the command's words, in order (none when absent); read with `ctx.flags.arg`. */
  args?: ArgSpecs;
  /** Runs the command. Returns the exit code for non-error outcomes (0, or 1 for "checks failed"). */
  run(ctx: CommandContext): Promise<number>;
}

/** The `--json` flag every command takes. */
export const JSON_FLAG: FlagSpecs = {
  json: { type: 'boolean', description: 'print one JSON document on stdout instead of human output' },
};
