/**
 * Count-based pruning of a tier (pure). Keeps the newest `keep` complete backups of one service/tier and
 * deletes the rest — data object and manifest together, manifest first so a half-done prune never leaves a
 * manifest pointing at nothing. Incomplete leftovers (data without manifest: a failed or running upload;
 * manifest without data) are deleted once older than a grace period, so a backup in progress is never touched.
 *
 * The age-based S3 lifecycle rules (lib/lifecycle.ts) stay the authority on age; this keeps the counts the
 * seeds promise (daily 7, weekly 4, monthly 12 by default).
 */
import { BACKUP_TIERS, BackupTier } from '../../lib/lifecycle';
import type { BackupEntry } from './catalog';
import { OperationError, UsageError } from '../core/errors';

export type RetentionCounts = Record<BackupTier, number>;

export const DEFAULT_KEEP: Readonly<RetentionCounts> = Object.freeze({ daily: 7, weekly: 4, monthly: 12 });

/** Leftovers younger than this may be an upload in progress. */
export const INCOMPLETE_GRACE_MS = 24 * 3600 * 1000;

export interface PrunePlan {
  keep: BackupEntry[];
  /** Complete backups beyond the count. */
  expired: BackupEntry[];
  /** Incomplete leftovers past the grace period. */
  leftovers: BackupEntry[];
  /** Object keys to delete, manifests before data. */
  deleteKeys: string[];
}

/** Validate keep counts: whole numbers ≥ 1 per tier; the error names the key. */
export function validateKeep(counts: Partial<Record<string, unknown>>, where = 'retention'): RetentionCounts {
  const out = { ...DEFAULT_KEEP };
  for (const [k, v] of Object.entries(counts)) {
    if (!(BACKUP_TIERS as readonly string[]).includes(k)) throw new UsageError(`${where}: unknown tier '${k}'; allowed: ${BACKUP_TIERS.join('|')}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 10000) throw new UsageError(`${where}.${k} must be a whole number between 1 and 10000, got ${JSON.stringify(v)}`);
    out[k as BackupTier] = v;
  }
  return out;
}

/** Plan pruning of ONE service/tier's entries. */
export function planPrune(entries: readonly BackupEntry[], keep: number, now: Date, graceMs = INCOMPLETE_GRACE_MS): PrunePlan {
  if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`keep must be a whole number ≥ 1, got ${keep}`);
  const tiers = new Set(entries.map((e) => `${e.service}/${e.tier}`));
  if (tiers.size > 1) throw new OperationError(`planPrune works on one service/tier at a time, got ${[...tiers].join(', ')}`);
  const complete = entries.filter((e) => e.complete).sort((a, b) => b.date.getTime() - a.date.getTime() || b.dataKey.localeCompare(a.dataKey));
  const kept = complete.slice(0, keep);
  const expired = complete.slice(keep);
  const leftovers = entries.filter((e) => !e.complete && now.getTime() - e.date.getTime() > graceMs);
  const deleteKeys: string[] = [];
  for (const e of [...expired, ...leftovers]) {
    if (e.hasManifest) deleteKeys.push(e.manifestKey);
  }
  for (const e of [...expired, ...leftovers]) {
    if (e.hasData) deleteKeys.push(e.dataKey);
  }
  return { keep: kept, expired, leftovers, deleteKeys };
}
