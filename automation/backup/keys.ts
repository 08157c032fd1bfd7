/**
 * Object-key naming for backups (pure).
 *
 *   postgresql/<tier>/backup_YYYYMMDD_HHMMSS.dump
 *   redis/<tier>/backup_YYYYMMDD_HHMMSS.rdb
 *   <data key>.metadata.json      — the manifest; its presence is the commit marker of a backup
 *   safety/<service>/backup_YYYYMMDD_HHMMSS.<ext>  — a safety backup taken right before a restore overwrote
 *                                 data (tier `safety` in its manifest; see safety.ts)
 *
 * Timestamps are UTC.
 */
import { BACKUP_SERVICES, BACKUP_TIERS, BackupService, BackupTier, SAFETY_PREFIX, tierPrefix } from '../../lib/lifecycle';

export const MANIFEST_SUFFIX = '.metadata.json';
export const EXTENSION: Record<BackupService, string> = { postgresql: '.dump', redis: '.rdb' };

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `YYYYMMDD_HHMMSS` in UTC. */
export function stampOf(date: Date): string {
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}_${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}

/** Inverse of {@link stampOf}; undefined when malformed or not a real date/time. */
export function parseStamp(stamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})$/.exec(stamp);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return date;
}

export function backupId(date: Date): string {
  return `backup_${stampOf(date)}`;
}

export function dataKey(service: BackupService, tier: BackupTier, date: Date): string {
  return `${tierPrefix(service, tier)}${backupId(date)}${EXTENSION[service]}`;
}

export function manifestKeyFor(key: string): string {
  return key + MANIFEST_SUFFIX;
}

export interface ParsedKey {
  service: BackupService;
  tier: BackupTier;
  id: string;
  stamp: string;
  date: Date;
  /** The data object key (without the manifest suffix). */
  dataKey: string;
  isManifest: boolean;
}

/** Parse a data or manifest key; undefined for anything that is not one of ours. */
export function parseKey(key: string): ParsedKey | undefined {
  const isManifest = key.endsWith(MANIFEST_SUFFIX);
  const data = isManifest ? key.slice(0, -MANIFEST_SUFFIX.length) : key;
  const m = /^([a-z]+)\/([a-z]+)\/(backup_(\d{8}_\d{6}))(\.[a-z]+)$/.exec(data);
  if (!m) return undefined;
  const [, service, tier, id, stamp, ext] = m;
  if (!(BACKUP_SERVICES as readonly string[]).includes(service) || !(BACKUP_TIERS as readonly string[]).includes(tier)) return undefined;
  if (EXTENSION[service as BackupService] !== ext) return undefined;
  const date = parseStamp(stamp);
  if (!date) return undefined;
  return { service: service as BackupService, tier: tier as BackupTier, id, stamp, date, dataKey: data, isManifest };
}

/**
 * The tier a scheduled run on `date` (UTC) belongs to when the schedule does not say: monthly on the 1st,
 * weekly on Sundays, daily otherwise.
 */
export function tierFor(date: Date): BackupTier {
  if (date.getUTCDate() === 1) return 'monthly';
  if (date.getUTCDay() === 0) return 'weekly';
  return 'daily';
}

/** `safety/<service>/backup_YYYYMMDD_HHMMSS.<ext>` (UTC). */
export function safetyKey(service: BackupService, date: Date): string {
  return `${SAFETY_PREFIX}${service}/${backupId(date)}${EXTENSION[service]}`;
}

/** Parse a safety backup's data or manifest key (tier `safety`); undefined for anything else. */
export function parseSafetyKey(key: string): { service: BackupService; tier: 'safety'; dataKey: string; date: Date } | undefined {
  const data = key.endsWith(MANIFEST_SUFFIX) ? key.slice(0, -MANIFEST_SUFFIX.length) : key;
  const m = /^safety\/([a-z]+)\/backup_(\d{8}_\d{6})(\.[a-z]+)$/.exec(data);
  if (!m || !(BACKUP_SERVICES as readonly string[]).includes(m[1]) || EXTENSION[m[1] as BackupService] !== m[3]) return undefined;
  const date = parseStamp(m[2]);
  return date ? { service: m[1] as BackupService, tier: 'safety', dataKey: data, date } : undefined;
}

export function isTier(value: string): value is BackupTier {
  return (BACKUP_TIERS as readonly string[]).includes(value);
}

export function isService(value: string): value is BackupService {
  return (BACKUP_SERVICES as readonly string[]).includes(value);
}

// --- divergent backups (failback) ------------------------------------------------------------------------------
//
//   divergent/backup_YYYYMMDD_HHMMSS.dump                 pg_dump of an old primary before failback rewinds or
//                                                          rebuilds it (the writes the survivor never received)
//   divergent/backup_YYYYMMDD_HHMMSS.rds-snapshot.json    AWS, old primary unreachable by SQL: a pointer to the
//                                                          RDS snapshot that holds them
//   <data key>.metadata.json                               the manifest (type `divergent`, tier `divergent`)
//
// No tier, no retention count and no lifecycle rule: divergent writes wait for a person to reconcile them, so
// nothing expires or prunes them (the tier listings never see this prefix).

export const DIVERGENT_PREFIX = 'divergent/';
export const DIVERGENT_EXTENSIONS = { dump: '.dump', snapshot: '.rds-snapshot.json' } as const;
export type DivergentForm = keyof typeof DIVERGENT_EXTENSIONS;

export function divergentKey(date: Date, form: DivergentForm = 'dump'): string {
  return `${DIVERGENT_PREFIX}${backupId(date)}${DIVERGENT_EXTENSIONS[form]}`;
}

export interface ParsedDivergentKey {
  id: string;
  date: Date;
  form: DivergentForm;
  dataKey: string;
  isManifest: boolean;
}

/** Parse a divergent data or manifest key; undefined for anything else. */
export function parseDivergentKey(key: string): ParsedDivergentKey | undefined {
  const isManifest = key.endsWith(MANIFEST_SUFFIX);
  const data = isManifest ? key.slice(0, -MANIFEST_SUFFIX.length) : key;
  const m = /^divergent\/(backup_(\d{8}_\d{6}))(\.dump|\.rds-snapshot\.json)$/.exec(data);
  if (!m) return undefined;
  const date = parseStamp(m[2]);
  if (!date) return undefined;
  return { id: m[1], date, form: m[3] === '.dump' ? 'dump' : 'snapshot', dataKey: data, isManifest };
}
