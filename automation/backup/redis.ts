/**
 * Redis backup and restore.
 *
 * Backup: DBSIZE and a key sample, then `redis-cli --rdb -` (the replication protocol) streamed through
 * sha256/byte counting into a multipart upload; manifest last, as for PostgreSQL.
 *
 * Restore: download + verify the checksum before touching the target, refuse a non-empty target unless forced,
 * load the RDB into a temporary redis-server, copy every key to the target with DUMP/PTTL → RESTORE (works
 * for any reachable Redis, including ElastiCache, where SYNC and DEBUG RELOAD are not allowed), then compare
 * the key count and a sample of values between the loaded backup and the target.
 */
import { finished } from 'node:stream/promises';
import type { BackupTier } from '../../lib/lifecycle';
import { OperationError, RefusedError, VerificationError } from '../core/errors';
import { redact } from '../core/redact';
import { assertStoredSize, commitManifest, dataManifest, pruneAfterCommit } from './commit';
import { dataKey } from './keys';
import { Manifest } from './manifest';
import type { CacheExporter, DumpProcess, ObjectStore, RedisInfo, RedisTools, TempFiles } from './ports';
import type { BackupResult, Log } from './postgres';
import { downloadVerified, KEY_SAMPLE_SIZE, selectBackup, streamToStore, unreachable } from './transfer';
import { DEFAULT_KEEP, RetentionCounts } from './retention';
import { type Clock, systemClock } from '../core/clock';
import { safetyBackupRedis, type SafetyOutcome, skippedSafety } from './safety';

const noop: Log = () => undefined;

export interface RedisBackupOptions {
  url: string;
  tier: BackupTier;
  store: ObjectStore;
  tools: RedisTools;
  clock: Clock;
  keep?: RetentionCounts;
  prune?: boolean;
  log?: Log;
  signal?: AbortSignal;
}

export async function backupRedis(o: RedisBackupOptions): Promise<BackupResult> {
  const log = o.log ?? noop;
  const keep = o.keep ?? DEFAULT_KEEP;
  const info = await o.tools.inspect(o.url).catch((e: unknown) => unreachable(e, 'redis'));
  const sample = await o.tools.sampleKeys(o.url, KEY_SAMPLE_SIZE);
  const versions = await o.tools.versions();
  const started = o.clock.now();
  const t0 = Date.now();
  const key = dataKey('redis', o.tier, started);
  log(`streaming RDB from ${info.host} (Redis ${info.version}, ${info.keys} keys) to ${o.store.location}/${key}`);
  let streamed: { bytes: number; sha256: string };
  try {
    streamed = await streamToStore(o.tools.rdb(o.url), o.store, key, o.signal);
  } catch (err) {
    throw new OperationError(`RDB transfer from ${info.host} failed; no backup was recorded: ${redact(err instanceof Error ? err.message : String(err))}`);
  }
  await assertStoredSize(o.store, { key, ...streamed }, 'upload');
  return commitRedis(o, { started, t0, key, streamed, info, sample, keep }, { tool_versions: versions });
}

export interface RedisExportBackupOptions extends Omit<RedisBackupOptions, 'signal'> {
  exporter: CacheExporter;
  /** The (tiered) ElastiCache snapshot to export; created by the job just before. */
  snapshotName: string;
  /** Where ElastiCache writes the export before it is copied under `redis/<tier>/`. */
  exportPrefix: string;
}

/**
 * Redis on ElastiCache, where SYNC (`redis-cli --rdb`) is refused: export the tier's ElastiCache snapshot to
 * the backup bucket, then stream the exported RDB from the bucket through sha256/byte counting into
 * `redis/<tier>/backup_<stamp>.rdb` and write the usual manifest. The exported object is always deleted
 * afterwards (success or not), and — as with every backup — no manifest unless the copy completed, so
 * `dr restore redis` and `dr verify` treat it like any other Redis backup.
 */
export async function backupRedisFromExport(o: RedisExportBackupOptions): Promise<BackupResult> {
  const log = o.log ?? noop;
  const keep = o.keep ?? DEFAULT_KEEP;
  const info = await o.tools.inspect(o.url).catch((e: unknown) => unreachable(e, 'redis'));
  const sample = await o.tools.sampleKeys(o.url, KEY_SAMPLE_SIZE);
  const started = o.clock.now();
  const t0 = Date.now();
  const key = dataKey('redis', o.tier, started);
  // Exports left behind by a run that died mid-copy (a Lambda timeout) are removed after a day.
  const leftovers = (await o.store.list(o.exportPrefix)).filter((x) => x.lastModified && started.getTime() - x.lastModified.getTime() > 86_400_000).map((x) => x.key);
  if (leftovers.length) {
    await o.store.delete(leftovers);
    log(`removed ${leftovers.length} leftover export(s) under ${o.exportPrefix}`);
  }
  let exported: string | undefined;
  let streamed: { bytes: number; sha256: string };
  try {
    exported = (await o.exporter.exportSnapshot(o.snapshotName, o.exportPrefix, log)).key;
    log(`copying ${exported} (Redis ${info.version}, ${info.keys} keys) to ${o.store.location}/${key}`);
    const body = await o.store.get(exported);
    const source: DumpProcess = { stdout: body, done: finished(body), kill: () => body.destroy() };
    source.done.catch(() => undefined);
    streamed = await streamToStore(source, o.store, key);
  } catch (err) {
    throw new OperationError(`ElastiCache export of ${o.snapshotName} failed; no backup was recorded: ${redact(err instanceof Error ? err.message : String(err))}`);
  } finally {
    if (exported) await o.store.delete([exported]).catch((e: unknown) => log(`could not delete the export ${exported}: ${redact(String(e))}`));
  }
  await assertStoredSize(o.store, { key, ...streamed }, 'copy');
  return commitRedis(o, { started, t0, key, streamed, info, sample, keep }, { snapshot: o.snapshotName, tool_versions: { elasticache: `Redis ${info.version} snapshot export (CopySnapshot → S3)` } });
}

/** Manifest, commit and prune for a stored Redis RDB (both backup paths). */
async function commitRedis(
  o: RedisBackupOptions | RedisExportBackupOptions,
  b: { started: Date; t0: number; key: string; streamed: { bytes: number; sha256: string }; info: RedisInfo; sample: string[]; keep: RetentionCounts },
  details: Pick<Manifest, 'tool_versions' | 'snapshot'>,
): Promise<BackupResult> {
  const log = o.log ?? noop;
  const manifest = dataManifest(
    { service: 'redis', tier: o.tier, started: b.started, t0: b.t0, keep: b.keep[o.tier], stored: { key: b.key, ...b.streamed } },
    { database: '0', server_version: b.info.version, keys: b.info.keys, key_sample: b.sample, source: b.info.host, ...details },
  );
  const manifestKey = await commitManifest(o.store, manifest, log);
  const pruned = await pruneAfterCommit(o, 'redis', b.keep[o.tier], log);
  return { manifest, manifestKey, pruned };
}

export interface RedisRestoreOptions {
  store: ObjectStore;
  tools: RedisTools;
  targetUrl: string;
  from?: string;
  file?: string;
  force?: boolean;
  /** How many keys to compare value-by-value (default 200). */
  sampleSize?: number;
  /** Where the download goes before anything touches the target. */
  temp: TempFiles;
  log?: Log;
  signal?: AbortSignal;
  /** The safety backup before a forced restore into a non-empty Redis (safety.ts): on unless false (recorded). */
  safetyBackup?: boolean;
  clock?: Clock;
}

export interface RedisRestoreResult {
  manifest: Manifest;
  target: string;
  forced: boolean;
  checksum: 'verified';
  keys: { backup: number; restored: number; target: number };
  sample: { compared: number; mismatched: string[] };
  durationSeconds: number;
  /** A forced restore into a non-empty Redis: the safety backup taken first, or its recorded skip. */
  safetyBackup?: SafetyOutcome;
}

export async function restoreRedis(o: RedisRestoreOptions): Promise<RedisRestoreResult> {
  const log = o.log ?? noop;
  const t0 = Date.now();
  const manifest = await selectBackup(o.store, 'redis', o.from, o.file);
  const target = await o.tools.inspect(o.targetUrl).catch((e: unknown) => unreachable(e, 'target redis'));
  if (target.keys > 0 && !o.force) {
    throw new RefusedError(`target redis ${target.host} already holds ${target.keys} key(s); refusing to restore over it (pass --force to overwrite keys present in the backup)`);
  }
  const safety = target.keys > 0 ? await safetyBeforeForce(o, manifest) : undefined;
  log(`restoring ${manifest.key} (${manifest.size_readable}, taken ${manifest.timestamp}) into ${target.host}`);
  const dir = await o.temp.dir('dr-restore-');
  try {
    await downloadVerified(o.store, manifest, { dir, name: 'dump.rdb' }, o.signal);
    log(`checksum verified (${manifest.checksum})`);
    const temp = await o.tools.loadRdb(dir.path('dump.rdb'));
    try {
      const loaded = await o.tools.inspect(temp.url);
      let restored: number;
      try {
        restored = await o.tools.copyAll(temp.url, o.targetUrl, { replace: Boolean(o.force) });
      } catch (err) {
        throw new OperationError(`copying keys into ${target.host} failed: ${redact(err instanceof Error ? err.message : String(err))}`);
      }
      const after = await o.tools.inspect(o.targetUrl);
      const keys = [...new Set([...(manifest.key_sample ?? []), ...(await o.tools.sampleKeys(temp.url, o.sampleSize ?? 200))])].sort();
      const [want, got] = await Promise.all([o.tools.fingerprint(temp.url, keys), o.tools.fingerprint(o.targetUrl, keys)]);
      // A sampled key may legitimately be gone from both (it expired); it must not differ.
      const mismatched = keys.filter((k) => want[k] !== null && want[k] !== got[k]);
      const countOk = o.force ? after.keys >= restored : after.keys === loaded.keys;
      if (!countOk || restored !== loaded.keys || mismatched.length) {
        throw new VerificationError(
          `restored data does not match the backup: backup has ${loaded.keys} keys, copied ${restored}, target now has ${after.keys}` +
            (mismatched.length ? `; ${mismatched.length} sampled value(s) differ: ${mismatched.slice(0, 5).join(', ')}` : ''),
          { backupKeys: loaded.keys, restored, targetKeys: after.keys, mismatched },
        );
      }
      log(`${restored} keys restored; ${keys.length} sampled values match`);
      return {
        manifest,
        target: target.host,
        forced: target.keys > 0,
        checksum: 'verified',
        keys: { backup: loaded.keys, restored, target: after.keys },
        sample: { compared: keys.length, mismatched },
        durationSeconds: (Date.now() - t0) / 1000,
        safetyBackup: safety,
      };
    } finally {
      await temp.stop();
    }
  } finally {
    await dir.remove();
  }
}


/** The safety backup of the target before `--force` overwrites its keys (or the recorded `--no-safety-backup`). */
async function safetyBeforeForce(o: RedisRestoreOptions, manifest: Manifest): Promise<SafetyOutcome> {
  if (o.safetyBackup === false) {
    (o.log ?? noop)('warning: --no-safety-backup: the keys this restore overwrites are not backed up first');
    return skippedSafety();
  }
  return safetyBackupRedis({ url: o.targetUrl, store: o.store, tools: o.tools, temp: o.temp, clock: o.clock ?? systemClock, before: `restore redis --force of ${manifest.key}`, log: o.log, signal: o.signal });
}
