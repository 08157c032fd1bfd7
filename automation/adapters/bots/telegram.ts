/**
 * TokenProber for Telegram: one `getMe` (the Bot API's documented token test) through grammY's `Api`, pointed at
 * `apiRoot` (`https://api.telegram.org`, the local rehearsal's fake server, a self-hosted Bot API server).
 *
 * Mapping: 401 and 403 → `revoked`; 429 → `rate-limited` with `parameters.retry_after`; 5xx, timeouts, connection
 * errors and answers that are not the Bot API's JSON (a proxy's HTML page) → `unreachable`; any other error code →
 * `failing`; `is_bot: false` → `failing`. The round trip is measured with the injected clock.
 *
 * The token is in every request URL, and grammY's network errors wrap fetch errors whose messages contain that URL:
 * those messages are never read. Details are built from error codes and the Bot API's `description` only, and then
 * scrubbed of the token anyway.
 */
import { Api, GrammyError, HttpError } from 'grammy';
import { systemClock, type Clock } from '../../core/clock';
import { registerSecret } from '../../core/redact';
import type { ProbeRequest, TokenProbe, TokenProber } from '../../tokens';
import { isAbort, networkCode, PROBE_TIMEOUT_MS, scrub } from './common';

/** The real Bot API. */
export const TELEGRAM_API_ROOT = 'https://api.telegram.org';

/** Options of {@link TelegramProber}. */
export interface TelegramProberOptions {
  /** Bot API root without a trailing slash (default {@link TELEGRAM_API_ROOT}). */
  apiRoot?: string;
  /** Per-probe timeout (default 10 s). */
  timeoutMs?: number;
  clock?: Clock;
}

/** Probes Telegram bot tokens with `getMe`. */
export class TelegramProber implements TokenProber {
  private readonly apiRoot: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  constructor(o: TelegramProberOptions = {}) {
    this.apiRoot = (o.apiRoot ?? TELEGRAM_API_ROOT).replace(/\/+$/, '');
    this.timeoutMs = o.timeoutMs ?? PROBE_TIMEOUT_MS;
    this.clock = o.clock ?? systemClock;
  }

  async probe(req: ProbeRequest): Promise<TokenProbe> {
    if (req.platform !== 'telegram') throw new Error(`TelegramProber cannot probe a ${req.platform} token`);
    registerSecret(req.token);
    const api = new Api(req.token, { apiRoot: this.apiRoot, timeoutSeconds: this.timeoutMs / 1000 });
    const t0 = this.clock.now().getTime();
    const latency = (): number => Math.max(0, this.clock.now().getTime() - t0);
    try {
      // grammY types its signal with the abort-controller shim; a native AbortSignal is what it uses at runtime.
      const me = await api.getMe(req.signal as Parameters<Api['getMe']>[0]);
      if (me.is_bot !== true) return { index: req.index, state: 'failing', latency_ms: latency(), detail: 'getMe: the token belongs to an account that is not a bot' };
      return { index: req.index, state: 'healthy', latency_ms: latency(), detail: scrub(`@${me.username}`, req.token) };
    } catch (err) {
      return { index: req.index, latency_ms: latency(), ...this.classify(err, req) };
    }
  }

  private classify(err: unknown, req: ProbeRequest): Pick<TokenProbe, 'state' | 'detail' | 'retry_after_s'> {
    if (err instanceof GrammyError) {
      const code = err.error_code;
      const detail = scrub(`${code}: ${err.description}`, req.token);
      if (code === 401 || code === 403) return { state: 'revoked', detail };
      if (code === 429) {
        const s = err.parameters.retry_after;
        return { state: 'rate-limited', detail, ...(typeof s === 'number' && s >= 0 ? { retry_after_s: s } : {}) };
      }
      return { state: code >= 500 ? 'unreachable' : 'failing', detail };
    }
    if (err instanceof HttpError) {
      const inner = err.error as { message?: unknown; type?: unknown; name?: unknown } | undefined;
      const code = networkCode(err);
      if (req.signal?.aborted) return { state: 'unreachable', detail: 'aborted' };
      if (typeof inner?.message === 'string' && /timed out after/.test(inner.message)) return { state: 'unreachable', detail: `timeout after ${this.timeoutMs} ms` };
      if (code) return { state: 'unreachable', detail: `connection error (${code})` };
      if (isAbort(err)) return { state: 'unreachable', detail: 'request aborted' };
      if (inner?.type === 'invalid-json' || inner?.name === 'SyntaxError') return { state: 'unreachable', detail: 'the answer is not the Bot API JSON (a proxy or gateway error page?)' };
      return { state: 'unreachable', detail: `network error (${typeof inner?.name === 'string' ? inner.name : 'unknown'})` };
    }
    const name = err instanceof Error ? err.name : typeof err;
    return { state: 'failing', detail: scrub(`probe error (${name})`, req.token) };
  }
}
