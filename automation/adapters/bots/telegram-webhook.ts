/**
 * A Telegram bot's webhook (issue 11): read it with `getWebhookInfo`, point it with `setWebhook`, remove it with
 * `deleteWebhook` for a polling bot, through grammY's `Api` at a configurable `apiRoot`.
 *
 * What this adapter sends, and can send (its API has no way to ask for anything else):
 * - `setWebhook`: `url`, `secret_token` (the bot's kept secret, validated), `allowed_updates` and `max_connections`
 *   as `getWebhookInfo` reported them just before (unless the caller names `allowedUpdates`). NEVER `ip_address`
 *   (updates follow DNS, so a failover's DNS switch moves them) and NEVER `drop_pending_updates` (updates queued
 *   during a failover are delivered to the survivor, not thrown away).
 * - `deleteWebhook`: no parameters, so `drop_pending_updates` is never set and the queue waits for the poller.
 * A webhook registered with a custom certificate is refused (RefusedError): this adapter cannot re-upload it, and
 * setting the webhook without it would break delivery.
 *
 * The token and the secret are registered as secrets before any call and never appear in a result or an error
 * (results are redacted: a webhook URL with the token in its path comes back as `…/***`).
 */
import type { Api } from 'grammy';
import { systemClock, type Clock } from '../../core/clock';
import { RefusedError, VerificationError } from '../../core/errors';
import { redactValue, registerSecret } from '../../core/redact';
import { assertWebhookSecret, sameUrl, webhookDrift, type WebhookDrift, type WebhookInfoView } from '../../tokens';
import { telegramApi, telegramCall, type TelegramClientOptions } from './telegram-call';

/** Where a bot's webhook should point. */
export interface WebhookTarget {
  url: string;
  /** The bot's kept `secret_token` (1–256 of A-Za-z0-9_-). */
  secretToken: string;
  /** Subscribe to exactly these update types; omitted: keep what getWebhookInfo reports. */
  allowedUpdates?: readonly string[];
}

/** What {@link TelegramWebhooks.set} sent (never the secret: only that one was sent). */
export interface WebhookSet {
  url: string;
  secret_token_set: true;
  allowed_updates?: string[];
  max_connections?: number;
  /** The webhook before the call. */
  before: WebhookInfoView;
}

/** What {@link TelegramWebhooks.ensure} should make true. */
export interface EnsureWebhookInput {
  /** The webhook URL, or '' for a polling bot (no webhook: getUpdates would get 409 while one is set). */
  expectedUrl: string;
  /** Required when `expectedUrl` is not ''. */
  secretToken?: string;
  allowedUpdates?: readonly string[];
  /** Set it even when nothing drifted (after a token switch: the new token's bot may never have been set). */
  force?: boolean;
  previousPending?: number;
  resolvedIps?: readonly string[];
}

/** What {@link TelegramWebhooks.ensure} found and did. */
export interface EnsureWebhookResult {
  action: 'unchanged' | 'set' | 'deleted';
  drift: WebhookDrift;
  before: WebhookInfoView;
  /** getWebhookInfo after a change. */
  after?: WebhookInfoView;
}

/** Options of {@link TelegramWebhooks}. */
export interface TelegramWebhooksOptions extends TelegramClientOptions {
  clock?: Clock;
}

/** grammY's type of `allowed_updates`. */
type AllowedUpdates = NonNullable<NonNullable<Parameters<Api['setWebhook']>[1]>['allowed_updates']>;

/** The parameters of `setWebhook` this adapter can send: nothing else exists in its vocabulary. */
interface SafeSetWebhookParams {
  secret_token: string;
  allowed_updates?: AllowedUpdates;
  max_connections?: number;
}

function view(info: Awaited<ReturnType<Api['getWebhookInfo']>>): WebhookInfoView {
  return {
    url: info.url ?? '',
    pending_update_count: info.pending_update_count ?? 0,
    has_custom_certificate: info.has_custom_certificate === true,
    ...(info.ip_address !== undefined ? { ip_address: info.ip_address } : {}),
    ...(info.last_error_date !== undefined ? { last_error_date: info.last_error_date } : {}),
    ...(info.last_error_message !== undefined ? { last_error_message: info.last_error_message } : {}),
    ...(info.max_connections !== undefined ? { max_connections: info.max_connections } : {}),
    ...(info.allowed_updates !== undefined ? { allowed_updates: [...info.allowed_updates] } : {}),
  };
}

/** Reads and points Telegram webhooks (see the module comment). */
export class TelegramWebhooks {
  private readonly clock: Clock;

  constructor(private readonly o: TelegramWebhooksOptions = {}) {
    this.clock = o.clock ?? systemClock;
  }

  private api(token: string): Api {
    return telegramApi(token, this.o);
  }

  /** `getWebhookInfo`: url ('' when none), pending_update_count, ip_address, last error, allowed_updates, … (redacted). */
  async info(token: string, signal?: AbortSignal): Promise<WebhookInfoView> {
    return redactValue(await this.rawInfo(token, signal));
  }

  /** getWebhookInfo as the platform said it (for comparisons; never returned). */
  private async rawInfo(token: string, signal?: AbortSignal): Promise<WebhookInfoView> {
    const api = this.api(token);
    return view(await telegramCall('getWebhookInfo', [token], () => api.getWebhookInfo(signal as Parameters<Api['getWebhookInfo']>[0]), this.o.timeoutMs));
  }

  /** `setWebhook` to `target`, keeping `allowed_updates` and `max_connections` (never ip_address, never drop_pending_updates). */
  async set(token: string, target: WebhookTarget, signal?: AbortSignal): Promise<WebhookSet> {
    registerSecret(target.secretToken);
    assertWebhookSecret(target.secretToken);
    const before = await this.rawInfo(token, signal);
    if (before.has_custom_certificate) throw new RefusedError(`Telegram setWebhook: the current webhook (${before.url}) uses a custom certificate, which this adapter cannot upload again; set it by hand`);
    const params: SafeSetWebhookParams = { secret_token: target.secretToken };
    const allowed = target.allowedUpdates ? [...target.allowedUpdates] : before.allowed_updates;
    if (allowed !== undefined) params.allowed_updates = allowed as unknown as AllowedUpdates;
    if (before.max_connections !== undefined) params.max_connections = before.max_connections;
    const api = this.api(token);
    await telegramCall('setWebhook', [token, target.secretToken], () => api.setWebhook(target.url, params, signal as Parameters<Api['setWebhook']>[2]), this.o.timeoutMs);
    return redactValue({ url: target.url, secret_token_set: true as const, ...(allowed !== undefined ? { allowed_updates: allowed } : {}), ...(params.max_connections !== undefined ? { max_connections: params.max_connections } : {}), before });
  }

  /** `deleteWebhook` without `drop_pending_updates`: the queued updates wait for the poller. */
  async remove(token: string, signal?: AbortSignal): Promise<void> {
    const api = this.api(token);
    await telegramCall('deleteWebhook', [token], () => api.deleteWebhook(undefined, signal as Parameters<Api['deleteWebhook']>[1]), this.o.timeoutMs);
  }

  /**
   * Read the webhook, judge it with {@link webhookDrift} and cure what a call can cure: a webhook bot whose URL or
   * IP drifted (or `force`) gets `setWebhook`; a polling bot with a webhook set gets `deleteWebhook`. Errors and a
   * growing backlog are reported in `drift`, not acted on.
   */
  async ensure(token: string, want: EnsureWebhookInput, signal?: AbortSignal): Promise<EnsureWebhookResult> {
    if (want.expectedUrl !== '') {
      if (want.secretToken === undefined) throw new RefusedError('Telegram webhook: a webhook bot needs its secret_token (generate one with newWebhookSecret and keep it in the bot\'s secret)');
      registerSecret(want.secretToken);
      assertWebhookSecret(want.secretToken);
    }
    const raw = await this.rawInfo(token, signal);
    const drift = webhookDrift({ expectedUrl: want.expectedUrl, info: raw, now: this.clock.now(), previousPending: want.previousPending, resolvedIps: want.resolvedIps });
    const before = redactValue(raw);
    if (want.expectedUrl === '') {
      if (raw.url === '') return { action: 'unchanged', drift, before };
      await this.remove(token, signal);
      return { action: 'deleted', drift, before, after: await this.info(token, signal) };
    }
    if (!drift.reset && !want.force) return { action: 'unchanged', drift, before };
    await this.set(token, { url: want.expectedUrl, secretToken: want.secretToken as string, allowedUpdates: want.allowedUpdates }, signal);
    const after = await this.rawInfo(token, signal);
    if (!sameUrl(after.url, want.expectedUrl)) throw new VerificationError(redactValue(`Telegram setWebhook answered ok, but getWebhookInfo now shows '${after.url}' instead of ${want.expectedUrl}`));
    return { action: 'set', drift, before, after: redactValue(after) };
  }
}
