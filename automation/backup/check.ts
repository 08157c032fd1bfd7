/**
 * `dr backups check` (pure): today's backup must exist, and the newest backup of each tier must not be more
 * than 50% smaller than the previous one of the same tier (a shrinking dump is the classic sign of a job
 * that "succeeds" against the wrong or an emptied database).
 */
import { BACKUP_TIERS, BackupService } from '../../lib/lifecycle';
import type { BackupEntry } from './catalog';
import type { Manifest } from './manifest';
import { dayOf } from './resolve';
import { stampOf } from './keys';

export interface CheckFinding {
  service: BackupService;
  check: 'today' | 'size' | 'incomplete' | 'restorability';
  ok: boolean;
  message: string;
}

/** Fraction of the previous size below which the newest is suspicious. */
export const SHRINK_THRESHOLD = 0.5;

export function checkBackups(service: BackupService, entries: readonly BackupEntry[], now: Date, threshold = SHRINK_THRESHOLD): CheckFinding[] {
  const mine = entries.filter((e) => e.service === service);
  const complete = mine.filter((e) => e.complete);
  const today = stampOf(now).slice(0, 8);
  const out: CheckFinding[] = [];
  const todays = complete.filter((e) => dayOf(e) === today);
  const newest = complete.at(-1);
  out.push(
    todays.length > 0
      ? { service, check: 'today', ok: true, message: `today's backup present: ${todays.at(-1)?.dataKey}` }
      : { service, check: 'today', ok: false, message: `no ${service} backup today (${today} UTC); newest is ${newest ? newest.dataKey : 'none'}` },
  );
  for (const tier of BACKUP_TIERS) {
    const t = complete.filter((e) => e.tier === tier).sort((a, b) => a.date.getTime() - b.date.getTime());
    if (t.length < 2) continue;
    const [prev, last] = t.slice(-2);
    const ls = last.size ?? 0;
    const ps = prev.size ?? 0;
    if (ps > 0 && ls < ps * threshold) {
      out.push({ service, check: 'size', ok: false, message: `${last.dataKey} is ${ls} bytes, more than ${Math.round((1 - threshold) * 100)}% smaller than the previous ${tier} backup ${prev.dataKey} (${ps} bytes)` });
    } else {
      out.push({ service, check: 'size', ok: true, message: `${tier}: ${ls} bytes vs previous ${ps} bytes` });
    }
  }
  const stale = mine.filter((e) => !e.complete && now.getTime() - e.date.getTime() > 3600_000);
  for (const e of stale) {
    out.push({ service, check: 'incomplete', ok: false, message: `${e.dataKey} has ${e.hasData ? 'data but no manifest (a failed upload)' : 'a manifest but no data'}` });
  }
  return out;
}

/**
 * `dr backups check --verified-within DAYS` (pure): a restore test must have proven a backup restorable within
 * the last `days` days, and the newest restore test must not have failed. Catches a restore-test schedule that
 * silently stopped as well as a backup that no longer restores.
 */
export function checkRestorability(service: BackupService, manifests: readonly Manifest[], now: Date, days: number): CheckFinding[] {
  const tested = manifests.filter((m) => m.restore_test).sort((a, b) => Date.parse(a.restore_test?.at ?? '') - Date.parse(b.restore_test?.at ?? ''));
  const out: CheckFinding[] = [];
  const lastTest = tested.at(-1);
  if (lastTest?.restore_test && !lastTest.restore_test.ok) {
    out.push({ service, check: 'restorability', ok: false, message: `the newest restore test (${lastTest.restore_test.at}) of ${lastTest.key} FAILED: ${lastTest.restore_test.error ?? 'no reason recorded'}` });
  }
  const verified = manifests
    .filter((m) => m.restorability === 'VERIFIED' && m.restore_verified_at)
    .sort((a, b) => Date.parse(a.restore_verified_at ?? '') - Date.parse(b.restore_verified_at ?? ''))
    .at(-1);
  const ageDays = verified ? (now.getTime() - Date.parse(verified.restore_verified_at ?? '')) / 86_400_000 : Infinity;
  out.push(
    ageDays <= days
      ? { service, check: 'restorability', ok: true, message: `${verified?.key} restore-tested ${verified?.restore_verified_at}` }
      : {
          service,
          check: 'restorability',
          ok: false,
          message: verified
            ? `no ${service} backup restore-tested in the last ${days} day(s); the newest verified is ${verified.key} at ${verified.restore_verified_at}`
            : `no ${service} backup has ever been restore-tested (run 'dr backups verify-restore' or check the restore-test schedule)`,
        },
  );
  return out;
}
