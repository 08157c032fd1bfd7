/**
 * A fake Discord REST API for tests and the local rehearsal: `{api}/v10/...` with `Authorization: Bot <token>`,
 * Discord's JSON error bodies and rate-limit headers.
 *
 * - `GET /users/@me`: the bot user, or 401 `{ "message": "401: Unauthorized", "code": 0 }` (missing, unknown or
 *   revoked token);
 * - `GET /gateway/bot`: `{ url, shards, session_start_limit: { total, remaining, reset_after, max_concurrency } }`
 *   (set per token with {@link FakeDiscord.setSessionStartLimit});
 * - a rate-limited token gets 429 `{ message, retry_after, global }` with `Retry-After`, `X-RateLimit-Scope` (and
 *   `X-RateLimit-Global` when global);
 * - faults answer `{ "message": "<status>: <text>", "code": 0 }`, an HTML page, hang or reset.
 *
 * Routes are a table keyed `METHOD /path` (issue 11 adds `GET|PATCH /applications/@me`, guild roles, channel
 * overwrites through {@link FakeDiscord.route}). Point `@discordjs/rest` at it with
 * `new REST({ api: fake.api, version: '10' })`.
 */
import * as http from 'node:http';
import { FakePlatformServer, type FakeFault, type FakePlatformOptions, type FakeReply, type FakeRequest, type FakeTokenState } from './fake-platform';
import { htmlErrorPage } from './fake-telegram';

/** A route handler: the token is known, not revoked and not rate-limited when it runs. */
export type DiscordRoute = (ctx: { token: string; bot: FakeTokenState; req: FakeRequest; params: Record<string, string>; fake: FakeDiscord }) => FakeReply;

/** `session_start_limit` as Discord sends it (`reset_after` in milliseconds). */
export interface FakeSessionStartLimit {
  total: number;
  remaining: number;
  reset_after: number;
  max_concurrency: number;
}

const PREFIX = '/api/v10';

function error(status: number, message?: string): FakeReply {
  return { status, body: { message: message ?? `${status}: ${http.STATUS_CODES[status] ?? 'Error'}`, code: 0 } };
}

/** The fake Discord REST API (see the module comment). */
export class FakeDiscord extends FakePlatformServer {
  private readonly routes = new Map<string, DiscordRoute>();
  private readonly sessions = new Map<string, FakeSessionStartLimit>();

  constructor(opts: FakePlatformOptions = {}) {
    super(opts);
    this.route('GET /users/@me', ({ bot }) => ({
      status: 200,
      body: { id: bot.id, username: bot.username, discriminator: '0', global_name: null, avatar: null, bot: true, flags: 0, mfa_enabled: false, verified: true },
    }));
    this.route('GET /gateway/bot', ({ token }) => ({
      status: 200,
      body: { url: 'wss://gateway.discord.gg', shards: 1, session_start_limit: this.sessionStartLimit(token) },
    }));
  }

  /** The `api` option for `@discordjs/rest` (`http://127.0.0.1:<port>/api`). */
  get api(): string {
    return `${this.url}/api`;
  }

  /** Add or replace a route, keyed `METHOD /path` (`:name` segments become `params`). */
  route(key: string, handler: DiscordRoute): this {
    this.routes.set(key, handler);
    return this;
  }

  /** Set a token's `session_start_limit` (defaults: 1000 total, 1000 remaining, 24 h, concurrency 1). */
  setSessionStartLimit(token: string, limit: Partial<FakeSessionStartLimit>): this {
    this.state(token);
    this.sessions.set(token, { ...this.sessionStartLimit(token), ...limit });
    return this;
  }

  /** The token's current `session_start_limit`. */
  sessionStartLimit(token: string): FakeSessionStartLimit {
    return this.sessions.get(token) ?? { total: 1000, remaining: 1000, reset_after: 86_400_000, max_concurrency: 1 };
  }

  protected defaultId(n: number): string {
    return String(1_100_000_000_000_000_000n + BigInt(n));
  }

  private faultReply(f: FakeFault): FakeReply | 'hang' | 'reset' {
    if (f === 'hang' || f === 'reset') return f;
    return f.body === 'html' ? { status: f.status, body: htmlErrorPage(f.status), contentType: 'text/html' } : error(f.status);
  }

  private match(method: string, path: string): { handler: DiscordRoute; key: string; params: Record<string, string> } | undefined {
    const parts = path.split('/');
    for (const [key, handler] of this.routes) {
      const [m, p] = key.split(' ');
      const want = p.split('/');
      if (m !== method || want.length !== parts.length) continue;
      const params: Record<string, string> = {};
      if (want.every((w, i) => (w.startsWith(':') ? ((params[w.slice(1)] = decodeURIComponent(parts[i])), true) : w === parts[i]))) return { handler, key, params };
    }
    return undefined;
  }

  private rateLimited(left: number, global: boolean): FakeReply {
    const retryAfter = Math.round(left * 1000) / 1000;
    const headers: Record<string, string> = { 'retry-after': String(Math.ceil(left)), 'x-ratelimit-scope': global ? 'global' : 'user' };
    if (global) headers['x-ratelimit-global'] = 'true';
    return { status: 429, body: { message: 'You are being rate limited.', retry_after: retryAfter, global }, headers };
  }

  protected answer(req: FakeRequest): FakeReply | 'hang' | 'reset' {
    const auth = req.headers.authorization;
    const token = typeof auth === 'string' && auth.startsWith('Bot ') ? auth.slice(4) : undefined;
    if (!req.path.startsWith(`${PREFIX}/`)) return error(404, '404: Not Found');
    const path = req.path.slice(PREFIX.length);
    const found = this.match(req.method, path);
    this.count(token ?? '', found?.key ?? `${req.method} ${path}`);
    const fault = this.faultFor(token);
    if (fault) return this.faultReply(fault);
    if (!found) return error(404, '404: Not Found');
    const bot = token !== undefined ? this.tokens.get(token) : undefined;
    if (token === undefined || !bot || bot.revoked) return error(401, '401: Unauthorized');
    const left = this.rateLimitLeft(token);
    if (left > 0) return this.rateLimited(left, bot.rateLimitGlobal ?? false);
    return found.handler({ token, bot, req, params: found.params, fake: this });
  }
}
