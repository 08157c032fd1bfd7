/**
 * One Bot API call through grammY's `Api`, its failures turned into the project's errors without ever reading a
 * message that could carry the token (grammY's network errors wrap fetch errors whose text holds the request URL,
 * which holds the token) and without keeping grammY's error as `cause` (a `GrammyError` carries the request
 * `payload`: for `setWebhook` that is the `secret_token`).
 *
 * - a Bot API error (`ok: false`) → {@link OperationError} `Telegram <method>: <code>: <description>` with
 *   `detail: { error_code, description, retry_after_s? }` (description scrubbed of the token and secrets);
 * - no answer (timeout, connection error, an answer that is not the Bot API's JSON) → {@link UnreachableError}.
 */
import { Api, GrammyError, HttpError } from 'grammy';
import { OperationError, UnreachableError } from '../../core/errors';
import { registerSecret } from '../../core/redact';
import { isAbort, networkCode, PROBE_TIMEOUT_MS, scrub } from './common';
import { TELEGRAM_API_ROOT } from './telegram';

/** Where and how long: the options every Telegram adapter of issue 11 takes. */
export interface TelegramClientOptions {
  /** Bot API root without a trailing slash (default the real API). */
  apiRoot?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

/** The Bot API error behind an OperationError from {@link telegramCall}, if that is what it is. */
export interface TelegramApiErrorDetail {
  error_code: number;
  description: string;
  retry_after_s?: number;
}

/** A grammY `Api` for `token` (registered as a secret first); `fetchImpl` lets a caller add headers. */
export function telegramApi(token: string, o: TelegramClientOptions = {}, fetchImpl?: typeof fetch): Api {
  registerSecret(token);
  const apiRoot = (o.apiRoot ?? TELEGRAM_API_ROOT).replace(/\/+$/, '');
  return new Api(token, { apiRoot, timeoutSeconds: (o.timeoutMs ?? PROBE_TIMEOUT_MS) / 1000, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}

/** The Bot API error detail of an error thrown by {@link telegramCall}, or undefined for anything else. */
export function telegramErrorDetail(err: unknown): TelegramApiErrorDetail | undefined {
  if (!(err instanceof OperationError) || !err.detail || typeof err.detail.error_code !== 'number') return undefined;
  return err.detail as unknown as TelegramApiErrorDetail;
}

/** Scrub every secret of the call from a text. */
function clean(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, s) => (s ? scrub(t, s) : t), text);
}

/** Run one call; see the module comment for the errors. `secrets`: the token and any secret sent with the call. */
export async function telegramCall<T>(method: string, secrets: readonly string[], fn: () => Promise<T>, timeoutMs = PROBE_TIMEOUT_MS): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof GrammyError) {
      const description = clean(err.description, secrets);
      const retry = err.parameters?.retry_after;
      throw new OperationError(`Telegram ${method}: ${err.error_code}: ${description}`, { error_code: err.error_code, description, ...(typeof retry === 'number' ? { retry_after_s: retry } : {}) });
    }
    if (err instanceof HttpError) {
      const inner = err.error as { message?: unknown; type?: unknown; name?: unknown } | undefined;
      const code = networkCode(err);
      let reason = `network error (${typeof inner?.name === 'string' ? inner.name : 'unknown'})`;
      if (typeof inner?.message === 'string' && /timed out after/.test(inner.message)) reason = `timeout after ${timeoutMs} ms`;
      else if (code) reason = `connection error (${code})`;
      else if (isAbort(err)) reason = 'aborted';
      else if (inner?.type === 'invalid-json' || inner?.name === 'SyntaxError') reason = 'the answer is not the Bot API JSON (a proxy or gateway error page?)';
      throw new UnreachableError(`the Telegram Bot API (${method})`, reason);
    }
    throw new OperationError(`Telegram ${method}: ${clean(`unexpected error (${err instanceof Error ? err.name : typeof err})`, secrets)}`);
  }
}
