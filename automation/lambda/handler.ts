/**
 * The scheduled backup job's Lambda entry (`automation/lambda/handler.handler`, see docker/backup-job).
 *
 * Events:
 *   { "service": "postgresql" | "redis", "tier"?: "daily" | "weekly" | "monthly" }     a backup (the default
 *       action; tier defaults to the date's tier: monthly on the 1st, weekly on Sundays, else daily)
 *   { "service": "postgresql", "action": "restore-test", "from"?: "latest" | tier | "YYYYMMDD" }
 *       the scheduled restore test: restore into a scratch database on RESTORE_TEST_DB_HOST (default DB_HOST),
 *       compare row counts, mark the manifest VERIFIED (or FAILED + SNS alert)
 *
 * Like automation/main.ts this is an entry file: `handler` reads `process.env` and builds the AWS clients, then
 * everything else goes through {@link runEvent} with env and clients injected (that is what the tests call).
 *
 * Environment: the contract is lib/backup-job-env.ts (names, meaning, which are required); it is parsed once
 * per event and every problem is reported together. Host/port/dbname are also taken from the secret when it
 * carries them. Secrets are registered for redaction and never logged.
 */
import type { SqlProbeAnswer } from '../adapters/aws/sql-probes';
import { isSqlProbeEvent, runSqlProbe } from './probe';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretStringReader } from '../adapters/aws/secret-values';
import { SNSClient } from '@aws-sdk/client-sns';
import { BACKUP_METRICS_NAMESPACE } from '../../lib/backup-metrics';
import { BackupJobEnv, parseBackupJobEnv } from '../../lib/backup-job-env';
import { BACKUP_TIERS, BackupService, BackupTier } from '../../lib/lifecycle';
import { runbookLine } from '../../lib/runbook';
import { CloudWatchMetrics } from '../adapters/aws/metrics';
import { SnsNotifier } from '../adapters/aws/sns-notifier';
import { S3Store } from '../adapters/aws/s3-store';
import { ElastiCacheSnapshots, RdsSnapshots } from '../adapters/aws/snapshots';
import { LocalPgTools, withDatabase } from '../adapters/tools/pg-tools';
import { LocalRedisTools } from '../adapters/tools/redis-tools';
import { isService, isTier, JobDeps, JobResult, type Notifier, PublishedMetric, publishRestoreTestMetrics, RestoreTestResult, runBackupJob, type RunnerRecord, tierFor, validateKeep, verifyRestore } from '../backup/index';
import { redact, registerSecret } from '../core/redact';
import { Clock, systemClock } from '../core/clock';
import { localTempFiles } from '../adapters/tools/temp-files';
import { OperationError, UsageError } from '../core/errors';

export interface AwsClients {
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
  sns: SNSClient;
  rds: RDSClient;
  peerRds?: RDSClient;
  elasticache: ElastiCacheClient;
}

type Env = Record<string, string | undefined>;

/** The job's alerts: one topic (its own region's), through the project's one SNS notifier. */
function snsAlerts(clients: AwsClients, topicArn: string): Notifier {
  return new SnsNotifier({ topics: [topicArn], sns: () => clients.sns, retry: { attempts: 1 } }).backupNotifier();
}

export type ParsedEvent = { action: 'backup'; service: BackupService; tier: BackupTier } | { action: 'restore-test'; service: 'postgresql'; from: string };

export function parseEvent(event: unknown, now: Date): { service: BackupService; tier: BackupTier } {
  const e = parseAnyEvent(event, now);
  if (e.action !== 'backup') throw new UsageError(`event.action ${e.action} is not a backup`);
  return { service: e.service, tier: e.tier };
}

/** Validate an event of any action; messages name the field and what is allowed. */
export function parseAnyEvent(event: unknown, now: Date): ParsedEvent {
  const e = (event ?? {}) as Record<string, unknown>;
  const service = e.service;
  if (typeof service !== 'string' || !isService(service)) throw new UsageError(`event.service must be postgresql|redis, got ${JSON.stringify(service)}`);
  const action = e.action ?? 'backup';
  if (action === 'restore-test') {
    if (service !== 'postgresql') throw new UsageError(`event.action restore-test supports service postgresql only, got ${JSON.stringify(service)}`);
    const from = e.from ?? 'latest';
    if (typeof from !== 'string' || !(from === 'latest' || isTier(from) || /^\d{8}$/.test(from))) throw new UsageError(`event.from must be latest|daily|weekly|monthly|YYYYMMDD, got ${JSON.stringify(from)}`);
    return { action, service, from };
  }
  if (action !== 'backup') throw new UsageError(`event.action must be backup|restore-test, got ${JSON.stringify(action)}`);
  const tier = e.tier ?? tierFor(now);
  if (typeof tier !== 'string' || !isTier(tier)) throw new UsageError(`event.tier must be ${BACKUP_TIERS.join('|')}, got ${JSON.stringify(tier)}`);
  return { action, service, tier };
}

async function readSecret(client: SecretsManagerClient, arn: string): Promise<Record<string, unknown>> {
  // The client is already the job's own region's: the reader's region argument is not used.
  const text = await secretStringReader(() => client, { attempts: 1 })('', arn);
  if (!text) throw new OperationError(`secret ${arn} has no string value`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // A plain-string secret (e.g. a Redis auth token).
    registerSecret(text);
    return { password: text };
  }
  const rec = doc as Record<string, unknown>;
  if (typeof rec.password === 'string') registerSecret(rec.password);
  if (typeof rec.authToken === 'string') registerSecret(rec.authToken);
  return rec;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined);

export async function databaseUrl(env: Env, secrets: SecretsManagerClient, parsed?: BackupJobEnv): Promise<string> {
  const cfg = (parsed ?? parseBackupJobEnv(env, 'postgresql')).postgres;
  if (!cfg) throw new OperationError('backup job misconfigured: no PostgreSQL settings');
  const s = await readSecret(secrets, cfg.secretArn);
  const user = str(s.username);
  const password = str(s.password);
  if (!user || !password) throw new OperationError('database secret must be JSON with username and password');
  const host = cfg.host ?? str(s.host);
  if (!host) throw new OperationError('backup job misconfigured: DB_HOST is required (the RDS-managed secret carries no host)');
  const port = cfg.port ?? str(s.port) ?? '5432';
  const db = cfg.dbName ?? str(s.dbname) ?? 'postgres';
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(db)}?sslmode=${encodeURIComponent(cfg.sslmode)}`;
}

export async function cacheUrl(env: Env, secrets: SecretsManagerClient, parsed?: BackupJobEnv): Promise<string> {
  const cfg = (parsed ?? parseBackupJobEnv(env, 'redis')).redis;
  if (!cfg) throw new OperationError('backup job misconfigured: no Redis settings');
  let auth = '';
  if (cfg.secretArn) {
    const s = await readSecret(secrets, cfg.secretArn);
    const token = str(s.authToken) ?? str(s.password);
    if (token) auth = `:${encodeURIComponent(token)}@`;
  }
  return `${cfg.tls ? 'rediss' : 'redis'}://${auth}${cfg.host}:${cfg.port}`;
}

/** The runner and its limits as the manifests record them (DR_RUNNER, DR_RUNNER_TIMEOUT_SECONDS, DR_RUNNER_STORAGE_MB). */
export function runnerRecord(cfg: BackupJobEnv): RunnerRecord {
  return { kind: cfg.runner.kind, ...(cfg.runner.timeoutSeconds ? { timeout_seconds: cfg.runner.timeoutSeconds } : {}), ...(cfg.runner.storageMb ? { storage_mb: cfg.runner.storageMb } : {}) };
}

type Log = (l: string) => void;
const consoleLog: Log = (l) => console.log(redact(l));

/**
 * Parse the env for the event's service; on a misconfiguration still alert (when a topic is known) and
 * publish BackupSuccess=0 (RestoreTestSuccess=0 for a restore test), then rethrow — a broken job must not fail
 * silently.
 */
async function configure(service: BackupService, tier: BackupTier | 'restore-test', env: Env, clients: AwsClients, log: Log): Promise<BackupJobEnv> {
  try {
    return parseBackupJobEnv(env, service);
  } catch (err) {
    const message = redact(err instanceof Error ? err.message : String(err));
    log(`backup job could not start: ${message}`);
    const region = env.DR_REGION ?? 'unknown region';
    const metrics = new CloudWatchMetrics(clients.cloudwatch, env.METRICS_NAMESPACE || BACKUP_METRICS_NAMESPACE);
    // No bucket to read from (it may be the missing setting): the success datum only, no restore-test age.
    const datum: PublishedMetric = tier === 'restore-test' ? { kind: 'restore-test', service: 'postgresql', success: false } : { service, tier, success: false };
    await metrics.publish([datum]).catch(() => undefined);
    if (env.ALERTS_TOPIC_ARN) {
      await snsAlerts(clients, env.ALERTS_TOPIC_ARN).notify(`[bot-dr] ${service} ${tier} job misconfigured (${region})`, `The backup job could not start:\n\n${message}\n\n${runbookLine('INC-007')}`).catch(() => undefined);
    }
    throw err;
  }
}

/** A backup event, with env, clients and clock injected. */
export async function runJob(event: unknown, env: Env, clients: AwsClients, clock: Clock = systemClock, log: Log = consoleLog): Promise<JobResult> {
  const parsed = parseEvent(event, clock.now());
  const cfg = await configure(parsed.service, parsed.tier, env, clients, log);
  const region = cfg.region;
  const store = new S3Store({ bucket: cfg.bucket, env, region });
  const deps: JobDeps = {
    store,
    clock,
    keep: validateKeep(cfg.retain, 'RETAIN'),
    metrics: new CloudWatchMetrics(clients.cloudwatch, cfg.metricsNamespace),
    notifier: cfg.alertsTopicArn ? snsAlerts(clients, cfg.alertsTopicArn) : undefined,
    log,
    where: region,
    runner: runnerRecord(cfg),
  };
  try {
    if (parsed.service === 'postgresql' && cfg.postgres) {
      const pg = cfg.postgres;
      const peer = pg.peer && clients.peerRds ? { rds: clients.peerRds, region: pg.peer.region, kmsKeyId: pg.peer.kmsKeyArn } : undefined;
      deps.pg = {
        url: await databaseUrl(env, clients.secrets, cfg),
        tools: new LocalPgTools({ env }),
        snapshots: pg.instanceId ? new RdsSnapshots({ rds: clients.rds, region, instanceId: pg.instanceId, prefix: cfg.snapshotPrefix, peer }) : undefined,
      };
    } else if (cfg.redis) {
      const r = cfg.redis;
      const snapshots = r.replicationGroupId
        ? new ElastiCacheSnapshots({ client: clients.elasticache, replicationGroupId: r.replicationGroupId, prefix: cfg.snapshotPrefix, exportBucket: { name: cfg.bucket, store } })
        : undefined;
      deps.redis = {
        url: await cacheUrl(env, clients.secrets, cfg),
        tools: new LocalRedisTools({ env }),
        snapshots,
        exporter: r.mode === 'export' ? snapshots : undefined,
        exportPrefix: r.exportPrefix,
      };
    }
  } catch (err) {
    // Secret problems are failures too: alert, then rethrow.
    const message = redact(err instanceof Error ? err.message : String(err));
    log(`backup job could not start: ${message}`);
    await deps.metrics.publish([{ service: parsed.service, tier: parsed.tier, success: false }]).catch(() => undefined);
    // Still a PostgreSQL run: keep the restore-test age flowing (the bucket is known and readable here).
    if (parsed.service === 'postgresql') await publishRestoreTestMetrics({ metrics: deps.metrics, store, clock, log });
    await deps.notifier?.notify(`[bot-dr] ${parsed.service} ${parsed.tier} backup FAILED (${region})`, `The backup job could not start: ${message}\n\n${runbookLine('INC-007')}`).catch(() => undefined);
    throw err;
  }
  return runBackupJob(parsed, deps);
}

/** The restore-test event: scratch database on RESTORE_TEST_DB_HOST (default DB_HOST), same credentials. */
export async function runRestoreTest(event: unknown, env: Env, clients: AwsClients, clock: Clock = systemClock, log: Log = consoleLog): Promise<RestoreTestResult> {
  const parsed = parseAnyEvent(event, clock.now());
  if (parsed.action !== 'restore-test') throw new UsageError('not a restore-test event');
  const cfg = await configure('postgresql', 'restore-test', env, clients, log);
  const notifier = cfg.alertsTopicArn ? snsAlerts(clients, cfg.alertsTopicArn) : undefined;
  const metrics = new CloudWatchMetrics(clients.cloudwatch, cfg.metricsNamespace);
  const store = new S3Store({ bucket: cfg.bucket, env, region: cfg.region });
  let serverUrl: string;
  try {
    const url = await databaseUrl(env, clients.secrets, cfg);
    const u = new URL(url);
    if (cfg.postgres?.restoreTestHost) u.hostname = cfg.postgres.restoreTestHost;
    serverUrl = withDatabase(u.toString(), 'postgres');
  } catch (err) {
    const message = redact(err instanceof Error ? err.message : String(err));
    log(`restore test could not start: ${message}`);
    await notifier?.notify(`[bot-dr] postgresql restore test could not run (${cfg.region})`, `The restore test could not start: ${message}\n\n${runbookLine('INC-007')}`).catch(() => undefined);
    await publishRestoreTestMetrics({ metrics, store, clock, success: false, log });
    throw err;
  }
  const tools = new LocalPgTools({ env });
  return verifyRestore({
    temp: localTempFiles(),
    store,
    tools,
    // One job (the default) streams the verified backup into the scratch database: nothing on /tmp.
    jobs: cfg.restoreTestJobs,
    runner: runnerRecord(cfg),
    scratch: tools,
    scratchServerUrl: serverUrl,
    from: parsed.from,
    clock,
    notifier,
    metrics,
    where: cfg.region,
    log,
  });
}

/** Any event: backup (default) or restore-test. */
export async function runEvent(event: unknown, env: Env, clients: AwsClients, clock: Clock = systemClock, log: Log = consoleLog): Promise<JobResult | RestoreTestResult | SqlProbeAnswer> {
  if (isSqlProbeEvent(event)) return runSqlProbe(event, await databaseUrl(env, clients.secrets), env);
  const e = (event ?? {}) as Record<string, unknown>;
  return e.action === 'restore-test' ? runRestoreTest(event, env, clients, clock, log) : runJob(event, env, clients, clock, log);
}

/** The job's AWS clients in its region (DR_REGION, else AWS_REGION) and the peer RDS client for snapshot copies. */
export function awsClients(env: Env): AwsClients {
  const region = env.DR_REGION ?? env.AWS_REGION;
  return {
    secrets: new SecretsManagerClient({ region }),
    cloudwatch: new CloudWatchClient({ region }),
    sns: new SNSClient({ region }),
    rds: new RDSClient({ region }),
    peerRds: env.PEER_REGION ? new RDSClient({ region: env.PEER_REGION }) : undefined,
    elasticache: new ElastiCacheClient({ region }),
  };
}

/** The one-line summary a run logs (no secrets: keys, sizes, checksums, counts). */
export function runSummary(result: JobResult | RestoreTestResult | SqlProbeAnswer): Record<string, unknown> {
  if ('probe' in result) return { msg: 'probe answered', probe: result.probe, rows: result.rows.length };
  return 'manifest' in result ? { msg: 'restore test done', backup: result.manifest.key, restorability: result.manifest.restorability, tables: result.tables.length } : { msg: 'backup job done', ...result };
}

/** Lambda entry. */
export async function handler(event: unknown): Promise<JobResult | RestoreTestResult | SqlProbeAnswer> {
  const env = process.env;
  const result = await runEvent(event, env, awsClients(env));
  console.log(JSON.stringify(runSummary(result)));
  return result;
}
