import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { BOT_NAME_RULE, BOT_PLATFORMS, type BotPlatform, isBotName, isBotPlatform } from '../lib/validators';

/** One bot and its tokens. */
export interface BotTokenSpec {
  /** Bot name: 1–40 lowercase letters, digits and hyphens (lib/validators.ts; it becomes part of the secret's name). */
  name: string;
  /** The bot's platform, written into the secret's value (the token engine probes by it). Default `telegram`. */
  platform?: BotPlatform;
  /**
   * The bot's SEED tokens, in rotation order; index 0 is the active one. Pass them from secret stack config
   * (`pulumi config set --secret`); the component wraps the secret value in `pulumi.secret` regardless.
   * At least one token when the secret is created; not used when it is adopted (`adopt`: the existing value is the
   * token engine's). They are written once: a later change is ignored (see {@link BotTokens}).
   */
  tokens?: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * A staging label kept on the version this component writes (besides the AWSCURRENT that Secrets Manager gives the
 * first version of a secret). A version with a label is never removed as deprecated, so the version stays in the
 * stack's state; and if the version were ever written again (e.g. after a `pulumi state delete`), it would NOT
 * become AWSCURRENT: it could not bury the token engine's record.
 */
export const BOT_TOKEN_SEED_STAGE = 'BOTDR_SEED';

/** Arguments of {@link BotTokens}. */
export interface BotTokensArgs {
  /** Provider of the region the secrets live in (the primary region). */
  provider: aws.Provider;
  /** ARN of this region's KMS key, encrypting the secrets. */
  kmsKeyArn: pulumi.Input<string>;
  /** The peer region the secrets are replicated to (so the bots start there after a region loss). */
  peerRegion?: string;
  /** ARN of the peer region's KMS key, encrypting the replicas. Required with `peerRegion`. */
  peerKmsKeyArn?: pulumi.Input<string>;
  /** The bots. Names must be unique. */
  bots: BotTokenSpec[];
  /**
   * The region whose bot workers consume updates from the start (one consumer per token, issue 11): seeded as the
   * value's `active_region`, so the peer region's workers, reading the replica, consume nothing until a failover
   * writes the survivor there. Omitted (a scratch stack): no `active_region`, every region may consume.
   */
  activeRegion?: string;
  /** Secret-name prefix, e.g. `acme-bots` → secret `acme-bots/bot-tokens/<bot>`. */
  namePrefix: string;
  /** Days a deleted secret stays recoverable: 0 (immediate, scratch only) or 7–30. Default 30. */
  recoveryWindowInDays?: number;
  /** Tags applied to the secrets. */
  tags?: Record<string, string>;
  /**
   * Adopt secrets that already exist in this region instead of creating them (a secondary promoted by a failover:
   * the replicas `StopReplicationToReplica` made standalone). Each secret is declared with the Pulumi `import` option
   * (id = its deterministic name), no replicas (a standalone secret; the peer region keeps its own retained copy),
   * and the description, KMS key and tags read from the existing secret, so the import finds no difference.
   */
  adopt?: boolean;
  /**
   * Keep the secrets (and their values) in AWS when this stack stops declaring them — a config change or a role
   * change must never delete a community's tokens. Default true; a scratch drill passes false.
   */
  retainOnDelete?: boolean;
}

/** Secret value format of a bot's token secret, as this component seeds it (the token engine adds pin, health, history). */
export interface BotTokenSecretValue {
  /** Index into `tokens` of the token in use. Token rotation/failover flips it. */
  active: number;
  tokens: string[];
  /** The platform the tokens belong to (automation/tokens `Platform`). */
  platform: BotPlatform;
  /** The region whose workers consume the bot's updates (the bot runtime's `shouldConsume()`). */
  active_region?: string;
}

/** Validates bot specs that are known at construction time. Errors name the key `bots[...]`. */
export function validateBotTokensArgs(args: BotTokensArgs): void {
  if (!/^[A-Za-z0-9/_+=.@-]{1,200}$/.test(args.namePrefix)) {
    throw new Error(`namePrefix: must be letters, digits or /_+=.@-, got ${JSON.stringify(args.namePrefix)}`);
  }
  if (args.bots.length === 0) throw new Error('bots: at least one bot is required');
  const seen = new Set<string>();
  for (const [i, bot] of args.bots.entries()) {
    if (!isBotName(bot.name)) throw new Error(`bots[${i}].name: must be ${BOT_NAME_RULE}, got ${JSON.stringify(bot.name)}`);
    if (seen.has(bot.name)) throw new Error(`bots[${i}].name: duplicate bot ${JSON.stringify(bot.name)}`);
    seen.add(bot.name);
    if (Array.isArray(bot.tokens) && bot.tokens.length === 0) throw new Error(`bots.${bot.name}.tokens: at least one token is required`);
    if (!args.adopt && bot.tokens === undefined) throw new Error(`bots.${bot.name}.tokens: at least one token is required (a created secret is seeded with them)`);
    if (bot.platform !== undefined && !isBotPlatform(bot.platform)) throw new Error(`bots.${bot.name}.platform: must be ${BOT_PLATFORMS.join(' | ')}, got ${JSON.stringify(bot.platform)}`);
  }
  const rw = args.recoveryWindowInDays;
  if (rw !== undefined && !(rw === 0 || (Number.isInteger(rw) && rw >= 7 && rw <= 30))) {
    throw new Error(`recoveryWindowInDays: must be 0 or a whole number from 7 to 30, got ${JSON.stringify(rw)}`);
  }
  if ((args.peerRegion === undefined) !== (args.peerKmsKeyArn === undefined)) {
    throw new Error('peerRegion/peerKmsKeyArn: give both (replicate) or neither');
  }
  if (args.adopt && args.peerRegion !== undefined) {
    throw new Error('adopt: an adopted secret is standalone (the peer region holds its own retained copy under the same name); give no peerRegion');
  }
}

/**
 * The secret's JSON for a bot's tokens (checked: ≥ 1 non-empty token), `{ "active": 0, "tokens": [...], "platform" }`,
 * plus `"active_region"` when given.
 */
export function botTokenSecretString(bot: string, tokens: string[], platform: BotPlatform = 'telegram', activeRegion?: string): string {
  if (tokens.length === 0) throw new Error(`bots.${bot}.tokens: at least one token is required`);
  tokens.forEach((t, i) => {
    if (typeof t !== 'string' || t.trim() === '') throw new Error(`bots.${bot}.tokens[${i}]: must be a non-empty string`);
  });
  const value: BotTokenSecretValue = { active: 0, tokens, platform, ...(activeRegion !== undefined ? { active_region: activeRegion } : {}) };
  return JSON.stringify(value);
}

/** Deterministic secret name of a bot's tokens (identical in the peer region's replica). */
export function botTokenSecretName(namePrefix: string, bot: string): string {
  return `${namePrefix}/bot-tokens/${bot}`;
}

/** The secret's description (what an adopting stack finds on the replica: the creator wrote the same text). */
export function botTokenSecretDescription(bot: string): string {
  return `Telegram/Discord tokens of bot ${bot}: {"active": <index>, "tokens": [...]}`;
}

/**
 * One Secrets Manager secret per bot, `{ "active": 0, "tokens": [...], "platform" }`, encrypted with the region's
 * key and replicated to the peer region under the peer's key.
 *
 * Ownership (docs/infra-notes.md "Bot tokens"): the ACTIVE stack declares it. The primary creates and replicates it;
 * the replica in the peer region carries the same name, so a non-promoted secondary must not declare a secret of that
 * name. After a region loss the failover promotes the replica (StopReplicationToReplica) and the bots keep reading
 * the same name in the surviving region — which is why names are deterministic rather than auto-suffixed — and the
 * promoted secondary ADOPTS it (`adopt`: Pulumi `import` by name) in its promotion apply, declaring no value.
 * Every secret is `retainOnDelete`, so the stack that gives up ownership forgets its copy without deleting it.
 *
 * The VALUE belongs to the token engine once the secret exists (its monitor writes switches, pins, health and
 * history as new versions): the seed version is written once, with `ignoreChanges` on its `secretString` and
 * `versionStages`, so no later `pulumi up` (changed tokens, a new platform field, a refresh) overwrites it, and it
 * carries {@link BOT_TOKEN_SEED_STAGE}. An adopted secret gets no version at all.
 *
 * Outputs are names and ARNs only; token values never leave the secret value.
 */
export class BotTokens extends pulumi.ComponentResource {
  /** Secret ARN per bot name. */
  readonly secretArns: pulumi.Output<Record<string, string>>;
  /** Secret name per bot name (identical in the peer region's replica). */
  readonly secretNames: Record<string, string>;

  constructor(name: string, args: BotTokensArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:secrets:BotTokens', name, {}, opts);
    validateBotTokensArgs(args);

    const child = { parent: this, provider: args.provider };
    const retainOnDelete = args.retainOnDelete ?? true;
    const arns: Record<string, pulumi.Output<string>> = {};
    const names: Record<string, string> = {};
    for (const bot of args.bots) {
      const secretName = botTokenSecretName(args.namePrefix, bot.name);
      let secret: aws.secretsmanager.Secret;
      if (args.adopt) {
        // Import succeeds only when the declared inputs match the existing secret: read description, key and tags
        // from it (in this region, through this region's provider); a promoted replica has no replicas.
        const existing = aws.secretsmanager.getSecretOutput({ name: secretName }, child);
        secret = new aws.secretsmanager.Secret(
          `${name}-${bot.name}`,
          {
            name: secretName,
            description: existing.description,
            kmsKeyId: existing.kmsKeyId,
            recoveryWindowInDays: args.recoveryWindowInDays ?? 30,
            replicas: [],
            tags: existing.tags,
          },
          { ...child, import: secretName, retainOnDelete },
        );
      } else {
        secret = new aws.secretsmanager.Secret(
          `${name}-${bot.name}`,
          {
            name: secretName,
            description: botTokenSecretDescription(bot.name),
            kmsKeyId: args.kmsKeyArn,
            recoveryWindowInDays: args.recoveryWindowInDays ?? 30,
            replicas: args.peerRegion !== undefined && args.peerKmsKeyArn !== undefined ? [{ region: args.peerRegion, kmsKeyId: args.peerKmsKeyArn }] : [],
            tags: { ...args.tags, 'bot-dr:bot': bot.name },
          },
          { ...child, retainOnDelete },
        );
      }
      if (!args.adopt) createSeedVersion(`${name}-${bot.name}-value`, secret, bot, args.activeRegion, { ...child, retainOnDelete });
      arns[bot.name] = secret.arn;
      names[bot.name] = secretName;
    }
    this.secretArns = pulumi.output(arns);
    this.secretNames = names;
    this.registerOutputs({ secretArns: this.secretArns, secretNames: this.secretNames });
  }
}

/**
 * The seed value of a created secret: written once, then the token engine's. `ignoreChanges` keeps every later
 * `pulumi up` from writing it again (and from moving AWSCURRENT back to it); the seed label keeps it from being
 * removed as a deprecated version.
 */
function createSeedVersion(name: string, secret: aws.secretsmanager.Secret, bot: BotTokenSpec, activeRegion: string | undefined, opts: pulumi.CustomResourceOptions): aws.secretsmanager.SecretVersion {
  const platform = bot.platform ?? 'telegram';
  return new aws.secretsmanager.SecretVersion(
    name,
    {
      secretId: secret.id,
      secretString: pulumi.secret(pulumi.output(bot.tokens ?? []).apply((tokens) => botTokenSecretString(bot.name, tokens, platform, activeRegion))),
      versionStages: [BOT_TOKEN_SEED_STAGE],
    },
    { ...opts, ignoreChanges: ['secretString', 'versionStages'] },
  );
}
