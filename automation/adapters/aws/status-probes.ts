/**
 * Production {@link StatusProbes} for `dr status`: Route 53 `GetHealthCheckStatus` (Route 53 is global; its API
 * lives in us-east-1), CloudWatch `GetMetricData` for `AWS/RDS ReplicaLag` in the replica's region, RDS
 * `DescribeDBInstances` for the serving database's posture (Multi-AZ, backups, what is still pending), and the S3
 * object store for the backup listing. Throttling is retried with the bounded backoff.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetHealthCheckStatusCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import type { ObjectStore } from '../../backup/index';
import { S3Store } from './s3-store';
import { AWS_RETRY, isThrottling, withRetry } from './retry';
import { systemClock, type Clock } from '../../core/clock';

export interface HealthCheckState {
  status: 'healthy' | 'unhealthy' | 'unknown';
  /** e.g. `16/16 checkers report success`. */
  detail: string;
}

export interface LagReading {
  seconds?: number;
  /** Timestamp of the datapoint (ISO 8601). */
  observedAt?: string;
}

/** What the serving database has of the primary's posture, and what is still being applied. */
export interface DatabasePosture {
  multi_az: boolean;
  /** A Multi-AZ conversion requested and not finished. */
  multi_az_pending: boolean;
  backup_retention_days: number;
  /** A retention change requested and not applied yet (days). */
  backup_retention_pending_days?: number;
  status: string;
}

export interface StatusProbes {
  healthCheck(healthCheckId: string): Promise<HealthCheckState>;
  replicaLag(region: string, dbIdentifier: string): Promise<LagReading>;
  /** Optional: the serving database's posture (after a failover it is reached online, after traffic moved). */
  databasePosture?(region: string, dbIdentifier: string): Promise<DatabasePosture>;
  store(region: string, bucket: string): ObjectStore;
}

/** Route 53 considers an endpoint healthy when more than 18% of its checkers report it healthy. */
export const ROUTE53_HEALTHY_FRACTION = 0.18;

/** Lag datapoints are looked for in this window (ReplicaLag is published every minute). */
export const LAG_WINDOW_MS = 15 * 60_000;

export interface AwsStatusProbeOptions {
  env: Record<string, string | undefined>;
  clock?: Clock;
  route53?: Route53Client;
  cloudwatch?: (region: string) => CloudWatchClient;
  rds?: (region: string) => RDSClient;
  store?: StatusProbes['store'];
  retry?: Partial<typeof AWS_RETRY>;
}

/** Observations → state: healthy when more than 18% of the checkers report success. */
export function healthFromObservations(statuses: string[]): HealthCheckState {
  if (statuses.length === 0) return { status: 'unknown', detail: 'no checker has reported yet' };
  const ok = statuses.filter((s) => /^Success/i.test(s)).length;
  const healthy = ok / statuses.length > ROUTE53_HEALTHY_FRACTION;
  const failure = statuses.find((s) => !/^Success/i.test(s));
  return { status: healthy ? 'healthy' : 'unhealthy', detail: `${ok}/${statuses.length} checkers report success${!healthy && failure ? `; e.g. ${failure}` : ''}` };
}

export function awsStatusProbes(o: AwsStatusProbeOptions): StatusProbes {
  const clock = o.clock ?? systemClock;
  const retry = { ...AWS_RETRY, ...o.retry };
  const r53 = o.route53 ?? new Route53Client({ region: 'us-east-1' });
  const cws = new Map<string, CloudWatchClient>();
  const cw = (region: string) => {
    if (o.cloudwatch) return o.cloudwatch(region);
    let c = cws.get(region);
    if (!c) cws.set(region, (c = new CloudWatchClient({ region })));
    return c;
  };
  const rdss = new Map<string, RDSClient>();
  const rds = (region: string) => {
    if (o.rds) return o.rds(region);
    let c = rdss.get(region);
    if (!c) rdss.set(region, (c = new RDSClient({ region })));
    return c;
  };
  const call = <T>(what: string, fn: () => Promise<T>) => withRetry(fn, { ...retry, retryable: isThrottling, clock, what });
  return {
    async healthCheck(id: string): Promise<HealthCheckState> {
      const out = await call(`Route 53 GetHealthCheckStatus ${id}`, () => r53.send(new GetHealthCheckStatusCommand({ HealthCheckId: id })));
      return healthFromObservations((out.HealthCheckObservations ?? []).map((x) => x.StatusReport?.Status ?? ''));
    },
    async replicaLag(region: string, dbIdentifier: string): Promise<LagReading> {
      const end = clock.now();
      const out = await call(`CloudWatch GetMetricData ReplicaLag ${dbIdentifier} in ${region}`, () =>
        cw(region).send(
          new GetMetricDataCommand({
            StartTime: new Date(end.getTime() - LAG_WINDOW_MS),
            EndTime: end,
            ScanBy: 'TimestampDescending',
            MetricDataQueries: [
              {
                Id: 'lag',
                MetricStat: { Metric: { Namespace: 'AWS/RDS', MetricName: 'ReplicaLag', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: dbIdentifier }] }, Period: 60, Stat: 'Maximum' },
                ReturnData: true,
              },
            ],
          }),
        ),
      );
      const r = (out.MetricDataResults ?? []).find((x) => x.Id === 'lag');
      const values = r?.Values ?? [];
      const stamps = r?.Timestamps ?? [];
      if (values.length === 0) return {};
      return { seconds: values[0], ...(stamps[0] ? { observedAt: new Date(stamps[0]).toISOString() } : {}) };
    },
    async databasePosture(region: string, dbIdentifier: string): Promise<DatabasePosture> {
      const out = await call(`RDS DescribeDBInstances ${dbIdentifier} in ${region}`, () => rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: dbIdentifier })));
      const i = out.DBInstances?.[0];
      const pending = i?.PendingModifiedValues ?? {};
      return {
        multi_az: i?.MultiAZ ?? false,
        multi_az_pending: pending.MultiAZ === true,
        backup_retention_days: i?.BackupRetentionPeriod ?? 0,
        ...(pending.BackupRetentionPeriod !== undefined ? { backup_retention_pending_days: pending.BackupRetentionPeriod } : {}),
        status: i?.DBInstanceStatus ?? 'unknown',
      };
    },
    store: o.store ?? ((region, bucket) => new S3Store({ bucket, region, env: o.env })),
  };
}
