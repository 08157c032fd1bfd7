/**
 * `dr failback` on AWS: after a failover to the survivor, rebuild the old ("home") region as a replica of the
 * new primary, then switch back with a planned switchover through the same failover engine. Every step checks
 * before it acts, so a rerun after a crash continues where it stopped.
 *
 *   1. fence          the split-brain guard: the old primary is fenced (read-only parameter group) if reachable;
 *   2. preserve       the old primary instance may hold writes the survivor never received (the failover's RPO):
 *                     a manual snapshot `<db>-pre-failback-<stamp>` is taken and waited for BEFORE anything can
 *                     replace the instance, then its deletion protection is lifted so the stack can replace it;
 *   3. retarget       home stack config: `role = secondary`, `database.promoted = false`,
 *                     `peerStack = <survivor stack>` (lib/config.ts keys) — refused while the home stack still
 *                     declares `bots`/`botTokens` (a non-promoted secondary may not): the message says how to move
 *                     the ownership to the survivor first (config cp, `up` adopting with import), then drop them
 *                     from home (retainOnDelete: its copies stay);
 *   4. rebuild        `pulumi up` of the home stack: its database becomes a cross-region replica of the survivor;
 *   5. wait-replica   the rebuilt instance is `available` and replicating (bounded wait);
 *   6. lag            CloudWatch ReplicaLag under the limit (bounded wait); refused otherwise — nothing switched;
 *   7. switchover     planned datacenter switchover survivor → home (fence, catch-up, promote, DNS...).
 */
import {
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { errorSummary, OperationError, RefusedError, UsageError } from '../core/errors';
import { redact } from '../core/redact';
import { isConcurrentUpdate, withRetry, STACK_RETRY } from '../adapters/aws/retry';
import type { StackDriver, StackLike } from '../adapters/aws/stacks';
import { awsRegion, peerOf, type BuiltTopology } from '../adapters/aws/topology';
import type { FailoverResult } from '../failover/index';
import { systemClock, type Clock } from '../core/clock';
import type { LagReading } from '../adapters/aws/status-probes';

const NS = 'bot-platform-dr';
export const FAILBACK_CONFIG = {
  role: `${NS}:role`,
  promoted: `${NS}:database.promoted`,
  peerStack: `${NS}:peerStack`,
} as const;
/** Keys a non-promoted secondary may not declare (lib/config.ts: the active stack owns the bot-token secrets). */
export const PRIMARY_ONLY_KEYS = [`${NS}:bots`, `${NS}:botTokens`] as const;

export const FAILBACK_STEPS = ['fence', 'preserve', 'retarget', 'rebuild', 'wait-replica', 'lag', 'switchover'] as const;
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
  rds: (region: string) => RDSClient;
  /** ReplicaLag of `dbIdentifier` in `region` (CloudWatch). */
  lag: (region: string, dbIdentifier: string) => Promise<LagReading>;
  maxLagSeconds: number;
  /** Fence the old primary if it answers (the failover engine's split-brain guard over the AWS ports). */
  guard: () => Promise<string>;
  /** Re-read both stacks' outputs after the rebuild. */
  reread: () => Promise<BuiltTopology>;
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
  replica_lag_seconds?: number;
  switchover: { id: string; outcome: FailoverResult['outcome']; steps: FailoverResult['steps'] };
}

interface DbView {
  exists: boolean;
  status?: string;
  replicaSource?: string;
  deletionProtection?: boolean;
}

async function describeDb(rds: RDSClient, id: string): Promise<DbView> {
  try {
    const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    const d = out.DBInstances?.[0];
    if (!d) return { exists: false };
    return { exists: true, status: d.DBInstanceStatus, replicaSource: d.ReadReplicaSourceDBInstanceIdentifier, deletionProtection: d.DeletionProtection };
  } catch (err) {
    if ((err as { name?: string }).name === 'DBInstanceNotFoundFault') return { exists: false };
    throw err;
  }
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-').toLowerCase();
}

export async function awsFailback(o: AwsFailbackOptions): Promise<AwsFailbackResult> {
  const clock = o.clock ?? systemClock;
  const log = (l: string) => o.log?.(redact(l));
  const timeoutMs = o.waits?.timeoutMs ?? 45 * 60_000;
  const pollMs = o.waits?.pollMs ?? 30_000;
  const home = awsRegion(o.built.aws, o.home);
  const survivor = peerOf(o.built.aws, o.home);
  const steps: FailbackStepEvent[] = [];
  const result: Partial<AwsFailbackResult> = { home: home.region, survivor: survivor.region, home_stack: home.stack, survivor_stack: survivor.stack, steps };
  const rds = o.rds(home.region);

  const step = async (name: FailbackStep, fn: () => Promise<{ status: FailbackStepEvent['status']; detail?: string }>) => {
    if (o.signal?.aborted) throw new OperationError(`interrupted before failback step ${name}; rerun dr failback to continue`);
    const t0 = clock.now().getTime();
    try {
      const r = await fn();
      const e = { step: name, status: r.status, duration_ms: clock.now().getTime() - t0, ...(r.detail ? { detail: redact(r.detail) } : {}) };
      steps.push(e);
      o.onStep?.(e);
    } catch (err) {
      const e: FailbackStepEvent = { step: name, status: 'failed', duration_ms: clock.now().getTime() - t0, detail: redact(errorSummary(err)) };
      steps.push(e);
      o.onStep?.(e);
      throw err;
    }
  };
  const wait = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = clock.now().getTime() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (clock.now().getTime() >= deadline) throw new OperationError(`${what}: not reached within ${Math.round(timeoutMs / 1000)} s; rerun dr failback to keep waiting`);
      await clock.sleep(pollMs, o.signal);
    }
  };
  const homeStack: StackLike = await o.driver.select(home.stack);
  const survivorStack: StackLike = await o.driver.select(survivor.stack);
  // Preconditions, before anything is touched.
  const survivorServes = (await survivorStack.getConfig(FAILBACK_CONFIG.promoted, true)) === 'true' || ((await survivorStack.getConfig(FAILBACK_CONFIG.role, false)) === 'primary' && (await homeStack.getConfig(FAILBACK_CONFIG.role, false)) !== 'primary');
  if (!survivorServes) {
    throw new UsageError(`${survivor.stack} in ${survivor.region} does not serve (its config has no database.promoted=true): there is nothing to fail back to ${home.region}; name the region to return to with --home-region`);
  }
  const declared: string[] = [];
  for (const k of PRIMARY_ONLY_KEYS) if ((await homeStack.getConfig(k, false)) !== undefined) declared.push(k);
  if (declared.length) {
    // The active stack owns the bot-token secrets (lib/config.ts). The home stack is about to become a non-promoted
    // secondary, which may not declare them; its copies in the home region are retainOnDelete, so dropping the keys
    // deletes nothing — but the tokens must first live in the survivor's config, or they would be in no config.
    const survivorOwns = (await survivorStack.getConfig(PRIMARY_ONLY_KEYS[0], false)) !== undefined;
    const rm = declared.map((k) => `pulumi config rm -s ${home.stack} ${k.slice(NS.length + 1)}`).join('; ');
    if (!survivorOwns) {
      const cp = PRIMARY_ONLY_KEYS.map((k) => `pulumi config cp ${k.slice(NS.length + 1)} -s ${home.stack} -d ${survivor.stack}`).join('; ');
      throw new RefusedError(
        `stack ${home.stack} still declares ${declared.join(' and ')}, and the survivor ${survivor.stack} does not own the bot tokens yet: move the ownership first — ${cp}; then \`pulumi up -s ${survivor.stack}\` (it adopts the promoted secrets in ${survivor.region} with import); then ${rm} (its secrets in ${home.region} are retained, not deleted); then rerun dr failback. Nothing was changed`,
      );
    }
    throw new RefusedError(
      `stack ${home.stack} still declares ${declared.join(' and ')}, which a non-promoted secondary may not (lib/config.ts); ${survivor.stack} owns the bot tokens now. Remove them: ${rm} (its secrets in ${home.region} are retainOnDelete: Pulumi forgets them, AWS keeps them), then rerun dr failback. Nothing was changed`,
    );
  }
  const up = (message: string) =>
    withRetry(() => homeStack.up({ message, onOutput: (out) => out.split(/\r?\n/).forEach((l) => l.trim() && log(`[${home.stack} up] ${l}`)) }), {
      ...STACK_RETRY,
      ...o.stackRetry,
      retryable: isConcurrentUpdate,
      clock,
      signal: o.signal,
      what: `pulumi up ${home.stack}`,
      log: (l) => log(`${l} (another update is running; it is never cancelled)`),
    });

  await step('fence', async () => ({ status: 'ok', detail: await o.guard() }));

  let db = await describeDb(rds, home.dbIdentifier);
  await step('preserve', async () => {
    if (!db.exists) return { status: 'skipped', detail: `${home.dbIdentifier} does not exist in ${home.region}: nothing to preserve` };
    if (db.replicaSource) return { status: 'done-before', detail: `${home.dbIdentifier} is already a replica of ${db.replicaSource}` };
    // Check: a pre-failback snapshot of this instance that is available already.
    const snaps = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: home.dbIdentifier, SnapshotType: 'manual' }));
    let snap = (snaps.DBSnapshots ?? []).find((s) => s.DBSnapshotIdentifier?.startsWith(`${home.dbIdentifier}-pre-failback-`));
    if (!snap) {
      const id = `${home.dbIdentifier}-pre-failback-${stamp(clock.now())}`;
      await rds.send(new CreateDBSnapshotCommand({ DBSnapshotIdentifier: id, DBInstanceIdentifier: home.dbIdentifier, Tags: [{ Key: 'dr:purpose', Value: 'pre-failback' }] }));
      log(`snapshot ${id} of the old primary requested (it may hold writes the survivor never received)`);
      snap = { DBSnapshotIdentifier: id };
    }
    const id = snap.DBSnapshotIdentifier!;
    await wait(`snapshot ${id} available`, async () => {
      const s = (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }))).DBSnapshots?.[0];
      if (s?.Status === 'failed') throw new OperationError(`snapshot ${id} failed: the old primary is NOT rebuilt; investigate before rerunning`);
      return s?.Status === 'available' ? true : undefined;
    });
    result.snapshot = id;
    let detail = `snapshot ${id} available`;
    if (db.deletionProtection) {
      await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: home.dbIdentifier, DeletionProtection: false, ApplyImmediately: true }));
      detail += `; deletion protection lifted on ${home.dbIdentifier} so the stack can replace it with a replica`;
    }
    return { status: 'ok', detail };
  });

  await step('retarget', async () => {
    const want: Record<string, string> = { [FAILBACK_CONFIG.role]: 'secondary', [FAILBACK_CONFIG.promoted]: 'false', [FAILBACK_CONFIG.peerStack]: survivor.stack };
    const set: string[] = [];
    for (const [k, v] of Object.entries(want)) {
      if ((await homeStack.getConfig(k, true)) === v) continue;
      await homeStack.setConfig(k, v, true);
      set.push(`${k}=${v}`);
    }
    return set.length ? { status: 'ok', detail: `config ${set.join(', ')}` } : { status: 'done-before', detail: `config already ${Object.entries(want).map(([k, v]) => `${k}=${v}`).join(', ')}` };
  });

  await step('rebuild', async () => {
    db = await describeDb(rds, home.dbIdentifier);
    if (db.exists && db.replicaSource) return { status: 'done-before', detail: `${home.dbIdentifier} already replicates ${db.replicaSource}` };
    const r = await up(`dr failback: rebuild ${home.region} as a replica of ${survivor.region}`);
    if (r.result !== 'succeeded') throw new OperationError(`pulumi up on ${home.stack} ended ${r.result}`);
    return { status: 'ok', detail: `pulumi up ${home.stack}: ${home.region} rebuilt as a replica of ${survivor.stack}` };
  });

  // Outputs after the rebuild (the replica's identifier/endpoint).
  const after = await o.reread();
  const rebuilt = awsRegion(after.aws, home.region);
  await step('wait-replica', async () => {
    const v = await wait(`replica ${rebuilt.dbIdentifier} available`, async () => {
      const d = await describeDb(o.rds(home.region), rebuilt.dbIdentifier);
      if (!d.exists) return undefined;
      if (d.status === 'available' && d.replicaSource) return d;
      log(`replica ${rebuilt.dbIdentifier}: ${d.status ?? 'unknown'}${d.replicaSource ? '' : ' (not replicating yet)'}`);
      return undefined;
    });
    return { status: 'ok', detail: `${rebuilt.dbIdentifier} available, replicating ${v.replicaSource}` };
  });

  await step('lag', async () => {
    const deadline = clock.now().getTime() + timeoutMs;
    let last: LagReading = {};
    for (;;) {
      last = await o.lag(home.region, rebuilt.dbIdentifier);
      if (last.seconds !== undefined && last.seconds <= o.maxLagSeconds) break;
      if (clock.now().getTime() >= deadline) {
        throw new RefusedError(
          `the rebuilt replica ${rebuilt.dbIdentifier} ${last.seconds === undefined ? 'reports no ReplicaLag yet' : `lags ${last.seconds} s`} (limit ${o.maxLagSeconds} s): no switchover was started; rerun dr failback once it has caught up`,
        );
      }
      await clock.sleep(pollMs, o.signal);
    }
    result.replica_lag_seconds = last.seconds;
    return { status: 'ok', detail: `ReplicaLag ${last.seconds} s ≤ ${o.maxLagSeconds} s` };
  });

  let sw: FailoverResult | undefined;
  await step('switchover', async () => {
    sw = await o.switchover(after, survivor.region, home.region);
    return { status: 'ok', detail: `planned switchover ${sw.id} ${survivor.region} → ${home.region}: ${sw.outcome}` };
  });
  return { ...(result as AwsFailbackResult), switchover: { id: sw!.id, outcome: sw!.outcome, steps: sw!.steps } };
}
