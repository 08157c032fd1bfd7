/**
 * A fake Telegram Bot API server for tests and the local rehearsal: `{apiRoot}/bot<token>/<method>` (GET or POST,
 * JSON, form or query parameters), answered with the Bot API envelope `{ ok: true, result }` or
 * `{ ok: false, error_code, description, parameters? }`.
 *
 * - a well-formed token that is unknown or revoked gets 401 "Unauthorized" (the only way to get 401); a token that
 *   is not `<digits>:<chars>` gets 404 "Not Found", as the real server answers;
 * - a rate-limited token gets 429 "Too Many Requests: retry after N" with `parameters.retry_after`;
 * - faults (per token or platform-wide) answer a 5xx envelope, a proxy's HTML page, hang or reset.
 *
 * Methods are a table ({@link FakeTelegram.method}). Built in: `getMe`; the updates methods `getUpdates`,
 * `setWebhook`, `deleteWebhook`, `getWebhookInfo` (one queue per bot, 409 conflicts, webhook delivery with the
 * secret header: `fake-telegram-updates.ts`), and `getChat`, `getChatMember` over configurable chats and
 * memberships (`fake-telegram-chats.ts`). Control them in-process: {@link FakeTelegram.pushUpdate},
 * {@link FakeTelegram.setChat}, {@link FakeTelegram.setChatMember}, and read back queues, consumers, conflicts,
 * webhook registrations and deliveries. Point grammY at it with `new Api(token, { apiRoot: fake.url })`.
 */
import * as http from 'node:http';
import { redactValue } from '../../core/redact';
import { FakePlatformServer, type FakeFault, type FakePlatformOptions, type FakeReply, type FakeRequest, type FakeTokenState } from './fake-platform';
import { TelegramChats, type FakeChat, type FakeMembership } from './fake-telegram-chats';
import { TelegramUpdates, type ConflictRecord, type ConsumerStats, type FakeUpdate, type UpdateStats, type WebhookDelivery, type WebhookRegistration } from './fake-telegram-updates';

/** A Bot API answer. */
export type TelegramAnswer =
  | { ok: true; result: unknown; description?: string }
  | { ok: false; error_code: number; description: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } };

/** A method handler: the token is known, not revoked and not rate-limited when it runs; a long poll answers later. */
export type TelegramMethod = (ctx: { token: string; bot: FakeTokenState; params: Record<string, unknown>; fake: FakeTelegram; req: FakeRequest }) => TelegramAnswer | Promise<TelegramAnswer>;

/** Options of the fake Telegram server. */
export interface FakeTelegramOptions extends FakePlatformOptions {
  /** Delay before a failed webhook delivery is retried (default 1000 ms). */
  webhookRetryMs?: number;
  /** A webhook target slower than this is a "Read timeout expired" (default 5000 ms). */
  webhookTimeoutMs?: number;
}

/** The request header that names a getUpdates consumer in the fake's records (ignored by the real API). */
export const CONSUMER_HEADER = 'x-dr-consumer';

/** Who a membership is for: a bot by its token, or any user id. */
export type MemberRef = { token: string } | { userId: string };

const PATH = /^\/bot([^/]+)\/([A-Za-z]+)$/;
const WELL_FORMED = /^\d+:[A-Za-z0-9_-]+$/;

function fail(status: number, description: string, parameters?: { retry_after?: number }): FakeReply {
  return { status, body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) } };
}

/** An nginx-style HTML error page (what a proxy in front of the API answers during an outage). */
export function htmlErrorPage(status: number): string {
  const title = `${status} ${http.STATUS_CODES[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/** The fake Telegram Bot API (see the module comment). */
export class FakeTelegram extends FakePlatformServer {
  private readonly methods = new Map<string, TelegramMethod>();
  private readonly updates: TelegramUpdates;
  private readonly chats = new TelegramChats();

  constructor(opts: FakeTelegramOptions = {}) {
    super(opts);
    this.updates = new TelegramUpdates({ now: () => this.now(), retryMs: opts.webhookRetryMs, deliveryTimeoutMs: opts.webhookTimeoutMs });
    this.method('getMe', ({ bot }) => ({
      ok: true,
      result: { id: Number(bot.id), is_bot: true, first_name: bot.username, username: bot.username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false },
    }));
    this.method('getUpdates', ({ bot, params, req }) => {
      const label = req.headers[CONSUMER_HEADER];
      return this.updates.getUpdates(bot.id, params, typeof label === 'string' && label ? label : 'anonymous', req.signal);
    });
    this.method('setWebhook', ({ bot, params }) => this.updates.setWebhook(bot.id, params));
    this.method('deleteWebhook', ({ bot, params }) => this.updates.deleteWebhook(bot.id, params));
    this.method('getWebhookInfo', ({ bot }) => this.updates.getWebhookInfo(bot.id));
    this.method('getChat', ({ bot, params }) => this.chats.getChat(bot, params));
    this.method('getChatMember', ({ bot, params }) => this.chats.getChatMember(bot, params, (id) => [...this.tokens.values()].find((t) => t.id === id)));
  }

  /** A user writes to the bot of `token`: the update (e.g. `{ message: {...} }`) is queued; its update_id, or undefined when `allowed_updates` filters it. */
  pushUpdate(token: string, update: Record<string, unknown>): number | undefined {
    return this.updates.push(this.state(token).id, update);
  }

  /** The bot's queued (unconfirmed) updates, oldest first. */
  queuedUpdates(token: string): FakeUpdate[] {
    return this.updates.queued(this.state(token).id);
  }

  /** The bot's getUpdates consumers (by `X-Dr-Consumer`). */
  consumers(token: string): ConsumerStats[] {
    return this.updates.consumers(this.state(token).id);
  }

  /** Every 409 the bot's consumers got, in order. */
  conflicts(token: string): ConflictRecord[] {
    return this.updates.conflicts(this.state(token).id);
  }

  /** Every setWebhook / deleteWebhook of the bot (the secret is never kept here, only whether one was set; redacted). */
  webhookRegistrations(token: string): WebhookRegistration[] {
    return redactValue(this.updates.registrations(this.state(token).id));
  }

  /** Every webhook delivery attempt of the bot (redacted). */
  webhookDeliveries(token: string): WebhookDelivery[] {
    return redactValue(this.updates.deliveries(this.state(token).id));
  }

  /** The bot's update counters and pending count. */
  updateStats(token: string): UpdateStats & { pending: number } {
    return this.updates.stats(this.state(token).id);
  }

  /** What getWebhookInfo answers for the bot right now. */
  webhookInfo(token: string): Record<string, unknown> {
    return (this.updates.getWebhookInfo(this.state(token).id) as { result: Record<string, unknown> }).result;
  }

  /** Deliver the bot's queued updates to its webhook now (instead of waiting for the retry timer). */
  flushWebhook(token: string): Promise<void> {
    return this.updates.flush(this.state(token).id);
  }

  /** Add or replace a chat. */
  setChat(chat: FakeChat): this {
    this.chats.setChat(chat);
    return this;
  }

  /** Set a bot's (or any user's) membership and rights in a chat. */
  setChatMember(chat: number | string, who: MemberRef, membership: FakeMembership): this {
    this.chats.setMember(chat, 'token' in who ? this.state(who.token).id : who.userId, membership);
    return this;
  }

  /** Remove a membership (the user is `left`). */
  removeChatMember(chat: number | string, who: MemberRef): this {
    this.chats.removeMember(chat, 'token' in who ? this.state(who.token).id : who.userId);
    return this;
  }

  protected override onStart(): void {
    this.updates.open();
  }

  protected override onStop(): void {
    this.updates.close();
  }

  /** Add or replace a Bot API method. */
  method(name: string, handler: TelegramMethod): this {
    this.methods.set(name, handler);
    return this;
  }

  protected defaultId(n: number): string {
    return String(7_000_000_000 + n);
  }

  private faultReply(f: FakeFault): FakeReply | 'hang' | 'reset' {
    if (f === 'hang' || f === 'reset') return f;
    if (f.body === 'html') return { status: f.status, body: htmlErrorPage(f.status), contentType: 'text/html' };
    return fail(f.status, http.STATUS_CODES[f.status] ?? 'Error');
  }

  protected answer(req: FakeRequest): FakeReply | 'hang' | 'reset' | Promise<FakeReply> {
    const m = PATH.exec(req.path);
    if (!m) return fail(404, 'Not Found');
    const [, token, name] = m;
    this.count(token, name);
    const fault = this.faultFor(token);
    if (fault) return this.faultReply(fault);
    if (!WELL_FORMED.test(token)) return fail(404, 'Not Found');
    const bot = this.tokens.get(token);
    if (!bot || bot.revoked) return fail(401, 'Unauthorized');
    const left = this.rateLimitLeft(token);
    if (left > 0) {
      const s = Math.ceil(left);
      return fail(429, `Too Many Requests: retry after ${s}`, { retry_after: s });
    }
    const handler = this.methods.get(name);
    if (!handler) return fail(404, 'Not Found: method not found');
    const params: Record<string, unknown> = { ...Object.fromEntries(req.query), ...req.body };
    const reply = (a: TelegramAnswer): FakeReply => ({ status: a.ok ? 200 : a.error_code, body: a });
    const answer = handler({ token, bot, params, fake: this, req });
    return answer instanceof Promise ? answer.then(reply) : reply(answer);
  }
}
