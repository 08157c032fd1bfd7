/**
 * The scheduled backup job's Lambda entry (`automation/lambda/handler.handler`, see docker/backup-job).
 * Event: `{ "service": "postgresql" | "redis", "tier": "daily" | "weekly" | "monthly" }` (tier defaults to
 * the date's tier: monthly on the 1st, weekly on Sundays, else daily).
 *
 * Like automation/main.ts this is an entry file: `handler` reads `process.env` and builds the AWS clients, then
 * everything else goes through {@link runJob} with env and clients injected (that is what the tests call).
 *
 * Environment (set by components/backup-jobs.ts; * = required for that service):
 *   DR_REGION*, BACKUP_BUCKET*, METRICS_NAMESPACE, ALERTS_TOPIC_ARN, SNAPSHOT_PREFIX,
 *   RETAIN_<SERVICE>_<TIER> (keep counts),
 *   PostgreSQL: DB_SECRET_ARN* (RDS-managed master secret: JSON username/password), DB_HOST*, DB_PORT, DB_NAME,
 *               DB_SSLMODE (default require), DB_INSTANCE_ID (enables weekly/monthly RDS snapshots),
 *               PEER_REGION + PEER_KMS_KEY_ARN (cross-region snapshot copy)
 *   Redis:      CACHE_HOST*, CACHE_PORT, CACHE_TLS (default true), CACHE_SECRET_ARN (auth token secret),
 *               CACHE_REPLICATION_GROUP_ID (enables ElastiCache snapshots)
 * Host/port/dbname are also taken from the secret when it carries them. Secrets are registered for redaction
 * and never logged.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { BACKUP_METRICS_NAMESPACE } from '../../lib/backup-metrics';
import { BACKUP_TIERS, BackupService, BackupTier } from '../../lib/lifecycle';
import { CloudWatchMetrics } from '../adapters/aws/metrics';
import { SnsNotifier } from '../adapters/aws/notifier';
import { S3Store } from '../adapters/aws/s3-store';
import { ElastiCacheSnapshots, RdsSnapshots } from '../adapters/aws/snapshots';
import { LocalPgTools } from '../adapters/local/pg-tools';
import { LocalRedisTools } from '../adapters/local/redis-tools';
import { JobDeps, JobResult, runBackupJob } from '../backup/job';
import { isService, isTier, tierFor } from '../backup/keys';
import { systemClock, Clock } from '../backup/ports';
import { validateKeep } from '../backup/retention';
import { redact, registerSecret } from '../cli/redact';

export interface AwsClients {
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
  sns: SNSClient;
  rds: RDSClient;
  peerRds?: RDSClient;
  elasticache: ElastiCacheClient;
}

type Env = Record<string, string | undefined>;

function need(env: Env, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`backup job misconfigured: environment variable ${name} is required`);
  return v;
}

export function parseEvent(event: unknown, now: Date): { service: BackupService; tier: BackupTier } {
  const e = (event ?? {}) as Record<string, unknown>;
  const service = e.service;
  if (typeof service !== 'string' || !isService(service)) throw new Error(`event.service must be postgresql|redis, got ${JSON.stringify(service)}`);
  const tier = e.tier ?? tierFor(now);
  if (typeof tier !== 'string' || !isTier(tier)) throw new Error(`event.tier must be ${BACKUP_TIERS.join('|')}, got ${JSON.stringify(tier)}`);
  return { service, tier };
}

async function readSecret(client: SecretsManagerClient, arn: string): Promise<Record<string, unknown>> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  if (!out.SecretString) throw new Error(`secret ${arn} has no string value`);
  let doc: unknown;
  try {
    doc = JSON.parse(out.SecretString);
  } catch {
    // A plain-string secret (e.g. a Redis auth token).
    registerSecret(out.SecretString);
    return { password: out.SecretString };
  }
  const rec = doc as Record<string, unknown>;
  if (typeof rec.password === 'string') registerSecret(rec.password);
  if (typeof rec.authToken === 'string') registerSecret(rec.authToken);
  return rec;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined);

export async function databaseUrl(env: Env, secrets: SecretsManagerClient): Promise<string> {
  const s = await readSecret(secrets, need(env, 'DB_SECRET_ARN'));
  const user = str(s.username);
  const password = str(s.password);
  if (!user || !password) throw new Error('database secret must be JSON with username and password');
  const host = env.DB_HOST ?? str(s.host);
  if (!host) throw new Error('backup job misconfigured: DB_HOST is required (the RDS-managed secret carries no host)');
  const port = env.DB_PORT ?? str(s.port) ?? '5432';
  const db = env.DB_NAME ?? str(s.dbname) ?? 'postgres';
  const sslmode = env.DB_SSLMODE ?? 'require';
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(db)}?sslmode=${encodeURIComponent(sslmode)}`;
}

export async function cacheUrl(env: Env, secrets: SecretsManagerClient): Promise<string> {
  const host = need(env, 'CACHE_HOST');
  const port = env.CACHE_PORT ?? '6379';
  let auth = '';
  if (env.CACHE_SECRET_ARN) {
    const s = await readSecret(secrets, env.CACHE_SECRET_ARN);
    const token = str(s.authToken) ?? str(s.password);
    if (token) auth = `:${encodeURIComponent(token)}@`;
  }
  return `${env.CACHE_TLS === 'false' ? 'redis' : 'rediss'}://${auth}${host}:${port}`;
}

/** The job with env, clients and clock injected. */
export async function runJob(event: unknown, env: Env, clients: AwsClients, clock: Clock = systemClock, log: (l: string) => void = (l) => console.log(redact(l))): Promise<JobResult> {
  const region = need(env, 'DR_REGION');
  const parsed = parseEvent(event, clock.now());
  const keepRaw: Record<string, unknown> = {};
  for (const t of BACKUP_TIERS) {
    const v = env[`RETAIN_${parsed.service.toUpperCase()}_${t.toUpperCase()}`];
    if (v) keepRaw[t] = Number(v);
  }
  const prefix = (env.SNAPSHOT_PREFIX ?? 'bot-dr-').replace(/-+$/, '');
  const deps: JobDeps = {
    store: new S3Store({ bucket: need(env, 'BACKUP_BUCKET'), env, region }),
    clock,
    keep: validateKeep(keepRaw, 'RETAIN'),
    metrics: new CloudWatchMetrics(clients.cloudwatch, env.METRICS_NAMESPACE ?? BACKUP_METRICS_NAMESPACE),
    notifier: env.ALERTS_TOPIC_ARN ? new SnsNotifier(clients.sns, env.ALERTS_TOPIC_ARN) : undefined,
    log,
    where: region,
  };
  try {
    if (parsed.service === 'postgresql') {
      const peer = env.PEER_REGION && env.PEER_KMS_KEY_ARN && clients.peerRds ? { rds: clients.peerRds, region: env.PEER_REGION, kmsKeyId: env.PEER_KMS_KEY_ARN } : undefined;
      deps.pg = {
        url: await databaseUrl(env, clients.secrets),
        tools: new LocalPgTools(),
        snapshots: env.DB_INSTANCE_ID ? new RdsSnapshots({ rds: clients.rds, region, instanceId: env.DB_INSTANCE_ID, prefix, peer }) : undefined,
      };
    } else {
      deps.redis = {
        url: await cacheUrl(env, clients.secrets),
        tools: new LocalRedisTools(),
        snapshots: env.CACHE_REPLICATION_GROUP_ID ? new ElastiCacheSnapshots({ client: clients.elasticache, replicationGroupId: env.CACHE_REPLICATION_GROUP_ID, prefix }) : undefined,
      };
    }
  } catch (err) {
    // Configuration/secret problems are failures too: alert, then rethrow.
    const message = redact(err instanceof Error ? err.message : String(err));
    log(`backup job could not start: ${message}`);
    await deps.metrics.publish([{ service: parsed.service, tier: parsed.tier, success: false }]).catch(() => undefined);
    await deps.notifier?.notify(`[bot-dr] ${parsed.service} ${parsed.tier} backup FAILED (${region})`, `The backup job could not start: ${message}`).catch(() => undefined);
    throw err;
  }
  return runBackupJob(parsed, deps);
}

/** Lambda entry. */
export async function handler(event: unknown): Promise<JobResult> {
  const env = process.env;
  const region = env.DR_REGION ?? env.AWS_REGION;
  const clients: AwsClients = {
    secrets: new SecretsManagerClient({ region }),
    cloudwatch: new CloudWatchClient({ region }),
    sns: new SNSClient({ region }),
    rds: new RDSClient({ region }),
    peerRds: env.PEER_REGION ? new RDSClient({ region: env.PEER_REGION }) : undefined,
    elasticache: new ElastiCacheClient({ region }),
  };
  const result = await runJob(event, env, clients);
  console.log(JSON.stringify({ msg: 'backup job done', ...result }));
  return result;
}
