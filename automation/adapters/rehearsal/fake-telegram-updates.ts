/**
 * The updates side of the fake Telegram Bot API: one queue per bot, handed out by `getUpdates` or posted to a webhook,
 * as the Bot API documents and as the real server behaves (checked against its answers and tdlib/telegram-bot-api):
 *
 * - **Queue.** {@link TelegramUpdates.push} simulates a user writing to the bot: the update gets the bot's next
 *   `update_id` and waits until it is confirmed. Types outside the bot's `allowed_updates` (default: every type but
 *   `chat_member`, `message_reaction`, `message_reaction_count`) are not queued, as `allowed_updates` only affects
 *   updates created after it is set. Unconfirmed updates are kept 24 hours (fake clock), then expire.
 * - **getUpdates.** `offset` confirms every update below it (a negative offset keeps the last |offset|); at most
 *   `limit` (1–100, default 100) updates are returned; with `timeout` > 0 and nothing to return, the request waits
 *   until an update is pushed or the timeout ends. Returned updates stay queued until a later `offset` confirms
 *   them, so a consumer that dies before confirming leaves them to the next one.
 * - **One consumer.** A new `getUpdates` while another one of the same bot is waiting ends the waiting one with 409
 *   "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" (the newer
 *   request wins, as on Telegram); `setWebhook` ends it with 409 "Conflict: terminated by setWebhook request";
 *   `getUpdates` while a webhook is set answers 409 "Conflict: can't use getUpdates method while webhook is active;
 *   use deleteWebhook to delete the webhook first". Each is counted per consumer. A consumer is named by the
 *   `X-Dr-Consumer` request header (the real API ignores it; the rehearsal's workers send their region), else
 *   `anonymous`. A poll whose client hangs up stops waiting, without a conflict.
 * - **Webhook.** With a webhook set, queued updates are POSTed to its URL one at a time in order (Telegram uses up to
 *   `max_connections` in parallel: the fake is sequential), JSON, with `X-Telegram-Bot-Api-Secret-Token` when a
 *   secret was set. A 2xx confirms the update; anything else keeps it pending and records `last_error_date` /
 *   `last_error_message` ("Wrong response from the webhook: 500 Internal Server Error", "Connection refused", "Read
 *   timeout expired"), then delivery is retried after `retryMs`. `setWebhook` accepts https URLs, and http URLs on
 *   loopback addresses (the rehearsal's targets on 127.0.0.1; the real API refuses them). The fake never leaves
 *   the machine: it posts only to loopback URLs, and holds the updates of a webhook elsewhere (pending, no error
 *   recorded: the fake cannot know how that host would answer). `ip_address` in
 *   `getWebhookInfo` is the pinned address, else the loopback/literal address the URL names (as the real API
 *   reports the address it uses). `drop_pending_updates` is honoured (and recorded, so a test can assert it never
 *   happened).
 */
import { WEBHOOK_SECRET_PATTERN } from '../../tokens';

/** One update as the fake queues it. */
export type FakeUpdate = { update_id: number } & Record<string, unknown>;

/** A Bot API answer (the fake Telegram's envelope). */
export type UpdatesAnswer =
  | { ok: true; result: unknown; description?: string }
  | { ok: false; error_code: number; description: string };

/** Every `setWebhook` / `deleteWebhook` call, as recorded (never the secret itself). */
export interface WebhookRegistration {
  at: string;
  method: 'setWebhook' | 'deleteWebhook';
  url: string;
  secret_token_set: boolean;
  allowed_updates?: string[];
  ip_address?: string;
  max_connections?: number;
  drop_pending_updates: boolean;
}

/** One attempt to post an update to a webhook. */
export interface WebhookDelivery {
  at: string;
  update_id: number;
  url: string;
  ok: boolean;
  status?: number;
  error?: string;
}

/** What one consumer (an `X-Dr-Consumer` label) did with one bot's updates. */
export interface ConsumerStats {
  consumer: string;
  polls: number;
  /** Updates returned to it (an unconfirmed update returned twice counts twice). */
  updates_received: number;
  /** Its waiting polls ended by another consumer's getUpdates. */
  conflicts: number;
  /** Its getUpdates refused because a webhook was set. */
  webhook_conflicts: number;
  /** Its waiting polls ended by a setWebhook. */
  terminated_by_setwebhook: number;
  first_poll_at: string;
  last_poll_at: string;
  waiting: boolean;
}

/** One 409 handed out, in order. */
export interface ConflictRecord {
  at: string;
  kind: 'other-getUpdates' | 'webhook-active' | 'setWebhook';
  /** The consumer that got the 409. */
  consumer: string;
  /** The consumer whose request ended it (other-getUpdates). */
  by?: string;
}

/** Counters of one bot's updates. */
export interface UpdateStats {
  pushed: number;
  /** Not queued: outside `allowed_updates`. */
  filtered: number;
  queued: number;
  confirmed: number;
  expired: number;
  dropped: number;
  delivered_webhook: number;
  webhook_failures: number;
  conflicts: number;
}

interface Waiting {
  consumer: string;
  limit: number;
  finish: (a: UpdatesAnswer) => void;
}

interface Webhook {
  url: string;
  secret?: string;
  ip_address?: string;
  max_connections: number;
  last_error_date?: number;
  last_error_message?: string;
}

interface BotUpdates {
  nextId: number;
  queue: Array<{ update: FakeUpdate; at: number }>;
  allowed?: string[];
  webhook?: Webhook;
  /** Bumped on every webhook change: a delivery begun under an older one does not confirm. */
  generation: number;
  waiting?: Waiting;
  consumers: Map<string, ConsumerStats>;
  conflicts: ConflictRecord[];
  registrations: WebhookRegistration[];
  deliveries: WebhookDelivery[];
  stats: UpdateStats;
  /** The delivery run in progress. */
  delivering?: Promise<void>;
  retry?: NodeJS.Timeout;
}

/** Options of {@link TelegramUpdates}. */
export interface TelegramUpdatesOptions {
  now: () => number;
  /** Delay before a failed webhook delivery is retried (default 1000 ms; real time). */
  retryMs?: number;
  /** A webhook target that takes longer is a "Read timeout expired" (default 5000 ms). */
  deliveryTimeoutMs?: number;
  /** Longest long poll honoured, seconds (default 50). */
  maxPollSeconds?: number;
}

/** Every update type of the Bot API, and the default subscription (all but three). */
export const UPDATE_TYPES = [
  'message', 'edited_message', 'channel_post', 'edited_channel_post', 'business_connection', 'business_message', 'edited_business_message',
  'deleted_business_messages', 'guest_message', 'stopped_message_generation', 'message_reaction', 'message_reaction_count', 'inline_query',
  'chosen_inline_result', 'callback_query', 'shipping_query', 'pre_checkout_query', 'purchased_paid_media', 'poll', 'poll_answer',
  'my_chat_member', 'chat_member', 'chat_join_request', 'chat_boost', 'removed_chat_boost', 'managed_bot', 'subscription',
] as const;
const NOT_BY_DEFAULT = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);
const KEEP_MS = 24 * 3_600_000;
const RECORDS = 1000;

/** Telegram's 409 description for a long poll ended by a newer getUpdates of the same bot. */
export const CONFLICT_OTHER = 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
/** Telegram's 409 description for getUpdates while a webhook is set. */
export const CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
/** Telegram's 409 description for a long poll ended by setWebhook. */
export const CONFLICT_SETWEBHOOK = 'Conflict: terminated by setWebhook request';

const bad = (description: string): UpdatesAnswer => ({ ok: false, error_code: 400, description: `Bad Request: ${description}` });
const conflict = (description: string): UpdatesAnswer => ({ ok: false, error_code: 409, description });

/** `allowed_updates` as a list, from a JSON array or its JSON text (form and query parameters); undefined: not given. */
export function parseAllowedUpdates(v: unknown): string[] | undefined {
  let list: unknown = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(list)) return undefined;
  return list.filter((x): x is string => typeof x === 'string' && (UPDATE_TYPES as readonly string[]).includes(x));
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > RECORDS) list.splice(0, list.length - RECORDS);
}

/** Whether a webhook URL is acceptable: https, or http on a loopback address (see the module comment). */
export function webhookUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'bad webhook: invalid webhook URL specified';
  }
  if (u.protocol === 'https:' || (u.protocol === 'http:' && isLoopback(url))) return undefined;
  return 'bad webhook: An HTTPS URL must be provided for webhook';
}

/** Whether a URL names a loopback host (the only targets the fake ever posts to). */
function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

function addressOf(url: string): string | undefined {
  const host = new URL(url).hostname;
  if (host === 'localhost') return '127.0.0.1';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return host;
  if (host.startsWith('[')) return host.slice(1, -1);
  return undefined;
}

/** Telegram's wording for a failed delivery. */
function deliveryError(err: unknown, timedOut: boolean): string {
  if (timedOut) return 'Read timeout expired';
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  if (code === 'ECONNREFUSED') return 'Connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'Connection reset by peer';
  return 'Connection failed';
}

/** The queues, consumers and webhooks of every bot of one fake Telegram server. */
export class TelegramUpdates {
  private readonly bots = new Map<string, BotUpdates>();
  private readonly retryMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly maxPollSeconds: number;
  private outgoing = new AbortController();
  private closed = false;

  constructor(private readonly o: TelegramUpdatesOptions) {
    this.retryMs = o.retryMs ?? 1000;
    this.deliveryTimeoutMs = o.deliveryTimeoutMs ?? 5000;
    this.maxPollSeconds = o.maxPollSeconds ?? 50;
  }

  private iso(): string {
    return new Date(this.o.now()).toISOString();
  }

  private bot(botId: string): BotUpdates {
    let b = this.bots.get(botId);
    if (!b) {
      b = {
        nextId: 100_000_001, queue: [], generation: 0, consumers: new Map(), conflicts: [], registrations: [], deliveries: [],
        stats: { pushed: 0, filtered: 0, queued: 0, confirmed: 0, expired: 0, dropped: 0, delivered_webhook: 0, webhook_failures: 0, conflicts: 0 },
      };
      this.bots.set(botId, b);
    }
    return b;
  }

  private expire(b: BotUpdates): void {
    const cutoff = this.o.now() - KEEP_MS;
    const before = b.queue.length;
    b.queue = b.queue.filter((q) => q.at > cutoff);
    b.stats.expired += before - b.queue.length;
  }

  private consumer(b: BotUpdates, name: string): ConsumerStats {
    let c = b.consumers.get(name);
    if (!c) {
      const at = this.iso();
      c = { consumer: name, polls: 0, updates_received: 0, conflicts: 0, webhook_conflicts: 0, terminated_by_setwebhook: 0, first_poll_at: at, last_poll_at: at, waiting: false };
      b.consumers.set(name, c);
    }
    return c;
  }

  private take(b: BotUpdates, limit: number): FakeUpdate[] {
    return b.queue.slice(0, limit).map((q) => q.update);
  }

  /** A user writes to the bot: queue `update` (its type is its first field) with the next update_id; undefined when filtered out. */
  push(botId: string, update: Record<string, unknown>): number | undefined {
    const b = this.bot(botId);
    const type = Object.keys(update).find((k) => k !== 'update_id');
    b.stats.pushed++;
    const allowed = b.allowed && b.allowed.length ? b.allowed : UPDATE_TYPES.filter((t) => !NOT_BY_DEFAULT.has(t));
    if (!type || !(allowed as readonly string[]).includes(type)) {
      b.stats.filtered++;
      return undefined;
    }
    const id = b.nextId++;
    b.queue.push({ update: { ...update, update_id: id }, at: this.o.now() });
    b.stats.queued++;
    if (b.waiting) {
      const w = b.waiting;
      b.waiting = undefined;
      const updates = this.take(b, w.limit);
      this.consumer(b, w.consumer).updates_received += updates.length;
      w.finish({ ok: true, result: updates });
    }
    if (b.webhook) void this.deliver(botId);
    return id;
  }

  private endWaiting(b: BotUpdates, kind: 'other-getUpdates' | 'setWebhook', by?: string): void {
    const w = b.waiting;
    if (!w) return;
    b.waiting = undefined;
    const c = this.consumer(b, w.consumer);
    c.waiting = false;
    if (kind === 'other-getUpdates') c.conflicts++;
    else c.terminated_by_setwebhook++;
    b.stats.conflicts++;
    push(b.conflicts, { at: this.iso(), kind, consumer: w.consumer, ...(by ? { by } : {}) });
    w.finish(conflict(kind === 'other-getUpdates' ? CONFLICT_OTHER : CONFLICT_SETWEBHOOK));
  }

  private confirm(b: BotUpdates, offset: number | undefined): void {
    if (offset === undefined || offset === 0) return;
    const before = b.queue.length;
    if (offset < 0) b.queue = b.queue.slice(Math.max(0, b.queue.length + offset));
    else b.queue = b.queue.filter((q) => q.update.update_id >= offset);
    b.stats.confirmed += before - b.queue.length;
  }

  /** The `getUpdates` method (see the module comment). */
  getUpdates(botId: string, params: Record<string, unknown>, consumerName: string, signal: AbortSignal): UpdatesAnswer | Promise<UpdatesAnswer> {
    const b = this.bot(botId);
    const c = this.consumer(b, consumerName);
    c.polls++;
    c.last_poll_at = this.iso();
    if (b.webhook) {
      c.webhook_conflicts++;
      b.stats.conflicts++;
      push(b.conflicts, { at: this.iso(), kind: 'webhook-active', consumer: consumerName });
      return conflict(CONFLICT_WEBHOOK);
    }
    const limit = Math.min(100, Math.max(1, num(params.limit) ?? 100));
    const timeout = Math.min(this.maxPollSeconds, Math.max(0, num(params.timeout) ?? 0));
    const allowed = parseAllowedUpdates(params.allowed_updates);
    if (allowed) b.allowed = allowed;
    this.endWaiting(b, 'other-getUpdates', consumerName);
    this.expire(b);
    this.confirm(b, num(params.offset));
    const ready = this.take(b, limit);
    if (ready.length > 0 || timeout === 0 || this.closed) {
      c.updates_received += ready.length;
      return { ok: true, result: ready };
    }
    return new Promise<UpdatesAnswer>((resolve) => {
      const timer = setTimeout(() => {
        if (b.waiting !== w) return;
        b.waiting = undefined;
        c.waiting = false;
        resolve({ ok: true, result: [] });
      }, timeout * 1000);
      const onGone = (): void => {
        clearTimeout(timer);
        if (b.waiting === w) b.waiting = undefined;
        c.waiting = false;
        resolve({ ok: true, result: [] });
      };
      const w: Waiting = {
        consumer: consumerName,
        limit,
        finish: (a) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onGone);
          c.waiting = false;
          resolve(a);
        },
      };
      signal.addEventListener('abort', onGone, { once: true });
      b.waiting = w;
      c.waiting = true;
    });
  }

  /** The `setWebhook` method. An empty `url` removes the webhook (as documented). */
  setWebhook(botId: string, p: Record<string, unknown>): UpdatesAnswer {
    const b = this.bot(botId);
    const url = typeof p.url === 'string' ? p.url : '';
    if (url === '') return this.deleteWebhook(botId, p, 'setWebhook');
    const problem = webhookUrlProblem(url);
    if (problem) return bad(problem);
    const secret = typeof p.secret_token === 'string' ? p.secret_token : undefined;
    if (secret !== undefined && !WEBHOOK_SECRET_PATTERN.test(secret)) return bad('secret token contains unallowed characters');
    const maxConnections = num(p.max_connections) ?? 40;
    if (!Number.isInteger(maxConnections) || maxConnections < 1 || maxConnections > 100) return bad('bad max_connections specified');
    const ip = typeof p.ip_address === 'string' && p.ip_address !== '' ? p.ip_address : undefined;
    const allowed = parseAllowedUpdates(p.allowed_updates);
    const drop = truthy(p.drop_pending_updates);
    const prev = b.webhook;
    const same = prev && prev.url === url && prev.secret === secret && prev.ip_address === ip && prev.max_connections === maxConnections && (allowed === undefined || JSON.stringify(allowed) === JSON.stringify(b.allowed));
    push(b.registrations, { at: this.iso(), method: 'setWebhook', url, secret_token_set: secret !== undefined, ...(allowed ? { allowed_updates: allowed } : {}), ...(ip ? { ip_address: ip } : {}), max_connections: maxConnections, drop_pending_updates: drop });
    if (allowed) b.allowed = allowed;
    if (drop) this.drop(b);
    this.endWaiting(b, 'setWebhook');
    if (!same) {
      b.generation++;
      b.webhook = { url, secret, ip_address: ip, max_connections: maxConnections, last_error_date: prev?.url === url ? prev.last_error_date : undefined, last_error_message: prev?.url === url ? prev.last_error_message : undefined };
    }
    void this.deliver(botId);
    return { ok: true, result: true, description: same ? 'Webhook is already set' : 'Webhook was set' };
  }

  private drop(b: BotUpdates): void {
    b.stats.dropped += b.queue.length;
    b.queue = [];
  }

  /** The `deleteWebhook` method (the queue stays unless `drop_pending_updates`). */
  deleteWebhook(botId: string, p: Record<string, unknown>, method: 'setWebhook' | 'deleteWebhook' = 'deleteWebhook'): UpdatesAnswer {
    const b = this.bot(botId);
    const drop = truthy(p.drop_pending_updates);
    push(b.registrations, { at: this.iso(), method, url: '', secret_token_set: false, drop_pending_updates: drop });
    if (drop) this.drop(b);
    const had = b.webhook !== undefined;
    b.webhook = undefined;
    b.generation++;
    if (b.retry) clearTimeout(b.retry);
    return { ok: true, result: true, description: had ? 'Webhook was deleted' : 'Webhook is already deleted' };
  }

  /** The `getWebhookInfo` method. */
  getWebhookInfo(botId: string): UpdatesAnswer {
    const b = this.bot(botId);
    this.expire(b);
    const w = b.webhook;
    if (!w) return { ok: true, result: { url: '', has_custom_certificate: false, pending_update_count: b.queue.length } };
    const ip = w.ip_address ?? addressOf(w.url);
    return {
      ok: true,
      result: {
        url: w.url,
        has_custom_certificate: false,
        pending_update_count: b.queue.length,
        ...(ip ? { ip_address: ip } : {}),
        ...(w.last_error_date !== undefined ? { last_error_date: w.last_error_date, last_error_message: w.last_error_message } : {}),
        max_connections: w.max_connections,
        ...(b.allowed && b.allowed.length ? { allowed_updates: b.allowed } : {}),
      },
    };
  }

  private async post(w: Webhook, update: FakeUpdate): Promise<{ ok: boolean; status?: number; error?: string }> {
    const timeout = AbortSignal.timeout(this.deliveryTimeoutMs);
    const signal = AbortSignal.any([timeout, this.outgoing.signal]);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (w.secret !== undefined) headers['x-telegram-bot-api-secret-token'] = w.secret;
    try {
      const res = await fetch(w.url, { method: 'POST', headers, body: JSON.stringify(update), signal });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
      return { ok: false, status: res.status, error: `Wrong response from the webhook: ${res.status} ${res.statusText}`.trim() };
    } catch (err) {
      return { ok: false, error: deliveryError(err, timeout.aborted) };
    }
  }

  /** Post the queued updates to the webhook, in order, until the queue is empty or a delivery fails (joins a run in progress). */
  deliver(botId: string): Promise<void> {
    const b = this.bot(botId);
    if (b.delivering) return b.delivering;
    if (this.closed) return Promise.resolve();
    b.delivering = this.run(b, botId).finally(() => {
      b.delivering = undefined;
    });
    return b.delivering;
  }

  /** Wait for a delivery in progress, then deliver what is still queued (a test's "now, please"). */
  async flush(botId: string): Promise<void> {
    await this.deliver(botId);
    await this.deliver(botId);
  }

  private async run(b: BotUpdates, botId: string): Promise<void> {
    while (b.webhook && b.queue.length && !this.closed && isLoopback(b.webhook.url)) {
      this.expire(b);
      const head = b.queue[0];
      if (!head) break;
      const w = b.webhook;
      const generation = b.generation;
      const r = await this.post(w, head.update);
      if (this.closed || b.generation !== generation) break;
      push(b.deliveries, { at: this.iso(), update_id: head.update.update_id, url: w.url, ok: r.ok, ...(r.status ? { status: r.status } : {}), ...(r.error ? { error: r.error } : {}) });
      if (r.ok) {
        if (b.queue[0] === head) b.queue.shift();
        b.stats.delivered_webhook++;
        b.stats.confirmed++;
        continue;
      }
      b.stats.webhook_failures++;
      w.last_error_date = Math.floor(this.o.now() / 1000);
      w.last_error_message = r.error;
      if (b.retry) clearTimeout(b.retry);
      b.retry = setTimeout(() => void this.deliver(botId), this.retryMs);
      b.retry.unref();
      break;
    }
  }

  /** The queued (unconfirmed) updates of a bot, oldest first. */
  queued(botId: string): FakeUpdate[] {
    const b = this.bot(botId);
    this.expire(b);
    return b.queue.map((q) => q.update);
  }

  /** Per-consumer records of a bot's getUpdates callers. */
  consumers(botId: string): ConsumerStats[] {
    return [...this.bot(botId).consumers.values()].map((c) => ({ ...c }));
  }

  /** Every 409 handed out for a bot, in order. */
  conflicts(botId: string): ConflictRecord[] {
    return [...this.bot(botId).conflicts];
  }

  /** Every setWebhook / deleteWebhook of a bot. */
  registrations(botId: string): WebhookRegistration[] {
    return [...this.bot(botId).registrations];
  }

  /** Every webhook delivery attempt of a bot. */
  deliveries(botId: string): WebhookDelivery[] {
    return [...this.bot(botId).deliveries];
  }

  /** The counters of a bot. */
  stats(botId: string): UpdateStats & { pending: number } {
    const b = this.bot(botId);
    this.expire(b);
    return { ...b.stats, pending: b.queue.length };
  }

  /** Allow deliveries again after {@link close} (the server was restarted). */
  open(): void {
    if (!this.closed) return;
    this.closed = false;
    this.outgoing = new AbortController();
    for (const id of this.bots.keys()) void this.deliver(id);
  }

  /** Stop every timer, waiting poll and outgoing delivery (the server is stopping). */
  close(): void {
    this.closed = true;
    this.outgoing.abort();
    for (const b of this.bots.values()) {
      if (b.retry) clearTimeout(b.retry);
      const w = b.waiting;
      b.waiting = undefined;
      w?.finish({ ok: true, result: [] });
    }
  }
}
