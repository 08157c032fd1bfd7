import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { CacheConfig } from '../lib/config';
import { cacheFinalSnapshotName, cacheReplicationGroupId, globalDatastoreSuffix } from '../lib/naming';
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
  | { kind: 'member'; globalReplicationGroupId: pulumi.Input<string>; authSecretArn: pulumi.Input<string> }
  /**
   * A former member that left the global datastore (an unplanned failover: `DisassociateGlobalReplicationGroup`, the
   * old primary's region gone) and now creates the next generation's datastore from itself (`cache.detached`). The
   * group is declared exactly as the member was, minus `globalReplicationGroupId` — an optional, computed input that
   * forces a replacement when it changes: left out, the provider keeps what it reads and plans no change, so the
   * existing group stays in place (docs/infra-notes.md). It keeps the AUTH token it inherited: `authSecretArn` is the
   * promoted replica of the peer's secret in this region, and no token is generated (a new one would lock the bots out).
   */
  | { kind: 'detached'; authSecretArn: pulumi.Input<string> };

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
  /** Owner (standalone/global primary), member of the peer's global datastore, or detached — see {@link CacheMode}. */
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
  /** The owner's generated AUTH token (undefined for a member or a detached group: theirs is inherited). */
  private token?: random.RandomPassword;

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
      finalSnapshotIdentifier: args.scratch ? undefined : cacheFinalSnapshotName(id),
      tags: args.tags,
    };

    // The group id is fixed (it names the endpoint): a replacement can only delete first. The one expected
    // replacement is failback's, when the home stack's group is rebuilt as a member of the survivor's datastore.
    const groupOpts: pulumi.CustomResourceOptions = { ...o, deleteBeforeReplace: true };
    if (mode.kind === 'owner') {
      this.replicationGroup = this.ownerGroup(name, args, common, groupOpts);
      this.authSecretArn = this.ownerSecret(name, args, mode);
      this.globalReplicationGroupId = mode.globalDatastore ? this.globalDatastore(name, args).globalReplicationGroupId : pulumi.output(undefined);
    } else if (mode.kind === 'member') {
      this.replicationGroup = new aws.elasticache.ReplicationGroup(`${name}-group`, { ...common, globalReplicationGroupId: mode.globalReplicationGroupId }, groupOpts);
      this.authSecretArn = pulumi.output(mode.authSecretArn);
      this.globalReplicationGroupId = pulumi.output(mode.globalReplicationGroupId);
    } else {
      this.replicationGroup = new aws.elasticache.ReplicationGroup(`${name}-group`, { ...common }, groupOpts);
      this.authSecretArn = pulumi.output(mode.authSecretArn);
      this.globalReplicationGroupId = this.globalDatastore(name, args).globalReplicationGroupId;
    }

    this.replicationGroupId = this.replicationGroup.id;
    this.endpoint = this.replicationGroup.primaryEndpointAddress;
    this.registerOutputs({ replicationGroupId: this.replicationGroupId, endpoint: this.endpoint, authSecretArn: this.authSecretArn, globalReplicationGroupId: this.globalReplicationGroupId });
  }

  /** The owner's group: engine, version, node type and encryption are its own, with a generated AUTH token. */
  private ownerGroup(name: string, args: CacheArgs, common: aws.elasticache.ReplicationGroupArgs, opts: pulumi.CustomResourceOptions): aws.elasticache.ReplicationGroup {
    const c = args.config;
    this.token = new random.RandomPassword(`${name}-auth-token`, { length: 64, special: false }, { parent: this });
    return new aws.elasticache.ReplicationGroup(
      `${name}-group`,
      {
        ...common,
        engine: 'redis',
        engineVersion: c.engineVersion,
        nodeType: c.nodeType,
        atRestEncryptionEnabled: true,
        transitEncryptionEnabled: true,
        transitEncryptionMode: 'required',
        authToken: this.token.result,
      },
      { ...opts, additionalSecretOutputs: ['authToken'] },
    );
  }

  /**
   * The owner's `{ authToken, host, port, tls }` secret (replicated to the peer region with a global datastore).
   * Retained when the stack stops declaring it (not for scratch): at failback the home stack becomes a member, and
   * its rebuilt group reads this very secret — the token is still the datastore's, which the survivor inherited.
   */
  private ownerSecret(name: string, args: CacheArgs, mode: Extract<CacheMode, { kind: 'owner' }>): pulumi.Output<string> {
    const o = { parent: this, provider: args.provider, retainOnDelete: !args.scratch };
    const id = cacheReplicationGroupId(args.namePrefix, args.region, args.scratch);
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
          pulumi.all([this.token!.result, this.replicationGroup.primaryEndpointAddress]).apply(([authToken, host]) => JSON.stringify({ authToken, host, port: REDIS_PORT, tls: true })),
        ),
      },
      o,
    );
    return secret.arn;
  }

  /**
   * The global datastore created from this group (generation `cache.globalDatastoreGeneration`, lib/naming.ts).
   * - `ignoreChanges: ['primaryReplicationGroupId']`: after a cache failover (FailoverGlobalReplicationGroup, issue 5)
   *   the datastore's primary member is the other region's group. The field forces a replacement in the provider, so
   *   without this a later `pulumi up` of this stack would DELETE and recreate the global datastore — with the
   *   survivor's data in it. It only matters at creation; who is primary afterwards is dr's business.
   * - `retainOnDelete`: the datastore outlives this stack giving it up (failback turns the home stack into a member;
   *   a new generation replaces the suffix): `dr failback` removes an abandoned one (ops/failback-cache.ts), never a
   *   `pulumi up` of a stack whose region may not even answer.
   */
  private globalDatastore(name: string, args: CacheArgs): aws.elasticache.GlobalReplicationGroup {
    return new aws.elasticache.GlobalReplicationGroup(
      `${name}-global`,
      {
        globalReplicationGroupIdSuffix: globalDatastoreSuffix(args.namePrefix, args.config.globalDatastoreGeneration),
        primaryReplicationGroupId: this.replicationGroup.id,
        globalReplicationGroupDescription: 'bot-platform-dr Redis global datastore',
      },
      { parent: this, provider: args.provider, ignoreChanges: ['primaryReplicationGroupId'], retainOnDelete: true },
    );
  }
}
