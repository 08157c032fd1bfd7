import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import { Alerts, AlertsArgs } from '../../components/alerts';
import {
  BACKUP_METRICS_NAMESPACE,
  RESTORE_TEST_AGE_METRIC,
  RESTORE_TEST_MAX_AGE_SECONDS,
  RESTORE_TEST_SUCCESS_METRIC,
} from '../../lib/backup-metrics';
import { RESTORE_TEST_SCHEDULE } from '../../lib/lifecycle';
import { ProgramRun, RecordedResource, runProgram } from '../helpers/pulumi';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/k-use1';
const ALARM = 'aws:cloudwatch/metricAlarm:MetricAlarm';

function build(extra: Partial<AlertsArgs> = {}) {
  return () => {
    const provider = new aws.Provider('use1', { region: 'us-east-1' });
    new Alerts('acme-alerts', { provider, region: 'us-east-1', role: 'primary', namePrefix: 'acme', kmsKeyArn: KEY, emails: ['ops@example.com'], ...extra });
  };
}
const alarmNamed = (r: ProgramRun, id: string): RecordedResource => r.one(ALARM, new RegExp(`-${id}$`));

describe('components/Alerts: restore-test alarms', () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(build());
  });

  it('alarms when the newest successful PostgreSQL restore test is older than 8 days; missing = breaching on primary', () => {
    const a = alarmNamed(run, 'restore-test-age-postgresql').inputs;
    assert.equal(a.namespace, BACKUP_METRICS_NAMESPACE);
    assert.equal(a.metricName, RESTORE_TEST_AGE_METRIC);
    assert.equal(a.metricName, 'RestoreTestAgeSeconds');
    assert.deepEqual(a.dimensions, { Service: 'postgresql' });
    assert.equal(a.threshold, 8 * 86400);
    assert.equal(a.threshold, RESTORE_TEST_MAX_AGE_SECONDS);
    assert.equal(a.comparisonOperator, 'GreaterThanThreshold');
    assert.equal(a.statistic, 'Maximum');
    assert.equal(a.period, 86400);
    assert.equal(a.treatMissingData, 'breaching');
    const topicArn = run.one('aws:sns/topic:Topic').state.arn;
    assert.deepEqual(a.alarmActions, [topicArn]);
    assert.deepEqual(a.okActions, [topicArn]);
  });

  it('the age threshold leaves exactly one day of slack over the weekly schedule', () => {
    // A weekly cron: one run may slip by a day before the page; a missed run pages on day 8.
    assert.match(RESTORE_TEST_SCHEDULE.expression, /^cron\(\S+ \S+ \? \* (MON|TUE|WED|THU|FRI|SAT|SUN) \*\)$/, 'the restore test is weekly');
    assert.equal(RESTORE_TEST_MAX_AGE_SECONDS, 7 * 86400 + 86400);
  });

  it('alarms on a failed restore test (RestoreTestSuccess < 1); silence between weekly runs is not a failure', () => {
    const a = alarmNamed(run, 'restore-test-failed-postgresql').inputs;
    assert.equal(a.namespace, BACKUP_METRICS_NAMESPACE);
    assert.equal(a.metricName, RESTORE_TEST_SUCCESS_METRIC);
    assert.deepEqual(a.dimensions, { Service: 'postgresql' });
    assert.equal(a.statistic, 'Minimum');
    assert.equal(a.comparisonOperator, 'LessThanThreshold');
    assert.equal(a.threshold, 1);
    assert.equal(a.treatMissingData, 'notBreaching');
  });

  it('does not page a secondary (the restore test runs where the backups run)', async () => {
    const r = await runProgram(build({ role: 'secondary' }));
    assert.equal(alarmNamed(r, 'restore-test-age-postgresql').inputs.treatMissingData, 'notBreaching');
  });

  it('is left out with the backup-age alarms (scratch stacks)', async () => {
    const r = await runProgram(build({ backupAgeAlarms: false }));
    assert.equal(r.byType(ALARM).filter((x) => /restore-test/.test(x.name)).length, 0);
  });
});
