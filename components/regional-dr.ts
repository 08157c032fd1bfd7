import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ConfigSource, loadConfig, StackConfig } from '../lib/config';
import { BACKUP_JOB_ENV } from '../lib/backup-job-env';
import { cacheReplicationGroupId, regionalBase, regionShortName } from '../lib/naming';
import { backupSchedules, RESTORE_TEST_SCHEDULE } from '../lib/lifecycle';
import { readinessJobNames, type ReadinessTargets } from '../lib/readiness';
import { PEER_OUTPUTS, StackOutputs } from '../lib/outputs';
import { decideRegionRoles, RegionRoles, ROUTE53_METRICS_REGION } from '../lib/roles';
import type { BackupJobsArgs } from './backup-jobs';
import { Alerts } from './alerts';
import { BackupAudit } from './backup-audit';
import { BackupBucket } from './backup-bucket';
import { BackupJobs } from './backup-jobs';
import { BotTokens, botTokenSecretName } from './bot-tokens';
import { Cache, CacheMode } from './cache';
import { Database, DatabaseMode } from './database';
import { DbCredentials } from './db-credentials';
import { FailoverDns } from './failover-dns';
import { Keys } from './keys';
import { Network, POSTGRES_PORT, REDIS_PORT } from './network';
import { TokenMonitor } from './token-monitor';
import { Readiness } from './readiness';

/** Arguments of {@link RegionalDr}. */
export interface RegionalDrArgs {
  /** The validated stack configuration ({@link loadConfig}). */
  config: StackConfig;
}

/** The stack outputs (names and ARNs only — never a secret value); exactly the names of lib/outputs.ts. */
export type RegionalDrOutputs = StackOutputs<{
  role: string;
  region: string;
  peerRegion: string;
  dbIdentifier: pulumi.Output<string>;
  dbEndpoint: pulumi.Output<string>;
  dbArn: pulumi.Output<string>;
  dbSecretArn: pulumi.Output<string | undefined>;
  cacheEndpoint: pulumi.Output<string>;
  cacheReplicationGroupId: pulumi.Output<string>;
  cacheAuthSecretArn: pulumi.Output<string>;
  globalDatastoreId: pulumi.Output<string | undefined>;
  bucketName: pulumi.Output<string>;
  bucketArn: pulumi.Output<string>;
  kmsKeyArn: pulumi.Output<string>;
  peerReplicaKmsKeyArn: pulumi.Output<string | undefined>;
  botTokenSecretArns: pulumi.Output<Record<string, string>>;
  healthCheckId: pulumi.Output<string | undefined>;
  topicArn: pulumi.Output<string>;
  backupFunctionName: pulumi.Output<string | undefined>;
  tokenMonitorFunctionName: pulumi.Output<string | undefined>;
  recordName: pulumi.Output<string | undefined>;
  hostedZoneId: string | undefined;
  vpcId: pulumi.Output<string>;
  subnetIds: pulumi.Output<string[]>;
  appSecurityGroupId: pulumi.Output<string>;
  backupSecurityGroupId: pulumi.Output<string>;
  /** The DB security group (what the failover's unfence restores on the instance). */
  dbSecurityGroupId: pulumi.Output<string>;
  /** The empty fence group the failover moves an old primary's instance onto. */
  dbFenceSecurityGroupId: pulumi.Output<string>;
}>;

/** `arn:aws:secretsmanager:<region>:...` → the same secret's replica ARN in `region` (same name and suffix). */
export function secretReplicaArn(arn: string, region: string): string {
  const parts = arn.split(':');
  if (parts.length < 7 || parts[2] !== 'secretsmanager') throw new Error(`not a Secrets Manager ARN: ${arn}`);
  parts[3] = region;
  return parts.join(':');
}

/**
 * One region of the DR pair, composed according to role:
 * - primary: KMS key, network, source DB, cache (owner of the global datastore if enabled), backup
 *   bucket replicating to the peer's, bot-token secrets replicated to the peer region, PRIMARY DNS record;
 * - secondary: same, but a cross-region read replica (or a promoted one) + replicated automated backups,
 *   a global-datastore member, and a SECONDARY DNS record; bot-token secrets only once promoted (it adopts the
 *   promoted replicas with `import`); before that it holds the primary's replicas and outputs `botTokenSecretArns` {};
 *   with bots declared, a token monitor in each (it acts on the active stack only);
 * - scratch: a restored DB, a standalone cache, a throw-away bucket; no replica, DNS, global datastore,
 *   peer replication or schedules.
 */
export class RegionalDr extends pulumi.ComponentResource {
  readonly outputs: RegionalDrOutputs;

  constructor(name: string, args: RegionalDrArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:index:RegionalDr', name, {}, opts);
    const region = createRegion(name, args.config, this);
    const keys = createKeys(name, region, this);
    const network = createNetwork(name, region, this);
    const { creds, db } = createDatabase(name, region, this, { keys, network });
    const cache = createCache(name, region, this, { keys, network });
    const bucket = createBackupBucket(name, region, this, { keys });
    const tokens = createBotTokens(name, region, this, { keys });
    const dns = createFailoverDns(name, region, this);

    // Alerts alarm on the backup job, and the job notifies the alerts topic: break the cycle with
    // deferred outputs for the job's names (no resource cycle: alarm -> function -> topic).
    const jobNames = region.roles.backupJobs ? deferredJobNames(args.config.backup.job.runner) : undefined;
    const alerts = createAlerts(name, region, this, { keys, db, dns, jobNames });
    let jobs: BackupJobs | undefined;
    if (jobNames) {
      jobs = createBackupJobs(name, region, this, { keys, network, creds, db, cache, bucket, alerts });
      // runner lambda: the function exists, so its name is always set.
      if (jobNames.fn) jobNames.fn[1](jobs.functionName as pulumi.Output<string>);
      if (jobNames.taskRule && jobs.taskFailureRuleName) jobNames.taskRule[1](jobs.taskFailureRuleName);
      jobNames.dlq[1](jobs.dlqName);
      createBackupAudit(name, region, this, { keys, bucket, alerts, jobs });
    }
    const monitor = jobs ? createTokenMonitor(name, region, this, { keys, tokens, alerts, jobs }) : undefined;
    const readiness = jobs ? createReadiness(name, region, this, { keys, creds, db, cache, bucket, dns, alerts, jobs }) : undefined;

    this.outputs = regionalDrOutputs(region, { keys, network, creds, db, cache, bucket, tokens, dns, alerts, jobs, monitor, readiness });
    this.registerOutputs({ ...this.outputs });
  }
}

/** What every part of one region is declared with ({@link createRegion}). */
interface Region {
  /** The validated stack configuration. */
  cfg: StackConfig;
  /** What this region declares, from its role ({@link decideRegionRoles}). */
  roles: RegionRoles;
  /** Default tags of the region's providers. */
  defaultTags: { tags: Record<string, string> };
  /** This region's provider: every AWS child of the region is created through it. */
  provider: aws.Provider;
  /** The peer region's provider (not for scratch). */
  peerProvider?: aws.Provider;
  /** A peer stack output by name ({@link PEER_OUTPUTS}); throws without a peer stack. */
  peerOut: (key: string) => pulumi.Output<string>;
}

/** The parts of a region that later parts and the outputs are wired from. */
interface RegionParts {
  keys: Keys;
  network: Network;
  creds?: DbCredentials;
  db: Database;
  cache: Cache;
  bucket: BackupBucket;
  tokens?: BotTokens;
  dns?: FailoverDns;
  alerts: Alerts;
  jobs?: BackupJobs;
  monitor?: TokenMonitor;
  readiness?: Readiness;
}

/** The roles, the providers of this region and the peer region, and the peer stack's outputs. */
function createRegion(name: string, cfg: StackConfig, parent: pulumi.Resource): Region {
  const roles = decideRegionRoles(cfg);
  const defaultTags = { tags: { project: 'bot-platform-dr', 'dr:region': cfg.region, 'dr:stack': pulumi.getStack(), ...cfg.tags } };
  const provider = new aws.Provider(`${name}-${regionShortName(cfg.region)}`, { region: cfg.region, defaultTags }, { parent });
  const peerProvider = !roles.peerRegionResources ? undefined : new aws.Provider(`${name}-${regionShortName(cfg.peerRegion)}`, { region: cfg.peerRegion, defaultTags }, { parent });
  const peer = roles.readsPeerStack ? new pulumi.StackReference(`${name}-peer`, { name: cfg.peerStack! }, { parent }) : undefined;
  const peerOut = (key: string): pulumi.Output<string> => {
    if (!peer) throw new Error(`bot-platform-dr:peerStack is required to read the peer's ${key}`);
    return peer.requireOutput(key).apply((v) => String(v));
  };
  return { cfg, roles, defaultTags, provider, peerProvider, peerOut };
}

/** The peer region's key (for the replicas this stack places there) as DbCredentials/Cache/BackupJobs take it. */
function peerKey(region: Region, keys: Keys): { region: string; kmsKeyArn: pulumi.Input<string> } | undefined {
  return keys.peerKeyArn ? { region: region.cfg.peerRegion, kmsKeyArn: keys.peerKeyArn } : undefined;
}

/** The region's KMS key, and a replica key in the peer region (not for scratch, whose key waits 7 days to be deleted). */
function createKeys(name: string, { cfg, roles, provider, peerProvider }: Region, parent: pulumi.Resource): Keys {
  return new Keys(
    `${name}-keys`,
    { provider, region: cfg.region, namePrefix: cfg.namePrefix, peer: peerProvider ? { provider: peerProvider, region: cfg.peerRegion } : undefined, deletionWindowInDays: roles.scratch ? 7 : 30 },
    { parent },
  );
}

/** The region's network (a scratch drill's names carry `-scratch`). */
function createNetwork(name: string, { cfg, roles, provider }: Region, parent: pulumi.Resource): Network {
  return new Network(`${name}-network`, { provider, region: cfg.region, namePrefix: cfg.namePrefix + (roles.scratch ? '-scratch' : ''), network: cfg.network }, { parent });
}

/**
 * The DB credentials and the database. Credentials that survive the primary region: the primary owns a generated
 * password in a secret replicated to the peer region; a secondary (replica or promoted) reads that replica by name.
 */
function createDatabase(name: string, region: Region, parent: pulumi.Resource, { keys, network }: Pick<RegionParts, 'keys' | 'network'>): { creds?: DbCredentials; db: Database } {
  const { cfg, roles, provider, peerOut } = region;
  const dbHost = roles.dbCredentials === 'owner' ? pulumi.deferredOutput<string>() : undefined;
  const creds =
    roles.dbCredentials === 'none'
      ? undefined
      : new DbCredentials(
          `${name}-db-credentials`,
          {
            provider,
            namePrefix: cfg.namePrefix,
            kmsKeyArn: keys.keyArn,
            mode:
              roles.dbCredentials === 'owner'
                ? { kind: 'owner', username: cfg.database.masterUsername, dbName: cfg.database.dbName, host: dbHost![0], peer: peerKey(region, keys) }
                : { kind: 'reader' },
          },
          { parent },
        );

  let dbMode: DatabaseMode;
  if (roles.database === 'primary') dbMode = { kind: 'primary', masterPassword: creds!.password! };
  else if (roles.database === 'promoted' || roles.database === 'replica') dbMode = { kind: roles.database, sourceDbArn: peerOut(PEER_OUTPUTS.dbArn) };
  else dbMode = { kind: 'scratch', restore: cfg.scratch! };
  const db = new Database(
    `${name}-db`,
    { provider, region: cfg.region, namePrefix: cfg.namePrefix, config: cfg.database, mode: dbMode, kmsKeyArn: keys.keyArn, subnetIds: network.subnetIds, securityGroupId: network.dbSecurityGroupId },
    { parent },
  );
  if (dbHost) dbHost[1](db.address);
  return { creds, db };
}

/**
 * The cache: owner of its auth token (and of the global datastore on the primary), a member of the peer's, or detached
 * (a former member that leads the next datastore after an unplanned failover). Member and detached read the auth
 * secret the peer outputs, in this region: the primary's replica (promoted by the failover once it moved here).
 */
function createCache(name: string, region: Region, parent: pulumi.Resource, { keys, network }: Pick<RegionParts, 'keys' | 'network'>): Cache {
  const { cfg, roles, provider, peerOut } = region;
  const peerAuthSecret = () => peerOut(PEER_OUTPUTS.cacheAuthSecretArn).apply((arn) => secretReplicaArn(arn, cfg.region));
  const mode: CacheMode =
    roles.cache === 'member'
      ? { kind: 'member', globalReplicationGroupId: peerOut(PEER_OUTPUTS.globalDatastoreId), authSecretArn: peerAuthSecret() }
      : roles.cache === 'detached'
        ? { kind: 'detached', authSecretArn: peerAuthSecret() }
        : { kind: 'owner', globalDatastore: roles.ownsGlobalDatastore, peer: peerKey(region, keys) };
  return new Cache(
    `${name}-cache`,
    {
      provider,
      region: cfg.region,
      namePrefix: cfg.namePrefix,
      config: cfg.cache,
      mode,
      scratch: roles.scratch,
      kmsKeyArn: keys.keyArn,
      subnetIds: network.subnetIds,
      securityGroupId: network.cacheSecurityGroupId,
    },
    { parent },
  );
}

/** The backup bucket, replicating to the peer's bucket when the peer stack names it. */
function createBackupBucket(name: string, region: Region, parent: pulumi.Resource, { keys }: Pick<RegionParts, 'keys'>): BackupBucket {
  const { cfg, roles, provider, peerOut } = region;
  const scratch = roles.scratch;
  return new BackupBucket(
    `${name}-backups`,
    {
      provider,
      region: cfg.region,
      kmsKeyArn: keys.keyArn,
      retention: { postgresql: cfg.backup.postgresql, redis: cfg.backup.redis, configDays: cfg.backup.configDays },
      objectLock: cfg.backup.objectLock,
      replication: roles.replicateBackupsToPeer
        ? { destinationBucketArn: peerOut(PEER_OUTPUTS.bucketArn), destinationKmsKeyArn: peerOut(PEER_OUTPUTS.kmsKeyArn), destinationRegion: cfg.peerRegion }
        : undefined,
      bucketPrefix: `${cfg.namePrefix}-${regionShortName(cfg.region)}-backups${scratch ? '-s' : ''}`,
      // The backup job's Redis copy is an ElastiCache export (ElastiCache refuses SYNC); scratch runs no job.
      elastiCacheExportPrefix: scratch ? undefined : BACKUP_JOB_ENV.CACHE_EXPORT_PREFIX.default,
      forceDestroy: scratch,
    },
    { parent },
  );
}

/**
 * Bot tokens are owned by the ACTIVE stack (lib/config.ts enforces it): the primary creates them (seeded from
 * `botTokens`) and replicates them to the peer region under the same names; a secondary promoted by a failover
 * adopts the promoted replicas in its region (`import` by name, no value: the token engine owns it) in the very
 * apply that promotes it, because it declares the same (non-secret) bot list; a scratch drill keeps its own
 * throw-away copies. All but scratch are retained when a stack stops declaring them (docs/infra-notes.md).
 */
function createBotTokens(name: string, { cfg, roles, provider }: Region, parent: pulumi.Resource, { keys }: Pick<RegionParts, 'keys'>): BotTokens | undefined {
  if (roles.botTokens === 'none') return undefined;
  const scratch = roles.scratch;
  return new BotTokens(
    `${name}-bot-tokens`,
    {
      provider,
      kmsKeyArn: keys.keyArn,
      peerRegion: roles.replicateTokensToPeer ? cfg.peerRegion : undefined,
      peerKmsKeyArn: roles.replicateTokensToPeer ? keys.peerKeyArn : undefined,
      // An adopted secret's value is the token engine's: no seed tokens (a promoted secondary needs none in config).
      bots: cfg.bots.map((b) => ({ name: b.name, platform: b.platform, ...(roles.adoptTokens ? {} : { tokens: b.tokens }) })),
      namePrefix: scratch ? `${cfg.namePrefix}-scratch` : cfg.namePrefix,
      recoveryWindowInDays: scratch ? 0 : 30,
      adopt: roles.adoptTokens,
      // The creating (active) stack's region consumes first; the peer's workers read the replica and wait.
      ...(scratch ? {} : { activeRegion: cfg.region }),
      retainOnDelete: !scratch,
    },
    { parent },
  );
}

/** Route 53 failover DNS for this region (configured, and not scratch). */
function createFailoverDns(name: string, { cfg, roles, provider }: Region, parent: pulumi.Resource): FailoverDns | undefined {
  if (!cfg.dns || !roles.dns) return undefined;
  return new FailoverDns(
    `${name}-dns`,
    {
      provider,
      role: cfg.role,
      region: cfg.region,
      hostedZoneId: cfg.dns.hostedZoneId,
      recordName: cfg.dns.recordName,
      endpoint: cfg.dns.endpoint,
      healthCheckPath: cfg.dns.healthCheckPath,
      healthCheckPort: cfg.dns.healthCheckPort,
      ttl: cfg.dns.ttl,
    },
    { parent },
  );
}

/**
 * The deferred names of the backup job's function (runner lambda) or task-failure rule (runner fargate) and of its
 * dead-letter queue (resolved once the job is declared).
 */
type Deferred = ReturnType<typeof pulumi.deferredOutput<string>>;
type JobNames = { fn?: Deferred; taskRule?: Deferred; dlq: Deferred };

function deferredJobNames(runner: 'lambda' | 'fargate'): JobNames {
  return runner === 'lambda' ? { fn: pulumi.deferredOutput<string>(), dlq: pulumi.deferredOutput<string>() } : { taskRule: pulumi.deferredOutput<string>(), dlq: pulumi.deferredOutput<string>() };
}

/**
 * The alerts. A promoted secondary is the writable region now (`activeRole` primary): its backup-age alarms treat
 * missing data as breaching. (Its DNS record stays SECONDARY; health checks decide routing.)
 */
function createAlerts(
  name: string,
  { cfg, roles, provider, peerProvider, defaultTags }: Region,
  parent: pulumi.Resource,
  { keys, db, dns, jobNames }: Pick<RegionParts, 'keys' | 'db' | 'dns'> & { jobNames?: JobNames },
): Alerts {
  const usEast1Provider =
    roles.usEast1Provider === 'peer' ? peerProvider : roles.usEast1Provider === 'extra' ? new aws.Provider(`${name}-use1`, { region: ROUTE53_METRICS_REGION, defaultTags }, { parent }) : undefined;
  return new Alerts(
    `${name}-alerts`,
    {
      provider,
      region: cfg.region,
      role: roles.activeRole,
      namePrefix: roles.scratch ? `${cfg.namePrefix}-scratch` : cfg.namePrefix,
      kmsKeyArn: keys.keyArn,
      emails: cfg.alerts.emails,
      webhookUrl: cfg.alerts.webhookUrl ? pulumi.secret(cfg.alerts.webhookUrl) : undefined,
      healthCheckId: dns?.healthCheckId,
      usEast1Provider,
      replicaDbIdentifier: roles.replicaLagAlarm ? db.identifier : undefined,
      replicaLagSeconds: cfg.alerts.replicaLagSeconds,
      dbInstanceIdentifier: db.identifier,
      dbAllocatedStorageGb: cfg.database.allocatedStorage,
      backupFunctionName: jobNames?.fn?.[0],
      backupTaskFailureRuleName: jobNames?.taskRule?.[0],
      backupDlqName: jobNames?.dlq[0],
      backupAgeAlarms: roles.backupJobs,
    },
    { parent },
  );
}

/** The job's runner and size from `backup.*` (lib/config.ts; validated there against the runner's limits). */
function backupJobSizing(job: StackConfig['backup']['job']): Pick<BackupJobsArgs, 'runner' | 'memoryMb' | 'timeoutSeconds' | 'ephemeralStorageMb' | 'cpu' | 'ephemeralStorageGb' | 'restoreTestJobs'> {
  const common = { runner: job.runner, memoryMb: job.memoryMb, timeoutSeconds: job.timeoutSeconds, restoreTestJobs: job.restoreTestJobs };
  return job.runner === 'lambda' ? { ...common, ephemeralStorageMb: job.ephemeralStorageGb * 1024 } : { ...common, cpu: job.cpu, ephemeralStorageGb: job.ephemeralStorageGb };
}

/** Backup jobs (not for scratch): schedules ENABLED only for the active role primary (BackupJobs decides). */
function createBackupJobs(
  name: string,
  region: Region,
  parent: pulumi.Resource,
  { keys, network, creds, db, cache, bucket, alerts }: Pick<RegionParts, 'keys' | 'network' | 'creds' | 'db' | 'cache' | 'bucket' | 'alerts'>,
): BackupJobs {
  const { cfg, roles, provider } = region;
  return new BackupJobs(
    `${name}-backup-jobs`,
    {
      provider,
      region: cfg.region,
      role: roles.activeRole,
      namePrefix: `${cfg.namePrefix}-${regionShortName(cfg.region)}`,
      kmsKeyArn: keys.keyArn,
      bucketName: bucket.bucketName,
      bucketArn: bucket.arn,
      subnetIds: network.subnetIds,
      securityGroupIds: [network.backupSecurityGroupId],
      // The DB secret in the job's OWN region (the primary's, or its replica here): it outlives the other region.
      dbSecretArn: creds!.secretArn,
      dbInstanceArn: db.arn,
      database: { host: db.address, port: POSTGRES_PORT, name: cfg.database.dbName, instanceId: db.identifier },
      cache: { host: cache.endpoint, port: REDIS_PORT, tls: true },
      peer: peerKey(region, keys),
      cacheAuthSecretArn: cache.authSecretArn,
      cacheReplicationGroupId: cache.replicationGroupId,
      alertsTopicArn: alerts.topicArn,
      retention: { postgresql: cfg.backup.postgresql, redis: cfg.backup.redis, configDays: cfg.backup.configDays },
      postgresMajorVersion: Number(cfg.database.parameterGroupFamily.replace('postgres', '')),
      ...backupJobSizing(cfg.backup.job),
    },
    { parent },
  );
}

/**
 * The backup bucket's audit (every role that runs the backup job, so not scratch: a drill's throw-away bucket has no
 * job whose deletes are expected): server access logs into a log bucket of the region, a trail of the deletes of
 * backups, and an alarm on those made by anyone but the job's role.
 */
function createBackupAudit(name: string, { cfg, provider }: Region, parent: pulumi.Resource, { keys, bucket, alerts, jobs }: Pick<RegionParts, 'keys' | 'bucket' | 'alerts'> & { jobs: BackupJobs }): BackupAudit {
  return new BackupAudit(
    `${name}-backup-audit`,
    {
      provider,
      region: cfg.region,
      namePrefix: cfg.namePrefix,
      kmsKeyArn: keys.keyArn,
      bucketName: bucket.bucketName,
      bucketArn: bucket.arn,
      jobRoleName: jobs.roleName,
      alertsTopicArn: alerts.topicArn,
    },
    { parent },
  );
}

/**
 * The token monitor (when the stack declares bots; not for scratch, which runs no job image): in BOTH regions, on the
 * backup job's image. It reads each bot's secret in its own region — by ARN where this stack owns or adopted it, by
 * its deterministic name otherwise (a replica of the primary's: same name) — and acts only when this stack is the
 * active one (the primary, or a promoted secondary) and those secrets are writable.
 */
function createTokenMonitor(
  name: string,
  { cfg, roles, provider }: Region,
  parent: pulumi.Resource,
  { keys, tokens, alerts, jobs }: Pick<RegionParts, 'keys' | 'tokens' | 'alerts'> & { jobs: BackupJobs },
): TokenMonitor | undefined {
  if (cfg.bots.length === 0) return undefined;
  return new TokenMonitor(
    `${name}-token-monitor`,
    {
      provider,
      region: cfg.region,
      active: roles.activeRole === 'primary',
      namePrefix: `${cfg.namePrefix}-${regionShortName(cfg.region)}`,
      kmsKeyArn: keys.keyArn,
      imageUri: jobs.imageUri,
      bots: cfg.bots.map((b) => {
        const secretName = botTokenSecretName(cfg.namePrefix, b.name);
        return {
          name: b.name,
          platform: b.platform,
          secretName,
          secretId: tokens ? tokens.secretArns.apply((arns) => arns[b.name] ?? secretName) : secretName,
          mode: b.mode,
          ...(b.webhookUrl ? { webhookUrl: b.webhookUrl } : {}),
          channels: b.channels,
          permissions: b.permissions,
        };
      }),
      alertsTopicArn: alerts.topicArn,
      // The image's repository policy (Lambda's pull permission) is the job's: wait for it.
      dependsOn: [jobs],
    },
    { parent },
  );
}

const READINESS_SCHEDULES = [...backupSchedules().map((s) => `${s.service}-${s.tier}`), RESTORE_TEST_SCHEDULE.name];

/**
 * Readiness (issue 14) in both regions of the pair (not scratch; it needs the peer stack: the pair is what it
 * observes), on the backup job's image. Its targets are this region's parts and the peer's from the peer stack's
 * outputs (DB, bucket, key, secrets); the rest follows the naming rules (lib/naming.ts: the cache group, the jobs).
 */
function createReadiness(
  name: string,
  { cfg, roles, provider, peerOut }: Region,
  parent: pulumi.Resource,
  { keys, creds, db, cache, bucket, dns, alerts, jobs }: Pick<RegionParts, 'keys' | 'creds' | 'db' | 'cache' | 'bucket' | 'dns' | 'alerts'> & { jobs: BackupJobs },
): Readiness | undefined {
  if (!roles.readsPeerStack) return undefined;
  const withBots = cfg.bots.length > 0;
  const own = { region: cfg.region, role: cfg.role, dbIdentifier: db.identifier, bucketName: bucket.bucketName, kmsKeyArn: keys.keyArn };
  const peer = { region: cfg.peerRegion, role: cfg.role === 'primary' ? 'secondary' : 'primary', dbIdentifier: peerOut(PEER_OUTPUTS.dbArn).apply((a) => a.split(':').pop()!), bucketName: peerOut(PEER_OUTPUTS.bucketArn).apply((a) => a.split(':').pop()!), kmsKeyArn: peerOut(PEER_OUTPUTS.kmsKeyArn) };
  // The replicated secrets are read where they are owned: the primary-role stack's (this one's, or the peer's).
  const owner = cfg.role === 'primary';
  const dbSecret = owner ? (creds ? creds.secretArn : pulumi.output(undefined)) : peerOut(PEER_OUTPUTS.dbSecretArn);
  const cacheSecret = owner ? cache.authSecretArn : peerOut(PEER_OUTPUTS.cacheAuthSecretArn);
  const region = (r: { region: string; role: string }, o: { dbIdentifier: string; bucketName: string; kmsKeyArn: string }) => ({
    ...r,
    ...o,
    cacheReplicationGroupId: cacheReplicationGroupId(cfg.namePrefix, r.region),
    jobs: readinessJobNames(regionalBase(cfg.namePrefix, r.region), READINESS_SCHEDULES, withBots),
  });
  const targets = pulumi
    .all([pulumi.all([own.dbIdentifier, own.bucketName, own.kmsKeyArn, peer.dbIdentifier, peer.bucketName, peer.kmsKeyArn]), pulumi.all([dbSecret, cacheSecret, cache.globalReplicationGroupId, dns ? dns.recordName : pulumi.output(undefined)])])
    .apply(([[dbId, bucketName, kmsKeyArn, peerDb, peerBucket, peerKey], [dbSecretArn, cacheSecretArn, globalId, recordName]]): ReadinessTargets => {
      const regions = [region(own, { dbIdentifier: dbId, bucketName, kmsKeyArn }), region(peer, { dbIdentifier: peerDb, bucketName: peerBucket, kmsKeyArn: peerKey })];
      return {
        regions: (owner ? regions : [regions[1], regions[0]]) as ReadinessTargets['regions'],
        rpoSeconds: cfg.alerts.replicaLagSeconds,
        ...(globalId ? { globalDatastoreId: globalId } : {}),
        ...(cfg.dns && recordName ? { dns: { zoneId: cfg.dns.hostedZoneId, recordName, ttl: cfg.dns.ttl } } : {}),
        secrets: [
          ...(dbSecretArn && !/:secret:rds!/.test(dbSecretArn) ? [{ label: 'db-credentials', secret: dbSecretArn }] : []),
          ...(cacheSecretArn ? [{ label: 'cache-auth', secret: cacheSecretArn }] : []),
        ],
        bots: cfg.bots.map((b) => ({ bot: b.name, platform: b.platform, secret: botTokenSecretName(cfg.namePrefix, b.name), channels: b.channels, webhook: !!b.webhookUrl })),
      };
    });
  return new Readiness(
    `${name}-readiness`,
    {
      provider,
      region: cfg.region,
      namePrefix: cfg.namePrefix,
      kmsKeyArn: keys.keyArn,
      imageUri: jobs.imageUri,
      bucketName: bucket.bucketName,
      targets,
      botSecretNames: cfg.bots.map((b) => botTokenSecretName(cfg.namePrefix, b.name)),
      alertsTopicArn: alerts.topicArn,
      dependsOn: [jobs],
    },
    { parent },
  );
}

/** The stack outputs (lib/outputs.ts): names, endpoints and ARNs of the region's parts. */
function regionalDrOutputs({ cfg, roles }: Region, p: RegionParts): RegionalDrOutputs {
  return {
    role: cfg.role,
    region: cfg.region,
    peerRegion: cfg.peerRegion,
    dbIdentifier: p.db.identifier,
    dbEndpoint: p.db.endpoint,
    dbArn: p.db.arn,
    dbSecretArn: p.creds ? p.creds.secretArn : p.db.masterSecretArn,
    cacheEndpoint: p.cache.endpoint,
    cacheReplicationGroupId: p.cache.replicationGroupId,
    cacheAuthSecretArn: p.cache.authSecretArn,
    globalDatastoreId: p.cache.globalReplicationGroupId,
    bucketName: p.bucket.bucketName,
    bucketArn: p.bucket.arn,
    kmsKeyArn: p.keys.keyArn,
    peerReplicaKmsKeyArn: p.keys.peerKeyArn ?? pulumi.output(undefined),
    botTokenSecretArns: p.tokens ? p.tokens.secretArns : pulumi.output<Record<string, string>>({}),
    healthCheckId: p.dns ? p.dns.healthCheckId : pulumi.output(undefined),
    topicArn: p.alerts.topicArn,
    backupFunctionName: p.jobs ? p.jobs.functionName : pulumi.output(undefined),
    tokenMonitorFunctionName: p.monitor ? p.monitor.functionName : pulumi.output(undefined),
    recordName: p.dns ? p.dns.recordName : pulumi.output(undefined),
    hostedZoneId: cfg.dns && roles.dns ? cfg.dns.hostedZoneId : undefined,
    vpcId: p.network.vpcId,
    subnetIds: p.network.subnetIds,
    appSecurityGroupId: p.network.appSecurityGroupId,
    backupSecurityGroupId: p.network.backupSecurityGroupId,
    dbSecurityGroupId: p.network.dbSecurityGroupId,
    dbFenceSecurityGroupId: p.network.dbFenceSecurityGroupId,
  };
}

/**
 * The whole program: validate config (throws a ConfigError naming every bad key before any resource is
 * declared), build one RegionalDr, return its stack outputs. `index.ts` exports the result.
 */
export function buildStack(source?: ConfigSource): RegionalDrOutputs {
  const config = loadConfig(source);
  return new RegionalDr('bot-dr', { config }).outputs;
}
