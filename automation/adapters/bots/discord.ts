/**
 * TokenProber for Discord: `GET /users/@me` through `@discordjs/rest` (`new REST({ api, version: '10' })`), then
 * `GET /gateway/bot` for `session_start_limit` (too many IDENTIFYs and Discord resets the token: a warning is raised
 * when fewer than 10 % of the session starts are left).
 *
 * The client is built per probe with its waiting turned off, because a probe must report, not wait: `retries: 0`
 * (no retry of 5xx/timeouts), `rejectOnRateLimit: () => true` (a 429 — or the client's own pre-emptive limit — throws
 * `RateLimitError` instead of sleeping), `offset: 0`, no sweeper timers, and `timeout`. The 429 body's `retry_after`
 * (seconds, fractional) is captured by a thin `makeRequest` wrapper, since `RateLimitError` only carries the header.
 *
 * Mapping: 401 and 403 → `revoked`; 429 → `rate-limited` with `retry_after`; 5xx, timeouts and connection errors →
 * `unreachable`; any other status → `failing`. Details never include the request URL or headers.
 */
import { DefaultRestOptions, DiscordAPIError, HTTPError, RateLimitError, REST, type RESTOptions, type ResponseLike } from '@discordjs/rest';
import { Routes, type RESTGetAPICurrentUserResult, type RESTGetAPIGatewayBotResult } from 'discord-api-types/v10';
import { systemClock, type Clock } from '../../core/clock';
import { registerSecret } from '../../core/redact';
import type { ProbeRequest, SessionStartLimit, TokenProbe, TokenProber } from '../../tokens';
import { isAbort, networkCode, PROBE_TIMEOUT_MS, scrub } from './common';

/** The real Discord API root (REST adds `/v10`). */
export const DISCORD_API = 'https://discord.com/api';

/** Below this share of `total` session starts left, a probe raises the warning flag. */
export const SESSION_START_WARNING = 0.1;

/** Options of {@link DiscordProber}. */
export interface DiscordProberOptions {
  /** API root without the version (default {@link DISCORD_API}). */
  api?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  clock?: Clock;
  /** Also read `GET /gateway/bot` after a healthy `users/@me` (default true). */
  sessionStart?: boolean;
}

type Classified = Pick<TokenProbe, 'state' | 'detail' | 'retry_after_s'>;

/** A response whose body was already read, replayed from its text. */
function replay(res: ResponseLike, text: string): ResponseLike {
  return {
    body: null,
    bodyUsed: true,
    headers: res.headers,
    ok: res.ok,
    status: res.status,
    statusText: res.statusText,
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer,
  };
}

/** The `session_start_limit` of a `GET /gateway/bot` answer, with the warning flag. */
export function sessionStartOf(gw: RESTGetAPIGatewayBotResult): SessionStartLimit {
  const s = gw.session_start_limit;
  return { total: s.total, remaining: s.remaining, reset_after_ms: s.reset_after, max_concurrency: s.max_concurrency, warning: s.remaining < s.total * SESSION_START_WARNING };
}

/** Probes Discord bot tokens. */
export class DiscordProber implements TokenProber {
  private readonly api: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly sessionStart: boolean;

  constructor(o: DiscordProberOptions = {}) {
    this.api = (o.api ?? DISCORD_API).replace(/\/+$/, '');
    this.timeoutMs = o.timeoutMs ?? PROBE_TIMEOUT_MS;
    this.clock = o.clock ?? systemClock;
    this.sessionStart = o.sessionStart ?? true;
  }

  async probe(req: ProbeRequest): Promise<TokenProbe> {
    if (req.platform !== 'discord') throw new Error(`DiscordProber cannot probe a ${req.platform} token`);
    registerSecret(req.token);
    const limited: { retry_after?: number; global?: boolean } = {};
    const base = DefaultRestOptions.makeRequest;
    const makeRequest: RESTOptions['makeRequest'] = async (url, init) => {
      const res = await base(url, init);
      if (res.status !== 429) return res;
      const text = await res.text();
      try {
        const b = JSON.parse(text) as { retry_after?: unknown; global?: unknown };
        if (typeof b.retry_after === 'number') limited.retry_after = b.retry_after;
        limited.global = b.global === true;
      } catch {
        // Not JSON: the Retry-After header (in RateLimitError) is all there is.
      }
      return replay(res, text);
    };
    const rest = new REST({ api: this.api, version: '10', retries: 0, timeout: this.timeoutMs, offset: 0, rejectOnRateLimit: () => true, hashSweepInterval: 0, handlerSweepInterval: 0, makeRequest }).setToken(req.token);
    const t0 = this.clock.now().getTime();
    const latency = (): number => Math.max(0, this.clock.now().getTime() - t0);
    let me: RESTGetAPICurrentUserResult;
    try {
      me = (await rest.get(Routes.user(), { signal: req.signal })) as RESTGetAPICurrentUserResult;
    } catch (err) {
      return { index: req.index, latency_ms: latency(), ...this.classify(err, req, limited) };
    }
    const probe: TokenProbe = { index: req.index, state: 'healthy', latency_ms: latency(), detail: scrub(`@${me.username}`, req.token) };
    if (me.bot !== true) return { ...probe, state: 'failing', detail: 'users/@me: the token belongs to an account that is not a bot' };
    if (!this.sessionStart) return probe;
    try {
      probe.session_start = sessionStartOf((await rest.get(Routes.gatewayBot(), { signal: req.signal })) as RESTGetAPIGatewayBotResult);
      if (probe.session_start.warning) probe.detail = `${probe.detail}; session starts low: ${probe.session_start.remaining} of ${probe.session_start.total} left`;
    } catch (err) {
      probe.detail = `${probe.detail}; gateway/bot: ${this.classify(err, req, limited).detail ?? 'failed'}`;
    }
    return probe;
  }

  private classify(err: unknown, req: ProbeRequest, limited: { retry_after?: number; global?: boolean }): Classified {
    if (err instanceof RateLimitError) {
      const s = limited.retry_after ?? (err.retryAfter > 0 ? err.retryAfter / 1000 : undefined);
      return { state: 'rate-limited', detail: `429: rate limited${limited.global || err.global ? ' (global)' : ''}`, ...(s !== undefined ? { retry_after_s: s } : {}) };
    }
    if (err instanceof DiscordAPIError) {
      const first = err.message.split('\n')[0];
      const detail = scrub(first.startsWith(`${err.status}`) ? first : `${err.status}: ${first}`, req.token);
      if (err.status === 401 || err.status === 403) return { state: 'revoked', detail };
      if (err.status === 429) return { state: 'rate-limited', detail, ...(limited.retry_after !== undefined ? { retry_after_s: limited.retry_after } : {}) };
      return { state: err.status >= 500 ? 'unreachable' : 'failing', detail };
    }
    if (err instanceof HTTPError) return { state: err.status >= 500 ? 'unreachable' : 'failing', detail: scrub(`${err.status}: ${err.message}`, req.token) };
    if (req.signal?.aborted) return { state: 'unreachable', detail: 'aborted' };
    if (isAbort(err)) return { state: 'unreachable', detail: `timeout after ${this.timeoutMs} ms` };
    const code = networkCode(err);
    if (code) return { state: 'unreachable', detail: `connection error (${code})` };
    const name = err instanceof Error ? err.name : typeof err;
    return { state: 'failing', detail: scrub(`probe error (${name})`, req.token) };
  }
}
