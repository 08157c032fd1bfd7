/**
 * A small `getUpdates` client for polling bots (issue 11: one consumer per token), through grammY's `Api`: each poll
 * confirms what the previous one returned (`offset` = last update_id + 1) and reports Telegram's 409s as outcomes,
 * not errors, because a 409 is the split-brain signal the failover and the drill count:
 *
 * - `other-getUpdates`: "Conflict: terminated by other getUpdates request" — another consumer polls the same token;
 * - `webhook-active`: "Conflict: can't use getUpdates method while webhook is active";
 * - `setWebhook`: "Conflict: terminated by setWebhook request".
 *
 * `consumer` is sent as the `X-Dr-Consumer` header, which the real Bot API ignores and the rehearsal's fake records
 * (so the drill can tell region A's worker from region B's). Any other failure throws (OperationError for a Bot API
 * error, UnreachableError when there is no answer), never with the token in it.
 */
import type { Api } from 'grammy';
import type { Update } from 'grammy/types';
import { telegramApi, telegramCall, telegramErrorDetail, type TelegramClientOptions } from './telegram-call';

/** Why a poll got 409. */
export type ConflictKind = 'other-getUpdates' | 'webhook-active' | 'setWebhook';

/** What one poll brought. */
export type PollOutcome =
  | { kind: 'updates'; updates: Update[]; offset: number }
  | { kind: 'conflict'; reason: ConflictKind; description: string };

/** Options of {@link TelegramPoller}. */
export interface TelegramPollerOptions extends TelegramClientOptions {
  /** A label for the fake's records (`X-Dr-Consumer`), e.g. the region. */
  consumer?: string;
  /** Long-poll timeout in seconds (default 25; 0 for a short poll). */
  timeoutSeconds?: number;
  allowedUpdates?: readonly string[];
  /** Resume from this offset (default 0: whatever is queued). */
  offset?: number;
}

/** The kind of a Telegram 409 from its description, or undefined when it is not one of the three. */
export function conflictKind(description: string): ConflictKind | undefined {
  if (/terminated by other getUpdates request/i.test(description)) return 'other-getUpdates';
  if (/can't use getUpdates method while webhook is active/i.test(description)) return 'webhook-active';
  if (/terminated by setWebhook request/i.test(description)) return 'setWebhook';
  return undefined;
}

type GetUpdatesOther = NonNullable<Parameters<Api['getUpdates']>[0]>;

/** Polls one token's updates (see the module comment). */
export class TelegramPoller {
  private next: number;
  private readonly api: Api;
  private readonly timeoutSeconds: number;
  private readonly httpTimeoutMs: number;

  constructor(
    private readonly token: string,
    private readonly o: TelegramPollerOptions = {},
  ) {
    this.next = o.offset ?? 0;
    this.timeoutSeconds = o.timeoutSeconds ?? 25;
    this.httpTimeoutMs = Math.max(o.timeoutMs ?? 10_000, (this.timeoutSeconds + 10) * 1000);
    const consumer = o.consumer;
    const withLabel: typeof fetch | undefined = consumer
      ? (input, init) => fetch(input, { ...init, headers: { ...((init?.headers as Record<string, string> | undefined) ?? {}), 'x-dr-consumer': consumer } })
      : undefined;
    this.api = telegramApi(token, { ...o, timeoutMs: this.httpTimeoutMs }, withLabel);
  }

  /** The offset the next poll sends (it confirms every update below it). */
  get offset(): number {
    return this.next;
  }

  /** One `getUpdates`; a 409 is an outcome (see the module comment). */
  async poll(signal?: AbortSignal): Promise<PollOutcome> {
    const other: GetUpdatesOther = { offset: this.next, timeout: this.timeoutSeconds, ...(this.o.allowedUpdates ? { allowed_updates: [...this.o.allowedUpdates] as unknown as GetUpdatesOther['allowed_updates'] } : {}) };
    try {
      const updates = await telegramCall('getUpdates', [this.token], () => this.api.getUpdates(other, signal as Parameters<Api['getUpdates']>[1]), this.httpTimeoutMs);
      if (updates.length) this.next = updates[updates.length - 1].update_id + 1;
      return { kind: 'updates', updates, offset: this.next };
    } catch (err) {
      const d = telegramErrorDetail(err);
      const reason = d && d.error_code === 409 ? conflictKind(d.description) : undefined;
      if (d && reason) return { kind: 'conflict', reason, description: d.description };
      throw err;
    }
  }
}
