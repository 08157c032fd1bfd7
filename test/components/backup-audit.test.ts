/**
 * components/BackupAudit under mocks: the audit log bucket (versioned, SSE-S3, public access blocked, retained,
 * neither replicated nor logged), the backup bucket's server access logging into it in the same region, the trail
 * selecting exactly the deletes of backups, the KMS-encrypted log group and the trail's role, the metric filter
 * excluding the job's role, the alarm; and in the program: primary and secondary audit their bucket, scratch does not.
 */
import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import { BackupAudit, BackupAuditArgs } from '../../components/backup-audit';
import { ALARM_ID_TAG, alarmRunbookSuffix } from '../../lib/runbook';
import { ProgramRun, runProgram, runProgramExpectingError } from '../helpers/pulumi';
import { Registration, captureRegistrations, dependsOn } from '../helpers/registrations';
import { P, runStack } from '../helpers/stacks';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/k-use1';
const BACKUPS = 'acme-use1-backups20240101';
const BACKUPS_ARN = `arn:aws:s3:::${BACKUPS}`;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:acme-alerts';
const T = {
  bucket: 'aws:s3/bucket:Bucket',
  logging: 'aws:s3/bucketLogging:BucketLogging',
  trail: 'aws:cloudtrail/trail:Trail',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  filter: 'aws:cloudwatch/logMetricFilter:LogMetricFilter',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  role: 'aws:iam/role:Role',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
};

function build(extra: Partial<BackupAuditArgs> = {}, regs?: { list: Registration[] }): () => Record<string, unknown> {
  return () => {
    if (regs) regs.list = captureRegistrations();
    const provider = new aws.Provider('use1', { region: 'us-east-1' });
    const a = new BackupAudit('acme-audit', {
      provider,
      region: 'us-east-1',
      namePrefix: 'acme',
      kmsKeyArn: KEY,
      bucketName: BACKUPS,
      bucketArn: BACKUPS_ARN,
      jobRoleName: 'acme-backup-jobs-role-1a2b3c4',
      alertsTopicArn: TOPIC,
      ...extra,
    });
    return { logBucketName: a.logBucketName, trailName: a.trailName, alarmName: a.alarmName };
  };
}
const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as { Statement: any[] };
const sid = (doc: { Statement: any[] }, id: string) => doc.Statement.find((s) => s.Sid === id);

describe('components/BackupAudit', () => {
  let run: ProgramRun;
  const regs = { list: [] as Registration[] };
  before(async () => {
    run = await runProgram(build({}, regs));
  });
  const logBucket = () => run.one(T.bucket);
  const onLogBucket = (type: string) => run.byType(type).filter((r) => r.inputs.bucket === logBucket().id);

  it('is a bot-dr:backup:BackupAudit whose children are parented and in its region', () => {
    const kids = run.children(run.one('bot-dr:backup:BackupAudit'));
    assert.ok(kids.length >= 13, run.summary());
    for (const k of kids) assert.equal(k.region, 'us-east-1', `${k.type} ${k.name}`);
  });

  it('the log bucket: versioned, SSE-S3 (access logging supports no default SSE-KMS), ACLs off, all public access blocked', () => {
    assert.equal(logBucket().inputs.bucketPrefix, 'acme-use1-audit-logs');
    assert.equal(logBucket().inputs.tags['bot-dr:component'], 'backup-audit');
    assert.deepEqual(onLogBucket('aws:s3/bucketVersioning:BucketVersioning')[0].inputs.versioningConfiguration, { status: 'Enabled' });
    assert.deepEqual(onLogBucket('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration')[0].inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }]);
    assert.deepEqual(onLogBucket('aws:s3/bucketOwnershipControls:BucketOwnershipControls')[0].inputs.rule, { objectOwnership: 'BucketOwnerEnforced' });
    const pab = onLogBucket('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock')[0].inputs;
    for (const k of ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets']) assert.equal(pab[k], true, k);
  });

  it('the log bucket: retained 365 days by lifecycle (a deleted log stays recoverable as long), no Object Lock, not replicated, not logged', () => {
    const rules = onLogBucket('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration')[0].inputs.rules;
    const retain = rules.find((r: any) => r.id === 'retain');
    assert.deepEqual([retain.status, retain.filter, retain.expiration, retain.noncurrentVersionExpiration], ['Enabled', {}, { days: 365 }, { noncurrentDays: 365 }]);
    assert.equal(logBucket().inputs.objectLockEnabled, undefined);
    assert.equal(run.byType('aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration').length, 0);
    assert.equal(run.byType('aws:s3/bucketReplicationConfig:BucketReplicationConfig').length, 0);
    const logsOfLogBucket = run.byType(T.logging).filter((r) => r.inputs.bucket === logBucket().id || r.inputs.bucket === logBucket().state.bucket);
    assert.equal(logsOfLogBucket.length, 0, 'the log bucket does not log into itself (or anywhere)');
  });

  it('the backup bucket logs server access into the log bucket, same region, under access-logs/, after the policy admits S3 logging', () => {
    const logging = run.one(T.logging);
    assert.equal(logging.inputs.bucket, BACKUPS);
    assert.equal(logging.inputs.targetBucket, logBucket().state.bucket);
    assert.equal(logging.region, logBucket().region);
    assert.equal(logging.inputs.targetPrefix, 'access-logs/');
    assert.ok(dependsOn(regs.list, logging.name, 'acme-audit-logs-policy'));
  });

  it('the log bucket policy: TLS only; S3 logging only for the backup bucket of this account; CloudTrail only for its trail', () => {
    const doc = json(run.one('aws:s3/bucketPolicy:BucketPolicy').inputs.policy);
    const logArn = logBucket().state.arn;
    assert.deepEqual(sid(doc, 'DenyInsecureTransport').Resource, [logArn, `${logArn}/*`]);
    const logs = sid(doc, 'S3ServerAccessLogs');
    assert.deepEqual([logs.Principal, logs.Action, logs.Resource], [{ Service: 'logging.s3.amazonaws.com' }, 's3:PutObject', `${logArn}/access-logs/*`]);
    assert.deepEqual(logs.Condition, { ArnLike: { 'aws:SourceArn': BACKUPS_ARN }, StringEquals: { 'aws:SourceAccount': '123456789012' } });
    const trailArn = 'arn:aws:cloudtrail:us-east-1:123456789012:trail/acme-use1-backup-audit';
    assert.equal(sid(doc, 'CloudTrailAclCheck').Condition.StringEquals['aws:SourceArn'], trailArn);
    assert.equal(sid(doc, 'CloudTrailWrite').Resource, `${logArn}/cloudtrail/AWSLogs/123456789012/*`);
    assert.equal(run.one(T.trail).state.arn, trailArn, 'the ARN the policy names is the trail\'s');
  });

  it('the trail selects exactly the deletes of backups: DeleteObject under postgresql/ and redis/, DeleteObjects on the bucket; no management events', () => {
    const t = run.one(T.trail).inputs;
    assert.deepEqual(t.advancedEventSelectors, [
      {
        name: 'backup-object-deletes',
        fieldSelectors: [
          { field: 'eventCategory', equals: ['Data'] },
          { field: 'resources.type', equals: ['AWS::S3::Object'] },
          { field: 'eventName', equals: ['DeleteObject'] },
          { field: 'resources.ARN', startsWiths: [`${BACKUPS_ARN}/postgresql/`, `${BACKUPS_ARN}/redis/`] },
        ],
      },
      {
        name: 'backup-batch-deletes',
        fieldSelectors: [
          { field: 'eventCategory', equals: ['Data'] },
          { field: 'resources.type', equals: ['AWS::S3::Object'] },
          { field: 'eventName', equals: ['DeleteObjects'] },
          { field: 'resources.ARN', startsWiths: [`${BACKUPS_ARN}/`] },
        ],
      },
    ]);
    assert.equal(t.eventSelectors, undefined);
    assert.deepEqual([t.name, t.s3BucketName, t.s3KeyPrefix, t.isMultiRegionTrail, t.includeGlobalServiceEvents, t.enableLogFileValidation], ['acme-use1-backup-audit', logBucket().state.bucket, 'cloudtrail', false, false, true]);
  });

  it('the trail delivers to a KMS-encrypted log group kept 365 days, through a role only CloudTrail (this trail) assumes, scoped to that group', () => {
    const group = run.one(T.logGroup);
    assert.deepEqual([group.inputs.name, group.inputs.kmsKeyId, group.inputs.retentionInDays], ['/aws/cloudtrail/acme-use1-backup-audit', KEY, 365]);
    const t = run.one(T.trail).inputs;
    assert.equal(t.cloudWatchLogsGroupArn, `${group.state.arn}:*`);
    const role = run.one(T.role);
    assert.equal(t.cloudWatchLogsRoleArn, role.state.arn);
    const trust = json(role.inputs.assumeRolePolicy).Statement[0];
    assert.deepEqual(trust.Condition.StringEquals, { 'aws:SourceAccount': '123456789012', 'aws:SourceArn': run.one(T.trail).state.arn });
    const policy = json(run.one(T.rolePolicy).inputs.policy).Statement;
    assert.deepEqual(policy, [{ Sid: 'TrailWritesItsLogGroup', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${group.state.arn}:log-stream:*` }]);
    const trailReg = regs.list.find((r) => r.type === T.trail)!;
    assert.ok(dependsOn(regs.list, trailReg.name, 'acme-audit-logs-policy') && dependsOn(regs.list, trailReg.name, 'acme-audit-trail-role-policy'));
  });

  it('the metric filter counts deletes in the backup bucket by anyone but a session of the job role', () => {
    const f = run.one(T.filter).inputs;
    assert.equal(f.logGroupName, run.one(T.logGroup).inputs.name);
    assert.equal(
      f.pattern,
      `{ ($.eventSource = "s3.amazonaws.com") && ($.requestParameters.bucketName = "${BACKUPS}") && ((($.eventName = "DeleteObject") && (($.requestParameters.key = "postgresql/*") || ($.requestParameters.key = "redis/*"))) || ($.eventName = "DeleteObjects")) && ($.userIdentity.arn != "arn:aws:sts::123456789012:assumed-role/acme-backup-jobs-role-1a2b3c4/*") }`,
    );
    assert.deepEqual(f.metricTransformation, { name: 'BackupDeletesByOthers', namespace: 'BotDR/Audit', value: '1', unit: 'Count' });
  });

  it('the backup-deletes alarm fires on the first such delete, notifies the alerts topic, names INC-007 and carries its id tag', () => {
    const a = run.one(T.alarm).inputs;
    assert.deepEqual([a.name, a.namespace, a.metricName, a.statistic, a.threshold, a.comparisonOperator, a.treatMissingData], [
      'acme-us-east-1-backup-deletes',
      'BotDR/Audit',
      'BackupDeletesByOthers',
      'Sum',
      1,
      'GreaterThanOrEqualToThreshold',
      'notBreaching',
    ]);
    assert.deepEqual([a.alarmActions, a.okActions], [[TOPIC], [TOPIC]]);
    assert.ok(a.alarmDescription.endsWith(alarmRunbookSuffix('backup-deletes')) && a.alarmDescription.includes('INC-007'), a.alarmDescription);
    assert.match(a.alarmDescription, /acme-backup-jobs-role-1a2b3c4/);
    assert.equal(a.tags[ALARM_ID_TAG], 'backup-deletes');
  });

  it('rejects a bad name prefix or retention before declaring anything', async () => {
    for (const [extra, key] of [[{ namePrefix: 'Bad_Prefix' }, /namePrefix/], [{ retentionDays: 100 }, /retentionDays: must be a CloudWatch Logs retention/]] as const) {
      const { error, resources } = await runProgramExpectingError(build(extra));
      assert.match(error.message, key);
      assert.equal(resources.filter((r) => r.type.startsWith('aws:') && !r.type.startsWith('pulumi:')).length, 0);
    }
  });
});

describe('the backup audit in the program', () => {
  it('primary and secondary audit their own backup bucket in their region, excluding their own job role; scratch declares no audit', async () => {
    for (const [stack, region, regionName] of [['primary', 'us-east-1', 'use1'], ['secondary', 'us-west-2', 'usw2']] as const) {
      const run = await runStack(stack);
      const backups = run.byType(T.bucket).find((b) => b.inputs.tags?.['bot-dr:component'] === 'backup-bucket')!;
      const logging = run.one(T.logging);
      assert.equal(logging.inputs.bucket, backups.state.bucket, stack);
      assert.equal(logging.region, region);
      const logBucket = run.byType(T.bucket).find((b) => b.state.bucket === logging.inputs.targetBucket)!;
      assert.equal(logBucket.region, region);
      assert.equal(logBucket.inputs.bucketPrefix, `botdr-${regionName}-audit-logs`);
      const jobRole = run.one(T.role, /backup-jobs-role$/);
      assert.match(run.one(T.filter).inputs.pattern, new RegExp(`assumed-role/${jobRole.state.name}/\\*`));
      assert.ok(run.one(T.trail).inputs.advancedEventSelectors[0].fieldSelectors[3].startsWiths[0].startsWith(`${backups.state.arn}/`));
      const alarm = run.byType(T.alarm).find((a) => a.inputs.tags?.[ALARM_ID_TAG] === 'backup-deletes');
      assert.equal(alarm?.inputs.name, `botdr-${region}-backup-deletes`);
      assert.equal(alarm?.region, region);
    }
    const scratch = await runStack('scratch');
    assert.equal(scratch.byType('bot-dr:backup:BackupAudit').length, 0);
    assert.equal(scratch.byType(T.trail).length + scratch.byType(T.logging).length, 0);
  });

  it('a promoted secondary keeps the same audit (nothing of it changes in the promotion)', async () => {
    const before = await runStack('secondary');
    const after = await runStack('secondary', { [`${P}:database`]: { promoted: true } });
    const audit = (r: ProgramRun) => r.resources.filter((x) => x.parentUrn === r.one('bot-dr:backup:BackupAudit').urn).map((x) => [x.type, x.name, JSON.stringify(x.inputs)]);
    assert.deepEqual(audit(after), audit(before));
  });
});
