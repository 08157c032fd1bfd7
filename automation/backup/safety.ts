/**
 * Safety backups: before a restore overwrites data — a selective restore (`dr restore postgres --table`), a full
 * restore with `--force` into a non-empty database, `dr restore redis --force` into a non-empty Redis — the
 * target's current data is backed up into the bucket under `safety/<service>/backup_<stamp>.<ext>`, with its
 * manifest, as the seeds keep their `pre-restore-*` copies. The backup is verified before the restore goes on: the
 * stored object is read back and its sha256 and size compared, and a PostgreSQL archive's table of contents must
 * hold the data of every table it was taken for. A failure stops the restore with nothing changed; skipping the
 * backup takes an explicit `--no-safety-backup`, and the skip is recorded in the result.
 *
 * A safety backup of some tables holds the whole schema and the data of only those tables, so it restores on its
 * own (into an empty database, or with `dr restore postgres --table … --file safety/postgresql/…`). The bucket's
 * lifecycle rule keeps safety backups 30 days (lib/lifecycle.ts `SAFETY_RETENTION_DAYS`).
 */
import * as path from 'node:path';
import { SAFETY_RETENTION_DAYS } from '../../lib/lifecycle';
import type { Clock } from '../core/clock';
import { OperationError, VerificationError } from '../core/errors';
import { redact } from '../core/redact';
import { assertStoredSize, commitManifest, dataManifest } from './commit';
import { safetyKey } from './keys';
import type { Manifest } from './manifest';
import type { ObjectStore, PgTableTools, PgTools, RedisTools, TableInfo, TempFiles } from './ports';
import type { Log } from './commit';
import { downloadVerified, KEY_SAMPLE_SIZE, streamToStore, unreachable } from './transfer';

const noop: Log = () => undefined;

/** A verified safety backup. */
export interface SafetyBackup {
  taken: true;
  key: string;
  manifest_key: string;
  checksum: string;
  size_bytes: number;
  /** PostgreSQL: rows per table in the archive (counted in the dump's snapshot). */
  tables?: Record<string, number>;
  /** Redis: keys when the backup started. */
  keys?: number;
  /** Read back from the bucket and compared (sha256, size, and the archive's contents). */
  verified: true;
  duration_seconds: number;
}

/** What happened about the safety backup of a restore that overwrites data. */
export type SafetyOutcome = SafetyBackup | { taken: false; skipped: '--no-safety-backup'; reason: string };

/** The recorded skip (`--no-safety-backup`). */
export function skippedSafety(): SafetyOutcome {
  return { taken: false, skipped: '--no-safety-backup', reason: 'the operator passed --no-safety-backup: no copy of the data this restore overwrote was kept' };
}

export interface PgSafetyOptions {
  url: string;
  store: ObjectStore;
  tools: PgTools;
  tableTools: PgTableTools;
  temp: TempFiles;
  clock: Clock;
  /** The tables whose data to keep (the whole schema is always kept); absent = the whole database. */
  tables?: readonly TableInfo[];
  /** What is about to overwrite the data (recorded in the manifest). */
  before: string;
  log?: Log;
  signal?: AbortSignal;
}

function failed(what: string, err: unknown): OperationError {
  const msg = redact(err instanceof Error ? err.message : String(err));
  return new OperationError(`the safety backup of ${what} failed, so nothing was restored (pass --no-safety-backup to restore without one; the skip is recorded): ${msg}`, undefined, { cause: err });
}

/** Read the stored object back (sha256 + size), and optionally look inside the downloaded copy. */
async function readBack(store: ObjectStore, temp: TempFiles, manifest: Manifest, inspect?: (file: string) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const dir = await temp.dir('dr-safety-');
  try {
    const name = path.posix.basename(manifest.key);
    await downloadVerified(store, manifest, { dir, name }, signal);
    if (inspect) await inspect(dir.path(name));
  } finally {
    await dir.remove();
  }
}

/** A verified safety backup of a PostgreSQL database (or of some of its tables) under `safety/postgresql/`. */
export async function safetyBackupPostgres(o: PgSafetyOptions): Promise<SafetyBackup> {
  const log = o.log ?? noop;
  const t0 = Date.now();
  const info = await o.tools.inspect(o.url).catch((e: unknown) => unreachable(e, 'target database'));
  const what = `${info.host}/${info.database}`;
  const started = o.clock.now();
  const key = safetyKey('postgresql', started);
  // A partitioned table's rows live in its partitions: dump and count them too.
  const names = o.tables?.flatMap((t) => [t.name, ...t.partitions.map((p) => p.name)]);
  log(`safety backup of ${names ? names.join(', ') : 'every table'} in ${what} to ${o.store.location}/${key}`);
  let manifest: Manifest;
  try {
    const snap = await o.tools.openSnapshot(o.url);
    let tables: Record<string, number>;
    let streamed;
    try {
      const proc = names
        ? o.tableTools.dumpTables(o.url, { tables: names, compressLevel: 6, snapshotId: snap.snapshotId })
        : o.tools.dump(o.url, { compressLevel: 6, snapshotId: snap.snapshotId });
      const counting = names ? o.tableTools.countRows(o.url, names, snap.snapshotId) : snap.countTables();
      counting.catch(() => proc.kill());
      [streamed, tables] = await Promise.all([streamToStore(proc, o.store, key, o.signal), counting]);
    } finally {
      await snap.close();
    }
    await assertStoredSize(o.store, { key, ...streamed }, 'upload');
    manifest = dataManifest(
      { service: 'postgresql', tier: 'safety', started, t0, keep: SAFETY_RETENTION_DAYS, stored: { key, ...streamed } },
      {
        database: info.database,
        server_version: info.serverVersion,
        tables,
        source: info.host,
        tool_versions: await o.tools.versions(),
        compression: 'custom format, -Z6',
        safety: { before: o.before, target: what, ...(names ? { tables: names } : {}) },
      },
    );
    await readBack(o.store, o.temp, manifest, (file) => checkArchive(o.tableTools, file, o.tables, o.signal), o.signal);
  } catch (err) {
    await o.store.delete([key]).catch(() => undefined);
    throw failed(what, err);
  }
  const manifestKey = await commitManifest(o.store, manifest, log);
  log(`safety backup verified: ${key} (${manifest.size_readable}, ${manifest.checksum})`);
  return { taken: true, key, manifest_key: manifestKey, checksum: manifest.checksum, size_bytes: manifest.size_bytes, tables: manifest.tables, verified: true, duration_seconds: (Date.now() - t0) / 1000 };
}

/**
 * The archive must be readable by pg_restore and, for a backup of some tables, hold the data of each (of each leaf
 * partition for a partitioned table, whose own rows live there).
 */
async function checkArchive(tools: PgTableTools, file: string, tables: readonly TableInfo[] | undefined, signal?: AbortSignal): Promise<void> {
  const entries = await tools.archiveEntries(file, signal);
  if (!entries.length) throw new VerificationError('the safety archive has an empty table of contents');
  const data = new Set(entries.filter((e) => e.desc === 'TABLE DATA').map((e) => `${e.schema}\u0000${e.name}`));
  const want = (tables ?? []).flatMap((t) => (t.partitioned ? t.partitions : [t]));
  const missing = want.filter((t) => !data.has(`${t.schema}\u0000${t.table}`)).map((t) => t.name);
  if (missing.length) throw new VerificationError(`the safety archive has no data for ${missing.join(', ')}`);
}

export interface RedisSafetyOptions {
  url: string;
  store: ObjectStore;
  tools: RedisTools;
  temp: TempFiles;
  clock: Clock;
  before: string;
  log?: Log;
  signal?: AbortSignal;
}

/** A verified safety backup of a Redis (`redis-cli --rdb`) under `safety/redis/`. */
export async function safetyBackupRedis(o: RedisSafetyOptions): Promise<SafetyBackup> {
  const log = o.log ?? noop;
  const t0 = Date.now();
  const info = await o.tools.inspect(o.url).catch((e: unknown) => unreachable(e, 'target redis'));
  const started = o.clock.now();
  const key = safetyKey('redis', started);
  log(`safety backup of ${info.host} (${info.keys} keys) to ${o.store.location}/${key}`);
  let manifest: Manifest;
  try {
    const sample = await o.tools.sampleKeys(o.url, KEY_SAMPLE_SIZE);
    const streamed = await streamToStore(o.tools.rdb(o.url), o.store, key, o.signal);
    await assertStoredSize(o.store, { key, ...streamed }, 'upload');
    manifest = dataManifest(
      { service: 'redis', tier: 'safety', started, t0, keep: SAFETY_RETENTION_DAYS, stored: { key, ...streamed } },
      { database: '0', server_version: info.version, keys: info.keys, key_sample: sample, source: info.host, tool_versions: await o.tools.versions(), safety: { before: o.before, target: info.host } },
    );
    await readBack(o.store, o.temp, manifest, undefined, o.signal);
  } catch (err) {
    await o.store.delete([key]).catch(() => undefined);
    throw failed(info.host, err);
  }
  const manifestKey = await commitManifest(o.store, manifest, log);
  log(`safety backup verified: ${key} (${manifest.size_readable}, ${manifest.checksum})`);
  return { taken: true, key, manifest_key: manifestKey, checksum: manifest.checksum, size_bytes: manifest.size_bytes, keys: info.keys, verified: true, duration_seconds: (Date.now() - t0) / 1000 };
}
