/**
 * The DR guardrails: the policies of the pack, each with its enforcement level. `mandatory` rules are what makes a
 * stack recoverable — a violation fails `pulumi preview` / `pulumi up`; `advisory` ones are reported and do not
 * block. The rule logic lives in ./rules (plain functions, tested with fake arguments); this list only wires it.
 * docs/policy.md documents every rule, its AWS Guard counterpart and its exceptions.
 */
import * as aws from '@pulumi/aws';
import { Policies, ReportViolation, ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from '@pulumi/policy';
import type * as pulumi from '@pulumi/pulumi';
import { drAlarmsPresent } from './rules/alarms';
import { drBackupDeleteAudit } from './rules/audit';
import { s3AccessLogBucket, s3BackupLifecycleTiers, s3BackupReplication, s3BucketLogging, s3Encrypted, s3PublicAccessBlocked, s3TlsOnly, s3Versioned } from './rules/buckets';
import { drPeerRegionCopy, rdsBackupsRetained, rdsDeletionProtection, rdsMultiAz, rdsNoPublicAccess, rdsStorageEncrypted } from './rules/database';
import { drSurvivorSecretsStandalone, secretsReplicated } from './rules/secrets';
import { iamNoStarOnStar, kmsKeyRotation, storageEncrypted } from './rules/security';

type Rule = (args: ResourceValidationArgs, report: ReportViolation) => void;
/** A resource rule on one resource class (the framework skips other types without calling it). */
function onType<TResource extends pulumi.Resource, TArgs>(cls: { new (name: string, args: TArgs, ...rest: any[]): TResource }, rule: Rule): ResourceValidation {
  return validateResourceOfType(cls, (_props, args, report) => rule(args, report));
}

const rds = (name: string, description: string, rule: Rule, enforcementLevel: 'mandatory' | 'advisory' = 'mandatory'): ResourceValidationPolicy => ({
  name,
  description,
  enforcementLevel,
  validateResource: onType(aws.rds.Instance, rule),
});

export const RESOURCE_POLICIES: ResourceValidationPolicy[] = [
  rds('rds-storage-encrypted', 'RDS storage is encrypted with a customer-managed KMS key of its region.', rdsStorageEncrypted),
  rds('rds-no-public-access', 'RDS instances are not publicly accessible.', rdsNoPublicAccess),
  rds('rds-backups-retained', 'RDS automated backups are kept at least 7 days (not on a read replica or a scratch restore).', rdsBackupsRetained),
  rds('rds-deletion-protection', 'RDS instances have deletion protection and take a final snapshot (not on a scratch restore).', rdsDeletionProtection),
  rds('rds-multi-az', 'RDS instances are Multi-AZ (not a read replica or a scratch restore).', rdsMultiAz, 'advisory'),
  {
    name: 'kms-key-rotation',
    description: 'Symmetric KMS keys rotate their key material.',
    enforcementLevel: 'mandatory',
    validateResource: onType(aws.kms.Key, kmsKeyRotation),
  },
  {
    name: 'iam-no-star-on-star',
    description: 'No IAM policy allows every action on every resource.',
    enforcementLevel: 'mandatory',
    validateResource: [
      onType(aws.iam.RolePolicy, iamNoStarOnStar),
      onType(aws.iam.Policy, iamNoStarOnStar),
      onType(aws.iam.UserPolicy, iamNoStarOnStar),
      onType(aws.iam.GroupPolicy, iamNoStarOnStar),
      onType(aws.iam.Role, iamNoStarOnStar),
    ],
  },
  {
    name: 'storage-encrypted',
    description: 'Secrets, the cache, topics, queues and log groups are encrypted with a customer-managed KMS key.',
    enforcementLevel: 'mandatory',
    validateResource: [
      onType(aws.secretsmanager.Secret, storageEncrypted),
      onType(aws.elasticache.ReplicationGroup, storageEncrypted),
      onType(aws.sns.Topic, storageEncrypted),
      onType(aws.sqs.Queue, storageEncrypted),
      onType(aws.cloudwatch.LogGroup, storageEncrypted),
    ],
  },
];

const stack = (name: string, description: string, validateStack: StackValidationPolicy['validateStack'], enforcementLevel: 'mandatory' | 'advisory' = 'mandatory'): StackValidationPolicy => ({
  name,
  description,
  enforcementLevel,
  validateStack,
});

export const STACK_POLICIES: StackValidationPolicy[] = [
  stack('s3-public-access-blocked', 'Every bucket blocks all public access.', s3PublicAccessBlocked),
  stack('s3-versioned', 'Every bucket is versioned.', s3Versioned),
  stack('s3-encrypted', 'Every bucket is encrypted by default; backup buckets with SSE-KMS under a customer key.', s3Encrypted),
  stack('s3-tls-only', 'Every bucket policy denies requests without TLS.', s3TlsOnly),
  stack('s3-backup-replication', 'Backup buckets replicate to the peer region with Replication Time Control, SSE-KMS objects included.', s3BackupReplication),
  stack('s3-backup-lifecycle-tiers', 'Backup buckets expire every backup tier no sooner than its period, and noncurrent versions.', s3BackupLifecycleTiers),
  stack('s3-bucket-logging', 'Every bucket (but a log bucket) logs server access into a log bucket of its region.', s3BucketLogging),
  stack('s3-access-log-bucket', 'Access-log buckets are in their sources\' region, retained at least 90 days, without Object Lock.', s3AccessLogBucket),
  stack('secrets-replicated', 'The primary\'s secrets the peer region needs are replicated there under its own key.', secretsReplicated),
  stack('dr-peer-region-copy', 'The stack\'s data has a copy in the peer region under that region\'s own key.', drPeerRegionCopy),
  stack('dr-backup-delete-audit', 'The deletes of backups are recorded by a trail, counted by a metric filter excluding the backup job, and alarmed on.', drBackupDeleteAudit),
  stack('dr-alarms-present', 'The alarms the stack\'s role needs are declared, notify, and name their runbook incident.', drAlarmsPresent),
  stack('dr-survivor-secrets-standalone', 'A promoted secondary\'s secrets have no copy in another region until the failback.', drSurvivorSecretsStandalone, 'advisory'),
];

/** Every policy of the pack. */
export const DR_POLICIES: Policies = [...RESOURCE_POLICIES, ...STACK_POLICIES];
