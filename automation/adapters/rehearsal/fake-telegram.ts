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
 * Methods are a table (`getMe` built in); issue 11 adds `setWebhook`, `getWebhookInfo`, `getUpdates` (409 for a second
 * concurrent consumer), `getChatMember` through {@link FakeTelegram.method}. Point grammY at it with
 * `new Api(token, { apiRoot: fake.url })`.
 */
import * as http from 'node:http';
import { FakePlatformServer, type FakeFault, type FakePlatformOptions, type FakeReply, type FakeRequest, type FakeTokenState } from './fake-platform';

/** A Bot API answer. */
export type TelegramAnswer =
  | { ok: true; result: unknown }
  | { ok: false; error_code: number; description: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } };

/** A method handler: the token is known, not revoked and not rate-limited when it runs. */
export type TelegramMethod = (ctx: { token: string; bot: FakeTokenState; params: Record<string, unknown>; fake: FakeTelegram }) => TelegramAnswer;

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

  constructor(opts: FakePlatformOptions = {}) {
    super(opts);
    this.method('getMe', ({ bot }) => ({
      ok: true,
      result: { id: Number(bot.id), is_bot: true, first_name: bot.username, username: bot.username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false },
    }));
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

  protected answer(req: FakeRequest): FakeReply | 'hang' | 'reset' {
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
    const answer = handler({ token, bot, params, fake: this });
    return { status: answer.ok ? 200 : answer.error_code, body: answer };
  }
}
