/**
 * Where `dr tokens` finds the bots' token records on AWS, from both stacks' outputs:
 * - the bots and their secrets: every stack's `botTokenSecretArns` (bot → secret ARN; the owner outputs its own,
 *   a secondary that has not adopted the secrets outputs `{}`), each ARN mapped to the region used (a replica keeps
 *   the secret's name and suffix, so only the ARN's region changes);
 * - the region used: the SERVING one — a promoted secondary (stack config `database.promoted = true`, when the
 *   stacks can be asked), else the one stack whose `role` output is `primary` — unless the operator names another;
 * - before any write, every secret in that region is checked to be writable: a replica (`DescribeSecret` reports a
 *   `PrimaryRegion` other than its own) is read-only until a failover promotes it, and the write is refused before
 *   anything is probed or written.
 * Only identifiers here, never a secret value.
 */
import { arnRegion, defaultDirection, secretArnInRegion, type AwsTopology } from '../adapters/aws/topology';
import { RefusedError, UsageError } from '../core/errors';

/** One bot's token secret in the region used. */
export interface BotTokenSecret {
  bot: string;
  /** The secret's ARN in the region used. */
  secretId: string;
  /** The region of the ARN the stack outputs (the secret's owner when it was deployed). */
  outputRegion: string;
}

/** The region whose bot-token secrets are the writable ones: a promoted secondary, else the one primary. */
export function servingTokenRegion(aws: AwsTopology, promoted?: string): string | undefined {
  if (promoted && aws.regions.some((r) => r.region === promoted)) return promoted;
  return defaultDirection(aws)?.from;
}

/**
 * Every bot named in the stacks' `botTokenSecretArns`, with its secret's ARN in `region`, in output order. UsageError
 * when no stack outputs any bot, or when the two stacks name different secrets for the same bot.
 */
export function botTokenSecrets(aws: AwsTopology, region: string): BotTokenSecret[] {
  const out = new Map<string, BotTokenSecret>();
  const problems: string[] = [];
  for (const r of aws.regions) {
    for (const [bot, arn] of Object.entries(r.botTokenSecrets)) {
      const secretId = secretArnInRegion(arn, region);
      const seen = out.get(bot);
      if (seen && seen.secretId !== secretId) problems.push(`bot ${bot}: the stacks output two different secrets (${seen.secretId} and ${secretId} in ${region})`);
      else if (!seen) out.set(bot, { bot, secretId, outputRegion: arnRegion(arn) ?? r.region });
    }
  }
  if (problems.length) throw new UsageError(`the stacks' botTokenSecretArns disagree:\n  - ${problems.join('\n  - ')}`);
  if (out.size === 0) {
    const stacks = aws.regions.map((r) => `${r.stack} (${r.region})`).join(', ');
    throw new UsageError(`no bot-token secrets: the output botTokenSecretArns is empty on ${stacks}; deploy the bots (stack config 'bots') first, or use --file for a local tokens file`);
  }
  return [...out.values()];
}

/** The check behind the write refusal (production: `SecretsManagerReplicas.isPromoted`, a `DescribeSecret`). */
export interface SecretWritability {
  /** True when the secret in `region` is standalone (writable), false when it is a replica. */
  isPromoted(region: string, secretId: string, opts?: { signal?: AbortSignal }): Promise<boolean>;
}

/**
 * Refuse ({@link RefusedError}) when any bot's secret in `region` is a read-only replica. Runs before anything is
 * probed or written, so a refused `dr tokens check --apply|use|unpin` has touched nothing.
 */
export async function refuseReadOnlyReplicas(secrets: readonly BotTokenSecret[], region: string, o: { check: SecretWritability; serving?: string; signal?: AbortSignal }): Promise<void> {
  const replicas: BotTokenSecret[] = [];
  for (const s of secrets) if (!(await o.check.isPromoted(region, s.secretId, { signal: o.signal }))) replicas.push(s);
  if (!replicas.length) return;
  const from = [...new Set(replicas.map((s) => s.outputRegion))].join(', ');
  const where = o.serving && o.serving !== region ? `Write in the serving region (--region ${o.serving})` : 'Write in the region that owns them';
  throw new RefusedError(
    `refusing to write: the bot-token secret(s) of ${replicas.map((s) => s.bot).join(', ')} in ${region} are read-only replicas of the secrets in ${from}. ` +
      `${where}, or — if that region is lost — promote the replicas first ('dr failover' does it in its promote-secrets step). Nothing was probed or written.`,
  );
}
