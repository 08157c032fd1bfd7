import * as assert from 'node:assert/strict';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CopyDBSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { CreateSnapshotCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CloudWatchMetrics } from '../../automation/adapters/aws/metrics';
import { SnsNotifier } from '../../automation/adapters/aws/sns-notifier';
import { ElastiCacheSnapshots, RdsSnapshots } from '../../automation/adapters/aws/snapshots';
import { parseUntil } from '../../automation/adapters/aws/pitr';
import { runJob } from '../../automation/lambda/handler';
import { S3Store } from '../../automation/adapters/aws/s3-store';
import { dr } from '../helpers/cli';
import { usePostgres, useS3 } from '../helpers/services';

const notFound = () => Object.assign(new Error('DBInstance db-a not found'), { name: 'DBInstanceNotFoundFault' });

describe('backup: AWS adapters (aws-sdk-client-mock)', () => {
  // Mocks are installed in before/after (not at describe time) so suites never undo each other's stubs.
  const install = () => ({ rds: mockClient(RDSClient), cache: mockClient(ElastiCacheClient), cw: mockClient(CloudWatchClient), sns: mockClient(SNSClient) });
  let rds: ReturnType<typeof install>['rds'];
  let cache: ReturnType<typeof install>['cache'];
  let cw: ReturnType<typeof install>['cw'];
  let sns: ReturnType<typeof install>['sns'];
  before(() => {
    ({ rds, cache, cw, sns } = install());
  });
  beforeEach(() => {
    rds.reset();
    cache.reset();
    cw.reset();
    sns.reset();
  });
  after(() => {
    rds.restore();
    cache.restore();
    cw.restore();
    sns.restore();
  });

  it('RDS: weekly snapshot, wait available, copy to the peer with the peer key, prune beyond keep by prefix+tag', async () => {
    const arn = 'arn:aws:rds:eu-west-1:111122223333:snapshot:bot-dr-weekly-20250601-040000';
    rds.on(CreateDBSnapshotCommand).resolves({});
    rds.on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'bot-dr-weekly-20250601-040000' }).resolvesOnce({ DBSnapshots: [{ Status: 'creating' }] }).resolves({ DBSnapshots: [{ Status: 'available', DBSnapshotArn: arn }] });
    rds.on(CopyDBSnapshotCommand).resolves({});
    const weekly = (id: string, day: number, tier = 'weekly') => ({ DBSnapshotIdentifier: id, Status: 'available', SnapshotCreateTime: new Date(Date.UTC(2025, 4, day)), TagList: [{ Key: 'dr:tier', Value: tier }] });
    rds.on(DescribeDBSnapshotsCommand, { DBInstanceIdentifier: 'db-a', SnapshotType: 'manual' }).resolves({
      DBSnapshots: [
        weekly('bot-dr-weekly-a', 1), weekly('bot-dr-weekly-b', 8), weekly('bot-dr-weekly-c', 15), weekly('bot-dr-weekly-d', 22), weekly('bot-dr-weekly-e', 29),
        weekly('someone-elses-weekly', 2),
        weekly('bot-dr-weekly-untagged', 3, 'monthly'),
      ],
    });
    rds.on(DeleteDBSnapshotCommand).resolves({});
    const peer = new RDSClient({ region: 'eu-central-1' });
    const s = new RdsSnapshots({ rds: new RDSClient({ region: 'eu-west-1' }), region: 'eu-west-1', instanceId: 'db-a', prefix: 'bot-dr', peer: { rds: peer, region: 'eu-central-1', kmsKeyId: 'arn:aws:kms:eu-central-1:111122223333:key/peer' }, pollMs: 0 });
    const out = await s.createAndCopy('weekly', '20250601_040000');
    assert.deepEqual(out, { snapshotId: 'bot-dr-weekly-20250601-040000', copyId: 'bot-dr-weekly-20250601-040000' });
    assert.deepEqual(rds.commandCalls(CreateDBSnapshotCommand)[0].args[0].input, {
      DBSnapshotIdentifier: 'bot-dr-weekly-20250601-040000',
      DBInstanceIdentifier: 'db-a',
      Tags: [{ Key: 'dr:tier', Value: 'weekly' }, { Key: 'dr:managed-by', Value: 'bot-platform-dr-backup-job' }],
    });
    const copy = rds.commandCalls(CopyDBSnapshotCommand);
    assert.equal(copy.length, 1);
    assert.equal(copy[0].thisValue, peer, 'the copy is requested in the peer region');
    assert.deepEqual(copy[0].args[0].input, {
      SourceDBSnapshotIdentifier: arn,
      TargetDBSnapshotIdentifier: 'bot-dr-weekly-20250601-040000',
      KmsKeyId: 'arn:aws:kms:eu-central-1:111122223333:key/peer',
      CopyTags: false,
      Tags: [{ Key: 'dr:tier', Value: 'weekly' }, { Key: 'dr:managed-by', Value: 'bot-platform-dr-backup-job' }],
    });
    const deleted = await s.prune('weekly', 4);
    // Both regions list the same mocked five; the oldest (a) goes in each; foreign and mis-tagged ones are never touched.
    assert.deepEqual(deleted, ['eu-west-1:bot-dr-weekly-a', 'eu-central-1:bot-dr-weekly-a']);
    assert.deepEqual(rds.commandCalls(DeleteDBSnapshotCommand).map((c) => c.args[0].input), [{ DBSnapshotIdentifier: 'bot-dr-weekly-a' }, { DBSnapshotIdentifier: 'bot-dr-weekly-a' }]);
  });

  it('ElastiCache: create by tier and prune beyond keep, only our prefix and available ones', async () => {
    cache.on(CreateSnapshotCommand).resolves({});
    const snap = (name: string, day: number, status = 'available') => ({ SnapshotName: name, SnapshotStatus: status, NodeSnapshots: [{ SnapshotCreateTime: new Date(Date.UTC(2025, 0, day)) }] });
    cache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap('bot-dr-daily-1', 1), snap('bot-dr-daily-2', 2), snap('bot-dr-daily-3', 3), snap('bot-dr-daily-4', 4, 'creating'), snap('other-daily-0', 0)] });
    cache.on(DeleteSnapshotCommand).resolves({});
    const s = new ElastiCacheSnapshots({ client: new ElastiCacheClient({ region: 'eu-west-1' }), replicationGroupId: 'rg-a', prefix: 'bot-dr' });
    assert.deepEqual(await s.create('daily', '20250105_033000'), { snapshotName: 'bot-dr-daily-20250105-033000' });
    assert.deepEqual(cache.commandCalls(CreateSnapshotCommand)[0].args[0].input, {
      ReplicationGroupId: 'rg-a',
      SnapshotName: 'bot-dr-daily-20250105-033000',
      Tags: [{ Key: 'dr:tier', Value: 'daily' }, { Key: 'dr:managed-by', Value: 'bot-platform-dr-backup-job' }],
    });
    assert.deepEqual(await s.prune('daily', 2), ['bot-dr-daily-1']);
    assert.deepEqual(cache.commandCalls(DescribeSnapshotsCommand)[0].args[0].input, { ReplicationGroupId: 'rg-a', SnapshotSource: 'user', Marker: undefined });
    assert.deepEqual(cache.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input), [{ SnapshotName: 'bot-dr-daily-1' }]);
  });

  it('CloudWatch: BackupSuccess/BackupAgeSeconds/BackupSizeBytes with Service and Tier dimensions in BotDR/Backups', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const at = new Date('2025-01-01T00:00:00Z');
    await new CloudWatchMetrics(new CloudWatchClient({ region: 'eu-west-1' }), undefined, () => at).publish([{ service: 'postgresql', tier: 'daily', success: true, ageSeconds: 12, sizeBytes: 345 }, { service: 'postgresql', tier: 'weekly', ageSeconds: 99 }]);
    const d = [{ Name: 'Service', Value: 'postgresql' }, { Name: 'Tier', Value: 'daily' }];
    assert.deepEqual(cw.commandCalls(PutMetricDataCommand)[0].args[0].input, {
      Namespace: 'BotDR/Backups',
      MetricData: [
        { MetricName: 'BackupSuccess', Dimensions: d, Value: 1, Unit: 'Count', Timestamp: at },
        { MetricName: 'BackupAgeSeconds', Dimensions: d, Value: 12, Unit: 'Seconds', Timestamp: at },
        { MetricName: 'BackupSizeBytes', Dimensions: d, Value: 345, Unit: 'Bytes', Timestamp: at },
        { MetricName: 'BackupAgeSeconds', Dimensions: [{ Name: 'Service', Value: 'postgresql' }, { Name: 'Tier', Value: 'weekly' }], Value: 99, Unit: 'Seconds', Timestamp: at },
      ],
    });
  });

  it('SNS: publishes redacted, subject cut to 100 characters', async () => {
    sns.on(PublishCommand).resolves({});
    await new SnsNotifier({ topics: ['arn:aws:sns:eu-west-1:1:alerts'], sns: () => new SNSClient({ region: 'eu-west-1' }) }).backupNotifier().notify('x'.repeat(150), 'failed: postgresql://bot:hunter2pass@db:5432/app');
    const input = sns.commandCalls(PublishCommand)[0].args[0].input;
    assert.equal(input.TopicArn, 'arn:aws:sns:eu-west-1:1:alerts');
    assert.equal(input.Subject?.length, 100);
    assert.equal(input.Message, 'failed: postgresql://bot:***@db:5432/app');
  });

  it('restore --until in the primary region: PITR into a new scratch instance from the source instance, prints the endpoint', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'db-a' }).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'db-a', LatestRestorableTime: new Date('2025-06-01T12:00:00Z'), DBSubnetGroup: { DBSubnetGroupName: 'sng' }, VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-1' }], DBInstanceClass: 'db.t4g.medium' }],
    });
    rds.on(RestoreDBInstanceToPointInTimeCommand).resolves({});
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'scratch-1' }).resolves({ DBInstances: [{ DBInstanceStatus: 'available', Endpoint: { Address: 'scratch-1.abc.eu-west-1.rds.amazonaws.com', Port: 5432 } }] });
    const r = await dr(['restore', 'postgres', '--until', '2025-06-01 10:30:00', '--source-instance', 'db-a', '--target-instance', 'scratch-1', '--region', 'eu-west-1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().endpoint, 'scratch-1.abc.eu-west-1.rds.amazonaws.com');
    assert.equal(r.json().mode, 'instance');
    const input = rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input;
    assert.deepEqual(input, {
      TargetDBInstanceIdentifier: 'scratch-1',
      RestoreTime: new Date('2025-06-01T10:30:00Z'),
      MultiAZ: false,
      PubliclyAccessible: false,
      DeletionProtection: false,
      CopyTagsToSnapshot: true,
      Tags: [{ Key: 'purpose', Value: 'dr-scratch-restore' }, { Key: 'restored-from', Value: 'db-a' }],
      SourceDBInstanceIdentifier: 'db-a',
      DBSubnetGroupName: 'sng',
      VpcSecurityGroupIds: ['sg-1'],
      DBInstanceClass: 'db.t4g.medium',
    });
  });

  it('restore --until in the secondary region uses the replicated automated backups ARN; outside the window exits 2', async () => {
    const arn = 'arn:aws:rds:eu-central-1:111122223333:auto-backup:ab-xyz';
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'db-a' }).rejects(notFound());
    rds.on(DescribeDBInstanceAutomatedBackupsCommand, { DBInstanceIdentifier: 'db-a' }).resolves({
      DBInstanceAutomatedBackups: [{ DBInstanceAutomatedBackupsArn: arn, Status: 'replicating', RestoreWindow: { EarliestTime: new Date('2025-05-25T00:00:00Z'), LatestTime: new Date('2025-06-01T11:55:00Z') } }],
    });
    rds.on(RestoreDBInstanceToPointInTimeCommand).resolves({});
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'scratch-2' }).resolvesOnce({ DBInstances: [{ DBInstanceStatus: 'creating' }] }).resolves({ DBInstances: [{ DBInstanceStatus: 'available', Endpoint: { Address: 'scratch-2.eu-central-1.rds.amazonaws.com', Port: 5432 } }] });
    const { restorePointInTime } = await import('../../automation/adapters/aws/pitr');
    const res = await restorePointInTime(new RDSClient({ region: 'eu-central-1' }), { sourceInstance: 'db-a', targetInstance: 'scratch-2', region: 'eu-central-1', restoreTime: parseUntil('2025-06-01 10:30:00'), pollMs: 0 });
    assert.equal(res.mode, 'replicated-automated-backups');
    assert.equal(res.endpoint, 'scratch-2.eu-central-1.rds.amazonaws.com');
    const input = rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input;
    assert.equal(input.SourceDBInstanceAutomatedBackupsArn, arn);
    assert.equal(input.SourceDBInstanceIdentifier, undefined);
    const late = await dr(['restore', 'postgres', '--until', '2025-06-01 12:00:00', '--source-instance', 'db-a', '--target-instance', 'scratch-3', '--region', 'eu-central-1']);
    assert.equal(late.code, 2);
    assert.match(late.stderr, /outside the restorable window/);
    const bad = await dr(['restore', 'postgres', '--until', 'yesterday', '--source-instance', 'db-a', '--target-instance', 'x', '--region', 'eu-central-1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected "YYYY-MM-DD HH:MM:SS"/);
    assert.equal(rds.commandCalls(RestoreDBInstanceToPointInTimeCommand).length, 1, 'no restore was started for rejected input');
  });
});

describe('backup: Lambda job (real PostgreSQL + s3rver, mocked AWS control plane) @integration', function () {
  this.timeout(120_000);
  const pg = usePostgres();
  const s3 = useS3(['job-bucket']);
  const install = () => ({ secrets: mockClient(SecretsManagerClient), rds: mockClient(RDSClient), cw: mockClient(CloudWatchClient), sns: mockClient(SNSClient) });
  let secrets: ReturnType<typeof install>['secrets'];
  let rds: ReturnType<typeof install>['rds'];
  let cw: ReturnType<typeof install>['cw'];
  let sns: ReturnType<typeof install>['sns'];
  before(() => {
    ({ secrets, rds, cw, sns } = install());
  });
  beforeEach(() => {
    secrets.reset();
    rds.reset();
    cw.reset();
    sns.reset();
  });
  after(() => {
    secrets.restore();
    rds.restore();
    cw.restore();
    sns.restore();
  });

  function clients() {
    return {
      secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
      cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
      sns: new SNSClient({ region: 'eu-west-1' }),
      rds: new RDSClient({ region: 'eu-west-1' }),
      peerRds: new RDSClient({ region: 'eu-central-1' }),
      elasticache: new ElastiCacheClient({ region: 'eu-west-1' }),
    };
  }

  it('weekly postgresql job: dump from the secret’s credentials, manifest, RDS snapshot + peer copy, metrics; nothing logged leaks', async () => {
    await pg.cluster.createDatabase('bot');
    await pg.cluster.query('CREATE TABLE t(x int); INSERT INTO t SELECT generate_series(1, 42)', 'bot');
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:db-secret' }).resolves({ SecretString: JSON.stringify({ username: 'postgres', password: pg.cluster.secret }) });
    rds.on(CreateDBSnapshotCommand).resolves({});
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ Status: 'available', DBSnapshotArn: 'arn:aws:rds:eu-west-1:1:snapshot:s' }] });
    rds.on(CopyDBSnapshotCommand).resolves({});
    cw.on(PutMetricDataCommand).resolves({});
    const env = {
      ...s3.server.env,
      DR_REGION: 'eu-west-1', BACKUP_BUCKET: 'job-bucket', DB_SECRET_ARN: 'arn:db-secret', DB_HOST: '127.0.0.1', DB_PORT: String(pg.cluster.port), DB_NAME: 'bot', DB_SSLMODE: 'disable',
      DB_INSTANCE_ID: 'db-a', PEER_REGION: 'eu-central-1', PEER_KMS_KEY_ARN: 'arn:peer-key', ALERTS_TOPIC_ARN: 'arn:topic', SNAPSHOT_PREFIX: 'bot-dr-', RETAIN_POSTGRESQL_WEEKLY: '4',
    };
    const logs: string[] = [];
    const res = await runJob({ service: 'postgresql', tier: 'weekly' }, env, clients(), undefined, (l) => logs.push(l));
    assert.match(res.key, /^postgresql\/weekly\/backup_\d{8}_\d{6}\.dump$/);
    const store = new S3Store({ bucket: 'job-bucket', env: s3.server.env });
    assert.ok(await store.head(res.key + '.metadata.json'));
    assert.equal(rds.commandCalls(CreateDBSnapshotCommand)[0].args[0].input.DBInstanceIdentifier, 'db-a');
    assert.match(rds.commandCalls(CreateDBSnapshotCommand)[0].args[0].input.DBSnapshotIdentifier ?? '', /^bot-dr-weekly-\d{8}-\d{6}$/);
    assert.equal(rds.commandCalls(CopyDBSnapshotCommand)[0].args[0].input.KmsKeyId, 'arn:peer-key');
    const data = cw.commandCalls(PutMetricDataCommand)[0].args[0].input.MetricData ?? [];
    assert.deepEqual(data.map((m) => [m.MetricName, m.Value === undefined ? undefined : m.MetricName === 'BackupSuccess' ? m.Value : 'n']), [['BackupSuccess', 1], ['BackupAgeSeconds', 'n'], ['BackupSizeBytes', 'n']]);
    assert.ok(logs.every((l) => !l.includes(pg.cluster.secret)));
  });

  it('a failing job publishes BackupSuccess=0, notifies SNS without secrets, and rethrows', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:db-secret' }).resolves({ SecretString: JSON.stringify({ username: 'postgres', password: 'wrong-password-123' }) });
    cw.on(PutMetricDataCommand).resolves({});
    sns.on(PublishCommand).resolves({});
    const env = { ...s3.server.env, DR_REGION: 'eu-west-1', BACKUP_BUCKET: 'job-bucket', DB_SECRET_ARN: 'arn:db-secret', DB_HOST: '127.0.0.1', DB_PORT: String(pg.cluster.port), DB_NAME: 'bot', DB_SSLMODE: 'disable', ALERTS_TOPIC_ARN: 'arn:topic' };
    await assert.rejects(() => runJob({ service: 'postgresql', tier: 'daily' }, env, clients(), undefined, () => undefined), /unreachable|password authentication failed/);
    const pub = sns.commandCalls(PublishCommand);
    assert.equal(pub.length, 1);
    assert.equal(pub[0].args[0].input.TopicArn, 'arn:topic');
    assert.match(pub[0].args[0].input.Subject ?? '', /postgresql daily backup FAILED \(eu-west-1\)/);
    assert.ok(!(pub[0].args[0].input.Message ?? '').includes('wrong-password-123'));
    const success = cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []).filter((m) => m.MetricName === 'BackupSuccess');
    assert.deepEqual(success.map((m) => [m.Dimensions?.[1].Value, m.Value]), [['daily', 0]]);
    await assert.rejects(() => runJob({ service: 'mysql' }, env, clients()), /event.service must be postgresql\|redis/);
  });
});
