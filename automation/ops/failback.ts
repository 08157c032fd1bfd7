/**
 * `dr failback` on AWS: after a failover to the survivor, rebuild the old ("home") region as a replica of the
 * new primary, then switch back with a planned switchover through the same failover engine. Every step checks
 * before it acts, so a rerun after a crash continues where it stopped.
 *
 *   1. fence          the split-brain guard: the old primary is fenced (read-only parameter group) if reachable;
 *   1b. cache         (ops/failback-cache.ts) after an unplanned failover that left the cache's global datastore: the
 *                     old datastore, whose primary is the home group, is deleted (the group kept, standalone) so the
 *                     rebuild can replace it with a member of the survivor's datastore;
 *   2. preserve       the old primary instance may hold writes the survivor never received (the failover's RPO):
 *                     a manual snapshot `<db>-pre-failback-<stamp>` is taken and waited for BEFORE anything can
 *                     replace the instance, then its deletion protection is lifted so the stack can replace it;
 *   3. divergent      those writes are recorded in the survivor's bucket under `divergent/` (ops/divergent.ts): a
 *                     verified pg_dump compared with the survivor by primary key when the old primary answers SQL,
 *                     else a pointer to the snapshot with the reason; a failure stops the failback before any
 *                     change to the home stack;
 *   4. retarget       home stack config: `role = secondary`, `database.promoted = false`,
 *                     `peerStack = <survivor stack>` (lib/config.ts keys) — refused while the home stack still
 *                     declares `botTokens` (a non-promoted secondary may not: only the stack that creates the
 *                     bot-token secrets seeds them, and their values are the token engine's since): the message says
 *                     to remove them from home (retainOnDelete: its copies stay). The bot list stays on both;
 *   5. rebuild        `pulumi up` of the home stack: its database becomes a cross-region replica of the survivor;
 *   6. wait-replica   the rebuilt instance is `available` and replicating (bounded wait);
 *   7. lag            CloudWatch ReplicaLag under the limit (bounded wait); refused otherwise — nothing switched;
 *   8. switchover     planned datacenter switchover survivor → home (fence, catch-up, promote, DNS...).
 */
import { errorSummary, OperationError, RefusedError, UsageError } from '../core/errors';
import { redact } from '../core/redact';
import { isConcurrentUpdate, withRetry, STACK_RETRY } from '../adapters/aws/retry';
import type { DbView, FailbackDatabase } from '../adapters/aws/failback-db';
import type { FailbackCache } from '../adapters/aws/failback-cache';
import { failbackCacheStep } from './failback-cache';
import type { StackDriver, StackLike } from '../adapters/aws/stacks';
import { awsRegion, type AwsRegionTopology, type BuiltTopology, peerOf } from '../adapters/aws/topology';
import type { FailoverResult } from '../failover/index';
import { systemClock, type Clock } from '../core/clock';
import type { LagReading } from '../adapters/aws/status-probes';
import type { DivergentSummary } from '../backup/index';

const NS = 'bot-platform-dr';
export const FAILBACK_CONFIG = {
  role: `${NS}:role`,
  promoted: `${NS}:database.promoted`,
  peerStack: `${NS}:peerStack`,
} as const;
/**
 * Keys a non-promoted secondary may not declare (lib/config.ts: the active stack owns the bot-token secrets and seeds
 * them from `botTokens`). The bot list (`bots`) is not one of them: both stacks declare it (issue 10).
 */
export const PRIMARY_ONLY_KEYS = [`${NS}:botTokens`] as const;

export const FAILBACK_STEPS = ['fence', 'cache', 'preserve', 'divergent', 'retarget', 'rebuild', 'wait-replica', 'lag', 'switchover'] as const;
export type FailbackStep = (typeof FAILBACK_STEPS)[number];

export interface FailbackStepEvent {
  step: FailbackStep;
  status: 'ok' | 'skipped' | 'done-before' | 'failed';
  duration_ms: number;
  detail?: string;
}

export interface AwsFailbackOptions {
  driver: StackDriver;
  /** Topology from the stacks' current outputs. */
  built: BuiltTopology;
  /** The region to return to (the old primary's). */
  home: string;
  /** RDS in a region (adapters/aws/failback-db.ts). */
  db: (region: string) => FailbackDatabase;
  /** ElastiCache (adapters/aws/failback-cache.ts), for the cache step; without it the step is skipped. */
  cache?: FailbackCache;
  /** ReplicaLag of `dbIdentifier` in `region` (CloudWatch). */
  lag: (region: string, dbIdentifier: string) => Promise<LagReading>;
  maxLagSeconds: number;
  /** Fence the old primary if it answers (the failover engine's split-brain guard over the AWS ports). */
  guard: () => Promise<string>;
  /** Re-read both stacks' outputs after the rebuild. */
  reread: () => Promise<BuiltTopology>;
  /**
   * Record what the old primary holds in the survivor's bucket (ops/divergent.ts), given the available pre-failback
   * snapshot; throws when it cannot (the failback stops before any change to the home stack).
   */
  divergent: (snapshot: string) => Promise<{ status: 'ok' | 'done-before'; detail: string; summary: DivergentSummary }>;
  /** The planned switchover back (runs the failover engine). */
  switchover: (built: BuiltTopology, from: string, to: string) => Promise<FailoverResult>;
  clock?: Clock;
  waits?: { timeoutMs?: number; pollMs?: number };
  stackRetry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  log?: (line: string) => void;
  onStep?: (e: FailbackStepEvent) => void;
  signal?: AbortSignal;
}

export interface AwsFailbackResult {
  home: string;
  survivor: string;
  home_stack: string;
  survivor_stack: string;
  steps: FailbackStepEvent[];
  snapshot?: string;
  /** The divergent backup (or snapshot record) of the old primary: how many rows differ and where they are kept. */
  divergent?: DivergentSummary;
  replica_lag_seconds?: number;
  switchover: { id: string; outcome: FailoverResult['outcome']; steps: FailoverResult['steps'] };
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-').toLowerCase();
}

type StepResult = { status: FailbackStepEvent['status']; detail?: string };

/** One failback run: the regions, their stacks and RDS, the step log and the bounded waits. */
interface FailbackRun {
  o: AwsFailbackOptions;
  clock: Clock;
  log: (line: string) => void;
  timeoutMs: number;
  pollMs: number;
  home: AwsRegionTopology;
  survivor: AwsRegionTopology;
  homeStack: StackLike;
  survivorStack: StackLike;
  db: FailbackDatabase;
  steps: FailbackStepEvent[];
  result: Partial<AwsFailbackResult>;
}

async function runStep(run: FailbackRun, name: FailbackStep, fn: () => Promise<StepResult>): Promise<void> {
  const { o, clock } = run;
  if (o.signal?.aborted) throw new OperationError(`interrupted before failback step ${name}; rerun dr failback to continue`);
  const t0 = clock.now().getTime();
  try {
    const r = await fn();
    const e = { step: name, status: r.status, duration_ms: clock.now().getTime() - t0, ...(r.detail ? { detail: redact(r.detail) } : {}) };
    run.steps.push(e);
    o.onStep?.(e);
  } catch (err) {
    const e: FailbackStepEvent = { step: name, status: 'failed', duration_ms: clock.now().getTime() - t0, detail: redact(errorSummary(err)) };
    run.steps.push(e);
    o.onStep?.(e);
    throw err;
  }
}

/** Poll `probe` until it yields a value, at most the run's timeout. */
async function waitFor<T>(run: FailbackRun, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = run.clock.now().getTime() + run.timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (run.clock.now().getTime() >= deadline) throw new OperationError(`${what}: not reached within ${Math.round(run.timeoutMs / 1000)} s; rerun dr failback to keep waiting`);
    await run.clock.sleep(run.pollMs, run.o.signal);
  }
}

/** Refuse before anything is touched: the survivor must serve, and home must not declare the bot tokens. */
async function checkPreconditions(run: FailbackRun): Promise<void> {
  const { home, survivor, homeStack, survivorStack } = run;
  const survivorServes = (await survivorStack.getConfig(FAILBACK_CONFIG.promoted, true)) === 'true' || ((await survivorStack.getConfig(FAILBACK_CONFIG.role, false)) === 'primary' && (await homeStack.getConfig(FAILBACK_CONFIG.role, false)) !== 'primary');
  if (!survivorServes) {
    throw new UsageError(`${survivor.stack} in ${survivor.region} does not serve (its config has no database.promoted=true): there is nothing to fail back to ${home.region}; name the region to return to with --home-region`);
  }
  const declared: string[] = [];
  for (const k of PRIMARY_ONLY_KEYS) if ((await homeStack.getConfig(k, false)) !== undefined) declared.push(k);
  if (!declared.length) return;
  // The home stack is about to become a non-promoted secondary, which may not declare the seeds of the bot-token
  // secrets (lib/config.ts). Dropping them loses nothing: the secrets' values are the token engine's since they were
  // created (the survivor adopted its copies by name in its promotion apply, without any token), and the home copies
  // are retainOnDelete, so its next `up` forgets them without deleting them.
  const rm = declared.map((k) => `pulumi config rm -s ${home.stack} ${k.slice(NS.length + 1)}`).join('; ');
  throw new RefusedError(
    `stack ${home.stack} still declares ${declared.join(' and ')}, which a non-promoted secondary may not (lib/config.ts): they only seed bot-token secrets when a stack creates them, and ${survivor.stack} in ${survivor.region} serves the bots from its adopted copies now. Remove them: ${rm} (its secrets in ${home.region} are retainOnDelete: Pulumi forgets them, AWS keeps them; keep the bots list, both stacks declare it), then rerun dr failback. Nothing was changed`,
  );
}

/** preserve: a pre-failback snapshot of the old primary, available, before anything can replace it. */
async function preserve(run: FailbackRun, db: DbView): Promise<StepResult> {
  const { home, clock, log } = run;
  if (!db.exists) return { status: 'skipped', detail: `${home.dbIdentifier} does not exist in ${home.region}: nothing to preserve` };
  if (db.replicaSource) return { status: 'done-before', detail: `${home.dbIdentifier} is already a replica of ${db.replicaSource}` };
  // Check: a pre-failback snapshot of this instance that is available already.
  let id = await run.db.findSnapshot(home.dbIdentifier, `${home.dbIdentifier}-pre-failback-`);
  if (!id) {
    id = `${home.dbIdentifier}-pre-failback-${stamp(clock.now())}`;
    await run.db.createSnapshot(id, home.dbIdentifier);
    log(`snapshot ${id} of the old primary requested (it may hold writes the survivor never received)`);
  }
  const snapshot = id;
  await waitFor(run, `snapshot ${snapshot} available`, async () => {
    const status = await run.db.snapshotStatus(snapshot);
    if (status === 'failed') throw new OperationError(`snapshot ${snapshot} failed: the old primary is NOT rebuilt; investigate before rerunning`);
    return status === 'available' ? true : undefined;
  });
  run.result.snapshot = snapshot;
  let detail = `snapshot ${snapshot} available`;
  if (db.deletionProtection) {
    await run.db.liftDeletionProtection(home.dbIdentifier);
    detail += `; deletion protection lifted on ${home.dbIdentifier} so the stack can replace it with a replica`;
  }
  return { status: 'ok', detail };
}

/** divergent: the old primary's writes after the split recorded in the survivor's bucket, before the rebuild. */
async function keepDivergent(run: FailbackRun, db: DbView): Promise<StepResult> {
  const { home } = run;
  if (!db.exists) return { status: 'skipped', detail: `${home.dbIdentifier} does not exist in ${home.region}: nothing diverges` };
  if (db.replicaSource) return { status: 'done-before', detail: `${home.dbIdentifier} is already a replica of ${db.replicaSource}: its divergent record, if any, is in ${run.survivor.region}'s bucket under divergent/` };
  const snapshot = run.result.snapshot;
  if (!snapshot) throw new OperationError(`no pre-failback snapshot of ${home.dbIdentifier} to record; nothing was rebuilt`);
  const r = await run.o.divergent(snapshot);
  run.result.divergent = r.summary;
  return { status: r.status, detail: r.detail };
}

/** retarget: home stack config becomes a secondary of the survivor. */
async function retarget(run: FailbackRun): Promise<StepResult> {
  const want: Record<string, string> = { [FAILBACK_CONFIG.role]: 'secondary', [FAILBACK_CONFIG.promoted]: 'false', [FAILBACK_CONFIG.peerStack]: run.survivor.stack };
  const set: string[] = [];
  for (const [k, v] of Object.entries(want)) {
    if ((await run.homeStack.getConfig(k, true)) === v) continue;
    await run.homeStack.setConfig(k, v, true);
    set.push(`${k}=${v}`);
  }
  return set.length ? { status: 'ok', detail: `config ${set.join(', ')}` } : { status: 'done-before', detail: `config already ${Object.entries(want).map(([k, v]) => `${k}=${v}`).join(', ')}` };
}

/** rebuild: `pulumi up` of the home stack turns its database into a replica of the survivor. */
async function rebuild(run: FailbackRun): Promise<StepResult> {
  const { home, survivor, homeStack, o, clock, log } = run;
  const db = await run.db.describe(home.dbIdentifier);
  if (db.exists && db.replicaSource) return { status: 'done-before', detail: `${home.dbIdentifier} already replicates ${db.replicaSource}` };
  const r = await withRetry(() => homeStack.up({ message: `dr failback: rebuild ${home.region} as a replica of ${survivor.region}`, onOutput: (out) => out.split(/\r?\n/).forEach((l) => l.trim() && log(`[${home.stack} up] ${l}`)) }), {
    ...STACK_RETRY,
    ...o.stackRetry,
    retryable: isConcurrentUpdate,
    clock,
    signal: o.signal,
    what: `pulumi up ${home.stack}`,
    log: (l) => log(`${l} (another update is running; it is never cancelled)`),
  });
  if (r.result !== 'succeeded') throw new OperationError(`pulumi up on ${home.stack} ended ${r.result}`);
  return { status: 'ok', detail: `pulumi up ${home.stack}: ${home.region} rebuilt as a replica of ${survivor.stack}` };
}

/** wait-replica: the rebuilt instance is available and replicating. */
async function waitReplica(run: FailbackRun, rebuilt: AwsRegionTopology): Promise<StepResult> {
  const v = await waitFor(run, `replica ${rebuilt.dbIdentifier} available`, async () => {
    const d = await run.o.db(run.home.region).describe(rebuilt.dbIdentifier);
    if (!d.exists) return undefined;
    if (d.status === 'available' && d.replicaSource) return d;
    run.log(`replica ${rebuilt.dbIdentifier}: ${d.status ?? 'unknown'}${d.replicaSource ? '' : ' (not replicating yet)'}`);
    return undefined;
  });
  return { status: 'ok', detail: `${rebuilt.dbIdentifier} available, replicating ${v.replicaSource}` };
}

/** lag: CloudWatch ReplicaLag under the limit (bounded wait); refused otherwise — nothing switched. */
async function lagUnderLimit(run: FailbackRun, rebuilt: AwsRegionTopology): Promise<StepResult> {
  const { o, clock } = run;
  const deadline = clock.now().getTime() + run.timeoutMs;
  let last: LagReading = {};
  for (;;) {
    last = await o.lag(run.home.region, rebuilt.dbIdentifier);
    if (last.seconds !== undefined && last.seconds <= o.maxLagSeconds) break;
    if (clock.now().getTime() >= deadline) {
      throw new RefusedError(
        `the rebuilt replica ${rebuilt.dbIdentifier} ${last.seconds === undefined ? 'reports no ReplicaLag yet' : `lags ${last.seconds} s`} (limit ${o.maxLagSeconds} s): no switchover was started; rerun dr failback once it has caught up`,
      );
    }
    await clock.sleep(run.pollMs, o.signal);
  }
  run.result.replica_lag_seconds = last.seconds;
  return { status: 'ok', detail: `ReplicaLag ${last.seconds} s ≤ ${o.maxLagSeconds} s` };
}

export async function awsFailback(o: AwsFailbackOptions): Promise<AwsFailbackResult> {
  const home = awsRegion(o.built.aws, o.home);
  const survivor = peerOf(o.built.aws, o.home);
  const steps: FailbackStepEvent[] = [];
  const run: FailbackRun = {
    o,
    clock: o.clock ?? systemClock,
    log: (l) => o.log?.(redact(l)),
    timeoutMs: o.waits?.timeoutMs ?? 45 * 60_000,
    pollMs: o.waits?.pollMs ?? 30_000,
    home,
    survivor,
    homeStack: await o.driver.select(home.stack),
    survivorStack: await o.driver.select(survivor.stack),
    db: o.db(home.region),
    steps,
    result: { home: home.region, survivor: survivor.region, home_stack: home.stack, survivor_stack: survivor.stack, steps },
  };
  await checkPreconditions(run);
  await runStep(run, 'fence', async () => ({ status: 'ok', detail: await o.guard() }));
  // --- issue 12: the cache's old global datastore (ops/failback-cache.ts) ---
  await runStep(run, 'cache', () =>
    o.cache ? failbackCacheStep({ cache: o.cache, home, survivor, clock: run.clock, timeoutMs: run.timeoutMs, pollMs: run.pollMs, log: run.log, signal: o.signal }) : Promise.resolve({ status: 'skipped' as const, detail: 'no ElastiCache client' }),
  );
  // --- end issue 12 ---
  const db = await run.db.describe(home.dbIdentifier);
  await runStep(run, 'preserve', () => preserve(run, db));
  await runStep(run, 'divergent', () => keepDivergent(run, db));
  await runStep(run, 'retarget', () => retarget(run));
  await runStep(run, 'rebuild', () => rebuild(run));
  // Outputs after the rebuild (the replica's identifier/endpoint).
  const after = await o.reread();
  const rebuilt = awsRegion(after.aws, home.region);
  await runStep(run, 'wait-replica', () => waitReplica(run, rebuilt));
  await runStep(run, 'lag', () => lagUnderLimit(run, rebuilt));
  let sw: FailoverResult | undefined;
  await runStep(run, 'switchover', async () => {
    sw = await o.switchover(after, survivor.region, home.region);
    return { status: 'ok', detail: `planned switchover ${sw.id} ${survivor.region} → ${home.region}: ${sw.outcome}` };
  });
  return { ...(run.result as AwsFailbackResult), switchover: { id: sw!.id, outcome: sw!.outcome, steps: sw!.steps } };
}
