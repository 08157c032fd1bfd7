/**
 * One `@discordjs/rest` client per token for the issue 11 adapters, built like the prober's: no retries, no waiting
 * on rate limits (a 429 throws), no sweeper timers, a timeout. Its failures become the project's errors, built from
 * the status, Discord's JSON error code and message only (never the request URL, headers or body):
 *
 * - an API error → {@link OperationError} `Discord <what>: <status> <message> (code <code>)` with
 *   `detail: { status, code, message }`;
 * - a rate limit → OperationError with `detail: { status: 429, retry_after_s, global }`;
 * - a 5xx, a timeout, a connection error → {@link UnreachableError}.
 */
import { DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest';
import { OperationError, UnreachableError } from '../../core/errors';
import { registerSecret } from '../../core/redact';
import { isAbort, networkCode, PROBE_TIMEOUT_MS, scrub } from './common';
import { DISCORD_API } from './discord';

/** The options every Discord adapter of issue 11 takes. */
export interface DiscordClientOptions {
  /** API root without the version (default the real API). */
  api?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

/** The Discord error behind an OperationError from {@link discordCall}. */
export interface DiscordErrorDetail {
  status: number;
  code?: number;
  message?: string;
  retry_after_s?: number;
  global?: boolean;
}

/** A REST client for `token` (registered as a secret first). */
export function discordRest(token: string, o: DiscordClientOptions = {}): REST {
  registerSecret(token);
  const api = (o.api ?? DISCORD_API).replace(/\/+$/, '');
  return new REST({ api, version: '10', retries: 0, timeout: o.timeoutMs ?? PROBE_TIMEOUT_MS, offset: 0, rejectOnRateLimit: () => true, hashSweepInterval: 0, handlerSweepInterval: 0 }).setToken(token);
}

/** The detail of an error thrown by {@link discordCall}, or undefined for anything else. */
export function discordErrorDetail(err: unknown): DiscordErrorDetail | undefined {
  if (!(err instanceof OperationError) || !err.detail || typeof err.detail.status !== 'number') return undefined;
  return err.detail as unknown as DiscordErrorDetail;
}

/** Run one call; see the module comment for the errors. */
export async function discordCall<T>(what: string, token: string, fn: () => Promise<unknown>, timeoutMs = PROBE_TIMEOUT_MS): Promise<T> {
  try {
    return (await fn()) as T;
  } catch (err) {
    if (err instanceof RateLimitError) {
      const s = err.retryAfter > 0 ? err.retryAfter / 1000 : undefined;
      throw new OperationError(`Discord ${what}: 429 rate limited${err.global ? ' (global)' : ''}${s !== undefined ? `, retry after ${s} s` : ''}`, { status: 429, global: err.global, ...(s !== undefined ? { retry_after_s: s } : {}) });
    }
    if (err instanceof DiscordAPIError) {
      const message = scrub(err.message.split('\n').join('; '), token);
      const head = message.startsWith(`${err.status}`) ? message : `${err.status} ${message}`;
      if (err.status >= 500) throw new UnreachableError(`the Discord API (${what})`, head);
      const code = typeof err.code === 'number' ? err.code : undefined;
      throw new OperationError(`Discord ${what}: ${head}${code !== undefined ? ` (code ${code})` : ''}`, { status: err.status, message, ...(code !== undefined ? { code } : {}) });
    }
    if (err instanceof HTTPError) {
      if (err.status >= 500) throw new UnreachableError(`the Discord API (${what})`, `${err.status} ${scrub(err.message, token)}`);
      throw new OperationError(`Discord ${what}: ${err.status} ${scrub(err.message, token)}`, { status: err.status });
    }
    if (isAbort(err)) throw new UnreachableError(`the Discord API (${what})`, `timeout after ${timeoutMs} ms`);
    const net = networkCode(err);
    if (net) throw new UnreachableError(`the Discord API (${what})`, `connection error (${net})`);
    throw new OperationError(`Discord ${what}: unexpected error (${err instanceof Error ? err.name : typeof err})`);
  }
}
