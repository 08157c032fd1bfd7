/**
 * The readiness observations on AWS (adapters/aws/readiness-observer.ts) with aws-sdk-client-mock on per-region
 * clients: the exact calls of one run, their count (the report's `calls.aws`), and what the engine makes of them —
 * a ready pair without the KMS/ECR/Lambda/Scheduler clients (degraded: those facts not observed), the same with
 * them (readiness-jobs.ts over mocked clients: ready, the exact calls), the standby region down, and the primary region lost after a failover. The bots are probed
 * against the fake Telegram and Discord servers over HTTP on 127.0.0.1.
 */
import assert from 'node:assert/strict';
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
import { awsJobsProbe, awsKmsKeyProbe } from '../../../automation/adapters/aws/readiness-jobs';
import { awsReadinessObserver, type JobsProbe, type KmsKeyProbe } from '../../../automation/adapters/aws/readiness-observer';
import { FakeDiscord } from '../../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import { fixedClock } from '../../../automation/core/clock';
import { runReadiness } from '../../../automation/readiness/index';
import type { ReadinessTargets } from '../../../lib/readiness';
import { discordToken, telegramToken } from '../../helpers/token-fakes';

const A = 'us-east-1';
const B = 'us-west-2';
const ACCT = '123456789012';
const NOW = new Date('2026-11-22T10:00:00Z');
const TG = [0, 1, 2].map((i) => telegramToken(`readiness-tg-${i}`));
const DC = [0, 1].map((i) => discordToken(`readiness-dc-${i}`));
const BUCKET: Record<string, string> = { [A]: 'botdr-use1-backups-0a1b2c', [B]: 'botdr-usw2-backups-3d4e5f' };
const DB: Record<string, string> = { [A]: 'botdr-use1-pg', [B]: 'botdr-usw2-pg' };
const SECRET = (region: string, name: string) => `arn:aws:secretsmanager:${region}:${ACCT}:secret:${name}-AbCdEf`;

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

const instance = (region: string): Record<string, unknown> => ({
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

const keysOf = (service: 'postgresql' | 'redis') => {
  const ext = service === 'postgresql' ? 'dump' : 'rdb';
  const stamps = service === 'postgresql' ? [['daily', '20261122_030000'], ['daily', '20261121_030000'], ['weekly', '20261122_040000'], ['monthly', '20261101_050000']] : [['daily', '20261122_033000'], ['weekly', '20261122_043000'], ['monthly', '20261101_053000']];
  return stamps.map(([tier, s]) => `${service}/${tier}/backup_${s}.${ext}`);
};
const manifest = (key: string, restore?: { at: string; ok: boolean }) =>
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

type Stubs = { rds: Record<string, AwsClientStub<RDSClient>>; cw: Record<string, AwsClientStub<CloudWatchClient>>; ec: Record<string, AwsClientStub<ElastiCacheClient>>; sm: Record<string, AwsClientStub<SecretsManagerClient>>; s3: Record<string, AwsClientStub<S3Client>>; r53: AwsClientStub<Route53Client> };

/** Every region's clients mocked with a ready pair's answers. */
function world() {
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
function jobsWorld() {
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
function calls(label: string, stub: { calls(): Array<{ args: unknown[] }> }): string[] {
  return stub.calls().map((c) => {
    const cmd = c.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
    const i = cmd.input;
    const key = i.DBInstanceIdentifier ?? i.DBParameterGroupName ?? i.CertificateIdentifier ?? i.DBInstanceAutomatedBackupsArn ?? i.GlobalReplicationGroupId ?? i.SecretId ?? i.Prefix ?? i.Key ?? i.HealthCheckId ?? i.StartRecordName ?? (i.MetricDataQueries as Array<{ MetricStat?: { Metric?: { MetricName?: string } }; Expression?: string }> | undefined)?.map((q) => q.MetricStat?.Metric?.MetricName ?? 'SEARCH').join();
    return `${label} ${cmd.constructor.name.replace(/Command$/, '')} ${String(key)}`;
  });
}

describe('adapters/aws: readiness observations (aws-sdk-client-mock, fake platforms over HTTP)', () => {
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let w: ReturnType<typeof world>;
  before(async () => {
    tg = await new FakeTelegram().start();
    dc = await new FakeDiscord().start();
  });
  after(async () => {
    await tg.stop();
    await dc.stop();
  });
  beforeEach(() => {
    for (const t of TG) tg.addToken(t).restore(t);
    for (const t of DC) dc.addToken(t).restore(t);
    tg.method('getWebhookInfo', () => ({ ok: true, result: { url: 'https://bot.example.com/telegram/community', has_custom_certificate: false, pending_update_count: 0 } }));
    dc.setInteractionsEndpoint(DC[0], 'https://bot-usw2.example.com/discord/interactions');
    w = world();
  });
  afterEach(() => w.restore());

  const observe = (extra: { kms?: KmsKeyProbe; jobs?: JobsProbe; from?: string } = {}) =>
    runReadiness(awsReadinessObserver({ targets: targets(), clients: w.clients, apis: { telegram: tg.url, discord: dc.api }, clock: fixedClock(() => NOW), retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, ...extra }), { clock: fixedClock(() => NOW) });

  it('a ready pair without the KMS, ECR, Lambda and Scheduler clients: the exact calls, counted; everything passes but those facts, not observed (degraded)', async () => {
    const r = await observe();
    const off = r.checks.filter((c) => c.status !== 'pass');
    assert.deepEqual(off.map((c) => [c.name, c.status]), [['secrets.kms-keys', 'warn'], ['jobs.image', 'warn'], ['jobs.function', 'warn'], ['jobs.schedules', 'warn']], JSON.stringify(off, null, 1));
    assert.match(off[1].reason, /no ECR client was given/);
    assert.equal(r.verdict, 'degraded');
    assert.equal(r.from, B, 'the bots are probed from the standby region');
    const seen = [
      ...calls(`rds ${A}`, w.m.rds[A]), ...calls(`rds ${B}`, w.m.rds[B]), ...calls(`cw ${A}`, w.m.cw[A]), ...calls(`cw ${B}`, w.m.cw[B]), ...calls(`ec ${B}`, w.m.ec[B]),
      ...calls(`sm ${A}`, w.m.sm[A]), ...calls(`sm ${B}`, w.m.sm[B]), ...calls(`s3 ${A}`, w.m.s3[A]), ...calls(`s3 ${B}`, w.m.s3[B]), ...calls('r53', w.m.r53),
    ].sort();
    assert.deepEqual(seen, [
      `cw ${A} GetMetricData OperationsFailedReplication`,
      `cw ${B} GetMetricData ReplicaLag`,
      `cw ${B} GetMetricData SEARCH`,
      `ec ${B} DescribeGlobalReplicationGroups ldgnf-botdr-global`,
      'r53 GetHealthCheck hc-use1',
      'r53 GetHealthCheck hc-usw2',
      'r53 GetHealthCheckStatus hc-usw2',
      'r53 ListResourceRecordSets bot.example.com',
      `rds ${A} DescribeCertificates rds-ca-rsa2048-g1`,
      `rds ${A} DescribeDBInstances ${DB[A]}`,
      `rds ${A} DescribeDBParameterGroups ${DB[A]}16`,
      `rds ${A} DescribeDBParameters ${DB[A]}16`,
      `rds ${B} DescribeCertificates rds-ca-rsa2048-g1`,
      `rds ${B} DescribeDBInstanceAutomatedBackups arn:aws:rds:${B}:${ACCT}:auto-backup:ab-xyz`,
      `rds ${B} DescribeDBInstances ${DB[B]}`,
      `rds ${B} DescribeDBParameterGroups ${DB[B]}16`,
      `rds ${B} DescribeDBParameters ${DB[B]}16`,
      ...['postgresql/daily/', 'postgresql/monthly/', 'postgresql/weekly/', 'redis/daily/', 'redis/monthly/', 'redis/weekly/'].map((p) => `s3 ${A} ListObjectsV2 ${p}`),
      ...keysOf('postgresql').map((k) => `s3 ${B} GetObject ${k}.metadata.json`).sort(),
      ...['postgresql/daily/', 'postgresql/monthly/', 'postgresql/weekly/', 'redis/daily/', 'redis/monthly/', 'redis/weekly/'].map((p) => `s3 ${B} ListObjectsV2 ${p}`),
      `sm ${A} DescribeSecret arn:aws:secretsmanager:${A}:${ACCT}:secret:botdr/db/master-AbCdEf`,
      `sm ${A} DescribeSecret arn:aws:secretsmanager:${A}:${ACCT}:secret:botdr/redis/botdr-use1-redis/auth-AbCdEf`,
      `sm ${A} DescribeSecret botdr/bot-tokens/community`,
      `sm ${A} DescribeSecret botdr/bot-tokens/moderation`,
      `sm ${B} GetSecretValue botdr/bot-tokens/community`,
      `sm ${B} GetSecretValue botdr/bot-tokens/moderation`,
    ].sort());
    assert.equal(r.calls.aws, seen.length, 'the report counts every AWS call');
    assert.equal(r.calls.aws, 39);
    assert.equal(r.calls.by_area.backups, 12 + 4 + 1, 'six prefixes in two buckets, four PostgreSQL manifests, one replication query');
    // Probes: 3 Telegram + 2 Discord (+ gateway/bot each), getWebhookInfo, applications/@me.
    assert.equal(r.calls.platform, 3 + 2 * 2 + 2);
    // The queries' exact inputs that matter.
    const lagQ = w.m.cw[B].commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries![0]);
    assert.deepEqual(lagQ.find((q) => q.MetricStat)?.MetricStat?.Metric?.Dimensions, [{ Name: 'DBInstanceIdentifier', Value: DB[B] }]);
    assert.equal(lagQ.find((q) => q.Expression)?.Expression, `SEARCH('{AWS/ElastiCache,CacheClusterId} MetricName="GlobalDatastoreReplicationLag" "botdr-usw2-redis"', 'Maximum', 60)`);
    const rep = w.m.cw[A].commandCalls(GetMetricDataCommand)[0].args[0].input;
    assert.deepEqual(rep.MetricDataQueries![0].MetricStat!.Metric!.Dimensions, [{ Name: 'SourceBucket', Value: BUCKET[A] }, { Name: 'DestinationBucket', Value: BUCKET[B] }, { Name: 'RuleId', Value: 'to-peer-region' }]);
    assert.equal(rep.EndTime!.getTime() - rep.StartTime!.getTime(), 24 * 3600_000);
    assert.deepEqual(w.m.rds[A].commandCalls(DescribeDBParametersCommand)[0].args[0].input, { DBParameterGroupName: `${DB[A]}16`, Source: 'user' });
    assert.deepEqual(w.m.ec[B].commandCalls(DescribeGlobalReplicationGroupsCommand)[0].args[0].input, { GlobalReplicationGroupId: 'ldgnf-botdr-global', ShowMemberInfo: true });
    // What the checks said about it.
    const reason = (n: string) => r.checks.find((c) => c.name === n)!.reason;
    assert.match(reason('database.lag'), /lag 3 s/);
    assert.match(reason('database.backups-replicated'), /replicated to us-west-2, restorable to 5 min ago/);
    assert.match(reason('backups.restore-test'), /VERIFIED 3 h 40 min ago \(postgresql\/weekly\/backup_20261122_040000.dump\)/);
    assert.match(reason('cache.lag'), /lag 1 s/);
    assert.match(reason('bots.discord-sessions'), /1000 of 1000 session starts left/);
    assert.ok(!JSON.stringify(r).includes(TG[0]) && !JSON.stringify(r).includes(DC[1]), 'no token in the report');
  });

  it('with the KMS, ECR, Lambda and Scheduler clients (readiness-jobs.ts): ready, their exact calls counted; a schedule left ENABLED on the standby fails; a missing function or image fails', async () => {
    const j = jobsWorld();
    try {
      const probes = { kms: awsKmsKeyProbe(j.clients.kms), jobs: awsJobsProbe(j.clients) };
      const r = await observe(probes);
      assert.equal(r.verdict, 'ready', JSON.stringify(r.checks.filter((c) => c.status !== 'pass')));
      const seen = [A, B].flatMap((region) => [
        ...j.m.kms[region].commandCalls(DescribeKeyCommand).map((c) => `kms ${region} DescribeKey ${c.args[0].input.KeyId}`),
        ...j.m.ecr[region].commandCalls(DescribeImagesCommand).map((c) => `ecr ${region} DescribeImages ${JSON.stringify(c.args[0].input)}`),
        ...j.m.lambda[region].commandCalls(GetFunctionCommand).map((c) => `lambda ${region} GetFunction ${JSON.stringify(c.args[0].input)}`),
        ...j.m.scheduler[region].commandCalls(GetScheduleCommand).map((c) => `scheduler ${region} GetSchedule ${JSON.stringify(c.args[0].input)}`),
      ]);
      assert.deepEqual(seen, [
        `kms ${A} DescribeKey arn:aws:kms:${A}:${ACCT}:key/1111`,
        `scheduler ${A} GetSchedule {"Name":"botdr-use1-postgresql-daily"}`,
        `kms ${B} DescribeKey arn:aws:kms:${B}:${ACCT}:key/2222`,
        `ecr ${B} DescribeImages {"repositoryName":"botdr-usw2-backup-job","maxResults":10}`,
        `lambda ${B} GetFunction {"FunctionName":"botdr-usw2-backup-job"}`,
        `scheduler ${B} GetSchedule {"Name":"botdr-usw2-postgresql-daily"}`,
      ]);
      assert.equal(r.calls.aws, 39 + seen.length, 'two key states, the image, one function, two schedules');
      assert.match(r.checks.find((c) => c.name === 'jobs.image')!.reason, /latest/);

      j.m.scheduler[B].on(GetScheduleCommand).resolves({ Name: 'botdr-usw2-postgresql-daily', State: 'ENABLED' });
      const bad = await observe(probes);
      assert.deepEqual(bad.checks.filter((c) => c.name === 'jobs.schedules' && c.status === 'fail').map((c) => c.resource), [`${B}/botdr-usw2-postgresql-daily`]);
      assert.equal(bad.verdict, 'not-ready');

      const missing = Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' });
      j.m.lambda[B].on(GetFunctionCommand).rejects(missing);
      j.m.ecr[B].on(DescribeImagesCommand).rejects(Object.assign(new Error('no repo'), { name: 'RepositoryNotFoundException' }));
      j.m.kms[B].on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: '2222', KeyState: 'PendingDeletion' } });
      const gone = await observe(probes);
      const st = (n: string) => gone.checks.filter((c) => c.name === n).map((c) => `${c.status} ${c.resource}`);
      assert.deepEqual(st('jobs.function'), [`fail ${B}/botdr-usw2-backup-job`]);
      assert.equal(gone.checks.find((c) => c.name === 'jobs.image')!.status, 'fail');
      assert.ok(gone.checks.some((c) => c.name === 'secrets.kms-keys' && c.status === 'fail' && /PendingDeletion/.test(c.reason)), JSON.stringify(gone.checks.filter((c) => c.name === 'secrets.kms-keys')));
    } finally {
      j.restore();
    }
  });

  it('the standby region does not answer: its facts fail as not observed (no crash), the verdict is not-ready', async () => {
    const down = Object.assign(new Error(`getaddrinfo ENOTFOUND rds.${B}.amazonaws.com`), { code: 'ENOTFOUND' });
    for (const s of [w.m.rds[B], w.m.cw[B], w.m.ec[B], w.m.sm[B], w.m.s3[B]]) s.rejects(down);
    const r = await observe();
    assert.equal(r.verdict, 'not-ready');
    const failed = (n: string) => r.checks.find((c) => c.name === n && c.status === 'fail');
    assert.match(failed('database.replicating')!.reason, /could not observe: DescribeDBInstances botdr-usw2-pg in us-west-2: .*ENOTFOUND/);
    assert.match(failed('cache.global-member')!.reason, /could not observe/);
    assert.match(failed('backups.newest')!.reason, /could not observe: listing s3:\/\/botdr-usw2-backups-3d4e5f/);
    assert.match(failed('bots.tokens')!.reason, /reading its record in us-west-2/);
    assert.ok(r.checks.some((c) => c.name === 'secrets.replicas' && c.status === 'pass'), 'the serving region still answers for the secrets');
  });

  it('after an unplanned failover (us-east-1 lost, us-west-2 promoted): us-west-2 serves, nothing stands by', async () => {
    const down = Object.assign(new Error(`connect ECONNREFUSED rds.${A}.amazonaws.com`), { code: 'ECONNREFUSED' });
    for (const s of [w.m.rds[A], w.m.cw[A], w.m.sm[A], w.m.s3[A]]) s.rejects(down);
    const promoted = instance(B);
    delete promoted.ReadReplicaSourceDBInstanceIdentifier;
    delete promoted.StatusInfos;
    w.m.rds[B].on(DescribeDBInstancesCommand).resolves({ DBInstances: [promoted] });
    w.m.sm[B].on(DescribeSecretCommand).resolves({ ReplicationStatus: [] });
    const r = await observe({ from: B });
    assert.equal(r.verdict, 'not-ready');
    assert.match(r.checks.find((c) => c.name === 'database.replicating')!.reason, /could not observe: DescribeDBInstances botdr-use1-pg in us-east-1/);
    const sec = r.checks.filter((c) => c.name === 'secrets.replicas');
    assert.ok(sec.length > 0 && sec.every((c) => c.status === 'fail' && /us-west-2\//.test(c.resource) && /not replicated to us-east-1/.test(c.reason)), JSON.stringify(sec));
    assert.ok(w.m.sm[B].commandCalls(DescribeSecretCommand).length > 0, 'the secrets are described where the database now serves');
  });
});
