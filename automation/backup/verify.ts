/**
 * `dr verify` (after the seeds' verify-recovery.sh). Every check yields PASS or FAIL with a detail line; the
 * command exits 1 when any fails.
 *
 * --quick: database connection + query, Redis PING, health endpoint (2xx).
 * --full:  the quick checks, plus
 *   - schema/rows vs the latest PostgreSQL manifest: every table in the backup still exists, and none has
 *     shrunk below half its backed-up row count (a sign of data loss since the backup);
 *   - replica lag (when a replica URL is given) under the limit;
 *   - backup age per service/tier under the tier's threshold (daily must exist; weekly/monthly when present);
 *   - the latest backup object of each service re-hashed against its manifest.
 */
import { BACKUP_AGE_THRESHOLD_SECONDS, BACKUP_SERVICES, BACKUP_TIERS } from '../../lib/lifecycle';
import { redact } from '../core/redact';
import { listBackups, readManifest } from './catalog';
import { HashCounter } from './hashing';
import { checksumHex } from './manifest';
import { HealthProbe, ObjectStore, PgTools, RedisTools } from './ports';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { Clock } from '../core/clock';
import { VerificationError } from '../core/errors';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  durationMs: number;
}

export interface VerifyOptions {
  mode: 'quick' | 'full';
  databaseUrl?: string;
  redisUrl?: string;
  healthUrl?: string;
  replicaUrl?: string;
  maxReplicaLagSeconds?: number;
  store?: ObjectStore;
  pg: PgTools;
  redis: RedisTools;
  health: HealthProbe;
  clock: Clock;
  /** Called as each check finishes (progress output). */
  onCheck?: (c: CheckResult) => void;
  signal?: AbortSignal;
}

const msg = (err: unknown) => redact(err instanceof Error ? err.message : String(err));

export async function verify(o: VerifyOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const check = async (name: string, fn: () => Promise<string>) => {
    const t0 = Date.now();
    let r: CheckResult;
    try {
      r = { name, ok: true, detail: await fn(), durationMs: Date.now() - t0 };
    } catch (err) {
      r = { name, ok: false, detail: msg(err), durationMs: Date.now() - t0 };
    }
    results.push(r);
    o.onCheck?.(r);
  };
  const { databaseUrl, redisUrl, healthUrl } = o;
  if (databaseUrl) await check('database connection and query', async () => `SELECT 1 in ${await o.pg.ping(databaseUrl)} ms`);
  if (redisUrl) await check('redis PING', async () => `PONG in ${await o.redis.ping(redisUrl)} ms`);
  if (healthUrl) {
    await check('health endpoint', async () => {
      const status = await o.health(healthUrl, o.signal);
      if (status < 200 || status > 299) throw new VerificationError(`GET ${healthUrl} returned HTTP ${status}`);
      return `HTTP ${status}`;
    });
  }
  if (o.mode === 'quick') return results;

  const replicaUrl = o.replicaUrl;
  if (replicaUrl && databaseUrl) {
    const max = o.maxReplicaLagSeconds ?? 60;
    await check('replica lag', async () => {
      const lag = await o.pg.replicaLag(databaseUrl, replicaUrl);
      if (!lag.inRecovery) throw new VerificationError('the replica is not in recovery (it is not replicating: promoted or misconfigured)');
      if (!(lag.lagSeconds <= max)) throw new VerificationError(`replica is ${lag.lagSeconds.toFixed(1)} s (${lag.lagBytes} bytes) behind, limit ${max} s`);
      return `${lag.lagSeconds.toFixed(1)} s, ${lag.lagBytes} bytes behind`;
    });
  }
  const store = o.store;
  if (!store) return results;
  const entries = (await listBackups(store)).filter((e) => e.complete);
  const now = o.clock.now();
  for (const service of BACKUP_SERVICES) {
    if (service === 'postgresql' && !databaseUrl && !entries.some((e) => e.service === service)) continue;
    if (service === 'redis' && !redisUrl && !entries.some((e) => e.service === service)) continue;
    for (const tier of BACKUP_TIERS) {
      const newest = entries.filter((e) => e.service === service && e.tier === tier).at(-1);
      if (!newest && tier !== 'daily') continue;
      await check(`backup age ${service}/${tier}`, async () => {
        if (!newest) throw new VerificationError(`no complete ${service} ${tier} backup in ${store.location}`);
        const age = Math.round((now.getTime() - newest.date.getTime()) / 1000);
        const limit = BACKUP_AGE_THRESHOLD_SECONDS[tier];
        if (age > limit) throw new VerificationError(`newest ${newest.dataKey} is ${(age / 3600).toFixed(1)} h old, limit ${(limit / 3600).toFixed(0)} h`);
        return `${newest.dataKey}, ${(age / 3600).toFixed(1)} h old`;
      });
    }
    const latest = entries.filter((e) => e.service === service).at(-1);
    if (!latest) continue;
    await check(`checksum ${service} latest`, async () => {
      const m = await readManifest(store, latest.dataKey);
      const counter = new HashCounter();
      await pipeline(await store.get(m.key, { signal: o.signal }), counter, new Writable({ write: (_c, _e, cb) => cb() }), { signal: o.signal });
      if (counter.hex() !== checksumHex(m) || counter.bytes !== m.size_bytes) {
        throw new VerificationError(`${m.key} hashes to sha256:${counter.hex()} (${counter.bytes} bytes), manifest says ${m.checksum} (${m.size_bytes} bytes)`);
      }
      return `${m.key} matches ${m.checksum.slice(0, 19)}…`;
    });
    if (service === 'postgresql' && databaseUrl) {
      await check('schema and rows vs latest manifest', async () => {
        const m = await readManifest(store, latest.dataKey);
        const current = await o.pg.tableCounts(databaseUrl);
        const problems: string[] = [];
        for (const [table, rows] of Object.entries(m.tables ?? {})) {
          if (!(table in current)) problems.push(`${table} is missing`);
          else if (current[table] < rows * 0.5) problems.push(`${table} has ${current[table]} rows, backup had ${rows}`);
        }
        if (problems.length) throw new VerificationError(problems.join('; '));
        const added = Object.keys(current).filter((t) => !(t in (m.tables ?? {})));
        return `${Object.keys(m.tables ?? {}).length} table(s) of ${m.backup_id} present${added.length ? `, ${added.length} new since` : ''}`;
      });
    }
  }
  return results;
}
