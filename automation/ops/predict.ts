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
 */

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
