import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import { BackupBucket, BackupBucketArgs } from '../../components/backup-bucket';
import { DEFAULT_RETENTION } from '../../lib/lifecycle';
import { ProgramRun, RecordedResource, runProgram, runProgramExpectingError } from '../helpers/pulumi';
import { Registration, captureRegistrations, dependsOn } from '../helpers/registrations';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/k-use1';
const PEER_KEY = 'arn:aws:kms:us-west-2:123456789012:key/k-usw2';
const PEER_BUCKET = 'arn:aws:s3:::acme-backups-usw2';

function build(extra: Partial<BackupBucketArgs> = {}): () => Record<string, unknown> {
  return () => {
    const provider = new aws.Provider('use1', { region: 'us-east-1' });
    const b = new BackupBucket('acme-backups', { provider, region: 'us-east-1', kmsKeyArn: KEY, ...extra });
    return { arn: b.arn, bucketName: b.bucketName };
  };
}
const withReplication: Partial<BackupBucketArgs> = {
  replication: { destinationBucketArn: PEER_BUCKET, destinationKmsKeyArn: PEER_KEY, destinationRegion: 'us-west-2' },
};
const policyOf = (r: RecordedResource, key = 'policy') => JSON.parse(r.inputs[key]);

describe('components/BackupBucket', () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(build(withReplication));
  });

  it('is a bot-dr:backup:BackupBucket whose children are parented and in its region', () => {
    const comp = run.one('bot-dr:backup:BackupBucket');
    const kids = run.children(comp);
    assert.ok(kids.length >= 8, run.summary());
    for (const k of kids) {
      assert.ok(k.name.startsWith('acme-backups-'), k.name);
      assert.equal(k.region, 'us-east-1', `${k.type} ${k.name}`);
    }
  });

  it('is versioned', () => {
    assert.deepEqual(run.one('aws:s3/bucketVersioning:BucketVersioning').inputs.versioningConfiguration, { status: 'Enabled' });
  });

  it('encrypts with the region key (SSE-KMS) and a bucket key', () => {
    const rules = run.one('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').inputs.rules;
    assert.deepEqual(rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: KEY }, bucketKeyEnabled: true }]);
  });

  it('blocks all four kinds of public access', () => {
    const i = run.one('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').inputs;
    for (const k of ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets']) assert.equal(i[k], true, k);
  });

  it('enforces bucket-owner ownership (no ACLs)', () => {
    assert.deepEqual(run.one('aws:s3/bucketOwnershipControls:BucketOwnershipControls').inputs.rule, { objectOwnership: 'BucketOwnerEnforced' });
  });

  it('has a bucket policy denying non-TLS access and foreign keys', () => {
    const p = policyOf(run.one('aws:s3/bucketPolicy:BucketPolicy'));
    const tls = p.Statement.find((s: any) => s.Sid === 'DenyInsecureTransport');
    assert.equal(tls.Effect, 'Deny');
    assert.deepEqual(tls.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
    const bucketArn = run.one('aws:s3/bucket:Bucket').state.arn;
    assert.deepEqual(tls.Resource, [bucketArn, `${bucketArn}/*`]);
    const key = p.Statement.find((s: any) => s.Sid === 'DenyWrongKmsKey');
    assert.equal(key.Condition.StringNotEquals['s3:x-amz-server-side-encryption-aws-kms-key-id'], KEY);
  });

  it('has lifecycle rules per tier prefix with the default days, cold monthly, and housekeeping', () => {
    const rules: any[] = run.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs.rules;
    const byPrefix = new Map(rules.map((r) => [r.filter.prefix, r]));
    for (const s of ['postgresql', 'redis'] as const) {
      for (const t of ['daily', 'weekly', 'monthly'] as const) assert.equal(byPrefix.get(`${s}/${t}/`)?.expiration.days, DEFAULT_RETENTION[s][t], `${s}/${t}`);
      assert.deepEqual(byPrefix.get(`${s}/monthly/`)?.transitions, [{ days: 30, storageClass: 'GLACIER_IR' }]);
    }
    assert.equal(byPrefix.get('config/')?.expiration.days, 90);
    const hk = rules.find((r) => r.id === 'housekeeping');
    assert.ok(hk.noncurrentVersionExpiration.noncurrentDays >= 1);
    assert.ok(hk.abortIncompleteMultipartUpload.daysAfterInitiation >= 1);
    assert.equal(hk.expiration.expiredObjectDeleteMarker, true);
  });

  it('takes lifecycle days from args', async () => {
    const r = await runProgram(build({ retention: { ...DEFAULT_RETENTION, redis: { daily: 3, weekly: 14, monthly: 180 } } }));
    const rules: any[] = r.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs.rules;
    assert.equal(rules.find((x) => x.filter.prefix === 'redis/daily/').expiration.days, 3);
    assert.equal(rules.find((x) => x.filter.prefix === 'redis/monthly/').expiration.days, 180);
  });

  describe('replication', () => {
    it('uses a least-privilege role trusted by S3 only', () => {
      const role = run.one('aws:iam/role:Role');
      const trust = policyOf(role, 'assumeRolePolicy');
      assert.deepEqual(trust.Statement[0].Principal, { Service: 's3.amazonaws.com' });
      assert.equal(trust.Statement[0].Condition.StringEquals['aws:SourceAccount'], '123456789012');
      const p = policyOf(run.one('aws:iam/rolePolicy:RolePolicy'));
      const sids = p.Statement.map((s: any) => s.Sid).sort();
      assert.deepEqual(sids, ['DecryptSource', 'DestinationReplicate', 'EncryptDestination', 'SourceBucketConfig', 'SourceObjectVersions']);
      const dec = p.Statement.find((s: any) => s.Sid === 'DecryptSource');
      assert.equal(dec.Resource, KEY);
      assert.equal(dec.Condition.StringEquals['kms:ViaService'], 's3.us-east-1.amazonaws.com');
      const enc = p.Statement.find((s: any) => s.Sid === 'EncryptDestination');
      assert.equal(enc.Resource, PEER_KEY);
      assert.equal(enc.Condition.StringEquals['kms:ViaService'], 's3.us-west-2.amazonaws.com');
      assert.equal(p.Statement.find((s: any) => s.Sid === 'DestinationReplicate').Resource, `${PEER_BUCKET}/*`);
    });

    it('replicates KMS objects and delete markers, under the peer key, with RTC 15 min and metrics', () => {
      const rep = run.one('aws:s3/bucketReplicationConfig:BucketReplicationConfig');
      assert.equal(rep.inputs.role, run.one('aws:iam/role:Role').state.arn);
      const [rule] = rep.inputs.rules;
      assert.equal(rep.inputs.rules.length, 1);
      assert.equal(rule.status, 'Enabled');
      assert.deepEqual(rule.deleteMarkerReplication, { status: 'Enabled' });
      assert.deepEqual(rule.sourceSelectionCriteria, { sseKmsEncryptedObjects: { status: 'Enabled' } });
      assert.equal(rule.destination.bucket, PEER_BUCKET);
      assert.deepEqual(rule.destination.encryptionConfiguration, { replicaKmsKeyId: PEER_KEY });
      assert.deepEqual(rule.destination.replicationTime, { status: 'Enabled', time: { minutes: 15 } });
      assert.deepEqual(rule.destination.metrics, { status: 'Enabled', eventThreshold: { minutes: 15 } });
    });

    it('depends on versioning (own, and a same-program peer\'s) and on its role policy', async () => {
      let regs: Registration[] = [];
      const r = await runProgram(() => {
        regs = captureRegistrations();
        const p1 = new aws.Provider('use1', { region: 'us-east-1' });
        const p2 = new aws.Provider('usw2', { region: 'us-west-2' });
        const peer = new BackupBucket('peer', { provider: p2, region: 'us-west-2', kmsKeyArn: PEER_KEY });
        const b = new BackupBucket('main', {
          provider: p1,
          region: 'us-east-1',
          kmsKeyArn: KEY,
          replication: { destinationBucketArn: peer.arn, destinationKmsKeyArn: PEER_KEY, destinationRegion: 'us-west-2', dependsOn: [peer.versioning] },
        });
        return { arn: b.arn };
      });
      assert.ok(dependsOn(regs, 'main-replication', 'main-versioning'));
      assert.ok(dependsOn(regs, 'main-replication', 'peer-versioning'));
      assert.ok(dependsOn(regs, 'main-replication', 'main-replication-policy'));
      const rep = r.one('aws:s3/bucketReplicationConfig:BucketReplicationConfig');
      assert.equal(rep.inputs.rules[0].destination.bucket, r.one('aws:s3/bucket:Bucket', /^peer-/).state.arn);
      assert.equal(rep.region, 'us-east-1');
    });

    it('exports an ARN that depends on versioning, so a peer stack cannot replicate too early', async () => {
      let regs: Registration[] = [];
      await runProgram(() => {
        regs = captureRegistrations();
        const p1 = new aws.Provider('use1', { region: 'us-east-1' });
        const p2 = new aws.Provider('usw2', { region: 'us-west-2' });
        const peer = new BackupBucket('peer', { provider: p2, region: 'us-west-2', kmsKeyArn: PEER_KEY });
        // No explicit dependsOn: the peer's arn output alone must carry the versioning dependency.
        new BackupBucket('main', { provider: p1, region: 'us-east-1', kmsKeyArn: KEY, replication: { destinationBucketArn: peer.arn, destinationKmsKeyArn: PEER_KEY, destinationRegion: 'us-west-2' } });
      });
      assert.ok(dependsOn(regs, 'main-replication', 'peer-versioning'));
    });

    it('lifecycle and object lock wait for versioning', async () => {
      let regs: Registration[] = [];
      await runProgram(() => {
        regs = captureRegistrations();
        build({ objectLock: { mode: 'GOVERNANCE', days: 3 } })();
      });
      assert.ok(dependsOn(regs, 'acme-backups-lifecycle', 'acme-backups-versioning'));
      assert.ok(dependsOn(regs, 'acme-backups-object-lock', 'acme-backups-versioning'));
    });

    it('is absent until a peer bucket is given (first deploy)', async () => {
      const r = await runProgram(build());
      assert.equal(r.byType('aws:s3/bucketReplicationConfig:BucketReplicationConfig').length, 0);
      assert.equal(r.byType('aws:iam/role:Role').length, 0);
    });
  });

  describe('object lock', () => {
    it('is off by default', () => {
      assert.equal(run.byType('aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration').length, 0);
      assert.notEqual(run.one('aws:s3/bucket:Bucket').inputs.objectLockEnabled, true);
    });
    it('enables lock on the bucket and a default retention when configured', async () => {
      const r = await runProgram(build({ ...withReplication, objectLock: { mode: 'COMPLIANCE', days: 7 } }));
      assert.equal(r.one('aws:s3/bucket:Bucket').inputs.objectLockEnabled, true);
      const l = r.one('aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration').inputs;
      assert.deepEqual(l.rule, { defaultRetention: { mode: 'COMPLIANCE', days: 7 } });
      const p = policyOf(r.one('aws:iam/rolePolicy:RolePolicy'));
      assert.ok(p.Statement.find((s: any) => s.Sid === 'SourceObjectVersions').Action.includes('s3:GetObjectRetention'));
    });
  });

  describe('validation (before any child is declared)', () => {
    for (const [what, extra, re] of [
      ['retention below 1', { retention: { ...DEFAULT_RETENTION, configDays: 0 } }, /backup\.retention\.configDays/],
      ['bad lock mode', { objectLock: { mode: 'NOPE', days: 1 } }, /backup\.objectLock\.mode/],
      ['peer region = region', { replication: { destinationBucketArn: PEER_BUCKET, destinationKmsKeyArn: PEER_KEY, destinationRegion: 'us-east-1' } }, /replication\.destinationRegion/],
      ['bad bucket prefix', { bucketPrefix: 'Has_Caps' }, /bucketPrefix/],
    ] as const) {
      it(`refuses ${what}`, async () => {
        const { error, resources } = await runProgramExpectingError(build(extra as any));
        assert.match(error.message, re);
        assert.equal(resources.filter((r) => r.type.startsWith('aws:s3')).length, 0);
      });
    }
  });

  it('exports the bucket name and ARN', () => {
    const b = run.one('aws:s3/bucket:Bucket');
    assert.equal(run.outputs.arn, b.state.arn);
    assert.equal(run.outputs.bucketName, b.state.bucket);
  });
});
