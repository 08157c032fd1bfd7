import assert from 'node:assert/strict';
import {
  PolicyDocument,
  Statement,
  alertsKeyPolicy,
  alertsTopicPolicy,
  arnAccount,
  auditLogBucketPolicy,
  backupBucketPolicy,
  backupJobPolicy,
  cloudTrailLogsRolePolicy,
  cloudTrailLogsTrustPolicy,
  ecrLambdaPullPolicy,
  ecrLifecyclePolicy,
  replicationRolePolicy,
  s3ReplicationTrustPolicy,
  schedulerPolicy,
  serviceTrustPolicy,
} from '../../lib/policies';

const ACCOUNT = '123456789012';
const BUCKET = 'arn:aws:s3:::acme-backups-use1';
const PEER_BUCKET = 'arn:aws:s3:::acme-backups-usw2';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/k1`;
const PEER_KEY = `arn:aws:kms:us-west-2:${ACCOUNT}:key/k2`;

const sid = (d: PolicyDocument, s: string): Statement => {
  const st = d.Statement.find((x) => x.Sid === s);
  assert.ok(st, `statement ${s} missing in ${JSON.stringify(d)}`);
  return st;
};
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const actions = (d: PolicyDocument) => d.Statement.flatMap((s) => list(s.Action));

describe('lib/policies', () => {
  it('arnAccount reads the account out of a regional ARN', () => {
    assert.equal(arnAccount(KEY), ACCOUNT);
    assert.throws(() => arnAccount(BUCKET), /no account id/);
    assert.throws(() => arnAccount('nope'), /not an ARN/);
  });

  describe('backupBucketPolicy', () => {
    const d = backupBucketPolicy({ bucketArn: BUCKET, kmsKeyArn: KEY });
    it('denies every non-TLS request to the bucket and its objects', () => {
      const s = sid(d, 'DenyInsecureTransport');
      assert.equal(s.Effect, 'Deny');
      assert.equal(s.Principal, '*');
      assert.equal(s.Action, 's3:*');
      assert.deepEqual(s.Resource, [BUCKET, `${BUCKET}/*`]);
      assert.deepEqual(s.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
    });
    it('denies a PutObject asking for another encryption, but only when the header is present', () => {
      const s = sid(d, 'DenyWrongEncryptionHeader');
      assert.equal(s.Effect, 'Deny');
      assert.equal(s.Action, 's3:PutObject');
      assert.deepEqual(s.Condition?.StringNotEquals, { 's3:x-amz-server-side-encryption': 'aws:kms' });
      // Without Null=false a header-less multipart upload (default encryption) would be denied.
      assert.deepEqual(s.Condition?.Null, { 's3:x-amz-server-side-encryption': 'false' });
    });
    it('denies a PutObject naming another KMS key, only when named', () => {
      const s = sid(d, 'DenyWrongKmsKey');
      assert.deepEqual(s.Condition?.StringNotEquals, { 's3:x-amz-server-side-encryption-aws-kms-key-id': KEY });
      assert.deepEqual(s.Condition?.Null, { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' });
    });
    it('has no Allow statements (access comes from IAM roles only)', () => assert.ok(d.Statement.every((s) => s.Effect === 'Deny')));
  });

  describe('replication', () => {
    const p = replicationRolePolicy({
      sourceBucketArn: BUCKET,
      destinationBucketArn: PEER_BUCKET,
      sourceKmsKeyArn: KEY,
      destinationKmsKeyArn: PEER_KEY,
      sourceRegion: 'us-east-1',
      destinationRegion: 'us-west-2',
    });
    it('trust: only S3, for this bucket and account', () => {
      const t = s3ReplicationTrustPolicy({ sourceBucketArn: BUCKET, account: ACCOUNT });
      const s = sid(t, 'S3AssumeForReplication');
      assert.deepEqual(s.Principal, { Service: 's3.amazonaws.com' });
      assert.deepEqual(s.Condition, { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': BUCKET } });
    });
    it('reads config and versions from the source only', () => {
      assert.deepEqual(sid(p, 'SourceBucketConfig'), {
        Sid: 'SourceBucketConfig',
        Effect: 'Allow',
        Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        Resource: BUCKET,
      });
      const v = sid(p, 'SourceObjectVersions');
      assert.equal(v.Resource, `${BUCKET}/*`);
      assert.ok(list(v.Action).every((a) => /^s3:GetObjectVersion/.test(a)));
    });
    it('replicates objects, deletes and tags to the destination only', () => {
      const s = sid(p, 'DestinationReplicate');
      assert.deepEqual(s.Action, ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags']);
      assert.equal(s.Resource, `${PEER_BUCKET}/*`);
    });
    it('decrypts with the source key only via S3 in the source region for the source bucket', () => {
      const s = sid(p, 'DecryptSource');
      assert.equal(s.Action, 'kms:Decrypt');
      assert.equal(s.Resource, KEY);
      assert.deepEqual(s.Condition?.StringEquals, { 'kms:ViaService': 's3.us-east-1.amazonaws.com' });
      assert.deepEqual(s.Condition?.StringLike, { 'kms:EncryptionContext:aws:s3:arn': [BUCKET, `${BUCKET}/*`] });
    });
    it('encrypts with the destination key only via S3 in the destination region', () => {
      const s = sid(p, 'EncryptDestination');
      assert.ok(list(s.Action).includes('kms:Encrypt'));
      assert.equal(s.Resource, PEER_KEY);
      assert.deepEqual(s.Condition?.StringEquals, { 'kms:ViaService': 's3.us-west-2.amazonaws.com' });
    });
    it('grants nothing on "*" and no wildcard actions', () => {
      for (const s of p.Statement) assert.ok(!list(s.Resource).includes('*'), s.Sid);
      assert.ok(actions(p).every((a) => !a.endsWith('*')));
    });
  });

  describe('backupJobPolicy', () => {
    const input = {
      region: 'us-east-1',
      account: ACCOUNT,
      bucketArn: BUCKET,
      prefixes: ['postgresql/', 'redis/'],
      kmsKeyArn: KEY,
      secretArns: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:db', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cache'],
      metricsNamespace: 'BotDR/Backups',
      topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
      logGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/job',
      dlqArn: 'arn:aws:sqs:us-east-1:123456789012:dlq',
      dbInstanceArn: 'arn:aws:rds:us-east-1:123456789012:db:acme',
      snapshotPrefix: 'bot-dr-',
      cacheReplicationGroupId: 'acme-cache',
    };
    const d = backupJobPolicy(input);
    it('scopes object access to the backup prefixes', () => {
      const s = sid(d, 'BackupObjects');
      assert.deepEqual(s.Resource, [`${BUCKET}/postgresql/*`, `${BUCKET}/redis/*`]);
      assert.ok(list(s.Action).includes('s3:PutObject') && list(s.Action).includes('s3:DeleteObject') && list(s.Action).includes('s3:GetObject'));
    });
    it('lists only under the prefixes', () => {
      const s = sid(d, 'ListBackupPrefixes');
      assert.equal(s.Resource, BUCKET);
      assert.deepEqual(s.Condition, { StringLike: { 's3:prefix': ['postgresql/', 'postgresql/*', 'redis/', 'redis/*'] } });
    });
    it('uses only the region key, only through the services it needs', () => {
      const s = sid(d, 'UseRegionKey');
      assert.equal(s.Resource, KEY);
      assert.deepEqual(s.Action, ['kms:GenerateDataKey', 'kms:Decrypt']);
      assert.ok(list(s.Condition?.StringEquals?.['kms:ViaService'] as string[]).includes('s3.us-east-1.amazonaws.com'));
    });
    it('reads only the given secrets', () => assert.deepEqual(sid(d, 'ReadDatabaseSecrets').Resource, input.secretArns));
    it('publishes metrics only in the shared namespace', () => {
      assert.deepEqual(sid(d, 'PublishBackupMetrics').Condition, { StringEquals: { 'cloudwatch:namespace': 'BotDR/Backups' } });
    });
    it('publishes to its topic, logs to its group, dead-letters to its queue', () => {
      assert.equal(sid(d, 'NotifyAlerts').Resource, input.topicArn);
      assert.equal(sid(d, 'WriteOwnLogs').Resource, `${input.logGroupArn}:*`);
      assert.equal(sid(d, 'OnFailureDestination').Resource, input.dlqArn);
    });
    it('can create ENIs for the VPC', () => assert.ok(list(sid(d, 'VpcNetworkInterfaces').Action).includes('ec2:CreateNetworkInterface')));
    it('manages only its own RDS snapshots of its own DB', () => {
      const c = sid(d, 'RdsSnapshotCreate');
      assert.deepEqual(c.Resource, [input.dbInstanceArn, `arn:aws:rds:*:${ACCOUNT}:snapshot:bot-dr-*`]);
      const m = sid(d, 'RdsSnapshotManage');
      assert.ok(list(m.Action).includes('rds:DeleteDBSnapshot') && list(m.Action).includes('rds:CopyDBSnapshot'));
      assert.deepEqual(m.Resource, `arn:aws:rds:*:${ACCOUNT}:snapshot:bot-dr-*`);
    });
    it('manages ElastiCache snapshots of its replication group', () => {
      const s = sid(d, 'CacheSnapshots');
      assert.ok(list(s.Resource).includes(`arn:aws:elasticache:us-east-1:${ACCOUNT}:replicationgroup:acme-cache`));
    });
    it('allows "*" only where the API has no resource-level permissions', () => {
      const star = d.Statement.filter((s) => list(s.Resource).includes('*')).map((s) => s.Sid);
      assert.deepEqual(star.sort(), ['PublishBackupMetrics', 'VpcNetworkInterfaces']);
    });
    it('omits snapshot statements when there is no DB/cache', () => {
      const bare = backupJobPolicy({ ...input, dbInstanceArn: undefined, cacheReplicationGroupId: undefined });
      assert.ok(!bare.Statement.some((s) => /Snapshot/.test(s.Sid)));
    });
  });

  describe('service roles', () => {
    it('trusts only the service, only for this account', () => {
      const t = serviceTrustPolicy('lambda.amazonaws.com', ACCOUNT);
      assert.deepEqual(t.Statement[0]!.Principal, { Service: 'lambda.amazonaws.com' });
      assert.deepEqual(t.Statement[0]!.Condition, { StringEquals: { 'aws:SourceAccount': ACCOUNT } });
    });
    it('scheduler may invoke the job and dead-letter, nothing else', () => {
      const d = schedulerPolicy({ functionArn: 'arn:aws:lambda:us-east-1:1:function:f', dlqArn: 'arn:aws:sqs:us-east-1:1:q', kmsKeyArn: KEY, region: 'us-east-1' });
      assert.deepEqual(actions(d).sort(), ['kms:Decrypt', 'kms:GenerateDataKey', 'lambda:InvokeFunction', 'sqs:SendMessage']);
      assert.deepEqual(sid(d, 'InvokeBackupJob').Resource, ['arn:aws:lambda:us-east-1:1:function:f', 'arn:aws:lambda:us-east-1:1:function:f:*']);
    });
    it('ECR lets Lambda of this account/region pull', () => {
      const d = ecrLambdaPullPolicy({ account: ACCOUNT, region: 'us-east-1' });
      assert.deepEqual(d.Statement[0]!.Condition, { StringLike: { 'aws:sourceArn': `arn:aws:lambda:us-east-1:${ACCOUNT}:function:*` } });
    });
    it('ECR lifecycle keeps the newest N', () => {
      assert.equal((ecrLifecyclePolicy(10).rules[0] as any).selection.countNumber, 10);
      assert.throws(() => ecrLifecyclePolicy(0), /keepImages/);
    });
  });

  describe('alerts', () => {
    it('lets CloudWatch alarms of this account publish', () => {
      const topic = `arn:aws:sns:us-east-1:${ACCOUNT}:alerts`;
      const d = alertsTopicPolicy({ topicArn: topic, account: ACCOUNT });
      const s = sid(d, 'CloudWatchAlarmsPublish');
      assert.deepEqual(s.Principal, { Service: 'cloudwatch.amazonaws.com' });
      assert.equal(s.Action, 'sns:Publish');
      assert.equal(s.Resource, topic);
      assert.deepEqual(s.Condition?.StringEquals, { 'aws:SourceAccount': ACCOUNT });
      assert.ok(sid(d, 'AccountAdministers'));
    });
    it('key policy lets CloudWatch use the key for the encrypted topic', () => {
      const d = alertsKeyPolicy({ account: ACCOUNT });
      const s = sid(d, 'CloudWatchAlarmsUseKeyForSns');
      assert.deepEqual(s.Principal, { Service: 'cloudwatch.amazonaws.com' });
      assert.deepEqual(s.Action, ['kms:Decrypt', 'kms:GenerateDataKey*']);
    });
  });
  describe('the backup audit: auditLogBucketPolicy, cloudTrailLogsTrustPolicy, cloudTrailLogsRolePolicy', () => {
    const LOGS = 'arn:aws:s3:::acme-use1-audit-logs2024';
    const TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/acme-use1-backup-audit`;
    const d = auditLogBucketPolicy({ logBucketArn: LOGS, sourceBucketArn: BUCKET, account: ACCOUNT, trailArn: TRAIL, accessLogPrefix: 'access-logs/', trailPrefix: 'cloudtrail' });

    it('denies plain HTTP on the bucket and its objects', () => {
      const s = sid(d, 'DenyInsecureTransport');
      assert.deepEqual([s.Effect, s.Principal, s.Action, s.Resource, s.Condition], ['Deny', '*', 's3:*', [LOGS, `${LOGS}/*`], { Bool: { 'aws:SecureTransport': 'false' } }]);
    });

    it('lets S3 logging put objects under the access-log prefix only, for the backup bucket of this account only', () => {
      const s = sid(d, 'S3ServerAccessLogs');
      assert.deepEqual(s.Principal, { Service: 'logging.s3.amazonaws.com' });
      assert.equal(s.Action, 's3:PutObject');
      assert.equal(s.Resource, `${LOGS}/access-logs/*`);
      assert.deepEqual(s.Condition, { ArnLike: { 'aws:SourceArn': BUCKET }, StringEquals: { 'aws:SourceAccount': ACCOUNT } });
    });

    it('lets CloudTrail check the ACL and write its own AWSLogs path, for this trail only, with bucket-owner-full-control', () => {
      const acl = sid(d, 'CloudTrailAclCheck');
      assert.deepEqual([acl.Principal, acl.Action, acl.Resource, acl.Condition], [{ Service: 'cloudtrail.amazonaws.com' }, 's3:GetBucketAcl', LOGS, { StringEquals: { 'aws:SourceArn': TRAIL } }]);
      const w = sid(d, 'CloudTrailWrite');
      assert.equal(w.Resource, `${LOGS}/cloudtrail/AWSLogs/${ACCOUNT}/*`);
      assert.deepEqual(w.Condition, { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': TRAIL } });
      // Nothing else is granted: no reads, no deletes, no other principal.
      assert.deepEqual(d.Statement.filter((x) => x.Effect === 'Allow').flatMap((x) => list(x.Action)).sort(), ['s3:GetBucketAcl', 's3:PutObject', 's3:PutObject']);
    });

    it('rejects bad prefixes and accounts', () => {
      const base = { logBucketArn: LOGS, sourceBucketArn: BUCKET, account: ACCOUNT, trailArn: TRAIL, accessLogPrefix: 'access-logs/', trailPrefix: 'cloudtrail' };
      assert.throws(() => auditLogBucketPolicy({ ...base, accessLogPrefix: 'access-logs' }), /accessLogPrefix/);
      assert.throws(() => auditLogBucketPolicy({ ...base, trailPrefix: 'cloud/trail' }), /trailPrefix/);
      assert.throws(() => auditLogBucketPolicy({ ...base, account: '12' }), /12 digits/);
    });

    it('the trail role: only CloudTrail for this trail of this account; it may only write streams of its log group', () => {
      const trust = cloudTrailLogsTrustPolicy({ trailArn: TRAIL, account: ACCOUNT }).Statement[0];
      assert.deepEqual([trust.Principal, trust.Action, trust.Condition], [{ Service: 'cloudtrail.amazonaws.com' }, 'sts:AssumeRole', { StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': TRAIL } }]);
      const group = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/cloudtrail/acme-use1-backup-audit`;
      const p = cloudTrailLogsRolePolicy({ logGroupArn: group });
      assert.deepEqual(p.Statement, [{ Sid: 'TrailWritesItsLogGroup', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${group}:log-stream:*` }]);
      assert.throws(() => cloudTrailLogsRolePolicy({ logGroupArn: `${group}:*` }), /not a log group ARN/);
    });
  });
});
