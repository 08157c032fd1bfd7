/**
 * A ready AWS pair for the readiness tests, on aws-sdk-client-mock per-region clients (test/adapters/aws/
 * readiness-observer.test.ts, test/lambda/readiness.test.ts): RDS, CloudWatch, ElastiCache, Secrets Manager, S3,
 * Route 53 ({@link world}) and KMS, ECR, Lambda, Scheduler ({@link jobsWorld}); {@link calls} lists what a stub saw.
 */
import { Readable } from 'node:stream';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DescribeGlobalReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeCertificatesCommand, DescribeDBInstanceAutomatedBackupsCommand, DescribeDBInstancesCommand, DescribeDBParameterGroupsCommand, DescribeDBParametersCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetHealthCheckCommand, GetHealthCheckStatusCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ReadinessTargets } from '../../lib/readiness';
import { discordToken, telegramToken } from './token-fakes';

export const A = 'us-east-1';
export const B = 'us-west-2';
export const ACCT = '123456789012';
export const NOW = new Date('2026-11-22T10:00:00Z');
export const TG = [0, 1, 2].map((i) => telegramToken(`readiness-tg-${i}`));
export const DC = [0, 1].map((i) => discordToken(`readiness-dc-${i}`));
export const BUCKET: Record<string, string> = { [A]: 'botdr-use1-backups-0a1b2c', [B]: 'botdr-usw2-backups-3d4e5f' };
export const DB: Record<string, string> = { [A]: 'botdr-use1-pg', [B]: 'botdr-usw2-pg' };
export const SECRET = (region: string, name: string) => `arn:aws:secretsmanager:${region}:${ACCT}:secret:${name}-AbCdEf`;

export function targets(): ReadinessTargets {
  return {
    regions: [A, B].map((region) => ({
      region,
      role: region === A ? 'primary' : 'secondary',
      dbIdentifier: DB[region],
      bucketName: BUCKET[region],
      kmsKeyArn: `arn:aws:kms:${region}:${ACCT}:key/${region === A ? '1111' : '2222'}`,
      cacheReplicationGroupId: region === A ? 'botdr-use1-redis' : 'botdr-usw2-redis',
      jobs: { functions: [`botdr-${region === A ? 'use1' : 'usw2'}-backup-job`], repository: `botdr-${region === A ? 'use1' : 'usw2'}-backup-job`, schedules: [`botdr-${region === A ? 'use1' : 'usw2'}-postgresql-daily`] },
    })) as ReadinessTargets['regions'],
    rpoSeconds: 900,
    globalDatastoreId: 'ldgnf-botdr-global',
    dns: { zoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'bot.example.com', ttl: 60 },
    secrets: [
      { label: 'db-credentials', secret: SECRET(A, 'botdr/db/master') },
      { label: 'cache-auth', secret: SECRET(A, 'botdr/redis/botdr-use1-redis/auth') },
    ],
    bots: [
      { bot: 'community', platform: 'telegram', secret: 'botdr/bot-tokens/community', channels: [], webhook: true },
      { bot: 'moderation', platform: 'discord', secret: 'botdr/bot-tokens/moderation', channels: [], webhook: true },
    ],
  };
}

export const instance = (region: string): Record<string, unknown> => ({
  DBInstanceIdentifier: DB[region],
  DBInstanceStatus: 'available',
  EngineVersion: '16.4',
  DBInstanceClass: 'db.r6g.large',
  DBParameterGroups: [{ DBParameterGroupName: `${DB[region]}16`, ParameterApplyStatus: 'in-sync' }],
  CACertificateIdentifier: 'rds-ca-rsa2048-g1',
  CertificateDetails: { CAIdentifier: 'rds-ca-rsa2048-g1', ValidTill: new Date('2027-10-01T00:00:00Z') },
  ...(region === B
    ? { ReadReplicaSourceDBInstanceIdentifier: `arn:aws:rds:${A}:${ACCT}:db:${DB[A]}`, StatusInfos: [{ StatusType: 'read replication', Status: 'replicating', Normal: true }] }
    : { ReadReplicaDBInstanceIdentifiers: [`arn:aws:rds:${B}:${ACCT}:db:${DB[B]}`], DBInstanceAutomatedBackupsReplications: [{ DBInstanceAutomatedBackupsArn: `arn:aws:rds:${B}:${ACCT}:auto-backup:ab-xyz` }] }),
});

export const keysOf = (service: 'postgresql' | 'redis') => {
  const ext = service === 'postgresql' ? 'dump' : 'rdb';
  const stamps = service === 'postgresql' ? [['daily', '20261122_030000'], ['daily', '20261121_030000'], ['weekly', '20261122_040000'], ['monthly', '20261101_050000']] : [['daily', '20261122_033000'], ['weekly', '20261122_043000'], ['monthly', '20261101_053000']];
  return stamps.map(([tier, s]) => `${service}/${tier}/backup_${s}.${ext}`);
};
export const manifest = (key: string, restore?: { at: string; ok: boolean }) =>
  JSON.stringify({
    format: 1,
    backup_id: key.replace(/.*backup_/, '').replace(/\..*/, ''),
    type: 'full',
    service: key.split('/')[0],
    tier: key.split('/')[1],
    timestamp: '2026-11-22T03:00:00Z',
    key,
    size_bytes: 10,
    checksum: `sha256:${'a'.repeat(64)}`,
    restorability: restore?.ok ? 'VERIFIED' : 'UNVERIFIED',
    ...(restore ? { restore_test: { at: restore.at, ok: restore.ok, target: 'scratch:5432/dr_restore_test', duration_seconds: 40 }, ...(restore.ok ? { restore_verified_at: restore.at } : {}) } : {}),
  });

export type Stubs = { rds: Record<string, AwsClientStub<RDSClient>>; cw: Record<string, AwsClientStub<CloudWatchClient>>; ec: Record<string, AwsClientStub<ElastiCacheClient>>; sm: Record<string, AwsClientStub<SecretsManagerClient>>; s3: Record<string, AwsClientStub<S3Client>>; r53: AwsClientStub<Route53Client> };

/** Every region's clients mocked with a ready pair's answers. */
export function world() {
  const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
  const c = { rds: {} as Record<string, RDSClient>, cw: {} as Record<string, CloudWatchClient>, ec: {} as Record<string, ElastiCacheClient>, sm: {} as Record<string, SecretsManagerClient>, s3: {} as Record<string, S3Client>, r53: new Route53Client({ region: A, credentials: creds }) };
  const m: Stubs = { rds: {}, cw: {}, ec: {}, sm: {}, s3: {}, r53: mockClient(c.r53) };
  for (const region of [A, B]) {
    c.rds[region] = new RDSClient({ region, credentials: creds });
    c.cw[region] = new CloudWatchClient({ region, credentials: creds });
    c.ec[region] = new ElastiCacheClient({ region, credentials: creds });
    c.sm[region] = new SecretsManagerClient({ region, credentials: creds });
    c.s3[region] = new S3Client({ region, credentials: creds });
    m.rds[region] = mockClient(c.rds[region]);
    m.cw[region] = mockClient(c.cw[region]);
    m.ec[region] = mockClient(c.ec[region]);
    m.sm[region] = mockClient(c.sm[region]);
    m.s3[region] = mockClient(c.s3[region]);
    m.rds[region].on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance(region)] });
    m.rds[region].on(DescribeDBParameterGroupsCommand).callsFake((i: { DBParameterGroupName: string }) => ({ DBParameterGroups: [{ DBParameterGroupName: i.DBParameterGroupName, DBParameterGroupFamily: 'postgres16' }] }));
    m.rds[region].on(DescribeDBParametersCommand).resolves({ Parameters: [{ ParameterName: 'rds.force_ssl', ParameterValue: '1' }, { ParameterName: 'ssl_min_protocol_version', ParameterValue: 'TLSv1.2' }, { ParameterName: 'log_min_duration_statement', ParameterValue: '1000' }] });
    m.rds[region].on(DescribeCertificatesCommand).resolves({ Certificates: [{ CertificateIdentifier: 'rds-ca-rsa2048-g1', ValidTill: new Date('2061-05-20T00:00:00Z') }] });
    m.s3[region].on(ListObjectsV2Command).callsFake((i: { Prefix: string }) => {
      const keys = [...keysOf('postgresql'), ...keysOf('redis')].filter((k) => k.startsWith(i.Prefix));
      return { Contents: keys.flatMap((k) => [{ Key: k, Size: 10 }, { Key: `${k}.metadata.json`, Size: 1 }]), IsTruncated: false };
    });
    m.s3[region].on(GetObjectCommand).callsFake((i: { Key: string }) => {
      const key = i.Key.replace(/\.metadata\.json$/, '');
      return { Body: Readable.from([Buffer.from(manifest(key, key === 'postgresql/weekly/backup_20261122_040000.dump' ? { at: '2026-11-22T06:20:00Z', ok: true } : undefined))]) };
    });
  }
  m.rds[B].on(DescribeDBInstanceAutomatedBackupsCommand).resolves({ DBInstanceAutomatedBackups: [{ DBInstanceIdentifier: DB[A], Region: A, Status: 'replicating', RestoreWindow: { EarliestTime: new Date('2026-11-08T10:00:00Z'), LatestTime: new Date('2026-11-22T09:55:00Z') } }] });
  // ReplicaLag: one series; the SEARCH over the cache member's nodes: one series per node (the worst one counts).
  const at = [new Date('2026-11-22T09:59:00Z')];
  m.cw[B].on(GetMetricDataCommand).callsFake((i: GetMetricDataCommandInput) => ({
    MetricDataResults: i.MetricDataQueries?.[0].Expression ? [{ Id: 'lag', Values: [0.4], Timestamps: at }, { Id: 'lag', Values: [1], Timestamps: at }] : [{ Id: 'lag', Values: [3], Timestamps: at }],
  }));
  m.cw[A].on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'failed', Values: [0, 0, 0], Timestamps: [] }] });
  m.ec[B].on(DescribeGlobalReplicationGroupsCommand).resolves({
    GlobalReplicationGroups: [{ GlobalReplicationGroupId: 'ldgnf-botdr-global', Status: 'available', Members: [{ ReplicationGroupId: 'botdr-use1-redis', ReplicationGroupRegion: A, Role: 'PRIMARY', Status: 'associated' }, { ReplicationGroupId: 'botdr-usw2-redis', ReplicationGroupRegion: B, Role: 'SECONDARY', Status: 'associated' }] }],
  });
  m.sm[A].on(DescribeSecretCommand).callsFake((i: { SecretId: string }) => ({ ARN: i.SecretId, ReplicationStatus: [{ Region: B, KmsKeyId: `arn:aws:kms:${B}:${ACCT}:key/2222`, Status: 'InSync' }] }));
  m.sm[B].on(GetSecretValueCommand).callsFake((i: { SecretId: string }) => {
    const discord = i.SecretId.endsWith('moderation');
    return { ARN: SECRET(B, i.SecretId), VersionId: 'v1', SecretString: JSON.stringify({ platform: discord ? 'discord' : 'telegram', active: 0, tokens: discord ? DC : TG }) };
  });
  m.r53.on(ListResourceRecordSetsCommand).resolves({
    ResourceRecordSets: [
      { Name: 'bot.example.com.', Type: 'CNAME', SetIdentifier: A, Failover: 'PRIMARY', TTL: 60, HealthCheckId: 'hc-use1', ResourceRecords: [{ Value: 'bot-use1.example.com' }] },
      { Name: 'bot.example.com.', Type: 'CNAME', SetIdentifier: B, Failover: 'SECONDARY', TTL: 60, HealthCheckId: 'hc-usw2', ResourceRecords: [{ Value: 'bot-usw2.example.com' }] },
      { Name: 'other.example.com.', Type: 'A', TTL: 300 },
    ],
  });
  m.r53.on(GetHealthCheckCommand).callsFake((i: { HealthCheckId: string }) => ({ HealthCheck: { Id: i.HealthCheckId } }));
  m.r53.on(GetHealthCheckStatusCommand).resolves({ HealthCheckObservations: Array.from({ length: 8 }, () => ({ StatusReport: { Status: 'Success: HTTP Status Code 200, OK' } })) });
  const clients = { rds: (r: string) => c.rds[r], cloudwatch: (r: string) => c.cw[r], elasticache: (r: string) => c.ec[r], secretsManager: (r: string) => c.sm[r], s3: (r: string) => c.s3[r], route53: () => c.r53 };
  const stubs: Array<{ restore(): void }> = [...Object.values(m.rds), ...Object.values(m.cw), ...Object.values(m.ec), ...Object.values(m.sm), ...Object.values(m.s3), m.r53];
  const restore = () => stubs.forEach((s) => s.restore());
  return { m, clients, restore };
}

/** KMS, ECR, Lambda and Scheduler clients per region, mocked: keys enabled, the image there, functions active, schedules enabled only in the serving region. */
export function jobsWorld() {
  const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
  const c = { kms: {} as Record<string, KMSClient>, ecr: {} as Record<string, ECRClient>, lambda: {} as Record<string, LambdaClient>, scheduler: {} as Record<string, SchedulerClient> };
  const m = { kms: {} as Record<string, AwsClientStub<KMSClient>>, ecr: {} as Record<string, AwsClientStub<ECRClient>>, lambda: {} as Record<string, AwsClientStub<LambdaClient>>, scheduler: {} as Record<string, AwsClientStub<SchedulerClient>> };
  for (const region of [A, B]) {
    c.kms[region] = new KMSClient({ region, credentials: creds });
    c.ecr[region] = new ECRClient({ region, credentials: creds });
    c.lambda[region] = new LambdaClient({ region, credentials: creds });
    c.scheduler[region] = new SchedulerClient({ region, credentials: creds });
    m.kms[region] = mockClient(c.kms[region]);
    m.ecr[region] = mockClient(c.ecr[region]);
    m.lambda[region] = mockClient(c.lambda[region]);
    m.scheduler[region] = mockClient(c.scheduler[region]);
    m.kms[region].on(DescribeKeyCommand).callsFake((i: { KeyId: string }) => ({ KeyMetadata: { KeyId: i.KeyId, KeyState: 'Enabled' } }));
    m.ecr[region].on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:0123456789abcdef0123', imageTags: ['old'], imagePushedAt: new Date('2026-11-01T00:00:00Z') }, { imageDigest: 'sha256:fedcba9876543210fedc', imageTags: ['latest'], imagePushedAt: new Date('2026-11-20T00:00:00Z') }] });
    m.lambda[region].on(GetFunctionCommand).callsFake((i: { FunctionName: string }) => ({ Configuration: { FunctionName: i.FunctionName, State: 'Active' } }));
    m.scheduler[region].on(GetScheduleCommand).callsFake((i: { Name: string }) => ({ Name: i.Name, State: region === A ? 'ENABLED' : 'DISABLED' }));
  }
  const clients = { kms: (r: string) => c.kms[r], ecr: (r: string) => c.ecr[r], lambda: (r: string) => c.lambda[r], scheduler: (r: string) => c.scheduler[r] };
  const restore = () => [...Object.values(m.kms), ...Object.values(m.ecr), ...Object.values(m.lambda), ...Object.values(m.scheduler)].forEach((x) => x.restore());
  return { m, clients, restore };
}

/** `[service region Command, key input]` of every call a stub saw. */
export function calls(label: string, stub: { calls(): Array<{ args: unknown[] }> }): string[] {
  return stub.calls().map((c) => {
    const cmd = c.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
    const i = cmd.input;
    const key = i.DBInstanceIdentifier ?? i.DBParameterGroupName ?? i.CertificateIdentifier ?? i.DBInstanceAutomatedBackupsArn ?? i.GlobalReplicationGroupId ?? i.SecretId ?? i.Prefix ?? i.Key ?? i.HealthCheckId ?? i.StartRecordName ?? (i.MetricDataQueries as Array<{ MetricStat?: { Metric?: { MetricName?: string } }; Expression?: string }> | undefined)?.map((q) => q.MetricStat?.Metric?.MetricName ?? 'SEARCH').join();
    return `${label} ${cmd.constructor.name.replace(/Command$/, '')} ${String(key)}`;
  });
}

