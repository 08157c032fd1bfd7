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
 * Routes are a table keyed `METHOD /path` ({@link FakeDiscord.route}). Built in besides the two above (issue 11,
 * `fake-discord-guilds.ts`): `GET|PATCH /applications/@me` (the interactions endpoint, saved only after a signed
 * PING check), `GET /guilds/:guild/roles`, `GET /guilds/:guild/members/:user`, `GET /channels/:channel` over
 * configurable guilds, roles, members and channel overwrites ({@link FakeDiscord.setGuild},
 * {@link FakeDiscord.setMember}, {@link FakeDiscord.setChannel}, …). Point `@discordjs/rest` at it with
 * `new REST({ api: fake.api, version: '10' })`.
 */
import * as http from 'node:http';
import { FakePlatformServer, type FakeFault, type FakePlatformOptions, type FakeReply, type FakeRequest, type FakeTokenState } from './fake-platform';
import { htmlErrorPage } from './fake-telegram';
import { DiscordGuilds, type ApplicationPatch, type FakeChannelConfig, type FakeGuildConfig, type FakeMemberConfig, type FakeOverwriteConfig, type FakeRoleConfig } from './fake-discord-guilds';

/** A route handler: the token is known, not revoked and not rate-limited when it runs. */
export type DiscordRoute = (ctx: { token: string; bot: FakeTokenState; req: FakeRequest; params: Record<string, string>; fake: FakeDiscord }) => FakeReply | Promise<FakeReply>;

/** Options of the fake Discord server. */
export interface FakeDiscordOptions extends FakePlatformOptions {
  /** Check an interactions endpoint with signed PINGs before saving it, as Discord does (default true). */
  verifyInteractions?: boolean;
  /** How long the endpoint check waits for an answer (default 3000 ms). */
  interactionsTimeoutMs?: number;
}

/** Who a member is: a bot by its token, or any user id. */
export type DiscordUserRef = { token: string } | { userId: string };

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
  private readonly guilds: DiscordGuilds;

  constructor(opts: FakeDiscordOptions = {}) {
    super(opts);
    this.guilds = new DiscordGuilds({ now: () => this.now(), verifyInteractions: opts.verifyInteractions ?? true, timeoutMs: opts.interactionsTimeoutMs ?? 3000 });
    const users = (id: string): FakeTokenState | undefined => [...this.tokens.values()].find((t) => t.id === id);
    this.route('GET /applications/@me', ({ bot }) => this.guilds.getApplication(bot));
    this.route('PATCH /applications/@me', ({ bot, req }) => this.guilds.patchApplication(bot, req));
    this.route('GET /guilds/:guild/roles', ({ bot, params }) => this.guilds.roles(bot, params.guild));
    this.route('GET /guilds/:guild/members/:user', ({ bot, params }) => this.guilds.member(bot, params.guild, params.user, users));
    this.route('GET /channels/:channel', ({ bot, params }) => this.guilds.channel(bot, params.channel));
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

  private userId(who: DiscordUserRef): string {
    return 'token' in who ? this.state(who.token).id : who.userId;
  }

  /** Add or replace a guild (@everyone's permissions and the other roles). */
  setGuild(cfg: FakeGuildConfig): this {
    this.guilds.setGuild(cfg);
    return this;
  }

  /** Replace a guild's roles (and @everyone's permissions when given). */
  setRoles(guildId: string, roles: FakeRoleConfig[], everyone?: bigint | string): this {
    this.guilds.setRoles(guildId, roles, everyone);
    return this;
  }

  /** Put a bot (or any user) in a guild with these role ids (and a timeout). */
  setMember(guildId: string, who: DiscordUserRef, member: FakeMemberConfig): this {
    this.guilds.setMember(guildId, this.userId(who), member);
    return this;
  }

  /** Take a member out of a guild. */
  removeMember(guildId: string, who: DiscordUserRef): this {
    this.guilds.removeMember(guildId, this.userId(who));
    return this;
  }

  /** Add or replace a guild channel and its overwrites. */
  setChannel(channel: FakeChannelConfig): this {
    this.guilds.setChannel(channel);
    return this;
  }

  /** Replace a channel's permission overwrites. */
  setOverwrites(channelId: string, overwrites: FakeOverwriteConfig[]): this {
    this.guilds.setOverwrites(channelId, overwrites);
    return this;
  }

  /** Set a bot's interactions endpoint without Discord's check (how the world was before). */
  setInteractionsEndpoint(token: string, url: string | null): this {
    this.guilds.setEndpoint(this.state(token), url);
    return this;
  }

  /** The bot's application: its endpoint and its Ed25519 public key (hex). */
  application(token: string): { id: string; interactions_endpoint_url: string | null; verify_key: string } {
    const a = this.guilds.application(this.state(token));
    return { id: a.id, interactions_endpoint_url: a.interactions_endpoint_url, verify_key: a.verify_key };
  }

  /** Every PATCH /applications/@me of the bot. */
  applicationPatches(token: string): ApplicationPatch[] {
    return this.guilds.applicationPatches(this.state(token).id);
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

  protected answer(req: FakeRequest): FakeReply | 'hang' | 'reset' | Promise<FakeReply> {
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
