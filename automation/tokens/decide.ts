/**
 * The token rules: from a bot's record and one probe per token, decide to keep the active token, switch to another
 * one, or alert. Pure: the time, the actor and the version read are inputs; the new record is an output.
 *
 * Rules (N = `failuresToSwitch`, default 3; M = `passesToReturn`, default 3):
 * 1. 401/403 (`revoked`) fails a token at once: its failure count becomes N.
 * 2. 429 (`rate-limited`) is never a token fault: counters stay, `next_probe_at` = now + `retry_after`; the caller
 *    skips the token until then. A rate-limited active token is kept.
 * 3. When every token actually probed this run (of the bot, or of the whole platform when the caller says so with
 *    `platformDegraded`) is `unreachable` (timeout, connection error, 5xx), the platform API is down: no counter
 *    moves, nothing switches, the decision is an `alert` with reason `platform-degraded`.
 * 4. Any other failure (`failing`, or `unreachable` while other tokens answer) switches only after N failed probes
 *    in a row.
 * 5. The switch target is the next token in rotation order after the active one whose probe THIS run was healthy
 *    (never an unproven, skipped or rate-limited one; never a Discord token with no session starts left). With a
 *    rights map, tokens with all channel rights come first, then tokens with unknown rights, then the rest.
 * 6. No flapping: a token the monitor switched away from needs M healthy probes in a row before it can be a target.
 * 7. A pin (manual override) stops every switch; a pinned token that should be left is an `alert`
 *    (`pinned-token-failing`).
 * 8. The active token must be left but no token qualifies: `alert` (`no-healthy-token`), the active is kept.
 *
 * Switches and alerts are appended to the record's bounded history (an alert that repeats the last entry — same
 * reason, same active token, younger than `realertAfterMs` — is not appended again, so a standing outage is not
 * re-announced every minute). `keep` decisions carry an id but are not history: a keep changes the record only
 * when the health counters move, so a steady world writes nothing.
 */
import { redact } from '../core/redact';
import { UsageError } from '../core/errors';
import type { HistoryEntry, TokenHealth, TokenProbe } from './ports';
import { appendHistory, cloneRecord, decisionId, HISTORY_LIMIT, sameRecord, type ParsedTokenRecord } from './record';

/** The thresholds of the rules. */
export interface DecideRules {
  /** N: failed probes in a row before the active token is switched away from (revoked: at once). */
  failuresToSwitch: number;
  /** M: healthy probes in a row before a token switched away from may be switched back to. */
  passesToReturn: number;
  /** Decisions kept in history. */
  historyLimit: number;
  /** A standing alert is appended (and so announced) again after this long. */
  realertAfterMs: number;
}

/** Defaults: N = 3, M = 3, 100 history entries, a standing alert re-announced after 1 hour. */
export const DEFAULT_RULES: Readonly<DecideRules> = { failuresToSwitch: 3, passesToReturn: 3, historyLimit: HISTORY_LIMIT, realertAfterMs: 3_600_000 };

/** Per token index: true when the token has every channel right it needs, false when it lacks some (issue 11). */
export type RightsMap = Readonly<Record<number, boolean>>;

/** Inputs of {@link decide} besides the record and the probes. */
export interface DecideOptions extends Partial<DecideRules> {
  bot: string;
  /** The store version the record was read at (part of the decision id). */
  version: string;
  now: Date;
  /** `monitor@<region>` or `operator:<user>`. */
  by: string;
  /** The caller's view across every bot of the platform; default: this bot's probes alone. */
  platformDegraded?: boolean;
  rights?: RightsMap;
}

/** Why a decision was taken (the `reason` of `dr tokens check --json`). */
export type DecisionReason =
  | 'healthy'
  | 'rate-limited'
  | 'failing-below-threshold'
  | 'revoked'
  | 'failing'
  | 'platform-degraded'
  | 'no-healthy-token'
  | 'pinned-token-failing';

/** What {@link decide} decided. */
export interface TokenDecision {
  /** Deterministic: bot, version read, action, target. */
  id: string;
  action: 'keep' | 'switch' | 'alert';
  reason: DecisionReason;
  /** One redacted sentence for people. */
  why: string;
  at: string;
  by: string;
  from: number;
  to: number;
  /** The record to write (health updated; active, history changed on a switch or a new alert). */
  record: ParsedTokenRecord;
  /** Whether {@link record} differs from the input (only then is there anything to write). */
  changed: boolean;
  /** The history entry appended by this decision: news worth a notification. */
  entry?: HistoryEntry;
  platformDegraded: boolean;
  /** Rate-limited tokens: when each may be probed next. */
  nextProbeAt: Array<{ index: number; at: string }>;
  /** Things worth a look that change no decision (no standby token, Discord session starts running low, …). */
  warnings: string[];
}

function rulesOf(o: Partial<DecideRules>): DecideRules {
  const r = { ...DEFAULT_RULES, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as DecideRules;
  for (const k of ['failuresToSwitch', 'passesToReturn', 'historyLimit'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new UsageError(`token rules: ${k} must be a whole number ≥ 1, got ${r[k]}`);
  }
  if (!(r.realertAfterMs >= 0)) throw new UsageError(`token rules: realertAfterMs must be ≥ 0, got ${r.realertAfterMs}`);
  return r;
}

/** Index → probe, checking each index is in range and appears once. Missing indexes were not probed. */
function probesByIndex(probes: readonly TokenProbe[], length: number): Map<number, TokenProbe> {
  const m = new Map<number, TokenProbe>();
  for (const p of probes) {
    if (!Number.isInteger(p.index) || p.index < 0 || p.index >= length) throw new UsageError(`probe for token ${p.index}: no such token (0..${length - 1})`);
    if (m.has(p.index)) throw new UsageError(`two probes for token ${p.index}`);
    m.set(p.index, p);
  }
  return m;
}

/** Rule 3 on one bot's probes: at least one token was asked and every token asked was unreachable. */
export function allUnreachable(probes: readonly TokenProbe[]): boolean {
  const asked = probes.filter((p) => !p.skipped);
  return asked.length > 0 && asked.every((p) => p.state === 'unreachable');
}

/** Rules 1–4 on the counters of one token. */
function nextHealth(prev: TokenHealth, p: TokenProbe | undefined, degraded: boolean, now: Date, r: DecideRules): TokenHealth {
  const h: TokenHealth = { ...prev };
  if (!p || p.skipped) return h;
  if (h.last_state !== p.state) h.since = now.toISOString();
  h.last_state = p.state;
  delete h.next_probe_at;
  switch (p.state) {
    case 'healthy':
      h.consecutive_failures = 0;
      h.consecutive_passes = Math.min(h.consecutive_passes + 1, r.passesToReturn);
      break;
    case 'rate-limited':
      if (p.retry_after_s !== undefined && p.retry_after_s > 0) h.next_probe_at = new Date(now.getTime() + Math.ceil(p.retry_after_s * 1000)).toISOString();
      break;
    case 'revoked':
      h.consecutive_failures = r.failuresToSwitch;
      h.consecutive_passes = 0;
      break;
    case 'unreachable':
    case 'failing':
      if (p.state === 'unreachable' && degraded) break;
      h.consecutive_failures = Math.min(h.consecutive_failures + 1, r.failuresToSwitch);
      h.consecutive_passes = 0;
      break;
  }
  return h;
}

/** Rules 5 and 6: the switch target, or undefined when no token qualifies. */
function pickTarget(active: number, health: readonly TokenHealth[], probes: Map<number, TokenProbe>, r: DecideRules, rights?: RightsMap): number | undefined {
  const n = health.length;
  const order = Array.from({ length: n - 1 }, (_, k) => (active + 1 + k) % n);
  const ok = order.filter((i) => {
    const p = probes.get(i);
    if (!p || p.skipped || p.state !== 'healthy') return false;
    if (health[i].switched_away_at !== undefined && health[i].consecutive_passes < r.passesToReturn) return false;
    return !(p.session_start && p.session_start.remaining === 0);
  });
  if (!rights) return ok[0];
  return ok.find((i) => rights[i] === true) ?? ok.find((i) => rights[i] === undefined) ?? ok[0];
}

function describe(p: TokenProbe | undefined): string {
  if (!p) return 'not probed';
  if (p.skipped) return 'not probed (rate-limited)';
  return p.detail ? `${p.state}: ${p.detail}` : p.state;
}

interface Outcome {
  action: TokenDecision['action'];
  reason: DecisionReason;
  to: number;
  why: string;
}

/** The rules on the active token, in order: outage, no failure, pin, target. */
function outcomeFor(rec: ParsedTokenRecord, health: TokenHealth[], probes: Map<number, TokenProbe>, degraded: boolean, r: DecideRules, rights?: RightsMap): Outcome {
  const a = rec.active;
  const p = probes.get(a);
  const keep = (reason: DecisionReason, why: string): Outcome => ({ action: 'keep', reason, to: a, why });
  if (degraded) return { action: 'alert', reason: 'platform-degraded', to: a, why: `every ${rec.platform} token probed was unreachable (token ${a}: ${describe(p)}): the ${rec.platform} API looks down; not switching` };
  if (!p || p.skipped || p.state === 'rate-limited') return keep('rate-limited', `token ${a} is rate-limited (${describe(p)}); a 429 is not a token fault`);
  if (p.state === 'healthy') return keep('healthy', `token ${a} is healthy`);
  const fails = health[a].consecutive_failures;
  if (p.state !== 'revoked' && fails < r.failuresToSwitch) return keep('failing-below-threshold', `token ${a} failed ${fails} of ${r.failuresToSwitch} probes in a row (${describe(p)})`);
  const cause: DecisionReason = p.state === 'revoked' ? 'revoked' : 'failing';
  const what = cause === 'revoked' ? `token ${a} is revoked (${describe(p)})` : `token ${a} failed ${fails} probes in a row (${describe(p)})`;
  if (rec.pin) return { action: 'alert', reason: 'pinned-token-failing', to: a, why: `${what}, but it is pinned by ${rec.pin.by} (${rec.pin.reason}): not switching; unpin to let the monitor switch` };
  const to = pickTarget(a, health, probes, r, rights);
  if (to === undefined) {
    const others = health.filter((h) => h.index !== a).map((h) => `token ${h.index}: ${describe(probes.get(h.index))}`).join('; ');
    return { action: 'alert', reason: 'no-healthy-token', to: a, why: `${what} and no other token is proven healthy (${others || 'no other token'}); keeping token ${a}` };
  }
  const right = rights?.[to] === true ? ', all channel rights' : '';
  return { action: 'switch', reason: cause, to, why: `${what}; switched to token ${to} (healthy${right})` };
}

function warningsFor(rec: ParsedTokenRecord, health: TokenHealth[], probes: Map<number, TokenProbe>, out: Outcome, r: DecideRules, rights?: RightsMap): string[] {
  const w: string[] = [];
  if (rec.pin && rec.pin.index !== rec.active) w.push(`pin names token ${rec.pin.index} but token ${rec.active} is active`);
  if (out.action === 'keep' && health.length > 1 && pickTarget(out.to, health, probes, r, rights) === undefined) w.push('no standby: no other token is proven healthy');
  for (const [i, p] of probes) if (p.session_start?.warning) w.push(`token ${i}: Discord session starts low (${p.session_start.remaining} of ${p.session_start.total} left)`);
  return w;
}

function isRepeat(last: HistoryEntry | undefined, out: Outcome, now: Date, r: DecideRules): boolean {
  if (!last || last.what !== 'alert' || last.reason !== out.reason || last.from !== out.to) return false;
  const age = now.getTime() - Date.parse(last.at);
  return Number.isFinite(age) && age >= 0 && age < r.realertAfterMs;
}

/** Decide for one bot. Never mutates `record`; see the module comment for the rules. */
export function decide(record: ParsedTokenRecord, probes: readonly TokenProbe[], opts: DecideOptions): TokenDecision {
  const r = rulesOf(opts);
  const n = record.tokens.length;
  const byIndex = probesByIndex(probes, n);
  const degraded = opts.platformDegraded ?? allUnreachable(probes);
  const now = opts.now;
  const at = now.toISOString();
  const prev = new Map((record.health ?? []).map((h) => [h.index, h]));
  const health = Array.from({ length: n }, (_, i) => nextHealth(prev.get(i) ?? { index: i, consecutive_failures: 0, consecutive_passes: 0 }, byIndex.get(i), degraded, now, r));
  const out = outcomeFor(record, health, byIndex, degraded, r, opts.rights);
  const next = cloneRecord(record);
  const id = decisionId(opts.bot, opts.version, out.action, out.to);
  const why = redact(out.why);
  let entry: HistoryEntry | undefined;
  if (out.action === 'switch') {
    health[record.active] = { ...health[record.active], switched_away_at: at, consecutive_passes: 0 };
    const { switched_away_at: _dropped, ...target } = health[out.to];
    health[out.to] = target;
    next.active = out.to;
  }
  if (out.action !== 'keep' && (out.action === 'switch' || !isRepeat(record.history?.at(-1), out, now, r))) {
    entry = { id, at, by: opts.by, what: out.action, from: record.active, to: out.to, reason: out.reason, why };
    next.history = appendHistory(record.history, entry, r.historyLimit);
  }
  next.health = health;
  const nextProbeAt = health.filter((h) => h.next_probe_at !== undefined).map((h) => ({ index: h.index, at: h.next_probe_at as string }));
  return {
    id, action: out.action, reason: out.reason, why, at, by: opts.by, from: record.active, to: out.to,
    record: next, changed: !sameRecord(record, next), entry, platformDegraded: degraded, nextProbeAt,
    warnings: warningsFor(record, health, byIndex, out, r, opts.rights).map(redact),
  };
}
