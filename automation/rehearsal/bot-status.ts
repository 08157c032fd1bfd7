/**
 * The local environment's per-bot status (issue 11 item 6, `dr status --local`): the rehearsal bots' settings
 * (adapters/rehearsal/bot-settings.ts), their records in the environment's tokens file and the fake Telegram and
 * Discord — the same section as on AWS (ops/bot-status.ts). Read-only.
 */
import { REHEARSAL_BOT_SETTINGS } from '../adapters/rehearsal/bot-settings';
import type { LocalState } from '../adapters/rehearsal/state';
import { systemClock } from '../core/clock';
import { botsStatus, type BotStatus } from '../ops/bot-status';
import { localPlatformUrls, localTokenStore } from './token-monitor';

/** Every rehearsal bot's status, or undefined for an environment without the bot tier. */
export async function localBotsStatus(s: LocalState): Promise<BotStatus[] | undefined> {
  if (!s.platform || !s.tokens_file) return undefined;
  const urls = localPlatformUrls(s);
  return botsStatus({ bots: REHEARSAL_BOT_SETTINGS, store: localTokenStore(s), telegram: { apiRoot: urls.telegram, timeoutMs: 2000 }, discord: { api: urls.discord, timeoutMs: 2000 }, clock: systemClock });
}
