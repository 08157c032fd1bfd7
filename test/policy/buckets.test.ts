/**
 * The bucket rules of the policy pack (policy/rules/buckets.ts): stack rules over a bucket and its settings
 * resources, linked through `propertyDependencies` as the engine sends them. A backup bucket and its access-log
 * bucket as the program declares them pass; each broken setting is reported.
 */
import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import type { PolicyResource } from '@pulumi/policy';
import type { Unwrap } from '@pulumi/pulumi';
import { lifecycleRules, DEFAULT_RETENTION } from '../../lib/lifecycle';
import { backupBucketPolicy } from '../../lib/policies';
import { fake, runStackPolicy, stackPolicy } from './harness';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/primary-key';
const PEER_KEY = 'arn:aws:kms:us-west-2:123456789012:key/secondary-key';

/** The buckets of a {@link world}, for the settings a test replaces. */
interface Buckets {
  backups: PolicyResource;
  logs: PolicyResource;
}
type Over = Record<string, PolicyResource | undefined> | ((b: Buckets) => Record<string, PolicyResource | undefined>);

/** The resources of one region's backup bucket and its log bucket; `over` replaces or (undefined) removes a setting. */
function world(over: Over = {}, extra: { region?: string } = {}): PolicyResource[] {
  const key = fake(aws.kms.Key, 'key', { enableKeyRotation: true }, { outputs: { arn: KEY } });
  const db = fake(aws.rds.Instance, 'db', { storageEncrypted: true, kmsKeyId: KEY });
  const backups = fake(aws.s3.Bucket, 'backups', { bucketPrefix: 'botdr-use1-backups', tags: { 'bot-dr:component': 'backup-bucket' } }, { outputs: { arn: 'arn:aws:s3:::backups', bucket: 'backups', id: 'backups' } });
  const logs = fake(aws.s3.Bucket, 'logs', { bucketPrefix: 'botdr-use1-access-logs', tags: { 'bot-dr:component': 'backup-audit' } }, { region: extra.region, outputs: { arn: 'arn:aws:s3:::logs', bucket: 'logs', id: 'logs' } });
  const on = (b: PolicyResource) => ({ bucket: [b] });
  const pab = (b: PolicyResource) =>
    fake(aws.s3.BucketPublicAccessBlock, `${b.name}-pab`, { bucket: b.name, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, { deps: on(b) });
  const versioning = (b: PolicyResource) => fake(aws.s3.BucketVersioning, `${b.name}-versioning`, { bucket: b.name, versioningConfiguration: { status: 'Enabled' } }, { deps: on(b) });
  const tls = (b: PolicyResource, arn: string) => fake(aws.s3.BucketPolicy, `${b.name}-policy`, { bucket: b.name, policy: JSON.stringify(backupBucketPolicy({ bucketArn: arn, kmsKeyArn: KEY })) }, { deps: on(b) });
  const settings: Record<string, PolicyResource | undefined> = {
    backupsPab: pab(backups),
    backupsVersioning: versioning(backups),
    backupsEncryption: fake(
      aws.s3.BucketServerSideEncryptionConfiguration,
      'backups-encryption',
      { bucket: 'backups', rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: KEY }, bucketKeyEnabled: true }] },
      { deps: { ...on(backups), rules: [key] } },
    ),
    backupsPolicy: tls(backups, 'arn:aws:s3:::backups'),
    backupsLifecycle: fake(aws.s3.BucketLifecycleConfiguration, 'backups-lifecycle', { bucket: 'backups', rules: lifecycleRules(DEFAULT_RETENTION) }, { deps: on(backups) }),
    backupsReplication: fake(
      aws.s3.BucketReplicationConfig,
      'backups-replication',
      {
        bucket: 'backups',
        role: 'arn:aws:iam::123456789012:role/replication',
        rules: [
          {
            id: 'to-peer-region',
            status: 'Enabled',
            filter: {},
            deleteMarkerReplication: { status: 'Enabled' },
            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
            destination: {
              bucket: 'arn:aws:s3:::peer-backups',
              encryptionConfiguration: { replicaKmsKeyId: PEER_KEY },
              replicationTime: { status: 'Enabled', time: { minutes: 15 } },
              metrics: { status: 'Enabled', eventThreshold: { minutes: 15 } },
            },
          },
        ],
      },
      { deps: on(backups) },
    ),
    backupsLogging: fake(aws.s3.BucketLogging, 'backups-logging', { bucket: 'backups', targetBucket: 'logs', targetPrefix: 'access/' }, { deps: { bucket: [backups], targetBucket: [logs] } }),
    logsPab: pab(logs),
    logsVersioning: versioning(logs),
    logsEncryption: fake(aws.s3.BucketServerSideEncryptionConfiguration, 'logs-encryption', { bucket: 'logs', rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] }, { deps: on(logs) }),
    logsPolicy: tls(logs, 'arn:aws:s3:::logs'),
    logsLifecycle: fake(aws.s3.BucketLifecycleConfiguration, 'logs-lifecycle', { bucket: 'logs', rules: [{ id: 'retain', status: 'Enabled', filter: {}, expiration: { days: 365 } }] }, { deps: on(logs) }),
  };
  const merged = { ...settings, ...(typeof over === 'function' ? over({ backups, logs }) : over) };
  return [key, db, backups, logs, ...Object.values(merged).filter((x): x is PolicyResource => !!x)];
}

const run = (name: string, resources: PolicyResource[]) => runStackPolicy(stackPolicy(name), resources);
const messages = async (name: string, resources: PolicyResource[]) => (await run(name, resources)).map((v) => v.message);
const BUCKET_RULES = ['s3-public-access-blocked', 's3-versioned', 's3-encrypted', 's3-tls-only', 's3-backup-replication', 's3-backup-lifecycle-tiers', 's3-bucket-logging', 's3-access-log-bucket'];
/** A default-encryption configuration of `bucket` with `algorithm` (and a key). */
const sse = (bucket: PolicyResource, sseAlgorithm: string, kmsMasterKeyId?: string) =>
  fake(aws.s3.BucketServerSideEncryptionConfiguration, `${bucket.name}-encryption`, { bucket: bucket.name, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm, kmsMasterKeyId } }] }, { deps: { bucket: [bucket] } });
/** A lifecycle configuration of `bucket` with `rules`. */
const lifecycle = (bucket: PolicyResource, rules: NonNullable<Unwrap<aws.s3.BucketLifecycleConfigurationArgs>['rules']>) =>
  fake(aws.s3.BucketLifecycleConfiguration, `${bucket.name}-lifecycle`, { bucket: bucket.name, rules }, { deps: { bucket: [bucket] } });

describe('policy pack: the bucket rules', () => {
  it('a backup bucket and its access-log bucket as the program declares them pass every bucket rule', async () => {
    for (const name of BUCKET_RULES) assert.deepEqual(await run(name, world()), [], name);
  });

  it('s3-public-access-blocked: a missing block, or one setting off, is reported on the bucket', async () => {
    const rs = world({ backupsPab: undefined });
    const missing = await run('s3-public-access-blocked', rs);
    assert.equal(missing.length, 1);
    assert.equal(missing[0].urn, rs.find((r) => r.name === 'backups')!.urn);
    const partial = world(({ logs }) => ({
      logsPab: fake(aws.s3.BucketPublicAccessBlock, 'logs-pab', { bucket: 'logs', blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true, restrictPublicBuckets: true }, { deps: { bucket: [logs] } }),
    }));
    assert.match((await messages('s3-public-access-blocked', partial))[0], /^logs .*all public access must be blocked/);
  });

  it('s3-versioned: no versioning, or a suspended one, is reported', async () => {
    assert.match((await messages('s3-versioned', world({ backupsVersioning: undefined })))[0], /^backups .*versioning must be enabled/);
    const suspended = world(({ logs }) => ({ logsVersioning: fake(aws.s3.BucketVersioning, 'logs-versioning', { bucket: 'logs', versioningConfiguration: { status: 'Suspended' } }, { deps: { bucket: [logs] } }) }));
    assert.match((await messages('s3-versioned', suspended))[0], /^logs /);
  });

  it('s3-encrypted: no default encryption; a backup bucket without SSE-KMS under a customer key; a log bucket with SSE-KMS', async () => {
    assert.match((await messages('s3-encrypted', world({ backupsEncryption: undefined })))[0], /default encryption must be configured/);
    assert.match((await messages('s3-encrypted', world(({ backups }) => ({ backupsEncryption: sse(backups, 'AES256') }))))[0], /SSE-KMS under the region's customer-managed key/);
    const awsManaged = world(({ backups }) => ({ backupsEncryption: sse(backups, 'aws:kms', 'arn:aws:kms:us-east-1:123456789012:alias/aws/s3') }));
    assert.match((await messages('s3-encrypted', awsManaged))[0], /customer-managed/);
    assert.match((await messages('s3-encrypted', world(({ logs }) => ({ logsEncryption: sse(logs, 'aws:kms', KEY) }))))[0], /access-log target bucket must use SSE-S3/);
  });

  it('s3-tls-only: no bucket policy, or one without the TLS deny on bucket and objects, is reported', async () => {
    assert.match((await messages('s3-tls-only', world({ backupsPolicy: undefined })))[0], /aws:SecureTransport is false/);
    const objectsOnly = world(({ backups }) => ({
      backupsPolicy: fake(
        aws.s3.BucketPolicy,
        'backups-policy',
        { bucket: 'backups', policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::backups/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] }) },
        { deps: { bucket: [backups] } },
      ),
    }));
    assert.equal((await messages('s3-tls-only', objectsOnly)).length, 1);
  });

  it('s3-backup-replication: no replication, a prefix-only rule, no RTC, no SSE-KMS objects, no replica key — each reported', async () => {
    assert.match((await messages('s3-backup-replication', world({ backupsReplication: undefined })))[0], /must replicate to the peer region/);
    const rule = (world().find((r) => r.name === 'backups-replication')!.props.rules as Record<string, any>[])[0];
    const variants: Record<string, Record<string, unknown>> = {
      'a prefix filter': { ...rule, filter: { prefix: 'postgresql/' } },
      'no RTC': { ...rule, destination: { ...rule.destination, replicationTime: { status: 'Disabled', time: { minutes: 15 } } } },
      'no RTC metrics': { ...rule, destination: { ...rule.destination, metrics: undefined } },
      'no SSE-KMS objects': { ...rule, sourceSelectionCriteria: undefined },
      'no replica key': { ...rule, destination: { ...rule.destination, encryptionConfiguration: undefined } },
      disabled: { ...rule, status: 'Disabled' },
    };
    for (const [what, r] of Object.entries(variants)) {
      const rs = world(({ backups }) => ({
        backupsReplication: fake(aws.s3.BucketReplicationConfig, 'backups-replication', { bucket: 'backups', role: 'r', rules: [r as Unwrap<aws.s3.BucketReplicationConfigArgs>['rules'][number]] }, { deps: { bucket: [backups] } }),
      }));
      assert.match((await messages('s3-backup-replication', rs))[0] ?? '', /Replication Time Control/, what);
    }
  });

  it('s3-backup-lifecycle-tiers: a missing tier, a tier kept shorter than its period, no noncurrent expiry — each named', async () => {
    const rules = lifecycleRules(DEFAULT_RETENTION)
      .filter((r) => r.id !== 'redis-weekly' && r.id !== 'housekeeping')
      .map((r) => (r.id === 'postgresql-monthly' ? { ...r, expiration: { days: 20 } } : r));
    const [m] = await messages('s3-backup-lifecycle-tiers', world(({ backups }) => ({ backupsLifecycle: lifecycle(backups, rules) })));
    assert.match(m, /redis\/weekly\/ \(no expiring rule\)/);
    assert.match(m, /postgresql\/monthly\/ \(20 days < the tier's 30\)/);
    assert.match(m, /noncurrent versions/);
    assert.match((await messages('s3-backup-lifecycle-tiers', world({ backupsLifecycle: undefined })))[0], /postgresql\/daily\//);
  });

  it('s3-bucket-logging: a bucket without access logging, or logging into itself or another region, is reported; the log bucket is exempt', async () => {
    const none = await run('s3-bucket-logging', world({ backupsLogging: undefined }));
    // Without any BucketLogging there is no log target either: both buckets are reported.
    assert.deepEqual(none.map((v) => v.message.split(' ')[0]).sort(), ['backups', 'logs']);
    const self = world(({ backups }) => ({
      backupsLogging: fake(aws.s3.BucketLogging, 'backups-logging', { bucket: 'backups', targetBucket: 'backups', targetPrefix: 'x/' }, { deps: { bucket: [backups], targetBucket: [backups] } }),
    }));
    assert.ok((await messages('s3-bucket-logging', self)).some((m) => /logs into itself/.test(m)));
    assert.ok((await messages('s3-bucket-logging', world({}, { region: 'us-west-2' }))).some((m) => /is in us-west-2, not us-east-1/.test(m)));
  });

  it('s3-bucket-logging and s3-backup-replication are not applicable to a scratch drill', async () => {
    const asScratch = (rs: PolicyResource[]) => rs.map((r) => (r.name === 'db' ? fake(aws.rds.Instance, 'db', { snapshotIdentifier: 'rds:x', kmsKeyId: KEY }) : r));
    assert.deepEqual(await run('s3-bucket-logging', asScratch(world({ backupsLogging: undefined }))), []);
    assert.deepEqual(await run('s3-backup-replication', asScratch(world({ backupsReplication: undefined }))), []);
  });

  it('s3-access-log-bucket: a log bucket without retention, kept too briefly, or with Object Lock is reported', async () => {
    assert.match((await messages('s3-access-log-bucket', world({ logsLifecycle: undefined })))[0], /retained for a known period/);
    const short = world(({ logs }) => ({ logsLifecycle: lifecycle(logs, [{ id: 'retain', status: 'Enabled', filter: {}, expiration: { days: 30 } }]) }));
    assert.match((await messages('s3-access-log-bucket', short))[0], /kept only 30 days/);
    const locked = world(({ logs }) => ({ logsLock: fake(aws.s3.BucketObjectLockConfiguration, 'logs-lock', { bucket: 'logs', objectLockEnabled: 'Enabled' }, { deps: { bucket: [logs] } }) }));
    assert.match((await messages('s3-access-log-bucket', locked))[0], /Object Lock/);
  });
});
