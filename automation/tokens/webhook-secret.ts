/**
 * A Telegram bot's webhook `secret_token`, generated ONCE and kept in the bot's record (`webhook_secret`), written
 * with the store's compare-and-set like every other change of the record. Telegram sends it back in
 * `X-Telegram-Bot-Api-Secret-Token` with each update and it cannot be read back from the API, so the record is the
 * only copy: the bot's webhook handler reads it from there (the same secret it reads its token from).
 *
 * Two monitors (two regions) that both find no secret race on the write: the loser's compare-and-set fails, it
 * re-reads and uses the winner's secret. The value is registered for redaction before it leaves this module and
 * never appears in a result, a log line or an error.
 */
import { OperationError } from '../core/errors';
import { registerSecret } from '../core/redact';
import type { TokenStore } from './ports';
import { cloneRecord, decisionId } from './record';
import { newWebhookSecret } from './webhook';

/** What {@link ensureWebhookSecret} found or did (the secret itself is returned separately). */
export type WebhookSecretOutcome = 'kept' | 'generated' | 'taken-from-another-writer';

/** Options of {@link ensureWebhookSecret}. */
export interface EnsureWebhookSecretOptions {
  store: TokenStore;
  bot: string;
  /** Write a new secret when none is stored. False: return what is stored (undefined when nothing is). */
  apply: boolean;
  /** Injectable randomness (tests). */
  randomBytes?: (n: number) => Uint8Array;
  signal?: AbortSignal;
}

/**
 * The bot's stored webhook secret, generating and storing one (compare-and-set) when there is none and `apply`.
 * Resolves `{ secret: undefined, outcome: 'kept' }` when none is stored and `apply` is false.
 */
export async function ensureWebhookSecret(o: EnsureWebhookSecretOptions): Promise<{ secret: string | undefined; outcome: WebhookSecretOutcome }> {
  const read = await o.store.read(o.bot, { signal: o.signal });
  const stored = read.record.webhook_secret;
  if (stored !== undefined) {
    registerSecret(stored);
    return { secret: stored, outcome: 'kept' };
  }
  if (!o.apply) return { secret: undefined, outcome: 'kept' };
  const secret = newWebhookSecret(o.randomBytes);
  registerSecret(secret);
  const next = cloneRecord(read.record);
  next.webhook_secret = secret;
  const w = await o.store.write(o.bot, next, { expectVersion: read.version, requestId: decisionId(o.bot, read.version, 'webhook-secret', 0), signal: o.signal });
  if (w.outcome === 'written') return { secret, outcome: 'generated' };
  // Lost the race (or the record changed meanwhile): whoever wrote first may have stored a secret.
  const again = await o.store.read(o.bot, { signal: o.signal });
  const theirs = again.record.webhook_secret;
  if (theirs === undefined) throw new OperationError(`bot ${o.bot}: the webhook secret could not be stored (${w.detail}); the next run tries again`);
  registerSecret(theirs);
  return { secret: theirs, outcome: 'taken-from-another-writer' };
}
