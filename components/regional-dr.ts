import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ConfigSource, loadConfig, StackConfig } from '../lib/config';
import { BACKUP_JOB_ENV } from '../lib/backup-job-env';
import { regionShortName } from '../lib/naming';
import { PEER_OUTPUTS, StackOutputs } from '../lib/outputs';
import { decideRegionRoles, ROUTE53_METRICS_REGION } from '../lib/roles';
import { Alerts } from './alerts';
import { BackupBucket } from './backup-bucket';
import { BackupJobs } from './backup-jobs';
import { BotTokens } from './bot-tokens';
import { Cache, CacheMode } from './cache';
import { Database, DatabaseMode } from './database';
import { DbCredentials } from './db-credentials';
import { FailoverDns } from './failover-dns';
import { Keys } from './keys';
import { Network, POSTGRES_PORT, REDIS_PORT } from './network';

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
 * - scratch: a restored DB, a standalone cache, a throw-away bucket; no replica, DNS, global datastore,
 *   peer replication or schedules.
 */
export class RegionalDr extends pulumi.ComponentResource {
  readonly outputs: RegionalDrOutputs;

  constructor(name: string, args: RegionalDrArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:index:RegionalDr', name, {}, opts);
    const cfg = args.config;
    const roles = decideRegionRoles(cfg);
    const scratch = roles.scratch;
    const defaultTags = { tags: { project: 'bot-platform-dr', 'dr:region': cfg.region, 'dr:stack': pulumi.getStack(), ...cfg.tags } };
    const provider = new aws.Provider(`${name}-${regionShortName(cfg.region)}`, { region: cfg.region, defaultTags }, { parent: this });
    const peerProvider = !roles.peerRegionResources ? undefined : new aws.Provider(`${name}-${regionShortName(cfg.peerRegion)}`, { region: cfg.peerRegion, defaultTags }, { parent: this });
    const peer = roles.readsPeerStack ? new pulumi.StackReference(`${name}-peer`, { name: cfg.peerStack! }, { parent: this }) : undefined;
    const peerOut = (key: string): pulumi.Output<string> => {
      if (!peer) throw new Error(`bot-platform-dr:peerStack is required to read the peer's ${key}`);
      return peer.requireOutput(key).apply((v) => String(v));
    };
    const child = { parent: this };

    const keys = new Keys(
      `${name}-keys`,
      { provider, region: cfg.region, namePrefix: cfg.namePrefix, peer: peerProvider ? { provider: peerProvider, region: cfg.peerRegion } : undefined, deletionWindowInDays: scratch ? 7 : 30 },
      child,
    );
    const network = new Network(`${name}-network`, { provider, region: cfg.region, namePrefix: cfg.namePrefix + (scratch ? '-scratch' : ''), network: cfg.network }, child);

    // DB credentials that survive the primary region: the primary owns a generated password in a secret
    // replicated to the peer region; a secondary (replica or promoted) reads that replica by name.
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
                ? {
                    kind: 'owner',
                    username: cfg.database.masterUsername,
                    dbName: cfg.database.dbName,
                    host: dbHost![0],
                    peer: keys.peerKeyArn ? { region: cfg.peerRegion, kmsKeyArn: keys.peerKeyArn } : undefined,
                  }
                : { kind: 'reader' },
          },
          child,
        );

    let dbMode: DatabaseMode;
    if (roles.database === 'primary') dbMode = { kind: 'primary', masterPassword: creds!.password! };
    else if (roles.database === 'promoted' || roles.database === 'replica') dbMode = { kind: roles.database, sourceDbArn: peerOut(PEER_OUTPUTS.dbArn) };
    else dbMode = { kind: 'scratch', restore: cfg.scratch! };
    const db = new Database(
      `${name}-db`,
      { provider, region: cfg.region, namePrefix: cfg.namePrefix, config: cfg.database, mode: dbMode, kmsKeyArn: keys.keyArn, subnetIds: network.subnetIds, securityGroupId: network.dbSecurityGroupId },
      child,
    );
    if (dbHost) dbHost[1](db.address);

    let cacheMode: CacheMode;
    if (roles.cache === 'member') {
      cacheMode = {
        kind: 'member',
        globalReplicationGroupId: peerOut(PEER_OUTPUTS.globalDatastoreId),
        authSecretArn: peerOut(PEER_OUTPUTS.cacheAuthSecretArn).apply((arn) => secretReplicaArn(arn, cfg.region)),
      };
    } else {
      cacheMode = {
        kind: 'owner',
        globalDatastore: roles.ownsGlobalDatastore,
        peer: keys.peerKeyArn ? { region: cfg.peerRegion, kmsKeyArn: keys.peerKeyArn } : undefined,
      };
    }
    const cache = new Cache(
      `${name}-cache`,
      {
        provider,
        region: cfg.region,
        namePrefix: cfg.namePrefix,
        config: cfg.cache,
        mode: cacheMode,
        scratch,
        kmsKeyArn: keys.keyArn,
        subnetIds: network.subnetIds,
        securityGroupId: network.cacheSecurityGroupId,
      },
      child,
    );

    const bucket = new BackupBucket(
      `${name}-backups`,
      {
        provider,
        region: cfg.region,
        kmsKeyArn: keys.keyArn,
        retention: { postgresql: cfg.backup.postgresql, redis: cfg.backup.redis, configDays: cfg.backup.configDays },
        objectLock: cfg.backup.objectLock,
        replication:
          roles.replicateBackupsToPeer
            ? { destinationBucketArn: peerOut(PEER_OUTPUTS.bucketArn), destinationKmsKeyArn: peerOut(PEER_OUTPUTS.kmsKeyArn), destinationRegion: cfg.peerRegion }
            : undefined,
        bucketPrefix: `${cfg.namePrefix}-${regionShortName(cfg.region)}-backups${scratch ? '-s' : ''}`,
        // The backup job's Redis copy is an ElastiCache export (ElastiCache refuses SYNC); scratch runs no job.
        elastiCacheExportPrefix: scratch ? undefined : BACKUP_JOB_ENV.CACHE_EXPORT_PREFIX.default,
        forceDestroy: scratch,
      },
      child,
    );

    // Bot tokens are owned by the ACTIVE stack (lib/config.ts enforces it): the primary creates them and replicates
    // them to the peer region under the same names; a secondary promoted by a failover adopts the promoted replicas
    // in its region (`import`), standalone; a scratch drill keeps its own throw-away copies. All but scratch are
    // retained when a stack stops declaring them (docs/infra-notes.md, the failover/failback config sequence).
    const tokens =
      roles.botTokens !== 'none'
        ? new BotTokens(
            `${name}-bot-tokens`,
            {
              provider,
              kmsKeyArn: keys.keyArn,
              peerRegion: roles.replicateTokensToPeer ? cfg.peerRegion : undefined,
              peerKmsKeyArn: roles.replicateTokensToPeer ? keys.peerKeyArn : undefined,
              bots: cfg.bots.map((b) => ({ name: b.name, tokens: b.tokens })),
              namePrefix: scratch ? `${cfg.namePrefix}-scratch` : cfg.namePrefix,
              recoveryWindowInDays: scratch ? 0 : 30,
              adopt: roles.adoptTokens,
              retainOnDelete: !scratch,
            },
            child,
          )
        : undefined;

    const dns =
      cfg.dns && roles.dns
        ? new FailoverDns(
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
            child,
          )
        : undefined;

    // Alerts alarm on the backup job, and the job notifies the alerts topic: break the cycle with
    // deferred outputs for the job's names (no resource cycle: alarm -> function -> topic).
    // A promoted secondary is the writable region now: its backup schedules run and its backup-age alarms
    // treat missing data as breaching. (Its DNS record stays SECONDARY; health checks decide routing.)
    const activeRole = roles.activeRole;
    const jobNames = roles.backupJobs ? { fn: pulumi.deferredOutput<string>(), dlq: pulumi.deferredOutput<string>() } : undefined;
    const usEast1Provider =
      roles.usEast1Provider === 'peer' ? peerProvider : roles.usEast1Provider === 'extra' ? new aws.Provider(`${name}-use1`, { region: ROUTE53_METRICS_REGION, defaultTags }, { parent: this }) : undefined;
    const alerts = new Alerts(
      `${name}-alerts`,
      {
        provider,
        region: cfg.region,
        role: activeRole,
        namePrefix: scratch ? `${cfg.namePrefix}-scratch` : cfg.namePrefix,
        kmsKeyArn: keys.keyArn,
        emails: cfg.alerts.emails,
        webhookUrl: cfg.alerts.webhookUrl ? pulumi.secret(cfg.alerts.webhookUrl) : undefined,
        healthCheckId: dns?.healthCheckId,
        usEast1Provider,
        replicaDbIdentifier: roles.replicaLagAlarm ? db.identifier : undefined,
        replicaLagSeconds: cfg.alerts.replicaLagSeconds,
        dbInstanceIdentifier: db.identifier,
        dbAllocatedStorageGb: cfg.database.allocatedStorage,
        backupFunctionName: jobNames?.fn[0],
        backupDlqName: jobNames?.dlq[0],
        backupAgeAlarms: roles.backupJobs,
      },
      child,
    );

    // Backup jobs: schedules ENABLED only on primary (BackupJobs decides); none at all for scratch.
    let jobs: BackupJobs | undefined;
    if (jobNames) {
      jobs = new BackupJobs(
        `${name}-backup-jobs`,
        {
          provider,
          region: cfg.region,
          role: activeRole,
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
          peer: keys.peerKeyArn ? { region: cfg.peerRegion, kmsKeyArn: keys.peerKeyArn } : undefined,
          cacheAuthSecretArn: cache.authSecretArn,
          cacheReplicationGroupId: cache.replicationGroupId,
          alertsTopicArn: alerts.topicArn,
          retention: { postgresql: cfg.backup.postgresql, redis: cfg.backup.redis, configDays: cfg.backup.configDays },
          postgresMajorVersion: Number(cfg.database.parameterGroupFamily.replace('postgres', '')),
        },
        child,
      );
      jobNames.fn[1](jobs.functionName);
      jobNames.dlq[1](jobs.dlqName);
    }

    this.outputs = {
      role: cfg.role,
      region: cfg.region,
      peerRegion: cfg.peerRegion,
      dbIdentifier: db.identifier,
      dbEndpoint: db.endpoint,
      dbArn: db.arn,
      dbSecretArn: creds ? creds.secretArn : db.masterSecretArn,
      cacheEndpoint: cache.endpoint,
      cacheReplicationGroupId: cache.replicationGroupId,
      cacheAuthSecretArn: cache.authSecretArn,
      globalDatastoreId: cache.globalReplicationGroupId,
      bucketName: bucket.bucketName,
      bucketArn: bucket.arn,
      kmsKeyArn: keys.keyArn,
      peerReplicaKmsKeyArn: keys.peerKeyArn ?? pulumi.output(undefined),
      botTokenSecretArns: tokens ? tokens.secretArns : pulumi.output<Record<string, string>>({}),
      healthCheckId: dns ? dns.healthCheckId : pulumi.output(undefined),
      topicArn: alerts.topicArn,
      backupFunctionName: jobs ? jobs.functionName : pulumi.output(undefined),
      recordName: dns ? dns.recordName : pulumi.output(undefined),
      hostedZoneId: cfg.dns && roles.dns ? cfg.dns.hostedZoneId : undefined,
      vpcId: network.vpcId,
      subnetIds: network.subnetIds,
      appSecurityGroupId: network.appSecurityGroupId,
      backupSecurityGroupId: network.backupSecurityGroupId,
      dbSecurityGroupId: network.dbSecurityGroupId,
      dbFenceSecurityGroupId: network.dbFenceSecurityGroupId,
    };
    this.registerOutputs({ ...this.outputs });
  }
}

/**
 * The whole program: validate config (throws a ConfigError naming every bad key before any resource is
 * declared), build one RegionalDr, return its stack outputs. `index.ts` exports the result.
 */
export function buildStack(source?: ConfigSource): RegionalDrOutputs {
  const config = loadConfig(source);
  return new RegionalDr('bot-dr', { config }).outputs;
}
