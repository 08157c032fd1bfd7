/**
 * components/Readiness under Pulumi mocks (issue 14): the function (the backup job's image with the readiness
 * handler, its environment the handler's contract), the every-30-minutes EventBridge schedule, the two DrReady
 * alarms linking runbook INC-008, and a least-privilege role: reads of exactly the pair's resources, in the pair's
 * regions only, writes only its metrics' namespace and readiness/<region>/ of its own bucket.
 */
import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import { Readiness, READINESS_ALARM_IDS, READINESS_HANDLER, readinessRoleDocument } from '../../components/readiness';
import { parseReadinessEnv, READINESS_METRICS, S3_REPLICATION_RULE_ID, type ReadinessTargets } from '../../lib/readiness';
import { ALARM_ID_TAG, incidentForAlarm } from '../../lib/runbook';
import { type ProgramRun, runProgram, runProgramExpectingError } from '../helpers/pulumi';
import { policyOf, runStack } from '../helpers/stacks';

const A = 'us-east-1';
const B = 'us-west-2';
const ACCT = '123456789012';
const KEY = `arn:aws:kms:${B}:${ACCT}:key/k-usw2`;
const TOPIC = `arn:aws:sns:${B}:${ACCT}:acme-usw2-alerts`;
const IMAGE = `${ACCT}.dkr.ecr.${B}.amazonaws.com/acme-usw2-backup-job@sha256:${'b'.repeat(64)}`;
const FN = 'aws:lambda/function:Function';
const ALARM = 'aws:cloudwatch/metricAlarm:MetricAlarm';

const TARGETS: ReadinessTargets = {
  regions: [
    { region: A, role: 'primary', dbIdentifier: 'acme-use1-pg', bucketName: 'acme-use1-backups', kmsKeyArn: `arn:aws:kms:${A}:${ACCT}:key/k-use1`, cacheReplicationGroupId: 'acme-use1-redis', jobs: { functions: ['acme-use1-backup-job', 'acme-use1-readiness'], repository: 'acme-use1-backup-job', schedules: ['acme-use1-postgresql-daily'] } },
    { region: B, role: 'secondary', dbIdentifier: 'acme-usw2-pg', bucketName: 'acme-usw2-backups', kmsKeyArn: KEY, cacheReplicationGroupId: 'acme-usw2-redis', jobs: { functions: ['acme-usw2-backup-job', 'acme-usw2-readiness'], repository: 'acme-usw2-backup-job', schedules: ['acme-usw2-postgresql-daily'] } },
  ],
  rpoSeconds: 900,
  globalDatastoreId: 'ldgnf-acme-redis-global',
  dns: { zoneId: 'Z0ACME', recordName: 'bot.acme.example', ttl: 60 },
  secrets: [{ label: 'db-credentials', secret: `arn:aws:secretsmanager:${A}:${ACCT}:secret:acme/db/master-AbCdEf` }],
  bots: [{ bot: 'community', platform: 'telegram', secret: 'acme/bot-tokens/community', channels: [] }],
};

function program() {
  const provider = new aws.Provider('usw2', { region: B });
  const r = new Readiness('acme-readiness', { provider, region: B, namePrefix: 'acme', kmsKeyArn: KEY, imageUri: IMAGE, bucketName: 'acme-usw2-backups', targets: TARGETS, botSecretNames: ['acme/bot-tokens/community'], alertsTopicArn: TOPIC });
  return { functionName: r.functionName, ruleName: r.ruleName, alarmNames: r.alarmNames };
}

describe('components/Readiness', () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(program);
  });

  it('one component bot-dr:readiness:Readiness; every child parented to it, through the region provider', () => {
    const comp = run.one('bot-dr:readiness:Readiness');
    const children = run.resources.filter((x) => x.custom && !x.type.startsWith('pulumi:providers'));
    assert.deepEqual(children.map((c) => c.type).sort(), [
      'aws:cloudwatch/eventRule:EventRule', 'aws:cloudwatch/eventTarget:EventTarget', 'aws:cloudwatch/logGroup:LogGroup', ALARM, ALARM,
      'aws:iam/role:Role', 'aws:iam/rolePolicy:RolePolicy', FN, 'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig', 'aws:lambda/permission:Permission',
    ].sort());
    for (const c of children) {
      assert.equal(c.parentUrn, comp.urn, `${c.name}: parent`);
      assert.equal(c.region, B, `${c.name}: provider`);
      assert.match(c.provider ?? '', /::usw2::/, `${c.name}: explicit provider`);
    }
  });

  it("the function: the backup job's image with the readiness handler, outside the VPC, its environment the handler's contract", () => {
    const fn = run.one(FN).inputs;
    assert.equal(fn.name, 'acme-usw2-readiness');
    assert.deepEqual([fn.packageType, fn.imageUri], ['Image', IMAGE]);
    assert.deepEqual(fn.imageConfig, { commands: [READINESS_HANDLER] });
    assert.equal(READINESS_HANDLER, 'automation/lambda/readiness.handler');
    assert.equal(fn.vpcConfig, undefined);
    assert.deepEqual([fn.timeout, fn.reservedConcurrentExecutions, fn.kmsKeyArn], [120, 1, KEY]);
    assert.deepEqual(fn.loggingConfig, { logFormat: 'JSON', logGroup: '/aws/lambda/acme-usw2-readiness' });
    const vars: Record<string, string> = run.one(FN).plainInputs.environment.variables;
    const env = parseReadinessEnv(vars);
    assert.equal(env.region, B);
    assert.equal(env.bucket, 'acme-usw2-backups');
    assert.deepEqual(env.targets, TARGETS);
    assert.equal(env.metricsNamespace, READINESS_METRICS.namespace);
  });

  it('every 30 minutes by an EventBridge rule, no retries (the next run is 30 minutes away)', () => {
    const rule = run.one('aws:cloudwatch/eventRule:EventRule').inputs;
    assert.deepEqual([rule.name, rule.scheduleExpression, rule.state], ['acme-usw2-readiness-schedule', 'rate(30 minutes)', 'ENABLED']);
    const target = run.one('aws:cloudwatch/eventTarget:EventTarget').inputs;
    assert.equal(target.arn, run.one(FN).state.arn);
    assert.deepEqual(target.retryPolicy, { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 600 });
    const perm = run.one('aws:lambda/permission:Permission').inputs;
    assert.deepEqual([perm.principal, perm.sourceArn], ['events.amazonaws.com', run.one('aws:cloudwatch/eventRule:EventRule').state.arn]);
  });

  it('alarms: not ready within the hour (or no run: breaching), degraded for 24 h; each names INC-008 and carries its id tag', () => {
    const alarms = run.byType(ALARM).map((a) => a.inputs);
    const byId = Object.fromEntries(alarms.map((a) => [a.tags[ALARM_ID_TAG], a]));
    assert.deepEqual(Object.keys(byId).sort(), [READINESS_ALARM_IDS.degraded, READINESS_ALARM_IDS.notReady].sort());
    for (const a of alarms) {
      assert.deepEqual([a.namespace, a.metricName, a.dimensions], [READINESS_METRICS.namespace, 'DrReady', { Region: B }]);
      assert.equal(incidentForAlarm(a.tags[ALARM_ID_TAG]), 'INC-008');
      assert.ok(a.alarmDescription.endsWith('(runbook INC-008: dr runbook INC-008)'), a.alarmDescription);
      assert.deepEqual([a.alarmActions, a.okActions, a.comparisonOperator], [[TOPIC], [TOPIC], 'LessThanThreshold']);
    }
    const nr = byId[READINESS_ALARM_IDS.notReady];
    assert.deepEqual([nr.name, nr.statistic, nr.period, nr.evaluationPeriods, nr.threshold, nr.treatMissingData], [`acme-${B}-readiness-not-ready`, 'Minimum', 3600, 1, 1, 'breaching']);
    const dg = byId[READINESS_ALARM_IDS.degraded];
    assert.deepEqual([dg.name, dg.statistic, dg.period, dg.evaluationPeriods, dg.datapointsToAlarm, dg.threshold, dg.treatMissingData], [`acme-${B}-readiness-degraded`, 'Maximum', 3600, 24, 24, 2, 'missing']);
  });

  it('least privilege: reads only the pair (named resources, or * limited to its two regions), writes only its namespace and readiness/us-west-2/', () => {
    const doc = policyOf(run.one('aws:iam/rolePolicy:RolePolicy').inputs.policy);
    const st = Object.fromEntries(doc.Statement.map((s: { Sid: string }) => [s.Sid, s])) as unknown as Record<string, { Action: string | string[]; Resource: string | string[]; Condition?: Record<string, Record<string, unknown>> }>;
    for (const s of doc.Statement) {
      const actions = ([] as string[]).concat(s.Action);
      assert.ok(actions.every((a) => !a.endsWith('*')), `${s.Sid}: no wildcard action`);
      assert.equal(s.Effect, 'Allow');
      if (s.Resource === '*') assert.ok(s.Condition, `${s.Sid}: * only with a condition`);
    }
    const writes = doc.Statement.flatMap((s: { Action: string | string[] }) => ([] as string[]).concat(s.Action)).filter((a: string) => /:(Put|Create|Update|Delete|Modify|Promote|Failover|Start|Stop|Invoke)/.test(a));
    assert.deepEqual(writes.sort(), ['cloudwatch:PutMetricData', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:PutObject'].sort());
    assert.deepEqual(st.PublishReadinessMetrics.Condition, { StringEquals: { 'cloudwatch:namespace': 'BotDR/Readiness' } });
    assert.equal(st.WriteReadinessReports.Resource, 'arn:aws:s3:::acme-usw2-backups/readiness/us-west-2/*');
    assert.deepEqual(st.ReadDatabaseAndCache.Condition, { StringEquals: { 'aws:RequestedRegion': [A, B] } });
    assert.deepEqual(st.ListBackupBuckets.Resource, ['arn:aws:s3:::acme-use1-backups', 'arn:aws:s3:::acme-usw2-backups']);
    assert.deepEqual(st.ReadBackupManifests.Resource, ['arn:aws:s3:::acme-use1-backups/*.metadata.json', 'arn:aws:s3:::acme-usw2-backups/*.metadata.json']);
    assert.deepEqual(st.KeyStates.Resource, [`arn:aws:kms:${A}:${ACCT}:key/k-use1`, KEY]);
    assert.deepEqual(st.JobFunctions.Resource, [`arn:aws:lambda:${A}:${ACCT}:function:acme-use1-backup-job`, `arn:aws:lambda:${A}:${ACCT}:function:acme-use1-readiness`, `arn:aws:lambda:${B}:${ACCT}:function:acme-usw2-backup-job`, `arn:aws:lambda:${B}:${ACCT}:function:acme-usw2-readiness`]);
    assert.deepEqual(st.JobImages.Resource, [`arn:aws:ecr:${A}:${ACCT}:repository/acme-use1-backup-job`, `arn:aws:ecr:${B}:${ACCT}:repository/acme-usw2-backup-job`]);
    assert.deepEqual(st.JobSchedules.Resource, [`arn:aws:scheduler:${A}:${ACCT}:schedule/default/acme-use1-postgresql-daily`, `arn:aws:scheduler:${B}:${ACCT}:schedule/default/acme-usw2-postgresql-daily`]);
    assert.deepEqual(st.SecretReplication.Resource, [
      `arn:aws:secretsmanager:${A}:${ACCT}:secret:acme/db/master-AbCdEf`, `arn:aws:secretsmanager:${B}:${ACCT}:secret:acme/db/master-AbCdEf`,
      `arn:aws:secretsmanager:${A}:${ACCT}:secret:acme/bot-tokens/community-??????`, `arn:aws:secretsmanager:${B}:${ACCT}:secret:acme/bot-tokens/community-??????`,
    ]);
    assert.deepEqual(st.BotRecordsHere.Resource, [`arn:aws:secretsmanager:${B}:${ACCT}:secret:acme/bot-tokens/community-??????`], 'token values only in its own region');
    assert.deepEqual(st.BotRecordsKey.Condition?.StringEquals, { 'kms:ViaService': `secretsmanager.${B}.amazonaws.com` });
    assert.equal(st.FailoverRecords.Resource, 'arn:aws:route53:::hostedzone/Z0ACME');
    assert.equal(st.WriteOwnLogs.Resource, `arn:aws:logs:${B}:${ACCT}:log-group:/aws/lambda/acme-usw2-readiness:*`);
    const trust = policyOf(run.one('aws:iam/role:Role').inputs.assumeRolePolicy);
    assert.deepEqual(trust.Statement[0].Principal, { Service: 'lambda.amazonaws.com' });
    assert.equal(S3_REPLICATION_RULE_ID, 'to-peer-region');
  });

  it('without bots: no secret values read at all; invalid args and targets are refused naming the key', async () => {
    const doc = readinessRoleDocument({ region: B, botSecretNames: [] }, { ...TARGETS, bots: [] }, { account: ACCT, partition: 'aws', bucketName: 'acme-usw2-backups', logGroupArn: 'arn:aws:logs:us-west-2:123456789012:log-group:x' });
    assert.ok(!doc.Statement.some((s) => ([] as string[]).concat(s.Action).includes('secretsmanager:GetSecretValue')));
    assert.throws(() => readinessRoleDocument({ region: B, botSecretNames: [] }, { ...TARGETS, regions: [] as unknown as ReadinessTargets['regions'] }, { account: ACCT, partition: 'aws', bucketName: 'b', logGroupArn: 'l' }), /readiness targets: regions/);
    const { error, resources } = await runProgramExpectingError(() => {
      new Readiness('bad', { provider: new aws.Provider('p', { region: B }), region: B, namePrefix: 'Acme!', kmsKeyArn: KEY, imageUri: IMAGE, bucketName: 'b', targets: TARGETS, botSecretNames: [], alertsTopicArn: TOPIC });
      return {};
    });
    assert.match(error.message, /namePrefix: must be 1-30 lowercase letters/);
    assert.equal(resources.filter((x) => x.custom && !x.type.startsWith('pulumi:providers')).length, 0, 'nothing declared');
  });
});

describe('the composed stacks: a readiness function in both regions of the pair', () => {
  for (const stack of ['primary', 'secondary'] as const) {
    it(`${stack}: its targets list both regions (the peer's from the peer stack's outputs), the primary-role region first`, async () => {
      const r = await runStack(stack);
      const fn = r.byType(FN).find((f) => /-readiness$/.test(f.inputs.name));
      assert.ok(fn, r.summary());
      const env = parseReadinessEnv(fn.plainInputs.environment.variables);
      const [first, second] = env.targets.regions;
      assert.deepEqual([first.role, second.role], ['primary', 'secondary']);
      assert.equal(env.region, stack === 'primary' ? first.region : second.region);
      for (const t of env.targets.regions) {
        assert.ok(t.dbIdentifier && t.bucketName && t.kmsKeyArn, JSON.stringify(t));
        assert.deepEqual(t.jobs.functions.at(-1), `${t.dbIdentifier.replace(/-pg$/, '')}-readiness`);
      }
      assert.equal(r.byType(ALARM).filter((a) => String(a.inputs.tags?.[ALARM_ID_TAG]).startsWith('readiness-')).length, 2);
    });
  }

  it('scratch: none (no pair to observe)', async () => {
    const r = await runStack('scratch');
    assert.equal(r.byType(FN).filter((f) => /-readiness$/.test(f.inputs.name)).length, 0);
  });
});
