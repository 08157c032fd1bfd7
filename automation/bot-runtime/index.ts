/**
 * The bot's side of token failover: a small module a bot application imports to always use the active token.
 *
 *   const tokens = await createTokenRuntime({ store, bot: 'community', pollMs: 30_000 });
 *   const bot = new Bot(tokens.activeToken());
 *   tokens.onTokenChange(({ token }) => restartWith(token));
 *   // on a 401 from the platform: await tokens.reportUnauthorized();
 *
 * - `activeToken()` is a cached value: no store call per platform request.
 * - A poll every `pollMs` asks the store for its current version only (Secrets Manager `DescribeSecret`: no value is
 *   decrypted) and re-reads the record when it changed. A version change that leaves the active token as it was
 *   (health counters, history) changes nothing for the bot.
 * - `reportUnauthorized()` (the platform said 401 for the active token) re-reads at once. When the store still names
 *   the same token — the monitor has not switched yet — the runtime polls every `unauthorizedPollMs` (default 5 s)
 *   instead of `pollMs` until the token changes, so the switch is picked up within seconds of the monitor's write.
 * - `onTokenChange` listeners fire once per change of the active token, in registration order.
 * The runtime never switches by itself: the monitor decides (one decision, one writer); the runtime follows.
 *
 * It reads through the same `TokenStore` port as the monitor (Secrets Manager or the local file). Issue 11 adds
 * `shouldConsume()` from the record's `activeRegion` here (which region's bot instance polls/answers updates).
 */
import { systemClock, type Clock } from '../core/clock';
import { errorSummary } from '../core/errors';
import { redact } from '../core/redact';
import type { StoredTokenRecord, TokenStore } from '../tokens';

/** Options of {@link createTokenRuntime}. */
export interface TokenRuntimeOptions {
  store: TokenStore;
  bot: string;
  /** How often to ask the store whether the record changed (default 30 s). */
  pollMs?: number;
  /** The poll interval after an unauthorized report that changed nothing yet (default 5 s, never above `pollMs`). */
  unauthorizedPollMs?: number;
  clock?: Clock;
  /** A poll or re-read failed (the cached token stays in use). The message is redacted. */
  onError?: (message: string) => void;
}

/** A change of the active token. */
export interface TokenChange {
  bot: string;
  /** The new active index and token. */
  index: number;
  token: string;
  previousIndex: number;
  /** The store version the new token was read at. */
  version: string;
}

/** The running token follower (see the module comment). */
export interface TokenRuntime {
  /** The active token (cached). */
  activeToken(): string;
  /** Its index in the bot's token list. */
  activeIndex(): number;
  /** The store version the cache was read at. */
  version(): string;
  /** Call `cb` on every change of the active token; returns the unsubscribe function. */
  onTokenChange(cb: (change: TokenChange) => void): () => void;
  /**
   * The platform answered 401 for the active token: re-read now. Resolves true when another token is now active;
   * false while the store still names the same one (polling then runs at `unauthorizedPollMs`). Rejects when the
   * store cannot be read.
   */
  reportUnauthorized(): Promise<boolean>;
  /** Re-read now (concurrent calls share one read). Resolves true when another token is now active. */
  refresh(): Promise<boolean>;
  /** Stop polling; resolves once the poll loop has ended. */
  close(): Promise<void>;
}

interface State {
  version: string;
  index: number;
  token: string;
}

function stateOf(r: StoredTokenRecord): State {
  return { version: r.version, index: r.record.active, token: r.record.tokens[r.record.active] };
}

/** Read the bot's record once (rejects when it cannot) and start following it. */
export async function createTokenRuntime(o: TokenRuntimeOptions): Promise<TokenRuntime> {
  const clock = o.clock ?? systemClock;
  const pollMs = o.pollMs ?? 30_000;
  const urgentMs = Math.min(pollMs, o.unauthorizedPollMs ?? 5_000);
  let state = stateOf(await o.store.read(o.bot));
  const listeners: Array<(c: TokenChange) => void> = [];
  const closing = new AbortController();
  let wake = new AbortController();
  let urgent = false;
  let inflight: Promise<boolean> | undefined;
  const report = (what: string, err: unknown): void => o.onError?.(redact(`token runtime ${o.bot}: ${what}: ${errorSummary(err)}`));

  const apply = (next: State): boolean => {
    const prev = state;
    state = next;
    if (next.token === prev.token) return false;
    urgent = false;
    const change: TokenChange = { bot: o.bot, index: next.index, token: next.token, previousIndex: prev.index, version: next.version };
    for (const cb of [...listeners]) {
      try {
        cb(change);
      } catch (err) {
        report('an onTokenChange listener threw', err);
      }
    }
    return true;
  };

  const refresh = (): Promise<boolean> => {
    inflight ??= o.store
      .read(o.bot, { signal: closing.signal })
      .then((r) => apply(stateOf(r)))
      .finally(() => (inflight = undefined));
    return inflight;
  };

  const loop = (async () => {
    while (!closing.signal.aborted) {
      try {
        await clock.sleep(urgent ? urgentMs : pollMs, AbortSignal.any([closing.signal, wake.signal]));
      } catch {
        if (closing.signal.aborted) break;
        wake = new AbortController(); // woken up to poll at the shorter interval
        continue;
      }
      try {
        if ((await o.store.currentVersion(o.bot, { signal: closing.signal })) !== state.version) await refresh();
      } catch (err) {
        if (closing.signal.aborted) break;
        report('poll failed (keeping the cached token)', err);
      }
    }
  })();

  return {
    activeToken: () => state.token,
    activeIndex: () => state.index,
    version: () => state.version,
    onTokenChange(cb) {
      listeners.push(cb);
      return () => {
        const i = listeners.indexOf(cb);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
    async reportUnauthorized() {
      const changed = await refresh();
      if (!changed && !urgent) {
        urgent = true;
        wake.abort();
      }
      return changed;
    },
    refresh,
    async close() {
      closing.abort();
      await loop;
      await inflight?.catch(() => undefined);
    },
  };
}
