import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import { Alerts, AlertsArgs, freeStorageThresholdBytes } from '../../components/alerts';
import { BACKUP_METRICS_NAMESPACE } from '../../lib/backup-metrics';
import { ProgramRun, RecordedResource, runProgram, runProgramExpectingError, serializeDeep } from '../helpers/pulumi';
import { unwrapSecret } from '../helpers/registrations';

const ACCOUNT = '123456789012';
const KEY_USE1 = `arn:aws:kms:us-east-1:${ACCOUNT}:key/k-use1`;
const KEY_USW2 = `arn:aws:kms:us-west-2:${ACCOUNT}:key/k-usw2`;
const WEBHOOK = 'https://hooks.example.com/services/T000/B000/very-secret-path';

function build(extra: Partial<AlertsArgs> = {}) {
  return () => {
    const provider = new aws.Provider('use1', { region: 'us-east-1' });
    const a = new Alerts('acme-alerts', {
      provider,
      region: 'us-east-1',
      role: 'primary',
      namePrefix: 'acme',
      kmsKeyArn: KEY_USE1,
      emails: ['ops@example.com', 'oncall@example.com'],
      webhookUrl: WEBHOOK,
      healthCheckId: 'hc-123',
      dbInstanceIdentifier: 'acme-db',
      dbAllocatedStorageGb: 100,
      backupFunctionName: 'acme-backup-job',
      backupDlqName: 'acme-backup-job-dlq',
      ...extra,
    });
    return { topicArn: a.topicArn };
  };
}
const alarms = (r: ProgramRun) => r.byType('aws:cloudwatch/metricAlarm:MetricAlarm');
const alarmNamed = (r: ProgramRun, id: string): RecordedResource => r.one('aws:cloudwatch/metricAlarm:MetricAlarm', new RegExp(`-${id}$`));

describe('components/Alerts', () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(build());
  });

  describe('topic', () => {
    it('is KMS-encrypted with the region key', () => {
      const t = run.one('aws:sns/topic:Topic');
      assert.equal(t.inputs.kmsMasterKeyId, KEY_USE1);
      assert.equal(t.region, 'us-east-1');
    });
    it('lets CloudWatch alarms publish', () => {
      const p = JSON.parse(run.one('aws:sns/topicPolicy:TopicPolicy').inputs.policy);
      const s = p.Statement.find((x: any) => x.Sid === 'CloudWatchAlarmsPublish');
      assert.deepEqual(s.Principal, { Service: 'cloudwatch.amazonaws.com' });
      assert.equal(s.Resource, run.one('aws:sns/topic:Topic').state.arn);
    });
    it('has email subscriptions and a secret HTTPS webhook subscription', () => {
      const subs = run.byType('aws:sns/topicSubscription:TopicSubscription');
      const emails = subs.filter((s) => s.inputs.protocol === 'email').map((s) => s.inputs.endpoint).sort();
      assert.deepEqual(emails, ['oncall@example.com', 'ops@example.com']);
      const hook = subs.find((s) => s.inputs.protocol === 'https');
      assert.ok(hook);
      assert.equal(unwrapSecret(hook.inputs.endpoint), WEBHOOK);
      assert.notEqual(hook.inputs.endpoint, WEBHOOK, 'the webhook URL must be sent as a secret');
      assert.ok(!serializeDeep(run.outputs).includes('very-secret-path'));
    });
  });

  it('points every alarm’s alarm and OK actions at the topic', () => {
    const topicArn = run.one('aws:sns/topic:Topic').state.arn;
    assert.ok(alarms(run).length >= 10, run.summary());
    for (const a of alarms(run)) {
      assert.deepEqual(a.inputs.alarmActions, [topicArn], a.name);
      assert.deepEqual(a.inputs.okActions, [topicArn], a.name);
    }
  });

  it('alarms on backup age per service and tier with the tier thresholds, missing = breaching on primary', () => {
    const expected = { daily: 26 * 3600, weekly: 8 * 86400, monthly: 32 * 86400 };
    for (const service of ['postgresql', 'redis']) {
      for (const [tier, threshold] of Object.entries(expected)) {
        const a = alarmNamed(run, `backup-age-${service}-${tier}`).inputs;
        assert.equal(a.namespace, BACKUP_METRICS_NAMESPACE);
        assert.equal(a.metricName, 'BackupAgeSeconds');
        assert.deepEqual(a.dimensions, { Service: service, Tier: tier });
        assert.equal(a.threshold, threshold);
        assert.equal(a.comparisonOperator, 'GreaterThanThreshold');
        assert.equal(a.treatMissingData, 'breaching');
      }
    }
  });

  it('does not page a secondary for backups it does not take', async () => {
    const r = await runProgram(build({ role: 'secondary', healthCheckId: undefined }));
    assert.equal(alarmNamed(r, 'backup-age-postgresql-daily').inputs.treatMissingData, 'notBreaching');
  });

  it('alarms on the health check in us-east-1', () => {
    const a = alarmNamed(run, 'health-check');
    assert.equal(a.region, 'us-east-1');
    assert.equal(a.inputs.namespace, 'AWS/Route53');
    assert.equal(a.inputs.metricName, 'HealthCheckStatus');
    assert.deepEqual(a.inputs.dimensions, { HealthCheckId: 'hc-123' });
    assert.equal(a.inputs.comparisonOperator, 'LessThanThreshold');
    assert.equal(a.inputs.threshold, 1);
  });

  it('from another region, puts the health-check alarm and an encrypted topic in us-east-1', async () => {
    const r = await runProgram(() => {
      const provider = new aws.Provider('usw2', { region: 'us-west-2' });
      const use1 = new aws.Provider('use1', { region: 'us-east-1' });
      new Alerts('acme-alerts', { provider, usEast1Provider: use1, region: 'us-west-2', role: 'secondary', namePrefix: 'acme', kmsKeyArn: KEY_USW2, emails: ['ops@example.com'], healthCheckId: 'hc-9', replicaDbIdentifier: 'acme-replica' });
    });
    const hc = alarmNamed(r, 'health-check');
    assert.equal(hc.region, 'us-east-1');
    const topics = r.byType('aws:sns/topic:Topic');
    const use1Topic = topics.find((t) => t.region === 'us-east-1');
    assert.ok(use1Topic, 'a us-east-1 topic');
    assert.deepEqual(hc.inputs.alarmActions, [use1Topic.state.arn]);
    const key = r.one('aws:kms/key:Key');
    assert.equal(key.region, 'us-east-1');
    assert.equal(key.inputs.enableKeyRotation, true);
    assert.equal(use1Topic.inputs.kmsMasterKeyId, key.state.arn);
    assert.ok(JSON.parse(key.inputs.policy).Statement.some((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com'));
    assert.ok(r.byType('aws:sns/topicSubscription:TopicSubscription').some((s) => s.region === 'us-east-1' && s.inputs.endpoint === 'ops@example.com'));
    // Regional alarms stay in the stack's region on the regional topic.
    const lag = alarmNamed(r, 'replica-lag');
    assert.equal(lag.region, 'us-west-2');
    assert.deepEqual(lag.inputs.alarmActions, [topics.find((t) => t.region === 'us-west-2')!.state.arn]);
  });

  it('alarms on replica lag above the RPO budget (configurable)', async () => {
    const r = await runProgram(build({ replicaDbIdentifier: 'acme-replica', replicaLagSeconds: 300 }));
    const a = alarmNamed(r, 'replica-lag').inputs;
    assert.equal(a.namespace, 'AWS/RDS');
    assert.equal(a.metricName, 'ReplicaLag');
    assert.deepEqual(a.dimensions, { DBInstanceIdentifier: 'acme-replica' });
    assert.equal(a.threshold, 300);
    assert.equal(a.comparisonOperator, 'GreaterThanThreshold');
    assert.equal(alarmNamed(await runProgram(build({ replicaDbIdentifier: 'x' })), 'replica-lag').inputs.threshold, 900);
    assert.equal(run.byType('aws:cloudwatch/metricAlarm:MetricAlarm').filter((x) => x.name.endsWith('replica-lag')).length, 0);
  });

  it('alarms on backup-job errors and dead letters', () => {
    const e = alarmNamed(run, 'backup-job-errors').inputs;
    assert.equal(e.namespace, 'AWS/Lambda');
    assert.equal(e.metricName, 'Errors');
    assert.deepEqual(e.dimensions, { FunctionName: 'acme-backup-job' });
    assert.equal(e.threshold, 1);
    assert.deepEqual(alarmNamed(run, 'backup-job-dead-letters').inputs.dimensions, { QueueName: 'acme-backup-job-dlq' });
  });

  it('alarms on DB free storage (10 % of allocated) and CPU', () => {
    const s = alarmNamed(run, 'db-free-storage').inputs;
    assert.equal(s.metricName, 'FreeStorageSpace');
    assert.equal(s.threshold, 10 * 1024 ** 3);
    assert.equal(s.comparisonOperator, 'LessThanThreshold');
    const c = alarmNamed(run, 'db-cpu').inputs;
    assert.equal(c.metricName, 'CPUUtilization');
    assert.equal(c.threshold, 80);
    assert.equal(freeStorageThresholdBytes(5), 1024 ** 3);
  });

  for (const [what, extra, re] of [
    ['a bad email', { emails: ['not-an-email'] }, /alerts\.emails\[0\]/],
    ['an http webhook', { webhookUrl: 'http://hooks.example.com/x' }, /alerts\.webhookUrl/],
    ['a zero RPO budget', { replicaLagSeconds: 0 }, /alerts\.replicaLagSeconds/],
    ['a health check outside us-east-1 without a us-east-1 provider', { region: 'us-west-2', kmsKeyArn: KEY_USW2 }, /usEast1Provider/],
  ] as const) {
    it(`refuses ${what} before declaring anything`, async () => {
      const { error, resources } = await runProgramExpectingError(build(extra as any));
      assert.match(error.message, re);
      assert.equal(resources.filter((r) => r.type.startsWith('aws:sns') || r.type.startsWith('aws:cloudwatch')).length, 0);
    });
  }
});
