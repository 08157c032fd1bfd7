import assert from 'node:assert/strict';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetHealthCheckStatusCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { buildAwsTopology } from '../../automation/adapters/aws/topology';
import { awsStatus, formatAwsStatus, postureGap } from '../../automation/ops/status';
import { awsStatusProbes, healthFromObservations } from '../../automation/adapters/aws/status-probes';
import { MemoryStore } from '../helpers/memory-store';
import { primaryOutputs, secondaryOutputs } from '../helpers/aws-fixtures';

const now = new Date('2026-05-01T12:00:00Z');
const clock = { now: () => now, sleep: async () => undefined };
const topology = () =>
  buildAwsTopology({ primary: { name: 'acme/bot-platform-dr/primary', outputs: primaryOutputs() }, secondary: { name: 'acme/bot-platform-dr/secondary', outputs: secondaryOutputs() } });

function bucketWithBackups(): MemoryStore {
  const s = new MemoryStore('s3://botdr-use1-backups-20260101');
  for (const k of ['postgresql/daily/backup_20260501_030000.dump', 'postgresql/weekly/backup_20260426_030000.dump', 'redis/daily/backup_20260501_040000.rdb']) {
    s.objects.set(k, Buffer.from('data'));
    s.objects.set(`${k}.metadata.json`, Buffer.from('{}'));
  }
  s.objects.set('postgresql/daily/backup_20260501_110000.dump', Buffer.from('incomplete: no manifest')); // not counted
  return s;
}

describe('dr status on AWS (aws-sdk-client-mock)', () => {
  // Class-level mocks exist only while this suite runs (other suites mock client instances).
  let r53: AwsClientStub<Route53Client>;
  let cw: AwsClientStub<CloudWatchClient>;
  let rds: AwsClientStub<RDSClient>;
  before(() => {
    r53 = mockClient(Route53Client);
    cw = mockClient(CloudWatchClient);
    rds = mockClient(RDSClient);
  });
  after(() => {
    r53.restore();
    cw.restore();
    rds.restore();
  });
  beforeEach(() => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: 'botdr-use1-pg', DBInstanceStatus: 'available', MultiAZ: true, BackupRetentionPeriod: 14, PendingModifiedValues: {} }] });
  });
  afterEach(() => {
    r53.reset();
    cw.reset();
    rds.reset();
  });

  function probes(stores: Record<string, MemoryStore>) {
    return awsStatusProbes({ env: {}, clock, route53: new Route53Client({ region: 'us-east-1' }), cloudwatch: (region) => new CloudWatchClient({ region }), rds: (region) => new RDSClient({ region }), store: (_r, bucket) => stores[bucket] ?? new MemoryStore(`s3://${bucket}`), retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 } });
  }

  it('both regions: role, endpoints, health checks, replica lag, newest backup per tier, predicted RTO/RPO', async () => {
    r53.on(GetHealthCheckStatusCommand, { HealthCheckId: 'hc-primary-0001' }).resolves({ HealthCheckObservations: Array.from({ length: 8 }, () => ({ StatusReport: { Status: 'Success: HTTP Status Code 200, OK' } })) });
    r53.on(GetHealthCheckStatusCommand, { HealthCheckId: 'hc-secondary-0002' }).resolves({ HealthCheckObservations: Array.from({ length: 8 }, () => ({ StatusReport: { Status: 'Failure: Connection timed out' } })) });
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [3, 5], Timestamps: [new Date('2026-05-01T11:59:00Z'), new Date('2026-05-01T11:58:00Z')] }] });
    const s = await awsStatus({ topology: topology(), probes: probes({ 'botdr-use1-backups-20260101': bucketWithBackups() }), now });

    const [p, sec] = s.regions;
    assert.equal(p.role, 'primary');
    assert.equal(p.endpoints.database, 'botdr-use1-pg.abc123.us-east-1.rds.amazonaws.com:5432');
    assert.deepEqual(p.health_check, { id: 'hc-primary-0001', status: 'healthy', detail: '8/8 checkers report success' });
    assert.equal(sec.health_check?.status, 'unhealthy');
    assert.equal(p.replica_lag, undefined, 'no lag for the primary');
    assert.deepEqual(sec.replica_lag, { seconds: 3, observed_at: '2026-05-01T11:59:00.000Z' });
    assert.deepEqual(p.backups.postgresql?.daily, { key: 'postgresql/daily/backup_20260501_030000.dump', at: '2026-05-01T03:00:00.000Z', age_seconds: 9 * 3600 });
    assert.equal(p.backups.postgresql?.weekly?.age_seconds, 5 * 86400 + 9 * 3600);
    assert.equal(p.backups.redis?.daily?.key, 'redis/daily/backup_20260501_040000.rdb');
    assert.equal(p.backups.postgresql?.monthly, undefined);

    // Exact calls: the lag of the replica (secondary) from CloudWatch in its own region, over the last 15 minutes.
    const calls = cw.commandCalls(GetMetricDataCommand);
    assert.equal(calls.length, 1);
    const input = calls[0].args[0].input;
    assert.deepEqual(input.MetricDataQueries?.[0].MetricStat?.Metric, { Namespace: 'AWS/RDS', MetricName: 'ReplicaLag', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'botdr-usw2-pg' }] });
    assert.equal(input.ScanBy, 'TimestampDescending');
    assert.equal(input.EndTime?.getTime(), now.getTime());
    assert.equal(now.getTime() - input.StartTime!.getTime(), 15 * 60_000);
    assert.equal(await calls[0].thisValue.config.region(), 'us-west-2');
    assert.deepEqual(r53.commandCalls(GetHealthCheckStatusCommand).map((c) => c.args[0].input.HealthCheckId).sort(), ['hc-primary-0001', 'hc-secondary-0002']);

    assert.equal(s.predicted.rpo.seconds, 3);
    assert.equal(s.predicted.rpo.meets_target, true);
    assert.equal(s.predicted.rto.seconds, 30 + 60 + 600 + 120 + 10 + 60 + 10, 'traffic first: detection, TTL, promotions, secrets, DNS, verify');
    assert.equal(s.predicted.rto.meets_target, true);
    assert.deepEqual(rds.commandCalls(DescribeDBInstancesCommand).map((c) => c.args[0].input), [{ DBInstanceIdentifier: 'botdr-use1-pg' }], 'the serving database only');
    assert.equal(p.posture?.reached, true);
    const text = formatAwsStatus(s);
    assert.match(text, /us-east-1 {2}PRIMARY {2}stack acme\/bot-platform-dr\/primary/);
    assert.match(text, /health {5}UNHEALTHY/);
    assert.match(text, /postgresql daily 9 h ago, weekly 5 d 9 h ago, monthly none/);
    assert.match(text, /Predicted RPO: 3 s — target < 15 min: MEETS/);
    assert.match(text, /detection {12}30 s/);
    assert.match(text, /then reconcile {7}5 min {10}after traffic moved, not counted/);
    assert.match(text, /posture {4}primary posture \(Multi-AZ, backups 14 days, available\)/);
  });

  it('after a failover the serving database shows what it still lacks of the primary posture until it is reached', async () => {
    r53.on(GetHealthCheckStatusCommand).resolves({ HealthCheckObservations: [] });
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [], Timestamps: [] }] });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'modifying', MultiAZ: false, BackupRetentionPeriod: 0, PendingModifiedValues: { MultiAZ: true, BackupRetentionPeriod: 14 } }] });
    const s = await awsStatus({ topology: topology(), probes: probes({}), now });
    assert.deepEqual(s.regions[0].posture?.missing, ['Multi-AZ (conversion under way)', 'backups (retention 0 → 14 days under way)']);
    assert.ok(s.predicted.rto.warnings.some((w) => /lacks the primary's posture: Multi-AZ \(conversion under way\)/.test(w)));
    assert.match(formatAwsStatus(s), /posture {4}NOT YET: Multi-AZ \(conversion under way\), backups \(retention 0 → 14 days under way\) \(single-AZ, backups 0 days, modifying\)/);
    assert.deepEqual(postureGap({ multi_az: false, multi_az_pending: false, backup_retention_days: 14, status: 'available' }), { reached: false, missing: ['Multi-AZ'] });
  });

  it('a region that does not answer is reported, not fatal; RPO falls back to the backup age', async () => {
    r53.on(GetHealthCheckStatusCommand).resolves({ HealthCheckObservations: [] });
    const down = Object.assign(new Error('getaddrinfo ENOTFOUND monitoring.us-west-2.amazonaws.com'), { code: 'ENOTFOUND' });
    cw.on(GetMetricDataCommand).rejects(down);
    const s = await awsStatus({ topology: topology(), probes: probes({ 'botdr-use1-backups-20260101': bucketWithBackups() }), now });
    const sec = s.regions[1];
    assert.deepEqual(sec.replica_lag, { seconds: null });
    assert.match(sec.errors.join('\n'), /ReplicaLag of botdr-usw2-pg in us-west-2: .*ENOTFOUND/);
    assert.equal(s.regions[0].health_check?.status, 'unknown');
    assert.equal(s.predicted.rpo.seconds, 9 * 3600, 'newest complete PostgreSQL backup: 03:00, 9 h ago');
    assert.equal(s.predicted.rpo.meets_target, false);
    assert.match(formatAwsStatus(s), /ERROR {6}ReplicaLag/);
  });

  it('throttling is retried (bounded), then reported', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    r53.on(GetHealthCheckStatusCommand).rejectsOnce(throttled).resolves({ HealthCheckObservations: [{ StatusReport: { Status: 'Success: HTTP Status Code 200' } }] });
    cw.on(GetMetricDataCommand).rejects(throttled);
    const s = await awsStatus({ topology: topology(), probes: probes({}), now });
    assert.equal(s.regions[0].health_check?.status, 'healthy');
    assert.equal(cw.commandCalls(GetMetricDataCommand).length, 3, 'three attempts, then give up');
    assert.match(s.regions[1].errors.join(' '), /Rate exceeded/);
    assert.equal(s.predicted.rpo.seconds, null, 'no lag and no backup: unknown');
  });

  it('no lag datapoint in the window is "unknown", not zero', async () => {
    r53.on(GetHealthCheckStatusCommand).resolves({ HealthCheckObservations: [] });
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [], Timestamps: [] }] });
    const s = await awsStatus({ topology: topology(), probes: probes({}), now });
    assert.deepEqual(s.regions[1].replica_lag, { seconds: null });
    assert.equal(s.predicted.rpo.meets_target, false);
  });

  it('Route 53 health: healthy above 18% of checkers', () => {
    assert.equal(healthFromObservations(['Success: 200', 'Failure: timeout', 'Failure: timeout', 'Failure: timeout']).status, 'healthy');
    assert.equal(healthFromObservations(['Success: 200', ...Array(9).fill('Failure: timeout')]).status, 'unhealthy');
    assert.equal(healthFromObservations([]).status, 'unknown');
  });
});
