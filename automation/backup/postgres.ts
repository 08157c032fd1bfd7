/**
 * PostgreSQL backup and restore.
 *
 * Backup: count rows inside an exported REPEATABLE READ snapshot, run `pg_dump -Fc` in that same snapshot,
 * stream its stdout through sha256/byte counting into a multipart upload, and only when BOTH the dump exited 0
 * and the upload completed, write the manifest (the commit marker). Any failure aborts the upload and deletes
 * whatever might be under the key: a failed dump never leaves a valid-looking backup.
 *
 * Restore: download to a temp file while hashing, compare with the manifest BEFORE touching the target,
 * refuse a non-empty target unless forced, `pg_restore -j N --no-owner`, then compare row counts.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BackupTier } from '../../lib/lifecycle';
import { OperationError, RefusedError, UsageError, VerificationError } from '../cli/errors';
import { redact } from '../cli/redact';
import { listBackups, readManifest } from './catalog';
import { HashCounter } from './hashing';
import { backupId, dataKey, manifestKeyFor } from './keys';
import { checksumHex, Manifest, MANIFEST_FORMAT, retentionLabel, sizeReadable } from './manifest';
import { Clock, DumpProcess, ObjectStore, PgTools, UnreachableError } from './ports';
import { resolveFrom } from './resolve';
import { DEFAULT_KEEP, planPrune, PrunePlan, RetentionCounts } from './retention';

export type Log = (line: string) => void;
const noop: Log = () => undefined;

export interface PgBackupOptions {
  url: string;
  tier: BackupTier;
  store: ObjectStore;
  tools: PgTools;
  clock: Clock;
  /** pg_dump -Z level (default 6, pg_dump's own default for -Fc). */
  compressLevel?: number;
  keep?: RetentionCounts;
  /** Prune the tier after a successful backup (default true). */
  prune?: boolean;
  log?: Log;
  signal?: AbortSignal;
}

export interface BackupResult {
  manifest: Manifest;
  manifestKey: string;
  pruned: PrunePlan;
}

/** Convert a tool's UnreachableError into the CLI's usage error (exit 2), naming the redacted target. */
export function unreachable(err: unknown, what: string): never {
  if (err instanceof UnreachableError) throw new UsageError(`${what} ${redact(err.target)} is unreachable: ${redact(err.reason)}`);
  throw err;
}

/**
 * Stream a producer's stdout into `store.upload(key)` through a hash counter. Resolves only when the producer
 * exited 0 and the upload completed; otherwise kills the producer, makes sure nothing is left under `key`,
 * and rethrows.
 */
export async function streamToStore(proc: DumpProcess, store: ObjectStore, key: string, signal?: AbortSignal): Promise<{ bytes: number; sha256: string }> {
  const counter = new HashCounter();
  // If the producer fails, fail the stream feeding the upload so the multipart upload is aborted rather than
  // completed with a truncated body.
  const producerDone = proc.done.catch((err: unknown) => {
    counter.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  });
  proc.stdout.on('error', (err) => counter.destroy(err));
  proc.stdout.pipe(counter);
  const uploaded = store.upload(key, counter, { contentType: 'application/octet-stream', signal });
  const results = await Promise.allSettled([producerDone, uploaded]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    proc.kill();
    await store.delete([key]).catch(() => undefined);
    // Prefer the producer's error: it is the cause; the upload error is its consequence.
    const cause = results[0].status === 'rejected' ? results[0].reason : failed.reason;
    throw cause;
  }
  return { bytes: counter.bytes, sha256: counter.hex() };
}

export async function backupPostgres(o: PgBackupOptions): Promise<BackupResult> {
  const log = o.log ?? noop;
  const keep = o.keep ?? DEFAULT_KEEP;
  const level = o.compressLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new UsageError(`compression level must be 0-9, got ${level}`);
  const info = await o.tools.inspect(o.url).catch((e: unknown) => unreachable(e, 'database'));
  const versions = await o.tools.versions();
  const started = o.clock.now();
  const t0 = Date.now();
  const key = dataKey('postgresql', o.tier, started);
  log(`dumping ${info.database} on ${info.host} (PostgreSQL ${info.serverVersion}) to ${o.store.location}/${key}`);
  const snap = await o.tools.openSnapshot(o.url);
  let streamed: { bytes: number; sha256: string };
  let tables: Record<string, number>;
  try {
    // Count rows in the exported snapshot, then dump that same snapshot: the manifest's counts match the dump
    // exactly. (Counting while the dump runs was measured slower on 2 cores: both compete for CPU and I/O.)
    tables = await snap.countTables();
    const proc = o.tools.dump(o.url, { compressLevel: level, snapshotId: snap.snapshotId });
    streamed = await streamToStore(proc, o.store, key, o.signal);
  } catch (err) {
    throw new OperationError(`pg_dump of ${info.database} failed; no backup was recorded: ${redact(err instanceof Error ? err.message : String(err))}`);
  } finally {
    await snap.close();
  }
  // Re-check the stored object before committing: the size must be what we sent.
  const head = await o.store.head(key);
  if (!head || head.size !== streamed.bytes) {
    await o.store.delete([key]).catch(() => undefined);
    throw new OperationError(`upload of ${key} reports ${head?.size ?? 'no object'} bytes, expected ${streamed.bytes}; no backup was recorded`);
  }
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    backup_id: backupId(started),
    type: 'full',
    service: 'postgresql',
    tier: o.tier,
    timestamp: started.toISOString(),
    key,
    size_bytes: streamed.bytes,
    size_readable: sizeReadable(streamed.bytes),
    duration_seconds: Math.round((Date.now() - t0) / 10) / 100,
    files: [path.posix.basename(key)],
    checksum: `sha256:${streamed.sha256}`,
    database: info.database,
    server_version: info.serverVersion,
    tables,
    source: info.host,
    tool_versions: versions,
    compression: `custom format, -Z${level}`,
    verified: true,
    retention: retentionLabel(o.tier, keep[o.tier]),
    restorability: 'UNVERIFIED',
  };
  const manifestKey = manifestKeyFor(key);
  await o.store.put(manifestKey, JSON.stringify(manifest, null, 2) + '\n', 'application/json');
  log(`stored ${manifest.size_readable} (${manifest.checksum}); manifest ${manifestKey}`);
  const pruned = o.prune === false ? emptyPlan() : await pruneTier(o.store, 'postgresql', o.tier, keep[o.tier], o.clock.now(), log);
  return { manifest, manifestKey, pruned };
}

function emptyPlan(): PrunePlan {
  return { keep: [], expired: [], leftovers: [], deleteKeys: [] };
}

export async function pruneTier(store: ObjectStore, service: 'postgresql' | 'redis', tier: BackupTier, keep: number, now: Date, log: Log = noop): Promise<PrunePlan> {
  const plan = planPrune(await listBackups(store, { service, tier }), keep, now);
  if (plan.deleteKeys.length) {
    await store.delete(plan.deleteKeys);
    log(`pruned ${plan.expired.length} expired and ${plan.leftovers.length} incomplete ${service}/${tier} backup(s)`);
  }
  return plan;
}

/** Pick a backup by `--file KEY` or `--from`. */
export async function selectBackup(store: ObjectStore, service: 'postgresql' | 'redis', from: string | undefined, file: string | undefined): Promise<Manifest> {
  if (file) {
    const dataK = file.replace(/\.metadata\.json$/, '');
    try {
      const m = await readManifest(store, dataK);
      if (m.service !== service) throw new UsageError(`--file ${file} is a ${m.service} backup, not ${service}`);
      return m;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--file ${file}: no complete backup with that key (${err instanceof Error ? err.message : String(err)}); run 'dr backups list'`);
    }
  }
  const entry = resolveFrom(from ?? 'latest', await listBackups(store, { service }));
  return readManifest(store, entry.dataKey);
}

/**
 * Download an object to `file` while hashing; throws VerificationError when the sha256 or size differs from
 * the manifest. The caller removes the file.
 */
export async function downloadVerified(store: ObjectStore, manifest: Manifest, file: string, signal?: AbortSignal): Promise<void> {
  const counter = new HashCounter();
  const body = await store.get(manifest.key, { signal });
  await pipeline(body, counter, createWriteStream(file, { mode: 0o600 }), { signal });
  const got = counter.hex();
  if (got !== checksumHex(manifest) || counter.bytes !== manifest.size_bytes) {
    throw new VerificationError(
      `checksum mismatch for ${manifest.key}: manifest says ${manifest.checksum} (${manifest.size_bytes} bytes), stored object is sha256:${got} (${counter.bytes} bytes); the backup is corrupt, nothing was restored`,
      { key: manifest.key, expected: manifest.checksum, actual: `sha256:${got}` },
    );
  }
}

export interface TableComparison {
  table: string;
  expected: number | null;
  actual: number | null;
  ok: boolean;
}

/**
 * Compare restored row counts with the manifest. Every table in the manifest must match exactly; tables the
 * target has beyond the backup (possible with --force, which only replaces the backup's objects) are listed
 * with `expected: null` and do not fail the comparison.
 */
export function compareCounts(expected: Record<string, number>, actual: Record<string, number>): TableComparison[] {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return names.map((table) => {
    const e = table in expected ? expected[table] : null;
    const a = table in actual ? actual[table] : null;
    return { table, expected: e, actual: a, ok: e === null || e === a };
  });
}

export interface PgRestoreOptions {
  store: ObjectStore;
  tools: PgTools;
  targetUrl: string;
  from?: string;
  file?: string;
  force?: boolean;
  skipVerify?: boolean;
  jobs?: number;
  /** Where the temp file goes (default: OS temp dir). */
  tmpDir?: string;
  log?: Log;
  signal?: AbortSignal;
}

export interface PgRestoreResult {
  manifest: Manifest;
  target: string;
  forced: boolean;
  checksum: 'verified';
  tables: TableComparison[] | 'skipped';
  durationSeconds: number;
}

export async function restorePostgres(o: PgRestoreOptions): Promise<PgRestoreResult> {
  const log = o.log ?? noop;
  const jobs = o.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UsageError(`--jobs must be a whole number between 1 and 64, got ${jobs}`);
  const t0 = Date.now();
  const manifest = await selectBackup(o.store, 'postgresql', o.from, o.file);
  const target = await o.tools.inspect(o.targetUrl).catch((e: unknown) => unreachable(e, 'target database'));
  const existing = await o.tools.userTableCount(o.targetUrl);
  if (existing > 0 && !o.force) {
    throw new RefusedError(`target database ${target.database} on ${target.host} already has ${existing} table(s); refusing to restore over it (pass --force to drop and replace the objects in the backup)`);
  }
  log(`restoring ${manifest.key} (${manifest.size_readable}, taken ${manifest.timestamp}) into ${target.database} on ${target.host}`);
  const dir = mkdtempSync(path.join(o.tmpDir ?? os.tmpdir(), 'dr-restore-'));
  const file = path.join(dir, path.posix.basename(manifest.key));
  try {
    await downloadVerified(o.store, manifest, file, o.signal);
    log(`checksum verified (${manifest.checksum})`);
    try {
      await o.tools.restore(o.targetUrl, file, { jobs, clean: existing > 0, signal: o.signal });
    } catch (err) {
      throw new OperationError(`pg_restore into ${target.database} failed: ${redact(err instanceof Error ? err.message : String(err))}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  let tables: TableComparison[] | 'skipped' = 'skipped';
  if (!o.skipVerify) {
    tables = compareCounts(manifest.tables ?? {}, await o.tools.tableCounts(o.targetUrl));
    const bad = tables.filter((t) => !t.ok);
    if (bad.length) {
      throw new VerificationError(`restored data does not match the manifest: ${bad.map((t) => `${t.table} expected ${t.expected} rows, found ${t.actual}`).join('; ')}`, { tables });
    }
    log(`row counts match the manifest for ${tables.length} table(s)`);
  }
  return { manifest, target: `${target.host}/${target.database}`, forced: existing > 0, checksum: 'verified', tables, durationSeconds: (Date.now() - t0) / 1000 };
}
