/**
 * Where a bot's updates go, decided without I/O: the webhook `secret_token` (generated once, kept by the caller in
 * the bot's secret), the default webhook URL, and the drift rules for a Telegram webhook (`getWebhookInfo`) and a
 * Discord interactions endpoint (`GET /applications/@me`). The adapters that read and set them live in
 * `adapters/bots/telegram-webhook.ts` and `adapters/bots/discord-interactions.ts`.
 *
 * Telegram drift reasons (any one makes `drifted` true):
 * - `url-mismatch`: the registered URL is not the expected one (for a polling bot, the expected URL is '' and any
 *   registered webhook is a mismatch). Re-setting fixes it.
 * - `ip-pinned`: the webhook is delivered to an IP address that is not one the expected host resolves to. Note that
 *   `getWebhookInfo.ip_address` is documented as the "currently used webhook IP address": the real API reports it
 *   for every webhook, pinned or not. So the rule needs the caller's DNS answer (`resolvedIps`); without it the IP is
 *   not judged (`ipChecked: false`) rather than flagged on mere presence. Re-setting without `ip_address` fixes it.
 * - `recent-error`: `last_error_date` is within the window (default 5 minutes) of `now`.
 * - `pending-growing`: `pending_update_count` is above the previous observation (the caller keeps it between runs).
 * `reset` is true for the two reasons a `setWebhook` call cures (url, ip); errors and backlog are for alarms.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { defaultTelegramWebhookUrl } from '../../lib/validators';
import { UsageError } from '../core/errors';
import { redact } from '../core/redact';
import type { Platform } from './ports';

/** What Telegram accepts as `secret_token`: 1–256 characters of `A-Za-z0-9_-`. */
export const WEBHOOK_SECRET_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/** A `last_error_date` younger than this is a `recent-error` (5 minutes). */
export const WEBHOOK_ERROR_WINDOW_MS = 5 * 60_000;

/** Bytes of randomness in a generated secret (32 bytes → 43 base64url characters). */
const SECRET_BYTES = 32;

/**
 * A new webhook `secret_token`: 32 random bytes, base64url (43 characters of `A-Za-z0-9_-`, no padding). Generate it
 * once per bot and keep it in the bot's secret: Telegram sends it back in `X-Telegram-Bot-Api-Secret-Token`, and it
 * cannot be read back from the API. `randomBytes` is injectable for tests.
 */
export function newWebhookSecret(randomBytes: (n: number) => Uint8Array = nodeRandomBytes): string {
  const bytes = randomBytes(SECRET_BYTES);
  if (bytes.length < 16) throw new UsageError(`webhook secret: the random source gave ${bytes.length} bytes, need at least 16`);
  return Buffer.from(bytes).toString('base64url');
}

/** Throws a UsageError (which never quotes the value) unless `secret` is a valid `secret_token`. */
export function assertWebhookSecret(secret: string, where = 'webhook secret_token'): void {
  if (typeof secret !== 'string' || !WEBHOOK_SECRET_PATTERN.test(secret)) {
    const len = typeof secret === 'string' ? secret.length : 0;
    throw new UsageError(`${where}: must be 1–256 characters of A-Za-z0-9_- (got ${len} characters${len > 0 && len <= 256 ? ' with a character outside that set' : ''})`);
  }
}

/** The default webhook URL of a bot: `https://<recordName>/telegram/<bot>` (recordName: the stack's DNS name). */
export function defaultWebhookUrl(recordName: string, bot: string): string {
  const host = recordName.replace(/\.$/, '');
  if (!/^[A-Za-z0-9.-]+$/.test(host) || !host.includes('.')) throw new UsageError(`webhook URL: '${host}' is not a DNS name`);
  if (!/^[A-Za-z0-9_-]+$/.test(bot)) throw new UsageError(`webhook URL: bot name '${bot}' must be A-Za-z0-9_-`);
  return defaultTelegramWebhookUrl(host, bot);
}

/** How a bot receives updates (the stack config's `bots.<bot>.mode`). */
export type BotMode = 'webhook' | 'polling';

/** What the monitor needs to know about a bot's endpoint (from the stack config; never a secret). */
export interface BotEndpointSpec {
  bot: string;
  platform: Platform;
  mode: BotMode;
  /** Telegram: the webhook URL (the config's, or the DNS default); Discord: the interactions endpoint. */
  webhookUrl?: string;
}

/**
 * Where a bot's updates should go:
 * - Telegram webhook bot: its URL (`telegram-webhook`); without one (no webhookUrl, no DNS) `unconfigured`: reported,
 *   never set;
 * - Telegram polling bot: no webhook at all (`telegram-polling`: a webhook set is removed, getUpdates needs that);
 * - Discord: the interactions endpoint when a URL is configured (`discord-interactions`), else none
 *   (`discord-gateway`: an endpoint that is set anyway is reported, never cleared).
 */
export type ExpectedEndpoint =
  | { kind: 'telegram-webhook'; url: string }
  | { kind: 'telegram-polling' }
  | { kind: 'discord-interactions'; url: string }
  | { kind: 'discord-gateway' }
  | { kind: 'unconfigured'; why: string };

/** The {@link ExpectedEndpoint} of a bot. Pure. */
export function expectedEndpoint(spec: BotEndpointSpec): ExpectedEndpoint {
  if (spec.platform === 'discord') return spec.webhookUrl && spec.mode === 'webhook' ? { kind: 'discord-interactions', url: spec.webhookUrl } : { kind: 'discord-gateway' };
  if (spec.mode === 'polling') return { kind: 'telegram-polling' };
  if (!spec.webhookUrl) return { kind: 'unconfigured', why: `bot ${spec.bot} is a webhook bot without a webhook URL: set bots.${spec.bot}.webhookUrl (or dns.recordName for the default), or bots.${spec.bot}.mode polling` };
  return { kind: 'telegram-webhook', url: spec.webhookUrl };
}

/** Two URLs are the same when they parse to the same href (scheme/host case, default port); else string equality. */
export function sameUrl(a: string | null | undefined, b: string | null | undefined): boolean {
  const x = a ?? '';
  const y = b ?? '';
  if (x === y) return true;
  if (!x || !y) return false;
  try {
    return new URL(x).href === new URL(y).href;
  } catch {
    return false;
  }
}

/** The fields of Telegram's WebhookInfo the rules read (what `getWebhookInfo` returns). */
export interface WebhookInfoView {
  /** '' when no webhook is set. */
  url: string;
  pending_update_count: number;
  ip_address?: string;
  /** Unix time (seconds). */
  last_error_date?: number;
  last_error_message?: string;
  allowed_updates?: string[];
  max_connections?: number;
  has_custom_certificate?: boolean;
}

/** Why a webhook is considered drifted. */
export type WebhookDriftReason = 'url-mismatch' | 'ip-pinned' | 'recent-error' | 'pending-growing';

/** Inputs of {@link webhookDrift}. */
export interface WebhookDriftInput {
  /** The URL the bot should be registered at; '' for a polling bot (no webhook expected). */
  expectedUrl: string;
  info: WebhookInfoView;
  now: Date;
  /** `pending_update_count` at the previous observation (omit on the first). */
  previousPending?: number;
  /** The addresses the expected URL's host resolves to now; without them `ip_address` is not judged. */
  resolvedIps?: readonly string[];
  /** Default {@link WEBHOOK_ERROR_WINDOW_MS}. */
  errorWindowMs?: number;
}

/** What {@link webhookDrift} found. */
export interface WebhookDrift {
  drifted: boolean;
  /** A `setWebhook` (or, for a polling bot, a `deleteWebhook`) would cure it: url-mismatch or ip-pinned. */
  reset: boolean;
  reasons: WebhookDriftReason[];
  /** One redacted sentence per reason. */
  details: string[];
  /** Whether `ip_address` was compared with a DNS answer. */
  ipChecked: boolean;
  /** Seconds since `last_error_date` (when there is one). */
  lastErrorAgeS?: number;
}

/** The drift rules on one `getWebhookInfo` answer (see the module comment). Pure. */
export function webhookDrift(input: WebhookDriftInput): WebhookDrift {
  const { info, expectedUrl, now } = input;
  const window = input.errorWindowMs ?? WEBHOOK_ERROR_WINDOW_MS;
  const reasons: WebhookDriftReason[] = [];
  const details: string[] = [];
  if (!sameUrl(info.url, expectedUrl)) {
    reasons.push('url-mismatch');
    details.push(expectedUrl === '' ? `a webhook is set (${info.url}) but the bot polls: getUpdates answers 409 while it is` : info.url === '' ? `no webhook is set; expected ${expectedUrl}` : `the webhook points at ${info.url}; expected ${expectedUrl}`);
  }
  const ipChecked = info.url !== '' && info.ip_address !== undefined && input.resolvedIps !== undefined;
  if (ipChecked && !(input.resolvedIps as readonly string[]).includes(info.ip_address as string)) {
    reasons.push('ip-pinned');
    details.push(`updates go to ${info.ip_address}, which the webhook host does not resolve to (${(input.resolvedIps as readonly string[]).join(', ') || 'no address'}): pinned with ip_address or stale`);
  }
  let lastErrorAgeS: number | undefined;
  if (typeof info.last_error_date === 'number' && info.last_error_date > 0) {
    lastErrorAgeS = Math.round(now.getTime() / 1000 - info.last_error_date);
    if (lastErrorAgeS * 1000 < window) {
      reasons.push('recent-error');
      details.push(`the last delivery error was ${Math.max(0, lastErrorAgeS)} s ago${info.last_error_message ? `: ${info.last_error_message}` : ''}`);
    }
  }
  if (input.previousPending !== undefined && info.pending_update_count > input.previousPending) {
    reasons.push('pending-growing');
    details.push(`pending updates grew from ${input.previousPending} to ${info.pending_update_count}`);
  }
  return {
    drifted: reasons.length > 0,
    reset: reasons.includes('url-mismatch') || reasons.includes('ip-pinned'),
    reasons,
    details: details.map(redact),
    ipChecked,
    ...(lastErrorAgeS !== undefined ? { lastErrorAgeS } : {}),
  };
}

/** Whether a Discord application's `interactions_endpoint_url` needs a `PATCH /applications/@me`. */
export interface InteractionsDrift {
  drifted: boolean;
  reason?: 'unset' | 'url-mismatch' | 'unexpected';
  detail?: string;
}

/**
 * Compare the expected interactions endpoint with the application's current one. `expected` null means the bot
 * uses the gateway only, so any endpoint set is `unexpected` (reported, not cleared by the adapter on its own).
 */
export function interactionsDrift(expected: string | null, current: string | null | undefined): InteractionsDrift {
  const cur = current ?? '';
  if (expected === null) return cur === '' ? { drifted: false } : { drifted: true, reason: 'unexpected', detail: redact(`an interactions endpoint is set (${cur}) but none is expected`) };
  if (cur === '') return { drifted: true, reason: 'unset', detail: redact(`no interactions endpoint is set; expected ${expected}`) };
  if (!sameUrl(cur, expected)) return { drifted: true, reason: 'url-mismatch', detail: redact(`the interactions endpoint is ${cur}; expected ${expected}`) };
  return { drifted: false };
}
