/**
 * `dr drill --local`: the whole rehearsal on real PostgreSQL and Redis replication, measured.
 *
 *  1 env-up          bring the two-region environment up
 *  2 seed            seed bot data (users, sessions, uploads, reminders)
 *  3 traffic         start the bot traffic simulator (resolves service names through the DNS file)
 *  4 backup          backup engine: PostgreSQL (pg_dump) and Redis (RDB) → region a's bucket, then copied to
 *                    region b's bucket (the local stand-in for S3 cross-region replication, which s3rver lacks)
 *  5 inject-failure  datacenter: SIGKILL a's PostgreSQL and Redis; database / cache: that tier only;
 *                    planned: nothing is killed, a planned switchover starts under load
 *  6 detect-failover the health monitor (1 s × 3) detects and runs the engine (planned: the engine directly)
 *  7 traffic-resumed first acknowledged write through the service names on the new region → RTO
 *  8 restore-verify  latest backups from b's bucket: PostgreSQL into a scratch database on the serving primary
 *                    (checksum + row counts against the manifest), Redis into a scratch redis-server (checksum +
 *                    key count + sampled values)
 *  9 report          RPO (acknowledged writes missing on the new primary), Markdown report under reports/
 * 10 teardown        stop everything (unless --keep)
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { S3Store } from '../adapters/aws/s3-store';
import { localPorts, localTopology } from '../adapters/rehearsal/index';
import { LocalEnv } from '../adapters/rehearsal/local-env';
import { LocalDatabase } from '../adapters/rehearsal/local-database';
import { LocalNotifier } from '../adapters/rehearsal/local-notifier';
import { LocalPgTools } from '../adapters/tools/pg-tools';
import { LocalRedisTools } from '../adapters/tools/redis-tools';
import { RedisServer } from '../adapters/tools/redis-server';
import { backupPostgres, backupRedis, type ObjectStore, restorePostgres, restoreRedis } from '../backup/index';
import { redact } from '../core/redact';
import { type FailoverNotice, type FailoverResult, incidentMoves, type ReplicationState, runFailover, type StepEvent } from '../failover/index';
import { down, killRegion, type ReplicationHold, type ReplicationStall, stallReplication, up } from './environment';
import { runMonitor, type MonitorOutcome } from './monitor';
import { writeReport } from './report';
import type { LocalState } from '../adapters/rehearsal/state';
import { seedBotData, TrafficSimulator } from './traffic';
import { systemClock } from '../core/clock';
import { localTempFiles } from '../adapters/tools/temp-files';

export const SCENARIOS = ['datacenter', 'database', 'cache', 'planned'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const DRILL_STEPS = ['env-up', 'seed', 'traffic', 'backup', 'inject-failure', 'detect-failover', 'traffic-resumed', 'restore-verify', 'report', 'teardown'] as const;
export type DrillStepName = (typeof DRILL_STEPS)[number];

export interface DrillOptions {
  scenario: Scenario;
  /** Writes per second of the traffic simulator. */
  loadTps: number;
  /** Seconds of steady traffic before the failure is injected. */
  durationSeconds: number;
  dir: string;
  keep: boolean;
  /** Directory for the Markdown report (default `<cwd>/reports`). */
  reportsDir: string;
  /** Health check interval and threshold (defaults 1000 ms × 3). */
  checkIntervalMs?: number;
  checkThreshold?: number;
  /** Extra wait before the failure, in ms (default: random within one check interval). */
  failurePhaseMs?: number;
  /** How long to wait for traffic to resume (default 60 s). */
  resumeTimeoutMs?: number;
  /**
   * Hold replication back for this long before the failure (datacenter and database scenarios only), so the
   * standby really lags when the primary dies: the unplanned RPO and the engine's loss estimate are then
   * measured against real lag. `replicationHold` says how (default `sender`: nothing reaches the standby, the
   * writes meanwhile are really lost; `replay`: received but not applied, promotion replays them).
   */
  replicationDelayMs?: number;
  replicationHold?: ReplicationHold;
  signal?: AbortSignal;
  onStep?: (name: string, status: 'running' | 'ok' | 'failed' | 'skipped', durationMs?: number, detail?: string) => void;
  onEngineStep?: (e: StepEvent) => void;
  log?: (line: string) => void;
}

export interface DrillStep {
  name: DrillStepName;
  status: 'ok' | 'failed' | 'skipped';
  duration_ms: number;
  detail?: string;
  started_at: string;
}

export interface DrillCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DrillResult {
  ok: boolean;
  scenario: Scenario;
  rto_seconds: number | null;
  detection_seconds: number | null;
  rpo: {
    acked_writes: number;
    lost_writes: number;
    lag_at_failure_seconds: number | null;
    lag_at_failure_bytes: number | null;
    cache_acked_writes: number;
    cache_lost_writes: number;
    /** Ids of lost database writes (at most {@link LOST_IDS_SHOWN}), for reconciling them with the old primary. */
    lost_write_ids: string[];
    estimated_data_loss?: FailoverResult['estimated_data_loss'];
    /** Replication held back before the failure (replicationDelayMs). */
    replication_hold?: { how: ReplicationHold; ms: number };
  };
  steps: DrillStep[];
  failover?: { id: string; mode: string; incident: string; from: string; to: string; outcome: string; steps: FailoverResult['steps']; journal: string };
  /**
   * Both restores. `verified` is true only when both are; `duration_seconds` is the whole step. `backup`,
   * `tables` and `bucket` describe the PostgreSQL restore (the original shape); `postgresql` / `redis` the detail.
   */
  restore: {
    verified: boolean;
    duration_seconds: number | null;
    backup?: string;
    tables?: Array<{ table: string; expected: number | null; actual: number | null; ok: boolean }>;
    bucket?: string;
    error?: string;
    postgresql?: ServiceRestore & { tables: Array<{ table: string; expected: number | null; actual: number | null; ok: boolean }> };
    redis?: ServiceRestore & { keys: { backup: number; restored: number; target: number }; sample: { compared: number; mismatched: number } };
  };
  traffic: { load_tps: number; ops: number; db_acked: number; cache_acked: number; db_errors: number; cache_errors: number; reconnects: number };
  timeline: Array<{ at: string; t_seconds: number; event: string }>;
  checks: DrillCheck[];
  notifications: Array<{ kind: string; message: string }>;
  report: string;
  env_dir: string;
  kept: boolean;
  started_at: string;
  finished_at: string;
  error?: string;
}

export interface ServiceRestore {
  verified: boolean;
  backup: string;
  bucket: string;
  checksum: 'verified';
  duration_seconds: number;
  /** Where it was restored (scratch database / scratch redis-server), without credentials. */
  target: string;
}

class StepFailed extends Error {}

export const LOST_IDS_SHOWN = 100;

/** Check the drill options before anything starts (the CLI maps the thrown message to a usage error). */
export function checkDrillOptions(o: Pick<DrillOptions, 'scenario' | 'loadTps' | 'durationSeconds' | 'replicationDelayMs' | 'replicationHold'>): void {
  if (!(SCENARIOS as readonly string[]).includes(o.scenario)) throw new Error(`scenario must be one of ${SCENARIOS.join(', ')}, got '${o.scenario}'`);
  if (!(o.loadTps > 0 && o.loadTps <= 1000)) throw new Error(`--load-tps must be between 1 and 1000, got ${o.loadTps}`);
  if (!(o.durationSeconds > 0 && o.durationSeconds <= 3600)) throw new Error(`--duration must be between 1 and 3600 seconds, got ${o.durationSeconds}`);
  if (o.replicationDelayMs !== undefined) {
    if (!(Number.isFinite(o.replicationDelayMs) && o.replicationDelayMs > 0 && o.replicationDelayMs <= 600_000)) throw new Error(`--replication-delay-ms must be between 1 and 600000, got ${o.replicationDelayMs}`);
    if (o.scenario !== 'datacenter' && o.scenario !== 'database') throw new Error(`--replication-delay-ms applies to the datacenter and database scenarios (the primary database dies lagging), not to '${o.scenario}'`);
  }
  if (o.replicationHold !== undefined && !['sender', 'replay'].includes(o.replicationHold)) throw new Error(`replication hold must be 'sender' or 'replay', got '${String(o.replicationHold)}'`);
}

export async function runDrill(o: DrillOptions): Promise<DrillResult> {
  checkDrillOptions(o);
  const log = (l: string) => o.log?.(redact(l));
  const t0 = Date.now();
  const startedAt = new Date(t0).toISOString();
  const steps: DrillStep[] = [];
  const timeline: DrillResult['timeline'] = [];
  const notifications: DrillResult['notifications'] = [];
  const mark = (event: string, at = Date.now()) => timeline.push({ at: new Date(at).toISOString(), t_seconds: round2((at - t0) / 1000), event: redact(event) });
  const checks: DrillCheck[] = [];
  const result: DrillResult = {
    ok: false,
    scenario: o.scenario,
    rto_seconds: null,
    detection_seconds: null,
    rpo: { acked_writes: 0, lost_writes: 0, lag_at_failure_seconds: null, lag_at_failure_bytes: null, cache_acked_writes: 0, cache_lost_writes: 0, lost_write_ids: [] },
    steps,
    restore: { verified: false, duration_seconds: null },
    traffic: { load_tps: o.loadTps, ops: 0, db_acked: 0, cache_acked: 0, db_errors: 0, cache_errors: 0, reconnects: 0 },
    timeline,
    checks,
    notifications,
    report: '',
    env_dir: path.resolve(o.dir),
    kept: o.keep,
    started_at: startedAt,
    finished_at: startedAt,
  };

  const step = async <T>(name: DrillStepName, fn: () => Promise<{ value: T; detail?: string }>): Promise<T> => {
    if (o.signal?.aborted) throw new StepFailed(`interrupted before ${name}`);
    const s0 = Date.now();
    o.onStep?.(name, 'running');
    mark(`${name} started`, s0);
    try {
      const { value, detail } = await fn();
      const ms = Date.now() - s0;
      steps.push({ name, status: 'ok', duration_ms: ms, started_at: new Date(s0).toISOString(), ...(detail ? { detail: redact(detail) } : {}) });
      o.onStep?.(name, 'ok', ms, detail && redact(detail));
      mark(`${name} ok${detail ? `: ${detail}` : ''}`);
      return value;
    } catch (err) {
      const ms = Date.now() - s0;
      const msg = redact(err instanceof Error ? err.message : String(err));
      steps.push({ name, status: 'failed', duration_ms: ms, started_at: new Date(s0).toISOString(), detail: msg });
      o.onStep?.(name, 'failed', ms, msg);
      mark(`${name} failed: ${msg}`);
      throw new StepFailed(`${name}: ${msg}`);
    }
  };
  const skip = (name: DrillStepName, why: string) => {
    steps.push({ name, status: 'skipped', duration_ms: 0, started_at: new Date().toISOString(), detail: why });
    o.onStep?.(name, 'skipped', 0, why);
  };

  let state: LocalState | undefined;
  let traffic: TrafficSimulator | undefined;
  let stall: ReplicationStall | undefined;
  const monitors: Array<{ abort: () => void; done: Promise<MonitorOutcome> }> = [];
  const moves = o.scenario === 'planned' ? incidentMoves('datacenter') : incidentMoves(o.scenario);
  const from = 'a';
  const to = 'b';
  try {
    state = await step('env-up', async () => {
      const s = await up(o.dir, log);
      return { value: s, detail: `PostgreSQL a:${s.regions.a.postgres.port} → b:${s.regions.b.postgres.port}, Redis a:${s.regions.a.redis.port} → b:${s.regions.b.redis.port}, s3 :${s.s3.port}` };
    });
    const st = state;
    const ports = localPorts(st, { onNotice: (n: FailoverNotice) => notifications.push({ kind: n.kind, message: n.message }) });
    await step('seed', async () => {
      const counts = await seedBotData(st, 'a');
      return { value: undefined, detail: Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') };
    });
    traffic = new TrafficSimulator(st, o.loadTps);
    const tr = traffic;
    await step('traffic', async () => {
      tr.start();
      await tr.waitFor((op) => !!op.db && !!op.cache, 10_000);
      return { value: undefined, detail: `${o.loadTps} writes/s through the service names (database → a, cache → a)` };
    });
    const s3env = { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${st.s3.port}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
    const storeA = new S3Store({ bucket: st.regions.a.bucket, env: s3env });
    const storeB = new S3Store({ bucket: st.regions.b.bucket, env: s3env });
    const env = new LocalEnv(st);
    await step('backup', async () => {
      const pg = await backupPostgres({ url: env.appUrl('a'), tier: 'daily', store: storeA, tools: new LocalPgTools(), clock: systemClock, log, prune: false });
      const rd = await backupRedis({ url: env.redisUrl('a'), tier: 'daily', store: storeA, tools: new LocalRedisTools(), clock: systemClock, log, prune: false });
      const copied = await replicateBucket(storeA, storeB);
      return {
        value: undefined,
        detail: `PostgreSQL ${pg.manifest.size_readable} ${pg.manifest.key}, Redis ${rd.manifest.size_readable} ${rd.manifest.key} in ${st.regions.a.bucket}; ${copied} object(s) copied to ${st.regions.b.bucket} (local stand-in for cross-region replication)`,
      };
    });

    // The health monitor runs from steady state on, like a real one: it detects the failure and triggers the engine.
    const monitorAbort = new AbortController();
    const stopMonitor = () => monitorAbort.abort();
    o.signal?.addEventListener('abort', stopMonitor, { once: true });
    let monitor: Promise<MonitorOutcome> | undefined;
    if (o.scenario !== 'planned') {
      monitor = runMonitor({
        state: st,
        ports,
        intervalMs: o.checkIntervalMs ?? 1000,
        threshold: o.checkThreshold ?? 3,
        autoFailover: true,
        stopAfterFailover: true,
        alert: async (a) => {
          notifications.push({ kind: a.kind, message: redact(a.message) });
          return new LocalNotifier(st.notifications_log).alert(a);
        },
        signal: monitorAbort.signal,
        listener: o.onEngineStep,
        onEvent: (e) => {
          if (e.kind === 'failure') mark(`monitor: ${e.tier} in ${e.region} failed check ${e.consecutive} (${e.error ?? ''})`, e.at);
          if (e.kind === 'incident') mark(`monitor: ${e.incident} incident, failing over ${e.from} → ${e.to}`, e.at);
        },
      });
      monitors.push({ abort: stopMonitor, done: monitor });
    }
    // Steady traffic (and monitoring) before the failure. The failure lands at a random phase of the monitor's
    // check cycle, as a real one does (a whole-second wait would always hit just after a check: the worst case).
    await sleepAbortable(o.durationSeconds * 1000 + (o.failurePhaseMs ?? Math.random() * (o.checkIntervalMs ?? 1000)), o.signal);
    let failAt = 0;
    let lag: ReplicationState | undefined;
    await step('inject-failure', async () => {
      if (o.replicationDelayMs) {
        const how = o.replicationHold ?? 'sender';
        stall = await stallReplication(st, from, to, how);
        result.rpo.replication_hold = { how, ms: o.replicationDelayMs };
        mark(how === 'sender' ? `replication a → b stalled (walsender ${stall.pid} stopped): writes acknowledged on a no longer reach b` : 'replay paused on b: WAL received, not applied');
        await sleepAbortable(o.replicationDelayMs, o.signal);
      }
      lag = await new LocalDatabase(env).replicationState('a', 'b');
      result.rpo.lag_at_failure_seconds = lag.lagSeconds ?? null;
      result.rpo.lag_at_failure_bytes = lag.lagBytes ?? null;
      failAt = Date.now();
      if (o.scenario === 'planned') return { value: undefined, detail: `nothing killed: planned switchover a → b under ${o.loadTps} writes/s (lag ${lag.lagSeconds ?? '?'}s / ${lag.lagBytes ?? '?'} bytes)` };
      await killRegion(st, 'a', { database: moves.database, cache: moves.cache });
      const what = [moves.database ? 'PostgreSQL' : '', moves.cache ? 'Redis' : ''].filter(Boolean).join(' and ');
      return { value: undefined, detail: `SIGKILL region a's ${what} (lag just before: ${lag.lagSeconds ?? '?'}s / ${lag.lagBytes ?? '?'} bytes)` };
    });
    mark('failure injected', failAt);

    let fo: FailoverResult | undefined;
    await step('detect-failover', async () => {
      if (o.scenario === 'planned') {
        fo = await runFailover({ ports, topology: localTopology(st), mode: 'planned', incident: 'datacenter', from, to, confirm: true, listener: o.onEngineStep, signal: o.signal });
        return { value: undefined, detail: `planned switchover ${fo.id} ${fo.outcome}` };
      }
      const outcome = await withTimeout(monitor!, o.resumeTimeoutMs ?? 60_000, `the monitor did not detect the failure within ${(o.resumeTimeoutMs ?? 60_000) / 1000}s`);
      if (!outcome.incident) throw new Error('the monitor stopped without detecting the failure');
      result.detection_seconds = round2((outcome.incident.detected_at - failAt) / 1000);
      if (outcome.failover_error) throw new Error(`failover failed: ${outcome.failover_error}`);
      fo = outcome.failover;
      checks.push({ name: 'incident detected as scenario', ok: outcome.incident.incident === o.scenario, detail: `monitor raised '${outcome.incident.incident}' for scenario '${o.scenario}'` });
      return { value: undefined, detail: `detected ${outcome.incident.incident} after ${result.detection_seconds}s; failover ${fo?.id} ${fo?.outcome}` };
    });
    if (fo) {
      result.failover = { id: fo.id, mode: fo.mode, incident: fo.incident, from: fo.from, to: fo.to, outcome: fo.outcome, steps: fo.steps, journal: fo.journal };
      if (fo.estimated_data_loss) result.rpo.estimated_data_loss = fo.estimated_data_loss;
      for (const s of fo.steps) mark(`engine ${s.name}: ${s.status}${s.detail ? ` (${s.detail})` : ''}`);
    }
    checks.push({ name: 'failover completed', ok: fo?.outcome === 'completed', detail: `outcome ${fo?.outcome ?? 'none'}` });

    const dbTarget = moves.database ? to : from;
    const cacheTarget = moves.cache ? to : from;
    await step('traffic-resumed', async () => {
      const op = await tr.waitFor((x) => x.at > failAt && x.db === dbTarget && x.cache === cacheTarget, o.resumeTimeoutMs ?? 60_000);
      result.rto_seconds = round2((op.at - failAt) / 1000);
      mark(`first acknowledged write through the service names on ${dbTarget}/${cacheTarget}`, op.at);
      // A little traffic on the new primary, then stop and count.
      await sleepAbortable(1000, o.signal);
      await tr.stop();
      const v = await tr.verifyOn(dbTarget, cacheTarget);
      result.rpo.acked_writes = v.db_acked;
      result.rpo.lost_writes = v.db_lost.length;
      result.rpo.lost_write_ids = v.db_lost.slice(0, LOST_IDS_SHOWN);
      result.rpo.cache_acked_writes = v.cache_acked;
      result.rpo.cache_lost_writes = v.cache_lost.length;
      return { value: undefined, detail: `RTO ${result.rto_seconds}s; ${v.db_acked} acknowledged database writes, ${v.db_lost.length} missing on ${dbTarget}; ${v.cache_acked} cache writes, ${v.cache_lost.length} missing on ${cacheTarget}` };
    });
    checks.push({ name: 'traffic resumed', ok: result.rto_seconds !== null, detail: `first acknowledged write ${result.rto_seconds}s after the failure` });
    if (o.scenario === 'planned') {
      checks.push({ name: 'planned switchover lost nothing', ok: result.rpo.lost_writes === 0 && result.rpo.cache_lost_writes === 0, detail: `${result.rpo.lost_writes} database and ${result.rpo.cache_lost_writes} cache acknowledged write(s) missing` });
    }

    await step('restore-verify', async () => {
      const s0 = Date.now();
      // PostgreSQL: into a scratch database on the serving primary.
      const scratch = 'dr_restore_check';
      await env.superQuery(dbTarget, `DROP DATABASE IF EXISTS ${scratch}`);
      await env.superQuery(dbTarget, `CREATE DATABASE ${scratch}`);
      try {
        const res = await restorePostgres({ temp: localTempFiles(), store: storeB, tools: new LocalPgTools(), targetUrl: env.superUrl(dbTarget, scratch), from: 'latest', jobs: 2, log });
        const tables = res.tables === 'skipped' ? [] : res.tables;
        result.restore.postgresql = {
          verified: res.checksum === 'verified' && res.tables !== 'skipped' && tables.every((t) => t.ok),
          backup: res.manifest.key,
          bucket: st.regions.b.bucket,
          checksum: res.checksum,
          duration_seconds: round2(res.durationSeconds),
          target: `database ${scratch} on ${dbTarget} (127.0.0.1:${env.pgPort(dbTarget)})`,
          tables,
        };
      } finally {
        await env.superQuery(dbTarget, `DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`).catch(() => undefined);
      }
      // Redis: into a scratch redis-server (never the serving cache: a restore refuses a non-empty target).
      const scratchRedis = await RedisServer.start({ dir: fs.mkdtempSync(path.join(st.dir, 'scratch-redis-')), password: randomBytes(16).toString('hex') });
      try {
        const res = await restoreRedis({ store: storeB, tools: new LocalRedisTools(), targetUrl: scratchRedis.url(), from: 'latest', temp: localTempFiles(st.dir), log });
        result.restore.redis = {
          verified: res.checksum === 'verified' && res.keys.restored === res.keys.backup && res.keys.target === res.keys.backup && res.sample.mismatched.length === 0,
          backup: res.manifest.key,
          bucket: st.regions.b.bucket,
          checksum: res.checksum,
          duration_seconds: round2(res.durationSeconds),
          target: `scratch redis-server on 127.0.0.1:${scratchRedis.port}`,
          keys: res.keys,
          sample: { compared: res.sample.compared, mismatched: res.sample.mismatched.length },
        };
      } finally {
        await scratchRedis.destroy().catch(() => undefined);
      }
      const pg = result.restore.postgresql;
      const rd = result.restore.redis;
      Object.assign(result.restore, {
        verified: pg.verified && rd.verified,
        duration_seconds: round2((Date.now() - s0) / 1000),
        backup: pg.backup,
        bucket: pg.bucket,
        tables: pg.tables,
      });
      if (!pg.verified) throw new Error('restored PostgreSQL row counts do not match the manifest');
      if (!rd.verified) throw new Error(`restored Redis keys do not match the backup (${rd.keys.restored}/${rd.keys.backup} keys, ${rd.sample.mismatched} sampled value(s) differ)`);
      return {
        value: undefined,
        detail: `from ${st.regions.b.bucket}: PostgreSQL ${pg.backup} into a scratch database on ${dbTarget}, checksum verified, ${pg.tables.length} table(s) match the manifest (${pg.duration_seconds}s); Redis ${rd.backup} into a scratch redis-server, checksum verified, ${rd.keys.restored} keys, ${rd.sample.compared} sampled values match (${rd.duration_seconds}s)`,
      };
    }).catch((err: unknown) => {
      if (!result.restore.error) result.restore.error = err instanceof Error ? err.message : String(err);
      throw err;
    });
    checks.push({
      name: 'restore verified',
      ok: result.restore.verified,
      detail: `PostgreSQL ${result.restore.postgresql ? `${result.restore.postgresql.backup}: checksum + row counts ${result.restore.postgresql.verified ? 'ok' : 'MISMATCH'}` : 'not restored'}; Redis ${result.restore.redis ? `${result.restore.redis.backup}: checksum + keys + sampled values ${result.restore.redis.verified ? 'ok' : 'MISMATCH'}` : 'not restored'}`,
    });
  } catch (err) {
    result.error = redact(err instanceof Error ? err.message : String(err));
  } finally {
    // A stopped walsender would hang the old primary's shutdown; a paused replay would keep b behind.
    await stall?.release().catch(() => undefined);
    for (const m of monitors) {
      m.abort();
      await m.done.catch(() => undefined);
    }
    if (traffic) {
      await traffic.stop().catch(() => undefined);
      Object.assign(result.traffic, traffic.stats);
    }
  }
  for (const required of ['failover completed', 'traffic resumed', 'restore verified']) {
    if (!checks.some((c) => c.name === required)) checks.push({ name: required, ok: false, detail: `not reached${result.error ? `: ${result.error}` : ''}` });
  }
  if (o.scenario === 'planned' && !checks.some((c) => c.name === 'planned switchover lost nothing')) checks.push({ name: 'planned switchover lost nothing', ok: false, detail: 'not reached' });
  result.ok = !result.error && checks.every((c) => c.ok);
  const done = new Set(steps.map((s) => s.name));
  for (const n of DRILL_STEPS) if (!done.has(n) && n !== 'report' && n !== 'teardown') skip(n, result.error ? 'not reached' : 'not run');

  // 9 report (always, also for a failed drill), 10 teardown.
  const r0 = Date.now();
  try {
    result.finished_at = new Date().toISOString();
    result.report = writeReport(result, o.reportsDir);
    steps.push({ name: 'report', status: 'ok', duration_ms: Date.now() - r0, started_at: new Date(r0).toISOString(), detail: result.report });
    o.onStep?.('report', 'ok', Date.now() - r0, result.report);
  } catch (err) {
    steps.push({ name: 'report', status: 'failed', duration_ms: Date.now() - r0, started_at: new Date(r0).toISOString(), detail: String(err) });
    o.onStep?.('report', 'failed', Date.now() - r0, String(err));
    result.ok = false;
  }
  const d0 = Date.now();
  if (o.keep) {
    skip('teardown', `--keep: the environment stays up in ${result.env_dir} ('dr local down --dir ${o.dir}' stops it)`);
  } else {
    try {
      const rep = await down(o.dir);
      steps.push({ name: 'teardown', status: 'ok', duration_ms: Date.now() - d0, started_at: new Date(d0).toISOString(), detail: `stopped ${rep.stopped.join(', ') || 'nothing'}` });
      o.onStep?.('teardown', 'ok', Date.now() - d0, `stopped ${rep.stopped.join(', ')}`);
    } catch (err) {
      steps.push({ name: 'teardown', status: 'failed', duration_ms: Date.now() - d0, started_at: new Date(d0).toISOString(), detail: String(err) });
      o.onStep?.('teardown', 'failed', Date.now() - d0, String(err));
      result.ok = false;
    }
  }
  // Rewrite the report with the teardown step included.
  result.finished_at = new Date().toISOString();
  try {
    writeReport(result, o.reportsDir, result.report);
  } catch {
    /* the first write succeeded or failed above */
  }
  return result;
}

/** Copy every object of `from` into `to` (data before manifests, so a manifest never precedes its data). */
export async function replicateBucket(from: ObjectStore, to: ObjectStore): Promise<number> {
  const objects = (await from.list('')).sort((x, y) => Number(x.key.endsWith('.metadata.json')) - Number(y.key.endsWith('.metadata.json')));
  let n = 0;
  for (const obj of objects) {
    if (await to.head(obj.key)) continue;
    await to.upload(obj.key, await from.get(obj.key));
    n++;
  }
  return n;
}

/** `p`, or a rejection after `ms` (the timer is always cleared). */
function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function sleepAbortable(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('interrupted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error('interrupted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

