/**
 * The drill's restore check: the latest PostgreSQL and Redis backups from the surviving region's bucket, restored
 * into scratch targets (never the serving ones) and compared with their manifests — PostgreSQL into a scratch
 * database on the serving primary (checksum + row counts), Redis into a scratch redis-server (checksum + key count
 * + sampled values).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LocalEnv } from '../adapters/rehearsal/local-env';
import type { LocalState } from '../adapters/rehearsal/state';
import { LocalPgTools } from '../adapters/tools/pg-tools';
import { RedisServer } from '../adapters/tools/redis-server';
import { LocalRedisTools } from '../adapters/tools/redis-tools';
import { localTempFiles } from '../adapters/tools/temp-files';
import { type ObjectStore, restorePostgres, restoreRedis } from '../backup/index';
import { VerificationError } from '../core/errors';
import { type DrillResult, round2 } from './drill-result';

const SCRATCH_DB = 'dr_restore_check';

/** Restore PostgreSQL into a scratch database on `dbTarget` (dropped afterwards); fills `restore.postgresql`. */
async function restorePostgresScratch(o: RestoreCheck): Promise<NonNullable<DrillResult['restore']['postgresql']>> {
  const { env, dbTarget, st } = o;
  await env.superQuery(dbTarget, `DROP DATABASE IF EXISTS ${SCRATCH_DB}`);
  await env.superQuery(dbTarget, `CREATE DATABASE ${SCRATCH_DB}`);
  try {
    const res = await restorePostgres({ temp: localTempFiles(), store: o.store, tools: new LocalPgTools(), targetUrl: env.superUrl(dbTarget, SCRATCH_DB), from: 'latest', jobs: 2, log: o.log });
    const tables = res.tables === 'skipped' ? [] : res.tables;
    return {
      verified: res.checksum === 'verified' && res.tables !== 'skipped' && tables.every((t) => t.ok),
      backup: res.manifest.key,
      bucket: st.regions.b.bucket,
      checksum: res.checksum,
      duration_seconds: round2(res.durationSeconds),
      target: `database ${SCRATCH_DB} on ${dbTarget} (127.0.0.1:${env.pgPort(dbTarget)})`,
      tables,
    };
  } finally {
    await env.superQuery(dbTarget, `DROP DATABASE IF EXISTS ${SCRATCH_DB} WITH (FORCE)`).catch(() => undefined);
  }
}

/** Restore Redis into a scratch redis-server (never the serving cache: a restore refuses a non-empty target). */
async function restoreRedisScratch(o: RestoreCheck): Promise<NonNullable<DrillResult['restore']['redis']>> {
  const { st } = o;
  const scratch = await RedisServer.start({ dir: fs.mkdtempSync(path.join(st.dir, 'scratch-redis-')), password: randomBytes(16).toString('hex') });
  try {
    const res = await restoreRedis({ store: o.store, tools: new LocalRedisTools(), targetUrl: scratch.url(), from: 'latest', temp: localTempFiles(st.dir), log: o.log });
    return {
      verified: res.checksum === 'verified' && res.keys.restored === res.keys.backup && res.keys.target === res.keys.backup && res.sample.mismatched.length === 0,
      backup: res.manifest.key,
      bucket: st.regions.b.bucket,
      checksum: res.checksum,
      duration_seconds: round2(res.durationSeconds),
      target: `scratch redis-server on 127.0.0.1:${scratch.port}`,
      keys: res.keys,
      sample: { compared: res.sample.compared, mismatched: res.sample.mismatched.length },
    };
  } finally {
    await scratch.destroy().catch(() => undefined);
  }
}

export interface RestoreCheck {
  st: LocalState;
  env: LocalEnv;
  /** The surviving region's bucket. */
  store: ObjectStore;
  /** The region whose primary serves the database now. */
  dbTarget: string;
  /** The drill result's restore section, filled in as the restores finish. */
  restore: DrillResult['restore'];
  log: (line: string) => void;
}

/** Run both restores and record them in `o.restore`; returns the step detail, throws when either does not match. */
export async function restoreAndVerify(o: RestoreCheck): Promise<string> {
  const s0 = Date.now();
  const pg = (o.restore.postgresql = await restorePostgresScratch(o));
  const rd = (o.restore.redis = await restoreRedisScratch(o));
  Object.assign(o.restore, { verified: pg.verified && rd.verified, duration_seconds: round2((Date.now() - s0) / 1000), backup: pg.backup, bucket: pg.bucket, tables: pg.tables });
  if (!pg.verified) throw new VerificationError('restored PostgreSQL row counts do not match the manifest');
  if (!rd.verified) throw new VerificationError(`restored Redis keys do not match the backup (${rd.keys.restored}/${rd.keys.backup} keys, ${rd.sample.mismatched} sampled value(s) differ)`);
  return `from ${o.st.regions.b.bucket}: PostgreSQL ${pg.backup} into a scratch database on ${o.dbTarget}, checksum verified, ${pg.tables.length} table(s) match the manifest (${pg.duration_seconds}s); Redis ${rd.backup} into a scratch redis-server, checksum verified, ${rd.keys.restored} keys, ${rd.sample.compared} sampled values match (${rd.duration_seconds}s)`;
}
