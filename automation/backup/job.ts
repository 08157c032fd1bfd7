/**
 * The scheduled backup job (what the Lambda runs), independent of AWS: backup → snapshots → metrics, and on
 * any failure a notification plus `BackupSuccess=0`, then the error is rethrown (so the Lambda's on-failure
 * destination gets the event too).
 *
 * Metrics contract (lib/backup-metrics.ts): every run publishes `BackupAgeSeconds` for every tier of its
 * service that has a complete backup, so a tier whose own schedule stopped is still seen ageing. A PostgreSQL run
 * (success or failure) also publishes `RestoreTestAgeSeconds`, the age of the newest successful restore test,
 * so a restore-test schedule that stopped is seen ageing daily too (nothing when no test ever passed).
 */
import { BACKUP_TIERS, BackupService, BackupTier } from '../../lib/lifecycle';
import { runbookLine } from '../../lib/runbook';
import { redact } from '../core/redact';
import { listBackups } from './catalog';
import { SHRINK_THRESHOLD } from './check';
import { stampOf } from './keys';
import { backupPostgres, Log } from './postgres';
import { backupRedis, backupRedisFromExport } from './redis';
import { restoreTestAgeMetric } from './restore-metrics';
import { BackupMetric, CacheExporter, CacheSnapshots, DbSnapshots, Metrics, Notifier, ObjectStore, PgTools, PublishedMetric, RedisTools } from './ports';
import { RetentionCounts } from './retention';
import type { RunnerRecord } from './manifest';
import { Clock } from '../core/clock';
import { OperationError } from '../core/errors';

export interface JobEvent {
  service: BackupService;
  tier: BackupTier;
}

export interface JobDeps {
  store: ObjectStore;
  clock: Clock;
  keep: RetentionCounts;
  metrics: Metrics;
  notifier?: Notifier;
  log: Log;
  pg?: { url: string; tools: PgTools; snapshots?: DbSnapshots };
  /**
   * With `exporter` (ElastiCache, which refuses SYNC) the portable RDB is the tier's snapshot exported to the
   * bucket under `exportPrefix`; without it, `redis-cli --rdb` streams it.
   */
  redis?: { url: string; tools: RedisTools; snapshots?: CacheSnapshots; exporter?: CacheExporter; exportPrefix?: string };
  /** Environment label for messages (e.g. region). */
  where: string;
  /** The runner this job runs on and its limits (recorded in PostgreSQL manifests). */
  runner?: RunnerRecord;
}

export interface JobResult {
  service: BackupService;
  tier: BackupTier;
  key: string;
  sizeBytes: number;
  checksum: string;
  snapshots: string[];
  prunedSnapshots: string[];
  prunedObjects: string[];
}

/** RDS manual snapshots are made for these tiers (daily is covered by automated backups/PITR). */
export const RDS_SNAPSHOT_TIERS: readonly BackupTier[] = ['weekly', 'monthly'];

export async function runBackupJob(event: JobEvent, d: JobDeps): Promise<JobResult> {
  const started = d.clock.now();
  try {
    let result: JobResult;
    if (event.service === 'postgresql') {
      if (!d.pg) throw new OperationError('postgresql job without database connection details');
      const b = await backupPostgres({ url: d.pg.url, tier: event.tier, store: d.store, tools: d.pg.tools, clock: d.clock, keep: d.keep, log: d.log, runner: d.runner });
      const snapshots: string[] = [];
      const pruned: string[] = [];
      if (d.pg.snapshots && RDS_SNAPSHOT_TIERS.includes(event.tier)) {
        const s = await d.pg.snapshots.createAndCopy(event.tier, stampOf(started), d.log);
        snapshots.push(s.snapshotId, ...(s.copyId ? [`peer:${s.copyId}`] : []));
        pruned.push(...(await d.pg.snapshots.prune(event.tier, d.keep[event.tier], d.log)));
      }
      result = { service: 'postgresql', tier: event.tier, key: b.manifest.key, sizeBytes: b.manifest.size_bytes, checksum: b.manifest.checksum, snapshots, prunedSnapshots: pruned, prunedObjects: b.pruned.deleteKeys };
    } else {
      if (!d.redis) throw new OperationError('redis job without cache connection details');
      const snapshots: string[] = [];
      const pruned: string[] = [];
      const r = d.redis;
      let b;
      if (r.exporter) {
        if (!r.snapshots) throw new OperationError('redis export mode needs ElastiCache snapshots (CACHE_REPLICATION_GROUP_ID)');
        const snap = (await r.snapshots.create(event.tier, stampOf(started), d.log)).snapshotName;
        snapshots.push(snap);
        b = await backupRedisFromExport({ url: r.url, tier: event.tier, store: d.store, tools: r.tools, exporter: r.exporter, snapshotName: snap, exportPrefix: r.exportPrefix ?? 'redis/exports/', clock: d.clock, keep: d.keep, log: d.log });
        // Prune only after the new snapshot was exported and committed: a failed run never shrinks the tier.
        pruned.push(...(await r.snapshots.prune(event.tier, d.keep[event.tier], d.log)));
      } else {
        // The ElastiCache snapshot first: it is the AWS-native copy and does not depend on SYNC being allowed.
        if (r.snapshots) {
          snapshots.push((await r.snapshots.create(event.tier, stampOf(started), d.log)).snapshotName);
          pruned.push(...(await r.snapshots.prune(event.tier, d.keep[event.tier], d.log)));
        }
        b = await backupRedis({ url: r.url, tier: event.tier, store: d.store, tools: r.tools, clock: d.clock, keep: d.keep, log: d.log });
      }
      result = { service: 'redis', tier: event.tier, key: b.manifest.key, sizeBytes: b.manifest.size_bytes, checksum: b.manifest.checksum, snapshots, prunedSnapshots: pruned, prunedObjects: b.pruned.deleteKeys };
    }
    const published: PublishedMetric[] = await ageMetrics(d.store, event, d.clock.now(), { success: true, sizeBytes: result.sizeBytes });
    await d.metrics.publish([...published, ...(await restoreAge(d, event))]);
    await warnIfShrunk(d, event, result).catch((e: unknown) => d.log(`could not compare with the previous backup: ${redact(String(e))}`));
    return result;
  } catch (err) {
    const message = redact(err instanceof Error ? err.message : String(err));
    d.log(`backup job failed: ${message}`);
    const metrics = await ageMetrics(d.store, event, d.clock.now(), { success: false }).catch(() => [{ service: event.service, tier: event.tier, success: false }] as BackupMetric[]);
    await d.metrics.publish([...metrics, ...(await restoreAge(d, event))]).catch((e: unknown) => d.log(`could not publish metrics: ${redact(String(e))}`));
    if (d.notifier) {
      await d.notifier
        .notify(`[bot-dr] ${event.service} ${event.tier} backup FAILED (${d.where})`, `The ${event.tier} ${event.service} backup started at ${started.toISOString()} in ${d.where} failed:\n\n${message}\n\nNo manifest was written for this run; the previous backups are untouched.\n\n${runbookLine('INC-007')}`)
        .catch((e: unknown) => d.log(`could not notify: ${redact(String(e))}`));
    }
    throw err;
  }
}

/**
 * A backup that "succeeds" but is more than 50% smaller than the previous one of its tier is the classic sign
 * of a job dumping the wrong or an emptied database: keep it (it is what the database holds) but alert.
 */
async function warnIfShrunk(d: JobDeps, event: JobEvent, result: JobResult): Promise<void> {
  if (!d.notifier) return;
  const tier = (await listBackups(d.store, { service: event.service, tier: event.tier })).filter((e) => e.complete && e.dataKey !== result.key);
  const prev = tier.at(-1);
  if (!prev?.size || result.sizeBytes >= prev.size * SHRINK_THRESHOLD) return;
  const pct = Math.round((1 - result.sizeBytes / prev.size) * 100);
  d.log(`warning: ${result.key} is ${pct}% smaller than the previous ${event.tier} backup`);
  await d.notifier.notify(
    `[bot-dr] ${event.service} ${event.tier} backup suspiciously small (${d.where})`,
    `${result.key} is ${result.sizeBytes} bytes, ${pct}% smaller than the previous ${event.tier} backup ${prev.dataKey} (${prev.size} bytes).\n\n` +
      'The backup was kept. Check that the job dumps the right database and that no data was lost; `dr backups check` shows the same finding.\n\n' +
      runbookLine('INC-005'),
  );
}

/** RestoreTestAgeSeconds for a PostgreSQL run; none for Redis, none when no test passed or the store failed. */
async function restoreAge(d: JobDeps, event: JobEvent): Promise<PublishedMetric[]> {
  if (event.service !== 'postgresql') return [];
  const m = await restoreTestAgeMetric(d.store, d.clock.now(), d.log).catch((e: unknown) => {
    d.log(`could not work out the restore-test age: ${redact(String(e))}`);
    return undefined;
  });
  return m ? [m] : [];
}

/** BackupSuccess for this run's tier, plus BackupAgeSeconds for every tier of the service that has a backup. */
async function ageMetrics(store: ObjectStore, event: JobEvent, now: Date, run: { success: boolean; sizeBytes?: number }): Promise<BackupMetric[]> {
  const entries = (await listBackups(store, { service: event.service })).filter((e) => e.complete);
  const out: BackupMetric[] = [];
  for (const tier of BACKUP_TIERS) {
    const newest = entries.filter((e) => e.tier === tier).at(-1);
    const age = newest ? Math.max(0, Math.round((now.getTime() - newest.date.getTime()) / 1000)) : undefined;
    if (tier === event.tier) out.push({ service: event.service, tier, success: run.success, ageSeconds: age, sizeBytes: run.success ? run.sizeBytes : undefined });
    else if (age !== undefined) out.push({ service: event.service, tier, ageSeconds: age });
  }
  return out;
}
