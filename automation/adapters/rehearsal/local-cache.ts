/**
 * CachePort over the local Redis pair (primary + `replicaof` replica).
 *
 * - promote: `REPLICAOF NO ONE` on the replica, then `CONFIG REWRITE` so a restart keeps the new role. Planned:
 *   first wait until the replica's offset reaches the (fenced) primary's, so nothing acknowledged is lost.
 * - fence: `CONFIG SET min-replicas-to-write 1000` (+ `min-replicas-max-lag 10`) and `CONFIG REWRITE`. Redis then
 *   refuses every write with NOREPLICAS, keeps serving reads and its data, keeps streaming to its replica (so a
 *   planned switchover can catch up), and the rewritten config keeps it fenced across a restart.
 *   Rejected alternatives: `CLIENT PAUSE WRITE` expires and does not survive a restart; changing `requirepass`
 *   breaks the replica's `masterauth`; `REPLICAOF <new primary>` throws away unreplicated data (failback's call).
 */
import type Redis from 'ioredis';
import * as fs from 'node:fs';
import type { CachePort, CallOptions, DataRole } from '../../failover/index';
import { redisClient } from './processes';
import { LocalEnv } from './local-env';
import { sleep } from '../tools/proc';
import { OperationError } from '../../core/errors';

/** No deployment has this many replicas: a primary configured to need them refuses every write. */
export const CACHE_FENCE_REPLICAS = 1000;

export class LocalCache implements CachePort {
  constructor(private readonly env: LocalEnv) {}

  private async withClient<T>(region: string, fn: (c: Redis) => Promise<T>): Promise<T> {
    const c = redisClient(this.env.redisPort(region), this.env.redisPassword);
    try {
      await c.connect();
      return await fn(c);
    } finally {
      c.disconnect();
    }
  }

  private async info(region: string): Promise<Record<string, string>> {
    return this.withClient(region, async (c) => parseInfo(await c.info('replication')));
  }

  async role(region: string): Promise<DataRole> {
    try {
      const i = await this.info(region);
      return i.role === 'master' ? 'primary' : 'standby';
    } catch {
      return 'unreachable';
    }
  }

  async promote(region: string, opts: CallOptions & { planned?: boolean; from?: string } = {}): Promise<void> {
    if (opts.planned && opts.from) await this.waitCaughtUp(region, opts.from, 15_000, opts);
    await this.withClient(region, async (c) => {
      await c.call('REPLICAOF', 'NO', 'ONE');
      await c.call('CONFIG', 'SET', 'min-replicas-to-write', '0');
      await c.call('CONFIG', 'REWRITE');
    });
    fs.appendFileSync(this.env.state.promotions_log, JSON.stringify({ at: new Date().toISOString(), tier: 'cache', region, pid: process.pid }) + '\n');
    opts.log?.(`cache ${region}: REPLICAOF NO ONE`);
  }

  /** Wait until `replica` has processed everything `primary` has (offsets equal, link up). */
  async waitCaughtUp(replica: string, primary: string, timeoutMs: number, opts: CallOptions = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline && !opts.signal?.aborted) {
      try {
        const p = await this.info(primary);
        const r = await this.info(replica);
        const want = Number(p.master_repl_offset);
        const got = Number(r.slave_repl_offset ?? r.master_repl_offset);
        last = `replica offset ${got}, primary offset ${want}, link ${r.master_link_status}`;
        if (r.master_link_status === 'up' && got >= want) return;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(20);
    }
    throw new OperationError(`cache ${replica} did not catch up with ${primary} within ${timeoutMs} ms (${last})`);
  }

  async isFenced(region: string): Promise<boolean> {
    try {
      return await this.withClient(region, async (c) => {
        const v = (await c.call('CONFIG', 'GET', 'min-replicas-to-write')) as string[];
        return Number(v[1]) >= CACHE_FENCE_REPLICAS;
      });
    } catch {
      return false;
    }
  }

  async fence(region: string, opts: CallOptions = {}): Promise<void> {
    await this.withClient(region, async (c) => {
      await c.call('CONFIG', 'SET', 'min-replicas-max-lag', '10');
      await c.call('CONFIG', 'SET', 'min-replicas-to-write', String(CACHE_FENCE_REPLICAS));
      await c.call('CONFIG', 'REWRITE');
    });
    opts.log?.(`cache ${region}: fenced (min-replicas-to-write ${CACHE_FENCE_REPLICAS}: writes refused, config rewritten)`);
  }

  async unfence(region: string, opts: CallOptions = {}): Promise<void> {
    await this.withClient(region, async (c) => {
      await c.call('CONFIG', 'SET', 'min-replicas-to-write', '0');
      await c.call('CONFIG', 'REWRITE');
    });
    opts.log?.(`cache ${region}: unfenced`);
  }

  async writable(region: string): Promise<boolean> {
    try {
      return await this.withClient(region, async (c) => (await c.set(`dr:probe:${region}`, new Date().toISOString(), 'EX', 3600)) === 'OK');
    } catch {
      return false;
    }
  }
}

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}
