/**
 * The bot-platform probers, and one {@link TokenProber} over both platforms for `runTokenCheck`. Base URLs are
 * options: the CLI and the Lambda pass `DR_TELEGRAM_API_URL` / `DR_DISCORD_API_URL` (defaults: the real APIs), the
 * rehearsal and the tests pass the fake servers'.
 *
 * Issue 11 (the platform layer of a failover): Telegram webhooks ({@link TelegramWebhooks}), a getUpdates client
 * that reports 409s ({@link TelegramPoller}), Discord's interactions endpoint ({@link DiscordInteractions}), and the
 * channel-rights checks for every token ({@link TelegramPermissions}, {@link DiscordPermissions},
 * {@link checkPermissions} → the matrix; `rightsMaps` in the token engine turns it into `decide`'s RightsMap).
 * One consumer per token (issue 11): {@link StoreBotTier}, the failover's bots over any token store per region, and
 * {@link readUpdateTarget} (where a bot's updates go, for verify, without ever polling).
 */
import type { Clock } from '../../core/clock';
import type { Platform, ProbeRequest, TokenProbe, TokenProber } from '../../tokens';
import { DiscordProber, type DiscordProberOptions } from './discord';
import { TelegramProber, type TelegramProberOptions } from './telegram';

export { TelegramProber, TELEGRAM_API_ROOT, type TelegramProberOptions } from './telegram';
export { DiscordProber, DISCORD_API, SESSION_START_WARNING, sessionStartOf, type DiscordProberOptions } from './discord';
export { PROBE_TIMEOUT_MS } from './common';
export { telegramApi, telegramCall, telegramErrorDetail, type TelegramApiErrorDetail, type TelegramClientOptions } from './telegram-call';
export { TelegramWebhooks, type EnsureWebhookInput, type EnsureWebhookResult, type TelegramWebhooksOptions, type WebhookSet, type WebhookTarget } from './telegram-webhook';
export { TelegramPoller, conflictKind, type ConflictKind, type PollOutcome, type TelegramPollerOptions } from './telegram-updates';
export { TelegramPermissions, telegramChatId } from './telegram-permissions';
export { discordCall, discordErrorDetail, discordRest, type DiscordClientOptions, type DiscordErrorDetail } from './discord-rest';
export { DiscordInteractions, type EnsureEndpointResult, type InteractionsEndpointState } from './discord-interactions';
export { DiscordPermissions, parseDiscordChannelRef, type DiscordChannelRef, type DiscordPermissionsOptions } from './discord-permissions';
export { checkPermissions, type BotChannels, type CheckPermissionsOptions } from './permissions';
export { classifyUpdateUrl, platformTargetReader, readUpdateTarget, type UpdateTarget, type UpdateTargetHosts, type UpdateTargetKind, type UpdateTargetReader } from './update-target';
export { StoreBotTier, type BotTokenState, type StoreBotTierOptions } from './bot-tier';

/** Options of {@link botTokenProber}. */
export interface BotTokenProberOptions {
  telegram?: Omit<TelegramProberOptions, 'clock'>;
  discord?: Omit<DiscordProberOptions, 'clock'>;
  clock?: Clock;
}

/** One prober per platform behind the single {@link TokenProber} the engine takes. */
export function botTokenProber(o: BotTokenProberOptions = {}): TokenProber {
  const probers: Record<Platform, TokenProber> = {
    telegram: new TelegramProber({ ...o.telegram, clock: o.clock }),
    discord: new DiscordProber({ ...o.discord, clock: o.clock }),
  };
  return {
    probe(req: ProbeRequest): Promise<TokenProbe> {
      const p = probers[req.platform];
      if (!p) return Promise.reject(new Error(`no prober for platform ${String(req.platform)}`));
      return p.probe(req);
    },
  };
}
