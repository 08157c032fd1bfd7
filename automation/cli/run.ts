import { argsUsage, parseFlags, Flags } from './args';
import { Command, CommandContext } from './command';
import { DrError, exitCodeFor, FlagError } from '../core/errors';
import { Io, Output } from './output';
import { redact, redactValue } from '../core/redact';
import { COMMANDS, resolveCommand } from './registry';

export interface RunOptions {
  env: Record<string, string | undefined>;
  cwd: string;
  io: Io;
  signal?: AbortSignal;
  /** The entry file prints this when a second signal forces the exit (the cleanup command, e.g. `dr local down`). */
  onCleanupHint?: (hint: string | undefined) => void;
}

/**
 * Run `dr <argv...>` and return the exit code. The only place that turns outcomes into exit codes:
 * 0 success, 1 failure, 2 bad usage. `automation/main.ts` passes the result to `process.exitCode`.
 */
export async function runCli(argv: readonly string[], opts: RunOptions): Promise<number> {
  const json = argv.includes('--json');
  const out = new Output(opts.io, json);
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    const target = argv[0] === 'help' ? argv.slice(1).filter((a) => !a.startsWith('-')) : [];
    return help(target, out, opts.io);
  }
  const found = resolveCommand(argv);
  if (!found) {
    opts.io.stderr(`dr: unknown command '${argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')}'. Run 'dr help'.\n`);
    return 2;
  }
  let command: Command;
  try {
    command = await COMMANDS[found.name]();
  } catch (err) {
    opts.io.stderr(`dr: could not load '${found.name}': ${redact(String(err))}\n`);
    return 1;
  }
  if (found.rest.includes('--help')) {
    opts.io.stdout(usage(command));
    return 0;
  }
  try {
    const flags = new Flags(parseFlags(found.rest, command.flags, opts.env, command.args));
    const ctx: CommandContext = { flags, out, env: opts.env, cwd: opts.cwd, signal: opts.signal ?? new AbortController().signal, setCleanupHint: (h) => opts.onCleanupHint?.(h) };
    return await command.run(ctx);
  } catch (err) {
    const code = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    if (json) {
      const detail = err instanceof DrError ? err.detail : undefined;
      opts.io.stdout(JSON.stringify(redactValue({ ok: false, error: err instanceof Error ? err.name : 'Error', message, exit_code: code, ...(detail ? { detail } : {}) }), null, 2) + '\n');
    }
    opts.io.stderr(`dr ${found.name}: ${redact(message)}\n`);
    if (err instanceof FlagError) opts.io.stderr(`Run 'dr ${found.name} --help' for the allowed flags.\n`);
    else if (!(err instanceof DrError) && err instanceof Error && err.stack && opts.env.DR_DEBUG) opts.io.stderr(redact(err.stack) + '\n');
    return code;
  }
}

function usage(command: Command): string {
  const lines = [`dr ${command.name}: ${command.summary}`, ''];
  if (command.args?.length) {
    lines.push(`Usage: dr ${command.name} ${argsUsage(command.args)} [flags]`, '', 'Arguments:');
    for (const a of command.args) lines.push(`  ${a.name.toUpperCase()}  ${a.description}${a.optional ? ' (optional)' : ''}`);
    lines.push('');
  }
  lines.push('Flags:');
  for (const [name, spec] of Object.entries(command.flags)) {
    const value = spec.type === 'boolean' ? '' : spec.choices ? ` ${spec.choices.join('|')}` : ` ${spec.type === 'number' ? 'N' : 'VALUE'}`;
    const env = spec.env ? ` [env ${spec.env}]` : '';
    const def = spec.default !== undefined && spec.type !== 'boolean' ? ` (default ${String(spec.default)})` : '';
    lines.push(`  --${name}${value}  ${spec.description}${def}${env}`);
  }
  return lines.join('\n') + '\n';
}

async function help(target: readonly string[], out: Output, io: Io): Promise<number> {
  if (target.length > 0) {
    const found = resolveCommand(target);
    if (!found) {
      io.stderr(`dr: no command '${target.join(' ')}'\n`);
      return 2;
    }
    io.stdout(usage(await COMMANDS[found.name]()));
    return 0;
  }
  const lines = ['dr: disaster recovery for bot platforms', '', 'Commands:'];
  for (const name of Object.keys(COMMANDS)) {
    const c = await COMMANDS[name]();
    lines.push(`  dr ${name.padEnd(20)} ${c.summary}`);
  }
  lines.push('', "Run 'dr <command> --help' for its flags. Exit codes: 0 success, 1 failure, 2 bad usage.");
  out.result({ commands: Object.keys(COMMANDS) }, lines.join('\n'));
  return 0;
}
