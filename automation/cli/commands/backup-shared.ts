/**
 * Wiring shared by the backup/restore/verify commands: flag specs, the store and tool adapters built from the
 * command's injected env. Not a command itself (no `command` export).
 */
import { BACKUP_SERVICES, BACKUP_TIERS } from '../../../lib/lifecycle';
import { S3Store } from '../../adapters/aws/s3-store';
import { LocalPgTools } from '../../adapters/tools/pg-tools';
import { LocalRedisTools } from '../../adapters/tools/redis-tools';
import { FlagSpec } from '../args';
import { CommandContext } from '../command';
import { UsageError } from '../../core/errors';
import { registerUrlSecret } from '../../core/redact';
import { FROM_FORMS, ObjectStore, RetentionCounts, validateKeep } from '../../backup/index';

export const BUCKET_FLAG: FlagSpec = { type: 'string', description: 'backup bucket name', env: 'DR_BACKUP_BUCKET' };
export const TIER_FLAG: FlagSpec = { type: 'string', description: 'backup tier', choices: BACKUP_TIERS, default: 'daily' };
export const TIER_FILTER_FLAG: FlagSpec = { type: 'string', description: 'only this tier', choices: BACKUP_TIERS };
export const SERVICE_FLAG: FlagSpec = { type: 'string', description: 'only this service', choices: BACKUP_SERVICES };
export const FROM_FLAG: FlagSpec = { type: 'string', description: `which backup: ${FROM_FORMS} (UTC day)`, default: 'latest' };
export const DATABASE_URL_FLAG: FlagSpec = { type: 'string', description: 'PostgreSQL URL (postgresql://user:pass@host:port/db)', env: 'DATABASE_URL' };
export const REDIS_URL_FLAG: FlagSpec = { type: 'string', description: 'Redis URL (redis:// or rediss://)', env: 'REDIS_URL' };


export function requiredUrl(ctx: CommandContext, flag: string, env: string): string {
  const url = ctx.flags.required(flag, `or set ${env}`);
  registerUrlSecret(url);
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--${flag} is not a URL; expected e.g. ${flag.includes('redis') ? 'redis://:password@host:6379' : 'postgresql://user:password@host:5432/db'}`);
  }
  return url;
}

export function bucketName(ctx: CommandContext): string {
  const b = ctx.flags.required('bucket', 'or set DR_BACKUP_BUCKET');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b)) throw new UsageError(`--bucket '${b}' is not a valid S3 bucket name (3-63 of a-z 0-9 . -)`);
  return b;
}

export function makeStore(ctx: CommandContext, bucket: string): ObjectStore {
  return new S3Store({ bucket, env: ctx.env });
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
