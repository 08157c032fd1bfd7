/**
 * The delete-audit rule of the policy pack (policy/rules/audit.ts) on fake resources: the trail, log group, metric
 * filter and alarm as components/backup-audit.ts declares them pass; each missing or weakened part is reported.
 */
import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import type { PolicyResource } from '@pulumi/policy';
import { backupAuditEventSelectors, backupDeletesFilterPattern } from '../../lib/audit';
import { ALARM_ID_TAG } from '../../lib/runbook';
import { fake, runStackPolicy, stackPolicy } from './harness';

const ARN = 'arn:aws:s3:::backups';
const policy = stackPolicy('dr-backup-delete-audit');

interface Parts {
  bucket: PolicyResource;
  group: PolicyResource;
}
type Over = (p: Parts) => Record<string, PolicyResource | undefined>;

function world(over: Over = () => ({})): PolicyResource[] {
  const db = fake(aws.rds.Instance, 'db', { kmsKeyId: 'k', backupRetentionPeriod: 14 });
  const bucket = fake(aws.s3.Bucket, 'backups', { tags: { 'bot-dr:component': 'backup-bucket' } }, { outputs: { arn: ARN, bucket: 'backups' } });
  const group = fake(aws.cloudwatch.LogGroup, 'trail-logs', { name: '/aws/cloudtrail/t', kmsKeyId: 'k' }, { outputs: { arn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/t' } });
  const parts: Record<string, PolicyResource | undefined> = {
    trail: fake(
      aws.cloudtrail.Trail,
      'trail',
      { s3BucketName: 'logs', advancedEventSelectors: backupAuditEventSelectors(ARN), cloudWatchLogsGroupArn: 'g:*', cloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/trail' },
      { deps: { advancedEventSelectors: [bucket], cloudWatchLogsGroupArn: [group] } },
    ),
    filter: fake(
      aws.cloudwatch.LogMetricFilter,
      'filter',
      { logGroupName: '/aws/cloudtrail/t', pattern: backupDeletesFilterPattern({ bucketName: 'backups', account: '123456789012', jobRoleName: 'job' }), metricTransformation: { name: 'BackupDeletesByOthers', namespace: 'BotDR/Audit', value: '1' } },
      { deps: { logGroupName: [group] } },
    ),
    alarm: fake(aws.cloudwatch.MetricAlarm, 'alarm', { comparisonOperator: 'GreaterThanOrEqualToThreshold', evaluationPeriods: 1, metricName: 'BackupDeletesByOthers', namespace: 'BotDR/Audit', tags: { [ALARM_ID_TAG]: 'backup-deletes' } }),
  };
  const merged = { ...parts, ...over({ bucket, group }) };
  return [db, bucket, group, ...Object.values(merged).filter((x): x is PolicyResource => !!x)];
}
const messages = async (rs: PolicyResource[]) => (await runStackPolicy(policy, rs)).map((v) => v.message);

describe('policy pack: dr-backup-delete-audit', () => {
  it('a trail of the deletes, its log group, the filter excluding the job and the alarm, as the program declares them, pass', async () => {
    assert.deepEqual(await runStackPolicy(policy, world()), []);
  });

  it('no trail, or one that misses DeleteObjects (batch deletes) or a prefix, or is not logging, is reported', async () => {
    assert.match((await messages(world(() => ({ trail: undefined }))))[0], /no CloudTrail trail records its deletes/);
    const narrow = backupAuditEventSelectors(ARN).slice(0, 1);
    const prefixOnly = backupAuditEventSelectors(ARN, ['postgresql/']);
    const stopped = { enableLogging: false };
    for (const [what, props] of [
      ['no DeleteObjects', { advancedEventSelectors: narrow }],
      ['no redis/', { advancedEventSelectors: prefixOnly }],
      ['logging off', { advancedEventSelectors: backupAuditEventSelectors(ARN), ...stopped }],
    ] as const) {
      const rs = world(({ bucket, group }) => ({
        trail: fake(aws.cloudtrail.Trail, 'trail', { s3BucketName: 'logs', cloudWatchLogsGroupArn: 'g:*', cloudWatchLogsRoleArn: 'r', ...props }, { deps: { advancedEventSelectors: [bucket], cloudWatchLogsGroupArn: [group] } }),
      }));
      assert.match((await messages(rs))[0] ?? '', /no CloudTrail trail records its deletes/, what);
    }
  });

  it('a trail not delivering to CloudWatch Logs, a filter that does not exclude the job, or no alarm on the metric is reported', async () => {
    const toS3Only = world(({ bucket }) => ({ trail: fake(aws.cloudtrail.Trail, 'trail', { s3BucketName: 'logs', advancedEventSelectors: backupAuditEventSelectors(ARN) }, { deps: { advancedEventSelectors: [bucket] } }) }));
    assert.match((await messages(toS3Only))[0], /must deliver to a CloudWatch Logs group/);
    const everyone = world(({ group }) => ({
      filter: fake(aws.cloudwatch.LogMetricFilter, 'filter', { logGroupName: 'g', pattern: '{ ($.eventName = "DeleteObject") || ($.eventName = "DeleteObjects") }', metricTransformation: { name: 'm', namespace: 'n', value: '1' } }, { deps: { logGroupName: [group] } }),
    }));
    assert.match((await messages(everyone))[0], /no metric filter counts the deletes of backups made by anyone but the backup job/);
    assert.match((await messages(world(() => ({ alarm: undefined }))))[0], /no backup-deletes alarm watches its metric BackupDeletesByOthers/);
  });

  it('not applicable to a scratch drill', async () => {
    const rs = world(() => ({ trail: undefined })).map((r) => (r.name === 'db' ? fake(aws.rds.Instance, 'db', { snapshotIdentifier: 'rds:x' }) : r));
    assert.deepEqual(await runStackPolicy(policy, rs), []);
  });
});
