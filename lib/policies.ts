/**
 * IAM, bucket, topic, key and repository policy documents — plain JSON-building functions, no Pulumi.
 *
 * Components resolve their ARNs (pulumi.all(...).apply) and call these, so every document can be
 * asserted statement by statement without an engine. Least privilege throughout: resources are named,
 * not "*", except where the API has no resource-level permissions (documented per statement).
 */

export interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | { AWS?: string | string[]; Service?: string | string[] };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

function doc(...statements: Statement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/** Parts of an ARN: arn:partition:service:region:account:resource. Throws on anything else. */
export function parseArn(arn: string): { partition: string; service: string; region: string; account: string; resource: string } {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') throw new Error(`not an ARN: ${JSON.stringify(arn)}`);
  const [, partition, service, region, account, ...rest] = parts;
  return { partition: partition!, service: service!, region: region!, account: account!, resource: rest.join(':') };
}

/** The account id of a regional ARN (e.g. a KMS key ARN) — avoids a getCallerIdentity call. */
export function arnAccount(arn: string): string {
  const { account } = parseArn(arn);
  if (!/^\d{12}$/.test(account)) throw new Error(`ARN has no account id: ${JSON.stringify(arn)}`);
  return account;
}

/** The partition of an ARN (aws, aws-us-gov, aws-cn). */
export function arnPartition(arn: string): string {
  return parseArn(arn).partition;
}

// ---------------------------------------------------------------------------------------------
// Backup bucket
// ---------------------------------------------------------------------------------------------

export interface BucketPolicyInput {
  bucketArn: string;
  /** The region's KMS key; PutObject naming any other key is denied. */
  kmsKeyArn: string;
  /**
   * Let ElastiCache export snapshots (CopySnapshot with TargetBucket) into `prefix` of this bucket, through the
   * bucket's region's ElastiCache snapshot service principal. See {@link elastiCacheExportStatements}.
   */
  elastiCacheExport?: { region: string; prefix: string };
}

/** The regional service principal ElastiCache writes exported snapshots with. */
export function elastiCacheSnapshotPrincipal(region: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`region: not an AWS region name: ${JSON.stringify(region)}`);
  return `${region}.elasticache-snapshot.amazonaws.com`;
}

/** An S3 key prefix: non-empty, no leading slash, ends with `/`. */
function assertPrefix(key: string, prefix: string): void {
  if (!/^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*\/$/.test(prefix)) throw new Error(`${key}: must be a plain S3 key prefix ending in '/', got ${JSON.stringify(prefix)}`);
}

/**
 * Bucket-policy statements that let ElastiCache export a snapshot into `prefix` (docs/infra-notes.md, "ElastiCache
 * export"). The bucket-policy route is chosen over the ACL grant to ElastiCache's canonical user because it keeps
 * ACLs disabled (Object Ownership BucketOwnerEnforced: every object, the exports included, is owned by this
 * account) and can be scoped to the export prefix — an ACL WRITE grant covers the whole bucket. The actions are the
 * documented set for the service principal: object read/write and multipart parts on the prefix only; listing,
 * multipart-upload listing and the bucket-ACL read on the bucket (ElastiCache validates its access with them).
 */
export function elastiCacheExportStatements({ bucketArn, region, prefix }: { bucketArn: string; region: string; prefix: string }): Statement[] {
  assertPrefix('elastiCacheExport.prefix', prefix);
  const Principal = { Service: elastiCacheSnapshotPrincipal(region) };
  return [
    {
      Sid: 'ElastiCacheExportObjects',
      Effect: 'Allow',
      Principal,
      Action: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts'],
      Resource: `${bucketArn}/${prefix}*`,
    },
    {
      Sid: 'ElastiCacheExportBucket',
      Effect: 'Allow',
      Principal,
      Action: ['s3:ListBucket', 's3:GetBucketAcl', 's3:ListBucketMultipartUploads'],
      Resource: bucketArn,
    },
  ];
}

/**
 * Backup bucket policy:
 *  - DenyInsecureTransport: every s3 action without TLS (`aws:SecureTransport = false`) is denied.
 *  - DenyWrongEncryptionHeader: a PutObject (incl. CreateMultipartUpload) that *asks* for an
 *    encryption other than aws:kms is denied. `Null = false` makes the deny apply only when the header is
 *    present, so uploads with no header — the backup job's multipart stream — get the bucket's default
 *    SSE-KMS encryption and are not refused (UploadPart carries no header either).
 *  - DenyWrongKmsKey: a PutObject naming a KMS key other than the region's key (by ARN) is denied.
 */
export function backupBucketPolicy({ bucketArn, kmsKeyArn, elastiCacheExport }: BucketPolicyInput): PolicyDocument {
  const exportStatements = elastiCacheExport ? elastiCacheExportStatements({ bucketArn, ...elastiCacheExport }) : [];
  return doc(
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
    {
      Sid: 'DenyWrongEncryptionHeader',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: `${bucketArn}/*`,
      Condition: {
        StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
        Null: { 's3:x-amz-server-side-encryption': 'false' },
      },
    },
    {
      Sid: 'DenyWrongKmsKey',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: `${bucketArn}/*`,
      Condition: {
        StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': kmsKeyArn },
        Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
      },
    },
    ...exportStatements,
  );
}

/** Trust policy for S3's replication role: only S3, only on behalf of the source bucket in this account. */
export function s3ReplicationTrustPolicy({ sourceBucketArn, account }: { sourceBucketArn: string; account: string }): PolicyDocument {
  return doc({
    Sid: 'S3AssumeForReplication',
    Effect: 'Allow',
    Principal: { Service: 's3.amazonaws.com' },
    Action: 'sts:AssumeRole',
    Condition: {
      StringEquals: { 'aws:SourceAccount': account },
      ArnLike: { 'aws:SourceArn': sourceBucketArn },
    },
  });
}

export interface ReplicationPolicyInput {
  sourceBucketArn: string;
  destinationBucketArn: string;
  sourceKmsKeyArn: string;
  destinationKmsKeyArn: string;
  sourceRegion: string;
  destinationRegion: string;
  /** Source bucket has Object Lock: replication must also read each version's retention and legal hold. */
  objectLock?: boolean;
}

/**
 * Least-privilege replication role for SSE-KMS → SSE-KMS cross-region replication.
 * KMS use is bound to S3 in the right region (`kms:ViaService`) and to the right bucket
 * (`kms:EncryptionContext:aws:s3:arn`). With an S3 Bucket Key the encryption context is the *bucket*
 * ARN rather than the object ARN, so both are allowed. kms:GenerateDataKey on the destination key is
 * needed when the destination bucket uses a Bucket Key (it does — it is the peer's BackupBucket).
 */
export function replicationRolePolicy(p: ReplicationPolicyInput): PolicyDocument {
  return doc(
    {
      Sid: 'SourceBucketConfig',
      Effect: 'Allow',
      Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
      Resource: p.sourceBucketArn,
    },
    {
      Sid: 'SourceObjectVersions',
      Effect: 'Allow',
      Action: [
        's3:GetObjectVersionForReplication',
        's3:GetObjectVersionAcl',
        's3:GetObjectVersionTagging',
        ...(p.objectLock ? ['s3:GetObjectRetention', 's3:GetObjectLegalHold'] : []),
      ],
      Resource: `${p.sourceBucketArn}/*`,
    },
    {
      Sid: 'DestinationReplicate',
      Effect: 'Allow',
      Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
      Resource: `${p.destinationBucketArn}/*`,
    },
    {
      Sid: 'DecryptSource',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: p.sourceKmsKeyArn,
      Condition: {
        StringEquals: { 'kms:ViaService': `s3.${p.sourceRegion}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': [p.sourceBucketArn, `${p.sourceBucketArn}/*`] },
      },
    },
    {
      Sid: 'EncryptDestination',
      Effect: 'Allow',
      Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: p.destinationKmsKeyArn,
      Condition: {
        StringEquals: { 'kms:ViaService': `s3.${p.destinationRegion}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': [p.destinationBucketArn, `${p.destinationBucketArn}/*`] },
      },
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Backup job (Lambda) and its schedules
// ---------------------------------------------------------------------------------------------

/** Trust policy for a service role, limited to this account (confused-deputy protection). */
export function serviceTrustPolicy(service: 'lambda.amazonaws.com' | 'scheduler.amazonaws.com' | 'ecs-tasks.amazonaws.com', account: string): PolicyDocument {
  return doc({
    Sid: 'ServiceAssume',
    Effect: 'Allow',
    Principal: { Service: service },
    Action: 'sts:AssumeRole',
    Condition: { StringEquals: { 'aws:SourceAccount': account } },
  });
}

export interface BackupJobPolicyInput {
  region: string;
  account: string;
  partition?: string;
  bucketArn: string;
  /** Key prefixes the job may write/read/delete, e.g. ['postgresql/', 'redis/']. */
  prefixes: string[];
  kmsKeyArn: string;
  /** Secrets the job may read: the DB master secret and, if any, the cache auth-token secret. */
  secretArns: string[];
  metricsNamespace: string;
  topicArn: string;
  logGroupArn: string;
  dlqArn: string;
  /** The database the job snapshots (RDS instance ARN), if any. */
  dbInstanceArn?: string;
  /** Prefix of the manual snapshots the job creates/copies/deletes (RDS and ElastiCache). */
  snapshotPrefix: string;
  /** The ElastiCache replication group the job snapshots, if any. */
  cacheReplicationGroupId?: string;
  /** Cross-region snapshot copy target: the peer region and the key the copy is encrypted with there. */
  peer?: { region: string; kmsKeyArn: string };
  /**
   * Key prefix ElastiCache exports land under (CACHE_EXPORT_PREFIX); with `cacheReplicationGroupId`, grants the
   * export (elasticache:CopySnapshot with TargetBucket). Must lie inside one of `prefixes` (the job reads and
   * deletes the exported object there).
   */
  cacheExportPrefix?: string;
}

/**
 * Every AWS SDK command the backup job sends (automation/lambda/handler.ts and the adapters it imports), with the
 * IAM actions it needs. test/lib/job-iam.test.ts greps the sources for `new XxxCommand(` so this list cannot
 * drift from the code, and checks that {@link backupJobPolicy} allows exactly these plus
 * {@link BACKUP_JOB_PLATFORM_ACTIONS} — nothing more.
 */
export const BACKUP_JOB_SDK_COMMANDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  // Secrets Manager (handler.ts)
  GetSecretValueCommand: ['secretsmanager:GetSecretValue'],
  // CloudWatch (adapters/aws/metrics.ts)
  PutMetricDataCommand: ['cloudwatch:PutMetricData'],
  // SNS (adapters/aws/notifier.ts)
  PublishCommand: ['sns:Publish'],
  // S3 (adapters/aws/s3-store.ts)
  PutObjectCommand: ['s3:PutObject'],
  GetObjectCommand: ['s3:GetObject'],
  HeadObjectCommand: ['s3:GetObject'],
  ListObjectsV2Command: ['s3:ListBucket'],
  DeleteObjectsCommand: ['s3:DeleteObject'],
  // @aws-sdk/lib-storage `new Upload(`: CreateMultipartUpload/UploadPart/CompleteMultipartUpload (s3:PutObject),
  // AbortMultipartUpload on failure.
  Upload: ['s3:PutObject', 's3:AbortMultipartUpload'],
  // RDS (adapters/aws/snapshots.ts); Tags on create/copy need AddTagsToResource; an encrypted cross-region copy
  // creates grants on both keys.
  CreateDBSnapshotCommand: ['rds:CreateDBSnapshot', 'rds:AddTagsToResource'],
  DescribeDBSnapshotsCommand: ['rds:DescribeDBSnapshots'],
  CopyDBSnapshotCommand: ['rds:CopyDBSnapshot', 'rds:AddTagsToResource', 'kms:CreateGrant', 'kms:DescribeKey'],
  DeleteDBSnapshotCommand: ['rds:DeleteDBSnapshot'],
  // ElastiCache (adapters/aws/snapshots.ts)
  CreateSnapshotCommand: ['elasticache:CreateSnapshot', 'elasticache:AddTagsToResource'],
  DescribeSnapshotsCommand: ['elasticache:DescribeSnapshots'],
  DeleteSnapshotCommand: ['elasticache:DeleteSnapshot'],
  // The export: ElastiCache authorises CopySnapshot with TargetBucket against the caller's s3:ListAllMyBuckets
  // (IAM reference: no resource-level permission, "*") and s3:GetBucketLocation on the target bucket.
  CopySnapshotCommand: ['elasticache:CopySnapshot', 's3:ListAllMyBuckets', 's3:GetBucketLocation'],
});

/** Actions the job's role needs for the Lambda platform itself and for encryption, not for an SDK command it sends. */
export const BACKUP_JOB_PLATFORM_ACTIONS: Readonly<Record<string, string>> = Object.freeze({
  'logs:CreateLogStream': 'the Lambda runtime writes the function log group',
  'logs:PutLogEvents': 'the Lambda runtime writes the function log group',
  'sqs:SendMessage': 'Lambda delivers failed async events to the on-failure destination with the function role',
  'ec2:CreateNetworkInterface': 'VPC Lambda ENIs',
  'ec2:DescribeNetworkInterfaces': 'VPC Lambda ENIs',
  'ec2:DescribeSubnets': 'VPC Lambda ENIs',
  'ec2:DeleteNetworkInterface': 'VPC Lambda ENIs',
  'ec2:AssignPrivateIpAddresses': 'VPC Lambda ENIs',
  'ec2:UnassignPrivateIpAddresses': 'VPC Lambda ENIs',
  'kms:GenerateDataKey': 'SSE-KMS uploads, the encrypted topic and DLQ (via those services only)',
  'kms:Decrypt': 'SSE-KMS downloads and multipart uploads, the secrets, the Lambda environment (via those services only)',
});

/**
 * The backup job's permissions. Notes on the few statements that cannot name a resource:
 *  - cloudwatch:PutMetricData has no resource-level permission; it is bound to the metrics namespace.
 *  - EC2 ENI actions for a VPC Lambda (the content of AWSLambdaVPCAccessExecutionRole minus its
 *    logs:CreateLogGroup on "*", which this job does not need: its log group is declared).
 */
export function backupJobPolicy(p: BackupJobPolicyInput): PolicyDocument {
  return doc(...backupJobCoreStatements(p), ...backupJobRdsStatements(p), ...backupJobCacheStatements(p));
}

/** The job's own data and plumbing: backup objects, the region key, the secrets, metrics, alerts, logs, DLQ, ENIs. */
function backupJobCoreStatements(p: BackupJobPolicyInput): Statement[] {
  const objectArns = p.prefixes.map((prefix) => `${p.bucketArn}/${prefix}*`);
  const listPrefixes = p.prefixes.flatMap((prefix) => [prefix, `${prefix}*`]);
  return [
    {
      Sid: 'BackupObjects',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      Resource: objectArns,
    },
    {
      Sid: 'ListBackupPrefixes',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: p.bucketArn,
      Condition: { StringLike: { 's3:prefix': listPrefixes } },
    },
    {
      Sid: 'UseRegionKey',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: p.kmsKeyArn,
      Condition: {
        StringEquals: {
          'kms:ViaService': ['s3', 'sqs', 'secretsmanager', 'sns', 'lambda'].map((s) => `${s}.${p.region}.amazonaws.com`),
        },
      },
    },
    {
      Sid: 'ReadDatabaseSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: p.secretArns,
    },
    {
      Sid: 'PublishBackupMetrics',
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': p.metricsNamespace } },
    },
    { Sid: 'NotifyAlerts', Effect: 'Allow', Action: 'sns:Publish', Resource: p.topicArn },
    {
      Sid: 'WriteOwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `${p.logGroupArn}:*`,
    },
    { Sid: 'OnFailureDestination', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: p.dlqArn },
    {
      Sid: 'VpcNetworkInterfaces',
      Effect: 'Allow',
      Action: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Resource: '*',
    },
  ];
}

/** The job's manual RDS snapshots (`dbInstanceArn`): create, copy (cross-region under the peer key), delete. */
function backupJobRdsStatements(p: BackupJobPolicyInput): Statement[] {
  if (!p.dbInstanceArn) return [];
  const partition = p.partition ?? 'aws';
  const rdsSnapshots = `arn:${partition}:rds:*:${p.account}:snapshot:${p.snapshotPrefix}*`;
  const statements: Statement[] = [
    {
      Sid: 'RdsSnapshotCreate',
      Effect: 'Allow',
      Action: ['rds:CreateDBSnapshot', 'rds:DescribeDBSnapshots'],
      Resource: [p.dbInstanceArn, rdsSnapshots],
    },
    {
      Sid: 'RdsSnapshotManage',
      Effect: 'Allow',
      Action: ['rds:CopyDBSnapshot', 'rds:DeleteDBSnapshot', 'rds:AddTagsToResource'],
      Resource: rdsSnapshots,
    },
  ];
  if (p.peer) {
    // An encrypted cross-region CopyDBSnapshot needs grants on the source key and on the destination key;
    // only through RDS in those two regions.
    statements.push({
      Sid: 'RdsSnapshotCopyKeys',
      Effect: 'Allow',
      Action: ['kms:CreateGrant', 'kms:DescribeKey'],
      Resource: [p.kmsKeyArn, p.peer.kmsKeyArn],
      Condition: { StringEquals: { 'kms:ViaService': [`rds.${p.region}.amazonaws.com`, `rds.${p.peer.region}.amazonaws.com`] } },
    });
  }
  return statements;
}

/** The job's ElastiCache snapshots (`cacheReplicationGroupId`), and their export into the bucket (`cacheExportPrefix`). */
function backupJobCacheStatements(p: BackupJobPolicyInput): Statement[] {
  if (!p.cacheReplicationGroupId) return [];
  const partition = p.partition ?? 'aws';
  const cacheSnapshots = `arn:${partition}:elasticache:${p.region}:${p.account}:snapshot:${p.snapshotPrefix}*`;
  const statements: Statement[] = [];
  if (p.cacheExportPrefix !== undefined) {
    assertPrefix('cacheExportPrefix', p.cacheExportPrefix);
    if (!p.prefixes.some((x) => p.cacheExportPrefix!.startsWith(x))) {
      throw new Error(`cacheExportPrefix: ${JSON.stringify(p.cacheExportPrefix)} must lie inside the job's prefixes (${p.prefixes.join(', ')}): the job reads and deletes the export there`);
    }
    statements.push(
      // Source: this job's snapshots only. The target is the bucket (TargetBucket), not an ElastiCache snapshot.
      { Sid: 'CacheSnapshotExport', Effect: 'Allow', Action: 'elasticache:CopySnapshot', Resource: cacheSnapshots },
      // CopySnapshot with TargetBucket checks these on the caller; ListAllMyBuckets has no resource-level permission.
      { Sid: 'CacheExportListBuckets', Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' },
      { Sid: 'CacheExportBucketLocation', Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: p.bucketArn },
    );
  }
  statements.push({
    Sid: 'CacheSnapshots',
    Effect: 'Allow',
    Action: ['elasticache:CreateSnapshot', 'elasticache:DeleteSnapshot', 'elasticache:DescribeSnapshots', 'elasticache:AddTagsToResource'],
    Resource: [
      `arn:${partition}:elasticache:${p.region}:${p.account}:replicationgroup:${p.cacheReplicationGroupId}`,
      `arn:${partition}:elasticache:${p.region}:${p.account}:cluster:${p.cacheReplicationGroupId}-*`,
      cacheSnapshots,
    ],
  });
  return statements;
}

/** What EventBridge Scheduler may do with its role: invoke the job, and dead-letter undeliverable events. */
export function schedulerPolicy(p: { functionArn: string; dlqArn: string; kmsKeyArn: string; region: string }): PolicyDocument {
  return doc({ Sid: 'InvokeBackupJob', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [p.functionArn, `${p.functionArn}:*`] }, ...schedulerDeadLetterStatements(p));
}

/** The scheduler's dead letters: send to the KMS-encrypted DLQ (the key only through SQS in this region). */
function schedulerDeadLetterStatements(p: { dlqArn: string; kmsKeyArn: string; region: string }): Statement[] {
  return [
    { Sid: 'DeadLetter', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: p.dlqArn },
    {
      Sid: 'DeadLetterEncryption',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: p.kmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': `sqs.${p.region}.amazonaws.com` } },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Backup job as an ECS Fargate task (backup.runner fargate)
// ---------------------------------------------------------------------------------------------

/** Statements of {@link backupJobPolicy} that only the Lambda platform needs (its log stream, on-failure destination, VPC ENIs). */
const LAMBDA_PLATFORM_SIDS = ['WriteOwnLogs', 'OnFailureDestination', 'VpcNetworkInterfaces'];

/**
 * The Fargate task role: the same data scope as the Lambda job ({@link backupJobPolicy}: the backup prefixes, the
 * region key, the secrets, the metrics namespace, the topic, the job's snapshots) minus what only the Lambda
 * platform needs — on ECS the execution role writes the logs ({@link backupTaskExecutionPolicy}), Fargate creates
 * the task's ENI, and there is no on-failure destination — and with no `lambda` among the key's kms:ViaService.
 */
export function backupTaskPolicy(p: BackupJobPolicyInput): PolicyDocument {
  const statements = backupJobPolicy(p).Statement.filter((s) => !LAMBDA_PLATFORM_SIDS.includes(s.Sid ?? ''));
  return doc(
    ...statements.map((s) => {
      if (s.Sid !== 'UseRegionKey') return s;
      const via = (s.Condition as { StringEquals: { 'kms:ViaService': string[] } }).StringEquals['kms:ViaService'];
      return { ...s, Condition: { StringEquals: { 'kms:ViaService': via.filter((v) => !v.startsWith('lambda.')) } } };
    }),
  );
}

/** The task execution role: pull the job's image from its repository, write the task's log group. */
export function backupTaskExecutionPolicy(p: { repositoryArn: string; logGroupArn: string }): PolicyDocument {
  return doc(
    // GetAuthorizationToken has no resource-level permission.
    { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    { Sid: 'PullJobImage', Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], Resource: p.repositoryArn },
    { Sid: 'WriteTaskLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${p.logGroupArn}:*` },
  );
}

/**
 * What EventBridge Scheduler may do to start the task: RunTask of this task definition family on this cluster only,
 * pass exactly the task's two roles to ECS, tag the task it starts (managed tags), and dead-letter like the Lambda
 * schedules ({@link schedulerPolicy}).
 */
export function schedulerEcsPolicy(p: { taskDefinitionArn: string; clusterArn: string; roleArns: string[]; dlqArn: string; kmsKeyArn: string; region: string }): PolicyDocument {
  const family = p.taskDefinitionArn.replace(/:\d+$/, '');
  const tasks = p.clusterArn.replace(':cluster/', ':task/') + '/*';
  return doc(
    { Sid: 'RunBackupTask', Effect: 'Allow', Action: 'ecs:RunTask', Resource: [family, `${family}:*`], Condition: { ArnEquals: { 'ecs:cluster': p.clusterArn } } },
    { Sid: 'PassTaskRoles', Effect: 'Allow', Action: 'iam:PassRole', Resource: p.roleArns, Condition: { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } },
    { Sid: 'TagStartedTask', Effect: 'Allow', Action: 'ecs:TagResource', Resource: tasks, Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } } },
    ...schedulerDeadLetterStatements(p),
  );
}

/**
 * The dead-letter queue's resource policy for the task-failure rule: EventBridge may deliver the ECS "task stopped
 * with a failure" events of that rule only.
 */
export function taskFailureQueuePolicy(p: { queueArn: string; ruleArn: string }): PolicyDocument {
  return doc({
    Sid: 'TaskFailureEvents',
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: p.queueArn,
    Condition: { ArnEquals: { 'aws:SourceArn': p.ruleArn } },
  });
}

/** ECR repository policy: Lambda (in this account and region only) may pull the backup-job image. */
export function ecrLambdaPullPolicy({ account, region, partition = 'aws' }: { account: string; region: string; partition?: string }): PolicyDocument {
  return doc({
    Sid: 'LambdaPull',
    Effect: 'Allow',
    Principal: { Service: 'lambda.amazonaws.com' },
    Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
    Condition: { StringLike: { 'aws:sourceArn': `arn:${partition}:lambda:${region}:${account}:function:*` } },
  });
}

/** ECR lifecycle policy: keep the newest `keep` images (older digests are never referenced by the function). */
export function ecrLifecyclePolicy(keep: number): { rules: unknown[] } {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`backupJob.keepImages: must be a whole number ≥ 1, got ${JSON.stringify(keep)}`);
  return {
    rules: [
      {
        rulePriority: 1,
        description: `keep the newest ${keep} images`,
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: keep },
        action: { type: 'expire' },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Token monitor
// ---------------------------------------------------------------------------------------------

export interface TokenMonitorPolicyInput {
  region: string;
  account: string;
  partition?: string;
  /** The bot-token secrets' NAMES (`<prefix>/bot-tokens/<bot>`): the same in both regions, replica or not. */
  secretNames: string[];
  metricsNamespace: string;
  topicArn: string;
  logGroupArn: string;
}

/**
 * The ARN pattern of a secret NAMED `name` in `region`: Secrets Manager appends `-` and six random characters, so
 * `-??????` matches exactly that secret (not `name-other`, which has more characters) — the same pattern for the
 * primary's secret, its replica and a promoted replica, so one policy fits every role of the stack.
 */
export function secretNameArnPattern(p: { region: string; account: string; partition?: string }, name: string): string {
  return `arn:${p.partition ?? 'aws'}:secretsmanager:${p.region}:${p.account}:secret:${name}-??????`;
}

/**
 * The token monitor's least-privilege role:
 *  - BotTokenSecrets: GetSecretValue (read a record), PutSecretValue (compare-and-set write), DescribeSecret (the
 *    version check and the replica check) on the bot-token secrets of its region only — and UpdateSecretVersionStage,
 *    which the store's compare-and-set needs for its one repair: moving AWSCURRENT back to a version another writer
 *    (`dr tokens use`, the other region's monitor) wrote between our check and our write (adapters/aws/token-store.ts).
 *    Without it that race would leave the other writer's decision (a pin, a switch) buried;
 *  - BotTokenSecretsKey: kms:Decrypt / kms:GenerateDataKey only through Secrets Manager in its region
 *    (`kms:ViaService`) and only for those secrets (`kms:EncryptionContext:SecretARN`: Secrets Manager puts the secret's
 *    ARN in the encryption context). The key is not named: it is the region key on the primary, the primary-owned
 *    replica key on the secondary (kept by an adopted secret), so the secret scopes it instead;
 *  - PublishTokenMetrics: PutMetricData in its namespace only; NotifyAlerts: its region's alerts topic (the topic's
 *    SSE key is used by SNS under the region key's policy, `ServicesUseViaThisAccount` via sns);
 *  - WriteOwnLogs. No VPC access: the monitor runs outside the VPC to reach the platforms' APIs.
 */
export function tokenMonitorPolicy(p: TokenMonitorPolicyInput): PolicyDocument {
  if (!p.secretNames.length) throw new Error('tokenMonitorPolicy: at least one bot-token secret');
  const arns = p.secretNames.map((n) => secretNameArnPattern(p, n));
  return doc(
    {
      Sid: 'BotTokenSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage'],
      Resource: arns,
    },
    {
      Sid: 'BotTokenSecretsKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: `arn:${p.partition ?? 'aws'}:kms:${p.region}:${p.account}:key/*`,
      Condition: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${p.region}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:SecretARN': arns },
      },
    },
    {
      Sid: 'PublishTokenMetrics',
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': p.metricsNamespace } },
    },
    { Sid: 'NotifyAlerts', Effect: 'Allow', Action: 'sns:Publish', Resource: p.topicArn },
    { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${p.logGroupArn}:*` },
  );
}

// ---------------------------------------------------------------------------------------------
// Alerts
// ---------------------------------------------------------------------------------------------

/**
 * SNS topic policy: the account administers the topic; CloudWatch alarms of this account may publish.
 * (Setting a topic policy replaces the default one, so the owner statement must be explicit.)
 */
export function alertsTopicPolicy({ topicArn, account }: { topicArn: string; account: string }): PolicyDocument {
  const partition = arnPartition(topicArn);
  return doc(
    {
      Sid: 'AccountAdministers',
      Effect: 'Allow',
      Principal: { AWS: `arn:${partition}:iam::${account}:root` },
      Action: [
        'sns:GetTopicAttributes',
        'sns:SetTopicAttributes',
        'sns:AddPermission',
        'sns:RemovePermission',
        'sns:DeleteTopic',
        'sns:Subscribe',
        'sns:ListSubscriptionsByTopic',
        'sns:Publish',
      ],
      Resource: topicArn,
    },
    {
      Sid: 'CloudWatchAlarmsPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: {
        StringEquals: { 'aws:SourceAccount': account },
        ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:*:${account}:alarm:*` },
      },
    },
  );
}

/**
 * Key-policy statements a KMS key needs so that CloudWatch alarms can publish to an SNS topic encrypted
 * with it (CloudWatch cannot use the AWS-managed alias/aws/sns key at all). The regional Keys component
 * must include these; the Alerts component's own us-east-1 key uses them too.
 */
export function cloudWatchAlarmsKeyStatements(account: string): Statement[] {
  return [
    {
      Sid: 'CloudWatchAlarmsUseKeyForSns',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': account } },
    },
  ];
}

/** Key policy of the small us-east-1 key the Alerts component creates for its health-check topic. */
export function alertsKeyPolicy({ account, partition = 'aws' }: { account: string; partition?: string }): PolicyDocument {
  return doc(
    {
      Sid: 'AccountAdministers',
      Effect: 'Allow',
      Principal: { AWS: `arn:${partition}:iam::${account}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
    ...cloudWatchAlarmsKeyStatements(account),
  );
}

// ---------------------------------------------------------------------------------------------
// Backup audit (components/backup-audit.ts, lib/audit.ts)
// ---------------------------------------------------------------------------------------------

export interface AuditLogBucketPolicyInput {
  /** The audit log bucket. */
  logBucketArn: string;
  /** The backup bucket whose server access logs are delivered here. */
  sourceBucketArn: string;
  account: string;
  /** The trail delivering its log files here (its ARN: the trail's name is fixed, so it is known before it exists). */
  trailArn: string;
  /** Key prefix of the access logs, ending in `/` (lib/audit.ts ACCESS_LOG_PREFIX). */
  accessLogPrefix: string;
  /** The trail's S3 key prefix, no trailing `/` (lib/audit.ts TRAIL_LOG_PREFIX). */
  trailPrefix: string;
}

/**
 * The audit log bucket's policy:
 *  - DenyInsecureTransport: every s3 action without TLS is denied (as on the backup bucket);
 *  - S3ServerAccessLogs: S3's logging service principal may put objects under the access-log prefix only, and only
 *    for the backup bucket of this account (`aws:SourceArn`, `aws:SourceAccount`) — the bucket-policy route the S3
 *    user guide recommends with ACLs disabled (BucketOwnerEnforced);
 *  - CloudTrailAclCheck / CloudTrailWrite: CloudTrail may read the bucket ACL and put its log files under
 *    `<trail prefix>/AWSLogs/<account>/`, only for this trail (`aws:SourceArn`), with the bucket-owner-full-control
 *    ACL it always sends.
 */
export function auditLogBucketPolicy(p: AuditLogBucketPolicyInput): PolicyDocument {
  assertPrefix('accessLogPrefix', p.accessLogPrefix);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(p.trailPrefix)) throw new Error(`trailPrefix: a plain key prefix without '/', got ${JSON.stringify(p.trailPrefix)}`);
  if (!/^\d{12}$/.test(p.account)) throw new Error(`account must be 12 digits, got ${JSON.stringify(p.account)}`);
  return doc(
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [p.logBucketArn, `${p.logBucketArn}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
    {
      Sid: 'S3ServerAccessLogs',
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: `${p.logBucketArn}/${p.accessLogPrefix}*`,
      Condition: { ArnLike: { 'aws:SourceArn': p.sourceBucketArn }, StringEquals: { 'aws:SourceAccount': p.account } },
    },
    {
      Sid: 'CloudTrailAclCheck',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:GetBucketAcl',
      Resource: p.logBucketArn,
      Condition: { StringEquals: { 'aws:SourceArn': p.trailArn } },
    },
    {
      Sid: 'CloudTrailWrite',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: `${p.logBucketArn}/${p.trailPrefix}/AWSLogs/${p.account}/*`,
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': p.trailArn } },
    },
  );
}

/** Trust policy of the role CloudTrail delivers to CloudWatch Logs with: only CloudTrail, only for this trail. */
export function cloudTrailLogsTrustPolicy({ trailArn, account }: { trailArn: string; account: string }): PolicyDocument {
  return doc({
    Sid: 'CloudTrailAssume',
    Effect: 'Allow',
    Principal: { Service: 'cloudtrail.amazonaws.com' },
    Action: 'sts:AssumeRole',
    Condition: { StringEquals: { 'aws:SourceAccount': account, 'aws:SourceArn': trailArn } },
  });
}

/** What that role may do: create streams in and write events to the trail's log group, nothing else. */
export function cloudTrailLogsRolePolicy({ logGroupArn }: { logGroupArn: string }): PolicyDocument {
  if (!/^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[^:*]+$/.test(logGroupArn)) throw new Error(`not a log group ARN (without :*): ${JSON.stringify(logGroupArn)}`);
  return doc({
    Sid: 'TrailWritesItsLogGroup',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: `${logGroupArn}:log-stream:*`,
  });
}

// ---------------------------------------------------------------------------------------------
// Readiness (issue 14)
// ---------------------------------------------------------------------------------------------

export interface ReadinessPolicyInput {
  /** The function's region (it publishes and stores here; bot tokens are read here). */
  region: string;
  /** Both regions of the pair (it reads both). */
  regions: readonly string[];
  account: string;
  partition?: string;
  /** Each region's jobs by name (lib/readiness.ts `ReadinessRegionTarget.jobs`): GetFunction, DescribeImages, GetSchedule on exactly these. */
  jobs: ReadonlyArray<{ region: string; functions: readonly string[]; repository?: string; schedules: readonly string[] }>;
  /** Both backup buckets (listed and manifests read); `ownBucket` also written under readiness/<region>/. */
  buckets: readonly string[];
  ownBucket: string;
  /** Both regions' KMS keys (DescribeKey; Decrypt via S3 of the manifests and via Secrets Manager of the bot records). */
  kmsKeyArns: readonly string[];
  /** Replicated secrets whose replication is read (DB credentials, cache auth; by ARN or `name-??????` pattern). */
  secretArns: readonly string[];
  /** Bot-token secret names (`<prefix>/bot-tokens/<bot>`): DescribeSecret in both regions, GetSecretValue here. */
  botSecretNames: readonly string[];
  /** The Route 53 zone of the failover record, when there is DNS. */
  hostedZoneId?: string;
  metricsNamespace: string;
  logGroupArn: string;
}

/**
 * The readiness function's least-privilege role. It only reads (Describe/Get/List) what it checks, in the pair's two
 * regions only, and writes exactly two things: its metrics (one namespace) and its reports (one prefix of its own
 * bucket). Statements on `*` are the APIs without resource-level permissions (RDS DescribeCertificates and the other
 * RDS/ElastiCache Describe calls here, CloudWatch GetMetricData/PutMetricData, Route 53 health-check status), each
 * limited by `aws:RequestedRegion` (or the namespace).
 */
export function readinessPolicy(p: ReadinessPolicyInput): PolicyDocument {
  const part = p.partition ?? 'aws';
  const inPair = { StringEquals: { 'aws:RequestedRegion': [...p.regions] } };
  const inBoth = (f: (region: string) => string[]) => p.regions.flatMap(f);
  const botSecrets = (region: string) => p.botSecretNames.map((n) => secretNameArnPattern({ region, account: p.account, partition: part }, n));
  const statements: Statement[] = [
    {
      Sid: 'ReadDatabaseAndCache',
      Effect: 'Allow',
      Action: ['rds:DescribeDBInstances', 'rds:DescribeDBParameterGroups', 'rds:DescribeDBParameters', 'rds:DescribeDBInstanceAutomatedBackups', 'rds:DescribeCertificates', 'elasticache:DescribeGlobalReplicationGroups'],
      Resource: '*',
      Condition: inPair,
    },
    { Sid: 'ReadMetrics', Effect: 'Allow', Action: 'cloudwatch:GetMetricData', Resource: '*', Condition: inPair },
    { Sid: 'PublishReadinessMetrics', Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': p.metricsNamespace } } },
    { Sid: 'ListBackupBuckets', Effect: 'Allow', Action: 's3:ListBucket', Resource: p.buckets.map((b) => `arn:${part}:s3:::${b}`) },
    { Sid: 'ReadBackupManifests', Effect: 'Allow', Action: 's3:GetObject', Resource: p.buckets.map((b) => `arn:${part}:s3:::${b}/*.metadata.json`) },
    { Sid: 'WriteReadinessReports', Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:${part}:s3:::${p.ownBucket}/readiness/${p.region}/*` },
    {
      Sid: 'BucketObjectsKeys',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: [...p.kmsKeyArns],
      Condition: { StringEquals: { 'kms:ViaService': inBoth((r) => [`s3.${r}.amazonaws.com`]) } },
    },
    { Sid: 'KeyStates', Effect: 'Allow', Action: 'kms:DescribeKey', Resource: [...p.kmsKeyArns] },
    { Sid: 'SecretReplication', Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: [...p.secretArns, ...inBoth(botSecrets)] },
    { Sid: 'BotRecordsHere', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: botSecrets(p.region) },
    {
      Sid: 'BotRecordsKey',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: `arn:${part}:kms:${p.region}:${p.account}:key/*`,
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${p.region}.amazonaws.com` }, StringLike: { 'kms:EncryptionContext:SecretARN': botSecrets(p.region) } },
    },
    ...(p.jobs.some((j) => j.repository) ? [{ Sid: 'JobImages', Effect: 'Allow' as const, Action: 'ecr:DescribeImages', Resource: p.jobs.flatMap((j) => (j.repository ? [`arn:${part}:ecr:${j.region}:${p.account}:repository/${j.repository}`] : [])) }] : []),
    { Sid: 'JobFunctions', Effect: 'Allow', Action: 'lambda:GetFunction', Resource: p.jobs.flatMap((j) => j.functions.map((f) => `arn:${part}:lambda:${j.region}:${p.account}:function:${f}`)) },
    { Sid: 'JobSchedules', Effect: 'Allow', Action: 'scheduler:GetSchedule', Resource: p.jobs.flatMap((j) => j.schedules.map((s) => `arn:${part}:scheduler:${j.region}:${p.account}:schedule/default/${s}`)) },
    { Sid: 'HealthChecks', Effect: 'Allow', Action: ['route53:GetHealthCheck', 'route53:GetHealthCheckStatus'], Resource: `arn:${part}:route53:::healthcheck/*` },
    { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${p.logGroupArn}:*` },
  ];
  if (p.hostedZoneId) statements.splice(statements.length - 2, 0, { Sid: 'FailoverRecords', Effect: 'Allow', Action: 'route53:ListResourceRecordSets', Resource: `arn:${part}:route53:::hostedzone/${p.hostedZoneId}` });
  if (!p.botSecretNames.length) return doc(...statements.filter((s) => s.Sid !== 'BotRecordsHere' && s.Sid !== 'BotRecordsKey'));
  return doc(...statements);
}
