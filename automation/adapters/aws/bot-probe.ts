/**
 * The failover's BotsPort on AWS: every bot's secret in each region (issue 10: the ACTIVE token as the survivor sees
 * it after `promote-secrets`; issue 11: one consumer per token — the record's `active_region` in each region's copy).
 *
 * - The bots: every stack's `botTokenSecretArns` output (bot → secret ARN, the owner's), each ARN moved to the region
 *   asked about (a replica, and so a promoted replica, keeps the secret's name and suffix).
 * - Per bot: `GetSecretValue` (AWSCURRENT) in that region through {@link SecretsTokenStore} (the token values are
 *   registered for redaction before anything else), then one probe of the active token (Telegram `getMe`, Discord
 *   `GET /users/@me` + `GET /gateway/bot`; adapters/bots `botTokenProber`).
 * The probe is read-only: no decision is taken (the survivor's token monitor does that). A secret that cannot be read
 * is `unreadable`, a probe that throws is `failing`: never an exception, never a token in the result.
 *
 * One consumer per token:
 * - `activeRegions(copy)`: `GetSecretValue` (AWSCURRENT) of every bot's secret IN `copy` (the survivor's promoted
 *   replica, or the lost region's copy — standalone since replication was stopped, still naming the old region). A
 *   region whose Secrets Manager does not answer gives `unreachable` entries.
 * - `setActiveRegion(copy, bot, region)`: the token engine's `setActiveRegion` over {@link SecretsTokenStore} in
 *   `copy`: `GetSecretValue`, then (only when it names another region) `DescribeSecret`, `PutSecretValue` with
 *   `ClientRequestToken` = the decision id (failover id, bot, version read) and no `VersionStages` (AWSCURRENT moves
 *   to it), `DescribeSecret` again — the token store's compare-and-set; a lost race is re-read and retried.
 * - `serving(region)`: for verify — the record's `active_region`, the active token probed, and where updates go
 *   (Telegram `getWebhookInfo`, Discord `GET /applications/@me`; never `getUpdates`), judged against the failover
 *   record's name (`shared`) and `regionHosts[region]` (that region's own endpoint, when it has one).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../../core/clock';
import type { ActiveTokenProbe, BotActiveRegion, BotServing, BotsPort, CallOptions } from '../../failover/index';
import type { TokenProber } from '../../tokens';
import { StoreBotTier } from '../bots/bot-tier';
import { botTokenProber, type BotTokenProberOptions } from '../bots/index';
import { platformTargetReader, type UpdateTargetReader } from '../bots/update-target';
import type { Backoff } from './retry';
import { SecretsTokenStore } from './token-store';
import { secretArnInRegion, type AwsTopology } from './topology';

/** Options of {@link AwsActiveTokenProbe}. */
export interface AwsActiveTokenProbeOptions {
  topology: AwsTopology;
  /** A Secrets Manager client per region. */
  secretsManager: (region: string) => SecretsManagerClient;
  /** Default: {@link botTokenProber} over `apis` (the real Telegram and Discord APIs unless given). */
  prober?: TokenProber;
  /** API roots of the default prober (the CLI's `DR_TELEGRAM_API_URL` / `DR_DISCORD_API_URL`). */
  apis?: { telegram?: string; discord?: string };
  clock?: Clock;
  retry?: Partial<Backoff>;
  /** Where updates go, for verify (default: Telegram getWebhookInfo and Discord applications/@me over `apis`). */
  targets?: UpdateTargetReader;
  /**
   * Region → the hosts of that region's own endpoint, if bots' webhooks may point there (default none: only the
   * failover record's name, `dns.record`, counts besides polling and gateway bots).
   */
  regionHosts?: Record<string, string[]>;
}

/** Bot name → its secret ARN as the stacks output it (first stack that names a bot wins; both name the same secret). */
export function botSecretArns(topology: AwsTopology): Array<{ bot: string; arn: string }> {
  const out = new Map<string, string>();
  for (const r of topology.regions) for (const [bot, arn] of Object.entries(r.botTokenSecrets)) if (!out.has(bot)) out.set(bot, arn);
  return [...out].map(([bot, arn]) => ({ bot, arn })).sort((a, b) => a.bot.localeCompare(b.bot));
}

/** {@link BotsPort} over Secrets Manager and the platform probers; see the module comment. */
export class AwsActiveTokenProbe implements BotsPort {
  readonly unavailable: string | undefined;
  private readonly bots: Array<{ bot: string; arn: string }>;
  private readonly tier: StoreBotTier;

  constructor(private readonly o: AwsActiveTokenProbeOptions) {
    this.bots = botSecretArns(o.topology);
    this.unavailable = this.bots.length ? undefined : 'the stacks output no bot-token secrets (botTokenSecretArns is empty on both)';
    const probers: BotTokenProberOptions = { clock: o.clock, telegram: { apiRoot: o.apis?.telegram }, discord: { api: o.apis?.discord } };
    this.tier = new StoreBotTier({
      bots: this.bots.map((b) => b.bot),
      storeOf: (region, log) => this.store(region, log),
      prober: o.prober ?? botTokenProber(probers),
      targets: o.targets ?? platformTargetReader({ telegram: { apiRoot: o.apis?.telegram }, discord: { api: o.apis?.discord } }),
      hostsOf: (region) => ({ shared: o.topology.dns ? [o.topology.dns.record] : [], region: o.regionHosts?.[region] ?? [] }),
    });
  }

  /** The bots' records in `region` (its copy of each secret: the ARN moved to that region). */
  private store(region: string, log?: (line: string) => void): SecretsTokenStore {
    const arns = new Map(this.bots.map((b) => [b.bot, secretArnInRegion(b.arn, region)]));
    return new SecretsTokenStore({ client: this.o.secretsManager(region), region, secretId: (bot) => arns.get(bot) ?? bot, clock: this.o.clock, retry: this.o.retry, log });
  }

  probeActive(region: string, opts: CallOptions = {}): Promise<ActiveTokenProbe[]> {
    return this.tier.probeActive(region, opts);
  }

  activeRegions(copy: string, opts: CallOptions = {}): Promise<BotActiveRegion[]> {
    return this.tier.activeRegions(copy, opts);
  }

  setActiveRegion(copy: string, bot: string, active: string, opts: CallOptions & { failover: string }): Promise<void> {
    return this.tier.setActiveRegion(copy, bot, active, opts);
  }

  serving(region: string, opts: CallOptions = {}): Promise<BotServing[]> {
    return this.tier.serving(region, opts);
  }
}
