/**
 * The bot × token × channel rights matrix (issue 11, seed 000 AC3 and IV3): every token of every bot — not only the
 * active one — is checked in every configured channel, so a backup token that lacks a right is known before a switch
 * to it silently breaks posting and file forwarding. `rightsMaps(matrix)` (from the token engine) turns it into the
 * `RightsMap` per bot that `decide` uses to prefer tokens with every right.
 *
 * Tokens are checked one after another (a bot has a handful; the platforms rate-limit per token and per IP), and a
 * token that cannot be used (revoked, unreachable) makes its cells `error`, never `missing`. Token values are
 * registered as secrets and never part of the matrix.
 */
import { systemClock, type Clock } from '../../core/clock';
import { UsageError } from '../../core/errors';
import { registerSecret } from '../../core/redact';
import { DEFAULT_DISCORD_REQUIRED, permissionBits, type BotRights, type PermissionMatrix, type Platform, type TokenRights } from '../../tokens';
import { DiscordPermissions } from './discord-permissions';
import type { DiscordClientOptions } from './discord-rest';
import type { TelegramClientOptions } from './telegram-call';
import { TelegramPermissions } from './telegram-permissions';

/** One bot's channels (from its configuration). */
export interface BotChannels {
  bot: string;
  platform: Platform;
  /** Telegram: `-100…` / `@name`; Discord: `channelId` or `guildId/channelId`. */
  channels: readonly string[];
  /** Discord only: PermissionFlagsBits names (default View Channel, Send Messages, Attach Files, Read Message History). */
  required?: readonly string[];
}

/** Options of {@link checkPermissions}. */
export interface CheckPermissionsOptions {
  telegram?: TelegramClientOptions;
  discord?: DiscordClientOptions;
  clock?: Clock;
  signal?: AbortSignal;
}

/**
 * Check every token of every bot. `tokens`: bot name → its token values in rotation order (index = position, as in
 * the bot's record). A bot without tokens is a UsageError, as is an unknown Discord permission name (both before
 * any call).
 */
export async function checkPermissions(bots: readonly BotChannels[], tokens: Readonly<Record<string, readonly string[]>>, o: CheckPermissionsOptions = {}): Promise<PermissionMatrix> {
  const clock = o.clock ?? systemClock;
  for (const b of bots) {
    if (!tokens[b.bot]?.length) throw new UsageError(`bot ${b.bot}: no tokens to check`);
    if (b.platform === 'discord') permissionBits(b.required ?? DEFAULT_DISCORD_REQUIRED);
    else if (b.required?.length) throw new UsageError(`bot ${b.bot}: a required permission set is for Discord bots; Telegram's rights follow the chat type`);
    tokens[b.bot].forEach(registerSecret);
  }
  const checked_at = clock.now().toISOString();
  const telegram = new TelegramPermissions(o.telegram);
  const discord = new DiscordPermissions({ ...o.discord, clock });
  const out: BotRights[] = [];
  for (const b of bots) {
    const rows: TokenRights[] = [];
    for (const [index, token] of tokens[b.bot].entries()) {
      const r = b.platform === 'telegram' ? await telegram.check(token, b.channels, o.signal) : await discord.check(token, b.channels, b.required ?? DEFAULT_DISCORD_REQUIRED, o.signal);
      rows.push({ index, ...r });
    }
    out.push({ bot: b.bot, platform: b.platform, tokens: rows });
  }
  return { checked_at, bots: out };
}
