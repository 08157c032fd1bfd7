import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import {
  ACCESS_LOG_PREFIX,
  AUDIT_RETENTION_DAYS,
  AUDITED_PREFIXES,
  BACKUP_DELETES_ALARM_ID,
  BACKUP_DELETES_METRIC,
  TRAIL_LOG_PREFIX,
  backupAuditEventSelectors,
  backupDeletesFilterPattern,
} from '../lib/audit';
import { NAME_PREFIX_MAX, NAME_PREFIX_MIN, NAME_PREFIX_PATTERN, regionalBase } from '../lib/naming';
import { arnAccount, arnPartition, auditLogBucketPolicy, cloudTrailLogsRolePolicy, cloudTrailLogsTrustPolicy } from '../lib/policies';
import { ALARM_ID_TAG, alarmRunbookSuffix } from '../lib/runbook';

/** CloudWatch Logs' accepted retention values. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Arguments of {@link BackupAudit}. */
export interface BackupAuditArgs {
  /** Provider of the backup bucket's region; every child is created through it (access logs stay in the region). */
  provider: aws.Provider;
  /** The region, e.g. `us-east-1` (the trail's ARN, the alarm's name). */
  region: string;
  /** Physical-name prefix, e.g. `botdr`: `<prefix>-<region short>-…` (trail, log group, log bucket), alarm `<prefix>-<region>-backup-deletes`. */
  namePrefix: string;
  /** ARN of the region's KMS key: the trail's CloudWatch Logs group (its policy admits this region's log groups). */
  kmsKeyArn: pulumi.Input<string>;
  /** The audited backup bucket's name (its server access logging, the filter pattern). */
  bucketName: pulumi.Input<string>;
  /** The audited backup bucket's ARN (the trail's selectors, the log bucket policy's source). */
  bucketArn: pulumi.Input<string>;
  /** Name of the backup job's IAM role: its deletes (the job's pruning) are expected and do not alarm. */
  jobRoleName: pulumi.Input<string>;
  /** The region's alerts topic: the alarm notifies it on ALARM and OK. */
  alertsTopicArn: pulumi.Input<string>;
  /** Days the traces are kept: the log bucket's lifecycle and the log group's retention (a CloudWatch Logs value). Default 365. */
  retentionDays?: number;
  /** Tags applied to taggable children. */
  tags?: Record<string, string>;
}

/** Validates BackupAudit args known at construction; errors name the key. */
export function validateBackupAuditArgs(args: BackupAuditArgs): void {
  const p = args.namePrefix;
  if (p.length < NAME_PREFIX_MIN || p.length > NAME_PREFIX_MAX || !NAME_PREFIX_PATTERN.test(p)) {
    throw new Error(`namePrefix: must be ${NAME_PREFIX_MIN}-${NAME_PREFIX_MAX} lowercase letters, digits and single hyphens, got ${JSON.stringify(p)}`);
  }
  regionalBase(p, args.region);
  const days = args.retentionDays ?? AUDIT_RETENTION_DAYS;
  if (!LOG_RETENTION_DAYS.includes(days)) throw new Error(`retentionDays: must be a CloudWatch Logs retention (${LOG_RETENTION_DAYS.join(', ')}), got ${JSON.stringify(days)}`);
}

/**
 * The audit trail of a region's backup bucket (issue 12 item 7; lib/audit.ts explains the design):
 * - the region's audit log bucket: versioned, SSE-S3 (server access logging supports no default SSE-KMS on its
 *   target), all public access blocked, ACLs disabled, TLS-only, logs kept `retentionDays` by lifecycle (not Object
 *   Lock, which S3 refuses on an access-log target), neither replicated nor logged itself;
 * - the backup bucket's server access logging into it (every read, write and delete, key by key);
 * - a regional CloudTrail trail recording the deletes of backups (S3 data events: DeleteObject under postgresql/ and
 *   redis/, DeleteObjects on the bucket) into the log bucket and a KMS-encrypted CloudWatch Logs group;
 * - a metric filter counting those deletes made by anyone but the backup job's role, and the `backup-deletes`
 *   alarm on it (runbook INC-007).
 */
export class BackupAudit extends pulumi.ComponentResource {
  /** The audit log bucket's name. */
  readonly logBucketName: pulumi.Output<string>;
  /** The trail's name. */
  readonly trailName: pulumi.Output<string>;
  /** The trail's CloudWatch Logs group. */
  readonly logGroupName: pulumi.Output<string>;
  /** The alarm's name. */
  readonly alarmName: pulumi.Output<string>;

  constructor(name: string, args: BackupAuditArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:backup:BackupAudit', name, {}, opts);
    validateBackupAuditArgs(args);
    const base = auditBase(args);
    const logs = createLogBucket(name, args, this, base);
    const trail = createTrail(name, args, this, base, logs);
    this.alarmName = createDeletesAlarm(name, args, this, base, trail.logGroup);

    this.logBucketName = logs.bucket.bucket;
    this.trailName = trail.trail.name;
    this.logGroupName = trail.logGroup.name;
    this.registerOutputs({ logBucketName: this.logBucketName, trailName: this.trailName, logGroupName: this.logGroupName, alarmName: this.alarmName });
  }
}

/** Names, tags and the account the audit's parts share. */
interface AuditBase {
  tags: Record<string, string>;
  /** `<prefix>-<region short>`, e.g. `botdr-use1`. */
  stem: string;
  trailName: string;
  account: pulumi.Output<string>;
  partition: pulumi.Output<string>;
  /** The trail's ARN, known before the trail exists (its name is fixed): the log bucket policy and the role trust name it. */
  trailArn: pulumi.Output<string>;
  retentionDays: number;
}

function auditBase(args: BackupAuditArgs): AuditBase {
  const stem = regionalBase(args.namePrefix, args.region);
  const trailName = `${stem}-backup-audit`;
  const account = pulumi.output(args.kmsKeyArn).apply(arnAccount);
  const partition = pulumi.output(args.kmsKeyArn).apply(arnPartition);
  return {
    tags: { ...args.tags, 'bot-dr:component': 'backup-audit' },
    stem,
    trailName,
    account,
    partition,
    trailArn: pulumi.interpolate`arn:${partition}:cloudtrail:${args.region}:${account}:trail/${trailName}`,
    retentionDays: args.retentionDays ?? AUDIT_RETENTION_DAYS,
  };
}

/** The audit log bucket and what makes it one, and the backup bucket's server access logging into it. */
function createLogBucket(name: string, args: BackupAuditArgs, parent: pulumi.Resource, base: AuditBase) {
  const child = { parent, provider: args.provider };
  const bucket = new aws.s3.Bucket(`${name}-logs`, { bucketPrefix: `${base.stem}-audit-logs`, forceDestroy: false, tags: base.tags }, child);
  const ownership = new aws.s3.BucketOwnershipControls(`${name}-logs-ownership`, { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, child);
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${name}-logs-public-access`,
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    child,
  );
  const versioning = new aws.s3.BucketVersioning(`${name}-logs-versioning`, { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } }, child);
  new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-logs-encryption`, { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] }, child);
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-logs-lifecycle`,
    {
      bucket: bucket.id,
      rules: [
        // A deleted or overwritten log stays recoverable for the whole retention too.
        {
          id: 'retain',
          status: 'Enabled',
          filter: {},
          expiration: { days: base.retentionDays },
          noncurrentVersionExpiration: { noncurrentDays: base.retentionDays },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
        },
        { id: 'delete-markers', status: 'Enabled', filter: {}, expiration: { expiredObjectDeleteMarker: true } },
      ],
    },
    { ...child, dependsOn: [versioning] },
  );
  const policy = new aws.s3.BucketPolicy(
    `${name}-logs-policy`,
    {
      bucket: bucket.id,
      policy: pulumi
        .all([bucket.arn, args.bucketArn, base.account, base.trailArn])
        .apply(([logBucketArn, sourceBucketArn, account, trailArn]) =>
          JSON.stringify(auditLogBucketPolicy({ logBucketArn, sourceBucketArn, account, trailArn, accessLogPrefix: ACCESS_LOG_PREFIX, trailPrefix: TRAIL_LOG_PREFIX })),
        ),
    },
    // S3 rejects concurrent policy and public-access-block changes ("OperationAborted").
    { ...child, dependsOn: [publicAccess, ownership] },
  );
  new aws.s3.BucketLogging(
    `${name}-access-logging`,
    {
      bucket: args.bucketName,
      targetBucket: bucket.bucket,
      targetPrefix: ACCESS_LOG_PREFIX,
      // access-logs/<account>/<region>/<bucket>/<yyyy>/<mm>/<dd>/…: one day of one bucket per prefix, for queries.
      targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: 'EventTime' } },
    },
    // Delivery needs the policy granting S3's logging principal.
    { ...child, dependsOn: [policy] },
  );
  return { bucket, policy };
}

/** The trail of the backup bucket's deletes, its KMS-encrypted log group, and the role it writes that group with. */
function createTrail(name: string, args: BackupAuditArgs, parent: pulumi.Resource, base: AuditBase, logs: { bucket: aws.s3.Bucket; policy: aws.s3.BucketPolicy }) {
  const child = { parent, provider: args.provider };
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-trail-logs`,
    { name: `/aws/cloudtrail/${base.trailName}`, retentionInDays: base.retentionDays, kmsKeyId: args.kmsKeyArn, tags: base.tags },
    child,
  );
  const role = new aws.iam.Role(
    `${name}-trail-role`,
    {
      description: 'CloudTrail: deliver the backup bucket audit trail to its CloudWatch Logs group',
      assumeRolePolicy: pulumi.all([base.trailArn, base.account]).apply(([trailArn, account]) => JSON.stringify(cloudTrailLogsTrustPolicy({ trailArn, account }))),
      tags: base.tags,
    },
    child,
  );
  const rolePolicy = new aws.iam.RolePolicy(
    `${name}-trail-role-policy`,
    { role: role.id, policy: logGroup.arn.apply((logGroupArn) => JSON.stringify(cloudTrailLogsRolePolicy({ logGroupArn }))) },
    child,
  );
  const trail = new aws.cloudtrail.Trail(
    `${name}-trail`,
    {
      name: base.trailName,
      s3BucketName: logs.bucket.bucket,
      s3KeyPrefix: TRAIL_LOG_PREFIX,
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      enableLogging: true,
      enableLogFileValidation: true,
      cloudWatchLogsGroupArn: pulumi.interpolate`${logGroup.arn}:*`,
      cloudWatchLogsRoleArn: role.arn,
      advancedEventSelectors: pulumi.output(args.bucketArn).apply((bucketArn) => backupAuditEventSelectors(bucketArn, AUDITED_PREFIXES)),
      tags: base.tags,
    },
    // CloudTrail checks both at creation: it can write the bucket, and the role can write the log group.
    { ...child, dependsOn: [logs.policy, rolePolicy] },
  );
  return { trail, logGroup };
}

/** The metric filter counting the deletes by others, and the `backup-deletes` alarm on it. Returns the alarm's name. */
function createDeletesAlarm(name: string, args: BackupAuditArgs, parent: pulumi.Resource, base: AuditBase, logGroup: aws.cloudwatch.LogGroup): pulumi.Output<string> {
  const child = { parent, provider: args.provider };
  new aws.cloudwatch.LogMetricFilter(
    `${name}-deletes-filter`,
    {
      name: `${base.stem}-backup-deletes-by-others`,
      logGroupName: logGroup.name,
      pattern: pulumi
        .all([args.bucketName, base.account, base.partition, args.jobRoleName])
        .apply(([bucketName, account, partition, jobRoleName]) => backupDeletesFilterPattern({ bucketName, account, partition, jobRoleName })),
      metricTransformation: { name: BACKUP_DELETES_METRIC.name, namespace: BACKUP_DELETES_METRIC.namespace, value: '1', unit: 'Count' },
    },
    child,
  );
  const alarm = new aws.cloudwatch.MetricAlarm(
    `${name}-${BACKUP_DELETES_ALARM_ID}`,
    {
      name: `${args.namePrefix}-${args.region}-${BACKUP_DELETES_ALARM_ID}`,
      alarmDescription: pulumi.interpolate`A backup under ${AUDITED_PREFIXES.join(' or ')} was deleted, or a batch delete ran, in ${args.bucketName} by someone other than the backup job (role ${args.jobRoleName}): who and what is in the log group ${logGroup.name} and the access logs${alarmRunbookSuffix(BACKUP_DELETES_ALARM_ID)}`,
      namespace: BACKUP_DELETES_METRIC.namespace,
      metricName: BACKUP_DELETES_METRIC.name,
      statistic: 'Sum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      // No delete, no event, no datapoint: that is the normal state.
      treatMissingData: 'notBreaching',
      alarmActions: [args.alertsTopicArn],
      okActions: [args.alertsTopicArn],
      tags: { ...base.tags, [ALARM_ID_TAG]: BACKUP_DELETES_ALARM_ID },
    },
    child,
  );
  return alarm.name;
}
