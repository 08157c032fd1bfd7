/**
 * Backup tiers, retention maths and S3 lifecycle rules — pure functions, no Pulumi, no AWS SDK.
 *
 * The age-based S3 lifecycle rule on each tier prefix is the authority on how long a backup lives;
 * the count-based retention handed to the backup job (`retentionCount`) is derived from the same
 * days, rounded up, so the job's own pruning never deletes something the lifecycle rule would keep.
 */

/** Services whose data the backup job dumps. Each has its own prefix in the backup bucket. */
export const BACKUP_SERVICES = ['postgresql', 'redis'] as const;
export type BackupService = (typeof BACKUP_SERVICES)[number];

/** Backup tiers, from most to least frequent. */
export const BACKUP_TIERS = ['daily', 'weekly', 'monthly'] as const;
export type BackupTier = (typeof BACKUP_TIERS)[number];

/** Prefix of configuration backups (the `config` tier). */
export const CONFIG_PREFIX = 'config/';

/** Prefix of the safety backups taken right before a restore overwrites data (`safety/<service>/…`). */
export const SAFETY_PREFIX = 'safety/';
/** Days a safety backup is kept (its own lifecycle rule): long enough to notice that a restore was wrong. */
export const SAFETY_RETENTION_DAYS = 30;

/** Retention in days for one service's tiers. */
export type TierRetentionDays = Record<BackupTier, number>;

/** Retention for every tier prefix of the backup bucket, in days. */
export interface RetentionPolicy {
  /** PostgreSQL dumps under `postgresql/<tier>/`. */
  postgresql: TierRetentionDays;
  /** Redis RDB snapshots under `redis/<tier>/`. */
  redis: TierRetentionDays;
  /** Configuration backups under `config/`. */
  configDays: number;
}

/** The seeds' policy: daily 7, weekly 28 (4 weeks), monthly 365 (12 months), configuration 90. */
export const DEFAULT_RETENTION: RetentionPolicy = Object.freeze({
  postgresql: Object.freeze({ daily: 7, weekly: 28, monthly: 365 }),
  redis: Object.freeze({ daily: 7, weekly: 28, monthly: 365 }),
  configDays: 90,
}) as RetentionPolicy;

/** Nominal period of each tier in days (a month is the Gregorian average). */
export const TIER_PERIOD_DAYS: Readonly<Record<BackupTier, number>> = Object.freeze({
  daily: 1,
  weekly: 7,
  monthly: 30.436875,
});

/** `postgresql/daily/` etc. — the object-key prefix of a service's tier. */
export function tierPrefix(service: BackupService, tier: BackupTier): string {
  return `${service}/${tier}/`;
}

/** Thrown for a retention/lifecycle setting outside what S3 or the tier model allows; names the key. */
export class RetentionError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = 'RetentionError';
  }
}

/** Largest expiry S3 lifecycle accepts we allow here (100 years) — anything bigger is a typo. */
export const MAX_RETENTION_DAYS = 36500;

function checkDays(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_RETENTION_DAYS) {
    throw new RetentionError(key, `must be a whole number of days between 1 and ${MAX_RETENTION_DAYS}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Validates a retention policy: every value a whole number of days ≥ 1, and tiers not shorter than
 * their own period (a weekly tier kept 3 days would mean most weeks have no weekly backup at all).
 * Errors name the key as `backup.retention.<service>.<tier>` / `backup.retention.configDays`.
 */
export function validateRetention(policy: RetentionPolicy): RetentionPolicy {
  for (const service of BACKUP_SERVICES) {
    const tiers = policy[service];
    if (tiers === undefined || tiers === null || typeof tiers !== 'object') {
      throw new RetentionError(`backup.retention.${service}`, 'must be an object with daily, weekly and monthly days');
    }
    for (const tier of BACKUP_TIERS) {
      const key = `backup.retention.${service}.${tier}`;
      const days = checkDays(key, tiers[tier]);
      if (days < Math.floor(TIER_PERIOD_DAYS[tier])) {
        throw new RetentionError(key, `must be at least the tier's period (${Math.floor(TIER_PERIOD_DAYS[tier])} days), got ${days}`);
      }
    }
  }
  checkDays('backup.retention.configDays', policy.configDays);
  return policy;
}

/**
 * How many backups of a tier the job keeps: ceil(days / period). Ceil, not floor, so the job's count
 * pruning is never stricter than the age-based lifecycle rule (the rule deletes by age anyway).
 * 7 daily days → 7, 28 weekly days → 4, 365 monthly days → 12.
 */
export function retentionCount(tier: BackupTier, days: number): number {
  checkDays(`retention.${tier}`, days);
  // Subtract a hair so that exact multiples (28 / 7) do not round up on floating-point noise.
  return Math.max(1, Math.ceil(days / TIER_PERIOD_DAYS[tier] - 1e-9));
}

/** Retention counts for every service and tier, e.g. for the backup job's environment. */
export function retentionCounts(policy: RetentionPolicy): Record<BackupService, Record<BackupTier, number>> {
  const out = {} as Record<BackupService, Record<BackupTier, number>>;
  for (const service of BACKUP_SERVICES) {
    out[service] = {
      daily: retentionCount('daily', policy[service].daily),
      weekly: retentionCount('weekly', policy[service].weekly),
      monthly: retentionCount('monthly', policy[service].monthly),
    };
  }
  return out;
}

/**
 * Age above which the newest backup of a tier is overdue: the tier's period plus a grace period for a
 * slow or retried run. daily 26 h, weekly 8 d, monthly 32 d (a 31-day month plus a day).
 */
export const BACKUP_AGE_THRESHOLD_SECONDS: Readonly<Record<BackupTier, number>> = Object.freeze({
  daily: 26 * 3600,
  weekly: 8 * 86400,
  monthly: 32 * 86400,
});

/** A tier's schedule: an EventBridge cron expression evaluated in UTC. */
export interface BackupSchedule {
  service: BackupService;
  tier: BackupTier;
  /** `cron(minutes hours day-of-month month day-of-week year)`, UTC. */
  expression: string;
}

/**
 * The backup schedules, all in UTC: daily 03:00, weekly Sunday 04:00, monthly the 1st at 05:00;
 * Redis runs 30 minutes after PostgreSQL so the two dumps never compete for the one reserved
 * concurrent execution of the job, and tiers that fall on the same day do not overlap.
 */
export function backupSchedules(): BackupSchedule[] {
  const at: Record<BackupTier, { hour: number; dom: string; dow: string }> = {
    daily: { hour: 3, dom: '*', dow: '?' },
    weekly: { hour: 4, dom: '?', dow: 'SUN' },
    monthly: { hour: 5, dom: '1', dow: '?' },
  };
  const out: BackupSchedule[] = [];
  for (const tier of BACKUP_TIERS) {
    BACKUP_SERVICES.forEach((service, i) => {
      const { hour, dom, dow } = at[tier];
      out.push({ service, tier, expression: `cron(${i * 30} ${hour} ${dom} * ${dow} *)` });
    });
  }
  return out;
}

/**
 * The weekly restore test of the newest PostgreSQL backup (the backup job's `restore-test` action): Sundays 06:00
 * UTC, after the weekly (04:00/04:30) and a monthly (05:00/05:30) backup of the same morning, so it exercises the
 * backup just taken and never competes with a dump for the job's single concurrent execution.
 */
export const RESTORE_TEST_SCHEDULE = Object.freeze({
  name: 'postgresql-restore-test',
  expression: 'cron(0 6 ? * SUN *)',
  input: Object.freeze({ service: 'postgresql', action: 'restore-test' }),
});

// ---------------------------------------------------------------------------------------------
// Lifecycle rules
// ---------------------------------------------------------------------------------------------

/** Storage classes allowed for the cold transition: only instant-retrieval ones, because a verified
 *  restore (and a failover) must be able to read a monthly backup immediately, without a Glacier
 *  restore job that takes hours. */
export const COLD_STORAGE_CLASSES = ['GLACIER_IR', 'STANDARD_IA'] as const;
export type ColdStorageClass = (typeof COLD_STORAGE_CLASSES)[number];

/** S3's minimum storage duration per class (billed even if deleted earlier), in days. */
export const MIN_STORAGE_DAYS: Readonly<Record<ColdStorageClass, number>> = Object.freeze({
  GLACIER_IR: 90,
  STANDARD_IA: 30,
});

/** S3's minimum object age before a transition from STANDARD into the class is accepted, in days. */
export const MIN_TRANSITION_AGE_DAYS: Readonly<Record<ColdStorageClass, number>> = Object.freeze({
  GLACIER_IR: 0,
  STANDARD_IA: 30,
});

/** Cold-storage transition of the monthly tier. */
export interface ColdTransition {
  /** Target storage class; default GLACIER_IR. */
  storageClass: ColdStorageClass;
  /** Object age at which to transition; default 30. */
  afterDays: number;
}

export const DEFAULT_COLD_TRANSITION: ColdTransition = Object.freeze({ storageClass: 'GLACIER_IR', afterDays: 30 }) as ColdTransition;

/**
 * The transition for a tier expiring after `expiryDays`, or undefined when a transition would not
 * pay off or S3 would reject it: S3 rejects a transition at or after the expiry and STANDARD_IA
 * before day 30, and a class with a minimum storage duration longer than the object's remaining life
 * costs more than it saves (an object deleted early is billed for the full minimum).
 */
export function coldTransitionFor(expiryDays: number, cold: ColdTransition = DEFAULT_COLD_TRANSITION): ColdTransition | undefined {
  if (!(COLD_STORAGE_CLASSES as readonly string[]).includes(cold.storageClass)) {
    throw new RetentionError('backup.coldStorage.storageClass', `must be one of ${COLD_STORAGE_CLASSES.join(', ')} (instant retrieval), got ${JSON.stringify(cold.storageClass)}`);
  }
  if (!Number.isInteger(cold.afterDays) || cold.afterDays < 1) {
    throw new RetentionError('backup.coldStorage.afterDays', `must be a whole number of days ≥ 1, got ${JSON.stringify(cold.afterDays)}`);
  }
  const afterDays = Math.max(cold.afterDays, MIN_TRANSITION_AGE_DAYS[cold.storageClass]);
  if (afterDays >= expiryDays) return undefined;
  if (expiryDays - afterDays < MIN_STORAGE_DAYS[cold.storageClass]) return undefined;
  return { storageClass: cold.storageClass, afterDays };
}

/** One lifecycle rule in the shape of `aws.s3.BucketLifecycleConfiguration`'s `rules[]` (plain data). */
export interface LifecycleRule {
  id: string;
  status: 'Enabled';
  filter: { prefix?: string };
  expiration?: { days?: number; expiredObjectDeleteMarker?: boolean };
  transitions?: { days: number; storageClass: string }[];
  noncurrentVersionExpiration?: { noncurrentDays: number };
  abortIncompleteMultipartUpload?: { daysAfterInitiation: number };
}

/** Options for the bucket-wide housekeeping of `lifecycleRules`. */
export interface LifecycleOptions {
  /** Days a noncurrent (overwritten, deleted or expired) version is kept before it is removed. This is
   *  the undo window after an accidental or malicious delete. Default 30. */
  noncurrentVersionDays?: number;
  /** Days after which an unfinished multipart upload (an interrupted streaming dump) is aborted. Default 2. */
  abortMultipartDays?: number;
  /** Cold-storage transition for the monthly tiers. Default GLACIER_IR after 30 days. */
  coldTransition?: ColdTransition;
}

/**
 * Lifecycle rules for the backup bucket:
 *  - one rule per tier prefix (`postgresql/daily/` … `redis/monthly/`, `config/`) expiring current
 *    versions after the configured days; monthly tiers also move to cold storage (see coldTransitionFor);
 *  - one rule for the safety backups (`safety/`, {@link SAFETY_RETENTION_DAYS} days);
 *  - one bucket-wide housekeeping rule: noncurrent versions expire after `noncurrentVersionDays`,
 *    incomplete multipart uploads are aborted, and expired delete markers are removed. It is a rule of its
 *    own because S3 rejects `expiredObjectDeleteMarker` together with `days` in one expiration.
 */
export function lifecycleRules(policy: RetentionPolicy, options: LifecycleOptions = {}): LifecycleRule[] {
  validateRetention(policy);
  const noncurrentDays = options.noncurrentVersionDays ?? 30;
  const abortDays = options.abortMultipartDays ?? 2;
  checkDays('backup.noncurrentVersionDays', noncurrentDays);
  checkDays('backup.abortMultipartDays', abortDays);
  const cold = options.coldTransition ?? DEFAULT_COLD_TRANSITION;

  const rules: LifecycleRule[] = [];
  for (const service of BACKUP_SERVICES) {
    for (const tier of BACKUP_TIERS) {
      const days = policy[service][tier];
      const rule: LifecycleRule = {
        id: `${service}-${tier}`,
        status: 'Enabled',
        filter: { prefix: tierPrefix(service, tier) },
        expiration: { days },
      };
      if (tier === 'monthly') {
        const t = coldTransitionFor(days, cold);
        if (t) rule.transitions = [{ days: t.afterDays, storageClass: t.storageClass }];
      }
      rules.push(rule);
    }
  }
  rules.push({ id: 'config', status: 'Enabled', filter: { prefix: CONFIG_PREFIX }, expiration: { days: policy.configDays } });
  rules.push({ id: 'safety', status: 'Enabled', filter: { prefix: SAFETY_PREFIX }, expiration: { days: SAFETY_RETENTION_DAYS } });
  rules.push({
    id: 'housekeeping',
    status: 'Enabled',
    filter: {},
    expiration: { expiredObjectDeleteMarker: true },
    noncurrentVersionExpiration: { noncurrentDays },
    abortIncompleteMultipartUpload: { daysAfterInitiation: abortDays },
  });
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Object Lock
// ---------------------------------------------------------------------------------------------

export const OBJECT_LOCK_MODES = ['GOVERNANCE', 'COMPLIANCE'] as const;
export type ObjectLockMode = (typeof OBJECT_LOCK_MODES)[number];

/** Optional S3 Object Lock default retention. */
export interface ObjectLockSettings {
  /** GOVERNANCE (privileged users can shorten it) or COMPLIANCE (nobody can, not even root). */
  mode: ObjectLockMode;
  /** Default retention in days applied to every new object version. */
  days: number;
}

/**
 * Validates Object Lock settings against the retention policy. A lock longer than the shortest tier's
 * expiry is refused: the lifecycle rule would place a delete marker on schedule but the locked version
 * could not be removed, so daily backups would silently be kept (and billed) for the lock period.
 */
export function validateObjectLock(lock: ObjectLockSettings, policy: RetentionPolicy): ObjectLockSettings {
  if (!(OBJECT_LOCK_MODES as readonly string[]).includes(lock.mode)) {
    throw new RetentionError('backup.objectLock.mode', `must be one of ${OBJECT_LOCK_MODES.join(', ')}, got ${JSON.stringify(lock.mode)}`);
  }
  checkDays('backup.objectLock.days', lock.days);
  const shortest = Math.min(policy.configDays, ...BACKUP_SERVICES.flatMap((s) => BACKUP_TIERS.map((t) => policy[s][t])));
  if (lock.days > shortest) {
    throw new RetentionError('backup.objectLock.days', `must not exceed the shortest tier retention (${shortest} days), got ${lock.days}`);
  }
  return lock;
}
