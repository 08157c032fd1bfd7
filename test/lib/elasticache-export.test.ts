import { strict as assert } from 'node:assert';
import { BACKUP_JOB_ENV } from '../../lib/backup-job-env';
import { regionalKeyPolicy } from '../../lib/key-policy';
import { backupBucketPolicy, elastiCacheExportStatements } from '../../lib/policies';
import { ACCOUNT_ID } from '../helpers/pulumi';
import { policyOf, runStack, RoleRun } from '../helpers/stacks';

const EXPORT_PREFIX = BACKUP_JOB_ENV.CACHE_EXPORT_PREFIX.default;
const BUCKET = 'arn:aws:s3:::acme-use1-backups';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/k1`;
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v as string]);

describe('ElastiCache export to the backup bucket', () => {
  describe('bucket policy (pure)', () => {
    const d = backupBucketPolicy({ bucketArn: BUCKET, kmsKeyArn: KEY, elastiCacheExport: { region: 'us-east-1', prefix: EXPORT_PREFIX } });
    const exportStatements = d.Statement.filter((s) => typeof s.Principal === 'object' && s.Principal.Service === 'us-east-1.elasticache-snapshot.amazonaws.com');

    it('lets the regional ElastiCache snapshot principal write and read objects only under redis/exports/', () => {
      const objects = exportStatements.find((s) => s.Sid === 'ElastiCacheExportObjects');
      assert.ok(objects);
      assert.equal(objects.Effect, 'Allow');
      assert.deepEqual(list(objects.Resource), [`${BUCKET}/redis/exports/*`]);
      assert.deepEqual(list(objects.Action).sort(), ['s3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject']);
    });
    it('bucket-level access is limited to listing and reading the bucket ACL (no delete, no policy/ACL writes)', () => {
      const bucket = exportStatements.find((s) => s.Sid === 'ElastiCacheExportBucket');
      assert.ok(bucket);
      assert.deepEqual(list(bucket.Resource), [BUCKET]);
      assert.deepEqual(list(bucket.Action).sort(), ['s3:GetBucketAcl', 's3:ListBucket', 's3:ListBucketMultipartUploads']);
      for (const a of exportStatements.flatMap((s) => list(s.Action))) assert.ok(!/Delete|Put(Bucket|Object)Acl|PutBucketPolicy|\*/.test(a), a);
    });
    it('keeps the TLS and encryption-header denials (they bind ElastiCache too)', () => {
      for (const sid of ['DenyInsecureTransport', 'DenyWrongEncryptionHeader', 'DenyWrongKmsKey']) assert.ok(d.Statement.some((s) => s.Sid === sid && s.Effect === 'Deny' && s.Principal === '*'), sid);
    });
    it('has no export statement unless asked', () => {
      assert.ok(!JSON.stringify(backupBucketPolicy({ bucketArn: BUCKET, kmsKeyArn: KEY })).includes('elasticache'));
    });
    it('refuses a prefix that is not a plain key prefix, or a bad region', () => {
      assert.throws(() => elastiCacheExportStatements({ bucketArn: BUCKET, region: 'us-east-1', prefix: '' }), /elastiCacheExport\.prefix/);
      assert.throws(() => elastiCacheExportStatements({ bucketArn: BUCKET, region: 'us-east-1', prefix: 'redis/exports' }), /ending in '\/'/);
      assert.throws(() => elastiCacheExportStatements({ bucketArn: BUCKET, region: 'us-east-1', prefix: '/redis/' }), /elastiCacheExport\.prefix/);
      assert.throws(() => elastiCacheExportStatements({ bucketArn: BUCKET, region: 'nowhere', prefix: EXPORT_PREFIX }), /region/);
    });
  });

  it('the region key lets the ElastiCache snapshot principal use it only through S3 in its region', () => {
    const p = regionalKeyPolicy({ accountId: ACCOUNT_ID, region: 'eu-west-1' });
    const s = p.Statement.find((x) => x.Sid === 'ElastiCacheExportViaS3');
    assert.ok(s);
    assert.deepEqual(s.Principal, { Service: 'eu-west-1.elasticache-snapshot.amazonaws.com' });
    assert.deepEqual(s.Action.sort(), ['kms:Decrypt', 'kms:GenerateDataKey']);
    assert.deepEqual(s.Condition, { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } });
  });

  describe('primary stack', () => {
    let run: RoleRun;
    before(async () => {
      run = await runStack('primary');
    });
    const bucketOf = (r: RoleRun) => r.one('aws:s3/bucket:Bucket', /-backups-bucket$/);

    it('the backup bucket policy admits the export under the prefix the job is told (CACHE_EXPORT_PREFIX)', () => {
      const bucketPolicy = policyOf(run.one('aws:s3/bucketPolicy:BucketPolicy', /-backups-policy$/).inputs.policy);
      const region = run.one('aws:s3/bucketPolicy:BucketPolicy', /-backups-policy$/).region;
      const arn = bucketOf(run).state.arn;
      const objects = bucketPolicy.Statement.find((s) => s.Sid === 'ElastiCacheExportObjects');
      assert.ok(objects, 'export statement in the bucket policy');
      assert.deepEqual(objects.Principal, { Service: `${region}.elasticache-snapshot.amazonaws.com` });
      const env = run.one('aws:lambda/function:Function', /backup-jobs-function$/).inputs.environment.variables;
      assert.equal(env.CACHE_EXPORT_PREFIX, EXPORT_PREFIX);
      assert.deepEqual(list(objects.Resource), [`${arn}/${env.CACHE_EXPORT_PREFIX}*`]);
    });
    it('ACLs stay disabled: Object Ownership BucketOwnerEnforced and no bucket ACL resource', () => {
      assert.equal(run.one('aws:s3/bucketOwnershipControls:BucketOwnershipControls', /-backups-ownership$/).inputs.rule.objectOwnership, 'BucketOwnerEnforced');
      assert.equal(run.resources.filter((r) => /bucketAcl/i.test(r.type)).length, 0);
    });
    it("the job's role may CopySnapshot its own snapshots and read/delete the export under the same prefix", () => {
      const role = policyOf(run.one('aws:iam/rolePolicy:RolePolicy', /backup-jobs-role-policy$/).inputs.policy);
      const copy = role.Statement.find((s) => s.Sid === 'CacheSnapshotExport');
      assert.ok(copy);
      assert.deepEqual(list(copy.Action), ['elasticache:CopySnapshot']);
      const region = run.one('aws:s3/bucketPolicy:BucketPolicy', /-backups-policy$/).region;
      assert.deepEqual(list(copy.Resource), [`arn:aws:elasticache:${region}:${ACCOUNT_ID}:snapshot:bot-dr-*`]);
      const objects = role.Statement.find((s) => s.Sid === 'BackupObjects');
      const arn = bucketOf(run).state.arn;
      assert.ok(list(objects.Resource).some((r) => `${arn}/${EXPORT_PREFIX}x`.startsWith(r.replace(/\*$/, ''))), 'export prefix inside the object grant');
      for (const a of ['s3:GetObject', 's3:DeleteObject']) assert.ok(list(objects.Action).includes(a), a);
    });
  });

  it('scratch stacks (no backup job) grant ElastiCache nothing on their bucket', async () => {
    const run = await runStack('scratch');
    assert.ok(!JSON.stringify(policyOf(run.one('aws:s3/bucketPolicy:BucketPolicy', /-backups-policy$/).inputs.policy)).includes('elasticache-snapshot'));
  });
});
