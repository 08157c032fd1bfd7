/**
 * Predicted RTO and RPO for a failover right now, with the parts behind each (pure; no I/O).
 *
 * Targets come from the seeds' DR guides: RTO < 1 h, RPO < 15 min (datacenter failure).
 *
 * Predicted RTO = detection + DNS TTL + the failover's critical path, where
 *   - detection  = Route 53 health-check request interval × failure threshold (FailoverDns: 10 s × 3),
 *   - DNS TTL    = the failover record's TTL (resolvers may keep answering with the old region that long),
 *   - the critical path is traffic first, direct AWS calls one after the other as the engine runs them: RDS
 *     cross-region read replica promotion + Global Datastore failover + the secrets made writable + Route 53
 *     INSYNC + the verification probes. No Pulumi refresh or update and no image build is on it.
 * What follows traffic (`reconcile`: the stacks re-targeted with a targeted `pulumi up`, the survivor's backups and
 * Multi-AZ) is listed in `after_traffic`, not counted in the RTO: the bots are served by then.
 * The estimate does not include the time a person takes to decide to fail over (`dr failover` is started by an
 * operator or `dr watch`); `note` says so in every prediction.
 *
 * Predicted RPO = what the failover would lose:
 *   - with a replica in the other region: its replication lag (CloudWatch `ReplicaLag`, last datapoint);
 *   - without one (or when no lag is known): the age of the newest complete database backup;
 *   - neither known: unknown, and the prediction does NOT meet the target (unknown is never "fine").
 * A lag datapoint older than {@link STALE_LAG_SECONDS} is flagged stale: the replica may be further behind.
 *
 * The scheduled jobs ({@link predictJobs}): how long the next backup and the next restore test will take, from the
 * newest manifests' sizes and durations, against the limits of the runner that recorded them.
 */

import { FARGATE_RECOMMENDED_ABOVE_GB, LIMIT_SHARE } from '../../lib/backup-runner';
import type { RunnerRecord } from '../backup/index';

/** The seeds' targets. */
export const RTO_TARGET_SECONDS = 3600;
export const RPO_TARGET_SECONDS = 900;

/**
 * Documented estimates (seconds). Sources: the FailoverDns component (interval 10 s, threshold 3, TTL 60 s);
 * AWS documents RDS read replica promotion as "several minutes" (it reboots the instance) — 10 min is a
 * conservative planning figure; ElastiCache Global Datastore failover typically completes in about a minute —
 * 2 min planned; Route 53 changes reach INSYNC within 60 s.
 */
export const ESTIMATES = Object.freeze({
  healthCheckIntervalSeconds: 10,
  healthCheckFailureThreshold: 3,
  dnsTtlSeconds: 60,
  rdsPromotionSeconds: 600,
  cachePromotionSeconds: 120,
  route53InsyncSeconds: 60,
  /** StopReplicationToReplica on each secret: one API call each, a few seconds in all. */
  secretsPromotionSeconds: 10,
  /** The write probes on the new primary and cache and the DNS answer. */
  verifySeconds: 10,
  /** After traffic: a Pulumi refresh + targeted up of the survivor stack (backend round trips, provider reads). */
  reconcileSeconds: 300,
  /** After traffic: RDS converts a single-AZ instance to Multi-AZ online (AWS: typically 10-30 min; planned 30). */
  multiAzConversionSeconds: 1800,
});

/** A lag datapoint older than this is stale (CloudWatch publishes `ReplicaLag` every minute). */
export const STALE_LAG_SECONDS = 300;

export interface RtoInputs {
  healthCheckIntervalSeconds?: number;
  healthCheckFailureThreshold?: number;
  dnsTtlSeconds?: number;
  /** Database promotion estimate, e.g. measured in a drill. Default {@link ESTIMATES.rdsPromotionSeconds}. */
  databasePromotionSeconds?: number;
  /** Cache promotion estimate; 0 or absent cache → no cache part. */
  cachePromotionSeconds?: number;
  /** Whether there is a cross-region cache (Global Datastore) to promote. */
  hasCacheReplica?: boolean;
  /** Whether there is a replica at all; without one the database must be restored from a backup instead. */
  hasDatabaseReplica?: boolean;
  /** Restore estimate when there is no replica (e.g. a drill's measured restore time). */
  restoreSeconds?: number;
}

export interface PredictionPart {
  name: string;
  seconds: number | null;
  /** Where the figure comes from: `constant`, `config`, `measured`, `cloudwatch`, `backup`, `unknown`. */
  source: string;
  detail: string;
}

export interface Prediction {
  seconds: number | null;
  /** RTO only: what runs after traffic moved (not counted in `seconds`). */
  after_traffic?: PredictionPart[];
  target_seconds: number;
  meets_target: boolean;
  parts: PredictionPart[];
  note?: string;
  warnings: string[];
}

const num = (v: number | undefined, fallback: number): number => (v !== undefined && Number.isFinite(v) && v >= 0 ? v : fallback);

/** Predicted RTO of a datacenter failover. */
export function predictRto(i: RtoInputs = {}): Prediction {
  const warnings: string[] = [];
  const interval = num(i.healthCheckIntervalSeconds, ESTIMATES.healthCheckIntervalSeconds);
  const threshold = num(i.healthCheckFailureThreshold, ESTIMATES.healthCheckFailureThreshold);
  const ttl = num(i.dnsTtlSeconds, ESTIMATES.dnsTtlSeconds);
  const parts: PredictionPart[] = [
    {
      name: 'detection',
      seconds: interval * threshold,
      source: i.healthCheckIntervalSeconds !== undefined || i.healthCheckFailureThreshold !== undefined ? 'config' : 'constant',
      detail: `health check every ${interval} s, unhealthy after ${threshold} failures`,
    },
    { name: 'dns-ttl', seconds: ttl, source: i.dnsTtlSeconds !== undefined ? 'config' : 'constant', detail: `record TTL ${ttl} s` },
  ];
  if (i.hasDatabaseReplica === false) {
    if (i.restoreSeconds !== undefined) {
      parts.push({ name: 'database-restore', seconds: i.restoreSeconds, source: 'measured', detail: 'no replica: restore from the newest backup (last drill\'s restore time)' });
    } else {
      parts.push({ name: 'database-restore', seconds: null, source: 'unknown', detail: 'no replica and no measured restore time: run `dr drill --stack scratch`' });
      warnings.push('no database replica in the other region: the failover is a restore, and no drill has measured how long it takes');
    }
  } else {
    const db = num(i.databasePromotionSeconds, ESTIMATES.rdsPromotionSeconds);
    parts.push({
      name: 'database-promotion',
      seconds: db,
      source: i.databasePromotionSeconds !== undefined ? 'measured' : 'constant',
      detail: 'promote the cross-region read replica and wait until available',
    });
  }
  if (i.hasCacheReplica) {
    const c = num(i.cachePromotionSeconds, ESTIMATES.cachePromotionSeconds);
    parts.push({ name: 'cache-promotion', seconds: c, source: i.cachePromotionSeconds !== undefined ? 'measured' : 'constant', detail: 'Global Datastore failover to the surviving region' });
  }
  parts.push({ name: 'secrets', seconds: ESTIMATES.secretsPromotionSeconds, source: 'constant', detail: 'bot-token, database and cache secrets made writable in the survivor (StopReplicationToReplica)' });
  parts.push({ name: 'dns-switch', seconds: ESTIMATES.route53InsyncSeconds, source: 'constant', detail: 'Route 53 change until INSYNC' });
  parts.push({ name: 'verify', seconds: ESTIMATES.verifySeconds, source: 'constant', detail: 'write probes on the new primary and cache, DNS answer' });
  const after: PredictionPart[] = [
    { name: 'reconcile', seconds: ESTIMATES.reconcileSeconds, source: 'constant', detail: 'stacks re-targeted: pulumi up --refresh targeted at what a promotion changes (no image build); pending, not blocking, when the Pulumi backend does not answer' },
  ];
  if (i.hasDatabaseReplica !== false) after.push({ name: 'survivor-posture', seconds: ESTIMATES.multiAzConversionSeconds, source: 'constant', detail: 'backup retention and Multi-AZ conversion of the promoted instance, online' });
  return { ...finish(parts, RTO_TARGET_SECONDS, warnings, 'excludes the time taken to decide to fail over; what follows traffic is in after_traffic'), after_traffic: after };
}

export interface RpoInputs {
  /** Last known replica lag of the database replica in the other region (seconds). */
  replicaLagSeconds?: number;
  /** When that lag was observed (ISO 8601). */
  replicaLagObservedAt?: string;
  /** Whether a cross-region replica exists. */
  hasDatabaseReplica: boolean;
  /** Age of the newest complete database backup (seconds), if any. */
  newestBackupAgeSeconds?: number;
  /** Key of that backup, for the detail line. */
  newestBackupKey?: string;
  /** Global Datastore replication lag (seconds), when known. Reported, not part of the headline. */
  cacheLagSeconds?: number;
  now: Date;
}

/** Predicted RPO of a failover right now (database data loss). */
export function predictRpo(i: RpoInputs): Prediction {
  const warnings: string[] = [];
  const parts: PredictionPart[] = [];
  let seconds: number | null = null;
  const lagKnown = i.hasDatabaseReplica && i.replicaLagSeconds !== undefined && Number.isFinite(i.replicaLagSeconds);
  if (lagKnown) {
    const lag = i.replicaLagSeconds as number;
    seconds = lag;
    let detail = `replica lag ${lag} s`;
    if (i.replicaLagObservedAt) {
      const age = Math.max(0, Math.round((i.now.getTime() - Date.parse(i.replicaLagObservedAt)) / 1000));
      detail += `, observed ${age} s ago`;
      if (age > STALE_LAG_SECONDS) {
        warnings.push(`the last ReplicaLag datapoint is ${age} s old: replication may have stopped and the replica may be further behind`);
        detail += ' (stale)';
      }
    }
    parts.push({ name: 'replica-lag', seconds: lag, source: 'cloudwatch', detail });
  } else {
    if (i.hasDatabaseReplica) warnings.push('no ReplicaLag datapoint: using the newest backup\'s age instead');
    if (i.newestBackupAgeSeconds !== undefined) {
      seconds = i.newestBackupAgeSeconds;
      parts.push({
        name: 'backup-age',
        seconds: i.newestBackupAgeSeconds,
        source: 'backup',
        detail: `newest complete database backup${i.newestBackupKey ? ` ${i.newestBackupKey}` : ''} is ${Math.round(i.newestBackupAgeSeconds)} s old`,
      });
    } else {
      parts.push({ name: 'backup-age', seconds: null, source: 'unknown', detail: 'no replica lag and no complete database backup found' });
      warnings.push('nothing bounds the data loss: no replica lag and no backup');
    }
  }
  if (i.cacheLagSeconds !== undefined) parts.push({ name: 'cache-lag', seconds: i.cacheLagSeconds, source: 'cloudwatch', detail: `Global Datastore replication lag ${i.cacheLagSeconds} s (cache data, not in the headline)` });
  const p = finish(parts, RPO_TARGET_SECONDS, warnings);
  p.seconds = seconds;
  p.meets_target = seconds !== null && seconds < RPO_TARGET_SECONDS;
  return p;
}

function finish(parts: PredictionPart[], target: number, warnings: string[], note?: string): Prediction {
  const unknown = parts.some((p) => p.seconds === null);
  const seconds = unknown ? null : parts.reduce((s, p) => s + (p.seconds ?? 0), 0);
  return { seconds, target_seconds: target, meets_target: seconds !== null && seconds < target, parts, ...(note ? { note } : {}), warnings };
}

/** `3725` → `1 h 2 min 5 s`; null → `unknown`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return 'unknown';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const out: string[] = [];
  if (d) out.push(`${d} d`);
  if (h) out.push(`${h} h`);
  if (m) out.push(`${m} min`);
  if (r && !d) out.push(`${r} s`);
  return out.join(' ');
}

// ---------------------------------------------------------------------------------------------
// The scheduled jobs: how long the next backup and restore test will take, against the runner's limits
// ---------------------------------------------------------------------------------------------

/** One PostgreSQL backup as its manifest tells it (ops/status.ts reads the newest ones of a bucket). */
export interface JobSample {
  key: string;
  /** When the backup started (ISO 8601). */
  at: string;
  sizeBytes: number;
  durationSeconds: number;
  /** The scheduled job's runner and limits (absent for a backup taken from a shell). */
  runner?: RunnerRecord;
  /** The last restore test of this backup, if any. */
  restoreTest?: { ok: boolean; durationSeconds: number; mode?: 'streamed' | 'downloaded'; jobs?: number; runner?: RunnerRecord };
}

export interface JobPrediction {
  /** Predicted wall time of the next run, or null when no manifest tells. */
  seconds: number | null;
  /** The runner's time limit it must fit (Lambda timeout, the task's deadline), when recorded. */
  limit_seconds?: number;
  /** seconds / limit_seconds. */
  share?: number;
  /** Where the figure comes from: `manifests` (measured durations) or `unknown`. */
  source: 'manifests' | 'unknown';
  detail: string;
}

export interface JobsPrediction {
  /** The runner the newest scheduled backup ran on. */
  runner?: RunnerRecord;
  /** Predicted size of the next backup (bytes), from the growth of the newest ones. */
  next_size_bytes?: number;
  backup: JobPrediction;
  restore_test: JobPrediction;
  warnings: string[];
}

/** Manifests used for the throughput and the growth (newest first). */
export const JOB_SAMPLES = 7;
/** The next scheduled backup is at most a day after the newest (the daily schedule). */
const NEXT_RUN_SECONDS = 86400;

const medianOf = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Size of the next backup: the newest size plus the growth rate (least squares over the samples' start times and
 * sizes, bytes per second) over one daily interval; never below zero.
 */
export function nextBackupBytes(samples: readonly Pick<JobSample, 'at' | 'sizeBytes'>[]): number | undefined {
  if (samples.length === 0) return undefined;
  const pts = samples.map((s) => ({ t: Date.parse(s.at) / 1000, y: s.sizeBytes })).sort((a, b) => a.t - b.t);
  const newest = pts[pts.length - 1];
  if (pts.length < 2) return newest.y;
  const mt = pts.reduce((a, p) => a + p.t, 0) / pts.length;
  const my = pts.reduce((a, p) => a + p.y, 0) / pts.length;
  const den = pts.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  const slope = den > 0 ? pts.reduce((a, p) => a + (p.t - mt) * (p.y - my), 0) / den : 0;
  return Math.max(0, Math.round(newest.y + slope * NEXT_RUN_SECONDS));
}

/** A prediction of `seconds` against `limit`, warning (into `warnings`) from {@link LIMIT_SHARE} of it. */
function againstLimit(what: string, seconds: number, limit: number | undefined, runner: RunnerRecord | undefined, detail: string, warnings: string[]): JobPrediction {
  const p: JobPrediction = { seconds: Math.round(seconds), source: 'manifests', detail };
  if (limit === undefined || limit <= 0) return p;
  p.limit_seconds = limit;
  p.share = Math.round((seconds / limit) * 100) / 100;
  const kind = runner?.kind ?? 'runner';
  const advice = kind === 'lambda' ? `set backup.runner fargate (recommended above ${FARGATE_RECOMMENDED_ABOVE_GB} GB)` : 'raise backup.timeoutSeconds (or backup.cpu: pg_dump compresses on one core)';
  if (seconds > limit) warnings.push(`the next ${what} (~${formatDuration(seconds)}) would not finish within the ${kind} limit of ${formatDuration(limit)}: ${advice}`);
  else if (seconds > limit * LIMIT_SHARE) warnings.push(`the next ${what} (~${formatDuration(seconds)}) uses ${Math.round(p.share * 100)} % of the ${kind} limit of ${formatDuration(limit)}: ${advice}`);
  return p;
}

/**
 * How long the next scheduled backup and restore test will take, from the newest manifests (pure): the next size
 * ({@link nextBackupBytes}) × the median seconds per byte the newest backups (and restore tests) took, against the
 * time limit their runner recorded; warnings from {@link LIMIT_SHARE} of the limit, and when a restore test that
 * downloads (more than one pg_restore job) would not fit the runner's local storage.
 */
export function predictJobs(samples: readonly JobSample[]): JobsPrediction {
  const warnings: string[] = [];
  const newest = [...samples].sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).slice(0, JOB_SAMPLES).filter((s) => s.sizeBytes > 0 && s.durationSeconds > 0);
  const unknown = (detail: string): JobPrediction => ({ seconds: null, source: 'unknown', detail });
  if (newest.length === 0) return { backup: unknown('no PostgreSQL manifest with a size and a duration yet'), restore_test: unknown('no PostgreSQL manifest yet'), warnings };
  const runner = newest.find((s) => s.runner)?.runner;
  const size = nextBackupBytes(newest) ?? newest[0].sizeBytes;
  const perByte = medianOf(newest.map((s) => s.durationSeconds / s.sizeBytes));
  const sizeText = `${(size / 1024 ** 3).toFixed(2)} GiB`;
  const backup = againstLimit('backup', size * perByte, runner?.timeout_seconds, runner, `next dump ~${sizeText} at the newest ${newest.length} backup(s)' median ${(perByte * 1024 ** 3).toFixed(0)} s per GiB of dump`, warnings);
  const tested = newest.filter((s) => s.restoreTest?.ok && s.restoreTest.durationSeconds > 0);
  let restore_test = unknown('no successful restore test among the newest backups');
  if (tested.length > 0) {
    const rPerByte = medianOf(tested.map((s) => s.restoreTest!.durationSeconds / s.sizeBytes));
    const rt = tested[0].restoreTest!;
    const rtRunner = rt.runner ?? runner;
    restore_test = againstLimit('restore test', size * rPerByte, rtRunner?.timeout_seconds, rtRunner, `the newest ${tested.length} restore test(s)' median ${(rPerByte * 1024 ** 3).toFixed(0)} s per GiB of dump (${rt.mode ?? 'downloaded'}, ${rt.jobs ?? 2} job(s))`, warnings);
    const storageMb = rtRunner?.storage_mb;
    if (rt.mode !== 'streamed' && storageMb) {
      const need = size / 1024 ** 2;
      if (need > storageMb * LIMIT_SHARE) warnings.push(`the next restore test downloads ~${sizeText} to the ${rtRunner?.kind ?? 'runner'}'s ${(storageMb / 1024).toFixed(0)} GB of local storage (${Math.round((need / storageMb) * 100)} %): set backup.restoreTestJobs 1 (streamed, no local copy) or raise backup.ephemeralStorageGb`);
    }
  }
  if (!runner) warnings.push('the newest backups record no runner (taken from a shell, or by a job older than issue 15): the runner limits are not checked');
  return { ...(runner ? { runner } : {}), next_size_bytes: size, backup, restore_test, warnings };
}
