/**
 * The manual override as an operation (`dr tokens use BOT INDEX --reason`, `dr tokens unpin BOT`): read the record,
 * apply {@link pin} / {@link unpin}, write it with compare-and-set, notify. An operator's override must not lose to a
 * monitor that happened to write between our read and our write: a conflict re-reads and re-applies, a bounded number
 * of times.
 */
import type { Clock } from '../core/clock';
import { errorSummary, OperationError } from '../core/errors';
import { redact } from '../core/redact';
import { pin, unpin, type ManualDecision } from './pin';
import type { TokenNotifier, TokenStore } from './ports';

/** What to change. */
export type ManualChange = { kind: 'pin'; index: number; reason: string } | { kind: 'unpin' };

/** Inputs of {@link applyManualChange}. */
export interface ManualChangeOptions {
  store: TokenStore;
  bot: string;
  change: ManualChange;
  /** `operator:<user>`. */
  actor: string;
  clock: Clock;
  notifier?: TokenNotifier;
  /** Compare-and-set attempts before giving up (default 3). */
  attempts?: number;
  historyLimit?: number;
  signal?: AbortSignal;
}

/** What {@link applyManualChange} did. */
export interface ManualChangeResult extends ManualDecision {
  /** The version written. */
  version: string;
  notified: boolean;
  notify_error?: string;
}

/** Pin or unpin a bot's token in the store; see the module comment. UsageError for a bad index, reason or actor. */
export async function applyManualChange(o: ManualChangeOptions): Promise<ManualChangeResult> {
  const attempts = Math.max(1, o.attempts ?? 3);
  let lastConflict = '';
  for (let i = 0; i < attempts; i++) {
    const read = await o.store.read(o.bot, { signal: o.signal });
    const ref = { bot: o.bot, version: read.version, historyLimit: o.historyLimit };
    const now = o.clock.now();
    const d = o.change.kind === 'pin' ? pin(read.record, o.change.index, o.change.reason, o.actor, now, ref) : unpin(read.record, o.actor, now, ref);
    const w = await o.store.write(o.bot, d.record, { expectVersion: read.version, requestId: d.entry.id, signal: o.signal });
    if (w.outcome === 'conflict') {
      lastConflict = w.detail;
      continue;
    }
    const out: ManualChangeResult = { ...d, version: w.version, notified: false };
    if (o.notifier) {
      try {
        const e = d.entry;
        await o.notifier.notify({ kind: e.what === 'pin' ? 'pin' : 'unpin', bot: o.bot, platform: d.record.platform, id: e.id, from: e.from, to: e.to, reason: e.reason, by: e.by, at: e.at, message: redact(`${o.bot} (${d.record.platform}): ${e.why}`) }, { signal: o.signal });
        out.notified = true;
      } catch (err) {
        out.notify_error = redact(errorSummary(err));
      }
    }
    return out;
  }
  throw new OperationError(redact(`${o.bot}: the record changed under every one of ${attempts} attempt(s) to ${o.change.kind} (last: ${lastConflict}); try again`));
}
