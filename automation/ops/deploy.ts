/**
 * `dr deploy`: bring a fresh account up in dependency order, and converge when run again.
 *
 *   1. primary   — its bucket replicates to the peer's bucket, which does not exist yet on a fresh account, so the
 *                  first apply runs with `backup.replicateToPeer = false` (only while the secondary has no bucket);
 *   2. secondary — a read replica of the primary's database (read through its StackReference), global-datastore
 *                  member, its own bucket;
 *   3. primary   — again, with `backup.replicateToPeer` restored to what the operator configured (true by
 *                  default), which enables bucket replication now that the peer bucket exists.
 *
 * Each step previews first and runs `up` only when the preview shows changes, so a second run changes nothing
 * (every step reports `no changes`). A failing step stops the run with an error naming the step and what is
 * deployed so far; rerunning resumes (finished steps preview as no changes). Concurrent updates are waited for
 * (bounded), never cancelled. `pulumi` output is redacted and streamed into the step log.
 */
import { errorSummary, FlagError, OperationError } from '../core/errors';
import { redact } from '../core/redact';
import { isConcurrentUpdate, STACK_RETRY, withRetry } from '../adapters/aws/retry';
import { systemClock, type Clock } from '../core/clock';
import { AdminDriver, AdminStack, ChangeSummary, describeChanges, isNoChange } from '../adapters/aws/stacks';

export const REPLICATE_KEY = 'bot-platform-dr:backup.replicateToPeer';
/**
 * Set by step 1 when it turns replication off for the first apply: holds the operator's value to restore in step 3,
 * so a run that failed in step 2 still restores the right value when rerun. A top-level key the program ignores;
 * removed once step 3 applied.
 */
export const DEFERRED_KEY = 'bot-platform-dr:deployDeferredReplicateToPeer';

export interface DeployOptions {
  driver: AdminDriver;
  stacks: { primary: string; secondary: string };
  /** Preview only: report what each step would do, change nothing. */
  dryRun?: boolean;
  /** Refresh each stack before previewing (detect drift). */
  refresh?: boolean;
  log?: (line: string) => void;
  onStep?: (step: DeployStep) => void;
  signal?: AbortSignal;
  clock?: Clock;
  retry?: Partial<{ attempts: number; baseDelayMs: number; maxDelayMs: number }>;
}

export interface DeployStep {
  n: 1 | 2 | 3;
  stack: string;
  /**
   * `up` = applied, `no-changes` = preview showed nothing to do, `would-up` = dry run with changes, `blocked` = dry
   * run that cannot preview this step before an earlier step is applied (reason says why).
   */
  outcome: 'up' | 'no-changes' | 'would-up' | 'blocked';
  changes: ChangeSummary;
  /** Config set during this step (e.g. replication off for the first apply). */
  config?: Record<string, string>;
  reason: string;
  duration_ms: number;
}

export interface DeployReport {
  ok: boolean;
  dry_run: boolean;
  stacks: { primary: string; secondary: string };
  steps: DeployStep[];
  /** True when nothing changed in any step (a converged rerun). */
  converged: boolean;
}

export function validateDeployStacks(stacks: { primary?: string; secondary?: string }): { primary: string; secondary: string } {
  const NAME = /^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/;
  for (const k of ['primary', 'secondary'] as const) {
    const v = stacks[k];
    if (!v) throw new FlagError(`--${k}-stack is required`);
    if (!NAME.test(v)) throw new FlagError(`--${k}-stack '${v}' is not a stack name (stack or org/project/stack)`);
  }
  if (stacks.primary === stacks.secondary) throw new FlagError(`--primary-stack and --secondary-stack are the same stack '${stacks.primary}'`);
  return stacks as { primary: string; secondary: string };
}

export async function deploy(o: DeployOptions): Promise<DeployReport> {
  const stacks = validateDeployStacks(o.stacks);
  const log = (l: string) => o.log?.(redact(l));
  const clock = o.clock ?? systemClock;
  const retry = { ...STACK_RETRY, ...o.retry };
  const steps: DeployStep[] = [];
  const lines = (prefix: string) => {
    let buf = '';
    return (out: string) => {
      buf += out;
      const parts = buf.split(/\r?\n/);
      buf = parts.pop() ?? '';
      for (const l of parts) if (l.trim()) log(`${prefix} ${l}`);
    };
  };
  const busyRetry = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    withRetry(fn, { ...retry, retryable: isConcurrentUpdate, clock, signal: o.signal, log: (l) => log(`${l} (another update is running; it is never cancelled)`), what });

  // A dry run never creates a stack: it must exist already.
  const open = (name: string) =>
    (o.dryRun ? o.driver.select(name) : o.driver.selectOrCreate(name)).catch((err: unknown) => {
      throw new OperationError(`cannot ${o.dryRun ? 'select' : 'select or create'} stack ${name}: ${redact(errorSummary(err))}${o.dryRun ? ' (a dry run creates no stack: run `dr deploy` without --dry-run on a fresh account)' : ''}`);
    });
  const primary = await open(stacks.primary);
  const secondary = await open(stacks.secondary);

  // What the operator wants for replication: a value deferred by an earlier run wins; unset → the default, true.
  const deferred = await primary.getConfig(DEFERRED_KEY, false);
  const wanted = deferred === 'true' || deferred === 'false' ? deferred : ((await primary.getConfig(REPLICATE_KEY, true)) ?? 'true');
  const peerBucketExists = async (): Promise<boolean> => {
    const outs = await secondary.outputs();
    const b = outs.bucketArn;
    return !!b && !b.secret && typeof b.value === 'string' && b.value.length > 0;
  };

  const run = async (n: 1 | 2 | 3, stack: AdminStack, reason: string, config?: Record<string, string>): Promise<void> => {
    if (o.signal?.aborted) throw new OperationError(`interrupted before step ${n}/3 (${stack.name}); rerun \`dr deploy\` to continue`);
    const t0 = clock.now().getTime();
    try {
      const setNow: Record<string, string> = {};
      for (const [k, v] of Object.entries(config ?? {})) {
        if ((await stack.getConfig(k, true)) === v) continue;
        if (o.dryRun) {
          log(`[${stack.name}] would set ${k} = ${v}`);
          continue;
        }
        await stack.setConfig(k, v, true);
        setNow[k] = v;
        log(`[${stack.name}] config ${k} = ${v}`);
      }
      if (o.refresh) await busyRetry(`pulumi refresh ${stack.name}`, () => stack.refresh({ message: `dr deploy: refresh ${stack.name}`, onOutput: lines(`[${stack.name} refresh]`) }));
      const { changes } = await busyRetry(`pulumi preview ${stack.name}`, () => stack.preview({ message: `dr deploy step ${n}/3`, onOutput: lines(`[${stack.name} preview]`) }));
      let outcome: DeployStep['outcome'];
      if (isNoChange(changes)) outcome = 'no-changes';
      else if (o.dryRun) outcome = 'would-up';
      else {
        const r = await busyRetry(`pulumi up ${stack.name}`, () => stack.up({ message: `dr deploy step ${n}/3: ${reason}`, onOutput: lines(`[${stack.name} up]`) }));
        if (r.result !== 'succeeded') throw new OperationError(`pulumi up ended ${r.result}`);
        outcome = 'up';
      }
      const step: DeployStep = { n, stack: stack.name, outcome, changes, reason, duration_ms: clock.now().getTime() - t0, ...(Object.keys(setNow).length ? { config: setNow } : {}) };
      steps.push(step);
      o.onStep?.(step);
    } catch (err) {
      if (o.dryRun && steps.some((s) => s.outcome === 'would-up' || s.outcome === 'blocked')) {
        const step: DeployStep = { n, stack: stack.name, outcome: 'blocked', changes: {}, reason: `cannot preview until the earlier steps are applied: ${redact(errorSummary(err))}`, duration_ms: clock.now().getTime() - t0 };
        steps.push(step);
        o.onStep?.(step);
        return;
      }
      const done = steps.map((s) => `step ${s.n} ${s.stack}: ${s.outcome}`).join('; ') || 'nothing';
      throw new OperationError(`deploy step ${n}/3 (${stack.name}: ${reason}) failed: ${redact(errorSummary(err))}. Done so far: ${done}. Fix the cause and rerun \`dr deploy\`: finished steps are not applied again.`, {
        failed_step: n,
        stack: stack.name,
        steps,
      });
    }
  };

  const fresh = !(await peerBucketExists());
  await run(1, primary, fresh ? 'first apply, bucket replication off until the peer bucket exists' : 'primary region', fresh && wanted !== 'false' ? { [DEFERRED_KEY]: wanted, [REPLICATE_KEY]: 'false' } : undefined);
  await run(2, secondary, 'secondary region: replica of the primary');
  if (wanted !== 'false' && !o.dryRun && !(await peerBucketExists())) {
    throw new OperationError(`deploy step 3/3 (${primary.name}): the secondary stack ${secondary.name} has no bucketArn output after its update, so bucket replication cannot be enabled`);
  }
  await run(3, primary, wanted === 'false' ? 'primary again (bucket replication is off in its config)' : 'primary again: enable bucket replication to the peer', { [REPLICATE_KEY]: wanted });
  if (deferred !== undefined || steps[0].config?.[DEFERRED_KEY]) {
    if (!o.dryRun) {
      await primary.removeConfig(DEFERRED_KEY, false);
      log(`[${primary.name}] config ${DEFERRED_KEY} removed (replication restored to ${wanted})`);
    }
  }
  return { ok: true, dry_run: !!o.dryRun, stacks, steps, converged: steps.every((s) => s.outcome === 'no-changes') };
}

/** Human table of a deploy report. */
export function formatDeploy(r: DeployReport): string {
  const lines = [`dr deploy${r.dry_run ? ' (dry run)' : ''}: ${r.stacks.primary} → ${r.stacks.secondary} → ${r.stacks.primary}`];
  for (const s of r.steps) lines.push(`  ${s.n}/3 ${s.stack.padEnd(30)} ${s.outcome.padEnd(10)} ${describeChanges(s.changes)}  (${s.reason})`);
  lines.push(r.converged ? 'converged: nothing to change' : r.dry_run ? 'dry run: nothing was changed' : 'deployed');
  return lines.join('\n');
}
