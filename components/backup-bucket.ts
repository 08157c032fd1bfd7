import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import {
  DEFAULT_RETENTION,
  LifecycleOptions,
  ObjectLockSettings,
  RetentionPolicy,
  lifecycleRules,
  validateObjectLock,
  validateRetention,
} from '../lib/lifecycle';
import { arnAccount, backupBucketPolicy, elastiCacheExportStatements, replicationRolePolicy, s3ReplicationTrustPolicy } from '../lib/policies';

/** Cross-region replication of this bucket to the peer region's backup bucket. */
export interface BackupBucketReplicationArgs {
  /** ARN of the peer region's backup bucket (read from the peer stack's outputs). */
  destinationBucketArn: pulumi.Input<string>;
  /** ARN of the peer region's KMS key; replicas are encrypted with it (`replicaKmsKeyId`). */
  destinationKmsKeyArn: pulumi.Input<string>;
  /** The peer region, e.g. `us-west-2` (scopes the replication role's kms:Encrypt). */
  destinationRegion: string;
  /**
   * Resources the replication must wait for besides this bucket's own versioning — pass the peer bucket's
   * `versioning` resource when both buckets live in one program. Across stacks this is not needed: the
   * peer's exported `arn` only resolves once its versioning is applied (see `BackupBucket.arn`).
   */
  dependsOn?: pulumi.Resource[];
}

/** Arguments of {@link BackupBucket}. */
export interface BackupBucketArgs {
  /** Provider of the bucket's region; every child is created through it. */
  provider: aws.Provider;
  /** The bucket's region, e.g. `us-east-1` (must be the provider's region; used in policy conditions). */
  region: string;
  /** ARN of the region's KMS key: default SSE-KMS encryption (with an S3 Bucket Key). */
  kmsKeyArn: pulumi.Input<string>;
  /** Retention per tier prefix in days. Default: the seeds' policy (7/28/365 per service, config 90). */
  retention?: RetentionPolicy;
  /** Noncurrent-version expiry, multipart abort and the monthly cold-storage transition. */
  lifecycle?: LifecycleOptions;
  /** Optional S3 Object Lock default retention. Can only be turned on when the bucket is created. */
  objectLock?: ObjectLockSettings;
  /** Replicate to the peer's bucket. Omit until the peer bucket exists (first deploy of the first stack). */
  replication?: BackupBucketReplicationArgs;
  /** Physical name prefix (lowercase, ≤ 37 chars); Pulumi appends a random suffix. Default: the component name. */
  bucketPrefix?: string;
  /** Allow `pulumi destroy` to delete a non-empty bucket. Only for scratch stacks; default false. */
  forceDestroy?: boolean;
  /**
   * Key prefix (e.g. `redis/exports/`) ElastiCache may export snapshots into, through a bucket-policy statement for
   * the region's `<region>.elasticache-snapshot.amazonaws.com` principal (ACLs stay disabled). Omit: no export.
   */
  elastiCacheExportPrefix?: string;
  /** Tags applied to taggable children. */
  tags?: Record<string, string>;
}

/**
 * The backup bucket of one region: versioned, SSE-KMS with the region key and a Bucket Key, all public
 * access blocked, TLS-only, bucket-owner-enforced, lifecycle per backup tier, optional Object Lock, and
 * cross-region replication (RTC 15 min, delete markers, replicas under the peer's key).
 *
 * Deploy order for a fresh account: primary (no peer yet → no replication), secondary (replicates to the
 * primary, whose bucket is already versioned), primary again (now replicates to the secondary). A first
 * deploy can never hit "Destination bucket must have versioning enabled", because replication is only
 * declared once a peer bucket ARN is known, and the exported ARN of a BackupBucket resolves only after
 * its versioning configuration has been applied.
 */
export class BackupBucket extends pulumi.ComponentResource {
  /** Physical bucket name. */
  readonly bucketName: pulumi.Output<string>;
  /** Bucket ARN — resolves only after versioning and default encryption are in place (see class doc). */
  readonly arn: pulumi.Output<string>;
  /** The versioning resource, for a peer bucket's replication in the same program. */
  readonly versioning: aws.s3.BucketVersioning;
  /** ARN of the replication role, when replication is configured. */
  readonly replicationRoleArn?: pulumi.Output<string>;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:backup:BackupBucket', name, {}, opts);
    // Validate everything before declaring anything.
    const { rules, lock } = validateBackupBucketArgs(args);
    const tags = { ...args.tags, 'bot-dr:component': 'backup-bucket' };

    const b = createBucket(name, args, this, { lock, tags });
    const { bucket, versioning, encryption } = b;
    this.versioning = versioning;
    createBucketPolicyAndLifecycle(name, args, this, { ...b, rules, lock });
    if (args.replication) this.replicationRoleArn = createReplication(name, args, this, args.replication, { bucket, versioning, encryption, lock, tags });

    this.bucketName = bucket.bucket;
    // Gate the exported ARN on versioning + encryption: a peer stack that reads it for its replication
    // destination can only see it once this bucket is a valid (versioned) destination.
    this.arn = pulumi.all([bucket.arn, versioning.id, encryption.id]).apply(([arn]) => arn);

    this.registerOutputs({ bucketName: this.bucketName, arn: this.arn, replicationRoleArn: this.replicationRoleArn });
  }
}

/** Validates BackupBucket args (before any resource); returns the lifecycle rules and the Object Lock settings. */
function validateBackupBucketArgs(args: BackupBucketArgs): { rules: ReturnType<typeof lifecycleRules>; lock?: ObjectLockSettings } {
  const retention = validateRetention(args.retention ?? DEFAULT_RETENTION);
  const rules = lifecycleRules(retention, args.lifecycle);
  const lock = args.objectLock ? validateObjectLock(args.objectLock, retention) : undefined;
  if (args.replication && args.replication.destinationRegion === args.region) {
    throw new Error(`replication.destinationRegion: must differ from the bucket's region (${args.region})`);
  }
  // Fails here (before any resource) on a bad prefix or region.
  if (args.elastiCacheExportPrefix !== undefined) elastiCacheExportStatements({ bucketArn: 'arn:aws:s3:::validate', region: args.region, prefix: args.elastiCacheExportPrefix });
  if (args.bucketPrefix !== undefined && !/^[a-z0-9][a-z0-9.-]{1,36}$/.test(args.bucketPrefix)) {
    throw new Error(`bucketPrefix: must be 2-37 lowercase letters, digits, dots or hyphens, got ${JSON.stringify(args.bucketPrefix)}`);
  }
  return { rules, lock };
}

/** The bucket and what makes it a bucket: owner-enforced, no public access, versioned, SSE-KMS with a Bucket Key. */
function createBucket(name: string, args: BackupBucketArgs, parent: pulumi.Resource, { lock, tags }: { lock?: ObjectLockSettings; tags: Record<string, string> }) {
  const child = { parent, provider: args.provider };
  const bucket = new aws.s3.Bucket(
    `${name}-bucket`,
    {
      bucketPrefix: args.bucketPrefix,
      forceDestroy: args.forceDestroy ?? false,
      objectLockEnabled: lock ? true : undefined,
      tags,
    },
    child,
  );

  const ownership = new aws.s3.BucketOwnershipControls(
    `${name}-ownership`,
    { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } },
    child,
  );

  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${name}-public-access`,
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    child,
  );

  const versioning = new aws.s3.BucketVersioning(
    `${name}-versioning`,
    { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } },
    child,
  );

  const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: args.kmsKeyArn }, bucketKeyEnabled: true }],
    },
    child,
  );
  return { bucket, ownership, publicAccess, versioning, encryption };
}

/** The bucket policy (TLS only, the region key, the optional ElastiCache export), the tier lifecycle and Object Lock. */
function createBucketPolicyAndLifecycle(
  name: string,
  args: BackupBucketArgs,
  parent: pulumi.Resource,
  deps: {
    bucket: aws.s3.Bucket;
    ownership: aws.s3.BucketOwnershipControls;
    publicAccess: aws.s3.BucketPublicAccessBlock;
    versioning: aws.s3.BucketVersioning;
    rules: ReturnType<typeof lifecycleRules>;
    lock?: ObjectLockSettings;
  },
): void {
  const child = { parent, provider: args.provider };
  const { bucket, ownership, publicAccess, versioning, rules, lock } = deps;
  new aws.s3.BucketPolicy(
    `${name}-policy`,
    {
      bucket: bucket.id,
      policy: pulumi.all([bucket.arn, args.kmsKeyArn]).apply(([bucketArn, kmsKeyArn]) => JSON.stringify(
          backupBucketPolicy({
            bucketArn,
            kmsKeyArn,
            elastiCacheExport: args.elastiCacheExportPrefix !== undefined ? { region: args.region, prefix: args.elastiCacheExportPrefix } : undefined,
          }),
        ),
      ),
    },
    // S3 rejects concurrent policy and public-access-block changes ("OperationAborted").
    { ...child, dependsOn: [publicAccess, ownership] },
  );

  new aws.s3.BucketLifecycleConfiguration(
    `${name}-lifecycle`,
    { bucket: bucket.id, rules },
    // Noncurrent-version rules only mean something once versioning is on.
    { ...child, dependsOn: [versioning] },
  );

  if (lock) {
    new aws.s3.BucketObjectLockConfiguration(
      `${name}-object-lock`,
      { bucket: bucket.id, objectLockEnabled: 'Enabled', rule: { defaultRetention: { mode: lock.mode, days: lock.days } } },
      { ...child, dependsOn: [versioning] },
    );
  }
}

/** Cross-region replication to the peer's bucket: the replication role, its policy, the rule. Returns the role's ARN. */
function createReplication(
  name: string,
  args: BackupBucketArgs,
  parent: pulumi.Resource,
  rep: BackupBucketReplicationArgs,
  deps: { bucket: aws.s3.Bucket; versioning: aws.s3.BucketVersioning; encryption: aws.s3.BucketServerSideEncryptionConfiguration; lock?: ObjectLockSettings; tags: Record<string, string> },
): pulumi.Output<string> {
  const child = { parent, provider: args.provider };
  const { bucket, versioning, encryption, lock, tags } = deps;
  const role = new aws.iam.Role(
    `${name}-replication-role`,
    {
      description: 'S3 cross-region replication of the backup bucket to the peer region',
      assumeRolePolicy: pulumi
        .all([bucket.arn, args.kmsKeyArn])
        .apply(([sourceBucketArn, keyArn]) => JSON.stringify(s3ReplicationTrustPolicy({ sourceBucketArn, account: arnAccount(keyArn) }))),
      tags,
    },
    child,
  );
  const rolePolicy = new aws.iam.RolePolicy(
    `${name}-replication-policy`,
    {
      role: role.id,
      policy: pulumi
        .all([bucket.arn, rep.destinationBucketArn, args.kmsKeyArn, rep.destinationKmsKeyArn])
        .apply(([sourceBucketArn, destinationBucketArn, sourceKmsKeyArn, destinationKmsKeyArn]) =>
          JSON.stringify(
            replicationRolePolicy({
              sourceBucketArn,
              destinationBucketArn,
              sourceKmsKeyArn,
              destinationKmsKeyArn,
              sourceRegion: args.region,
              destinationRegion: rep.destinationRegion,
              objectLock: lock !== undefined,
            }),
          ),
        ),
    },
    child,
  );
  new aws.s3.BucketReplicationConfig(
    `${name}-replication`,
    {
      bucket: bucket.id,
      role: role.arn,
      rules: [
        {
          id: 'to-peer-region',
          status: 'Enabled',
          priority: 1,
          filter: {},
          deleteMarkerReplication: { status: 'Enabled' },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
          destination: {
            bucket: rep.destinationBucketArn,
            storageClass: 'STANDARD',
            encryptionConfiguration: { replicaKmsKeyId: rep.destinationKmsKeyArn },
            replicationTime: { status: 'Enabled', time: { minutes: 15 } },
            metrics: { status: 'Enabled', eventThreshold: { minutes: 15 } },
          },
        },
      ],
    },
    { ...child, dependsOn: [versioning, encryption, rolePolicy, ...(rep.dependsOn ?? [])] },
  );
  return role.arn;
}
