/**
 * PostgreSQL backup and restore.
 *
 * Backup: export a REPEATABLE READ snapshot, run `pg_dump -Fc` in that snapshot while counting every table's
 * rows in it (overlapped), stream pg_dump's stdout through sha256/byte counting into a multipart upload, and
 * only when the dump exited 0, the counts finished and the upload completed, write the manifest (the commit
 * marker). Any failure aborts the upload and deletes
 * whatever might be under the key: a failed dump never leaves a valid-looking backup.
 *
 * Restore: download to a temp file while hashing, compare with the manifest BEFORE touching the target,
 * refuse a non-empty target unless forced, `pg_restore -j N --no-owner`, then compare row counts.
 */
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BackupTier } from '../../lib/lifecycle';
import { errorSummary, FlagError, OperationError, RefusedError, UnreachableError, UsageError, VerificationError } from '../core/errors';
import { redact } from '../core/redact';
import { listBackups, readManifest } from './catalog';
import { HashCounter } from './hashing';
import { assertStoredSize, commitManifest, dataManifest, Log, pruneAfterCommit } from './commit';
import { dataKey } from './keys';
import { checksumHex, Manifest, RunnerRecord } from './manifest';
import type { DumpProcess, ObjectStore, PgTableTools, PgTools, TempDir, TempFiles } from './ports';
import { resolveFrom } from './resolve';
import { DEFAULT_KEEP, PrunePlan, RetentionCounts } from './retention';
import { type Clock, systemClock } from '../core/clock';
import { safetyBackupPostgres, type SafetyOutcome, skippedSafety } from './safety';

export type { Log } from './commit';
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
  /** The scheduled job's runner and limits, recorded in the manifest (for `dr status`'s prediction). */
  runner?: RunnerRecord;
}

export interface BackupResult {
  manifest: Manifest;
  manifestKey: string;
  pruned: PrunePlan;
  /** PostgreSQL backups: where the time went (ms). */
  phases?: BackupPhases;
}

/** Convert a tool's UnreachableError into the CLI's usage error (exit 2), naming the redacted target. */
/** A login the server refused (wrong password, unknown role or database, no pg_hba entry): not a network problem. */
const LOGIN_REFUSED = /password authentication failed|authentication failed|no pg_hba\.conf entry|role "[^"]*" does not exist|database "[^"]*" does not exist|WRONGPASS|NOAUTH|invalid username-password/i;

/**
 * Say what a tool's {@link UnreachableError} means for `what` (an operational failure, exit 1): a server that
 * refused the login is named as such, not as unreachable.
 */
export function unreachable(err: unknown, what: string): never {
  if (err instanceof UnreachableError) {
    const reason = redact(err.reason);
    if (LOGIN_REFUSED.test(err.reason)) throw new OperationError(`${what} ${redact(err.target)} refused the login: ${reason}`, undefined, { cause: err });
    throw new OperationError(`${what} ${redact(err.target)} is unreachable: ${reason}`, undefined, { cause: err });
  }
  throw err;
}

/** Outcome of {@link streamToStore}. */
export interface Streamed {
  bytes: number;
  sha256: string;
  /** ms from start until the producer exited. */
  producerMs: number;
  /** ms from the producer's exit until the upload completed (last part + CompleteMultipartUpload). */
  uploadTailMs: number;
}

/**
 * Stream a producer's stdout into `store.upload(key)` through a hash counter. Resolves only when the producer
 * exited 0 and the upload completed; otherwise kills the producer, makes sure nothing is left under `key`,
 * and rethrows.
 */
export async function streamToStore(proc: DumpProcess, store: ObjectStore, key: string, signal?: AbortSignal): Promise<Streamed> {
  const t0 = Date.now();
  let producerAt = t0;
  const counter = new HashCounter();
  // If the producer fails, fail the stream feeding the upload so the multipart upload is aborted rather than
  // completed with a truncated body.
  const producerDone = proc.done.then(
    () => void (producerAt = Date.now()),
    (err: unknown) => {
      counter.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    },
  );
  proc.stdout.on('error', (err) => counter.destroy(err));
  proc.stdout.pipe(counter);
  // Which side failed first is the cause: a producer that dies fails the upload, and an upload that fails (no such
  // bucket, access denied) is why the producer was stopped.
  let first: 'producer' | 'upload' | undefined;
  producerDone.catch(() => void (first ??= 'producer'));
  const uploaded = store.upload(key, counter, { contentType: 'application/octet-stream', signal });
  uploaded.catch(() => {
    first ??= 'upload';
    proc.kill();
  });
  const results = await Promise.allSettled([producerDone, uploaded]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    proc.kill();
    await store.delete([key]).catch(() => undefined);
    if (first === 'upload' && results[1].status === 'rejected') throw new OperationError(`the upload to ${store.location}/${key} failed: ${redact(errorSummary(results[1].reason))}`, undefined, { cause: results[1].reason });
    throw results[0].status === 'rejected' ? results[0].reason : failed.reason;
  }
  const end = Date.now();
  return { bytes: counter.bytes, sha256: counter.hex(), producerMs: producerAt - t0, uploadTailMs: Math.max(0, end - producerAt) };
}

/**
 * Where a backup's wall time went (ms), for `--json` output and the benchmark. `dump` is pg_dump's own run
 * (connect to exit); `counts` is when the row counting (overlapped with the dump) finished, measured from the
 * dump's start; `commit` is HEAD + manifest PUT; `prune` runs after the manifest is committed.
 */
export type BackupPhases = Record<'connect' | 'dump' | 'counts' | 'upload_tail' | 'commit' | 'prune' | 'total', number>;

export async function backupPostgres(o: PgBackupOptions): Promise<BackupResult> {
  const log = o.log ?? noop;
  const keep = o.keep ?? DEFAULT_KEEP;
  const level = o.compressLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new UsageError(`compression level must be 0-9, got ${level}`);
  const t0 = Date.now();
  // Tool versions only go into the manifest: ask while we connect, await at commit time.
  const versionsP = o.tools.versions();
  versionsP.catch(() => undefined);
  const info = await o.tools.inspect(o.url).catch((e: unknown) => unreachable(e, 'database'));
  const started = o.clock.now();
  const key = dataKey('postgresql', o.tier, started);
  log(`dumping ${info.database} on ${info.host} (PostgreSQL ${info.serverVersion}) to ${o.store.location}/${key}`);
  const snap = await o.tools.openSnapshot(o.url);
  const tConnected = Date.now();
  let streamed: Streamed;
  let tables: Record<string, number>;
  let countsMs = 0;
  try {
    // pg_dump and the exact row counts share one exported REPEATABLE READ snapshot, so the manifest's counts
    // are exactly what the dump holds. The counting runs alongside pg_dump, whose wall time is mostly its own
    // compression (measured on the 1 GB bench: counts done ~0.3 s into a ~2 s dump; counting first added its
    // whole duration to the backup). A counting failure kills the dump and a dump failure cancels the
    // counting, so either way no backup is recorded and nothing waits for the other.
    const proc = o.tools.dump(o.url, { compressLevel: level, snapshotId: snap.snapshotId });
    // Whichever side fails first is the cause; the other side's failure is its consequence.
    let cause: 'dump' | 'count' | undefined;
    const counting = snap.countTables().then(
      (t) => {
        countsMs = Date.now() - tConnected;
        return t;
      },
      (err: unknown) => {
        cause ??= 'count';
        proc.kill();
        throw new OperationError(`counting rows in the dump's snapshot failed: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    counting.catch(() => undefined);
    const streaming = streamToStore(proc, o.store, key, o.signal);
    streaming.catch(() => {
      cause ??= 'dump';
      void snap.cancel?.().catch(() => undefined);
    });
    const [s, t] = await Promise.allSettled([streaming, counting]);
    if (s.status === 'rejected' || t.status === 'rejected') {
      await o.store.delete([key]).catch(() => undefined);
      const dumpErr: unknown = s.status === 'rejected' ? s.reason : undefined;
      const countErr: unknown = t.status === 'rejected' ? t.reason : undefined;
      throw (cause === 'count' ? countErr : dumpErr) ?? dumpErr ?? countErr;
    }
    streamed = s.value;
    tables = t.value;
  } catch (err) {
    throw new OperationError(`backup of ${info.database} failed; no backup was recorded: ${redact(err instanceof Error ? err.message : String(err))}`, undefined, { cause: err });
  } finally {
    await snap.close();
  }
  const tDumped = Date.now();
  // Re-check the stored object before committing: the size must be what we sent.
  await assertStoredSize(o.store, { key, ...streamed }, 'upload');
  const versions = await versionsP.catch((err: unknown) => ({ error: `tool versions unavailable: ${err instanceof Error ? err.message : String(err)}` }));
  const manifest = dataManifest(
    { service: 'postgresql', tier: o.tier, started, t0, keep: keep[o.tier], stored: { key, ...streamed } },
    {
      database: info.database,
      server_version: info.serverVersion,
      tables,
      source: info.host,
      tool_versions: versions,
      compression: `custom format, -Z${level}`,
    },
  );
  if (o.runner) manifest.runner = o.runner;
  const manifestKey = await commitManifest(o.store, manifest, log);
  const tCommitted = Date.now();
  // Pruning happens only after the new backup is committed, so a failed run never shrinks the tier.
  const pruned = await pruneAfterCommit(o, 'postgresql', keep[o.tier], log);
  const tEnd = Date.now();
  const phases: BackupPhases = {
    connect: tConnected - t0,
    dump: streamed.producerMs,
    counts: countsMs,
    upload_tail: streamed.uploadTailMs,
    commit: tCommitted - tDumped,
    prune: tEnd - tCommitted,
    total: tEnd - t0,
  };
  return { manifest, manifestKey, pruned, phases };
}

/** Pick a backup by `--file KEY` or `--from`. */
export async function selectBackup(store: ObjectStore, service: 'postgresql' | 'redis', from: string | undefined, file: string | undefined): Promise<Manifest> {
  if (file) {
    const dataK = file.replace(/\.metadata\.json$/, '');
    try {
      const m = await readManifest(store, dataK);
      if (m.service !== service) throw new FlagError(`--file ${file} is a ${m.service} backup, not ${service}`);
      return m;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new FlagError(`--file ${file}: no complete backup with that key (${err instanceof Error ? err.message : String(err)}); run 'dr backups list'`);
    }
  }
  const entry = resolveFrom(from ?? 'latest', await listBackups(store, { service }));
  return readManifest(store, entry.dataKey);
}

/**
 * Download an object to `file` while hashing; throws VerificationError when the sha256 or size differs from
 * the manifest. The caller removes the file.
 */
export async function downloadVerified(store: ObjectStore, manifest: Manifest, into: { dir: TempDir; name: string }, signal?: AbortSignal): Promise<void> {
  const counter = new HashCounter();
  const body = await store.get(manifest.key, { signal });
  await pipeline(body, counter, into.dir.writer(into.name), { signal });
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
  /** Where the download goes before anything touches the target. */
  temp: TempFiles;
  log?: Log;
  signal?: AbortSignal;
  /**
   * The safety backup before a forced restore into a non-empty database (safety.ts): on unless false
   * (`--no-safety-backup`, recorded in the result). Needs `tableTools` to check the archive it takes.
   */
  safetyBackup?: boolean;
  tableTools?: PgTableTools;
  clock?: Clock;
}

export interface PgRestoreResult {
  manifest: Manifest;
  target: string;
  forced: boolean;
  checksum: 'verified';
  tables: TableComparison[] | 'skipped';
  durationSeconds: number;
  /** A forced restore over existing tables: the safety backup taken first, or its recorded skip. */
  safetyBackup?: SafetyOutcome;
  /** Where the time went (ms): select + target checks, download + sha256, pg_restore, row counts. */
  phases?: Record<'prepare' | 'download' | 'pg_restore' | 'verify', number>;
}

export async function restorePostgres(o: PgRestoreOptions): Promise<PgRestoreResult> {
  const log = o.log ?? noop;
  const jobs = o.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new FlagError(`--jobs must be a whole number between 1 and 64, got ${jobs}`);
  const t0 = Date.now();
  const manifest = await selectBackup(o.store, 'postgresql', o.from, o.file);
  const target = await o.tools.inspect(o.targetUrl).catch((e: unknown) => unreachable(e, 'target database'));
  const existing = await o.tools.userTableCount(o.targetUrl);
  if (existing > 0 && !o.force) {
    throw new RefusedError(`target database ${target.database} on ${target.host} already has ${existing} table(s); refusing to restore over it (pass --force to drop and replace the objects in the backup)`);
  }
  const safety = existing > 0 ? await safetyBeforeForce(o, manifest) : undefined;
  const tPrepared = Date.now();
  let tDownloaded = tPrepared;
  log(`restoring ${manifest.key} (${manifest.size_readable}, taken ${manifest.timestamp}) into ${target.database} on ${target.host}`);
  const dir = await o.temp.dir('dr-restore-');
  const name = path.posix.basename(manifest.key);
  const file = dir.path(name);
  try {
    await downloadVerified(o.store, manifest, { dir, name }, o.signal);
    tDownloaded = Date.now();
    log(`checksum verified (${manifest.checksum})`);
    try {
      await o.tools.restore(o.targetUrl, file, { jobs, clean: existing > 0, signal: o.signal });
    } catch (err) {
      throw new OperationError(`pg_restore into ${target.database} failed: ${redact(err instanceof Error ? err.message : String(err))}`);
    }
  } finally {
    await dir.remove();
  }
  const tRestored = Date.now();
  let tables: TableComparison[] | 'skipped' = 'skipped';
  if (!o.skipVerify) {
    tables = compareCounts(manifest.tables ?? {}, await o.tools.tableCounts(o.targetUrl));
    const bad = tables.filter((t) => !t.ok);
    if (bad.length) {
      throw new VerificationError(`restored data does not match the manifest: ${bad.map((t) => `${t.table} expected ${t.expected} rows, found ${t.actual}`).join('; ')}`, { tables });
    }
    log(`row counts match the manifest for ${tables.length} table(s)`);
  }
  const tEnd = Date.now();
  const phases = { prepare: tPrepared - t0, download: tDownloaded - tPrepared, pg_restore: tRestored - tDownloaded, verify: tEnd - tRestored };
  return { manifest, target: `${target.host}/${target.database}`, forced: existing > 0, checksum: 'verified', tables, durationSeconds: (tEnd - t0) / 1000, safetyBackup: safety, phases };
}

/** The safety backup of the whole target before `--force` overwrites it (or the recorded `--no-safety-backup`). */
async function safetyBeforeForce(o: PgRestoreOptions, manifest: Manifest): Promise<SafetyOutcome> {
  if (o.safetyBackup === false) {
    (o.log ?? noop)('warning: --no-safety-backup: the tables this restore replaces are not backed up first');
    return skippedSafety();
  }
  if (!o.tableTools) throw new OperationError('internal: a forced restore needs tableTools for its safety backup');
  const before = `restore postgres --force of ${manifest.key}`;
  return safetyBackupPostgres({ url: o.targetUrl, store: o.store, tools: o.tools, tableTools: o.tableTools, temp: o.temp, clock: o.clock ?? systemClock, before, log: o.log, signal: o.signal });
}
