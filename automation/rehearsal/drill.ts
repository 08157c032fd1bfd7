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
 *    region-returns  datacenter: a's services and secret store start again, the split-brain guard fences them, a's
 *                    bot worker starts and must consume nothing; the bot tier's figures (./drill-bots.ts)
 *  8 restore-verify  latest backups from b's bucket: PostgreSQL into a scratch database on the serving primary
 *                    (checksum + row counts against the manifest), Redis into a scratch redis-server (checksum +
 *                    key count + sampled values)
 *    failback        optional (`failback`): dr failback --local to a — the old primary's state kept as a verified
 *                    divergent backup in b's bucket before pg_rewind — and the check that it lists every lost write
 *  9 report          RPO (acknowledged writes missing on the new primary), Markdown report under reports/
 * 10 teardown        stop everything (unless --keep)
 *
 * The contract (options, result, scenarios) is in ./drill-result.ts; the restore check in ./drill-restore.ts.
 */
import * as path from 'node:path';
import { S3Store } from '../adapters/aws/s3-store';
import { localPorts, localTopology } from '../adapters/rehearsal/index';
import { LocalDatabase } from '../adapters/rehearsal/local-database';
import { LocalEnv } from '../adapters/rehearsal/local-env';
import { LocalNotifier } from '../adapters/rehearsal/local-notifier';
import type { LocalState } from '../adapters/rehearsal/state';
import { LocalPgTools } from '../adapters/tools/pg-tools';
import { LocalRedisTools } from '../adapters/tools/redis-tools';
import { backupPostgres, backupRedis, describeDivergent, type ObjectStore, readManifest } from '../backup/index';
import { sleep, systemClock } from '../core/clock';
import { InterruptedError, OperationError, RefusedError } from '../core/errors';
import { redact } from '../core/redact';
import { type FailoverPorts, type FailoverResult, guardOldPrimary, incidentMoves, readAll, type ReplicationState, runFailover } from '../failover/index';
import { checkDrillOptions, DRILL_STEPS, isTokenScenario, type DrillCheck, type DrillOptions, type DrillResult, type DrillStep, type DrillStepName, LOST_IDS_SHOWN, round2 } from './drill-result';
import { restoreAndVerify } from './drill-restore';
import { TOKEN_BOT, TokenDrill, type TokenDrillScenario } from './drill-token';
import { BotTierDrill } from './drill-bots';
import { readinessDrill } from './readiness';
import { failback } from './failback';
import { down, killRegion, lockEnvironment, occupied, type ReplicationStall, restartRegion, stallReplication, up } from './environment';
import { type MonitorEvent, runMonitor, type MonitorOutcome } from './monitor';
import { writeReport } from './report';
import { seedBotData, TrafficSimulator } from './traffic';

export * from './drill-result';

class StepFailed extends Error {}

const FROM = 'a';
const TO = 'b';

/** The S3 settings of the environment's s3rver (the local stand-in for both regions' buckets). */
function s3Env(st: LocalState): Record<string, string> {
  return { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${st.s3.port}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
}

/** One drill: its options, its result as it fills in, and what it started (so it can stop exactly that). */
class DrillRun {
  readonly t0 = Date.now();
  readonly result: DrillResult;
  readonly moves: ReturnType<typeof incidentMoves>;
  state?: LocalState;
  traffic?: TrafficSimulator;
  stall?: ReplicationStall;
  monitor?: { abort: () => void; done: Promise<MonitorOutcome> };
  failAt = 0;
  /** True once this drill started creating its environment: only then does it tear one down. */
  owned = false;
  /** The token scenarios' bot tier. */
  tokens?: TokenDrill;
  /** The datacenter scenario's bot tier (one consumer per token). */
  bots?: BotTierDrill;
  /** The monitor's latest check, for the live line. */
  lastCheck?: Extract<MonitorEvent, { kind: 'check' }>;
  checks = 0;

  constructor(readonly o: DrillOptions) {
    const startedAt = new Date(this.t0).toISOString();
    this.moves = o.scenario === 'planned' || o.scenario === 'readiness' || isTokenScenario(o.scenario) ? incidentMoves('datacenter') : incidentMoves(o.scenario);
    this.result = {
      ok: false,
      scenario: o.scenario,
      rto_seconds: null,
      detection_seconds: null,
      detection_checks: [],
      rpo: { acked_writes: 0, lost_writes: 0, lag_at_failure_seconds: null, lag_at_failure_bytes: null, cache_acked_writes: 0, cache_lost_writes: 0, lost_write_ids: [] },
      steps: [],
      restore: { verified: false, duration_seconds: null },
      traffic: { load_tps: o.loadTps, ops: 0, db_acked: 0, cache_acked: 0, db_errors: 0, cache_errors: 0, reconnects: 0 },
      timeline: [],
      checks: [],
      notifications: [],
      report: '',
      env_dir: path.resolve(o.dir),
      kept: o.keep,
      started_at: startedAt,
      finished_at: startedAt,
    };
  }

  log = (l: string): void => this.o.log?.(redact(l));

  mark(event: string, at = Date.now()): void {
    this.result.timeline.push({ at: new Date(at).toISOString(), t_seconds: round2((at - this.t0) / 1000), event: redact(event) });
  }

  check(c: DrillCheck): void {
    this.result.checks.push(c);
  }

  private record(s: DrillStep): void {
    this.result.steps.push(s);
    this.o.onStep?.(s.name, s.status, s.duration_ms, s.detail);
  }

  /** Run one drill step: announce it, time it, record it (a failure stops the drill with StepFailed). */
  async step<T>(name: DrillStepName, fn: () => Promise<{ value: T; detail?: string }>): Promise<T> {
    if (this.o.signal?.aborted) throw new InterruptedError(`interrupted before ${name}`);
    const s0 = Date.now();
    this.o.onStep?.(name, 'running');
    this.mark(`${name} started`, s0);
    try {
      const { value, detail } = await fn();
      this.record({ name, status: 'ok', duration_ms: Date.now() - s0, started_at: new Date(s0).toISOString(), ...(detail ? { detail: redact(detail) } : {}) });
      this.mark(`${name} ok${detail ? `: ${detail}` : ''}`);
      return value;
    } catch (err) {
      // An interrupt is not a failure of the step: it is reported once, by whoever called the drill.
      if (this.o.signal?.aborted) throw new InterruptedError(`interrupted during ${name}`);
      const msg = redact(err instanceof Error ? err.message : String(err));
      this.record({ name, status: 'failed', duration_ms: Date.now() - s0, started_at: new Date(s0).toISOString(), detail: msg });
      this.mark(`${name} failed: ${msg}`);
      throw new StepFailed(`${name}: ${msg}`);
    }
  }

  skip(name: DrillStepName, why: string): void {
    this.record({ name, status: 'skipped', duration_ms: 0, started_at: new Date().toISOString(), detail: why });
  }

  /** Steps 1–4: environment, seed data, steady traffic, backups (copied to b's bucket). */
  async prepare(): Promise<{ st: LocalState; ports: FailoverPorts; storeB: ObjectStore; env: LocalEnv }> {
    const { o } = this;
    const st = await this.step('env-up', async () => {
      this.owned = true;
      const s = await up(o.dir, this.log);
      return { value: s, detail: `PostgreSQL a:${s.regions.a.postgres.port} → b:${s.regions.b.postgres.port}, Redis a:${s.regions.a.redis.port} → b:${s.regions.b.redis.port}, s3 :${s.s3.port}` };
    });
    this.state = st;
    const ports = localPorts(st, { onNotice: (n) => this.result.notifications.push({ kind: n.kind, message: n.message }) });
    await this.step('seed', async () => {
      const counts = await seedBotData(st, FROM);
      return { value: undefined, detail: Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') };
    });
    const tr = (this.traffic = new TrafficSimulator(st, o.loadTps));
    await this.step('traffic', async () => {
      tr.start();
      await tr.waitFor((op) => !!op.db && !!op.cache, 10_000);
      return { value: undefined, detail: `${o.loadTps} writes/s through the service names (database → a, cache → a)` };
    });
    const storeA = new S3Store({ bucket: st.regions.a.bucket, env: s3Env(st) });
    const storeB = new S3Store({ bucket: st.regions.b.bucket, env: s3Env(st) });
    const env = new LocalEnv(st);
    await this.step('backup', async () => {
      const pg = await backupPostgres({ url: env.appUrl(FROM), tier: 'daily', store: storeA, tools: new LocalPgTools(), clock: systemClock, log: this.log, prune: false });
      const rd = await backupRedis({ url: env.redisUrl(FROM), tier: 'daily', store: storeA, tools: new LocalRedisTools(), clock: systemClock, log: this.log, prune: false });
      const copied = await replicateBucket(storeA, storeB);
      return {
        value: undefined,
        detail: `PostgreSQL ${pg.manifest.size_readable} ${pg.manifest.key}, Redis ${rd.manifest.size_readable} ${rd.manifest.key} in ${st.regions.a.bucket}; ${copied} object(s) copied to ${st.regions.b.bucket} (local stand-in for cross-region replication)`,
      };
    });
    return { st, ports, storeB, env };
  }

  /** The health monitor runs from steady state on, like a real one: it detects the failure and triggers the engine. */
  startMonitor(st: LocalState, ports: FailoverPorts): void {
    const { o } = this;
    if (o.scenario === 'planned' || o.scenario === 'readiness' || isTokenScenario(o.scenario)) return;
    const abort = new AbortController();
    const stop = () => abort.abort();
    o.signal?.addEventListener('abort', stop, { once: true });
    const done = runMonitor({
      state: st,
      ports,
      intervalMs: o.checkIntervalMs ?? 1000,
      threshold: o.checkThreshold ?? 3,
      autoFailover: true,
      stopAfterFailover: true,
      alert: async (a) => {
        this.result.notifications.push({ kind: a.kind, message: redact(a.message) });
        return new LocalNotifier(st.notifications_log).alert(a);
      },
      signal: abort.signal,
      listener: o.onEngineStep,
      onEvent: (e) => {
        if (e.kind === 'check') {
          this.lastCheck = e;
          this.checks++;
        }
        if (e.kind === 'failure') {
          this.mark(`monitor: ${e.tier} in ${e.region} failed check ${e.consecutive} (${e.error ?? ''})`, e.at);
          if (!this.result.failover) this.result.detection_checks.push({ tier: e.tier, region: e.region, consecutive: e.consecutive, at: e.at, slot: e.slot });
        }
        if (e.kind === 'incident') this.mark(`monitor: ${e.incident} incident, failing over ${e.from} → ${e.to}`, e.at);
      },
    });
    this.monitor = { abort: stop, done };
  }

  /** Step 5: hold replication back if asked, measure the lag, then kill (or, planned, nothing). */
  async injectFailure(st: LocalState, env: LocalEnv): Promise<void> {
    const { o, moves, result } = this;
    await this.step('inject-failure', async () => {
      if (o.replicationDelayMs) {
        const how = o.replicationHold ?? 'sender';
        this.stall = await stallReplication(st, FROM, TO, how);
        result.rpo.replication_hold = { how, ms: o.replicationDelayMs };
        this.mark(how === 'sender' ? `replication a → b stalled (walsender ${this.stall.pid} stopped): writes acknowledged on a no longer reach b` : 'replay paused on b: WAL received, not applied');
        await sleepAbortable(o.replicationDelayMs, o.signal);
      }
      const lag: ReplicationState = await new LocalDatabase(env).replicationState(FROM, TO);
      result.rpo.lag_at_failure_seconds = lag.lagSeconds ?? null;
      result.rpo.lag_at_failure_bytes = lag.lagBytes ?? null;
      this.failAt = Date.now();
      await this.bots?.regionLost(this.failAt);
      if (o.scenario === 'planned') return { value: undefined, detail: `nothing killed: planned switchover a → b under ${o.loadTps} writes/s (lag ${lag.lagSeconds ?? '?'}s / ${lag.lagBytes ?? '?'} bytes)` };
      await killRegion(st, FROM, { database: moves.database, cache: moves.cache, bots: !!this.bots });
      const what = [moves.database ? 'PostgreSQL' : '', moves.cache ? 'Redis' : ''].filter(Boolean).join(' and ');
      return { value: undefined, detail: `SIGKILL region a's ${what}${this.bots ? ', its bot worker and its secret store down' : ''} (lag just before: ${lag.lagSeconds ?? '?'}s / ${lag.lagBytes ?? '?'} bytes)` };
    });
    this.mark('failure injected', this.failAt);
  }

  /** Step 6: the monitor detects and fails over (planned: the engine runs the switchover directly). */
  async detectFailover(st: LocalState, ports: FailoverPorts): Promise<void> {
    const { o, result } = this;
    let fo: FailoverResult | undefined;
    await this.step('detect-failover', async () => {
      if (o.scenario === 'planned') {
        fo = await runFailover({ ports, topology: localTopology(st), mode: 'planned', incident: 'datacenter', from: FROM, to: TO, confirm: true, listener: o.onEngineStep, signal: o.signal });
        return { value: undefined, detail: `planned switchover ${fo.id} ${fo.outcome}` };
      }
      const timeout = o.resumeTimeoutMs ?? 60_000;
      const outcome = await withTimeout(this.monitor!.done, timeout, `the monitor did not detect the failure within ${timeout / 1000}s`);
      if (!outcome.incident) throw new OperationError('the monitor stopped without detecting the failure');
      result.detection_seconds = round2((outcome.incident.detected_at - this.failAt) / 1000);
      if (outcome.failover_error) throw new OperationError(`failover failed: ${outcome.failover_error}`);
      fo = outcome.failover;
      this.check({ name: 'incident detected as scenario', ok: outcome.incident.incident === o.scenario, detail: `monitor raised '${outcome.incident.incident}' for scenario '${o.scenario}'` });
      return { value: undefined, detail: `detected ${outcome.incident.incident} after ${result.detection_seconds}s; failover ${fo?.id} ${fo?.outcome}` };
    });
    if (fo) {
      result.failover = { id: fo.id, mode: fo.mode, incident: fo.incident, from: fo.from, to: fo.to, outcome: fo.outcome, steps: fo.steps, journal: fo.journal };
      if (fo.estimated_data_loss) result.rpo.estimated_data_loss = fo.estimated_data_loss;
      for (const s of fo.steps) this.mark(`engine ${s.name}: ${s.status}${s.detail ? ` (${s.detail})` : ''}`);
    }
    this.check({ name: 'failover completed', ok: fo?.outcome === 'completed', detail: `outcome ${fo?.outcome ?? 'none'}` });
  }

  /** Step 7: the first acknowledged write through the service names on the new region (RTO); then count losses. */
  async trafficResumed(dbTarget: string, cacheTarget: string): Promise<void> {
    const { o, result } = this;
    const tr = this.traffic!;
    await this.step('traffic-resumed', async () => {
      const op = await tr.waitFor((x) => x.at > this.failAt && x.db === dbTarget && x.cache === cacheTarget, o.resumeTimeoutMs ?? 60_000);
      result.rto_seconds = round2((op.at - this.failAt) / 1000);
      this.mark(`first acknowledged write through the service names on ${dbTarget}/${cacheTarget}`, op.at);
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
    this.check({ name: 'traffic resumed', ok: result.rto_seconds !== null, detail: `first acknowledged write ${result.rto_seconds}s after the failure` });
    if (o.scenario === 'planned') {
      this.check({ name: 'planned switchover lost nothing', ok: result.rpo.lost_writes === 0 && result.rpo.cache_lost_writes === 0, detail: `${result.rpo.lost_writes} database and ${result.rpo.cache_lost_writes} cache acknowledged write(s) missing` });
    }
  }

  /**
   * Datacenter, after traffic resumed: b's bot worker must be consuming; then region a comes back (its PostgreSQL,
   * Redis and secret store), the split-brain guard runs as the monitor's would (fences a's database and cache, sets
   * a's copy of the bots' secrets to b), a's worker starts again and must consume nothing. Then the bot figures.
   */
  async regionReturns(st: LocalState, ports: FailoverPorts): Promise<void> {
    const bots = this.bots;
    if (!bots) return this.skip('region-returns', `no bot tier in a ${this.o.scenario} drill (the datacenter drill runs it)`);
    const { o, result } = this;
    await this.step('region-returns', async () => {
      await bots.waitSwitched(o.resumeTimeoutMs ?? 60_000);
      await restartRegion(st, FROM, { database: true, cache: true, bots: true });
      const g = await guardOldPrimary(ports, undefined, { signal: o.signal });
      const guard = g.actions.map((a) => `${a.tier} ${a.outcome}${a.error ? ` (${a.error})` : ''}`).join(', ');
      this.mark(`a is back; split-brain guard: ${guard}`);
      const dnsAt = (await readAll(ports.journal)).find((j) => j.id === result.failover?.id)?.steps['switch-dns']?.at;
      if (dnsAt) bots.dnsSwitchedAt = Date.parse(dnsAt);
      const returned = await bots.regionReturned();
      const { bots: figures, checks } = await bots.finish();
      result.bots = figures;
      for (const c of checks) this.check(c);
      return { value: undefined, detail: `guard: ${guard}; ${returned}; updates ${figures.updates_sent} sent, handled a ${figures.updates_handled_a} / b ${figures.updates_handled_b}, ${figures.updates_lost} lost, ${figures.conflicts_after_switch} conflict(s) after the switch` };
    });
  }

  /** Step 8: restore both latest backups from b's bucket into scratch targets and compare. */
  async restoreVerify(st: LocalState, env: LocalEnv, storeB: ObjectStore, dbTarget: string): Promise<void> {
    const { result } = this;
    await this.step('restore-verify', async () => ({ value: undefined, detail: await restoreAndVerify({ st, env, store: storeB, dbTarget, restore: result.restore, log: this.log }) })).catch((err: unknown) => {
      if (!result.restore.error) result.restore.error = err instanceof Error ? err.message : String(err);
      throw err;
    });
    const pg = result.restore.postgresql;
    const rd = result.restore.redis;
    this.check({
      name: 'restore verified',
      ok: result.restore.verified,
      detail: `PostgreSQL ${pg ? `${pg.backup}: checksum + row counts ${pg.verified ? 'ok' : 'MISMATCH'}` : 'not restored'}; Redis ${rd ? `${rd.backup}: checksum + keys + sampled values ${rd.verified ? 'ok' : 'MISMATCH'}` : 'not restored'}`,
    });
  }

  /** Optional step: fail back to a; the divergent backup taken before pg_rewind must list every lost write. */
  async failBack(st: LocalState, storeB: ObjectStore): Promise<void> {
    const { o, result } = this;
    await this.step('failback', async () => {
      const fb = await failback(st, { home: FROM, confirm: true, log: this.log, listener: o.onEngineStep, signal: o.signal });
      const kept = new Set<string>();
      if (fb.divergent) for (const t of (await readManifest(storeB, fb.divergent.key)).divergence?.tables ?? []) t.keys.only_on_old_primary.forEach((k) => kept.add(k));
      const listed = result.rpo.lost_write_ids.filter((id) => kept.has(id)).length;
      result.failback = { ...(fb.divergent ? { divergent: fb.divergent } : {}), lost_writes_kept: listed, rebuilt: fb.rebuilt, switchover: { id: fb.switchover.id, outcome: fb.switchover.outcome } };
      return { value: undefined, detail: `${fb.divergent ? `before pg_rewind, ${describeDivergent(fb.divergent)}; ` : ''}rebuilt with ${fb.rebuilt.database ?? 'no database rebuild'}; switchover ${fb.switchover.id} ${fb.switchover.outcome}: ${FROM} serves again` };
    });
    const f = result.failback!;
    const lost = result.rpo.lost_write_ids.length;
    this.check({
      name: 'lost writes kept in the divergent backup',
      ok: f.lost_writes_kept === lost && (!this.moves.database || f.divergent?.restorability === 'VERIFIED'),
      detail: f.divergent ? `${f.lost_writes_kept} of the ${lost} lost write id(s) listed in ${f.divergent.location}/${f.divergent.key} (${f.divergent.restorability.toLowerCase()}, ${f.divergent.rows_differ ?? '?'} row(s) differ)` : `no divergent backup (the database did not move); ${lost} lost write(s)`,
    });
  }

  /** Token scenarios, steps 5–7: fail the token (or its platform), the monitor reacts, the bot carries on. */
  async tokenFailure(st: LocalState): Promise<void> {
    const { o, result } = this;
    const td = (this.tokens = new TokenDrill(st, o.scenario as TokenDrillScenario));
    await td.start();
    this.log(`bot worker posting with ${TOKEN_BOT}'s active token through the bot runtime; token monitor probing every 1 s`);
    if (o.scenario === 'permissions') this.mark(await td.waitForGap(o.resumeTimeoutMs ?? 60_000));
    // The revocation lands at a random phase of the monitor's 1 s cycle, as a real one does.
    await sleepAbortable(o.durationSeconds * 1000 + (o.failurePhaseMs ?? Math.random() * 1000), o.signal);
    await this.step('inject-failure', async () => ({ value: undefined, detail: await td.inject() }));
    this.failAt = td.failAt;
    this.mark('failure injected', this.failAt);
    await this.step('detect-failover', async () => {
      const d = await td.detect(o.resumeTimeoutMs ?? 60_000);
      result.detection_seconds = d.seconds;
      await td.endOutage(3000);
      return { value: undefined, detail: `${d.detail} after ${d.seconds}s` };
    });
    let seconds: number | null = null;
    await this.step('traffic-resumed', async () => {
      const r = await td.resumed(o.resumeTimeoutMs ?? 60_000);
      seconds = r.seconds;
      result.rto_seconds = r.seconds;
      await sleepAbortable(1000, o.signal);
      return { value: undefined, detail: `the bot posted again ${r.seconds}s after the failure, with token ${r.index}` };
    });
    for (const c of await td.conclude(result, seconds)) this.check(c);
  }

  /**
   * `--scenario readiness`: break four things one at a time (rehearsal/readiness.ts), each caught by its named check
   * within one readiness run, repaired, and ready again.
   */
  async readinessBreaks(st: LocalState): Promise<void> {
    const { o, result } = this;
    const r = await this.step('inject-failure', async () => {
      const d = await readinessDrill(st, { log: this.log, signal: o.signal });
      this.failAt = Date.now();
      return { value: d, detail: d.breaks.map((b) => `${b.break}: ${b.caught ? `caught by ${b.check} in ${b.detect_seconds}s` : `NOT caught by ${b.check}`}, ${b.repair_seconds === null ? 'not ready again' : `ready again ${b.repair_seconds}s after the repair`}`).join('; ') };
    });
    result.readiness = r;
    for (const b of r.breaks) this.mark(`readiness: ${b.what}: ${b.caught ? 'caught' : 'NOT caught'} by ${b.check} (${b.detect_seconds}s), repaired ${b.repair_seconds ?? 'never'}s`);
    this.check({ name: 'ready before the breaks', ok: r.baseline === 'ready', detail: r.baseline === 'ready' ? 'every check passed' : r.baseline_problems.join('; ') });
    const missed = r.breaks.filter((b) => !b.caught);
    this.check({ name: 'every break caught', ok: r.breaks.length === 4 && missed.length === 0, detail: `${r.breaks.length - missed.length}/${r.breaks.length} caught by their check in one run${missed.length ? `; missed: ${missed.map((b) => `${b.break} (${b.check}: ${b.reason})`).join(', ')}` : ''}` });
    const stuck = r.breaks.filter((b) => b.repair_seconds === null);
    this.check({ name: 'ready after every repair', ok: r.breaks.length === 4 && stuck.length === 0 && r.final === 'ready', detail: `final verdict ${r.final}${stuck.length ? `; not ready again after ${stuck.map((b) => b.break).join(', ')}` : ''}` });
  }

  /** Stop what runs in the background: the replication hold, the monitor, the traffic. */
  async stopBackground(): Promise<void> {
    await this.tokens?.stop().catch(() => undefined);
    await this.bots?.stop().catch(() => undefined);
    // A stopped walsender would hang the old primary's shutdown; a paused replay would keep b behind.
    await this.stall?.release().catch(() => undefined);
    if (this.monitor) {
      this.monitor.abort();
      await this.monitor.done.catch(() => undefined);
    }
    if (this.traffic) {
      await this.traffic.stop().catch(() => undefined);
      Object.assign(this.result.traffic, this.traffic.stats);
    }
  }

  /** On a TTY, one live line while traffic runs and the monitor checks: writes so far, the latest check. */
  liveTicker(): { start(): void; stop(): void } {
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      const t = this.traffic?.stats;
      if (!t) return;
      const c = this.lastCheck;
      const check = c ? ` · check ${this.checks}: database ${c.db_region} ${c.database ? 'ok' : 'FAILED'}, cache ${c.cache_region} ${c.cache ? 'ok' : 'FAILED'}` : '';
      this.o.onLive?.(`traffic: ${t.db_acked} database / ${t.cache_acked} cache writes acknowledged, ${t.db_errors + t.cache_errors} failed${check}`);
    };
    return {
      start: () => {
        if (this.o.onLive && !timer) timer = setInterval(tick, 250);
      },
      stop: () => {
        if (timer) clearInterval(timer);
        timer = undefined;
      },
    };
  }

  /** After an interrupt: stop what this drill started (unless --keep), write no report, say so once. */
  async interrupted(): Promise<never> {
    const { o } = this;
    if (!this.owned) throw new InterruptedError('interrupted before anything was started');
    if (o.keep) throw new InterruptedError(`interrupted; the environment stays up in ${this.result.env_dir} ('dr local down --dir ${o.dir}' stops it)`);
    const rep = await down(o.dir).catch(() => undefined);
    if (!rep) throw new InterruptedError(`interrupted; stopping the environment failed: run 'dr local down --dir ${o.dir}'`);
    throw new InterruptedError(`interrupted; the environment it started is stopped${rep.removed ? ' and removed' : ''}`);
  }

  /** The verdict: every required check present and passing, no error. */
  conclude(): void {
    const { result, o } = this;
    const requiredChecks =
      o.scenario === 'readiness'
        ? ['ready before the breaks', 'every break caught', 'ready after every repair']
        : isTokenScenario(o.scenario)
          ? [o.scenario === 'token-outage' ? 'no switch during the outage' : 'token switched', ...(o.scenario === 'permissions' ? ['rights gap reported', 'switch preferred full rights'] : []), 'sessions kept', 'restore verified']
          : [
              'failover completed',
              'traffic resumed',
              'restore verified',
              ...(o.scenario === 'datacenter' ? ['bots: b consumes after the switch', 'bots: the returning region consumes nothing', 'bots: no 409 conflict after the switch', 'bots: no update lost'] : []),
              ...(o.failback ? ['lost writes kept in the divergent backup'] : []),
            ];
    for (const required of requiredChecks) {
      if (!result.checks.some((c) => c.name === required)) this.check({ name: required, ok: false, detail: `not reached${result.error ? `: ${result.error}` : ''}` });
    }
    if (o.scenario === 'planned' && !result.checks.some((c) => c.name === 'planned switchover lost nothing')) this.check({ name: 'planned switchover lost nothing', ok: false, detail: 'not reached' });
    result.ok = !result.error && result.checks.every((c) => c.ok);
    const done = new Set(result.steps.map((s) => s.name));
    for (const n of DRILL_STEPS) if (!done.has(n) && n !== 'report' && n !== 'teardown' && (n !== 'failback' || o.failback)) this.skip(n, result.error ? 'not reached' : 'not run');
  }

  /** Steps 9 and 10: the report (always, also for a failed drill), then teardown unless --keep. */
  async reportAndTeardown(): Promise<void> {
    const { result, o } = this;
    const r0 = Date.now();
    try {
      result.finished_at = new Date().toISOString();
      result.report = writeReport(result, o.reportsDir);
      this.record({ name: 'report', status: 'ok', duration_ms: Date.now() - r0, started_at: new Date(r0).toISOString(), detail: result.report });
    } catch (err) {
      this.record({ name: 'report', status: 'failed', duration_ms: Date.now() - r0, started_at: new Date(r0).toISOString(), detail: String(err) });
      result.ok = false;
    }
    const d0 = Date.now();
    if (!this.owned) {
      this.skip('teardown', 'the drill started no environment');
    } else if (o.keep) {
      this.skip('teardown', `--keep: the environment stays up in ${result.env_dir} ('dr local down --dir ${o.dir}' stops it)`);
    } else {
      try {
        const rep = await down(o.dir);
        this.record({ name: 'teardown', status: 'ok', duration_ms: Date.now() - d0, started_at: new Date(d0).toISOString(), detail: `stopped ${rep.stopped.join(', ') || 'nothing'}` });
      } catch (err) {
        this.record({ name: 'teardown', status: 'failed', duration_ms: Date.now() - d0, started_at: new Date(d0).toISOString(), detail: String(err) });
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
  }
}

/**
 * Run the drill in `o.dir`, which must hold no environment: the drill starts its own and tears down only what it
 * started. Holds the environment's lock throughout (a second drill, or any command that changes it, exits 2).
 * Throws {@link RefusedError} before touching anything when `o.dir` is taken, {@link InterruptedError} when the
 * operator interrupts (after stopping what it started, unless `keep`; no report is written then).
 */
export async function runDrill(o: DrillOptions): Promise<DrillResult> {
  checkDrillOptions(o);
  const lock = lockEnvironment(o.dir, `dr drill --local --scenario ${o.scenario}`, (l) => o.log?.(l));
  try {
    const taken = occupied(o.dir);
    if (taken) throw new RefusedError(`the drill starts its own environment and tears it down afterwards, so it needs an empty --dir: ${taken}. Use an environment you started with 'dr failover --local' and 'dr status --local', or pass the drill another --dir; nothing was changed`);
    return await drive(new DrillRun(o));
  } finally {
    lock.release();
  }
}

async function drive(run: DrillRun): Promise<DrillResult> {
  const { o } = run;
  const ticker = run.liveTicker();
  try {
    const { st, ports, storeB, env } = await run.prepare();
    run.startMonitor(st, ports);
    // Steady traffic (and monitoring) before the failure. The failure lands at a random phase of the monitor's
    // check cycle, as a real one does (a whole-second wait would always hit just after a check: the worst case).
    run.log(`steady traffic for ${o.durationSeconds} s at ${o.loadTps} writes/s${o.scenario === 'planned' ? '' : `; the monitor checks every ${(o.checkIntervalMs ?? 1000) / 1000} s (${o.checkThreshold ?? 3} failed checks = incident)`}`);
    ticker.start();
    if (o.scenario === 'readiness') {
      await run.readinessBreaks(st);
      ticker.stop();
    } else if (isTokenScenario(o.scenario)) {
      await run.tokenFailure(st);
      ticker.stop();
      await run.restoreVerify(st, env, storeB, FROM);
    } else {
      if (o.scenario === 'datacenter') run.log(await (run.bots = new BotTierDrill(st)).start());
      await sleepAbortable(o.durationSeconds * 1000 + (o.failurePhaseMs ?? Math.random() * (o.checkIntervalMs ?? 1000)), o.signal);
      await run.injectFailure(st, env);
      await run.detectFailover(st, ports);
      const dbTarget = run.moves.database ? TO : FROM;
      await run.trafficResumed(dbTarget, run.moves.cache ? TO : FROM);
      ticker.stop();
      await run.regionReturns(st, ports);
      await run.restoreVerify(st, env, storeB, dbTarget);
      if (o.failback) await run.failBack(st, storeB);
    }
  } catch (err) {
    run.result.error = redact(err instanceof Error ? err.message : String(err));
  } finally {
    ticker.stop();
    await run.stopBackground();
  }
  if (o.signal?.aborted) return run.interrupted();
  run.conclude();
  await run.reportAndTeardown();
  return run.result;
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
    timer = setTimeout(() => reject(new OperationError(message)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}


/** Sleep, or reject with an {@link InterruptedError} as soon as the operator interrupts. */
function sleepAbortable(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => {
    throw new InterruptedError('interrupted');
  });
}
