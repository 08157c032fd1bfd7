/**
 * Where a bot's updates go, seen from one region, for the failover's verify (issue 11): Telegram `getWebhookInfo`
 * (a polling bot has no URL: `polling`), Discord `GET /applications/@me` (no interactions endpoint: `gateway`). Both
 * calls never conflict with a live consumer — `getUpdates` is never called here: it would itself be the second
 * consumer and end the bot's long poll with a 409.
 *
 * The URL is judged by its host: the failover record's name (`shared`: the DNS switch moves it), one of the region's
 * own endpoint hosts (`region`), anything else `elsewhere` (e.g. the lost region's endpoint: updates would not follow
 * the failover). What is reported is the URL's origin and path, redacted, never its query (a URL may carry a secret).
 */
import { errorSummary } from '../../core/errors';
import { redact } from '../../core/redact';
import type { Platform } from '../../tokens';
import { DiscordInteractions } from './discord-interactions';
import type { DiscordClientOptions } from './discord-rest';
import type { TelegramClientOptions } from './telegram-call';
import { TelegramWebhooks } from './telegram-webhook';

/** How a target relates to the region it is seen from (the failover port's `BotTargetKind`). */
export type UpdateTargetKind = 'polling' | 'gateway' | 'shared' | 'region' | 'elsewhere' | 'unknown';

/** What {@link readUpdateTarget} found. */
export interface UpdateTarget {
  target: UpdateTargetKind;
  /** `polling`, `gateway`, or the URL's origin and path (redacted, no query). */
  webhook_target?: string;
  target_detail?: string;
  /** Telegram: updates waiting (`pending_update_count`). */
  pending_updates?: number;
}

/** Reads where one token's updates go (the platform calls; injectable for tests). */
export interface UpdateTargetReader {
  /** Telegram `getWebhookInfo`: the URL ('' when none) and the pending count. */
  telegram(token: string, signal?: AbortSignal): Promise<{ url: string; pending_update_count: number }>;
  /** Discord `GET /applications/@me`: the interactions endpoint (null when none). */
  discord(token: string, signal?: AbortSignal): Promise<{ interactions_endpoint_url: string | null }>;
}

/** The hosts that count as `shared` (the failover record's name) and as the region's own endpoint. */
export interface UpdateTargetHosts {
  shared: readonly string[];
  region: readonly string[];
}

/** The default reader: the real platform calls through the issue 11 adapters. */
export function platformTargetReader(o: { telegram?: TelegramClientOptions; discord?: DiscordClientOptions } = {}): UpdateTargetReader {
  const webhooks = new TelegramWebhooks(o.telegram ?? {});
  const interactions = new DiscordInteractions(o.discord ?? {});
  return {
    telegram: (token, signal) => webhooks.info(token, signal),
    discord: (token, signal) => interactions.endpoint(token, signal),
  };
}

const norm = (h: string): string => h.replace(/\.$/, '').toLowerCase();

/** Judge a registered URL by its host (see the module comment). */
export function classifyUpdateUrl(url: string, hosts: UpdateTargetHosts): UpdateTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { target: 'elsewhere', webhook_target: redact(url.split('?')[0]), target_detail: 'not a URL' };
  }
  const shown = redact(`${u.origin}${u.pathname}`);
  const host = norm(u.hostname);
  if (hosts.shared.map(norm).includes(host)) return { target: 'shared', webhook_target: shown };
  if (hosts.region.map(norm).includes(host)) return { target: 'region', webhook_target: shown };
  return { target: 'elsewhere', webhook_target: shown };
}

/** Where `token`'s updates go (see the module comment); a platform that does not answer is `unknown`, never an exception. */
export async function readUpdateTarget(reader: UpdateTargetReader, platform: Platform, token: string, hosts: UpdateTargetHosts, signal?: AbortSignal): Promise<UpdateTarget> {
  try {
    if (platform === 'telegram') {
      const info = await reader.telegram(token, signal);
      const pending = { pending_updates: info.pending_update_count };
      return info.url === '' ? { target: 'polling', webhook_target: 'polling', ...pending } : { ...classifyUpdateUrl(info.url, hosts), ...pending };
    }
    const app = await reader.discord(token, signal);
    return app.interactions_endpoint_url ? classifyUpdateUrl(app.interactions_endpoint_url, hosts) : { target: 'gateway', webhook_target: 'gateway' };
  } catch (err) {
    return { target: 'unknown', target_detail: redact(errorSummary(err)) };
  }
}
