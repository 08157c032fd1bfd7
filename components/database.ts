import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { DatabaseConfig, ScratchConfig } from '../lib/config';
import { dbIdentifier, postgresParameterGroupFamily } from '../lib/naming';
import { POSTGRES_PORT } from './network';

/** What kind of instance {@link Database} declares. */
export type DatabaseMode =
  /** The writable source: RDS PostgreSQL with a Secrets-Manager-managed master password. */
  | { kind: 'primary' }
  /**
   * A cross-region read replica of `sourceDbArn` (the peer's DB ARN, read from its stack outputs), plus an
   * `InstanceAutomatedBackupsReplication` of the source's automated backups into this region, so PITR
   * still works here after the source region is lost.
   */
  | { kind: 'replica'; sourceDbArn: pulumi.Input<string> }
  /**
   * A former replica after failover: no `replicateSourceDb` (removing it is what promotes the instance),
   * backups on, and a new managed master secret in this region. `sourceDbArn` keeps the automated-backups
   * replication resource in place (removing it could delete the replicated backups).
   *
   * Caveat (PostgreSQL): a read replica has no automated backups, and RDS ignores a backup-retention change
   * made in the same modification that promotes it. The promoting `pulumi up` therefore leaves retention at
   * 0; run `pulumi up` a second time to apply `backupRetentionDays` (the failover engine does this).
   */
  | { kind: 'promoted'; sourceDbArn: pulumi.Input<string> }
  /** A drill instance restored from a snapshot or to a point in time; deletion protection off, no final snapshot. */
  | { kind: 'scratch'; restore: ScratchConfig };

/** Arguments of {@link Database}. */
export interface DatabaseArgs {
  /** Provider of the instance's region; every child is created through it. */
  provider: aws.Provider;
  /** The instance's region, e.g. `us-east-1`. */
  region: string;
  /** Physical-name prefix; the identifier is `<prefix>-<region short>-pg[-scratch]`. */
  namePrefix: string;
  /** Validated database settings from stack config. */
  config: DatabaseConfig;
  /** Primary, replica, promoted replica or scratch — see {@link DatabaseMode}. */
  mode: DatabaseMode;
  /** ARN of this region's KMS key: storage, Performance Insights, master secret, replicated backups. */
  kmsKeyArn: pulumi.Input<string>;
  /** Private subnets (≥ 2 AZs) for the subnet group. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The DB security group (5432 from app + backup only). */
  securityGroupId: pulumi.Input<string>;
  /** Tags applied to taggable children. */
  tags?: Record<string, string>;
}

/** RDS parameters every instance gets: TLS only (and a modern minimum), slow-query logging. */
export function databaseParameters(): { name: string; value: string; applyMethod: 'immediate' | 'pending-reboot' }[] {
  return [
    { name: 'rds.force_ssl', value: '1', applyMethod: 'pending-reboot' },
    { name: 'ssl_min_protocol_version', value: 'TLSv1.2', applyMethod: 'pending-reboot' },
    { name: 'log_min_duration_statement', value: '1000', applyMethod: 'immediate' },
  ];
}

/**
 * The region's PostgreSQL on RDS: encrypted with the region's key, TLS enforced by parameter group, PITR
 * (backup retention ≥ 7), Performance Insights, CloudWatch log exports, tags copied to snapshots, a final
 * snapshot on delete. See {@link DatabaseMode} for primary / replica / promoted / scratch.
 *
 * The master password (primary, promoted, scratch) is managed by RDS in Secrets Manager
 * (`manageMasterUserPassword`, encrypted with the region key): it never passes through Pulumi config or
 * state and RDS rotates it. A replica has no credentials of its own (they come from the source).
 */
export class Database extends pulumi.ComponentResource {
  readonly instance: aws.rds.Instance;
  /** RDS instance identifier, e.g. `botdr-use1-pg`. */
  readonly identifier: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** `host:port`. */
  readonly endpoint: pulumi.Output<string>;
  readonly address: pulumi.Output<string>;
  /** ARN of the RDS-managed master secret; undefined for a replica (it has no credentials of its own). */
  readonly masterSecretArn: pulumi.Output<string | undefined>;
  /** The replicated automated backups (replica/promoted only). */
  readonly backupsReplication?: aws.rds.InstanceAutomatedBackupsReplication;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:database:Database', name, {}, opts);
    const o = { parent: this, provider: args.provider };
    const c = args.config;
    const mode = args.mode;
    const scratch = mode.kind === 'scratch';
    const identifier = dbIdentifier(args.namePrefix, args.region, scratch);
    const family = postgresParameterGroupFamily(c.engineVersion);

    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, { name: `${identifier}-subnets`, subnetIds: args.subnetIds, description: `${identifier} private subnets`, tags: args.tags }, o);
    const params = new aws.rds.ParameterGroup(
      `${name}-params`,
      { name: `${identifier}-${family.replace('.', '-')}`, family, description: `${identifier}: TLS only`, parameters: databaseParameters(), tags: args.tags },
      o,
    );

    const common: aws.rds.InstanceArgs = {
      identifier,
      instanceClass: c.instanceClass,
      storageType: 'gp3',
      storageEncrypted: true,
      kmsKeyId: args.kmsKeyArn,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [args.securityGroupId],
      parameterGroupName: params.name,
      port: POSTGRES_PORT,
      publiclyAccessible: false,
      multiAz: c.multiAz,
      maxAllocatedStorage: c.maxAllocatedStorage,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: args.kmsKeyArn,
      performanceInsightsRetentionPeriod: 7,
      enabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      caCertIdentifier: 'rds-ca-rsa2048-g1',
      maintenanceWindow: c.maintenanceWindow,
      deletionProtection: scratch ? false : c.deletionProtection,
      skipFinalSnapshot: scratch,
      finalSnapshotIdentifier: scratch ? undefined : `${identifier}-final`,
      deleteAutomatedBackups: scratch,
      tags: args.tags,
    };
    const managedSecret = { manageMasterUserPassword: true, masterUserSecretKmsKeyId: args.kmsKeyArn };
    const backups = { backupRetentionPeriod: c.backupRetentionDays, backupWindow: c.backupWindow };

    let instanceArgs: aws.rds.InstanceArgs;
    switch (mode.kind) {
      case 'primary':
        instanceArgs = {
          ...common,
          ...managedSecret,
          ...backups,
          engine: 'postgres',
          engineVersion: c.engineVersion,
          allocatedStorage: c.allocatedStorage,
          dbName: c.dbName,
          username: c.masterUsername,
        };
        break;
      case 'replica':
        // No engine/username/password/dbName: all come from the source. Own subnet group, own region key.
        // RDS refuses a final snapshot when deleting a read replica (FinalDBSnapshotIdentifier "must not be
        // provided when deleting a read replica"): skip it; the data lives on in the source and its backups.
        instanceArgs = { ...common, replicateSourceDb: mode.sourceDbArn, backupRetentionPeriod: 0, skipFinalSnapshot: true, finalSnapshotIdentifier: undefined };
        break;
      case 'promoted':
        instanceArgs = { ...common, ...managedSecret, ...backups };
        break;
      case 'scratch': {
        const r = mode.restore;
        const base = { ...common, ...managedSecret, ...backups, backupRetentionPeriod: 1, multiAz: false };
        if (r.restoreFrom === 'latest-snapshot') {
          const snapshot =
            r.snapshotIdentifier ??
            aws.rds.getSnapshotOutput({ dbInstanceIdentifier: r.sourceDbIdentifier, mostRecent: true, includeShared: false }, o).apply((s) => s.dbSnapshotArn);
          instanceArgs = { ...base, snapshotIdentifier: snapshot };
        } else {
          instanceArgs = {
            ...base,
            engine: 'postgres',
            restoreToPointInTime: {
              sourceDbInstanceIdentifier: r.sourceDbIdentifier,
              sourceDbInstanceAutomatedBackupsArn: r.sourceDbAutomatedBackupsArn,
              restoreTime: r.restoreTime,
              useLatestRestorableTime: r.restoreTime === undefined ? true : undefined,
            },
          };
        }
        break;
      }
    }

    this.instance = new aws.rds.Instance(`${name}-instance`, instanceArgs, { ...o, ignoreChanges: mode.kind === 'scratch' ? ['snapshotIdentifier'] : [] });

    if (mode.kind === 'replica' || mode.kind === 'promoted') {
      this.backupsReplication = new aws.rds.InstanceAutomatedBackupsReplication(
        `${name}-backups-replication`,
        { sourceDbInstanceArn: mode.sourceDbArn, kmsKeyId: args.kmsKeyArn, retentionPeriod: c.backupRetentionDays },
        o,
      );
    }

    this.identifier = this.instance.identifier;
    this.arn = this.instance.arn;
    this.endpoint = this.instance.endpoint;
    this.address = this.instance.address;
    this.masterSecretArn =
      mode.kind === 'replica' ? pulumi.output(undefined) : this.instance.masterUserSecrets.apply((s) => (s && s.length > 0 ? s[0].secretArn : undefined));
    this.registerOutputs({ identifier: this.identifier, arn: this.arn, endpoint: this.endpoint, masterSecretArn: this.masterSecretArn });
  }
}
