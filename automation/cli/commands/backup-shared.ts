/**
 * Wiring shared by the backup/restore/verify commands: flag specs, the store and tool adapters built from the
 * command's injected env, and `--local`: the local two-region environment (`dr local up`) as the source — its
 * serving database and cache, the serving region's bucket on its S3 server — read from its state, so no
 * credential is ever printed or typed. Not a command itself (no `command` export).
 */
import { BACKUP_SERVICES, BACKUP_TIERS } from '../../../lib/lifecycle';
import { S3Store } from '../../adapters/aws/s3-store';
import { LocalPgTools } from '../../adapters/tools/pg-tools';
import { LocalRedisTools } from '../../adapters/tools/redis-tools';
import { FlagSpec } from '../args';
import { CommandContext } from '../command';
import { FlagError, UsageError } from '../../core/errors';
import { registerUrlSecret } from '../../core/redact';
import { FROM_FORMS, ObjectStore, RetentionCounts, type SafetyOutcome, validateKeep } from '../../backup/index';
import { readDnsFile } from '../../adapters/rehearsal/local-dns';
import { LocalEnv } from '../../adapters/rehearsal/local-env';
import { isRegion, otherRegion, type RegionName, requireState } from '../../adapters/rehearsal/state';
import { DIR_FLAG, localDir } from '../local';

export const BUCKET_FLAG: FlagSpec = { type: 'string', description: 'backup bucket name', env: 'DR_BACKUP_BUCKET' };
export const TIER_FLAG: FlagSpec = { type: 'string', description: 'backup tier', choices: BACKUP_TIERS, default: 'daily' };
export const TIER_FILTER_FLAG: FlagSpec = { type: 'string', description: 'only this tier', choices: BACKUP_TIERS };
export const SERVICE_FLAG: FlagSpec = { type: 'string', description: 'only this service', choices: BACKUP_SERVICES };
export const FROM_FLAG: FlagSpec = { type: 'string', description: `which backup: ${FROM_FORMS} (UTC day)`, default: 'latest' };
export const DATABASE_URL_FLAG: FlagSpec = { type: 'string', description: 'PostgreSQL URL (postgresql://user:pass@host:port/db)', env: 'DATABASE_URL' };
export const REDIS_URL_FLAG: FlagSpec = { type: 'string', description: 'Redis URL (redis:// or rediss://)', env: 'REDIS_URL' };


/** `--local` and `--dir` for the backup, restore and verify commands. */
export const LOCAL_SOURCE_FLAGS = {
  local: { type: 'boolean', description: 'use the local two-region environment (dr local up): its serving database and cache, that region\'s bucket and the S3 server; no URL or credential needed' },
  dir: { ...DIR_FLAG, description: `--local: ${DIR_FLAG.description}` },
} satisfies Record<string, FlagSpec>;

/** The local environment as a backup source and target. */
export interface LocalSources {
  env: LocalEnv;
  /** The region whose database serves (the DNS record file's `database`). */
  region: RegionName;
  /** The region whose cache serves. */
  cacheRegion: RegionName;
  urls: Record<'database-url' | 'redis-url' | 'replica-url' | 'scratch-url', string>;
  bucket: string;
  /** The other region's bucket: `dr backup --local` copies each new backup there (the stand-in for S3 CRR). */
  peerBucket: string;
  /** The S3 server's endpoint and (local, fixed) credentials, merged into the store's environment. */
  s3Env: Record<string, string>;
}

const localCache = new WeakMap<CommandContext, LocalSources>();

/** With `--local`, the environment's sources (the state's credentials are registered with the redactor). */
export function localSources(ctx: CommandContext): LocalSources | undefined {
  if (!ctx.flags.bool('local')) return undefined;
  const known = localCache.get(ctx);
  if (known) return known;
  const state = requireState(localDir(ctx));
  const records = readDnsFile(state.dns_file).records;
  const region = isRegion(records.database ?? '') ? (records.database as RegionName) : 'a';
  const cacheRegion = isRegion(records.cache ?? '') ? (records.cache as RegionName) : region;
  const env = new LocalEnv(state);
  const sources: LocalSources = {
    env,
    region,
    cacheRegion,
    urls: { 'database-url': env.appUrl(region), 'redis-url': env.redisUrl(cacheRegion), 'replica-url': env.superUrl(otherRegion(region), state.app.database), 'scratch-url': env.superUrl(region) },
    bucket: state.regions[region].bucket,
    peerBucket: state.regions[otherRegion(region)].bucket,
    s3Env: { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${state.s3.port}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
  };
  localCache.set(ctx, sources);
  return sources;
}

/**
 * `--local` only: copy a new backup's data, then its manifest, to the other region's bucket — the rehearsal's
 * stand-in for S3 cross-region replication (what `dr drill --local` does after its backups), so that readiness's
 * `backups.newest` sees it in both buckets. Returns the line to print (undefined without `--local`).
 */
export async function replicateLocally(ctx: CommandContext, keys: { dataKey: string; manifestKey: string }): Promise<string | undefined> {
  const local = localSources(ctx);
  if (!local) return undefined;
  const from = makeStore(ctx, local.bucket);
  const to = makeStore(ctx, local.peerBucket);
  for (const key of [keys.dataKey, keys.manifestKey]) await to.upload(key, await from.get(key));
  return `copied to ${local.peerBucket} (the rehearsal's stand-in for cross-region replication)`;
}

/** A URL flag's value: with `--local`, the environment's (see {@link LocalSources.urls}); else the flag or its env. */
export function requiredUrl(ctx: CommandContext, flag: string, env: string): string {
  const local = localSources(ctx)?.urls[flag as keyof LocalSources['urls']];
  const url = local ?? ctx.flags.required(flag, `or set ${env}`);
  registerUrlSecret(url);
  try {
    new URL(url);
  } catch {
    throw new FlagError(`--${flag} is not a URL; expected e.g. ${flag.includes('redis') ? 'redis://:password@host:6379' : 'postgresql://user:password@host:5432/db'}`);
  }
  return url;
}

export function bucketName(ctx: CommandContext): string {
  const b = localSources(ctx)?.bucket ?? ctx.flags.required('bucket', 'or set DR_BACKUP_BUCKET');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b)) throw new FlagError(`--bucket '${b}' is not a valid S3 bucket name (3-63 of a-z 0-9 . -)`);
  return b;
}

export function makeStore(ctx: CommandContext, bucket: string): ObjectStore {
  const local = localSources(ctx);
  return new S3Store({ bucket, env: local ? { ...ctx.env, ...local.s3Env } : ctx.env });
}

export function pgTools(ctx: CommandContext): LocalPgTools {
  return new LocalPgTools({ pgDump: ctx.env.DR_PG_DUMP, pgRestore: ctx.env.DR_PG_RESTORE, env: ctx.env });
}

export function redisTools(ctx: CommandContext): LocalRedisTools {
  return new LocalRedisTools({ env: ctx.env });
}

/** Keep counts from DR_RETENTION_DAILY/WEEKLY/MONTHLY (defaults 7/4/12). */
export function keepCounts(env: Record<string, string | undefined>): RetentionCounts {
  const raw: Record<string, unknown> = {};
  for (const tier of BACKUP_TIERS) {
    const v = env[`DR_RETENTION_${tier.toUpperCase()}`];
    if (v !== undefined && v !== '') raw[tier] = Number(v);
  }
  try {
    return validateKeep(raw, 'DR_RETENTION');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Step-timer for human progress. */
export function stepper(ctx: CommandContext) {
  return async <T>(name: string, fn: () => Promise<T>, detail?: (v: T) => string): Promise<T> => {
    const t0 = Date.now();
    try {
      const v = await fn();
      ctx.out.step(name, 'ok', Date.now() - t0, detail ? detail(v) : undefined);
      return v;
    } catch (err) {
      ctx.out.step(name, 'failed', Date.now() - t0);
      throw err;
    }
  };
}

/** One line about a restore's safety backup for the human summary ('' when the target was empty). */
export function safetyLine(s: SafetyOutcome | undefined): string {
  if (!s) return '';
  return s.taken ? `\nsafety backup (verified) of the data it overwrote: ${s.key}` : '\nno safety backup: --no-safety-backup (recorded)';
}
