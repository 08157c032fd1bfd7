/**
 * Builds the failover engine's AWS adapter set from the stacks' topology ({@link buildAwsTopology}).
 *
 * Every client is constructed with an explicit region (Route 53 always us-east-1, its control plane) and
 * bounded timeouts, so a region that does not answer fails fast instead of hanging a failover. Tests pass their
 * own (mocked) clients through {@link AwsClientFactories}.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { FailoverPorts, LeasePort } from '../../failover/index';
import { FileJournal } from '../tools/file-journal';
import { ElastiCacheGlobal } from './elasticache';
import { RdsDatabase, SqlProbe } from './rds';
import { ROUTE53_CONTROL_PLANE_REGION, Route53Failover } from './route53';
import { S3Journal } from './s3-journal';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ECRClient } from '@aws-sdk/client-ecr';
import { KMSClient } from '@aws-sdk/client-kms';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { S3Lease, type S3LeaseOptions } from './s3-lease';
import { SecretsManagerReplicas } from './secrets';
import { DbFenceGroups, SecurityGroupFence } from './sg-fence';
import { SnsNotifier } from './sns-notifier';
import { AwsStacks, StackDriver } from './stacks';
import { AwsTopology, awsRegion } from './topology';
import { AwsActiveTokenProbe, type AwsActiveTokenProbeOptions } from './bot-probe';
import type { Clock } from '../../core/clock';

export * from './topology';
export { AwsStacks, retargetChanges, probeStacks, CONFIG_KEYS } from './stacks';
export type { StackDriver, StackLike, StackUpdateSummary } from './stacks';
export { RdsDatabase } from './rds';
export type { SqlProbe } from './rds';
export { ElastiCacheGlobal } from './elasticache';
export { SecretsManagerReplicas } from './secrets';
export { SecurityGroupFence } from './sg-fence';
export { Route53Failover, ROUTE53_CONTROL_PLANE_REGION } from './route53';
export { SnsNotifier } from './sns-notifier';
export { S3Journal, JOURNAL_PREFIX } from './s3-journal';
export { S3Lease, LeaseHeldError, LeaseLostError, LEASE_KEY, LEASE_TTL_MS } from './s3-lease';
export type { LeaseIdentity, LeaseRecord, S3LeaseOptions } from './s3-lease';
export { AwsActiveTokenProbe, botSecretArns } from './bot-probe';
export { LambdaSqlProbe, fallbackSqlProbe } from './lambda-sql-probe';
export type { SqlProbeAnswer, SqlProbeEvent } from './lambda-sql-probe';
export { SQL_PROBES, SQL_PROBE_NAMES, sqlProbeNameOf } from './sql-probes';

/** Region → client. */
export interface AwsClientFactories {
  rds: (region: string) => RDSClient;
  cloudwatch: (region: string) => CloudWatchClient;
  elasticache: (region: string) => ElastiCacheClient;
  secretsManager: (region: string) => SecretsManagerClient;
  sns: (region: string) => SNSClient;
  s3: (region: string) => S3Client;
  route53: () => Route53Client;
  /** The backup-job Lambda, which answers SQL probes from inside the VPC (lambda-sql-probe.ts). */
  lambda?: (region: string) => LambdaClient;
  /** Readiness (issue 14): KMS key states, the job image, the schedules (readiness-jobs.ts). */
  kms?: (region: string) => KMSClient;
  ecr?: (region: string) => ECRClient;
  scheduler?: (region: string) => SchedulerClient;
}

/** Connection 3 s, request 20 s: an unreachable region answers "unreachable" quickly. */
export const CLIENT_TIMEOUTS = { connectionTimeout: 3_000, requestTimeout: 20_000 } as const;

function cached<C>(make: (region: string) => C): (region: string) => C {
  const m = new Map<string, C>();
  return (region) => {
    let c = m.get(region);
    if (!c) m.set(region, (c = make(region)));
    return c;
  };
}

/** Real clients (credentials from the default provider chain, resolved lazily at the first call). */
export function defaultClients(): AwsClientFactories {
  const base = (region: string) => ({ region, maxAttempts: 3, requestHandler: { ...CLIENT_TIMEOUTS } });
  const r53 = cached((region) => new Route53Client(base(region)));
  return {
    rds: cached((r) => new RDSClient(base(r))),
    cloudwatch: cached((r) => new CloudWatchClient(base(r))),
    elasticache: cached((r) => new ElastiCacheClient(base(r))),
    secretsManager: cached((r) => new SecretsManagerClient(base(r))),
    sns: cached((r) => new SNSClient(base(r))),
    s3: cached((r) => new S3Client(base(r))),
    route53: () => r53(ROUTE53_CONTROL_PLANE_REGION),
    lambda: cached((r) => new LambdaClient(base(r))),
    kms: cached((r) => new KMSClient(base(r))),
    ecr: cached((r) => new ECRClient(base(r))),
    scheduler: cached((r) => new SchedulerClient(base(r))),
  };
}

export interface AwsPortsOptions {
  topology: AwsTopology;
  /** The region taking over: its backup bucket holds the journal. */
  survivor: string;
  /** Local copy of the journal (e.g. `.dr/failover-journal`). */
  journalDir: string;
  driver: StackDriver;
  /** The Pulumi backend does not answer ({@link probeStacks}): no refresh, and `reconcile` stays pending. */
  stacksUnavailable?: string;
  clients?: AwsClientFactories;
  sql?: SqlProbe;
  /** The promoted instance's backup retention (stack config `database.backupRetentionDays`). */
  backupRetentionDays?: number;
  /** Make the promoted instance Multi-AZ (stack config `database.promotedMultiAz`, default true). */
  promotedMultiAz?: boolean;
  failoverId?: string;
  /** The cross-machine lease ({@link s3LeaseFor}); the engine takes it before acting. */
  lease?: LeasePort;
  clock?: Clock;
  log?: (line: string) => void;
  /** Test knobs: bounded waits and retry backoff. */
  waits?: { timeoutMs?: number; pollMs?: number };
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  stackRetry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /**
   * The bots (active-token probe, `active_region` in each region's copy, verify's checks): `false` leaves them out;
   * otherwise the real Telegram and Discord APIs, or the `apis` roots / a `prober` / a `targets` reader given here.
   */
  bots?: false | Pick<AwsActiveTokenProbeOptions, 'prober' | 'apis' | 'targets' | 'regionHosts'>;
}

/** Region → what the security-group fence needs, for the regions whose outputs carry the DB and fence groups. */
export function fenceGroups(t: AwsTopology): Record<string, DbFenceGroups | undefined> {
  const groups: Record<string, DbFenceGroups | undefined> = {};
  for (const r of t.regions) {
    if (r.dbSecurityGroupId && r.dbFenceSecurityGroupId) groups[r.region] = { dbIdentifier: r.dbIdentifier, securityGroupIds: [r.dbSecurityGroupId], fenceSecurityGroupId: r.dbFenceSecurityGroupId };
  }
  return groups;
}

/** The full AWS adapter set for the failover engine. */
export function awsFailoverPorts(o: AwsPortsOptions): FailoverPorts & { stacks: AwsStacks } {
  const clients = o.clients ?? defaultClients();
  const t = o.topology;
  const stacksByRegion: Record<string, string> = {};
  const roles: Record<string, string> = {};
  for (const r of t.regions) {
    stacksByRegion[r.region] = r.stack;
    roles[r.region] = r.role;
  }
  const wait = { waitTimeoutMs: o.waits?.timeoutMs, pollMs: o.waits?.pollMs };
  const stacks = new AwsStacks({ driver: o.driver, stacks: stacksByRegion, roles, clock: o.clock, retry: o.stackRetry, unavailable: o.stacksUnavailable });
  const survivor = awsRegion(t, o.survivor);
  const sgFence = new SecurityGroupFence({ rds: clients.rds, groups: fenceGroups(t), clock: o.clock, retry: o.retry, ...(o.waits?.pollMs !== undefined ? { pollMs: o.waits.pollMs } : {}), ...(o.waits?.timeoutMs !== undefined ? { waitTimeoutMs: o.waits.timeoutMs } : {}) });
  return {
    stacks,
    database: new RdsDatabase({ topology: t, rds: clients.rds, cloudwatch: clients.cloudwatch, sql: o.sql, promotedMultiAz: o.promotedMultiAz, backupRetentionDays: o.backupRetentionDays, failoverId: o.failoverId, sgFence, clock: o.clock, retry: o.retry, ...wait }),
    cache: new ElastiCacheGlobal({ topology: t, elasticache: clients.elasticache, clock: o.clock, retry: o.retry, ...wait }),
    secrets: new SecretsManagerReplicas({ secretsManager: clients.secretsManager, clock: o.clock, retry: o.retry }),
    dns: new Route53Failover({ topology: t, route53: clients.route53, clock: o.clock, retry: o.retry, ...wait }),
    notifier: new SnsNotifier({ topics: t.regions.map((r) => r.topicArn).filter((x): x is string => !!x), sns: clients.sns, clock: o.clock, retry: o.retry }),
    journal: new S3Journal({ bucket: survivor.bucketName, s3: clients.s3(survivor.region), local: new FileJournal(o.journalDir), log: o.log }),
    ...(o.lease ? { lease: o.lease } : {}),
    ...(o.bots === false ? {} : { bots: new AwsActiveTokenProbe({ topology: t, secretsManager: clients.secretsManager, clock: o.clock, retry: o.retry, ...o.bots }) }),
    ...(o.clock ? { clock: o.clock } : {}),
  };
}

/** The failover lease in `region`'s backup bucket (the region that serves, or is about to). */
export function s3LeaseFor(t: AwsTopology, region: string, clients: AwsClientFactories, o: Omit<S3LeaseOptions, 's3' | 'bucket'>): S3Lease {
  const r = awsRegion(t, region);
  return new S3Lease({ ...o, s3: clients.s3(r.region), bucket: r.bucketName });
}
