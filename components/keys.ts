import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { regionalKeyPolicy } from '../lib/key-policy';
import { regionShortName } from '../lib/naming';

/** Arguments of {@link Keys}. */
export interface KeysArgs {
  /** Provider of the key's region; the key and its alias are created through it. */
  provider: aws.Provider;
  /** The key's region, e.g. `us-east-1` (must be the provider's region; used in the key policy). */
  region: string;
  /** Physical-name prefix (the alias is `alias/<prefix>-<region short>`). */
  namePrefix: string;
  /**
   * Also create a key in the peer region for the replicas this stack places there (bot-token and cache
   * auth-token secret replicas), so a stack can replicate before its peer stack exists.
   */
  peer?: { provider: aws.Provider; region: string };
  /** Days a scheduled key deletion waits (7–30). Default 30; scratch stacks use 7. */
  deletionWindowInDays?: number;
  /** Tags applied to the keys. */
  tags?: Record<string, string>;
}

/**
 * The region's customer-managed KMS key (rotation on) used by RDS, S3, Secrets Manager, ElastiCache,
 * SNS and CloudWatch Logs, with an alias; optionally a second key in the peer region for replicas.
 */
export class Keys extends pulumi.ComponentResource {
  /** This region's key. */
  readonly key: aws.kms.Key;
  /** ARN of this region's key. */
  readonly keyArn: pulumi.Output<string>;
  /** Key id of this region's key. */
  readonly keyId: pulumi.Output<string>;
  /** Alias name of this region's key. */
  readonly aliasName: pulumi.Output<string>;
  /** ARN of the peer-region replica key, when `peer` was given. */
  readonly peerKeyArn?: pulumi.Output<string>;

  constructor(name: string, args: KeysArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:keys:Keys', name, {}, opts);
    const window = args.deletionWindowInDays ?? 30;
    if (!Number.isInteger(window) || window < 7 || window > 30) throw new Error(`deletionWindowInDays: must be 7–30, got ${window}`);

    const make = (suffix: string, provider: aws.Provider, region: string, purpose: string) => {
      const identity = aws.getCallerIdentityOutput({}, { provider, parent: this });
      const partition = aws.getPartitionOutput({}, { provider, parent: this });
      const key = new aws.kms.Key(
        `${name}${suffix}`,
        {
          description: `bot-platform-dr ${purpose} (${region})`,
          enableKeyRotation: true,
          rotationPeriodInDays: 365,
          deletionWindowInDays: window,
          keyUsage: 'ENCRYPT_DECRYPT',
          customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
          policy: pulumi
            .all([identity.accountId, partition.partition])
            .apply(([accountId, p]) => JSON.stringify(regionalKeyPolicy({ accountId, region, partition: p }))),
          tags: { ...args.tags, Name: `${args.namePrefix}-${regionShortName(region)}${suffix}` },
        },
        { parent: this, provider },
      );
      const alias = new aws.kms.Alias(
        `${name}${suffix}-alias`,
        { name: `alias/${args.namePrefix}-${regionShortName(region)}${suffix}`, targetKeyId: key.keyId },
        { parent: this, provider },
      );
      return { key, alias };
    };

    const own = make('', args.provider, args.region, 'data key');
    this.key = own.key;
    this.keyArn = own.key.arn;
    this.keyId = own.key.keyId;
    this.aliasName = own.alias.name;
    if (args.peer) {
      if (args.peer.region === args.region) throw new Error('peer.region: must differ from region');
      this.peerKeyArn = make('-replicas', args.peer.provider, args.peer.region, `replica key of ${args.region}`).key.arn;
    }
    this.registerOutputs({ keyArn: this.keyArn, keyId: this.keyId, aliasName: this.aliasName, peerKeyArn: this.peerKeyArn });
  }
}
