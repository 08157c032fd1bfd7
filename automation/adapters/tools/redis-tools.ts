/**
 * RedisTools over redis-cli (`--rdb -` streams an RDB over the replication protocol), a temporary
 * redis-server (to read an RDB back), and ioredis (inspection, key copy with DUMP/RESTORE).
 * The password goes to redis-cli through REDISCLI_AUTH, never argv.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { redact } from '../../core/redact';
import { DumpProcess, RedisInfo, RedisTools, TempRedis } from '../../backup/index';
import { findBinary } from './binaries';
import { lastLines, run, ToolEnv, toolEnv } from './proc';
import { RedisServer } from './redis-server';
import { OperationError, UnreachableError, UsageError } from '../../core/errors';

interface RedisConn {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
}

export function parseRedisUrl(url: string): RedisConn {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError('not a valid Redis URL (expected redis://[:password@]host:port[/db])');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`URL scheme must be redis:// or rediss://, got ${u.protocol}//`);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new UsageError(`Redis URL database must be a number, got '${u.pathname.slice(1)}'`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db,
    tls: u.protocol === 'rediss:',
  };
}

const BATCH = 500;

export class LocalRedisTools implements RedisTools {
  /** `env`: the caller's environment (PATH) for finding and running redis-cli and redis-server. */
  constructor(private readonly opts: { env?: ToolEnv } = {}) {}

  private client(url: string): Redis {
    const c = parseRedisUrl(url);
    const r = new Redis({
      host: c.host,
      port: c.port,
      username: c.username,
      password: c.password,
      db: c.db,
      tls: c.tls ? {} : undefined,
      lazyConnect: true,
      connectTimeout: 10_000,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    r.on('error', () => undefined);
    return r;
  }

  private async withClient<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
    let r: Redis;
    try {
      r = this.client(url);
      await r.connect();
    } catch (err) {
      throw new UnreachableError(redact(url), redact(err instanceof Error ? err.message : String(err)));
    }
    try {
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }

  async versions(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const t of ['redis-cli', 'redis-server'] as const) {
      try {
        out[t] = (await run(findBinary(t, { env: this.opts.env }), ['--version'], { baseEnv: this.opts.env })).stdout.trim();
      } catch (err) {
        out[t] = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    return out;
  }

  inspect(url: string): Promise<RedisInfo> {
    return this.withClient(url, async (r) => {
      await r.ping();
      const info = await r.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
      const keys = await r.dbsize();
      const c = parseRedisUrl(url);
      return { version, keys, host: `${c.host}:${c.port}` };
    });
  }

  rdb(url: string): DumpProcess {
    const c = parseRedisUrl(url);
    const args = ['-h', c.host, '-p', String(c.port), '--no-auth-warning'];
    if (c.username) args.push('--user', c.username);
    if (c.tls) args.push('--tls');
    args.push('--rdb', '-');
    const child = spawn(findBinary('redis-cli', { env: this.opts.env }), args, { env: toolEnv({ REDISCLI_AUTH: c.password }, this.opts.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
    const done = new Promise<void>((resolve, reject) => {
      child.on('error', (err) => reject(new Error(`redis-cli could not start: ${err.message}`)));
      child.on('close', (code, signal) => {
        // redis-cli exits 0 even for some failures; it always reports success on stderr.
        if (code === 0 && /Transfer finished with success/.test(stderr)) resolve();
        else reject(new Error(`redis-cli --rdb failed (${code ?? signal}): ${redact(lastLines(stderr, 5)) || '(no output)'}`));
      });
    });
    done.catch(() => undefined);
    return { stdout: child.stdout, done, kill: () => void child.kill('SIGTERM') };
  }

  sampleKeys(url: string, n: number): Promise<string[]> {
    return this.withClient(url, async (r) => {
      const keys = new Set<string>();
      let cursor = '0';
      do {
        const [next, batch] = await r.scanBuffer(cursor, 'COUNT', 1000);
        for (const raw of batch) {
          // Only keys that survive a UTF-8 round trip can be named in a manifest; binary keys are still copied.
          const k = raw.toString('utf8');
          if (keys.size < n && Buffer.from(k, 'utf8').equals(raw)) keys.add(k);
        }
        cursor = next.toString();
      } while (cursor !== '0' && keys.size < n);
      return [...keys].sort();
    });
  }

  fingerprint(url: string, keys: readonly string[]): Promise<Record<string, string | null>> {
    return this.withClient(url, async (r) => {
      const out: Record<string, string | null> = {};
      for (const k of keys) {
        const type = await r.type(k);
        let value: unknown;
        switch (type) {
          case 'none':
            out[k] = null;
            continue;
          case 'string':
            value = (await r.getBuffer(k))?.toString('base64');
            break;
          case 'hash':
            value = Object.entries(await r.hgetall(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
            break;
          case 'list':
            value = await r.lrange(k, 0, -1);
            break;
          case 'set':
            value = (await r.smembers(k)).sort();
            break;
          case 'zset':
            value = await r.zrange(k, 0, -1, 'WITHSCORES');
            break;
          case 'stream':
            value = await r.xrange(k, '-', '+');
            break;
          default:
            value = (await r.dumpBuffer(k))?.toString('base64');
        }
        const ttl = await r.pttl(k);
        out[k] = JSON.stringify({ type, value, ttl: ttl > 0 });
      }
      return out;
    });
  }

  async loadRdb(rdbFile: string): Promise<TempRedis> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-redis-load-'));
    try {
      const server = await RedisServer.start({ dir, rdbFile, env: this.opts.env });
      return {
        url: server.url(),
        stop: async () => {
          await server.stop();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async copyAll(fromUrl: string, toUrl: string, opts: { replace: boolean }): Promise<number> {
    return this.withClient(fromUrl, (src) =>
      this.withClient(toUrl, async (dst) => {
        let copied = 0;
        let cursor = '0';
        do {
          // Buffers, not strings: keys are binary-safe in Redis and must be copied byte for byte.
          const [next, keys] = await src.scanBuffer(cursor, 'COUNT', BATCH);
          cursor = next.toString();
          if (keys.length === 0) continue;
          const read = src.pipeline();
          for (const k of keys) read.dumpBuffer(k).pttl(k);
          const res = (await read.exec()) ?? [];
          const write = dst.pipeline();
          let n = 0;
          for (let i = 0; i < keys.length; i++) {
            const [dErr, payload] = res[2 * i] ?? [];
            const [tErr, ttl] = res[2 * i + 1] ?? [];
            if (dErr || tErr) throw dErr ?? tErr;
            if (payload === null || ttl === -2) continue; // expired between SCAN and DUMP
            const ttlMs = typeof ttl === 'number' && ttl > 0 ? ttl : 0;
            if (opts.replace) write.restore(keys[i], ttlMs, payload as Buffer, 'REPLACE');
            else write.restore(keys[i], ttlMs, payload as Buffer);
            n++;
          }
          const out = (await write.exec()) ?? [];
          const failed = out.find(([e]) => e);
          if (failed?.[0]) throw new OperationError(`RESTORE failed: ${failed[0].message}`);
          copied += n;
        } while (cursor !== '0');
        return copied;
      }),
    );
  }

  ping(url: string): Promise<number> {
    return this.withClient(url, async (r) => {
      const t0 = Date.now();
      await r.ping();
      return Date.now() - t0;
    });
  }
}
