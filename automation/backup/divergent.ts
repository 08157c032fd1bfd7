/**
 * Divergent backups: before failback rewinds (pg_rewind) or rebuilds an old primary, what it holds is kept in the
 * survivor's bucket under `divergent/` (keys.ts), with a manifest whose `divergence` section says what differs
 * from the survivor and where it can be found. Failback goes on only when this returned (it throws otherwise).
 *
 * {@link backupDivergent} (the old primary answers SQL):
 *   1. `pg_dump -Fc` of the old primary's database in one exported snapshot, streamed and hashed into
 *      `divergent/backup_<stamp>.dump`, exact row counts in the same snapshot;
 *   2. the comparison with the survivor by primary key (divergence.ts, over the {@link DivergenceProbe});
 *   3. the manifest (type/tier `divergent`) with the split point, the old primary's WAL position, the failover id,
 *      per table the counts and keys of the differing rows, the transactions after the split;
 *   4. verification: the dump is downloaded and re-hashed, restored into a scratch database on the scratch server
 *      (row counts against the manifest), and every listed key is looked up in the restore and compared with the
 *      old primary's row; the scratch database is always dropped. The manifest then says `VERIFIED` — or
 *      `FAILED`, and a {@link VerificationError} stops the failback.
 *
 * {@link recordDivergentSnapshot} (AWS, the old primary is network-fenced or otherwise unreachable by SQL): the
 * RDS snapshot failback took is the divergent copy; a small pointer object `…rds-snapshot.json` and its manifest
 * (not compared, `reason`) record it in the bucket, so the survivor's bucket says where the writes are either way.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { DrError, errorSummary, OperationError, VerificationError } from '../core/errors';

/** Our own errors by their message; anything else (SDK, driver) as `Name: message`. */
const why = (err: unknown): string => (err instanceof DrError ? err.message : errorSummary(err));
import { redact } from '../core/redact';
import type { Clock } from '../core/clock';
import { readManifest, readText } from './catalog';
import { assertStoredSize, commitManifest, type Log } from './commit';
import {
  divergenceTotals,
  type Divergence,
  divergentTable,
  divergentTransactions,
  bucketCount,
  differingBuckets,
  diffRows,
  type DivergentTable,
  type FoundIn,
  listedKeys,
  type SplitPoint,
  type TableDiff,
  walBytesBetween,
  type WalCommit,
} from './divergence';
import { DIVERGENT_PREFIX, divergentKey, MANIFEST_SUFFIX, backupId, parseDivergentKey, stampOf } from './keys';
import { type Manifest, MANIFEST_FORMAT, sizeReadable } from './manifest';
import type { DivergenceProbe, ObjectStore, PgTools, ScratchDatabases, TempFiles } from './ports';
import { restorePostgres, streamToStore, unreachable, type Streamed } from './postgres';
import { withRestoreOutcome } from './restore-test';

const noop: Log = () => undefined;

/** Divergent backups are never pruned or expired: a person reconciles them, then deletes them. */
export const DIVERGENT_RETENTION = 'kept_until_deleted';
/** Scratch databases of the divergent backup's restore check. */
export const DIVERGENT_SCRATCH_PREFIX = 'dr_divergent_';

/** What the caller knows about the failover being undone. */
export interface DivergentContext {
  failoverId?: string;
  /** The old primary's region (the one failback returns to) and the survivor's. */
  oldRegion: string;
  survivorRegion: string;
  split: SplitPoint;
  /** pg_waldump's commit records on the old primary after the split (local), or why they could not be read. */
  commits?: WalCommit[] | { error: string };
  /** The RDS snapshot failback took of the old primary (AWS), recorded beside the dump. */
  snapshot?: string;
}

export interface DivergentBackupOptions {
  /** The old primary's database (a login that can read every table). */
  oldPrimaryUrl: string;
  /** The survivor's same database. */
  survivorUrl: string;
  /** Where the scratch database of the restore check is created (the survivor's server). */
  scratchServerUrl: string;
  store: ObjectStore;
  tools: PgTools;
  scratch: ScratchDatabases;
  probe: DivergenceProbe;
  temp: TempFiles;
  clock: Clock;
  context: DivergentContext;
  compressLevel?: number;
  log?: Log;
  signal?: AbortSignal;
}

export interface DivergentBackupResult {
  manifest: Manifest;
  manifestKey: string;
  durationSeconds: number;
  /** Where the time went (ms). */
  phases: Record<'dump' | 'compare' | 'verify' | 'total', number>;
}

/** pg_dump of the old primary in one snapshot, with the exact row counts of that snapshot. */
async function dumpInSnapshot(o: DivergentBackupOptions, key: string): Promise<{ streamed: Streamed; tables: Record<string, number> }> {
  const snap = await o.tools.openSnapshot(o.oldPrimaryUrl);
  try {
    const proc = o.tools.dump(o.oldPrimaryUrl, { compressLevel: o.compressLevel ?? 6, snapshotId: snap.snapshotId });
    const counting = snap.countTables();
    counting.catch(() => proc.kill());
    const [s, t] = await Promise.allSettled([streamToStore(proc, o.store, key, o.signal), counting]);
    if (s.status === 'rejected' || t.status === 'rejected') {
      await o.store.delete([key]).catch(() => undefined);
      throw s.status === 'rejected' ? s.reason : (t as PromiseRejectedResult).reason;
    }
    return { streamed: s.value, tables: t.value };
  } finally {
    await snap.close();
  }
}

/** Compare one table by primary key (bucket digests first, then the rows of the differing buckets only). */
async function compareTable(probe: DivergenceProbe, oldUrl: string, survivorUrl: string, t: { table: string; primaryKey: string[] }): Promise<{ rowsOld: number; rowsSurvivor: number | null; diff?: TableDiff; note?: string }> {
  const rowsOld = await probe.countRows(oldUrl, t.table);
  let rowsSurvivor: number;
  try {
    rowsSurvivor = await probe.countRows(survivorUrl, t.table);
  } catch (err) {
    return { rowsOld, rowsSurvivor: null, note: `not on the survivor (${redact(errorSummary(err))}): every row is only in this backup`, diff: undefined };
  }
  if (!t.primaryKey.length) return { rowsOld, rowsSurvivor, note: `no primary key: compared by row count only (${rowsOld} on the old primary, ${rowsSurvivor} on the survivor)` };
  const buckets = bucketCount(rowsOld, rowsSurvivor);
  const which = differingBuckets(await probe.bucketDigests(oldUrl, t.table, t.primaryKey, buckets), await probe.bucketDigests(survivorUrl, t.table, t.primaryKey, buckets));
  if (!which.length) return { rowsOld, rowsSurvivor, diff: { onlyOld: [], changed: [], onlySurvivor: 0 } };
  const [a, b] = await Promise.all([probe.bucketRows(oldUrl, t.table, t.primaryKey, buckets, which), probe.bucketRows(survivorUrl, t.table, t.primaryKey, buckets, which)]);
  return { rowsOld, rowsSurvivor, diff: diffRows(a, b) };
}

/**
 * Compare the old primary's database with the survivor's, table by table; `foundIn` names where each table's rows
 * are kept. Returns the section's tables and, per writing transaction (xmin), how many differing rows it wrote.
 */
export async function compareDatabases(probe: DivergenceProbe, oldUrl: string, survivorUrl: string, foundIn: (table: string) => FoundIn, log: Log = noop): Promise<{ tables: DivergentTable[]; xminRows: Map<string, number> }> {
  const tables: DivergentTable[] = [];
  const xminRows = new Map<string, number>();
  for (const t of await probe.tables(oldUrl)) {
    const r = await compareTable(probe, oldUrl, survivorUrl, t);
    for (const row of [...(r.diff?.onlyOld ?? []), ...(r.diff?.changed ?? [])]) if (row.xmin) xminRows.set(row.xmin, (xminRows.get(row.xmin) ?? 0) + 1);
    const entry = divergentTable({ table: t.table, primaryKey: t.primaryKey, ...r }, foundIn(t.table));
    if (entry.only_on_old_primary + entry.changed > 0 || entry.note) log(`  ${t.table}: ${entry.only_on_old_primary} row(s) only on the old primary, ${entry.changed} changed, ${entry.only_on_survivor} only on the survivor${entry.note ? ` (${entry.note})` : ''}`);
    tables.push(entry);
  }
  return { tables, xminRows };
}

/** The manifest of a divergent backup (UNVERIFIED until {@link verifyDivergent} passed). */
function divergentManifest(b: { started: Date; t0: number; key: string; stored: { bytes: number; sha256: string } }, details: Pick<Manifest, 'database' | 'server_version' | 'source' | 'tool_versions' | 'divergence'> & Partial<Pick<Manifest, 'tables' | 'snapshot' | 'compression'>>): Manifest {
  return {
    format: MANIFEST_FORMAT,
    backup_id: backupId(b.started),
    type: 'divergent',
    service: 'postgresql',
    tier: 'divergent',
    timestamp: b.started.toISOString(),
    key: b.key,
    size_bytes: b.stored.bytes,
    size_readable: sizeReadable(b.stored.bytes),
    duration_seconds: Math.round((Date.now() - b.t0) / 10) / 100,
    files: [path.posix.basename(b.key)],
    checksum: `sha256:${b.stored.sha256}`,
    ...details,
    verified: true,
    retention: DIVERGENT_RETENTION,
    restorability: 'UNVERIFIED',
  };
}

/**
 * The restore check: restore the dump into a scratch database (checksum, row counts against the manifest), then
 * every listed key must be there with the old primary's row. The scratch database is always dropped.
 */
async function verifyDivergent(o: DivergentBackupOptions, manifest: Manifest, log: Log): Promise<{ target: string; tables: number; keys: number }> {
  const name = `${DIVERGENT_SCRATCH_PREFIX}${stampOf(o.clock.now())}`;
  const scratchUrl = await o.scratch.createDatabase(o.scratchServerUrl, name).catch((e: unknown) => unreachable(e, 'scratch server'));
  try {
    const r = await restorePostgres({ store: o.store, tools: o.tools, targetUrl: scratchUrl, file: manifest.key, jobs: 2, temp: o.temp, log, signal: o.signal });
    let keys = 0;
    for (const t of manifest.divergence?.tables ?? []) {
      const want = listedKeys(t);
      if (!want.length) continue;
      const [restored, old] = await Promise.all([o.probe.rowsByKey(scratchUrl, t.table, t.primary_key, want), o.probe.rowsByKey(o.oldPrimaryUrl, t.table, t.primary_key, want)]);
      const got = new Map(restored.map((x) => [x.key, x.digest]));
      const bad = [...want.filter((k) => !got.has(k)), ...old.filter((x) => got.has(x.key) && got.get(x.key) !== x.digest).map((x) => x.key)];
      if (bad.length) throw new VerificationError(`the restored divergent backup lacks ${bad.length} of the ${want.length} listed row(s) of ${t.table} as the old primary has them (first: ${bad[0]})`);
      keys += want.length;
    }
    log(`restore check: ${r.target}, checksum verified, ${r.tables === 'skipped' ? 0 : r.tables.length} table(s) match the manifest, ${keys} listed row(s) found with the old primary's content`);
    return { target: r.target, tables: r.tables === 'skipped' ? 0 : r.tables.length, keys };
  } finally {
    await o.scratch.dropDatabase(o.scratchServerUrl, name).catch((e: unknown) => log(`could not drop scratch database ${name}: ${redact(errorSummary(e))}`));
  }
}

/** The `divergence` section for a compared old primary. */
function comparedDivergence(o: DivergentBackupOptions, source: string, survivorSource: string, position: { lsn: string; timeline: number } | undefined, cmp: { tables: DivergentTable[]; xminRows: Map<string, number> }): Divergence {
  const c = o.context;
  const after = position && c.split.lsn ? walBytesBetween(c.split.lsn, position.lsn) : undefined;
  const transactions = divergentTransactions(cmp.xminRows, c.commits);
  return {
    ...(c.failoverId ? { failover_id: c.failoverId } : {}),
    split: c.split,
    old_primary: { region: c.oldRegion, source, ...(position ? { wal_lsn: position.lsn, timeline: position.timeline } : {}), ...(after !== undefined ? { wal_after_split_bytes: Math.max(0, after) } : {}), ...(c.snapshot ? { snapshot: c.snapshot } : {}) },
    survivor: { region: c.survivorRegion, source: survivorSource },
    compared: true,
    compared_at: o.clock.now().toISOString(),
    ...divergenceTotals(cmp.tables),
    tables: cmp.tables,
    ...(transactions ? { transactions } : {}),
  };
}

/** Back up, compare, record and verify an old primary before failback rewinds or rebuilds it (see the header). */
export async function backupDivergent(o: DivergentBackupOptions): Promise<DivergentBackupResult> {
  const log = o.log ?? noop;
  const t0 = Date.now();
  const info = await o.tools.inspect(o.oldPrimaryUrl).catch((e: unknown) => unreachable(e, 'old primary'));
  const survivor = await o.tools.inspect(o.survivorUrl).catch((e: unknown) => unreachable(e, 'survivor'));
  const versionsP = o.tools.versions();
  versionsP.catch(() => undefined);
  const started = o.clock.now();
  const key = divergentKey(started);
  log(`divergent backup of ${info.database} on the old primary ${info.host} to ${o.store.location}/${key}`);
  let dumped: Awaited<ReturnType<typeof dumpInSnapshot>>;
  try {
    dumped = await dumpInSnapshot(o, key);
  } catch (err) {
    throw new OperationError(`the divergent backup of the old primary failed (nothing was recorded): ${redact(why(err))}`, undefined, { cause: err });
  }
  await assertStoredSize(o.store, { key, ...dumped.streamed }, 'upload');
  const tDumped = Date.now();
  const position = await o.probe.walPosition(o.oldPrimaryUrl).catch(() => undefined);
  const cmp = await compareDatabases(o.probe, o.oldPrimaryUrl, o.survivorUrl, (table) => ({ key, table }), log);
  const divergence = comparedDivergence(o, `${info.host}/${info.database}`, `${survivor.host}/${survivor.database}`, position, cmp);
  const versions = await versionsP.catch((err: unknown) => ({ error: `tool versions unavailable: ${errorSummary(err)}` }));
  let manifest = divergentManifest(
    { started, t0, key, stored: dumped.streamed },
    { database: info.database, server_version: info.serverVersion, tables: dumped.tables, source: info.host, tool_versions: versions, compression: `custom format, -Z${o.compressLevel ?? 6}`, divergence, ...(o.context.snapshot ? { snapshot: o.context.snapshot } : {}) },
  );
  const manifestKey = await commitManifest(o.store, manifest, log);
  const tCompared = Date.now();
  try {
    const v = await verifyDivergent(o, manifest, log);
    manifest = withRestoreOutcome(manifest, { at: o.clock.now(), ok: true, target: v.target, durationSeconds: (Date.now() - tCompared) / 1000, tablesCompared: v.tables });
  } catch (err) {
    const message = redact(why(err));
    manifest = withRestoreOutcome(manifest, { at: o.clock.now(), ok: false, target: 'scratch database', durationSeconds: (Date.now() - tCompared) / 1000, error: message });
    await o.store.put(manifestKey, JSON.stringify(manifest, null, 2) + '\n', 'application/json').catch(() => undefined);
    throw new VerificationError(`the divergent backup ${key} did not verify: ${message}`, { key });
  }
  await o.store.put(manifestKey, JSON.stringify(manifest, null, 2) + '\n', 'application/json');
  const tEnd = Date.now();
  return { manifest, manifestKey, durationSeconds: (tEnd - t0) / 1000, phases: { dump: tDumped - t0, compare: tCompared - tDumped, verify: tEnd - tCompared, total: tEnd - t0 } };
}

export interface DivergentSnapshotOptions {
  store: ObjectStore;
  clock: Clock;
  context: DivergentContext & { snapshot: string };
  /** The old primary instance and its region (`rds:<region>/<instance>`). */
  dbIdentifier: string;
  /** Why the old primary was not compared (it did not answer SQL, …). */
  reason: string;
  log?: Log;
}

/** Record the RDS snapshot as the divergent copy (not compared): a pointer object and its manifest, re-read and verified. */
export async function recordDivergentSnapshot(o: DivergentSnapshotOptions): Promise<DivergentBackupResult> {
  const log = o.log ?? noop;
  const t0 = Date.now();
  const c = o.context;
  const started = o.clock.now();
  const key = divergentKey(started, 'snapshot');
  const source = `rds:${c.oldRegion}/${o.dbIdentifier}`;
  const pointer = {
    kind: 'rds-snapshot',
    snapshot: c.snapshot,
    region: c.oldRegion,
    db_instance: o.dbIdentifier,
    ...(c.failoverId ? { failover_id: c.failoverId } : {}),
    how_to_read: `restore it into a scratch instance (RestoreDBInstanceFromDBSnapshot ${c.snapshot} in ${c.oldRegion}) and compare it with the survivor by primary key`,
  };
  const body = Buffer.from(JSON.stringify(pointer, null, 2) + '\n');
  const sha256 = createHash('sha256').update(body).digest('hex');
  await o.store.put(key, body, 'application/json');
  const back = Buffer.from(await readText(await o.store.get(key)));
  if (createHash('sha256').update(back).digest('hex') !== sha256) throw new VerificationError(`${o.store.location}/${key} does not read back as written; nothing was rebuilt`, { key });
  const divergence: Divergence = {
    ...(c.failoverId ? { failover_id: c.failoverId } : {}),
    split: c.split,
    old_primary: { region: c.oldRegion, source, snapshot: c.snapshot },
    survivor: { region: c.survivorRegion, source: `rds:${c.survivorRegion}` },
    compared: false,
    reason: o.reason,
    rows_differ: null,
    rows_only_on_survivor: null,
    tables: [],
  };
  const manifest = divergentManifest({ started, t0, key, stored: { bytes: body.length, sha256 } }, { database: o.dbIdentifier, server_version: 'unknown (not reachable by SQL)', source, tool_versions: {}, snapshot: c.snapshot, divergence });
  const manifestKey = await commitManifest(o.store, manifest, log);
  const total = Date.now() - t0;
  return { manifest, manifestKey, durationSeconds: total / 1000, phases: { dump: 0, compare: 0, verify: 0, total } };
}

/** The newest divergent manifest in the store that `match` accepts (rerun check), or undefined. */
export async function findDivergent(store: ObjectStore, match: (m: Manifest) => boolean): Promise<{ manifest: Manifest; manifestKey: string } | undefined> {
  const keys = (await store.list(DIVERGENT_PREFIX)).map((x) => x.key).filter((k) => k.endsWith(MANIFEST_SUFFIX) && parseDivergentKey(k));
  for (const k of keys.sort().reverse()) {
    const m = await readManifest(store, k).catch(() => undefined);
    if (m && match(m)) return { manifest: m, manifestKey: k };
  }
  return undefined;
}

/** What failback's output, JSON and the drill report say about the divergent backup. */
export interface DivergentSummary {
  backup_id: string;
  /** `s3://bucket`. */
  location: string;
  key: string;
  manifest_key: string;
  /** `dump`: a pg_dump in the bucket; `rds-snapshot`: the data is in the RDS snapshot, the bucket holds a pointer. */
  kind: 'dump' | 'rds-snapshot';
  snapshot?: string;
  restorability: Manifest['restorability'];
  compared: boolean;
  reason?: string;
  rows_differ: number | null;
  rows_only_on_survivor: number | null;
  /** Tables with differing rows (or a note). */
  tables: Array<{ table: string; only_on_old_primary: number; changed: number; note?: string }>;
  split: SplitPoint;
  wal_after_split_bytes?: number;
  transactions?: number;
  duration_seconds: number;
}

export function divergentSummary(r: Pick<DivergentBackupResult, 'manifest' | 'manifestKey' | 'durationSeconds'>, location: string): DivergentSummary {
  const m = r.manifest;
  const d = m.divergence;
  return {
    backup_id: m.backup_id,
    location,
    key: m.key,
    manifest_key: r.manifestKey,
    kind: parseDivergentKey(m.key)?.form === 'snapshot' ? 'rds-snapshot' : 'dump',
    ...(m.snapshot ? { snapshot: m.snapshot } : {}),
    restorability: m.restorability,
    compared: d?.compared ?? false,
    ...(d?.reason ? { reason: d.reason } : {}),
    rows_differ: d?.rows_differ ?? null,
    rows_only_on_survivor: d?.rows_only_on_survivor ?? null,
    tables: (d?.tables ?? []).filter((t) => t.only_on_old_primary + t.changed > 0 || t.note).map((t) => ({ table: t.table, only_on_old_primary: t.only_on_old_primary, changed: t.changed, ...(t.note ? { note: t.note } : {}) })),
    split: d?.split ?? { source: 'unknown' },
    ...(d?.old_primary.wal_after_split_bytes !== undefined ? { wal_after_split_bytes: d.old_primary.wal_after_split_bytes } : {}),
    ...(d?.transactions ? { transactions: d.transactions.count } : {}),
    duration_seconds: Math.round(r.durationSeconds * 100) / 100,
  };
}

/** One line for people: how many rows differ, per table, and where they are kept. */
export function describeDivergent(s: DivergentSummary): string {
  const where = s.kind === 'dump' ? `${s.location}/${s.key}` : `RDS snapshot ${s.snapshot} (pointer ${s.location}/${s.key})`;
  if (!s.compared) return `old primary not compared (${s.reason ?? 'not reachable'}): its writes after the split are kept in ${where}`;
  const per = s.tables.filter((t) => t.only_on_old_primary + t.changed > 0).map((t) => `${t.table} ${t.only_on_old_primary + t.changed}`);
  const facts = [s.wal_after_split_bytes !== undefined ? `${s.wal_after_split_bytes} bytes of WAL` : '', s.transactions !== undefined ? `${s.transactions} transaction(s)` : ''].filter(Boolean);
  const split = s.split.lsn ? ` after the split at ${s.split.lsn}${facts.length ? ` (${facts.join(', ')})` : ''}` : '';
  return `${s.rows_differ} row(s) of the old primary differ from the survivor${per.length ? ` (${per.join(', ')})` : ''}${split}; kept in ${where} (${s.restorability.toLowerCase()})`;
}
