/**
 * CloudWatch metrics for backups, in the namespace the alarms watch (lib/backup-metrics.ts):
 * `BackupSuccess` (1/0), `BackupAgeSeconds`, `BackupSizeBytes`, each with dimensions Service and Tier; and the
 * restore-test metrics `RestoreTestSuccess` (1/0) and `RestoreTestAgeSeconds`, with the Service dimension only.
 */
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { BACKUP_AGE_METRIC, BACKUP_METRIC_DIMENSIONS, BACKUP_METRICS_NAMESPACE, RESTORE_TEST_AGE_METRIC, RESTORE_TEST_SUCCESS_METRIC } from '../../../lib/backup-metrics';
import type { Metrics, PublishedMetric } from '../../backup/index';

export const BACKUP_SUCCESS_METRIC = 'BackupSuccess';
export const BACKUP_SIZE_METRIC = 'BackupSizeBytes';

export function metricData(metrics: readonly PublishedMetric[], at: Date): MetricDatum[] {
  const out: MetricDatum[] = [];
  for (const m of metrics) {
    if ('kind' in m) {
      const Dimensions = [{ Name: BACKUP_METRIC_DIMENSIONS.service, Value: m.service }];
      if (m.success !== undefined) out.push({ MetricName: RESTORE_TEST_SUCCESS_METRIC, Dimensions, Value: m.success ? 1 : 0, Unit: 'Count', Timestamp: at });
      if (m.ageSeconds !== undefined) out.push({ MetricName: RESTORE_TEST_AGE_METRIC, Dimensions, Value: m.ageSeconds, Unit: 'Seconds', Timestamp: at });
      continue;
    }
    const Dimensions = [
      { Name: BACKUP_METRIC_DIMENSIONS.service, Value: m.service },
      { Name: BACKUP_METRIC_DIMENSIONS.tier, Value: m.tier },
    ];
    if (m.success !== undefined) out.push({ MetricName: BACKUP_SUCCESS_METRIC, Dimensions, Value: m.success ? 1 : 0, Unit: 'Count', Timestamp: at });
    if (m.ageSeconds !== undefined) out.push({ MetricName: BACKUP_AGE_METRIC, Dimensions, Value: m.ageSeconds, Unit: 'Seconds', Timestamp: at });
    if (m.sizeBytes !== undefined) out.push({ MetricName: BACKUP_SIZE_METRIC, Dimensions, Value: m.sizeBytes, Unit: 'Bytes', Timestamp: at });
  }
  return out;
}

export class CloudWatchMetrics implements Metrics {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly namespace = BACKUP_METRICS_NAMESPACE,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async publish(metrics: readonly PublishedMetric[]): Promise<void> {
    const data = metricData(metrics, this.now());
    // PutMetricData takes up to 1000 datums per call; stay far below.
    for (let i = 0; i < data.length; i += 100) {
      await this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: data.slice(i, i + 100) }));
    }
  }
}
