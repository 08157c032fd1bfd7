/**
 * The buckets' rules. In @pulumi/aws 7 a bucket's settings are separate resources (versioning, encryption, public
 * access block, policy, replication, lifecycle, logging), so these are stack rules: each finds the settings that
 * refer to a bucket (`bucket` property) and checks them.
 *
 * - every bucket: all public access blocked, versioned, encrypted, a TLS-only bucket policy, server access logging
 *   into another bucket of its region;
 * - backup buckets (tagged `bot-dr:component: backup-bucket`): SSE-KMS under a customer key, cross-region
 *   replication with RTC, the lifecycle tiers of lib/lifecycle.ts;
 * - access-log target buckets: same region as their sources, SSE-S3, retained by a lifecycle rule, no Object Lock.
 *
 * Justified exceptions (docs/policy.md): an access-log target bucket is not itself logged (it would need another log
 * bucket, or log into itself in a loop) and uses SSE-S3 (S3 server access logging does not support default SSE-KMS
 * on the target bucket); a scratch drill's throw-away bucket has no replication (no peer) and no access logging; a
 * stack's first deploy in a fresh account has no peer bucket to replicate to yet (run it with this rule advisory,
 * see docs/policy.md).
 */
import type { PolicyResource, ReportViolation, StackValidationArgs } from '@pulumi/policy';
import { BACKUP_SERVICES, BACKUP_TIERS, CONFIG_PREFIX, TIER_PERIOD_DAYS, tierPrefix } from '../../lib/lifecycle';
import { inferRole, isBackupBucket, label, list, namesCustomerKey, read, referrers, regionOf, str, TYPES, UNKNOWN } from './model';

const buckets = (args: StackValidationArgs) => args.resources.filter((r) => r.type === TYPES.bucket);
/** The settings resources of `type` that refer to `bucket`. */
const settingsOf = (args: StackValidationArgs, type: string, bucket: PolicyResource) => referrers(args.resources, type, 'bucket', bucket);

/** The buckets that receive another bucket's server access logs (the access-log targets), with the sources logging into each. */
export function accessLogTargets(args: StackValidationArgs): Map<PolicyResource, PolicyResource[]> {
  const out = new Map<PolicyResource, PolicyResource[]>();
  const all = buckets(args);
  for (const logging of args.resources.filter((r) => r.type === TYPES.logging)) {
    const source = all.find((b) => referrersOf(logging, 'bucket', b));
    const target = all.find((b) => referrersOf(logging, 'targetBucket', b));
    // A bucket logging into itself is not a log bucket (s3-bucket-logging reports the loop).
    if (target && target !== source) out.set(target, [...(out.get(target) ?? []), ...(source ? [source] : [])]);
  }
  return out;
}
const referrersOf = (r: PolicyResource, prop: string, target: PolicyResource) => referrers([r], r.type, prop, target).length > 0;

/** s3-public-access-blocked: a public access block with all four settings on. */
export function s3PublicAccessBlocked(args: StackValidationArgs, report: ReportViolation): void {
  for (const b of buckets(args)) {
    const blocks = settingsOf(args, TYPES.publicAccessBlock, b);
    const full = blocks.some((p) => ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'].every((k) => read(p.props, k) === true));
    if (!full) report(`${label(b)}: all public access must be blocked (a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets).`, b.urn);
  }
}

/** s3-versioned: versioning enabled (the undo of a delete or an overwrite; replication needs it). */
export function s3Versioned(args: StackValidationArgs, report: ReportViolation): void {
  for (const b of buckets(args)) {
    const on = settingsOf(args, TYPES.versioning, b).some((v) => read(v.props, 'versioningConfiguration', 'status') === 'Enabled');
    if (!on) report(`${label(b)}: versioning must be enabled (BucketVersioning status Enabled).`, b.urn);
  }
}

/** The default-encryption rules of a bucket (`[]` if none, UNKNOWN if they cannot be read in a preview). */
function encryptionRules(args: StackValidationArgs, b: PolicyResource): { config: PolicyResource; algorithm: unknown }[] {
  return settingsOf(args, TYPES.encryption, b).flatMap((config) => {
    const rules = list(config.props, 'rules');
    if (rules === UNKNOWN) return [{ config, algorithm: UNKNOWN }];
    return rules.map((rule) => ({ config, algorithm: read(rule, 'applyServerSideEncryptionByDefault', 'sseAlgorithm') }));
  });
}

/**
 * s3-encrypted: default encryption. Backup buckets: SSE-KMS under a customer-managed key. Access-log targets: SSE-S3
 * (the only default encryption server access logging supports). Others: SSE-S3 or SSE-KMS.
 */
export function s3Encrypted(args: StackValidationArgs, report: ReportViolation): void {
  const targets = accessLogTargets(args);
  for (const b of buckets(args)) {
    const rules = encryptionRules(args, b);
    if (rules.length === 0) {
      report(`${label(b)}: default encryption must be configured (BucketServerSideEncryptionConfiguration).`, b.urn);
      continue;
    }
    if (rules.some((r) => r.algorithm === UNKNOWN)) continue;
    if (isBackupBucket(b)) {
      const kms = rules.some((r) => r.algorithm === 'aws:kms' && namesCustomerKey(r.config, 'rules', 0, 'applyServerSideEncryptionByDefault', 'kmsMasterKeyId'));
      if (!kms) report(`${label(b)}: a backup bucket must be encrypted with SSE-KMS under the region's customer-managed key.`, b.urn);
    } else if (targets.has(b)) {
      if (!rules.every((r) => r.algorithm === 'AES256')) report(`${label(b)}: an access-log target bucket must use SSE-S3 (AES256): S3 server access logging does not support default SSE-KMS on the target.`, b.urn);
    } else if (!rules.every((r) => r.algorithm === 'AES256' || r.algorithm === 'aws:kms')) {
      report(`${label(b)}: default encryption must be SSE-S3 or SSE-KMS.`, b.urn);
    }
  }
}

/** Whether a policy statement denies every S3 action on the bucket and its objects over plain HTTP. */
function deniesInsecureTransport(statement: unknown, bucketArn: unknown): boolean {
  if (read(statement, 'Effect') !== 'Deny') return false;
  const cond = read(statement, 'Condition', 'Bool', 'aws:SecureTransport');
  if (cond !== 'false' && cond !== false) return false;
  const asList = (v: unknown) => (Array.isArray(v) ? v : [v]);
  const actions = asList(read(statement, 'Action'));
  if (!actions.includes('s3:*') && !actions.includes('*')) return false;
  const resources = asList(read(statement, 'Resource')).filter((x): x is string => typeof x === 'string');
  if (typeof bucketArn !== 'string') return resources.some((x) => x.endsWith('/*')) && resources.some((x) => !x.endsWith('/*'));
  return resources.includes(bucketArn) && resources.includes(`${bucketArn}/*`);
}

/** s3-tls-only: a bucket policy denying every S3 action on the bucket and its objects without TLS. */
export function s3TlsOnly(args: StackValidationArgs, report: ReportViolation): void {
  for (const b of buckets(args)) {
    const docs = settingsOf(args, TYPES.bucketPolicy, b).map((p) => read(p.props, 'policy'));
    if (docs.some((d) => d === UNKNOWN)) continue;
    const tlsOnly = docs.some((d) => {
      let parsed: unknown = d;
      if (typeof d === 'string') {
        try {
          parsed = JSON.parse(d);
        } catch {
          return false;
        }
      }
      const statements = list(parsed, 'Statement');
      return statements !== UNKNOWN && statements.some((s) => deniesInsecureTransport(s, read(b.props, 'arn')));
    });
    if (!tlsOnly) report(`${label(b)}: the bucket policy must deny s3:* on the bucket and its objects when aws:SecureTransport is false.`, b.urn);
  }
}

/** The minutes of a replication rule's RTC and metrics, if both are enabled. */
function replicationTimeControl(rule: unknown): boolean {
  const d = read(rule, 'destination');
  return read(d, 'replicationTime', 'status') === 'Enabled' && typeof read(d, 'replicationTime', 'time', 'minutes') === 'number' && read(d, 'metrics', 'status') === 'Enabled';
}

/**
 * s3-backup-replication: each backup bucket replicates every object to another bucket with S3 Replication Time
 * Control (15 min) and its metrics, SSE-KMS objects included, replicas under a KMS key of the destination.
 */
export function s3BackupReplication(args: StackValidationArgs, report: ReportViolation): void {
  if (inferRole(args.resources) === 'scratch') return args.notApplicable('a scratch drill has no peer region to replicate to');
  for (const b of buckets(args).filter(isBackupBucket)) {
    const configs = settingsOf(args, TYPES.replication, b);
    if (configs.length === 0) {
      report(`${label(b)}: a backup bucket must replicate to the peer region's backup bucket (BucketReplicationConfig).`, b.urn);
      continue;
    }
    const rules = configs.flatMap((c) => {
      const r = list(c.props, 'rules');
      return r === UNKNOWN ? [UNKNOWN] : r;
    });
    if (rules.includes(UNKNOWN)) continue;
    const good = rules.some((rule) => {
      if (read(rule, 'status') !== 'Enabled') return false;
      const prefix = str(rule, 'filter', 'prefix') ?? str(rule, 'prefix');
      if (typeof prefix === 'string' && prefix !== '') return false;
      if (read(rule, 'filter', 'tag') !== undefined || read(rule, 'filter', 'and') !== undefined) return false;
      if (read(rule, 'sourceSelectionCriteria', 'sseKmsEncryptedObjects', 'status') !== 'Enabled') return false;
      const replicaKey = read(rule, 'destination', 'encryptionConfiguration', 'replicaKmsKeyId');
      if (replicaKey === undefined || replicaKey === '') return false;
      return replicationTimeControl(rule);
    });
    if (!good) {
      report(
        `${label(b)}: a backup bucket's replication needs an Enabled rule for all objects with SSE-KMS objects replicated, replicas under the destination's KMS key (replicaKmsKeyId), and Replication Time Control with its metrics.`,
        b.urn,
      );
    }
  }
}

/** The prefixes a backup bucket's lifecycle must expire, with the shortest retention each may have (days). */
export function requiredTierPrefixes(): { prefix: string; minDays: number }[] {
  const out: { prefix: string; minDays: number }[] = [];
  for (const s of BACKUP_SERVICES) for (const t of BACKUP_TIERS) out.push({ prefix: tierPrefix(s, t), minDays: Math.floor(TIER_PERIOD_DAYS[t]) });
  out.push({ prefix: CONFIG_PREFIX, minDays: 1 });
  return out;
}

/**
 * s3-backup-lifecycle-tiers: each backup bucket's lifecycle expires every tier prefix (postgresql/daily/ …
 * redis/monthly/, config/) no sooner than the tier's period, and expires noncurrent versions.
 */
export function s3BackupLifecycleTiers(args: StackValidationArgs, report: ReportViolation): void {
  for (const b of buckets(args).filter(isBackupBucket)) {
    const rules = settingsOf(args, TYPES.lifecycle, b).flatMap((c) => {
      const r = list(c.props, 'rules');
      return r === UNKNOWN ? [UNKNOWN] : r;
    });
    if (rules.includes(UNKNOWN)) continue;
    const enabled = rules.filter((r) => read(r, 'status') === 'Enabled');
    const missing: string[] = [];
    for (const { prefix, minDays } of requiredTierPrefixes()) {
      const rule = enabled.find((r) => (str(r, 'filter', 'prefix') ?? str(r, 'prefix')) === prefix);
      const days = read(rule, 'expiration', 'days');
      if (!rule || typeof days !== 'number') missing.push(`${prefix} (no expiring rule)`);
      else if (days < minDays) missing.push(`${prefix} (${days} days < the tier's ${minDays})`);
    }
    if (!enabled.some((r) => typeof read(r, 'noncurrentVersionExpiration', 'noncurrentDays') === 'number')) missing.push('noncurrent versions (no noncurrentVersionExpiration)');
    if (missing.length) report(`${label(b)}: the backup lifecycle tiers are incomplete: ${missing.join(', ')}.`, b.urn);
  }
}

/**
 * s3-bucket-logging: every bucket's server access logs go to another bucket of its region. Access-log targets are
 * exempt (see the module doc); so is a scratch drill.
 */
export function s3BucketLogging(args: StackValidationArgs, report: ReportViolation): void {
  if (inferRole(args.resources) === 'scratch') return args.notApplicable('a scratch drill\'s throw-away bucket');
  const targets = accessLogTargets(args);
  const all = buckets(args);
  for (const b of all) {
    if (targets.has(b)) continue;
    const loggings = settingsOf(args, TYPES.logging, b);
    if (loggings.length === 0) {
      report(`${label(b)}: server access logging must be enabled (aws.s3.BucketLogging into a log bucket of the same region): a read or a delete of a backup must leave a trace.`, b.urn);
      continue;
    }
    for (const l of loggings) {
      const target = all.find((t) => referrersOf(l, 'targetBucket', t));
      if (target === b) report(`${label(b)}: logs into itself (an endless loop of log objects); use a separate log bucket.`, b.urn);
      else if (target && regionOf(target) !== regionOf(b)) report(`${label(b)}: its log bucket ${target.name} is in ${regionOf(target)}, not ${regionOf(b)} (S3 delivers access logs within a region only).`, b.urn);
    }
  }
}

/** The shortest retention of access logs: long enough to investigate a delete noticed late. */
export const MIN_ACCESS_LOG_RETENTION_DAYS = 90;

/** s3-access-log-bucket: an access-log target is versioned (s3-versioned), SSE-S3, retained ≥ 90 days, without Object Lock. */
export function s3AccessLogBucket(args: StackValidationArgs, report: ReportViolation): void {
  for (const [target, sources] of accessLogTargets(args)) {
    for (const s of sources) if (regionOf(s) !== regionOf(target)) report(`${label(target)}: receives access logs of ${s.name} from another region.`, target.urn);
    const rules = settingsOf(args, TYPES.lifecycle, target).flatMap((c) => {
      const r = list(c.props, 'rules');
      return r === UNKNOWN ? [UNKNOWN] : r;
    });
    if (!rules.includes(UNKNOWN)) {
      const expiries = rules.filter((r) => read(r, 'status') === 'Enabled').map((r) => read(r, 'expiration', 'days')).filter((d): d is number => typeof d === 'number');
      if (expiries.length === 0) report(`${label(target)}: access logs must be retained for a known period (a lifecycle expiration of at least ${MIN_ACCESS_LOG_RETENTION_DAYS} days).`, target.urn);
      else if (Math.min(...expiries) < MIN_ACCESS_LOG_RETENTION_DAYS) report(`${label(target)}: access logs are kept only ${Math.min(...expiries)} days (at least ${MIN_ACCESS_LOG_RETENTION_DAYS}).`, target.urn);
    }
    if (read(target.props, 'objectLockEnabled') === true || settingsOf(args, TYPES.objectLock, target).length > 0) {
      report(`${label(target)}: S3 does not deliver access logs to a bucket with Object Lock.`, target.urn);
    }
  }
}
