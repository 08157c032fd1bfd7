/**
 * The restore-test metrics (lib/backup-metrics.ts): how old the newest SUCCESSFUL restore test is.
 *
 * The newest successful restore test is the latest `restore_verified_at` among PostgreSQL manifests whose last
 * restore test passed (`restore_test.ok === true`). A manifest whose newest test FAILED does not count, even
 * though it keeps its earlier `restore_verified_at` (withRestoreOutcome keeps it for humans). Every tier is
 * considered: a restore test may target an older weekly or monthly backup.
 *
 * No successful restore test at all ⇒ no age metric; the age alarm's missing-data rule fires on the primary.
 */
import { redact } from '../core/redact';
import { listBackups, readManifest } from './catalog';
import { Manifest } from './manifest';
import { Metrics, ObjectStore, RestoreTestMetric } from './ports';
import { Clock } from '../core/clock';

/** Manifests read at once while looking for the newest successful test (a tier holds at most a few dozen). */
const READ_CONCURRENCY = 8;

/** When the newest successful restore test finished, or undefined when none passed (pure). */
export function newestSuccessfulRestoreTest(manifests: readonly Manifest[]): Date | undefined {
  let newest: number | undefined;
  for (const m of manifests) {
    if (m.service !== 'postgresql' || m.restore_test?.ok !== true || !m.restore_verified_at) continue;
    const t = Date.parse(m.restore_verified_at);
    if (Number.isNaN(t)) continue;
    if (newest === undefined || t > newest) newest = t;
  }
  return newest === undefined ? undefined : new Date(newest);
}

/** Age in whole seconds of a restore test at `at`, seen at `now` (never negative: clocks skew). */
export function restoreTestAgeSeconds(at: Date, now: Date): number {
  return Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
}

/**
 * The manifests of every complete PostgreSQL backup in the store. A manifest that cannot be read or parsed is
 * skipped (and logged): it cannot prove a restore, and one bad object must not hide the others.
 */
async function postgresManifests(store: ObjectStore, log: (l: string) => void): Promise<Manifest[]> {
  const entries = (await listBackups(store, { service: 'postgresql' })).filter((e) => e.complete);
  const out: Manifest[] = [];
  for (let i = 0; i < entries.length; i += READ_CONCURRENCY) {
    const batch = await Promise.all(
      entries.slice(i, i + READ_CONCURRENCY).map((e) =>
        readManifest(store, e.manifestKey).catch((err: unknown) => {
          log(`restore-test age: skipped unreadable manifest ${e.manifestKey}: ${redact(err instanceof Error ? err.message : String(err))}`);
          return undefined;
        }),
      ),
    );
    for (const m of batch) if (m) out.push(m);
  }
  return out;
}

/**
 * The `RestoreTestAgeSeconds` metric for the store's backups at `now`, or undefined when no restore test ever
 * passed. Rejects when the store cannot be listed.
 */
export async function restoreTestAgeMetric(store: ObjectStore, now: Date, log: (l: string) => void = () => undefined): Promise<RestoreTestMetric | undefined> {
  const at = newestSuccessfulRestoreTest(await postgresManifests(store, log));
  return at === undefined ? undefined : { kind: 'restore-test', service: 'postgresql', ageSeconds: restoreTestAgeSeconds(at, now) };
}

/**
 * Publish the restore-test metrics: `RestoreTestSuccess` when `success` is given (restore-test runs), plus
 * `RestoreTestAgeSeconds` when the store can be read and holds a successful test. Never rejects — a metrics
 * problem is logged and must not turn a backup or a restore test into a failure, nor hide the real error;
 * the success datum is still sent when the age cannot be worked out.
 */
export async function publishRestoreTestMetrics(o: { metrics?: Metrics; store?: ObjectStore; clock: Clock; success?: boolean; log?: (l: string) => void }): Promise<void> {
  if (!o.metrics) return;
  const log = o.log ?? (() => undefined);
  let age: RestoreTestMetric | undefined;
  if (o.store) {
    age = await restoreTestAgeMetric(o.store, o.clock.now(), log).catch((err: unknown) => {
      log(`could not work out the restore-test age: ${redact(err instanceof Error ? err.message : String(err))}`);
      return undefined;
    });
  }
  const metric: RestoreTestMetric = { kind: 'restore-test', service: 'postgresql', ...(o.success !== undefined ? { success: o.success } : {}), ...(age ? { ageSeconds: age.ageSeconds } : {}) };
  if (metric.success === undefined && metric.ageSeconds === undefined) return;
  await o.metrics.publish([metric]).catch((err: unknown) => log(`could not publish restore-test metrics: ${redact(err instanceof Error ? err.message : String(err))}`));
}
