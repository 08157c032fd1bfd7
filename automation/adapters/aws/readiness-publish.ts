/**
 * Where a readiness run on AWS leaves its result (the `readiness` Lambda, issue 14):
 *  - CloudWatch `PutMetricData` ×1 in the function's region, namespace `BotDR/Readiness` (lib/readiness.ts
 *    READINESS_METRICS): `DrReady` (0 not-ready, 1 degraded, 2 ready) with `Region`, and `DrCheckFailed` with
 *    `Region` and `Check` for EVERY check of the AWS environment (the number of its failed results: 0 when it passes,
 *    so an alarm or a dashboard sees a check recover);
 *  - S3 `PutObject` ×2 in the region's backup bucket: `readiness/<region>/latest.json` (overwritten) and the day's
 *    copy `readiness/<region>/<YYYY-MM-DD>.json` (the last run of the day; the bucket's lifecycle expires them).
 * The report holds identifiers and reasons only (the engine redacts them), never a secret.
 */
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { READINESS_METRICS, readinessReportKeys, readyMetricValue, type ReadinessReport } from '../../../lib/readiness';

export interface ReadinessPublishTarget {
  region: string;
  bucket: string;
  namespace?: string;
  cloudwatch: CloudWatchClient;
  s3: S3Client;
}

/** The datums of one report: DrReady, then DrCheckFailed per check name in `checkNames` (every name, in order). */
export function readinessDatums(report: ReadinessReport, region: string, checkNames: readonly string[]): MetricDatum[] {
  const at = new Date(report.at);
  const M = READINESS_METRICS;
  const failed = (name: string) => report.checks.filter((c) => c.name === name && c.status === 'fail').length;
  return [
    { MetricName: M.ready, Dimensions: [{ Name: M.regionDimension, Value: region }], Value: readyMetricValue(report.verdict), Unit: 'None', Timestamp: at },
    ...checkNames.map((name) => ({ MetricName: M.checkFailed, Dimensions: [{ Name: M.regionDimension, Value: region }, { Name: M.checkDimension, Value: name }], Value: failed(name), Unit: 'Count' as const, Timestamp: at })),
  ];
}

/** Publish the metrics and store the report; returns what was written. Rejects on the first failure. */
export async function publishReadiness(report: ReadinessReport, t: ReadinessPublishTarget, checkNames: readonly string[]): Promise<{ datums: number; keys: string[] }> {
  const datums = readinessDatums(report, t.region, checkNames);
  // PutMetricData takes up to 1000 datums per request: 1 + the check names (31) fit in one.
  await t.cloudwatch.send(new PutMetricDataCommand({ Namespace: t.namespace ?? READINESS_METRICS.namespace, MetricData: datums }));
  const keys = readinessReportKeys(t.region, new Date(report.at));
  const body = JSON.stringify(report, null, 2);
  for (const key of [keys.latest, keys.daily]) await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: body, ContentType: 'application/json' }));
  return { datums: datums.length, keys: [keys.latest, keys.daily] };
}
