/**
 * Small pieces shared by the local-mode command modules (`dr local|status|failover|failback|watch|drill`), so
 * those stay thin: the `--dir`/`--local` flags, the "AWS mode arrives later" usage error, the test-only crash hook.
 */
import * as path from 'node:path';
import type { FlagSpec } from './args';
import type { CommandContext } from './command';
import { FlagError, UsageError } from '../core/errors';
import { type FailoverPorts, isStepName, type JournalEntry } from '../failover/index';
import { DEFAULT_DIR, lockEnvironment } from '../rehearsal/environment';

export const DIR_FLAG: FlagSpec = { type: 'string', description: 'local environment directory, relative to the working directory', env: 'DR_LOCAL_DIR', default: DEFAULT_DIR };
export const LOCAL_FLAG: FlagSpec = { type: 'boolean', description: 'act on the local two-region environment (dr local up)' };

export function localDir(ctx: CommandContext): string {
  const d = ctx.flags.string('dir') ?? DEFAULT_DIR;
  if (d.trim() === '') throw new FlagError('--dir must not be empty');
  return path.resolve(ctx.cwd, d);
}

/**
 * Run `fn` holding the local environment's exclusive lock as `command` (e.g. `dr failover --local`): a second
 * command that changes the environment exits 2 naming this one; the lock goes when `fn` ends, however it ends.
 * While it runs, a forced exit (a second Ctrl-C) prints how to stop what the environment runs.
 */
export async function withLocalLock<T>(ctx: CommandContext, dir: string, command: string, fn: () => Promise<T>): Promise<T> {
  const lock = lockEnvironment(dir, command, (l) => ctx.out.warn(l));
  ctx.setCleanupHint(`dr local down --dir ${dir}`);
  try {
    return await fn();
  } finally {
    ctx.setCleanupHint(undefined);
    lock.release();
  }
}

/** For now only the local mode exists: without --local, say so (the AWS adapters replace this branch). */
export function requireLocal(ctx: CommandContext, command: string): void {
  if (!ctx.flags.bool('local')) {
    throw new UsageError(`'dr ${command}' on AWS arrives with the AWS adapters; for now use 'dr ${command} --local' against the local two-region environment ('dr local up')`);
  }
}

/**
 * Test-only crash hook: with DR_ENABLE_TEST_HOOKS=1 and DR_CRASH_AFTER_STEP=<step>, the failover stops dead right
 * after <step> ACTED and before its `done` entry reaches the journal (the worst moment for a crash), announces it
 * on stderr and waits to be killed. Ignored unless both variables are set.
 */
export function withCrashHook(ports: FailoverPorts, ctx: CommandContext): FailoverPorts {
  const step = ctx.env.DR_CRASH_AFTER_STEP;
  if (!step || ctx.env.DR_ENABLE_TEST_HOOKS !== '1') return ports;
  if (!isStepName(step)) throw new UsageError(`DR_CRASH_AFTER_STEP '${step}' is not a failover step`);
  const journal = ports.journal;
  return {
    ...ports,
    journal: {
      location: journal.location,
      read: (id) => journal.read(id),
      list: () => journal.list(),
      append: (entry: JournalEntry) => {
        if (entry.kind === 'step' && entry.step === step && entry.phase === 'done') {
          ctx.out.warn(`DR_TEST_HOOK: ${step} acted; stopping before it is journaled (waiting to be killed)`);
          return new Promise<void>(() => {
            setInterval(() => undefined, 1 << 30);
          });
        }
        return journal.append(entry);
      },
    },
  };
}
