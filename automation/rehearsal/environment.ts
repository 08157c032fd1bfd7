/**
 * The local two-region environment: `up`, `down`, `status`, failure injection and standby rebuilds.
 *
 *            region a                         region b
 *   PostgreSQL primary  ── streaming (slot) ──▶  hot standby (pg_basebackup -R -X stream)
 *   Redis primary       ── replicaof ─────────▶  replica
 *   shared: s3rver (buckets bot-dr-a, bot-dr-b), dns.json (platform/database/cache → region)
 *
 * Everything runs on 127.0.0.1 on free ports; PostgreSQL runs as the `postgres` OS user when we are root.
 * The state file is written after every service that starts, so `down` can always clean up what exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MissingToolError, requireTools, PG_TOOLS } from '../adapters/tools/binaries';
import { LocalCache, parseInfo } from '../adapters/rehearsal/local-cache';
import { LocalDatabase } from '../adapters/rehearsal/local-database';
import { readDnsFile, writeDnsFile } from '../adapters/rehearsal/local-dns';
import { LocalEnv } from '../adapters/rehearsal/local-env';
import { PgCluster } from '../adapters/rehearsal/pg-cluster';
import { S3RVER_PROCESS_TAG } from '../adapters/rehearsal/s3-server';
import { seedRehearsalChannels } from '../adapters/rehearsal/bot-settings';
import { formatBotsStatus, type BotStatus } from '../ops/bot-status';
import { localBotsStatus } from './bot-status';
import { generateToken, PLATFORM_PROCESS_TAG, PlatformControl, startPlatform } from '../adapters/rehearsal/platform-server';
import { replaceFileSync } from '../adapters/tools/atomic-file';
import { registerSecret } from '../core/redact';
import { assertTraversable, chownRecursive, freePorts, isAlive, isRoot, sleep, ToolEnv, userIds, waitForExit } from '../adapters/tools/proc';
import { acquireLock, describeTakeover, type HeldLock } from '../adapters/tools/file-lock';
import { OperationError, UsageError } from '../core/errors';
import type { DataRole } from '../failover/index';
import { readinessSummaryLines, type ReadinessSummary } from '../../lib/readiness';
import { killVerified, pidIs, processesUnder, readPidFile, redisClient, startRedis, startS3, stopRedis, stopS3 } from '../adapters/rehearsal/processes';
import { DNS_RECORDS, LocalState, RegionName, REGIONS, REHEARSAL_BOTS, newState, otherRegion, readState, registerStateSecrets, statePath, TOKENS_OWNER, writeState } from '../adapters/rehearsal/state';
import { killBotSecrets, reviveBotSecrets } from '../adapters/rehearsal/local-bots';

export type Log = (line: string) => void;
const noop: Log = () => undefined;

export const DEFAULT_DIR = '.dr-local';

/** The bot platform's schema: every row has a client-generated unique id, so RPO can be checked by id. */
export const BOT_SCHEMA = `
  CREATE TABLE users (id uuid PRIMARY KEY, telegram_id bigint NOT NULL, name text NOT NULL, region text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE sessions (id uuid PRIMARY KEY, user_id uuid NOT NULL, state jsonb NOT NULL, region text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE uploads (id uuid PRIMARY KEY, user_id uuid NOT NULL, file_name text NOT NULL, size_bytes integer NOT NULL, region text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE reminders (id uuid PRIMARY KEY, user_id uuid NOT NULL, due_at timestamptz NOT NULL, body text NOT NULL, region text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE dr_probe (id bigserial PRIMARY KEY, region text NOT NULL, at timestamptz NOT NULL);
`;
export const BOT_TABLES = ['users', 'sessions', 'uploads', 'reminders'] as const;

/** Fail before anything starts when a binary is missing, naming the Debian package. `env`: the caller's (PATH, DR_PG_BIN). */
export function checkTools(env?: ToolEnv): void {
  try {
    // pgbench is for the benchmarks; pg_waldump only enriches failback's divergent backup (transactions by WAL).
    requireTools([...PG_TOOLS.filter((t) => t !== 'pgbench' && t !== 'pg_waldump'), 'redis-server', 'redis-cli'], { env });
  } catch (err) {
    if (err instanceof MissingToolError) throw new UsageError(err.message);
    throw err;
  }
}

function cluster(s: LocalState, r: RegionName): PgCluster {
  return PgCluster.open(s.regions[r].postgres.dir, s.secrets.pg_superuser_password, { osUser: s.pg_os_user });
}

function pgRunning(s: LocalState, r: RegionName): boolean {
  try {
    return cluster(s, r).isRunning();
  } catch {
    return false;
  }
}

/** The lock file of the environment in `dir`: beside it, so it outlives `down` and exists before `up`. */
export function lockFileOf(dir: string): string {
  return `${path.resolve(dir)}.lock`;
}

/**
 * Take the environment's exclusive lock for `command` (e.g. `dr drill --local`): every command that changes the
 * environment holds it while it runs. A live holder → {@link LockHeldError} (exit 2, naming it); a dead one's lock
 * is taken over and the takeover logged.
 */
export function lockEnvironment(dir: string, command: string, log: Log = noop): HeldLock {
  const lock = acquireLock(lockFileOf(dir), { pid: process.pid, command, what: `the local environment in ${path.resolve(dir)}` });
  if (lock.tookOverFrom) log(describeTakeover(lock.tookOverFrom));
  return lock;
}

/**
 * Why `dir` cannot take a new environment, or undefined when it can (missing or empty). Checked before anything
 * is started, so a refusal touches nothing.
 */
export function occupied(dirArg: string): string | undefined {
  const dir = path.resolve(dirArg);
  let existing: LocalState | undefined;
  try {
    existing = readState(dir);
  } catch (err) {
    return `${dir} holds an unreadable environment state (${err instanceof Error ? err.message : String(err)}): run 'dr local down --dir ${dirArg}' first`;
  }
  if (existing) {
    if (existing.complete && pgRunning(existing, 'a')) return `a local environment is already up in ${dir}: use it, or run 'dr local down --dir ${dirArg}' first`;
    return `${dir} holds a stopped or partly started environment: run 'dr local down --dir ${dirArg}' first`;
  }
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) return `${dir} exists and is not empty; pass another --dir or remove it`;
  return undefined;
}

/**
 * Bring the environment up in `dir`. Refuses when one is already there (run `down` first). `toolEnv`: the
 * caller's environment, where the tools are looked up (PATH, DR_PG_BIN).
 */
export async function up(dirArg: string, log: Log = noop, toolEnv?: ToolEnv): Promise<LocalState> {
  checkTools(toolEnv);
  const dir = path.resolve(dirArg);
  const refusal = occupied(dirArg);
  if (refusal) throw new UsageError(refusal);
  fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  fs.chmodSync(dir, 0o711);
  if (isRoot()) {
    try {
      assertTraversable(path.join(dir, 'x'));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const [pgA, pgB, redisA, redisB, s3, telegram, discord, control] = await freePorts(8);
  const s = newState(dir, { pgA, pgB, redisA, redisB, s3, telegram, discord, control });
  registerStateSecrets(s);
  writeState(s);
  try {
    await startEnvironment(s, log, toolEnv);
  } catch (err) {
    log(`start failed: ${err instanceof Error ? err.message : String(err)}; stopping what started`);
    await down(dir, { keepData: true }).catch(() => undefined);
    throw err instanceof UsageError ? err : new OperationError(`could not bring the local environment up: ${err instanceof Error ? err.message : String(err)} (logs under ${dir})`);
  }
  return s;
}

async function startEnvironment(s: LocalState, log: Log, toolEnv: ToolEnv | undefined): Promise<void> {
  const env = new LocalEnv(s);
  for (const r of REGIONS) fs.mkdirSync(path.join(s.dir, r), { recursive: true, mode: 0o711 });
  let t = Date.now();
  const a = await PgCluster.create({ dir: s.regions.a.postgres.dir, port: s.regions.a.postgres.port, password: s.secrets.pg_superuser_password, osUser: s.pg_os_user, settings: PG_SETTINGS, env: toolEnv });
  await a.start();
  await a.query(`CREATE ROLE ${s.app.user} LOGIN PASSWORD '${s.secrets.app_password}'`);
  await a.query(`CREATE DATABASE ${s.app.database} OWNER ${s.app.user}`);
  await a.query(`SET ROLE ${s.app.user}; ${BOT_SCHEMA}`, s.app.database);
  await a.query('SELECT pg_create_physical_replication_slot($1)', 'postgres', [s.regions.b.postgres.slot]);
  log(`region a: PostgreSQL primary on 127.0.0.1:${a.port} (${Date.now() - t} ms)`);
  t = Date.now();
  const b = await PgCluster.standbyOf(a, s.regions.b.postgres.dir, { port: s.regions.b.postgres.port, settings: PG_SETTINGS });
  configureStandby(s, 'b', 'a');
  await b.start();
  await waitStreaming(env, 'a', 'b', 60_000);
  log(`region b: PostgreSQL hot standby on 127.0.0.1:${b.port}, streaming from a through slot ${s.regions.b.postgres.slot} (${Date.now() - t} ms)`);
  t = Date.now();
  const ra = s.regions.a.redis;
  await startRedis({ dir: ra.dir, port: ra.port, password: s.secrets.redis_password, pidFile: ra.pidFile, confFile: ra.confFile, env: toolEnv });
  const rb = s.regions.b.redis;
  await startRedis({ dir: rb.dir, port: rb.port, password: s.secrets.redis_password, pidFile: rb.pidFile, confFile: rb.confFile, replicaOf: ra.port, env: toolEnv });
  await waitRedisLink(env, 'b', 30_000);
  log(`redis: primary a on 127.0.0.1:${ra.port}, replica b on 127.0.0.1:${rb.port} (${Date.now() - t} ms)`);
  t = Date.now();
  s.s3.pid = await startS3({ dir: s.s3.dir, port: s.s3.port, buckets: REGIONS.map((r) => s.regions[r].bucket), log: s.s3.log, env: toolEnv });
  fs.writeFileSync(path.join(s.s3.dir, 's3rver.pid'), String(s.s3.pid));
  writeState(s);
  log(`s3: s3rver on 127.0.0.1:${s.s3.port}, buckets ${REGIONS.map((r) => s.regions[r].bucket).join(', ')} (${Date.now() - t} ms)`);
  t = Date.now();
  await startBotTier(s, toolEnv);
  log(`bots: fake Telegram on 127.0.0.1:${s.platform!.telegram_port}, fake Discord on 127.0.0.1:${s.platform!.discord_port}; ${REHEARSAL_BOTS.map((b) => `${b.name} (${b.platform}, ${b.tokens} tokens)`).join(', ')} in ${s.tokens_file} (${Date.now() - t} ms)`);
  writeDnsFile(s.dns_file, Object.fromEntries(DNS_RECORDS.map((r) => [r.name, 'a'])), 1);
  fs.mkdirSync(s.journal_dir, { recursive: true, mode: 0o700 });
  s.complete = true;
  writeState(s);
  log(`dns: ${DNS_RECORDS.map((r) => r.name).join(', ')} → a (${s.dns_file})`);
}

/** The control API's key (generated with the environment, kept with the other secrets in secrets.json). */
export function platformControlKey(s: LocalState): string {
  const key = s.secrets.platform_control_key;
  if (!key) throw new UsageError(`the environment in ${s.dir} predates the platform control key: run 'dr local down' and 'dr local up'`);
  return key;
}

/** The control client of the environment's running platform process. */
export function platformControl(s: LocalState): PlatformControl {
  if (!s.platform) throw new UsageError(`the environment in ${s.dir} has no bot platforms (made before the bot tier): run 'dr local down' and 'dr local up'`);
  return new PlatformControl(`http://127.0.0.1:${s.platform.control_port}`, platformControlKey(s));
}

/** The bots' tokens (generated, in the local token store's file, 0600) and the fake platforms that accept them. */
async function startBotTier(s: LocalState, toolEnv: ToolEnv | undefined): Promise<void> {
  if (!s.platform || !s.tokens_file) return;
  const bots = REHEARSAL_BOTS.map((b) => ({ name: b.name, platform: b.platform, tokens: Array.from({ length: b.tokens }, () => generateToken(b.platform)) }));
  for (const b of bots) b.tokens.forEach((t) => registerSecret(t));
  // Region a's copy of the bots' secrets (b's is a replica of it until a failover promotes it: local-bots.ts). It names
  // a as the active region, as the BotTokens component seeds it: b's workers consume nothing until a failover.
  replaceFileSync(s.tokens_file, JSON.stringify({ bots: Object.fromEntries(bots.map((b) => [b.name, { platform: b.platform, active: 0, tokens: b.tokens, active_region: TOKENS_OWNER }])) }, null, 2) + '\n', 0o600);
  s.platform.pid = await startPlatform({ telegramPort: s.platform.telegram_port, discordPort: s.platform.discord_port, controlPort: s.platform.control_port, controlKey: platformControlKey(s), bots }, { log: s.platform.log, env: toolEnv });
  writeState(s);
  // The bots' channels (issue 11): every token an administrator / member with every right it needs.
  await seedRehearsalChannels(platformControl(s), bots);
}

/** Settings for both clusters: small, fast to promote, ready for pg_rewind (wal_log_hints from PgCluster). */
const PG_SETTINGS = { max_connections: 60, shared_buffers: '32MB', wal_sender_timeout: '5s', wal_receiver_status_interval: '1s', hot_standby_feedback: 'on', checkpoint_timeout: '5min' };

/** Point `standby`'s configuration at `primary`: standby.signal, primary_conninfo, its slot; no fence. */
function configureStandby(s: LocalState, standby: RegionName, primary: RegionName): void {
  const data = path.join(s.regions[standby].postgres.dir, 'data');
  const auto = path.join(data, 'postgresql.auto.conf');
  const keep = (fs.existsSync(auto) ? fs.readFileSync(auto, 'utf8') : '').split('\n').filter((l) => l.trim() !== '' && !/^\s*(primary_conninfo|primary_slot_name|default_transaction_read_only)\s*=/.test(l));
  // The password goes to a passfile (0600, owned by the PostgreSQL OS user) outside the data directory, not into
  // primary_conninfo: postgresql.auto.conf is read by tools and copied by base backups, a passfile is not.
  const passfile = path.join(s.regions[standby].postgres.dir, 'replication.pgpass');
  fs.writeFileSync(passfile, `127.0.0.1:*:*:postgres:${s.secrets.pg_superuser_password.replace(/([:\\])/g, '\\$1')}\n`, { mode: 0o600 });
  fs.chmodSync(passfile, 0o600);
  if (isRoot()) {
    const { uid, gid } = userIds(s.pg_os_user);
    fs.chownSync(passfile, uid, gid);
  }
  const conninfo = `host=127.0.0.1 port=${s.regions[primary].postgres.port} user=postgres passfile=${passfile} application_name=${s.regions[standby].postgres.slot}`;
  keep.push(`primary_conninfo = '${conninfo.replace(/'/g, "''")}'`, `primary_slot_name = '${s.regions[standby].postgres.slot}'`);
  fs.writeFileSync(auto, keep.join('\n') + '\n', { mode: 0o600 });
  fs.writeFileSync(path.join(data, 'standby.signal'), '', { mode: 0o600 });
  const hba = path.join(data, 'pg_hba.conf');
  fs.writeFileSync(hba, fs.readFileSync(hba, 'utf8').split('\n').filter((l) => !l.includes('# dr-fence')).join('\n'), { mode: 0o600 });
  if (isRoot()) {
    const { uid, gid } = userIds(s.pg_os_user);
    chownRecursive(data, uid, gid);
  }
}

async function waitStreaming(env: LocalEnv, primary: RegionName, standby: RegionName, timeoutMs: number): Promise<void> {
  const app = env.state.regions[standby].postgres.slot;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const rows = await env.superQuery<{ state: string }>(primary, 'SELECT state FROM pg_stat_replication WHERE application_name = $1', [app]);
      if (rows[0]?.state === 'streaming') return;
      last = rows[0]?.state ?? 'not connected';
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new OperationError(`the standby in ${standby} is not streaming from ${primary} after ${timeoutMs / 1000}s (${last})`);
}

async function waitRedisLink(env: LocalEnv, replica: RegionName, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const c = redisClient(env.redisPort(replica), env.redisPassword);
    try {
      await c.connect();
      const i = parseInfo(await c.info('replication'));
      if (i.master_link_status === 'up') return;
      last = `link ${i.master_link_status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    } finally {
      c.disconnect();
    }
    await sleep(50);
  }
  throw new OperationError(`the redis replica in ${replica} has no link to its primary after ${timeoutMs / 1000}s (${last})`);
}

export interface DownReport {
  dir: string;
  stopped: string[];
  removed: boolean;
}

/**
 * Stop everything the environment started (also from a stale or partial state: pids are checked against
 * /proc before any signal), then remove the directory unless `keepData`.
 */
export async function down(dirArg: string, opts: { keepData?: boolean } = {}): Promise<DownReport> {
  const dir = path.resolve(dirArg);
  let s: LocalState | undefined;
  try {
    s = readState(dir);
  } catch {
    s = undefined;
  }
  const stopped: string[] = [];
  for (const r of REGIONS) {
    const pgDir = s?.regions[r].postgres.dir ?? path.join(dir, r, 'postgres');
    const pid = readPidFile(path.join(pgDir, 'data', 'postmaster.pid'));
    if (pidIs(pid, 'postgres')) {
      try {
        if (!s) throw new OperationError('no state');
        await cluster(s, r).stop('fast');
      } catch {
        await killPostgresTree(pid!);
      }
      stopped.push(`postgresql ${r}`);
    }
    const redisPid = readPidFile(s?.regions[r].redis.pidFile ?? path.join(dir, r, 'redis', 'redis.pid'));
    if (pidIs(redisPid, 'redis-server')) {
      if (s) await stopRedis(s.regions[r].redis.pidFile, s.regions[r].redis.port, s.secrets.redis_password);
      if (pidIs(redisPid, 'redis-server')) await killVerified(redisPid, 'redis-server');
      stopped.push(`redis ${r}`);
    }
  }
  if (pidIs(s?.platform?.pid, PLATFORM_PROCESS_TAG)) {
    await killVerified(s!.platform!.pid, PLATFORM_PROCESS_TAG, 'SIGTERM');
    stopped.push('bot platforms');
  }
  const s3pid = s?.s3.pid ?? readPidFile(path.join(dir, 's3', 's3rver.pid'));
  if (pidIs(s3pid, S3RVER_PROCESS_TAG)) {
    await stopS3(s3pid);
    stopped.push('s3rver');
  }
  // What a forced exit may leave running while the environment was starting (initdb and its bootstrap backend,
  // pg_basebackup, …); a parent killed here may have started a child after the scan, so scan until none is left.
  const killStrays = async (): Promise<void> => {
    for (let round = 0; round < 10; round++) {
      const strays = processesUnder(dir);
      if (strays.length === 0) return;
      for (const pid of strays) {
        try {
          process.kill(pid, 'SIGKILL');
          if (!stopped.includes(`stray process ${pid}`)) stopped.push(`stray process ${pid}`);
        } catch {
          /* gone meanwhile */
        }
        await waitForExit(pid, 5_000).catch(() => undefined);
      }
    }
  };
  await killStrays();
  let removed = false;
  if (!opts.keepData && fs.existsSync(dir)) {
    const looksOurs = fs.existsSync(statePath(dir)) || REGIONS.some((r) => fs.existsSync(path.join(dir, r)));
    if (looksOurs) {
      for (let attempt = 1; ; attempt++) {
        try {
          fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
          break;
        } catch (e) {
          // ENOTEMPTY: something still wrote into the tree while it was removed; stop it and remove again.
          if (attempt >= 3) throw e;
          await killStrays();
          await sleep(200);
        }
      }
      removed = true;
    }
  }
  return { dir, stopped, removed };
}

/** Children of `pid` (from /proc), for killing a postmaster together with its backends. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** SIGKILL a postmaster and all its children at once (a region losing power, not a polite crash). */
async function killPostgresTree(pid: number): Promise<void> {
  if (!pidIs(pid, 'postgres')) return;
  const kids = childrenOf(pid);
  for (const p of [pid, ...kids]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await waitForExit(pid, 15_000);
  for (const k of kids) await waitForExit(k, 5_000).catch(() => undefined);
}

/**
 * Failure injection: SIGKILL `region`'s PostgreSQL (postmaster and backends) and/or Redis; with `bots`, its copy of the
 * bots' secrets stops answering too (the region's secret store is gone with it).
 */
export async function killRegion(s: LocalState, region: RegionName, tiers: { database: boolean; cache: boolean; bots?: boolean }): Promise<void> {
  if (tiers.bots && s.tokens_file) killBotSecrets(s, region);
  const jobs: Promise<unknown>[] = [];
  if (tiers.database) {
    const pid = readPidFile(path.join(s.regions[region].postgres.dir, 'data', 'postmaster.pid'));
    if (pid) jobs.push(killPostgresTree(pid));
  }
  if (tiers.cache) jobs.push(killVerified(readPidFile(s.regions[region].redis.pidFile), 'redis-server'));
  await Promise.all(jobs);
}

/**
 * How replication is held back before a failure (the drill's `replicationDelayMs`):
 * - `sender`: the primary's walsender for the standby is stopped (SIGSTOP). The primary keeps committing and
 *   acknowledging (asynchronous replication), the standby receives nothing: a congested or partitioned
 *   replication link. WAL written meanwhile exists only on the primary, so an unplanned failover after the
 *   primary dies really loses those writes.
 * - `replay`: `pg_wal_replay_pause()` on the standby. WAL is still received and flushed there, only not applied.
 *   Promotion ends the pause and replays everything received before it opens for writes (PostgreSQL ≥ 14), so
 *   nothing is lost although the replay lag — the usual lag figure — grows: the estimate is then an upper bound.
 */
export type ReplicationHold = 'sender' | 'replay';

export interface ReplicationStall {
  how: ReplicationHold;
  /** The stopped walsender (`sender`). */
  pid?: number;
  /** Undo the hold if it still applies (the stopped process is still there / the standby still in recovery). */
  release(): Promise<void>;
}

function procState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Hold `standby`'s replication from `primary` back (see {@link ReplicationHold}); release() undoes it. */
export async function stallReplication(s: LocalState, primary: RegionName, standby: RegionName, how: ReplicationHold): Promise<ReplicationStall> {
  const env = new LocalEnv(s);
  if (how === 'replay') {
    await env.superQuery(standby, 'SELECT pg_wal_replay_pause()');
    return {
      how,
      release: async () => {
        await env.superQuery(standby, 'SELECT pg_wal_replay_resume() WHERE pg_is_in_recovery()').catch(() => undefined);
      },
    };
  }
  const rows = await env.superQuery<{ pid: number }>(primary, 'SELECT pid FROM pg_stat_replication WHERE application_name = $1', [s.regions[standby].postgres.slot]);
  const pid = rows[0]?.pid;
  if (!pid || !pidIs(pid, 'postgres')) throw new OperationError(`no walsender streams from ${primary} to ${standby}: replication is not running, nothing to stall`);
  process.kill(pid, 'SIGSTOP');
  for (let i = 0; i < 100 && procState(pid) !== 'T'; i++) await sleep(10);
  if (procState(pid) !== 'T') {
    process.kill(pid, 'SIGCONT');
    throw new OperationError(`the walsender ${pid} on ${primary} did not stop`);
  }
  return {
    how,
    pid,
    release: async () => {
      if (pidIs(pid, 'postgres')) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          /* gone */
        }
      }
    },
  };
}

/** Start a stopped region's services again as they are on disk (a recovering region: crash recovery, AOF; its bot secrets with `bots`). */
export async function restartRegion(s: LocalState, region: RegionName, tiers: { database: boolean; cache: boolean; bots?: boolean }): Promise<void> {
  if (tiers.bots && s.tokens_file) reviveBotSecrets(s, region);
  if (tiers.database && !pgRunning(s, region)) {
    const c = cluster(s, region);
    c.removeStaleLockFiles();
    await c.start();
  }
  const r = s.regions[region].redis;
  if (tiers.cache && !pidIs(readPidFile(r.pidFile), 'redis-server')) await startRedis({ dir: r.dir, port: r.port, password: s.secrets.redis_password, pidFile: r.pidFile, confFile: r.confFile });
}

/**
 * Rebuild `region`'s database as a streaming standby of `primary` (failback): stop it, `pg_rewind` it onto the
 * primary's timeline (wal_log_hints is on), or — when rewind is impossible — replace it with a fresh
 * `pg_basebackup`. Then its own dr.conf (port) is restored, it streams through a slot, and it is started.
 */
export async function rebuildDatabaseStandby(s: LocalState, region: RegionName, primary: RegionName, log: Log = noop): Promise<{ method: 'pg_rewind' | 'pg_basebackup' }> {
  const env = new LocalEnv(s);
  const c = cluster(s, region);
  if (c.isRunning()) await c.stop('fast');
  else c.removeStaleLockFiles();
  const drConf = fs.readFileSync(path.join(c.dataDir, 'dr.conf'), 'utf8');
  await env.superQuery(primary, `SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`, [s.regions[region].postgres.slot]);
  const source = `host=127.0.0.1 port=${s.regions[primary].postgres.port} user=postgres dbname=postgres`;
  // A just-promoted primary writes its new timeline to pg_control only at its next checkpoint; pg_rewind reads it.
  await env.superQuery(primary, 'CHECKPOINT');
  const startAsStandby = async () => {
    fs.writeFileSync(path.join(c.dataDir, 'dr.conf'), drConf, { mode: 0o600 });
    configureStandby(s, region, primary);
    await c.start();
    await waitStreaming(env, primary, region, 60_000);
  };
  let method: 'pg_rewind' | 'pg_basebackup' = 'pg_rewind';
  try {
    await c.tool('pg_rewind', ['-D', c.dataDir, `--source-server=${source}`], { PGPASSWORD: s.secrets.pg_superuser_password });
    log(`database ${region}: pg_rewind onto ${primary}'s timeline done`);
    await startAsStandby();
  } catch (err) {
    method = 'pg_basebackup';
    log(`database ${region}: rewind did not give a working standby (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); taking a fresh base backup from ${primary}`);
    if (c.isRunning()) await c.stop('immediate');
    fs.rmSync(c.dataDir, { recursive: true, force: true });
    fs.mkdirSync(c.dataDir, { mode: 0o700 });
    if (isRoot()) {
      const { uid, gid } = userIds(s.pg_os_user);
      chownRecursive(c.dataDir, uid, gid);
    }
    await c.tool('pg_basebackup', ['-h', '127.0.0.1', '-p', String(s.regions[primary].postgres.port), '-U', 'postgres', '-D', c.dataDir, '-X', 'stream', '-c', 'fast', '--no-password'], { PGPASSWORD: s.secrets.pg_superuser_password });
    await startAsStandby();
  }
  // Slots this server held as a primary would pin WAL forever on a standby.
  await env.superQuery(region, 'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active').catch(() => undefined);
  log(`database ${region}: streaming from ${primary} (${method})`);
  return { method };
}

/** Rebuild `region`'s Redis as a replica of `primary`: start it if needed, unfence, REPLICAOF, persist. */
export async function rebuildCacheReplica(s: LocalState, region: RegionName, primary: RegionName, log: Log = noop): Promise<void> {
  const env = new LocalEnv(s);
  await restartRegion(s, region, { database: false, cache: true });
  const c = redisClient(env.redisPort(region), env.redisPassword, { connectTimeout: 2000 });
  try {
    await c.connect();
    await c.call('CONFIG', 'SET', 'min-replicas-to-write', '0');
    await c.call('REPLICAOF', '127.0.0.1', String(env.redisPort(primary)));
    await c.call('CONFIG', 'REWRITE');
  } finally {
    c.disconnect();
  }
  await waitRedisLink(env, region, 30_000);
  log(`cache ${region}: replica of ${primary}, link up`);
}

// --- status ----------------------------------------------------------------------------------------------------

export interface ServiceStatus {
  region: RegionName;
  service: 'postgresql' | 'redis';
  port: number;
  running: boolean;
  role: DataRole;
  fenced: boolean;
  /** For a standby: lag behind the primary. */
  lag_seconds?: number;
  lag_bytes?: number;
  /** Redis replica: link to its primary. */
  link?: string;
}

export interface EnvStatus {
  dir: string;
  up: boolean;
  services: ServiceStatus[];
  s3: { port: number; running: boolean; buckets: string[] };
  /** The fake bot platforms (environments made before the bot tier have none). */
  platform?: { telegram_port: number; discord_port: number; running: boolean };
  dns: Record<string, string>;
  /** Region each tier's primary is in (undefined when none answers). */
  primaries: { database?: RegionName; cache?: RegionName };
  /** Issue 11: per bot (ops/bot-status.ts), or why it could not be read. */
  bots?: BotStatus[] | { error: string };
  /** `dr status --local`: the readiness verdict and its failed checks (rehearsal/readiness.ts), when asked for. */
  readiness?: ReadinessSummary;
}

export async function status(s: LocalState): Promise<EnvStatus> {
  const env = new LocalEnv(s);
  const db = new LocalDatabase(env);
  const cache = new LocalCache(env);
  const services: ServiceStatus[] = [];
  const dbRoles = {} as Record<RegionName, DataRole>;
  for (const r of REGIONS) dbRoles[r] = await db.role(r);
  const dbPrimary = REGIONS.find((r) => dbRoles[r] === 'primary' && dbRoles[otherRegion(r)] !== 'primary') ?? REGIONS.find((r) => dbRoles[r] === 'primary');
  for (const r of REGIONS) {
    const st: ServiceStatus = { region: r, service: 'postgresql', port: s.regions[r].postgres.port, running: pgRunning(s, r), role: dbRoles[r], fenced: await db.isFenced(r) };
    if (dbRoles[r] === 'standby') {
      const primary = dbPrimary ?? otherRegion(r);
      const rep = await db.replicationState(primary, r);
      if (rep.primaryReachable) {
        st.lag_seconds = rep.lagSeconds;
        st.lag_bytes = rep.lagBytes;
      }
    }
    services.push(st);
  }
  let cachePrimary: RegionName | undefined;
  for (const r of REGIONS) {
    const role = await cache.role(r);
    if (role === 'primary' && !cachePrimary) cachePrimary = r;
    const st: ServiceStatus = { region: r, service: 'redis', port: s.regions[r].redis.port, running: pidIs(readPidFile(s.regions[r].redis.pidFile), 'redis-server'), role, fenced: await cache.isFenced(r) };
    if (role === 'standby') {
      try {
        const c = redisClient(env.redisPort(r), env.redisPassword);
        try {
          await c.connect();
          const i = parseInfo(await c.info('replication'));
          st.link = i.master_link_status;
          const p = redisClient(env.redisPort(otherRegion(r)), env.redisPassword);
          try {
            await p.connect();
            const pi = parseInfo(await p.info('replication'));
            st.lag_bytes = Math.max(0, Number(pi.master_repl_offset) - Number(i.slave_repl_offset));
          } catch {
            /* primary down */
          } finally {
            p.disconnect();
          }
        } finally {
          c.disconnect();
        }
      } catch {
        /* unreachable */
      }
    }
    services.push(st);
  }
  let dns: Record<string, string> = {};
  try {
    dns = readDnsFile(s.dns_file).records;
  } catch {
    dns = {};
  }
  const s3running = pidIs(s.s3.pid, S3RVER_PROCESS_TAG);
  const platform = s.platform ? { telegram_port: s.platform.telegram_port, discord_port: s.platform.discord_port, running: pidIs(s.platform.pid, PLATFORM_PROCESS_TAG) } : undefined;
  const bots = platform?.running ? await localBotsStatus(s).catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) })) : undefined;
  return {
    dir: s.dir,
    up: services.some((x) => x.running),
    services,
    s3: { port: s.s3.port, running: s3running, buckets: REGIONS.map((r) => s.regions[r].bucket) },
    ...(platform ? { platform } : {}),
    dns,
    primaries: { database: dbPrimary, cache: cachePrimary },
    ...(bots ? { bots } : {}),
  };
}

/**
 * What is wrong with the environment right now: a service that does not run, the S3 server down, or a service
 * name whose record points at a region that does not serve it. Empty when all is well (`dr status --local`
 * exits 1 otherwise and prints these).
 */
export function statusProblems(st: EnvStatus): string[] {
  const problems: string[] = [];
  for (const x of st.services) if (!x.running) problems.push(`${x.service === 'postgresql' ? 'PostgreSQL' : 'Redis'} in ${x.region} is not running`);
  if (!st.s3.running) problems.push('the S3 server (s3rver) is not running');
  if (st.platform && !st.platform.running) problems.push('the fake bot platforms (Telegram, Discord) are not running');
  const serves = (service: ServiceStatus['service'], region: string) => st.services.some((x) => x.service === service && x.region === region && x.running && x.role === 'primary');
  for (const [record, service] of [['database', 'postgresql'], ['cache', 'redis']] as const) {
    const region = st.dns[record];
    if (!region) problems.push(`the DNS record file names no region for '${record}'`);
    else if (!serves(service, region)) problems.push(`'${record}' points at ${region}, where ${service === 'postgresql' ? 'PostgreSQL' : 'Redis'} does not serve as the primary`);
  }
  return problems;
}

export function formatStatus(st: EnvStatus): string {
  const lines = [`local environment ${st.dir}`];
  lines.push(`  ${'region'.padEnd(7)}${'service'.padEnd(12)}${'port'.padEnd(7)}${'role'.padEnd(13)}${'fenced'.padEnd(8)}replication`);
  for (const x of st.services) {
    const role = x.running ? x.role : 'stopped';
    const rep =
      x.role === 'standby'
        ? x.service === 'redis'
          ? `offset lag ${x.lag_bytes !== undefined ? `${x.lag_bytes} bytes` : '? bytes'}${x.link ? `, link ${x.link}` : ''}`
          : `lag ${x.lag_seconds !== undefined ? `${x.lag_seconds}s` : '?s'} / ${x.lag_bytes !== undefined ? `${x.lag_bytes} bytes` : '? bytes'}`
        : '';
    lines.push(`  ${x.region.padEnd(7)}${x.service.padEnd(12)}${String(x.port).padEnd(7)}${role.padEnd(13)}${(x.fenced ? 'yes' : 'no').padEnd(8)}${rep}`);
  }
  lines.push(`  shared s3rver on ${st.s3.port} (${st.s3.running ? 'running' : 'stopped'}), buckets ${st.s3.buckets.join(', ')}`);
  if (st.platform) lines.push(`  bots: fake Telegram on ${st.platform.telegram_port}, fake Discord on ${st.platform.discord_port} (${st.platform.running ? 'running' : 'stopped'})`);
  lines.push(`  dns: ${Object.entries(st.dns).map(([k, v]) => `${k} → ${v}`).join(', ') || '(no record file)'}`);
  if (st.bots) lines.push(Array.isArray(st.bots) ? formatBotsStatus(st.bots).replace(/^/gm, '  ') : `  bots: not shown: ${st.bots.error}`);
  if (st.readiness) lines.push(...readinessSummaryLines(st.readiness));
  const problems = statusProblems(st);
  lines.push(problems.length ? `  PROBLEMS:\n${problems.map((p) => `    - ${p}`).join('\n')}` : '  every service runs and every service name points at a serving primary');
  return lines.join('\n') + '\n';
}

export { isAlive };
