/**
 * The manual override, as pure functions: `dr tokens use BOT INDEX --reason` pins a token (it becomes active and the
 * monitor never switches away from it, though it still alerts), `dr tokens unpin BOT` lifts the pin. Both validate
 * their input and return the new record plus the history entry (with its decision id) to append.
 */
import { FlagError, UsageError } from '../core/errors';
import { redact } from '../core/redact';
import type { HistoryEntry } from './ports';
import { appendHistory, checkActor, cloneRecord, decisionId, HISTORY_LIMIT, recordFingerprint, type ParsedTokenRecord } from './record';

/** Which read a manual decision is based on (for its deterministic id). */
export interface DecisionRef {
  bot: string;
  /** The store version read. */
  version: string;
  historyLimit?: number;
}

/** A manual decision: the record to write and the entry it appended. */
export interface ManualDecision {
  record: ParsedTokenRecord;
  entry: HistoryEntry;
}

function idFor(record: ParsedTokenRecord, action: 'pin' | 'unpin', target: number, ref?: DecisionRef): string {
  // Without a ref the record's own fingerprint stands in for the version (same record, same id).
  return decisionId(ref?.bot ?? '', ref?.version ?? recordFingerprint(record), action, target);
}

/**
 * Pin token `index`: it becomes the active token (whatever its health: this is the operator's call) and stays
 * active until {@link unpin}. Re-pinning replaces the pin. UsageError for an index that is not a token, an empty
 * reason or an actor that is not `operator:<user>` / `monitor@<region>`.
 */
export function pin(record: ParsedTokenRecord, index: number, reason: string, by: string, at: Date, ref?: DecisionRef): ManualDecision {
  if (!Number.isInteger(index) || index < 0 || index >= record.tokens.length) {
    throw new UsageError(`token index ${index}: the bot has ${record.tokens.length} token(s), use 0..${record.tokens.length - 1}`);
  }
  const why = redact(reason.trim());
  if (why === '') throw new FlagError('--reason: say why the token is pinned (it is kept in the history and the notification)');
  checkActor(by);
  const next = cloneRecord(record);
  const iso = at.toISOString();
  next.active = index;
  next.pin = { index, reason: why, by, at: iso };
  if (next.health) next.health = next.health.map((h) => (h.index === index ? (({ switched_away_at: _s, ...rest }) => rest)(h) : h));
  const entry: HistoryEntry = {
    id: idFor(record, 'pin', index, ref),
    at: iso,
    by,
    what: 'pin',
    from: record.active,
    to: index,
    reason: 'manual',
    why: `token ${index} pinned by ${by}: ${why}`,
  };
  next.history = appendHistory(record.history, entry, ref?.historyLimit ?? HISTORY_LIMIT);
  return { record: next, entry };
}

/** Lift the pin (the active token stays; the monitor decides again from the next run). UsageError when not pinned. */
export function unpin(record: ParsedTokenRecord, by: string, at: Date, ref?: DecisionRef): ManualDecision {
  if (!record.pin) throw new UsageError('the bot has no pinned token, so there is nothing to unpin');
  checkActor(by);
  const next = cloneRecord(record);
  delete next.pin;
  const entry: HistoryEntry = {
    id: idFor(record, 'unpin', record.active, ref),
    at: at.toISOString(),
    by,
    what: 'unpin',
    from: record.active,
    to: record.active,
    reason: 'manual',
    why: `pin of token ${record.pin.index} lifted by ${by} (was: ${record.pin.reason})`,
  };
  next.history = appendHistory(record.history, entry, ref?.historyLimit ?? HISTORY_LIMIT);
  return { record: next, entry };
}
