/**
 * The small interfaces ("ports") the backup engine talks to. The engine never imports the AWS SDK and never
 * spawns a process: object storage, PostgreSQL/Redis tools, snapshots, metrics and notifications all go through
 * one of these.
 *
 * Implementations:
 * - object storage: `adapters/aws/s3-store.ts` (S3, or any S3-compatible endpoint via AWS_ENDPOINT_URL_S3,
 *   which is how the tests and the local rehearsal use s3rver).
 * - PostgreSQL: `adapters/tools/pg-tools.ts` (pg_dump / pg_restore binaries + the `pg` driver).
 * - Redis: `adapters/tools/redis-tools.ts` (redis-cli --rdb, a temporary redis-server, ioredis).
 * - snapshots, metrics, notifier: `adapters/aws/{snapshots,metrics,notifier}.ts` (AWS only; absent locally).
 */
import type { Readable, Writable } from 'node:stream';
import type { BackupService, BackupTier } from '../../lib/lifecycle';
import type { BucketDigest, RowDigest } from './divergence';

export type { BackupService, BackupTier };

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
}

export interface ObjectStore {
  /** Human name for messages, e.g. `s3://bucket`. */
  readonly location: string;
  /**
   * Stream `body` into `key` (multipart). Resolves once the object is complete. On any failure — including the
   * body stream erroring — the upload is aborted and no object (or partial object) is left under `key`.
   */
  upload(key: string, body: Readable, opts?: { contentType?: string; signal?: AbortSignal }): Promise<void>;
  /** Small whole-object write (manifests). */
  put(key: string, body: string | Buffer, contentType: string): Promise<void>;
  /** Stream an object's content. Rejects with {@link NotFoundError} when it does not exist. */
  get(key: string, opts?: { signal?: AbortSignal }): Promise<Readable>;
  /** Object metadata, or undefined when absent. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object under a prefix (all pages). */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Delete objects (missing ones are not an error). */
  delete(keys: readonly string[]): Promise<void>;
}

/** A running producer process (pg_dump, redis-cli --rdb): its stdout, and a promise for its outcome. */
export interface DumpProcess {
  stdout: Readable;
  /** Resolves when the producer exited successfully; rejects (with its stderr tail) otherwise. */
  done: Promise<void>;
  /** Stop the producer (used when the upload side fails). */
  kill(): void;
}

/** A running consumer process (pg_restore reading stdin): its stdin, and a promise for its outcome. */
export interface RestoreProcess {
  stdin: Writable;
  /** Resolves when it exited successfully; rejects (with its stderr tail) otherwise. */
  done: Promise<void>;
  /** Stop it (the stream feeding it failed). */
  kill(): void;
}

export interface PgServerInfo {
  /** `server_version` setting, e.g. `15.8 (Debian 15.8-1)`. */
  serverVersion: string;
  serverVersionNum: number;
  database: string;
  /** host:port, never credentials. */
  host: string;
}

/** An open REPEATABLE READ transaction whose snapshot pg_dump can share (`pg_dump --snapshot`). */
export interface PgSnapshotSession {
  snapshotId: string;
  /**
   * Exact row counts of every user table in that snapshot (`schema.table` → rows). Callable while pg_dump runs
   * on the same snapshot, so counting overlaps the dump instead of delaying it.
   */
  countTables(): Promise<Record<string, number>>;
  /** Cancel a running countTables() (the dump failed: do not wait for counts nobody needs). */
  cancel?(): Promise<void>;
  close(): Promise<void>;
}

export interface PgTools {
  /** Tool versions for the manifest, e.g. `{ pg_dump: 'pg_dump (PostgreSQL) 15.8' }`. */
  versions(): Promise<Record<string, string>>;
  /** Connect and read server facts. Rejects with {@link UnreachableError} when the server cannot be reached. */
  inspect(url: string): Promise<PgServerInfo>;
  /** Begin a REPEATABLE READ transaction, export its snapshot and count rows in it. */
  openSnapshot(url: string): Promise<PgSnapshotSession>;
  /** Start `pg_dump -Fc -Z<level>` to stdout, optionally inside an exported snapshot. */
  dump(url: string, opts: { compressLevel: number; snapshotId?: string }): DumpProcess;
  /** `pg_restore --no-owner -j N [--clean --if-exists]` from a local file into the target database. */
  restore(url: string, file: string, opts: { jobs: number; clean: boolean; signal?: AbortSignal }): Promise<void>;
  /**
   * `pg_restore --no-owner` (one job) reading the archive from its standard input: what the restore test streams a
   * backup into (backup/stream-restore.ts). Optional: without it the restore test downloads to local storage first.
   */
  restoreStream?(url: string, opts: { clean: boolean; signal?: AbortSignal }): RestoreProcess;
  /** Exact row counts of every user table (`schema.table` → rows). */
  tableCounts(url: string): Promise<Record<string, number>>;
  /** Number of user tables (0 means an empty target). */
  userTableCount(url: string): Promise<number>;
  /** Run a trivial query (`SELECT 1`); resolves with the round trip in ms. */
  ping(url: string): Promise<number>;
  /** Replication lag of a standby relative to its primary. */
  replicaLag(primaryUrl: string, replicaUrl: string): Promise<{ inRecovery: boolean; lagBytes: number; lagSeconds: number }>;
}

/**
 * Scratch databases for restore tests: created on a server the caller names, always dropped afterwards.
 * Implemented by `adapters/tools/pg-tools.ts` (plain SQL over the `pg` driver; works against RDS too).
 */
export interface ScratchDatabases {
  /** `CREATE DATABASE name` on the server `serverUrl` points at; resolves with a URL for it (same credentials). */
  createDatabase(serverUrl: string, name: string): Promise<string>;
  /** `DROP DATABASE IF EXISTS name WITH (FORCE)`. */
  dropDatabase(serverUrl: string, name: string): Promise<void>;
  /** Names of databases on that server starting with `prefix`. */
  listDatabases(serverUrl: string, prefix: string): Promise<string[]>;
}

export interface RedisInfo {
  version: string;
  keys: number;
  host: string;
}

/** A temporary redis-server loaded from an RDB file. */
export interface TempRedis {
  url: string;
  stop(): Promise<void>;
}

export interface RedisTools {
  versions(): Promise<Record<string, string>>;
  /** PING, version, DBSIZE. Rejects with {@link UnreachableError} when unreachable. */
  inspect(url: string): Promise<RedisInfo>;
  /** Start `redis-cli --rdb -` against the server (an RDB stream on stdout). */
  rdb(url: string): DumpProcess;
  /** Up to `n` key names (SCAN), sorted. */
  sampleKeys(url: string, n: number): Promise<string[]>;
  /** A canonical, type-aware rendering of each key's value plus whether it has a TTL (`null` = key absent). */
  fingerprint(url: string, keys: readonly string[]): Promise<Record<string, string | null>>;
  /** Start a throw-away redis-server on a free port that loads `rdbFile`. */
  loadRdb(rdbFile: string): Promise<TempRedis>;
  /** Copy every key (SCAN + DUMP/PTTL → RESTORE [REPLACE]), pipelined. Returns the number copied. */
  copyAll(fromUrl: string, toUrl: string, opts: { replace: boolean }): Promise<number>;
  ping(url: string): Promise<number>;
}

/** RDS manual snapshots (AWS only). */
export interface DbSnapshots {
  /** CreateDBSnapshot for `tier`, wait available, copy to the peer region; returns identifiers created. */
  createAndCopy(tier: BackupTier, stamp: string, log?: (line: string) => void): Promise<{ snapshotId: string; copyId?: string }>;
  /** Delete this job's manual snapshots of `tier` beyond the newest `keep` (both regions); returns deleted ids. */
  prune(tier: BackupTier, keep: number, log?: (line: string) => void): Promise<string[]>;
}

/** ElastiCache snapshots (AWS only). */
export interface CacheSnapshots {
  create(tier: BackupTier, stamp: string, log?: (line: string) => void): Promise<{ snapshotName: string }>;
  prune(tier: BackupTier, keep: number, log?: (line: string) => void): Promise<string[]>;
}

/**
 * ElastiCache snapshot export (AWS only): the portable RDB copy when the cache refuses SYNC. Implemented by
 * `adapters/aws/snapshots.ts` (CopySnapshot with TargetBucket, bounded polling).
 */
export interface CacheExporter {
  /**
   * Wait until `snapshotName` is available, export it into the backup bucket under `prefix`, wait until the
   * export finished, and resolve with the key of the single exported RDB object.
   */
  exportSnapshot(snapshotName: string, prefix: string, log?: (line: string) => void): Promise<{ key: string }>;
}

export interface BackupMetric {
  service: BackupService;
  tier: BackupTier;
  /** Outcome of this run (only for the tier that ran; other tiers publish their age only). */
  success?: boolean;
  /** Age of the newest complete backup of (service, tier), seconds. */
  ageSeconds?: number;
  sizeBytes?: number;
}

/**
 * The restore-test metrics (lib/backup-metrics.ts: `RestoreTestSuccess`, `RestoreTestAgeSeconds`), dimension
 * Service only. `success` is sent by restore-test runs only; `ageSeconds` (age of the newest successful restore
 * test) by every PostgreSQL backup run and restore-test run, and only when such a test exists.
 */
export interface RestoreTestMetric {
  kind: 'restore-test';
  service: 'postgresql';
  success?: boolean;
  ageSeconds?: number;
}

/** Anything the engine publishes: per-(service, tier) backup metrics, or restore-test metrics. */
export type PublishedMetric = BackupMetric | RestoreTestMetric;

export interface Metrics {
  publish(metrics: readonly PublishedMetric[]): Promise<void>;
}

export interface Notifier {
  notify(subject: string, message: string): Promise<void>;
}

/**
 * Scratch files for a restore: the backup is downloaded (and hashed) here before anything touches the target.
 * Implemented by `adapters/tools/temp-files.ts` (a private 0700 directory under the OS temp dir or a given one).
 */
export interface TempFiles {
  /** A new private directory; everything in it goes with {@link TempDir.remove}. */
  dir(prefix: string): Promise<TempDir>;
}

export interface TempDir {
  /** Path of `name` inside the directory (what a tool such as pg_restore reads). */
  path(name: string): string;
  /** A stream creating `name` (mode 0600). */
  writer(name: string): Writable;
  /** Remove the directory and everything in it (never throws for a missing one). */
  remove(): Promise<void>;
}

/** GET a health URL; resolves with the HTTP status (rejects on network error). */
export type HealthProbe = (url: string, signal?: AbortSignal) => Promise<number>;

// ---------------------------------------------------------------------------------------------
// Selective restore and safety backups (selective.ts, safety.ts)
// ---------------------------------------------------------------------------------------------

/** One column of a table, from the catalog. */
export interface ColumnInfo {
  name: string;
  /** `format_type` of the column, e.g. `bigint`, `text[]`, `public.mood`. */
  type: string;
  /** A generated (stored) column: never inserted. */
  generated: boolean;
}

/** A foreign key in which a table takes part (as the referencing or the referenced side). */
export interface ForeignKeyInfo {
  /** Constraint name. */
  name: string;
  /** The referencing table (canonical `schema.table`) and its columns. */
  table: string;
  columns: string[];
  /** The referenced table (canonical) and its columns, in the same order. */
  references: string;
  referencedColumns: string[];
  /** False for a `NOT VALID` constraint (existing rows were never checked). */
  validated: boolean;
}

/** A table as the selective restore sees it in one database's catalog. */
export interface TableInfo {
  /** Canonical `schema.table` (each part through quote_ident): the key of a manifest's `tables`. */
  name: string;
  /** The raw schema and table names (as pg_restore's TOC lists them). */
  schema: string;
  table: string;
  /** A partitioned table: its rows live in {@link TableInfo.partitions}. */
  partitioned: boolean;
  /** Leaf partitions of a partitioned table (raw schema and name, canonical name). */
  partitions: Array<{ schema: string; table: string; name: string }>;
  /** A plain table that other tables inherit from (legacy inheritance, not partitioning). */
  hasInheritanceChildren: boolean;
  columns: ColumnInfo[];
  /** Primary-key columns in key order; empty when the table has no primary key. */
  primaryKey: string[];
  /** Sequences feeding columns (serial, identity, or a `nextval` default), canonical sequence names. */
  sequences: Array<{ sequence: string; column: string }>;
  /** Enabled triggers that fire even under `session_replication_role = replica` (ENABLE ALWAYS / REPLICA). */
  alwaysTriggers: string[];
  /** Foreign keys in which the table is either side. */
  foreignKeys: ForeignKeyInfo[];
}

/** One entry of a custom-format archive's table of contents (`pg_restore -l`). */
export interface ArchiveEntry {
  id: number;
  /** `TABLE DATA`, `TABLE`, `SEQUENCE SET`, … */
  desc: string;
  schema: string;
  name: string;
}

/** How a table is read in a foreign-key check: as it is now, as the staged backup rows, or both together. */
export type RelationView = 'table' | 'staged' | 'merged';

/** A sequence's position (`last_value`, `is_called`) and step. */
export interface SequenceState {
  lastValue: bigint;
  isCalled: boolean;
  increment: bigint;
}

/**
 * One transaction on the selective restore's target (opened by {@link PgTableTools.beginSelective}). Nothing is
 * visible to other sessions until {@link SelectiveSession.commit}; {@link SelectiveSession.rollback} leaves the
 * target as it was. Staged rows live in a temporary table per restored table, dropped with the transaction.
 */
export interface SelectiveSession {
  /** Copy `columns` of `table` from `sourceUrl` (the scratch database) into its staging table; the rows copied. */
  stage(table: TableInfo, columns: readonly string[], sourceUrl: string, signal?: AbortSignal): Promise<number>;
  /** Rows of the table as this transaction sees it. */
  count(table: TableInfo): Promise<number>;
  /** By primary key: backup rows whose key the target lacks, target rows whose key the backup lacks, rows that differ. */
  compare(table: TableInfo, columns: readonly string[]): Promise<{ missing: number; extra: number; changed: number }>;
  /** `LOCK TABLE … IN EXCLUSIVE MODE` (reads go on, writes wait), with a bounded lock timeout. */
  lock(tables: readonly TableInfo[]): Promise<void>;
  /**
   * From here on the transaction runs with `session_replication_role = replica`: no user trigger and no
   * foreign-key action fires for the rows copied (they already hold those triggers' effects), so the
   * foreign keys are checked explicitly with {@link SelectiveSession.foreignKeyViolations}.
   */
  disableTriggers(): Promise<void>;
  /**
   * Make the table hold exactly the staged rows. With a primary key, by difference: delete the rows whose key the
   * backup lacks, update the rows that differ (the key columns are left alone), insert the missing ones — so
   * unchanged rows are not rewritten. Without one: delete every row, insert the staged ones.
   */
  replace(table: TableInfo, columns: readonly string[]): Promise<{ deleted: number; updated: number; inserted: number }>;
  /** Insert the staged rows whose primary key the table lacks. */
  insertMissing(table: TableInfo, columns: readonly string[]): Promise<number>;
  /** Rows of `fk.table` whose non-null key has no match in `fk.references`, each table read as `views` says (default `table`). */
  foreignKeyViolations(fk: ForeignKeyInfo, views: Readonly<Record<string, RelationView>>): Promise<number>;
  /** Largest value of an integer column, the table read as `view`; null for no rows. */
  maxValue(table: TableInfo, column: string, view: RelationView): Promise<bigint | null>;
  sequence(name: string): Promise<SequenceState>;
  /** `setval(name, value, true)`. Not transactional in PostgreSQL: call it last, and only to move forward. */
  setSequence(name: string, value: bigint): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/**
 * Table-level PostgreSQL operations for the selective restore and the safety backups. Implemented by
 * `adapters/tools/pg-tools.ts` (pg_dump / pg_restore with table and TOC lists, the `pg` driver, COPY between
 * connections).
 */
export interface PgTableTools {
  /** The tables' catalog facts; rejects with a UsageError naming a table that does not exist. */
  describeTables(url: string, tables: ReadonlyArray<{ schema: string; table: string }>): Promise<TableInfo[]>;
  /** Whether this login may `SET session_replication_role` (superuser, rds_superuser, or GRANT SET ON PARAMETER). */
  canDisableTriggers(url: string): Promise<boolean>;
  /** `pg_dump -Fc -Z<level>` of only these tables (canonical names; partitions listed explicitly), optionally in a snapshot. */
  dumpTables(url: string, opts: { tables: readonly string[]; compressLevel: number; snapshotId?: string }): DumpProcess;
  /** Exact row counts of these tables, in an exported snapshot when given. */
  countRows(url: string, tables: readonly string[], snapshotId?: string): Promise<Record<string, number>>;
  /** The archive's table of contents (`pg_restore -l`). */
  archiveEntries(file: string, signal?: AbortSignal): Promise<ArchiveEntry[]>;
  /** `pg_restore --section=pre-data`: types, functions, empty tables (no data, indexes, constraints or triggers). */
  restoreSchema(url: string, file: string, signal?: AbortSignal): Promise<void>;
  /** `pg_restore -L` of only these archive entries (by id), `jobs` in parallel. */
  restoreEntries(url: string, file: string, ids: readonly number[], opts: { jobs: number; signal?: AbortSignal }): Promise<void>;
  /** Open the one transaction of a selective restore on `url`. */
  beginSelective(url: string): Promise<SelectiveSession>;
}

/**
 * A point-in-time copy of the source database to read the restored tables from (AWS: an RDS point-in-time
 * restore into a new scratch instance, `adapters/aws/pitr.ts`). Dropped after the restore, success or not.
 */
export interface PointInTimeScratch {
  /** The point in time (ISO 8601 UTC). */
  readonly restoreTime: string;
  /** Restore and wait until it serves; resolves with a URL of the database (same name and login as the target). */
  create(log: (line: string) => void, signal?: AbortSignal): Promise<{ url: string; instance: string }>;
  /** Delete what {@link PointInTimeScratch.create} made (a no-op when it made nothing). */
  drop(log: (line: string) => void): Promise<void>;
}

/**
 * Row-level comparison of two PostgreSQL databases by primary key (failback's divergent backup), over plain SQL so
 * it works against RDS as well as the local clusters. Implemented by `adapters/tools/pg-divergence.ts`.
 */
export interface DivergenceProbe {
  /** User tables (`schema.table`, quoted as needed) with their primary-key columns in key order ([] when none). */
  tables(url: string): Promise<Array<{ table: string; primaryKey: string[] }>>;
  countRows(url: string, table: string): Promise<number>;
  /** Per bucket (hash of the key's text modulo `buckets`): its rows and a digest of their row digests. */
  bucketDigests(url: string, table: string, primaryKey: readonly string[], buckets: number): Promise<Record<string, BucketDigest>>;
  /** Key text, row digest and xmin of every row in the buckets `which`. */
  bucketRows(url: string, table: string, primaryKey: readonly string[], buckets: number, which: readonly number[]): Promise<RowDigest[]>;
  /** The same for the rows with these key texts (what a restore of the backup must hold). */
  rowsByKey(url: string, table: string, primaryKey: readonly string[], keys: readonly string[]): Promise<RowDigest[]>;
  /** A primary's current WAL position and timeline. */
  walPosition(url: string): Promise<{ lsn: string; timeline: number }>;
}
