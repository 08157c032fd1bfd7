/**
 * The backup manifest (`<key>.metadata.json`): the seeds' metadata format plus what an SRE needs to trust a
 * backup later (tool and server versions, source host without credentials, the object key, the tier's
 * retention). Writing it is the commit marker: a backup without a manifest is not a backup.
 */
import type { BackupService, BackupTier } from '../../lib/lifecycle';
import { parseDivergentKey, parseKey, parseSafetyKey } from './keys';
import type { Divergence } from './divergence';
import { VerificationError } from '../core/errors';

export const MANIFEST_FORMAT = 1;

export interface Manifest {
  format: number;
  backup_id: string;
  /** `full`: a scheduled or manual backup. `divergent`: an old primary's state kept before failback (`divergence`). */
  type: 'full' | 'divergent';
  service: BackupService;
  /**
   * The tier; `safety` for a safety backup taken before a restore overwrote data (`safety/<service>/…`); `divergent`
   * for an old primary's state kept before failback (`divergent/…`: no retention count, no lifecycle rule).
   */
  tier: BackupTier | 'safety' | 'divergent';
  /** ISO 8601 UTC start time of the backup. */
  timestamp: string;
  /** Object key of the data. */
  key: string;
  size_bytes: number;
  size_readable: string;
  duration_seconds: number;
  /** Data file names (basename of the key), as in the seeds. */
  files: string[];
  /** `sha256:<hex>` of the stored object bytes. */
  checksum: string;
  /** PostgreSQL: database name; Redis: db index (`0`). */
  database: string;
  server_version: string;
  /** PostgreSQL: exact rows per `schema.table`, counted in the dump's snapshot. */
  tables?: Record<string, number>;
  /** Redis: DBSIZE when the backup started. */
  keys?: number;
  /** Redis: a sample of key names, for restore verification. */
  key_sample?: string[];
  /** `host:port` of the source, never credentials. */
  source: string;
  /** Redis on ElastiCache: the snapshot this RDB was exported from. */
  snapshot?: string;
  tool_versions: Record<string, string>;
  /** pg_dump compression level (PostgreSQL) */
  compression?: string;
  /** Whether the checksum was verified after upload. */
  verified: boolean;
  /** e.g. `7_daily` — how many of this tier are kept. */
  retention: string;
  /** `UNVERIFIED` until a restore test proves it restores; then `VERIFIED`. */
  restorability: 'UNVERIFIED' | 'VERIFIED' | 'FAILED';
  /** Set by a successful restore test (ISO 8601 UTC). */
  restore_verified_at?: string;
  /** The last restore test's outcome (set by `verifyRestore`, success or failure). */
  restore_test?: RestoreTestRecord;
  /**
   * Divergent backups (`type: divergent`): the split point, the old primary's WAL position, the failover, and per
   * table the rows of the old primary that differ from the survivor, with their keys and where they are kept.
   */
  divergence?: Divergence;
  /** Safety backups: what was about to overwrite the data, and where. */
  safety?: SafetyRecord;
  /** Where the scheduled job that took it ran, and that runner's limits (absent for `dr backup` from a shell). */
  runner?: RunnerRecord;
}

/** A runner and its limits, as the job records them (`dr status` predicts the next runs against them). */
export interface RunnerRecord {
  kind: 'lambda' | 'fargate';
  /** The Lambda timeout, or the Fargate task's own deadline. */
  timeout_seconds?: number;
  /** Local storage (Lambda /tmp, the task's ephemeral storage), MB. */
  storage_mb?: number;
}

/** Why a safety backup exists (the manifest of `safety/<service>/backup_<stamp>.<ext>`). */
export interface SafetyRecord {
  /** The operation that was about to overwrite data, e.g. `restore postgres --table public.users (replace)`. */
  before: string;
  /** `host:port/database` (PostgreSQL) or `host:port` (Redis) of the target, never credentials. */
  target: string;
  /** PostgreSQL: the tables whose data the archive holds (the whole schema is always in it); absent = all. */
  tables?: string[];
}

export interface RestoreTestRecord {
  /** When the test finished (ISO 8601 UTC). */
  at: string;
  ok: boolean;
  /** Where it restored (`host:port/database`, never credentials). */
  target: string;
  duration_seconds: number;
  /** Tables whose row counts were compared (all matched when ok). */
  tables_compared?: number;
  /** Why it failed (redacted). */
  error?: string;
  /** `streamed` (one pg_restore job reading the hashed stream, no local copy) or `downloaded` (to local storage first). */
  mode?: 'streamed' | 'downloaded';
  /** pg_restore jobs. */
  jobs?: number;
  /** Where the test ran. */
  runner?: RunnerRecord;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** `536870912` → `512MB` (base 1024, as the seeds show). */
export function sizeReadable(bytes: number): string {
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = u === 0 || v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1);
  return `${s}${UNITS[u]}`;
}

export function retentionLabel(tier: BackupTier | 'safety', keep: number): string {
  if (tier === 'safety') return `${keep}_days`;
  return `${keep}_${tier}`;
}

/** Parse and validate a manifest document; throws with the problem named when it is not one. */
export function parseManifest(text: string, key: string): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new VerificationError(`manifest ${key} is not JSON: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new VerificationError(`manifest ${key} is not an object`);
  const m = doc as Record<string, unknown>;
  const need: Array<[string, string]> = [
    ['backup_id', 'string'],
    ['service', 'string'],
    ['tier', 'string'],
    ['timestamp', 'string'],
    ['key', 'string'],
    ['size_bytes', 'number'],
    ['checksum', 'string'],
  ];
  for (const [field, type] of need) {
    if (typeof m[field] !== type) throw new VerificationError(`manifest ${key}: field '${field}' missing or not a ${type}`);
  }
  if (!/^sha256:[0-9a-f]{64}$/.test(m.checksum as string)) throw new VerificationError(`manifest ${key}: checksum must be sha256:<64 hex>`);
  const divergent = parseDivergentKey(m.key as string);
  if (divergent) {
    if (m.type !== 'divergent' || m.tier !== 'divergent' || m.service !== 'postgresql') throw new VerificationError(`manifest ${key}: a divergent/ key needs type and tier 'divergent' and service postgresql`);
    return m as unknown as Manifest;
  }
  const parsed = parseKey(m.key as string) ?? parseSafetyKey(m.key as string);
  if (!parsed || parsed.service !== m.service || parsed.tier !== m.tier) throw new VerificationError(`manifest ${key}: key/service/tier do not agree`);
  return m as unknown as Manifest;
}

export function checksumHex(manifest: Pick<Manifest, 'checksum'>): string {
  return manifest.checksum.replace(/^sha256:/, '');
}
