/**
 * Long-lived local services for the two-region environment. Unlike the test helpers (children of the test
 * process), these outlive the `dr` process that started them: redis-server daemonizes with a pid file, s3rver
 * runs in a detached Node process, PostgreSQL is started by `pg_ctl` (PgCluster). Every stop checks that the pid
 * still belongs to the program we started (via /proc/<pid>/cmdline) before signalling it.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import Redis from 'ioredis';
import { findBinary } from '../tools/binaries';
import { isAlive, run, sleep, ToolEnv, waitForExit } from '../tools/proc';
import { S3RVER_PROCESS_TAG, s3rverConfig, spawnS3rver } from './s3-server';
import { OperationError } from '../../core/errors';

/** True when `pid` is alive and its command line mentions `needle`. */
export function pidIs(pid: number | undefined, needle: string): boolean {
  if (!pid || !isAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle);
  } catch {
    return false;
  }
}

export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim().split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The programs the environment runs; nothing else is ever signalled by {@link processesUnder}'s callers. */
const ENV_PROGRAMS = new Set(['postgres', 'postmaster', 'initdb', 'pg_ctl', 'pg_basebackup', 'pg_rewind', 'pg_dump', 'pg_restore', 'redis-server', 'redis-cli', 'runuser']);

/**
 * The environment's programs (PostgreSQL and Redis tools and servers, the s3rver child) whose command line names a
 * path under `dir`: what a forced exit can leave behind while the environment was starting (initdb, pg_basebackup,
 * pg_ctl, a server not yet in the state file). Anything else that mentions the path (an editor, a shell) is not ours.
 */
export function processesUnder(dir: string): number[] {
  const needle = dir.endsWith(path.sep) ? dir : dir + path.sep;
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      const prog = path.basename(argv[0] ?? '').split(':')[0];
      const ours = ENV_PROGRAMS.has(prog) || argv.includes(S3RVER_PROCESS_TAG);
      if (!ours) continue;
      const cmd = argv.join(' ');
      if (cmd.includes(needle) || argv.includes(dir) || workingUnder(e, dir, needle)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * initdb's bootstrap and single-user backends (`postgres --boot`, `postgres --single`) name no path: they find the
 * data directory in PGDATA, and their working directory may be in it. Readable for our own or (as root) any process.
 */
function workingUnder(pid: string, dir: string, needle: string): boolean {
  const under = (p: string | undefined): boolean => !!p && (p === dir || p.startsWith(needle));
  try {
    if (under(fs.readlinkSync(`/proc/${pid}/cwd`))) return true;
  } catch {
    /* not ours to read, or gone */
  }
  try {
    const pgdata = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((v) => v.startsWith('PGDATA='));
    return under(pgdata?.slice('PGDATA='.length));
  } catch {
    return false;
  }
}

/** SIGKILL `pid` if it is still `needle`, and wait until it is gone. */
export async function killVerified(pid: number | undefined, needle: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<boolean> {
  if (!pidIs(pid, needle)) return false;
  try {
    process.kill(pid!, signal);
  } catch {
    return false;
  }
  await waitForExit(pid!, 15_000).catch(async () => {
    if (pidIs(pid, needle)) process.kill(pid!, 'SIGKILL');
    await waitForExit(pid!, 5_000);
  });
  return true;
}

/** TCP connect to 127.0.0.1:port; true when something accepts. */
export function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

// --- Redis -----------------------------------------------------------------------------------------------------

export interface RedisLaunch {
  dir: string;
  port: number;
  password: string;
  pidFile: string;
  confFile: string;
  /** Start as a replica of this port on 127.0.0.1. */
  replicaOf?: number;
  /** The caller's environment (PATH) for finding and running redis-server. */
  env?: ToolEnv;
}

function q(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * Write the config (first start only: later starts keep what `CONFIG REWRITE` persisted, e.g. a fence or a
 * REPLICAOF) and start a daemonized redis-server; resolves once it answers PING and has loaded its data.
 */
export async function startRedis(o: RedisLaunch): Promise<void> {
  fs.mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(o.confFile)) {
    const lines = [
      `port ${o.port}`,
      'bind 127.0.0.1',
      'protected-mode yes',
      `dir ${q(o.dir)}`,
      'daemonize yes',
      `pidfile ${q(o.pidFile)}`,
      `logfile ${q(path.join(o.dir, 'redis.log'))}`,
      'save ""',
      // The bot platform's cache keeps sessions: an append-only file so a restart keeps them.
      'appendonly yes',
      'appendfsync everysec',
      'repl-diskless-sync yes',
      'repl-diskless-sync-delay 0',
      `requirepass ${q(o.password)}`,
      `masterauth ${q(o.password)}`,
      ...(o.replicaOf ? [`replicaof 127.0.0.1 ${o.replicaOf}`] : []),
    ];
    fs.writeFileSync(o.confFile, lines.join('\n') + '\n', { mode: 0o600 });
  }
  // umask 077: `CONFIG REWRITE` (a fence, a promotion, REPLICAOF) replaces redis.conf, which holds the password;
  // the daemon's umask decides the new file's mode, and it must stay 0600.
  await run(findBinary('redis-server', { env: o.env }), [o.confFile], { cwd: o.dir, baseEnv: o.env, umask: 0o077 });
  await waitRedisReady(o.port, o.password, 30_000);
}

export function redisClient(port: number, password: string, opts: { connectTimeout?: number } = {}): Redis {
  const c = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: opts.connectTimeout ?? 1000, enableOfflineQueue: false });
  c.on('error', () => undefined);
  return c;
}

async function waitRedisReady(port: number, password: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const c = redisClient(port, password);
    try {
      await c.connect();
      const info = await c.info('persistence');
      if (/loading:0/.test(info)) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    } finally {
      c.disconnect();
    }
    await sleep(50);
  }
  throw new OperationError(`redis-server on port ${port} not ready after ${timeoutMs} ms: ${last}`);
}

/** SHUTDOWN NOSAVE (or SIGKILL if it does not answer), by the pid file. */
export async function stopRedis(pidFile: string, port: number, password: string): Promise<void> {
  const pid = readPidFile(pidFile);
  if (!pidIs(pid, 'redis-server')) return;
  const c = redisClient(port, password);
  try {
    await c.connect();
    await c.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
  } catch {
    /* not answering: killed below */
  } finally {
    c.disconnect();
  }
  try {
    await waitForExit(pid!, 10_000);
  } catch {
    await killVerified(pid, 'redis-server');
  }
}

// --- s3rver ----------------------------------------------------------------------------------------------------

/** Start s3rver in a detached Node process (it outlives this one); resolves with its pid once it listens. */
export async function startS3(o: { dir: string; port: number; buckets: string[]; log: string; env?: ToolEnv }): Promise<number> {
  fs.mkdirSync(o.dir, { recursive: true });
  const child = spawnS3rver(s3rverConfig(path.join(o.dir, 'data'), o.port, o.buckets), { detachedLog: o.log, env: o.env });
  const pid = child.pid;
  if (!pid) throw new OperationError('could not start s3rver');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new OperationError(`s3rver exited during start; see ${o.log}`);
    if (await portOpen(o.port)) return pid;
    await sleep(50);
  }
  await killVerified(pid, S3RVER_PROCESS_TAG);
  throw new OperationError(`s3rver did not listen on ${o.port} within 30 s; see ${o.log}`);
}

export async function stopS3(pid: number | undefined): Promise<void> {
  await killVerified(pid, S3RVER_PROCESS_TAG, 'SIGTERM');
}
