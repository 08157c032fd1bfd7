import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { CacheConfig } from '../lib/config';
import { cacheReplicationGroupId, globalDatastoreSuffix } from '../lib/naming';
import { REDIS_PORT } from './network';

/** Role of the replication group with respect to a global datastore. */
export type CacheMode =
  /**
   * A standalone group that owns its auth token. With `globalDatastore`, it also creates the global
   * datastore from itself, and its auth-token secret is replicated to `peer.region` under `peer.kmsKeyArn`
   * (the secondary joins with the same token).
   */
  | { kind: 'owner'; globalDatastore: boolean; peer?: { region: string; kmsKeyArn: pulumi.Input<string> } }
  /**
   * A secondary member of the peer's global datastore. Members inherit engine, version, node type,
   * parameter group, at-rest and in-transit encryption and the AUTH token from the primary group — the
   * provider rejects setting them — so none is set here. `authSecretArn` is the ARN of the primary's
   * auth-token secret replica in this region.
   */
  | { kind: 'member'; globalReplicationGroupId: pulumi.Input<string>; authSecretArn: pulumi.Input<string> };

/** Arguments of {@link Cache}. */
export interface CacheArgs {
  /** Provider of the group's region; every child is created through it. */
  provider: aws.Provider;
  /** The group's region, e.g. `us-east-1`. */
  region: string;
  /** Physical-name prefix; the group id is `<prefix>-<region short>-redis[-s]`. */
  namePrefix: string;
  /** Validated cache settings from stack config. */
  config: CacheConfig;
  /** Owner (standalone/global primary) or member of the peer's global datastore — see {@link CacheMode}. */
  mode: CacheMode;
  /** Scratch drill group (distinct id, no final snapshot, immediate secret deletion). */
  scratch?: boolean;
  /** ARN of this region's KMS key: at-rest encryption and the auth-token secret. */
  kmsKeyArn: pulumi.Input<string>;
  /** Private subnets for the subnet group. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The cache security group (6379 from app + backup only). */
  securityGroupId: pulumi.Input<string>;
  /** Tags applied to taggable children. */
  tags?: Record<string, string>;
}

/**
 * The region's Redis: an ElastiCache replication group encrypted at rest (region key) and in transit
 * (TLS required), protected by a generated AUTH token kept in Secrets Manager (KMS-encrypted; the token
 * is a secret everywhere in Pulumi), automatic failover + multi-AZ iff it has replicas, daily snapshots.
 */
export class Cache extends pulumi.ComponentResource {
  readonly replicationGroup: aws.elasticache.ReplicationGroup;
  /** Replication group id. */
  readonly replicationGroupId: pulumi.Output<string>;
  /** Primary (writer) endpoint host. */
  readonly endpoint: pulumi.Output<string>;
  readonly port: number = REDIS_PORT;
  /** ARN of the secret holding `{ authToken, host, port, tls }`. */
  readonly authSecretArn: pulumi.Output<string>;
  /** Global datastore id (owner with a global datastore, or the one this member joined). */
  readonly globalReplicationGroupId: pulumi.Output<string | undefined>;

  constructor(name: string, args: CacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:cache:Cache', name, {}, opts);
    const o = { parent: this, provider: args.provider };
    const c = args.config;
    const mode = args.mode;
    const id = cacheReplicationGroupId(args.namePrefix, args.region, args.scratch);
    const withReplicas = c.replicas >= 1;

    const subnetGroup = new aws.elasticache.SubnetGroup(`${name}-subnets`, { name: `${id}-subnets`, subnetIds: args.subnetIds, description: `${id} private subnets`, tags: args.tags }, o);

    const common: aws.elasticache.ReplicationGroupArgs = {
      replicationGroupId: id,
      description: `bot-platform-dr Redis (${args.region})`,
      numCacheClusters: c.replicas + 1,
      automaticFailoverEnabled: withReplicas,
      multiAzEnabled: withReplicas,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [args.securityGroupId],
      port: REDIS_PORT,
      kmsKeyId: args.kmsKeyArn,
      snapshotRetentionLimit: c.snapshotRetentionDays,
      snapshotWindow: c.snapshotWindow,
      maintenanceWindow: 'sun:06:00-sun:07:00',
      autoMinorVersionUpgrade: true,
      finalSnapshotIdentifier: args.scratch ? undefined : `${id}-final`,
      tags: args.tags,
    };

    if (mode.kind === 'owner') {
      const token = new random.RandomPassword(`${name}-auth-token`, { length: 64, special: false }, { parent: this });
      this.replicationGroup = new aws.elasticache.ReplicationGroup(
        `${name}-group`,
        {
          ...common,
          engine: 'redis',
          engineVersion: c.engineVersion,
          nodeType: c.nodeType,
          atRestEncryptionEnabled: true,
          transitEncryptionEnabled: true,
          transitEncryptionMode: 'required',
          authToken: token.result,
        },
        { ...o, additionalSecretOutputs: ['authToken'] },
      );
      const secret = new aws.secretsmanager.Secret(
        `${name}-auth-secret`,
        {
          name: `${args.namePrefix}/redis/${id}/auth`,
          description: `AUTH token of Redis ${id}`,
          kmsKeyId: args.kmsKeyArn,
          recoveryWindowInDays: args.scratch ? 0 : 30,
          replicas: mode.globalDatastore && mode.peer ? [{ region: mode.peer.region, kmsKeyId: mode.peer.kmsKeyArn }] : undefined,
          tags: args.tags,
        },
        o,
      );
      new aws.secretsmanager.SecretVersion(
        `${name}-auth-secret-value`,
        {
          secretId: secret.id,
          secretString: pulumi.secret(
            pulumi
              .all([token.result, this.replicationGroup.primaryEndpointAddress])
              .apply(([authToken, host]) => JSON.stringify({ authToken, host, port: REDIS_PORT, tls: true })),
          ),
        },
        o,
      );
      this.authSecretArn = secret.arn;
      if (mode.globalDatastore) {
        const global = new aws.elasticache.GlobalReplicationGroup(
          `${name}-global`,
          {
            globalReplicationGroupIdSuffix: globalDatastoreSuffix(args.namePrefix),
            primaryReplicationGroupId: this.replicationGroup.id,
            globalReplicationGroupDescription: 'bot-platform-dr Redis global datastore',
          },
          // After a cache failover (FailoverGlobalReplicationGroup, issue 5) the datastore's primary member is the
          // other region's group. `primaryReplicationGroupId` forces a replacement in the provider, so without this
          // a later `pulumi up` of this stack would try to DELETE and recreate the global datastore — with the
          // survivor's data in it. It only matters at creation; who is primary afterwards is dr's business.
          { ...o, ignoreChanges: ['primaryReplicationGroupId'] },
        );
        this.globalReplicationGroupId = global.globalReplicationGroupId;
      } else {
        this.globalReplicationGroupId = pulumi.output(undefined);
      }
    } else {
      this.replicationGroup = new aws.elasticache.ReplicationGroup(`${name}-group`, { ...common, globalReplicationGroupId: mode.globalReplicationGroupId }, o);
      this.authSecretArn = pulumi.output(mode.authSecretArn);
      this.globalReplicationGroupId = pulumi.output(mode.globalReplicationGroupId);
    }

    this.replicationGroupId = this.replicationGroup.id;
    this.endpoint = this.replicationGroup.primaryEndpointAddress;
    this.registerOutputs({ replicationGroupId: this.replicationGroupId, endpoint: this.endpoint, authSecretArn: this.authSecretArn, globalReplicationGroupId: this.globalReplicationGroupId });
  }
}
