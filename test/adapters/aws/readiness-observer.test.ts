/**
 * The readiness observations on AWS (adapters/aws/readiness-observer.ts) with aws-sdk-client-mock on per-region
 * clients: the exact calls of one run, their count (the report's `calls.aws`), and what the engine makes of them —
 * a ready pair without the KMS/ECR/Lambda/Scheduler clients (degraded: those facts not observed), the same with
 * them (readiness-jobs.ts over mocked clients: ready, the exact calls), the standby region down, and the primary region lost after a failover. The bots are probed
 * against the fake Telegram and Discord servers over HTTP on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeGlobalReplicationGroupsCommand } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand, DescribeDBParametersCommand } from '@aws-sdk/client-rds';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GetFunctionCommand } from '@aws-sdk/client-lambda';
import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { awsJobsProbe, awsKmsKeyProbe } from '../../../automation/adapters/aws/readiness-jobs';
import { awsReadinessObserver, type JobsProbe, type KmsKeyProbe } from '../../../automation/adapters/aws/readiness-observer';
import { FakeDiscord } from '../../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import { fixedClock } from '../../../automation/core/clock';
import { runReadiness } from '../../../automation/readiness/index';
import { A, ACCT, B, BUCKET, calls, DB, DC, instance, jobsWorld, keysOf, NOW, targets, TG, world } from '../../helpers/readiness-aws';

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
