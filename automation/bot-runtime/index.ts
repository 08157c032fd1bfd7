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
 * - `shouldConsume()` (issue 11, one consumer per token): whether this process may consume the bot's updates — poll
 *   `getUpdates`, hold Discord gateway shards, answer webhooks — from the record's `active_region` and the runtime's
 *   own `region`: no `active_region` in the record → true (a record from before the field); `active_region` equal to
 *   `region` → true; otherwise false (also when `region` was not given: fail closed, never a second consumer). The
 *   failover writes `active_region` into the survivor's copy of the secret before DNS switches, and the split-brain
 *   guard into a returning region's copy, so workers in a region that is not active stop (or never start) within one
 *   poll. It is re-read on the same poll as the token; `onConsumeChange` fires when it flips.
 *
 * It reads through the same `TokenStore` port as the monitor (Secrets Manager or the local file): give it the store
 * of the region it runs in (that region's copy of the secret), never the other region's.
 */
import { systemClock, type Clock } from '../core/clock';
import { errorSummary } from '../core/errors';
import { redact } from '../core/redact';
import { shouldConsume, type StoredTokenRecord, type TokenStore } from '../tokens';

/** Options of {@link createTokenRuntime}. */
export interface TokenRuntimeOptions {
  store: TokenStore;
  bot: string;
  /**
   * The region this process runs in (`AWS_REGION`; locally `a`/`b`), compared with the record's `active_region` by
   * {@link TokenRuntime.shouldConsume}. Without it a record that names an active region makes the runtime consume nothing.
   */
  region?: string;
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

/** A flip of {@link TokenRuntime.shouldConsume}. */
export interface ConsumeChange {
  bot: string;
  /** The new answer of `shouldConsume()`. */
  consume: boolean;
  /** The record's `active_region` now (undefined: it names none). */
  activeRegion?: string;
  /** The runtime's own region. */
  region?: string;
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
   * Whether this process may consume the bot's updates (poll, hold shards, answer webhooks): see the module comment.
   * Cached, like the token.
   */
  shouldConsume(): boolean;
  /** The record's `active_region` as last read (undefined: the record names none). */
  activeRegion(): string | undefined;
  /** Call `cb` whenever `shouldConsume()` flips (after a re-read); returns the unsubscribe function. */
  onConsumeChange(cb: (change: ConsumeChange) => void): () => void;
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
  activeRegion?: string;
  consume: boolean;
}

function stateOf(r: StoredTokenRecord, region: string | undefined): State {
  const { record } = r;
  return { version: r.version, index: record.active, token: record.tokens[record.active], ...(record.active_region !== undefined ? { activeRegion: record.active_region } : {}), consume: shouldConsume(record, region) };
}

/** Remove `cb` from `list` (the unsubscribe functions). */
function unsubscriber<T>(list: T[], cb: T): () => void {
  return () => {
    const i = list.indexOf(cb);
    if (i >= 0) list.splice(i, 1);
  };
}

/** Read the bot's record once (rejects when it cannot) and start following it. */
export async function createTokenRuntime(o: TokenRuntimeOptions): Promise<TokenRuntime> {
  const clock = o.clock ?? systemClock;
  const pollMs = o.pollMs ?? 30_000;
  const urgentMs = Math.min(pollMs, o.unauthorizedPollMs ?? 5_000);
  let state = stateOf(await o.store.read(o.bot), o.region);
  const listeners: Array<(c: TokenChange) => void> = [];
  const consumeListeners: Array<(c: ConsumeChange) => void> = [];
  const closing = new AbortController();
  let wake = new AbortController();
  let urgent = false;
  let inflight: Promise<boolean> | undefined;
  const report = (what: string, err: unknown): void => o.onError?.(redact(`token runtime ${o.bot}: ${what}: ${errorSummary(err)}`));

  const fire = <T>(list: Array<(c: T) => void>, change: T, what: string): void => {
    for (const cb of [...list]) {
      try {
        cb(change);
      } catch (err) {
        report(`an ${what} listener threw`, err);
      }
    }
  };

  const apply = (next: State): boolean => {
    const prev = state;
    state = next;
    if (next.consume !== prev.consume) {
      fire(consumeListeners, { bot: o.bot, consume: next.consume, ...(next.activeRegion !== undefined ? { activeRegion: next.activeRegion } : {}), ...(o.region !== undefined ? { region: o.region } : {}), version: next.version }, 'onConsumeChange');
    }
    if (next.token === prev.token) return false;
    urgent = false;
    fire(listeners, { bot: o.bot, index: next.index, token: next.token, previousIndex: prev.index, version: next.version }, 'onTokenChange');
    return true;
  };

  const refresh = (): Promise<boolean> => {
    inflight ??= o.store
      .read(o.bot, { signal: closing.signal })
      .then((r) => apply(stateOf(r, o.region)))
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
      return unsubscriber(listeners, cb);
    },
    shouldConsume: () => state.consume,
    activeRegion: () => state.activeRegion,
    onConsumeChange(cb) {
      consumeListeners.push(cb);
      return unsubscriber(consumeListeners, cb);
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
