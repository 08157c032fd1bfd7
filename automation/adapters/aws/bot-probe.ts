/**
 * The failover's BotsPort on AWS: after `promote-secrets`, every bot's ACTIVE token as the survivor region sees it.
 *
 * - The bots: every stack's `botTokenSecretArns` output (bot → secret ARN, the owner's), each ARN moved to the region
 *   asked about (a replica, and so a promoted replica, keeps the secret's name and suffix).
 * - Per bot: `GetSecretValue` (AWSCURRENT) in that region through {@link SecretsTokenStore} (the token values are
 *   registered for redaction before anything else), then one probe of the active token (Telegram `getMe`, Discord
 *   `GET /users/@me` + `GET /gateway/bot`; adapters/bots `botTokenProber`).
 * Read-only: nothing is written, no decision is taken (the survivor's token monitor does that). A secret that cannot
 * be read is `unreadable`, a probe that throws is `failing`: never an exception, never a token in the result.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../../core/clock';
import { errorSummary } from '../../core/errors';
import { redact } from '../../core/redact';
import type { ActiveTokenProbe, BotsPort, CallOptions } from '../../failover/index';
import type { TokenProber } from '../../tokens';
import { botTokenProber, type BotTokenProberOptions } from '../bots/index';
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
  private readonly prober: TokenProber;

  constructor(private readonly o: AwsActiveTokenProbeOptions) {
    this.bots = botSecretArns(o.topology);
    this.unavailable = this.bots.length ? undefined : 'the stacks output no bot-token secrets (botTokenSecretArns is empty on both)';
    const probers: BotTokenProberOptions = { clock: o.clock, telegram: { apiRoot: o.apis?.telegram }, discord: { api: o.apis?.discord } };
    this.prober = o.prober ?? botTokenProber(probers);
  }

  async probeActive(region: string, opts: CallOptions = {}): Promise<ActiveTokenProbe[]> {
    const arns = new Map(this.bots.map((b) => [b.bot, secretArnInRegion(b.arn, region)]));
    const store = new SecretsTokenStore({
      client: this.o.secretsManager(region),
      region,
      secretId: (bot) => arns.get(bot) ?? bot,
      clock: this.o.clock,
      retry: this.o.retry,
      log: opts.log,
    });
    return Promise.all(this.bots.map(({ bot }) => this.probeOne(store, bot, region, opts)));
  }

  private async probeOne(store: SecretsTokenStore, bot: string, region: string, opts: CallOptions): Promise<ActiveTokenProbe> {
    let record;
    try {
      record = (await store.read(bot, { signal: opts.signal })).record;
    } catch (err) {
      return { bot, platform: 'unknown', active: -1, state: 'unreadable', detail: redact(`reading its secret in ${region}: ${errorSummary(err)}`) };
    }
    const { platform, active } = record;
    try {
      const p = await this.prober.probe({ platform, token: record.tokens[active], index: active, signal: opts.signal });
      return { bot, platform, active, state: p.state, latency_ms: p.latency_ms, ...(p.detail ? { detail: redact(p.detail) } : {}) };
    } catch (err) {
      return { bot, platform, active, state: 'failing', detail: redact(`probe error: ${errorSummary(err)}`) };
    }
  }
}
