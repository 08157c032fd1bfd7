import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { POSTGRES_PORT } from './network';

/**
 * Special characters the generated master password may contain. RDS rejects `/`, `@`, `"` and space in a
 * master password; the rest are left out so the password never needs shell quoting either (`'`, `` ` ``, `\`,
 * `;`, `|`, `~`, `^`, `,`, `.` are not used). Every consumer URL-encodes it anyway.
 */
export const DB_PASSWORD_SPECIAL = '!#$%&*()-_=+[]{}<>:?';
/** Characters RDS refuses in a master password. */
export const RDS_FORBIDDEN_PASSWORD_CHARS = ['/', '@', '"', ' '] as const;

/** Deterministic name of the DB credentials secret — identical in both regions (the replica keeps the name). */
export function dbSecretName(namePrefix: string): string {
  return `${namePrefix}/db/master`;
}

/** The secret's JSON, per the RDS secret convention (what the RDS console / rotation Lambdas expect). */
export interface DbSecretValue {
  username: string;
  password: string;
  engine: 'postgres';
  /** The writer's address when the secret was written (the primary's); region-local jobs use their own DB_HOST. */
  host: string;
  port: number;
  dbname: string;
}

/** The secret string: `{username, password, engine, host, port, dbname}`. */
export function dbSecretString(v: Omit<DbSecretValue, 'engine'>): string {
  const value: DbSecretValue = { username: v.username, password: v.password, engine: 'postgres', host: v.host, port: v.port, dbname: v.dbname };
  return JSON.stringify(value);
}

/** How {@link DbCredentials} gets its secret. */
export type DbCredentialsMode =
  /**
   * The primary stack: generate the master password (@pulumi/random), store it in a secret encrypted with the
   * region key and replicated to `peer.region` under `peer.kmsKeyArn`.
   */
  | { kind: 'owner'; username: string; dbName: string; host: pulumi.Input<string>; peer?: { region: string; kmsKeyArn: pulumi.Input<string> } }
  /**
   * A secondary stack (replica or promoted): the primary's secret replicated into this region, read BY NAME —
   * never declared here. After a failover `StopReplicationToReplica` makes it a standalone secret; it keeps
   * its name and ARN, so the promoted stack reads the very same secret and declares nothing that collides.
   */
  | { kind: 'reader' };

/** Arguments of {@link DbCredentials}. */
export interface DbCredentialsArgs {
  /** Provider of this region. */
  provider: aws.Provider;
  /** Physical-name prefix: the secret is `<prefix>/db/master`. */
  namePrefix: string;
  /** This region's KMS key (the owner's secret). */
  kmsKeyArn: pulumi.Input<string>;
  mode: DbCredentialsMode;
  /** Days a deleted owner secret stays recoverable (0 or 7–30). Default 30. */
  recoveryWindowInDays?: number;
  tags?: Record<string, string>;
}

/**
 * The database master credentials that survive the loss of the primary region.
 *
 * Why not RDS's managed master secret (`manageMasterUserPassword`): RDS keeps it in the instance's region only
 * and it cannot be replicated, so a secondary region would have no credentials once the primary region is gone.
 * This component instead owns a generated password in a Secrets Manager secret replicated to the peer region
 * (the BotTokens pattern). The replica's password is the source's, so the same secret value is valid on the
 * replica and, after promotion, on the promoted instance.
 *
 * Rotation: there is no managed rotation. To rotate: change the password on the primary instance and the secret
 * together — `pulumi up` after replacing the RandomPassword (`pulumi up --replace <urn of ...-password>`), which
 * writes the new value to the instance and the secret (the replica follows within seconds); or add a
 * single-user rotation Lambda (SecretsManagerRDSPostgreSQLRotationSingleUser) later — the JSON follows the RDS
 * convention it expects. After a failover both regions hold standalone copies: rotate both (docs/infra-notes.md).
 */
export class DbCredentials extends pulumi.ComponentResource {
  /** ARN of the secret in THIS region (the owner's, or the replica/promoted copy). */
  readonly secretArn: pulumi.Output<string>;
  readonly secretName: string;
  /** The master password (owner only; a secret Output). */
  readonly password?: pulumi.Output<string>;

  constructor(name: string, args: DbCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:database:DbCredentials', name, {}, opts);
    const o = { parent: this, provider: args.provider };
    this.secretName = dbSecretName(args.namePrefix);
    const mode = args.mode;
    if (mode.kind === 'owner') {
      const password = new random.RandomPassword(
        `${name}-password`,
        { length: 40, special: true, overrideSpecial: DB_PASSWORD_SPECIAL, minLower: 2, minUpper: 2, minNumeric: 2, minSpecial: 2 },
        { parent: this },
      );
      const secret = new aws.secretsmanager.Secret(
        `${name}-secret`,
        {
          name: this.secretName,
          description: 'PostgreSQL master credentials {username, password, engine, host, port, dbname}; replicated to the peer region',
          kmsKeyId: args.kmsKeyArn,
          recoveryWindowInDays: args.recoveryWindowInDays ?? 30,
          replicas: mode.peer ? [{ region: mode.peer.region, kmsKeyId: mode.peer.kmsKeyArn }] : [],
          tags: { ...args.tags, 'bot-dr:secret': 'db-master' },
        },
        // Kept in AWS if this stack stops declaring it (it becomes a secondary after a failover): the
        // copies in both regions stay readable by name, and the promoted peer's copy is unaffected.
        { ...o, retainOnDelete: true },
      );
      new aws.secretsmanager.SecretVersion(
        `${name}-secret-value`,
        {
          secretId: secret.id,
          secretString: pulumi.secret(
            pulumi.all([password.result, mode.host]).apply(([pw, host]) => dbSecretString({ username: mode.username, password: pw, host, port: POSTGRES_PORT, dbname: mode.dbName })),
          ),
        },
        { ...o, retainOnDelete: true },
      );
      this.password = pulumi.secret(password.result);
      this.secretArn = secret.arn;
    } else {
      this.secretArn = aws.secretsmanager.getSecretOutput({ name: this.secretName }, o).arn;
    }
    this.registerOutputs({ secretArn: this.secretArn, secretName: this.secretName });
  }
}
