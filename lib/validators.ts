/**
 * Validation rules shared by the config loader (lib/config.ts) and the components that re-check their args
 * (components/bot-tokens.ts, components/failover-dns.ts, components/alerts.ts), so both accept the same values.
 * The loader's rule is the one kept: it is what reaches the components in the program.
 *
 * Pure: no Pulumi, no I/O. Each caller words its own error (naming its own key).
 */
import { PermissionFlagsBits } from 'discord-api-types/v10';

/**
 * Bot names: 1–40 lowercase letters, digits and hyphens, starting and ending with a letter or digit. A bot name is
 * part of its secret's name (`<prefix>/bot-tokens/<bot>`), of a Pulumi resource name and of a tag value.
 */
export const BOT_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
/** {@link BOT_NAME_PATTERN} in words, for error messages. */
export const BOT_NAME_RULE = '1–40 lowercase letters, digits and hyphens';

/** Whether `name` is a valid bot name ({@link BOT_NAME_PATTERN}). */
export function isBotName(name: string): boolean {
  return BOT_NAME_PATTERN.test(name);
}

/**
 * A bot name ending like a Secrets Manager ARN suffix (`-abc123`): Secrets Manager may read its secret's name as a
 * partial ARN, so a promoted secondary cannot adopt that secret by name.
 */
export function isAdoptionAmbiguousBotName(name: string): boolean {
  return /-[a-z0-9]{6}$/.test(name);
}

/** A DNS hostname (labels of letters, digits and inner hyphens, a final alphabetic label, optional trailing dot). */
export const HOSTNAME_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i;

/** Whether `name` is a DNS hostname ({@link HOSTNAME_PATTERN}); no scheme, port or path. */
export function isHostname(name: string): boolean {
  return HOSTNAME_PATTERN.test(name);
}

/** An e-mail address: `local@domain.tld` — no whitespace, exactly one `@`, a dot in the domain. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Whether `address` is an e-mail address ({@link EMAIL_PATTERN}). */
export function isEmailAddress(address: string): boolean {
  return EMAIL_PATTERN.test(address);
}

/** Whether `url` parses as a URL with the `https:` scheme (an SNS HTTPS subscription endpoint). */
export function isHttpsUrl(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

/** The chat platforms a bot runs on (the token engine's `Platform`, automation/tokens/ports.ts). */
export const BOT_PLATFORMS = ['telegram', 'discord'] as const;
/** A bot's platform. */
export type BotPlatform = (typeof BOT_PLATFORMS)[number];

/** Whether `v` names a platform of {@link BOT_PLATFORMS}. */
export function isBotPlatform(v: unknown): v is BotPlatform {
  return typeof v === 'string' && (BOT_PLATFORMS as readonly string[]).includes(v);
}

/** A Telegram bot token: `<bot id digits>:<35 characters of [A-Za-z0-9_-]>` (what @BotFather issues). */
export const TELEGRAM_TOKEN_PATTERN = /^\d{1,20}:[A-Za-z0-9_-]{35}$/;
/** A Discord bot token: three dot-separated base64url parts (user id, timestamp, HMAC). */
export const DISCORD_TOKEN_PATTERN = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;

/** Each platform's token rule in words, for error messages (never quoting a value). */
export const PLATFORM_TOKEN_RULE: Readonly<Record<BotPlatform, string>> = {
  telegram: 'a Telegram bot token: <digits>:<35 characters of A-Z, a-z, 0-9, _ or ->',
  discord: 'a Discord bot token: three dot-separated base64url parts',
};

/** Whether `token` has the shape of a `platform` bot token (no network: a shape check only). */
export function isPlatformToken(platform: BotPlatform, token: string): boolean {
  return (platform === 'telegram' ? TELEGRAM_TOKEN_PATTERN : DISCORD_TOKEN_PATTERN).test(token);
}

/** Telegram chats: a numeric id (`-1001234567890` for a channel or supergroup) or a public `@username` (5–32 characters). */
export const TELEGRAM_CHAT_PATTERN = /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/;
/** Discord channels: a snowflake (17–20 digits). */
export const DISCORD_SNOWFLAKE_PATTERN = /^\d{17,20}$/;
/** A configured Discord channel: its snowflake, or `guildId/channelId` (the guild named lets a hidden channel be explained). */
export const DISCORD_CHANNEL_PATTERN = /^\d{17,20}(\/\d{17,20})?$/;

/** Each platform's channel-id rule in words, for error messages. */
export const PLATFORM_CHANNEL_RULE: Readonly<Record<BotPlatform, string>> = {
  telegram: 'a Telegram chat id (digits, e.g. -1001234567890) or @channelname',
  discord: 'a Discord channel snowflake (17–20 digits), or guildId/channelId',
};

/** Whether `id` is a chat or channel id of `platform`. */
export function isChannelId(platform: BotPlatform, id: string): boolean {
  return (platform === 'telegram' ? TELEGRAM_CHAT_PATTERN : DISCORD_CHANNEL_PATTERN).test(id);
}

/** How a bot receives its updates: `webhook` (Telegram setWebhook, Discord HTTP interactions) or `polling`. */
export const BOT_MODES = ['webhook', 'polling'] as const;
export type BotMode = (typeof BOT_MODES)[number];

/** Whether `v` is a {@link BotMode}. */
export function isBotMode(v: unknown): v is BotMode {
  return typeof v === 'string' && (BOT_MODES as readonly string[]).includes(v);
}

/**
 * The Discord permissions a bot needs in its configured channels when the config names none: View Channel, Send
 * Messages, Attach Files, Read Message History (discord-api-types `PermissionFlagsBits` names).
 */
export const DEFAULT_DISCORD_PERMISSIONS = ['ViewChannel', 'SendMessages', 'AttachFiles', 'ReadMessageHistory'] as const;

/** Whether `v` is a permission name of discord-api-types' `PermissionFlagsBits` (`ViewChannel`, `ManageMessages`, …). */
export function isDiscordPermissionName(v: unknown): v is keyof typeof PermissionFlagsBits {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(PermissionFlagsBits, v);
}

/**
 * The default Telegram webhook URL of a bot: `https://<recordName>/telegram/<bot>` (the failover record, so a DNS
 * failover moves the updates with it). `recordName` as configured (a trailing dot is dropped, lower-cased).
 */
export function defaultTelegramWebhookUrl(recordName: string, bot: string): string {
  return `https://${recordName.replace(/\.$/, '').toLowerCase()}/telegram/${bot}`;
}
