/**
 * `dr status` on AWS: for both stacks the role, endpoints, Route 53 health-check state, replica lag (CloudWatch
 * `ReplicaLag`) and the newest backup per service/tier with its age (C's backup listing over S3), plus the predicted
 * RTO/RPO against the seeds' targets with the parts behind each ({@link predictRto}/{@link predictRpo}), and how long the
 * next scheduled backup and restore test will take against their runner's limits ({@link predictJobs}, from the newest
 * PostgreSQL manifests of the primary's bucket).
 *
 * The AWS calls sit behind {@link StatusProbes} (production: {@link awsStatusProbes} in ./status-probes). A region
 * that does not answer is reported in that region's `errors`, never fatal: status is what operators run first
 * during an outage.
 */
import { BACKUP_SERVICES, BACKUP_TIERS, BackupService, BackupTier } from '../../lib/lifecycle';
import { redact } from '../core/redact';
import { BackupEntry, listBackups, Manifest, ObjectStore, readManifest } from '../backup/index';
import type { AwsRegionTopology, BuiltTopology } from '../adapters/aws/topology';
import type { DatabasePosture, HealthCheckState, StatusProbes } from '../adapters/aws/status-probes';
import { formatDuration, JOB_SAMPLES, JobSample, JobsPrediction, predictJobs, Prediction, predictRpo, predictRto, RtoInputs } from './predict';
import { errorSummary } from '../core/errors';
import { formatBotsStatus, type BotStatus } from './bot-status';

export interface BackupAge {
  key: string;
  at: string;
  age_seconds: number;
}

export interface RegionStatus {
  stack: string;
  region: string;
  role: string;
  endpoints: { database?: string; cache?: string };
  health_check?: { id: string } & HealthCheckState;
  replica_lag?: { seconds: number | null; observed_at?: string };
  /** The serving database's posture: the primary's (Multi-AZ, backups) or what is still missing of it. */
  posture?: DatabasePosture & { reached: boolean; missing: string[] };
  backups: Partial<Record<BackupService, Partial<Record<BackupTier, BackupAge>>>>;
  errors: string[];
  /** The newest PostgreSQL manifests' sizes and durations (for {@link predictJobs}; not printed). */
  job_samples?: JobSample[];
}

export interface AwsStatus {
  at: string;
  regions: RegionStatus[];
  dns?: { zone: string; record: string };
  global_datastore?: string;
  predicted: { rto: Prediction; rpo: Prediction; jobs?: JobsPrediction };
  /** Issue 11: per bot (./bot-status.ts), or why the section could not be shown. */
  bots?: BotStatus[] | { error: string };
}

export interface AwsStatusOptions {
  topology: BuiltTopology;
  probes: StatusProbes;
  now: Date;
  /** Overrides of the RTO constants (e.g. a drill's measured promotion time). */
  rto?: RtoInputs;
  /** Issue 11: the per-bot section (./bot-status.ts `botsStatus` bound to the stacks' bots), run beside the regions. */
  bots?: () => Promise<BotStatus[]>;
}

const msg = (err: unknown) => redact(errorSummary(err));

async function regionStatus(r: AwsRegionTopology, o: AwsStatusOptions): Promise<RegionStatus> {
  const s: RegionStatus = {
    stack: r.stack,
    region: r.region,
    role: r.role,
    endpoints: { ...(r.dbEndpoint ? { database: r.dbEndpoint } : {}), ...(r.cacheEndpoint ? { cache: r.cacheEndpoint } : {}) },
    backups: {},
    errors: [],
  };
  const jobs: Array<Promise<void>> = [];
  if (r.healthCheckId) {
    const id = r.healthCheckId;
    jobs.push(
      o.probes.healthCheck(id).then(
        (h) => void (s.health_check = { id, ...h }),
        (err) => {
          s.health_check = { id, status: 'unknown', detail: msg(err) };
          s.errors.push(`health check ${id}: ${msg(err)}`);
        },
      ),
    );
  }
  if (r.role === 'primary' && o.probes.databasePosture) {
    jobs.push(
      o.probes.databasePosture(r.region, r.dbIdentifier).then(
        (p) => void (s.posture = { ...p, ...postureGap(p) }),
        (err) => void s.errors.push(`posture of ${r.dbIdentifier} in ${r.region}: ${msg(err)}`),
      ),
    );
  }
  if (r.role !== 'primary') {
    jobs.push(
      o.probes.replicaLag(r.region, r.dbIdentifier).then(
        (l) => void (s.replica_lag = { seconds: l.seconds ?? null, ...(l.observedAt ? { observed_at: l.observedAt } : {}) }),
        (err) => {
          s.replica_lag = { seconds: null };
          s.errors.push(`ReplicaLag of ${r.dbIdentifier} in ${r.region}: ${msg(err)}`);
        },
      ),
    );
  }
  jobs.push(
    (async () => {
      const entries = (await listBackups(o.probes.store(r.region, r.bucketName))).filter((e) => e.complete);
      for (const service of BACKUP_SERVICES) {
        for (const tier of BACKUP_TIERS) {
          const newest = entries.filter((e) => e.service === service && e.tier === tier).at(-1);
          if (!newest) continue;
          (s.backups[service] ??= {})[tier] = { key: newest.dataKey, at: newest.date.toISOString(), age_seconds: Math.max(0, Math.round((o.now.getTime() - newest.date.getTime()) / 1000)) };
        }
      }
      s.job_samples = await jobSamples(o.probes.store(r.region, r.bucketName), entries);
    })().catch((err) => void s.errors.push(`backups in s3://${r.bucketName}: ${msg(err)}`)),
  );
  await Promise.all(jobs);
  return s;
}

/** Pure: what the serving database still lacks of the primary's posture (Multi-AZ, at least 7 days of backups). */
export function postureGap(p: DatabasePosture): { reached: boolean; missing: string[] } {
  const missing: string[] = [];
  if (!p.multi_az) missing.push(p.multi_az_pending ? 'Multi-AZ (conversion under way)' : 'Multi-AZ');
  if (p.backup_retention_days < 7) missing.push(p.backup_retention_pending_days !== undefined ? `backups (retention ${p.backup_retention_days} → ${p.backup_retention_pending_days} days under way)` : `backups (retention ${p.backup_retention_days} days)`);
  return { reached: missing.length === 0, missing };
}

/**
 * The newest complete PostgreSQL backups' manifests (at most {@link JOB_SAMPLES}) as prediction samples; a manifest
 * that cannot be read is left out (it cannot tell a duration, and must not hide the others).
 */
async function jobSamples(store: ObjectStore, entries: readonly BackupEntry[]): Promise<JobSample[]> {
  const newest = entries.filter((e) => e.service === 'postgresql').slice(-JOB_SAMPLES);
  const manifests = await Promise.all(newest.map((e) => readManifest(store, e.manifestKey).catch(() => undefined)));
  return manifests.filter((m): m is Manifest => !!m && typeof m.duration_seconds === 'number').map(sampleOf);
}

/** What a manifest tells about the job that took it and its last restore test. */
function sampleOf(m: Manifest): JobSample {
  const t = m.restore_test;
  return {
    key: m.key,
    at: m.timestamp,
    sizeBytes: m.size_bytes,
    durationSeconds: m.duration_seconds,
    ...(m.runner ? { runner: m.runner } : {}),
    ...(t ? { restoreTest: { ok: t.ok, durationSeconds: t.duration_seconds, ...(t.mode ? { mode: t.mode } : {}), ...(t.jobs ? { jobs: t.jobs } : {}), ...(t.runner ? { runner: t.runner } : {}) } } : {}),
  };
}

/** Gather both regions' status (in parallel) and predict RTO/RPO. Never throws for an unreachable region. */
export async function awsStatus(o: AwsStatusOptions): Promise<AwsStatus> {
  const botsJob = o.bots?.().catch((err: unknown) => ({ error: msg(err) }));
  const regions = await Promise.all(o.topology.aws.regions.map((r) => regionStatus(r, o)));
  const bots = await botsJob;
  const primary = regions.find((r) => r.role === 'primary');
  const standby = regions.find((r) => r.role !== 'primary');
  const lag = standby?.replica_lag;
  // Newest complete database backup anywhere (the buckets replicate to each other).
  const newest = regions
    .flatMap((r) => Object.values(r.backups.postgresql ?? {}))
    .filter((b): b is BackupAge => !!b)
    .sort((a, b) => a.age_seconds - b.age_seconds)[0];
  const hasReplica = !!primary && !!standby;
  const rto = predictRto({ hasDatabaseReplica: hasReplica, hasCacheReplica: !!o.topology.aws.cacheGlobalId, ...o.rto });
  const rpo = predictRpo({
    hasDatabaseReplica: hasReplica,
    ...(lag && lag.seconds !== null ? { replicaLagSeconds: lag.seconds } : {}),
    ...(lag?.observed_at ? { replicaLagObservedAt: lag.observed_at } : {}),
    ...(newest ? { newestBackupAgeSeconds: newest.age_seconds, newestBackupKey: newest.key } : {}),
    now: o.now,
  });
  if (!primary) rto.warnings.push('no stack has role primary (a failover may be half done): the prediction assumes a replica to promote');
  if (primary?.posture && !primary.posture.reached) rto.warnings.push(`the serving database in ${primary.region} lacks the primary's posture: ${primary.posture.missing.join(', ')}`);
  // The jobs run where the backups are taken: the primary's bucket (its replica holds the same manifests).
  const samples = (primary?.job_samples?.length ? primary : regions.find((r) => r.job_samples?.length))?.job_samples;
  for (const r of regions) delete r.job_samples;
  return {
    at: o.now.toISOString(),
    regions,
    ...(o.topology.aws.dns ? { dns: o.topology.aws.dns } : {}),
    ...(o.topology.aws.cacheGlobalId ? { global_datastore: o.topology.aws.cacheGlobalId } : {}),
    predicted: { rto, rpo, ...(samples?.length ? { jobs: predictJobs(samples) } : {}) },
    ...(bots ? { bots } : {}),
  };
}

/** Human table of {@link awsStatus}. */
export function formatAwsStatus(s: AwsStatus): string {
  const lines: string[] = [`DR status at ${s.at}${s.dns ? `  (record ${s.dns.record} in zone ${s.dns.zone})` : ''}`, ''];
  for (const r of s.regions) {
    lines.push(`${r.region}  ${r.role.toUpperCase()}  stack ${r.stack}`);
    if (r.endpoints.database) lines.push(`  database   ${r.endpoints.database}`);
    if (r.endpoints.cache) lines.push(`  cache      ${r.endpoints.cache}${s.global_datastore ? ` (global datastore ${s.global_datastore})` : ''}`);
    if (r.health_check) lines.push(`  health     ${r.health_check.status.toUpperCase()} (${r.health_check.id}: ${r.health_check.detail})`);
    if (r.replica_lag) lines.push(`  lag        ${r.replica_lag.seconds === null ? 'unknown' : `${r.replica_lag.seconds} s`}${r.replica_lag.observed_at ? ` at ${r.replica_lag.observed_at}` : ''}`);
    if (r.posture) lines.push(`  posture    ${r.posture.reached ? 'primary posture' : `NOT YET: ${r.posture.missing.join(', ')}`} (${r.posture.multi_az ? 'Multi-AZ' : 'single-AZ'}, backups ${r.posture.backup_retention_days} days, ${r.posture.status})`);
    for (const service of BACKUP_SERVICES) {
      const tiers = BACKUP_TIERS.map((t) => {
        const b = r.backups[service]?.[t];
        return `${t} ${b ? `${formatDuration(b.age_seconds)} ago` : 'none'}`;
      });
      lines.push(`  ${service.padEnd(10)} ${tiers.join(', ')}`);
    }
    for (const e of r.errors) lines.push(`  ERROR      ${e}`);
    lines.push('');
  }
  for (const [label, p] of [
    ['Predicted RTO', s.predicted.rto],
    ['Predicted RPO', s.predicted.rpo],
  ] as const) {
    lines.push(`${label}: ${formatDuration(p.seconds)} — target < ${formatDuration(p.target_seconds)}: ${p.meets_target ? 'MEETS' : 'MISSES'}`);
    for (const part of p.parts) lines.push(`  ${part.name.padEnd(20)} ${formatDuration(part.seconds).padEnd(14)} ${part.detail} [${part.source}]`);
    for (const part of p.after_traffic ?? []) lines.push(`  then ${part.name.padEnd(15)} ${formatDuration(part.seconds).padEnd(14)} after traffic moved, not counted: ${part.detail} [${part.source}]`);
    if (p.note) lines.push(`  note: ${p.note}`);
    for (const w of p.warnings) lines.push(`  warning: ${w}`);
  }
  if (s.predicted.jobs) lines.push(...formatJobs(s.predicted.jobs));
  if (s.bots) lines.push('', Array.isArray(s.bots) ? formatBotsStatus(s.bots) : `Bots: not shown: ${s.bots.error}`);
  return lines.join('\n');
}

/** The jobs' prediction: next backup and restore test against the runner's limit. */
function formatJobs(j: JobsPrediction): string[] {
  const limit = (p: JobsPrediction['backup']) => (p.limit_seconds ? ` of ${formatDuration(p.limit_seconds)} (${Math.round((p.share ?? 0) * 100)} %)` : '');
  const lines = [`Next scheduled jobs${j.runner ? ` (runner ${j.runner.kind})` : ''}:`];
  for (const [name, p] of [['backup', j.backup], ['restore test', j.restore_test]] as const) {
    lines.push(`  ${name.padEnd(20)} ${(p.seconds === null ? 'unknown' : `~${formatDuration(p.seconds)}${limit(p)}`).padEnd(24)} ${p.detail} [${p.source}]`);
  }
  for (const w of j.warnings) lines.push(`  warning: ${w}`);
  return lines;
}
