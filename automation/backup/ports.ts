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
