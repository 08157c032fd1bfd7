/**
 * The secrets, KMS, IAM and storage-encryption rules of the policy pack (policy/rules/secrets.ts, security.ts) on
 * fake resources: compliant ones pass, each broken one is reported, the documented exceptions are not.
 */
import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import type { PolicyResource } from '@pulumi/policy';
import { backupJobPolicy, replicationRolePolicy } from '../../lib/policies';
import { fake, resourcePolicy, runResourcePolicy, runStackPolicy, stackPolicy, withUnknowns } from './harness';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/primary-key';
const PEER_KEY = 'arn:aws:kms:us-west-2:123456789012:key/replicas-key';

const primaryDb = fake(aws.rds.Instance, 'db', { storageEncrypted: true, kmsKeyId: KEY, backupRetentionPeriod: 14 });
const peerKey = fake(aws.kms.Key, 'replicas', { enableKeyRotation: true }, { region: 'us-west-2' });
const secret = (name: string, replicas: { region: string; kmsKeyId?: string }[], region = 'us-east-1', deps: Record<string, PolicyResource[]> = {}) =>
  fake(aws.secretsmanager.Secret, name.replace(/\W/g, '-'), { name, kmsKeyId: KEY, replicas }, { region, deps });

describe('policy pack: secrets replicated', () => {
  const policy = stackPolicy('secrets-replicated');

  it("a primary's DB, bot-token and global-datastore AUTH secrets replicated to the peer under its key pass", async () => {
    const rs = [primaryDb, peerKey, secret('botdr/db/master', [{ region: 'us-west-2', kmsKeyId: PEER_KEY }]), secret('botdr/bot-tokens/community', [{ region: 'us-west-2', kmsKeyId: PEER_KEY }])];
    const auth = secret('botdr/redis/botdr-use1-redis/auth', [{ region: 'us-west-2', kmsKeyId: PEER_KEY }]);
    const global = fake(aws.elasticache.GlobalReplicationGroup, 'global', { globalReplicationGroupIdSuffix: 'botdr', primaryReplicationGroupId: 'g' });
    assert.deepEqual(await runStackPolicy(policy, [...rs, auth, global]), []);
  });

  it('a secret without a replica, with one in its own region, or without a replica key is reported', async () => {
    for (const replicas of [[], [{ region: 'us-east-1', kmsKeyId: KEY }], [{ region: 'us-west-2' }]]) {
      const v = await runStackPolicy(policy, [primaryDb, peerKey, secret('botdr/db/master', replicas)]);
      assert.equal(v.length, 1, JSON.stringify(replicas));
      assert.match(v[0].message, /must be replicated to the peer region/);
    }
  });

  it('the AUTH token of a standalone cache need not be replicated; of a global datastore it must', async () => {
    const auth = secret('botdr/redis/botdr-use1-redis/auth', []);
    assert.deepEqual(await runStackPolicy(policy, [primaryDb, peerKey, auth]), []);
    const global = fake(aws.elasticache.GlobalReplicationGroup, 'global', { globalReplicationGroupIdSuffix: 'botdr', primaryReplicationGroupId: 'g' });
    assert.equal((await runStackPolicy(policy, [primaryDb, peerKey, auth, global])).length, 1);
  });

  it('replicas unknown in a preview count when a peer-region key is behind them', async () => {
    const unknownReplicas = fake(aws.secretsmanager.Secret, 's', {}, { deps: { replicas: [peerKey] } });
    unknownReplicas.props = withUnknowns({ name: 'botdr/db/master', kmsKeyId: KEY }, ['replicas']);
    assert.throws(() => unknownReplicas.props.replicas, /can't be known during preview/);
    assert.deepEqual(await runStackPolicy(policy, [primaryDb, peerKey, unknownReplicas]), []);
  });

  it('not applicable to a secondary or a scratch drill; a promoted secondary\'s standalone secrets are advisory', async () => {
    const replica = fake(aws.rds.Instance, 'db', { replicateSourceDb: 'arn:aws:rds:us-east-1:123456789012:db:x', kmsKeyId: PEER_KEY }, { region: 'us-west-2' });
    const standalone = secret('botdr/bot-tokens/community', [], 'us-west-2');
    assert.deepEqual(await runStackPolicy(policy, [replica, standalone]), []);
    const promoted = fake(aws.rds.Instance, 'db', { kmsKeyId: PEER_KEY, backupRetentionPeriod: 14 }, { region: 'us-west-2' });
    const backups = fake(aws.rds.InstanceAutomatedBackupsReplication, 'b', { sourceDbInstanceArn: 'arn:aws:rds:us-east-1:123456789012:db:x', kmsKeyId: PEER_KEY }, { region: 'us-west-2' });
    assert.deepEqual(await runStackPolicy(policy, [promoted, backups, standalone]), []);
    const survivor = stackPolicy('dr-survivor-secrets-standalone');
    assert.equal(survivor.enforcementLevel, 'advisory');
    const [v] = await runStackPolicy(survivor, [promoted, backups, standalone]);
    assert.match(v.message, /standalone since the failover/);
    assert.deepEqual(await runStackPolicy(survivor, [primaryDb, peerKey, secret('botdr/db/master', [])]), [], 'only a promoted secondary');
  });
});

describe('policy pack: KMS rotation, IAM, storage encryption', () => {
  const check = (name: string, r: PolicyResource) => runResourcePolicy(resourcePolicy(name), r);

  it('kms-key-rotation: a symmetric key without rotation is reported; an asymmetric key is not applicable', async () => {
    assert.deepEqual(await check('kms-key-rotation', fake(aws.kms.Key, 'k', { enableKeyRotation: true, customerMasterKeySpec: 'SYMMETRIC_DEFAULT' })), []);
    assert.deepEqual(await check('kms-key-rotation', fake(aws.kms.Key, 'k', {})), ['KMS key rotation must be on (enableKeyRotation: true).']);
    assert.deepEqual(await check('kms-key-rotation', fake(aws.kms.Key, 'k', { customerMasterKeySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' })), []);
  });

  it("iam-no-star-on-star: the program's least-privilege documents pass; * on * (Action or NotAction) in a role policy, a managed policy or a role's inline policy is reported", async () => {
    const job = backupJobPolicy({
      region: 'us-east-1',
      account: '123456789012',
      bucketArn: 'arn:aws:s3:::b',
      prefixes: ['postgresql/', 'redis/'],
      kmsKeyArn: KEY,
      secretArns: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:x'],
      metricsNamespace: 'BotDR/Backups',
      topicArn: 'arn:aws:sns:us-east-1:123456789012:t',
      logGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:g',
      dlqArn: 'arn:aws:sqs:us-east-1:123456789012:q',
      snapshotPrefix: 'bot-dr-',
    });
    const replication = replicationRolePolicy({ sourceBucketArn: 'arn:aws:s3:::a', destinationBucketArn: 'arn:aws:s3:::b', sourceKmsKeyArn: KEY, destinationKmsKeyArn: PEER_KEY, sourceRegion: 'us-east-1', destinationRegion: 'us-west-2' });
    for (const doc of [job, replication]) assert.deepEqual(await check('iam-no-star-on-star', fake(aws.iam.RolePolicy, 'p', { role: 'r', policy: JSON.stringify(doc) })), []);
    const admin = { Version: '2012-10-17', Statement: [{ Sid: 'Admin', Effect: 'Allow', Action: '*', Resource: '*' }] };
    const notAction = { Version: '2012-10-17', Statement: [{ Sid: 'AllButIam', Effect: 'Allow', NotAction: 'iam:*', Resource: ['*'] }] };
    assert.match((await check('iam-no-star-on-star', fake(aws.iam.RolePolicy, 'p', { role: 'r', policy: JSON.stringify(admin) })))[0], /"Admin"/);
    assert.match((await check('iam-no-star-on-star', fake(aws.iam.Policy, 'p', { policy: JSON.stringify(notAction) })))[0], /"AllButIam"/);
    assert.equal((await check('iam-no-star-on-star', fake(aws.iam.Role, 'r', { assumeRolePolicy: '{}', inlinePolicies: [{ name: 'x', policy: JSON.stringify(admin) }] }))).length, 1);
    // A Deny of * on * is not a grant.
    const deny = { Version: '2012-10-17', Statement: [{ Sid: 'D', Effect: 'Deny', Action: '*', Resource: '*' }] };
    assert.deepEqual(await check('iam-no-star-on-star', fake(aws.iam.RolePolicy, 'p', { role: 'r', policy: JSON.stringify(deny) })), []);
  });

  it('storage-encrypted: secrets, the cache, topics, queues and log groups without a customer key are reported; a global datastore member is exempt', async () => {
    const encrypted = [
      fake(aws.secretsmanager.Secret, 's', { kmsKeyId: KEY }),
      fake(aws.elasticache.ReplicationGroup, 'c', { description: 'd', atRestEncryptionEnabled: true, transitEncryptionEnabled: true, kmsKeyId: KEY }),
      fake(aws.sns.Topic, 't', { kmsMasterKeyId: KEY }),
      fake(aws.sqs.Queue, 'q', { kmsMasterKeyId: KEY }),
      fake(aws.cloudwatch.LogGroup, 'l', { kmsKeyId: KEY }),
      fake(aws.elasticache.ReplicationGroup, 'member', { description: 'd', globalReplicationGroupId: 'ldgnf-x' }),
    ];
    for (const r of encrypted) assert.deepEqual(await check('storage-encrypted', r), [], r.name);
    const plain = [
      fake(aws.secretsmanager.Secret, 's', {}),
      fake(aws.secretsmanager.Secret, 's', { kmsKeyId: 'alias/aws/secretsmanager' }),
      fake(aws.elasticache.ReplicationGroup, 'c', { description: 'd', atRestEncryptionEnabled: true, kmsKeyId: KEY }),
      fake(aws.elasticache.ReplicationGroup, 'c', { description: 'd', transitEncryptionEnabled: true }),
      fake(aws.sns.Topic, 't', {}),
      fake(aws.sqs.Queue, 'q', { sqsManagedSseEnabled: true }),
      fake(aws.cloudwatch.LogGroup, 'l', { retentionInDays: 30 }),
    ];
    for (const r of plain) assert.equal((await check('storage-encrypted', r)).length, 1, `${r.name} ${JSON.stringify(r.props)}`);
  });
});
