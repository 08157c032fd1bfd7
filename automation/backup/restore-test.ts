/**
 * The scheduled restore test: prove that a PostgreSQL backup restores, and record it in its manifest.
 *
 *   1. pick the backup (latest, a tier, a day, or an exact key);
 *   2. drop scratch databases left behind by earlier runs that died (older than `staleAfterMs`);
 *   3. create `dr_restore_test_<YYYYMMDD_HHMMSS>` on the scratch server;
 *   4. restore into it and compare row counts with the manifest: with one job (`jobs: 1`, what the scheduled job
 *      runs by default) the object streams through sha256 into `pg_restore` with no local copy
 *      (stream-restore.ts: the scratch database is written while the hash is computed, and the test passes only when
 *      it matches); with more, the normal verified restore — download to `temp` and sha256 first, `pg_restore -j N`;
 *   5. always drop the scratch database;
 *   6. rewrite the manifest: `restorability: VERIFIED`, `verified: true`, `restore_verified_at`, `restore_test`
 *      — or, when the backup itself failed (checksum, pg_restore, row counts), `restorability: FAILED` and an
 *      alert. A test that could not run (scratch server unreachable, no backup at all) alerts but leaves the
 *      manifest alone: it says nothing about the backup.
 *   7. with `metrics`: `RestoreTestSuccess` 1 (passed) or 0 (failed, or could not run) and `RestoreTestAgeSeconds`
 *      (the newest successful test in the store after this run: ≈ 0 after a pass; see restore-metrics.ts).
 *
 * The manifest is re-read right before the rewrite and only written when the data object is still there, so a
 * backup pruned meanwhile is not resurrected as a manifest without data.
 */
import { NotFoundError, OperationError, UnreachableError, VerificationError } from '../core/errors';
import { redact } from '../core/redact';
import { runbookLine } from '../../lib/runbook';
import { readManifest } from './catalog';
import { manifestKeyFor, parseStamp, stampOf } from './keys';
import { Manifest, RunnerRecord } from './manifest';
import type { Metrics, Notifier, ObjectStore, PgTools, ScratchDatabases, TempFiles } from './ports';
import { publishRestoreTestMetrics } from './restore-metrics';
import { Log, restorePostgres, selectBackup, TableComparison, unreachable } from './postgres';
import { restoreScratchStreamed } from './stream-restore';
import { Clock } from '../core/clock';

export const SCRATCH_PREFIX = 'dr_restore_test_';
/** Scratch databases older than this are leftovers of a run that died (a Lambda timeout, a kill). */
export const DEFAULT_STALE_AFTER_MS = 6 * 3600_000;

export interface RestoreTestOptions {
  store: ObjectStore;
  tools: PgTools;
  scratch: ScratchDatabases;
  /** A URL on the server where the scratch database is created (its own database is only used to connect). */
  scratchServerUrl: string;
  /** `latest` (default), a tier, or `YYYYMMDD`. */
  from?: string;
  /** An exact backup key (wins over `from`). */
  file?: string;
  /** pg_restore jobs (default 2). 1 streams the backup with no local copy when the tools can (`restoreStream`). */
  jobs?: number;
  /** Where the test runs (the job's runner and its limits), recorded in the manifest's `restore_test`. */
  runner?: RunnerRecord;
  clock: Clock;
  notifier?: Notifier;
  /** Where to publish the restore-test metrics (the scheduled Lambda run); none from the CLI. */
  metrics?: Metrics;
  /** Environment label for alerts (e.g. region or `local`). */
  where?: string;
  staleAfterMs?: number;
  /** Where the download goes before the scratch restore. */
  temp: TempFiles;
  log?: Log;
  signal?: AbortSignal;
}

export interface RestoreTestResult {
  ok: true;
  manifest: Manifest;
  manifestKey: string;
  scratchDatabase: string;
  tables: TableComparison[];
  sweptDatabases: string[];
  durationSeconds: number;
}

/** The scratch database name for a run at `now` (valid unquoted identifier). */
export function scratchName(now: Date): string {
  return `${SCRATCH_PREFIX}${stampOf(now)}`;
}

/** Scratch databases (by name) that are leftovers: ours by prefix + stamp, and older than `staleAfterMs`. */
export function staleScratch(names: readonly string[], now: Date, staleAfterMs: number): string[] {
  return names.filter((n) => {
    if (!n.startsWith(SCRATCH_PREFIX)) return false;
    const at = parseStamp(n.slice(SCRATCH_PREFIX.length));
    return at !== undefined && now.getTime() - at.getTime() > staleAfterMs;
  });
}

/** The manifest after a restore test (pure). */
export function withRestoreOutcome(
  m: Manifest,
  outcome: { at: Date; ok: boolean; target: string; durationSeconds: number; tablesCompared?: number; error?: string; mode?: 'streamed' | 'downloaded'; jobs?: number; runner?: RunnerRecord },
): Manifest {
  const record = {
    at: outcome.at.toISOString(),
    ok: outcome.ok,
    target: outcome.target,
    duration_seconds: Math.round(outcome.durationSeconds * 100) / 100,
    ...(outcome.tablesCompared !== undefined ? { tables_compared: outcome.tablesCompared } : {}),
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.mode ? { mode: outcome.mode } : {}),
    ...(outcome.jobs !== undefined ? { jobs: outcome.jobs } : {}),
    ...(outcome.runner ? { runner: outcome.runner } : {}),
  };
  if (outcome.ok) return { ...m, verified: true, restorability: 'VERIFIED', restore_verified_at: record.at, restore_test: record };
  // A failed test leaves the last successful verification time visible: when did it last restore?
  return { ...m, restorability: 'FAILED', restore_test: record };
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}`;
  } catch {
    return 'scratch server';
  }
}

export async function verifyRestore(o: RestoreTestOptions): Promise<RestoreTestResult> {
  const log = o.log ?? (() => undefined);
  const where = o.where ?? 'local';
  const t0 = Date.now();
  const alert = async (subject: string, body: string) => {
    if (!o.notifier) return;
    await o.notifier.notify(`[bot-dr] ${subject} (${where})`, `${body}\n\n${runbookLine('INC-007')}`).catch((e: unknown) => log(`could not notify: ${redact(String(e))}`));
  };

  let manifest: Manifest;
  let dbName: string;
  let scratchUrl: string;
  const swept: string[] = [];
  try {
    manifest = await selectBackup(o.store, 'postgresql', o.from, o.file);
    const existing = await o.scratch.listDatabases(o.scratchServerUrl, SCRATCH_PREFIX).catch((e: unknown) => unreachable(e, 'scratch server'));
    for (const name of staleScratch(existing, o.clock.now(), o.staleAfterMs ?? DEFAULT_STALE_AFTER_MS)) {
      await o.scratch.dropDatabase(o.scratchServerUrl, name);
      swept.push(name);
      log(`dropped leftover scratch database ${name}`);
    }
    dbName = scratchName(o.clock.now());
    scratchUrl = await o.scratch.createDatabase(o.scratchServerUrl, dbName).catch((e: unknown) => unreachable(e, 'scratch server'));
  } catch (err) {
    const message = redact(err instanceof Error ? err.message : String(err));
    await alert('postgresql restore test could not run', `The scheduled PostgreSQL restore test could not start:\n\n${message}\n\nNo backup was marked; fix the cause so backups are proven restorable again.`);
    await publishRestoreTestMetrics({ metrics: o.metrics, store: o.store, clock: o.clock, success: false, log });
    throw err;
  }

  const target = `${hostOf(o.scratchServerUrl)}/${dbName}`;
  log(`restore test of ${manifest.key} (taken ${manifest.timestamp}) into scratch database ${target}`);
  let tables: TableComparison[] = [];
  let failure: unknown;
  const jobs = o.jobs ?? 2;
  const streamed = jobs === 1 && typeof o.tools.restoreStream === 'function';
  try {
    if (streamed) {
      const tools = o.tools as PgTools & { restoreStream: NonNullable<PgTools['restoreStream']> };
      tables = (await restoreScratchStreamed({ store: o.store, tools, manifest, targetUrl: scratchUrl, signal: o.signal, log })).tables;
    } else {
      const r = await restorePostgres({ store: o.store, tools: o.tools, targetUrl: scratchUrl, file: manifest.key, jobs, temp: o.temp, log, signal: o.signal });
      tables = r.tables === 'skipped' ? [] : r.tables;
    }
  } catch (err) {
    failure = err;
  } finally {
    await o.scratch.dropDatabase(o.scratchServerUrl, dbName).then(
      () => log(`dropped scratch database ${dbName}`),
      (e: unknown) => log(`could not drop scratch database ${dbName} (a later run drops it): ${redact(String(e))}`),
    );
  }
  const durationSeconds = (Date.now() - t0) / 1000;
  // Only a failure of the backup itself marks it FAILED; anything else (aborted, scratch trouble, a server or an
  // object that is not there) just alerts.
  const backupFailed = (failure instanceof VerificationError || failure instanceof OperationError) && !(failure instanceof UnreachableError || failure instanceof NotFoundError);
  const message = failure === undefined ? undefined : redact(failure instanceof Error ? failure.message : String(failure));

  const manifestKey = manifestKeyFor(manifest.key);
  if (failure === undefined || backupFailed) {
    const stillThere = await o.store.head(manifest.key);
    if (!stillThere) {
      log(`${manifest.key} was removed during the test (pruned?); its manifest is not rewritten`);
    } else {
      const fresh = await readManifest(o.store, manifest.key);
      const updated = withRestoreOutcome(fresh, {
        at: o.clock.now(),
        ok: failure === undefined,
        target,
        durationSeconds,
        tablesCompared: failure === undefined ? tables.length : undefined,
        error: message,
        mode: streamed ? 'streamed' : 'downloaded',
        jobs,
        runner: o.runner,
      });
      await o.store.put(manifestKey, JSON.stringify(updated, null, 2) + '\n', 'application/json');
      manifest = updated;
      log(`manifest ${manifestKey}: restorability ${updated.restorability}`);
    }
  }
  if (failure !== undefined) {
    await alert(
      `postgresql backup ${manifest.backup_id} FAILED its restore test`,
      `The restore test of ${manifest.key} (${manifest.tier}, taken ${manifest.timestamp}) into a scratch database failed:\n\n${message}\n\n` +
        (backupFailed ? 'The manifest is now marked restorability FAILED. Take a new backup and check the older ones with `dr backups verify-restore --file KEY`.' : 'The backup was not marked; the test itself did not complete.'),
    );
    await publishRestoreTestMetrics({ metrics: o.metrics, store: o.store, clock: o.clock, success: false, log });
    throw failure;
  }
  await publishRestoreTestMetrics({ metrics: o.metrics, store: o.store, clock: o.clock, success: true, log });
  return { ok: true, manifest, manifestKey, scratchDatabase: dbName, tables, sweptDatabases: swept, durationSeconds };
}
