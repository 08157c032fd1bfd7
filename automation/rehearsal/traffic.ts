/**
 * Bot traffic simulator. Like a bot process, it resolves the service names through the DNS record file on every
 * (re)connect — `database` for PostgreSQL, `cache` for Redis — and writes at a fixed rate: one row into users,
 * sessions, uploads or reminders (round robin) with a client-generated unique id, plus one Redis write per
 * operation. On any error it drops the connection, backs off briefly (25 → 100 ms: reconnecting to a dead port costs nothing, waiting costs RTO) and re-resolves.
 *
 * It keeps a client-side log of every ACKNOWLEDGED write (the commit returned, the SET returned OK): id, table,
 * time and region. After a failover, {@link TrafficSimulator.verifyOn} asks the new primary for every
 * acknowledged id: the missing ones are the lost writes (RPO).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type Redis from 'ioredis';
import { LocalEnv } from '../adapters/rehearsal/local-env';
import { readDnsFile } from '../adapters/rehearsal/local-dns';
import { sleep } from '../adapters/tools/proc';
import { redisClient } from '../adapters/rehearsal/processes';
import { BOT_TABLES } from './environment';
import type { LocalState } from '../adapters/rehearsal/state';
import { OperationError, UsageError } from '../core/errors';

export interface Op {
  id: string;
  table: (typeof BOT_TABLES)[number];
  /** When the operation finished (epoch ms). */
  at: number;
  /** Region the row was acknowledged by, when it was. */
  db?: string;
  /** Region the cache write was acknowledged by, when it was. */
  cache?: string;
}

export interface TrafficStats {
  ops: number;
  db_acked: number;
  cache_acked: number;
  db_errors: number;
  cache_errors: number;
  reconnects: number;
}

export class TrafficSimulator {
  readonly ops: Op[] = [];
  readonly stats: TrafficStats = { ops: 0, db_acked: 0, cache_acked: 0, db_errors: 0, cache_errors: 0, reconnects: 0 };
  private readonly env: LocalEnv;
  private pg?: { client: Client; region: string };
  private redis?: { client: Redis; region: string };
  private running = false;
  private loop?: Promise<void>;
  private dbBackoff = 0;
  private cacheBackoff = 0;
  private dbRetryAt = 0;
  private cacheRetryAt = 0;
  private seq = 0;
  private readonly listeners: Array<(op: Op) => void> = [];

  constructor(state: LocalState, private readonly tps: number) {
    if (!(tps > 0 && tps <= 1000)) throw new UsageError(`load must be between 1 and 1000 writes per second, got ${tps}`);
    this.env = new LocalEnv(state);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.pg?.client.end().catch(() => undefined);
    this.redis?.client.disconnect();
    this.pg = undefined;
    this.redis = undefined;
  }

  /** Called after every operation (the drill waits on these). */
  onOp(fn: (op: Op) => void): void {
    this.listeners.push(fn);
  }

  /** Resolve when an op matching `pred` happens (or reject after `timeoutMs`). */
  waitFor(pred: (op: Op) => boolean, timeoutMs: number): Promise<Op> {
    const found = this.ops.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching acknowledged write within ${timeoutMs / 1000}s`)), timeoutMs);
      this.listeners.push((op) => {
        if (pred(op)) {
          clearTimeout(timer);
          resolve(op);
        }
      });
    });
  }

  private resolve(record: 'database' | 'cache'): string {
    const r = readDnsFile(this.env.state.dns_file).records[record];
    if (!r) throw new OperationError(`the DNS record file names no region for '${record}'`);
    return r;
  }

  private async run(): Promise<void> {
    const interval = 1000 / this.tps;
    let next = Date.now();
    while (this.running) {
      await this.op();
      next += interval;
      const now = Date.now();
      if (next < now - interval) next = now; // never burst to catch up after an outage
      if (next > now) await sleep(next - now);
    }
  }

  private async op(): Promise<void> {
    const table = BOT_TABLES[this.seq++ % BOT_TABLES.length];
    const id = randomUUID();
    const op: Op = { id, table, at: 0 };
    const [db, cache] = await Promise.all([this.writeDb(table, id), this.writeCache(table, id)]);
    op.at = Date.now();
    if (db) op.db = db;
    if (cache) op.cache = cache;
    this.ops.push(op);
    this.stats.ops++;
    for (const l of this.listeners) l(op);
  }

  private async writeDb(table: Op['table'], id: string): Promise<string | undefined> {
    if (Date.now() < this.dbRetryAt) return undefined;
    try {
      if (!this.pg) {
        const region = this.resolve('database');
        const client = new Client({ connectionString: this.env.appUrl(region), connectionTimeoutMillis: 1000, query_timeout: 2000, application_name: 'bot-traffic' });
        client.on('error', () => undefined);
        this.stats.reconnects++;
        await client.connect().catch(async (err: unknown) => {
          await client.end().catch(() => undefined);
          throw err;
        });
        this.pg = { client, region };
      }
      const { client, region } = this.pg;
      await client.query(INSERT[table], table === 'users' || table === 'uploads' ? [id, region, id.slice(0, 8)] : [id, region]);
      this.stats.db_acked++;
      this.dbBackoff = 0;
      return region;
    } catch {
      this.stats.db_errors++;
      const c = this.pg?.client;
      this.pg = undefined;
      if (c) void c.end().catch(() => undefined);
      this.dbBackoff = Math.min(100, this.dbBackoff ? this.dbBackoff * 2 : 25);
      this.dbRetryAt = Date.now() + this.dbBackoff;
      return undefined;
    }
  }

  private async writeCache(table: Op['table'], id: string): Promise<string | undefined> {
    if (Date.now() < this.cacheRetryAt) return undefined;
    try {
      if (!this.redis) {
        const region = this.resolve('cache');
        const client = redisClient(this.env.redisPort(region), this.env.redisPassword, { connectTimeout: 1000 });
        this.stats.reconnects++;
        await client.connect().catch((err: unknown) => {
          client.disconnect();
          throw err;
        });
        this.redis = { client, region };
      }
      const { client, region } = this.redis;
      const ok = await client.set(`bot:${table}:${id}`, region, 'EX', 86_400);
      if (ok !== 'OK') throw new OperationError(`SET answered ${ok}`);
      this.stats.cache_acked++;
      this.cacheBackoff = 0;
      return region;
    } catch {
      this.stats.cache_errors++;
      this.redis?.client.disconnect();
      this.redis = undefined;
      this.cacheBackoff = Math.min(100, this.cacheBackoff ? this.cacheBackoff * 2 : 25);
      this.cacheRetryAt = Date.now() + this.cacheBackoff;
      return undefined;
    }
  }

  /**
   * Ask `dbRegion`'s database and `cacheRegion`'s cache for every acknowledged write: which are missing?
   * Only writes acknowledged at or before `until` (epoch ms) are counted when given.
   */
  async verifyOn(dbRegion: string, cacheRegion: string, until?: number): Promise<{ db_acked: number; db_lost: string[]; cache_acked: number; cache_lost: string[] }> {
    const acked = this.ops.filter((o) => until === undefined || o.at <= until);
    const dbAcked = acked.filter((o) => o.db);
    const lost: string[] = [];
    const c = await this.env.superClient(dbRegion, this.env.state.app.database, 5000);
    try {
      for (const table of BOT_TABLES) {
        const ids = dbAcked.filter((o) => o.table === table).map((o) => o.id);
        if (!ids.length) continue;
        const found = new Set((await c.query<{ id: string }>(`SELECT id::text AS id FROM ${table} WHERE id = ANY($1::uuid[])`, [ids])).rows.map((r) => r.id));
        for (const id of ids) if (!found.has(id)) lost.push(id);
      }
    } finally {
      await c.end().catch(() => undefined);
    }
    const cacheAcked = acked.filter((o) => o.cache);
    const cacheLost: string[] = [];
    const r = redisClient(this.env.redisPort(cacheRegion), this.env.redisPassword, { connectTimeout: 2000 });
    try {
      await r.connect();
      for (let i = 0; i < cacheAcked.length; i += 500) {
        const chunk = cacheAcked.slice(i, i + 500);
        const p = r.pipeline();
        for (const o of chunk) p.exists(`bot:${o.table}:${o.id}`);
        const res = (await p.exec()) ?? [];
        res.forEach(([err, n], k) => {
          if (err || n !== 1) cacheLost.push(chunk[k].id);
        });
      }
    } finally {
      r.disconnect();
    }
    return { db_acked: dbAcked.length, db_lost: lost, cache_acked: cacheAcked.length, cache_lost: cacheLost };
  }
}

const INSERT: Record<Op['table'], string> = {
  users: `INSERT INTO users (id, telegram_id, name, region) VALUES ($1, (random() * 1e9)::bigint, 'user-' || $3, $2)`,
  sessions: `INSERT INTO sessions (id, user_id, state, region) VALUES ($1, gen_random_uuid(), jsonb_build_object('step', 'menu', 'lang', 'en'), $2)`,
  uploads: `INSERT INTO uploads (id, user_id, file_name, size_bytes, region) VALUES ($1, gen_random_uuid(), 'photo-' || $3 || '.jpg', (random() * 1e6)::int, $2)`,
  reminders: `INSERT INTO reminders (id, user_id, due_at, body, region) VALUES ($1, gen_random_uuid(), now() + interval '1 day', 'water the plants', $2)`,
};

/** Seed the bot database on the primary with a realistic starting set. */
export async function seedBotData(state: LocalState, region: string, users = 500): Promise<Record<string, number>> {
  const env = new LocalEnv(state);
  const c = new Client({ connectionString: env.appUrl(region), connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    await c.query(`INSERT INTO users (id, telegram_id, name, region) SELECT gen_random_uuid(), 1000000 + g, 'seed-user-' || g, $1 FROM generate_series(1, $2::int) g`, [region, users]);
    await c.query(`INSERT INTO sessions (id, user_id, state, region) SELECT gen_random_uuid(), id, '{"step":"start"}', $1 FROM users`, [region]);
    await c.query(`INSERT INTO uploads (id, user_id, file_name, size_bytes, region) SELECT gen_random_uuid(), id, 'seed-' || telegram_id || '.png', 1024 + telegram_id % 5000, $1 FROM users WHERE telegram_id % 2 = 0`, [region]);
    await c.query(`INSERT INTO reminders (id, user_id, due_at, body, region) SELECT gen_random_uuid(), id, now() + (telegram_id % 30) * interval '1 day', 'seed reminder', $1 FROM users WHERE telegram_id % 3 = 0`, [region]);
    const out: Record<string, number> = {};
    for (const t of BOT_TABLES) out[t] = Number((await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${t}`)).rows[0].n);
    // The cache: one conversation state per seeded user (what the bot keeps in Redis), no expiry.
    const tgIds = (await c.query<{ t: string }>(`SELECT telegram_id::text AS t FROM users WHERE name LIKE 'seed-user-%'`)).rows.map((r) => r.t);
    const r = redisClient(env.redisPort(region), env.redisPassword, { connectTimeout: 5000 });
    try {
      await r.connect();
      const p = r.pipeline();
      for (const t of tgIds) p.hset(`bot:conversation:${t}`, { step: 'start', lang: 'en', region });
      const res = (await p.exec()) ?? [];
      const failed = res.filter(([err]) => err);
      if (failed.length) throw new OperationError(`seeding the cache failed for ${failed.length} key(s): ${String(failed[0][0])}`);
      out.cache_conversations = tgIds.length;
    } finally {
      r.disconnect();
    }
    return out;
  } finally {
    await c.end();
  }
}
