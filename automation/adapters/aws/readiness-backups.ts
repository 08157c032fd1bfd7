/**
 * The backups area of the AWS readiness observer: both buckets' backups (the backup engine's catalog over S3),
 * the newest restore test among the PostgreSQL manifests of one bucket (the standby's: it is what is left when the
 * serving region is lost), and S3's `OperationsFailedReplication` from the serving bucket to the standby's.
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { listBackups, readManifest, type BackupEntry, type Manifest } from '../../backup/index';
import { errorSummary } from '../../core/errors';
import { redact } from '../../core/redact';
import { observationFailed, type BackupsObservation, type BackupView } from '../../readiness';
import { S3_REPLICATION_RULE_ID } from '../../../lib/readiness';
import type { AwsReadiness, Orientation } from './readiness-observer';
import { S3Store } from './s3-store';

const why = (err: unknown) => redact(errorSummary(err));
const READ_CONCURRENCY = 8;

export async function observeAwsBackups(r: AwsReadiness, or: Orientation, windowHours: number): Promise<BackupsObservation> {
  const regions = [or.serving, or.standby];
  const listed = await Promise.all(
    regions.map(async (t) => {
      const store = new S3Store({ bucket: t.bucketName, region: t.region, client: r.s3('backups', t.region) });
      try {
        return { t, store, entries: await listBackups(store) };
      } catch (err) {
        return { t, store, error: `listing s3://${t.bucketName}: ${why(err)}` };
      }
    }),
  );
  const buckets = listed.map((l) => ({ region: l.t.region, bucket: l.t.bucketName, entries: l.entries ? l.entries.map(view) : observationFailed(l.error!) }));
  const source = listed.find((l) => l.t === or.standby && l.entries) ?? listed.find((l) => l.entries);
  const restoreTest: BackupsObservation['restoreTest'] = source
    ? await newestRestoreTest(source.store, source.entries!).then((newest) => ({ bucket: source.t.bucketName, ...(newest ? { newest } : {}) }), (e: unknown) => observationFailed(`reading manifests in s3://${source.t.bucketName}: ${why(e)}`))
    : observationFailed('neither bucket could be listed');
  return { tiers: ['daily', 'weekly', 'monthly'], buckets, restoreTest, replication: await failedReplication(r, or, windowHours) };
}

function view(e: BackupEntry): BackupView {
  return { service: e.service, tier: e.tier, dataKey: e.dataKey, date: e.date.toISOString(), complete: e.complete };
}

/** The newest restore test (by its `restore_test.at`) among the complete PostgreSQL backups' manifests. */
async function newestRestoreTest(store: S3Store, entries: BackupEntry[]): Promise<{ at: string; ok: boolean; key: string; error?: string } | undefined> {
  const pg = entries.filter((e) => e.service === 'postgresql' && e.complete);
  const manifests: Manifest[] = [];
  for (let i = 0; i < pg.length; i += READ_CONCURRENCY) {
    // An unreadable manifest proves nothing either way: it is skipped, like the restore-test age metric does.
    const batch = await Promise.all(pg.slice(i, i + READ_CONCURRENCY).map((e) => readManifest(store, e.manifestKey).catch(() => undefined)));
    for (const m of batch) if (m) manifests.push(m);
  }
  let newest: { at: string; ok: boolean; key: string; error?: string } | undefined;
  for (const m of manifests) {
    const t = m.restore_test;
    if (!t?.at || Number.isNaN(Date.parse(t.at))) continue;
    if (!newest || Date.parse(t.at) > Date.parse(newest.at)) newest = { at: new Date(t.at).toISOString(), ok: t.ok === true && m.restorability === 'VERIFIED', key: m.key, ...(t.error ? { error: redact(t.error) } : {}) };
  }
  return newest;
}

/** Sum of OperationsFailedReplication from the serving bucket to the standby's over the window (null: no datapoint). */
async function failedReplication(r: AwsReadiness, or: Orientation, windowHours: number): Promise<BackupsObservation['replication']> {
  const source = or.serving.bucketName;
  const destination = or.standby.bucketName;
  const end = r.clock.now();
  try {
    const out = await r.call('backups', `CloudWatch GetMetricData OperationsFailedReplication ${source} in ${or.serving.region}`, () =>
      r.o.clients.cloudwatch(or.serving.region).send(
        new GetMetricDataCommand({
          StartTime: new Date(end.getTime() - windowHours * 3600_000),
          EndTime: end,
          MetricDataQueries: [
            {
              Id: 'failed',
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/S3',
                  MetricName: 'OperationsFailedReplication',
                  Dimensions: [
                    { Name: 'SourceBucket', Value: source },
                    { Name: 'DestinationBucket', Value: destination },
                    { Name: 'RuleId', Value: S3_REPLICATION_RULE_ID },
                  ],
                },
                Period: 3600,
                Stat: 'Sum',
              },
              ReturnData: true,
            },
          ],
        }),
      ),
    );
    const values = (out.MetricDataResults ?? []).find((x) => x.Id === 'failed')?.Values ?? [];
    return { source, destination, failed: values.length ? values.reduce((a, b) => a + b, 0) : null, windowHours };
  } catch (err) {
    return observationFailed(`CloudWatch OperationsFailedReplication in ${or.serving.region}: ${why(err)}`);
  }
}
