/**
 * What the Telegram and Discord probers share: classifying network failures without reading error messages (HTTP
 * client messages carry the request URL, and a Telegram URL carries the token), and scrubbing any text that does
 * reach a probe's `detail`.
 */
import { redact } from '../../core/redact';

/** Default probe timeout: 10 s (a probe that takes longer tells us the platform is not answering properly). */
export const PROBE_TIMEOUT_MS = 10_000;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

interface ErrLike {
  name?: unknown;
  code?: unknown;
  errno?: unknown;
  type?: unknown;
  cause?: unknown;
  error?: unknown;
}

/** Walk an error and what it wraps (`cause`, grammY's `error`), at most a few levels. */
function* chain(err: unknown): Generator<ErrLike> {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    yield e as ErrLike;
    const next = (e as ErrLike).cause ?? (e as ErrLike).error;
    if (next === e) break;
    e = next;
  }
}

/** The network error code somewhere in the chain (`ECONNREFUSED`, `UND_ERR_SOCKET`, …), if any. */
export function networkCode(err: unknown): string | undefined {
  for (const e of chain(err)) {
    for (const v of [e.code, e.errno]) if (typeof v === 'string' && NETWORK_CODES.has(v)) return v;
  }
  return undefined;
}

/** Whether the chain contains an abort (our timeout or the caller's signal). */
export function isAbort(err: unknown): boolean {
  for (const e of chain(err)) if (e.name === 'AbortError' || e.type === 'aborted' || e.code === 'ABORT_ERR') return true;
  return false;
}

/** A text safe for a probe's detail: the token removed even if it was not registered, then the usual redaction. */
export function scrub(text: string, token: string): string {
  return redact(token ? text.split(token).join('***') : text);
}
