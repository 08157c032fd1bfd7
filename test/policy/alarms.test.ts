/**
 * The alarms-present rule of the policy pack (policy/rules/alarms.ts): the alarms a role needs, each notifying and
 * naming its runbook incident.
 */
import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import type { PolicyResource } from '@pulumi/policy';
import { ALARM_ID_TAG, alarmRunbookSuffix } from '../../lib/runbook';
import { requiredAlarmIds } from '../../policy/rules/alarms';
import { fake, runStackPolicy, stackPolicy } from './harness';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:botdr-alerts';
const policy = stackPolicy('dr-alarms-present');

const alarm = (id: string, over: Partial<aws.cloudwatch.MetricAlarmArgs> = {}, region = 'us-east-1') =>
  fake(
    aws.cloudwatch.MetricAlarm,
    `alarm-${id}`,
    { comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1, alarmDescription: `something is wrong${alarmRunbookSuffix(id)}`, alarmActions: [TOPIC], okActions: [TOPIC], tags: { [ALARM_ID_TAG]: id }, ...(over as object) },
    { region },
  );
const primaryDb = fake(aws.rds.Instance, 'db', { kmsKeyId: 'k', backupRetentionPeriod: 14 });
const replicaDb = fake(aws.rds.Instance, 'db', { replicateSourceDb: 'arn:aws:rds:us-east-1:123456789012:db:x', kmsKeyId: 'k' }, { region: 'us-west-2' });
const healthCheck = fake(aws.route53.HealthCheck, 'hc', { type: 'HTTPS' });
const tokenMonitor = fake(aws.lambda.Function, 'monitor', { role: 'r', tags: { 'bot-dr:component': 'token-monitor' } });

describe('policy pack: dr-alarms-present', () => {
  it('the ids a role needs: backups everywhere but scratch, replica lag on a secondary, health check and token alarms where declared', () => {
    const all = { database: true, healthCheck: true, tokenMonitor: true };
    assert.ok(requiredAlarmIds('primary', all).includes('backup-age-redis-monthly'));
    assert.ok(!requiredAlarmIds('primary', all).includes('replica-lag'));
    assert.ok(requiredAlarmIds('secondary', all).includes('replica-lag'));
    assert.ok(!requiredAlarmIds('promoted', all).includes('replica-lag'));
    assert.deepEqual(requiredAlarmIds('scratch', { database: true, healthCheck: false, tokenMonitor: false }), ['db-free-storage', 'db-cpu']);
  });

  it('a primary declaring every alarm it needs passes; one missing is named', async () => {
    const has = { database: true, healthCheck: true, tokenMonitor: true };
    const alarms = requiredAlarmIds('primary', has).map((id) => alarm(id));
    assert.deepEqual(await runStackPolicy(policy, [primaryDb, healthCheck, tokenMonitor, ...alarms]), []);
    const [v] = await runStackPolicy(policy, [primaryDb, healthCheck, tokenMonitor, ...alarms.filter((a) => a.name !== 'alarm-backup-job-errors')]);
    assert.match(v.message, /the primary stack is missing alarms: backup-job-errors\./);
  });

  it('an alarm that notifies nobody, has its actions disabled, lacks its runbook suffix, its id tag, or an incident is reported', async () => {
    const has = { database: true, healthCheck: false, tokenMonitor: false };
    const base = requiredAlarmIds('primary', has).filter((id) => id !== 'db-cpu').map((id) => alarm(id));
    const broken: Record<string, PolicyResource> = {
      'notifies nobody': alarm('db-cpu', { alarmActions: [] }),
      'actions are disabled': alarm('db-cpu', { actionsEnabled: false }),
      'must end with its runbook incident': alarm('db-cpu', { alarmDescription: 'CPU high' }),
      'no bot-dr:alarm tag': alarm('db-cpu', { tags: {} }),
    };
    for (const [want, a] of Object.entries(broken)) {
      const v = await runStackPolicy(policy, [primaryDb, ...base, a]);
      assert.ok(v.some((x) => x.message.includes(want) && x.urn === a.urn), `${want}: ${JSON.stringify(v)}`);
    }
    const unknownId = fake(aws.cloudwatch.MetricAlarm, 'odd', { comparisonOperator: 'x', evaluationPeriods: 1, alarmActions: [TOPIC], tags: { [ALARM_ID_TAG]: 'no-such-alarm' } });
    const v = await runStackPolicy(policy, [primaryDb, ...base, alarm('db-cpu'), unknownId]);
    assert.match(v.map((x) => x.message).join('\n'), /alarm no-such-alarm: no runbook incident/);
  });

  it("a standby secondary's token health alarms may be silent (actions disabled); its not-running alarm may not", async () => {
    const has = { database: true, healthCheck: true, tokenMonitor: true };
    const alarms = requiredAlarmIds('secondary', has).map((id) => (id.startsWith('token-') && id !== 'token-monitor-not-running' ? alarm(id, { actionsEnabled: false }, 'us-west-2') : alarm(id, {}, 'us-west-2')));
    assert.deepEqual(await runStackPolicy(policy, [replicaDb, healthCheck, tokenMonitor, ...alarms]), []);
    const silentNotRunning = alarms.map((a) => (a.name === 'alarm-token-monitor-not-running' ? alarm('token-monitor-not-running', { actionsEnabled: false }, 'us-west-2') : a));
    assert.equal((await runStackPolicy(policy, [replicaDb, healthCheck, tokenMonitor, ...silentNotRunning])).length, 1);
    // On a primary (the active stack) silent token alarms are reported.
    const primaryAlarms = requiredAlarmIds('primary', has).map((id) => (id === 'token-all-unhealthy' ? alarm(id, { actionsEnabled: false }) : alarm(id)));
    assert.equal((await runStackPolicy(policy, [primaryDb, healthCheck, tokenMonitor, ...primaryAlarms])).length, 1);
  });
});
