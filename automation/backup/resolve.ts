/**
 * `--from` resolution (pure): `latest` | `daily` | `weekly` | `monthly` | `YYYYMMDD` → one complete backup.
 * Wrong forms and empty days are usage errors that say what is allowed and which days exist.
 */
import { BACKUP_TIERS } from '../../lib/lifecycle';
import { FlagError, UsageError } from '../core/errors';
import type { BackupEntry } from './catalog';
import { isTier } from './keys';

export const FROM_FORMS = `latest|${BACKUP_TIERS.join('|')}|YYYYMMDD`;

/** UTC day `YYYYMMDD` of an entry. */
export function dayOf(e: Pick<BackupEntry, 'stamp'>): string {
  return e.stamp.slice(0, 8);
}

function validDay(s: string): boolean {
  if (!/^\d{8}$/.test(s)) return false;
  const y = Number(s.slice(0, 4));
  const m = Number(s.slice(4, 6));
  const d = Number(s.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** The distinct UTC days that have a complete backup, newest first. */
export function availableDays(entries: readonly BackupEntry[]): string[] {
  return [...new Set(entries.filter((e) => e.complete).map(dayOf))].sort().reverse();
}

/**
 * Pick the backup `from` names among `entries` (already filtered to one service). Throws UsageError for a
 * malformed value, an unknown tier, or a day/tier with no complete backup.
 */
export function resolveFrom(from: string, entries: readonly BackupEntry[]): BackupEntry {
  const complete = entries.filter((e) => e.complete).sort((a, b) => b.date.getTime() - a.date.getTime() || b.dataKey.localeCompare(a.dataKey));
  const days = availableDays(entries);
  const existing = days.length ? `days with backups: ${days.slice(0, 14).join(', ')}${days.length > 14 ? ', …' : ''}` : 'the bucket holds no complete backup of it yet';
  let pick: BackupEntry | undefined;
  if (from === 'latest') {
    pick = complete[0];
    if (!pick) throw new UsageError(`--from latest: ${existing}`);
  } else if (isTier(from)) {
    pick = complete.find((e) => e.tier === from);
    if (!pick) throw new UsageError(`--from ${from}: no complete ${from} backup (${existing})`);
  } else if (/^\d{8}$/.test(from)) {
    if (!validDay(from)) throw new FlagError(`--from ${from} is not a real calendar date; allowed: ${FROM_FORMS}`);
    pick = complete.find((e) => dayOf(e) === from);
    if (!pick) throw new UsageError(`--from ${from}: no backup on that day (UTC); ${existing}`);
  } else {
    throw new FlagError(`--from '${from}' is not allowed; allowed: ${FROM_FORMS}`);
  }
  return pick;
}
