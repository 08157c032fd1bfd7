/**
 * Readiness on AWS from the operator's machine (`dr readiness`, the failover's preflight): the targets from both
 * stacks' outputs and config (lib/readiness.ts `ReadinessTargets`, the same document the `readiness` Lambda gets in
 * its environment), then one engine run over the AWS observer. The bots are probed from here, reading their
 * records from the standby region's replicas.
 */
import { backupSchedules, RESTORE_TEST_SCHEDULE } from '../../lib/lifecycle';
import { readinessJobNames, type ReadinessBotTarget, type ReadinessTargets } from '../../lib/readiness';
import type { AwsClientFactories } from '../adapters/aws/index';
import { awsReadinessObserver, type JobsProbe, type KmsKeyProbe } from '../adapters/aws/readiness-observer';
import { awsJobsProbe, awsKmsKeyProbe } from '../adapters/aws/readiness-jobs';
import type { StackLike } from '../adapters/aws/stacks';
import type { BuiltTopology } from '../adapters/aws/topology';
import type { Clock } from '../core/clock';
import { runReadiness, type ReadinessReport } from '../readiness/index';

/** What the stacks' config adds to their outputs (all optional: `--outputs-dir` has none of it). */
export interface ReadinessConfigView {
  /** `alerts.replicaLagSeconds`: the RPO budget. */
  rpoSeconds?: number;
  /** `dns.ttl`. */
  ttl?: number;
  /** `bots`: platform, channels, whether a webhook is configured. */
  bots?: Array<{ bot: string; platform: 'telegram' | 'discord'; channels: string[]; webhook: boolean }>;
}

const SCHEDULES = [...backupSchedules().map((s) => `${s.service}-${s.tier}`), RESTORE_TEST_SCHEDULE.name];

/**
 * The `bots` config value as Pulumi stores it (JSON): the list form (`[a, b]`, every bot on Telegram) or the object
 * form (`{ bot: { platform, channels, webhookUrl } }`). Tolerant: what it cannot read is left out (the checks then
 * say what is not known). The webhook URL itself is never kept, only whether there is one.
 */
export function botsFromConfig(raw: string | undefined): ReadinessConfigView['bots'] {
  if (!raw) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = raw.split(',').map((s) => s.trim()).filter(Boolean);
  }
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string').map((bot) => ({ bot, platform: 'telegram' as const, channels: [], webhook: false }));
  if (!v || typeof v !== 'object') return undefined;
  return Object.entries(v as Record<string, unknown>).map(([bot, s]) => {
    const o = (s && typeof s === 'object' ? s : {}) as { platform?: unknown; channels?: unknown; webhookUrl?: unknown };
    return {
      bot,
      platform: o.platform === 'discord' ? 'discord' : 'telegram',
      channels: Array.isArray(o.channels) ? o.channels.map((c) => String(c)) : [],
      webhook: typeof o.webhookUrl === 'string' && o.webhookUrl !== '',
    };
  });
}

/** The readiness targets of both stacks: their outputs, plus what their config says. */
export function readinessTargetsFromTopology(built: BuiltTopology, cfg: ReadinessConfigView = {}): ReadinessTargets {
  const t = built.aws;
  const owner = t.regions.find((r) => r.role === 'primary') ?? t.regions[0];
  const secretOf = (pick: (r: (typeof t.regions)[number]) => string | undefined) => pick(owner) ?? t.regions.map(pick).find((x) => x);
  const db = secretOf((r) => r.dbSecretArn);
  // topology.ts keeps the cache auth secret's ARN on the region as an extra field.
  const cacheAuth = secretOf((r) => (r as typeof r & { cacheAuthSecretArn?: string }).cacheAuthSecretArn);
  const botArns = new Map<string, string>();
  for (const r of t.regions) for (const [bot, arn] of Object.entries(r.botTokenSecrets)) if (!botArns.has(bot)) botArns.set(bot, arn);
  const names = new Set([...botArns.keys(), ...(cfg.bots ?? []).map((b) => b.bot)]);
  const bots: ReadinessBotTarget[] = [...names].sort().flatMap((bot) => {
    const c = cfg.bots?.find((b) => b.bot === bot);
    const secret = botArns.get(bot);
    if (!secret) return [];
    return [{ bot, secret, channels: c?.channels ?? [], ...(c ? { platform: c.platform, webhook: c.webhook } : {}) }];
  });
  return {
    regions: t.regions.map((r) => ({
      region: r.region,
      role: r.role,
      dbIdentifier: r.dbIdentifier,
      bucketName: r.bucketName,
      ...(r.kmsKeyArn ? { kmsKeyArn: r.kmsKeyArn } : {}),
      ...(r.cacheReplicationGroupId ? { cacheReplicationGroupId: r.cacheReplicationGroupId } : {}),
      ...(r.healthCheckId ? { healthCheckId: r.healthCheckId } : {}),
      // The physical names follow <prefix>-<region short>-…: the DB identifier's stem is that base.
      jobs: readinessJobNames(r.dbIdentifier.replace(/-pg$/, ''), SCHEDULES, bots.length > 0),
    })) as ReadinessTargets['regions'],
    rpoSeconds: cfg.rpoSeconds ?? 900,
    ...(t.cacheGlobalId ? { globalDatastoreId: t.cacheGlobalId } : {}),
    ...(t.dns ? { dns: { zoneId: t.dns.zone, recordName: t.dns.record, ...(cfg.ttl !== undefined ? { ttl: cfg.ttl } : {}) } } : {}),
    secrets: [...(db && !/:secret:rds!/.test(db) ? [{ label: 'db-credentials', secret: db }] : []), ...(cacheAuth ? [{ label: 'cache-auth', secret: cacheAuth }] : [])],
    bots,
  };
}

/** The stacks' config that readiness reads (each key may be missing; a stack that does not answer gives nothing). */
export async function readinessConfig(stacks: Record<'primary' | 'secondary', StackLike> | undefined): Promise<ReadinessConfigView> {
  if (!stacks) return {};
  const get = async (key: string, path: boolean): Promise<string | undefined> => {
    for (const s of [stacks.primary, stacks.secondary]) {
      const v = await s.getConfig(`bot-platform-dr:${key}`, path).catch(() => undefined);
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  };
  const num = (v: string | undefined) => (v !== undefined && Number.isFinite(Number(v)) ? Number(v) : undefined);
  const [rpo, ttl, bots] = await Promise.all([get('alerts.replicaLagSeconds', true), get('dns.ttl', true), get('bots', false)]);
  const out: ReadinessConfigView = {};
  if (num(rpo) !== undefined) out.rpoSeconds = num(rpo);
  if (num(ttl) !== undefined) out.ttl = num(ttl);
  const b = botsFromConfig(bots);
  if (b) out.bots = b;
  return out;
}

export interface AwsReadinessOptions {
  built: BuiltTopology;
  config?: ReadinessConfigView;
  clients: AwsClientFactories;
  apis?: { telegram?: string; discord?: string };
  kms?: KmsKeyProbe;
  jobs?: JobsProbe;
  clock?: Clock;
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
}

/** One readiness run over both stacks. */
export function awsReadiness(o: AwsReadinessOptions): Promise<ReadinessReport> {
  const targets = readinessTargetsFromTopology(o.built, o.config);
  const { kms, ecr, lambda, scheduler } = o.clients;
  const kmsProbe = o.kms ?? (kms ? awsKmsKeyProbe(kms) : undefined);
  const jobsProbe = o.jobs ?? (ecr && lambda && scheduler ? awsJobsProbe({ ecr, lambda, scheduler }) : undefined);
  const observer = awsReadinessObserver({ targets, clients: o.clients, ...(o.apis ? { apis: o.apis } : {}), ...(kmsProbe ? { kms: kmsProbe } : {}), ...(jobsProbe ? { jobs: jobsProbe } : {}), ...(o.clock ? { clock: o.clock } : {}), ...(o.retry ? { retry: o.retry } : {}) });
  return runReadiness(observer, o.clock ? { clock: o.clock } : {});
}
