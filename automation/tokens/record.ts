/**
 * The stored record: parse (strict on the fields the engine relies on, tolerant of fields it does not know), a
 * canonical serialisation (so "did the decision change the record" and "is this retried write the same" are string
 * comparisons), decision ids and actor names. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { OperationError, UsageError } from '../core/errors';
import { PLATFORMS, type HistoryAction, type HistoryEntry, type Platform, type ProbeState, type TokenHealth, type TokenPin, type TokenRecord } from './ports';

/** Decisions kept in a record's history (the oldest are dropped first). */
export const HISTORY_LIMIT = 100;

/** Longest `why`/`reason` text kept in history (keeps 100 entries well inside Secrets Manager's 64 KiB). */
export const WHY_LIMIT = 400;

const KNOWN = new Set(['active', 'tokens', 'platform', 'pin', 'health', 'history', 'active_region', 'webhook_secret']);
const REGION = /^[a-z0-9][a-z0-9-]{0,31}$/;
const WEBHOOK_SECRET = /^[A-Za-z0-9_-]{1,256}$/;
const STATES: ReadonlySet<string> = new Set<ProbeState>(['healthy', 'revoked', 'rate-limited', 'unreachable', 'failing']);
const ACTIONS: ReadonlySet<string> = new Set<HistoryAction>(['switch', 'alert', 'pin', 'unpin']);

/**
 * A record plus the top-level fields this version of the engine does not know (kept as they are and written back,
 * so a newer writer's fields survive an older monitor's write).
 */
export type ParsedTokenRecord = TokenRecord & { extra?: Record<string, unknown> };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIndex(v: unknown, length: number): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) < length;
}

function optString(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new OperationError(`${where}.${key}: must be a string`);
  return v;
}

function count(o: Record<string, unknown>, key: string, where: string): number {
  const v = o[key] ?? 0;
  if (!Number.isInteger(v) || (v as number) < 0) throw new OperationError(`${where}.${key}: must be a whole number ≥ 0`);
  return v as number;
}

function parsePin(v: unknown, length: number, where: string): TokenPin | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v) || !isIndex(v.index, length)) throw new OperationError(`${where}.pin: must be { index (0..${length - 1}), reason, by, at }`);
  return { index: v.index, reason: optString(v, 'reason', `${where}.pin`) ?? '', by: optString(v, 'by', `${where}.pin`) ?? '', at: optString(v, 'at', `${where}.pin`) ?? '' };
}

function parseHealth(v: unknown, length: number, where: string): TokenHealth[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new OperationError(`${where}.health: must be a list`);
  const out: TokenHealth[] = [];
  for (const [i, h] of v.entries()) {
    const w = `${where}.health[${i}]`;
    if (!isObj(h) || !Number.isInteger(h.index)) throw new OperationError(`${w}: must be an object with an index`);
    // Entries for tokens no longer in the list (the list was shortened by hand) are dropped, not an error.
    if (!isIndex(h.index, length) || out.some((x) => x.index === h.index)) continue;
    const last = optString(h, 'last_state', w);
    if (last !== undefined && !STATES.has(last)) throw new OperationError(`${w}.last_state: unknown state ${JSON.stringify(last)}`);
    const entry: TokenHealth = { index: h.index as number, consecutive_failures: count(h, 'consecutive_failures', w), consecutive_passes: count(h, 'consecutive_passes', w) };
    if (last !== undefined) entry.last_state = last as ProbeState;
    for (const k of ['since', 'switched_away_at', 'next_probe_at'] as const) {
      const s = optString(h, k, w);
      if (s !== undefined) entry[k] = s;
    }
    out.push(entry);
  }
  return out.sort((a, b) => a.index - b.index);
}

function parseHistory(v: unknown, where: string): HistoryEntry[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new OperationError(`${where}.history: must be a list`);
  return v.map((h, i) => {
    const w = `${where}.history[${i}]`;
    if (!isObj(h) || typeof h.what !== 'string' || !ACTIONS.has(h.what) || !Number.isInteger(h.from) || !Number.isInteger(h.to)) {
      throw new OperationError(`${w}: must be { id, at, by, what: switch|alert|pin|unpin, from, to, reason, why }`);
    }
    return {
      id: optString(h, 'id', w) ?? '',
      at: optString(h, 'at', w) ?? '',
      by: optString(h, 'by', w) ?? '',
      what: h.what as HistoryAction,
      from: h.from as number,
      to: h.to as number,
      reason: optString(h, 'reason', w) ?? '',
      why: optString(h, 'why', w) ?? '',
    };
  });
}

/**
 * Validate a stored value as a bot's record. `where` names it in errors (e.g. `bot community`). Error messages name
 * fields and positions, never values (a malformed token list must not echo a token).
 */
export function parseTokenRecord(value: unknown, where: string): ParsedTokenRecord {
  if (!isObj(value)) throw new OperationError(`${where}: the record must be a JSON object { "platform", "active", "tokens": [...] }`);
  const tokens = value.tokens;
  if (!Array.isArray(tokens) || tokens.length === 0) throw new OperationError(`${where}.tokens: must be a list of at least one token`);
  tokens.forEach((t, i) => {
    if (typeof t !== 'string' || t.trim() === '') throw new OperationError(`${where}.tokens[${i}]: must be a non-empty string`);
  });
  if (!isIndex(value.active, tokens.length)) throw new OperationError(`${where}.active: must be an index into tokens (0..${tokens.length - 1})`);
  const platform = value.platform;
  if (typeof platform !== 'string' || !(PLATFORMS as readonly string[]).includes(platform)) {
    throw new OperationError(`${where}.platform: must be one of ${PLATFORMS.join(', ')} (add "platform" to the record)`);
  }
  const out: ParsedTokenRecord = { active: value.active, tokens: [...(tokens as string[])], platform: platform as Platform };
  const pin = parsePin(value.pin, tokens.length, where);
  if (pin) out.pin = pin;
  const health = parseHealth(value.health, tokens.length, where);
  if (health) out.health = health;
  const history = parseHistory(value.history, where);
  if (history) out.history = history;
  const region = optString(value, 'active_region', where);
  if (region !== undefined) {
    if (!REGION.test(region)) throw new OperationError(`${where}.active_region: must be a region name like us-west-2 (or a local region a/b)`);
    out.active_region = region;
  }
  const secret = optString(value, 'webhook_secret', where);
  if (secret !== undefined) {
    // Never echo it: it authenticates Telegram's deliveries.
    if (!WEBHOOK_SECRET.test(secret)) throw new OperationError(`${where}.webhook_secret: must be 1-256 characters of A-Z a-z 0-9 _ - (the value is not shown)`);
    out.webhook_secret = secret;
  }
  const extra = Object.fromEntries(Object.entries(value).filter(([k]) => !KNOWN.has(k)));
  if (Object.keys(extra).length) out.extra = extra;
  return out;
}

/** Parse a record from its JSON text (a secret string, a file entry). */
export function parseTokenRecordText(text: string, where: string): ParsedTokenRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Never echo the text: it holds the tokens.
    throw new OperationError(`${where}: the stored value is not valid JSON`);
  }
  return parseTokenRecord(value, where);
}

/** The record as a plain object in canonical key order (what the stores write). */
export function recordToJson(r: ParsedTokenRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { active: r.active, tokens: r.tokens, platform: r.platform };
  if (r.pin) out.pin = { index: r.pin.index, reason: r.pin.reason, by: r.pin.by, at: r.pin.at };
  if (r.health) out.health = r.health.map((h) => ({ ...h }));
  if (r.history) out.history = r.history.map((h) => ({ id: h.id, at: h.at, by: h.by, what: h.what, from: h.from, to: h.to, reason: h.reason, why: h.why }));
  if (r.active_region !== undefined) out.active_region = r.active_region;
  if (r.webhook_secret !== undefined) out.webhook_secret = r.webhook_secret;
  for (const [k, v] of Object.entries(r.extra ?? {})) if (!KNOWN.has(k)) out[k] = v;
  return out;
}

/** Canonical JSON text of a record: equal records give equal text. */
export function serializeTokenRecord(r: ParsedTokenRecord): string {
  return JSON.stringify(recordToJson(r));
}

/** Whether two records are the same (canonical comparison). */
export function sameRecord(a: ParsedTokenRecord, b: ParsedTokenRecord): boolean {
  return serializeTokenRecord(a) === serializeTokenRecord(b);
}

/**
 * A decision's id: the first 40 hex digits of SHA-256 over bot, version read, action and target. Two monitors that
 * read the same version and decide the same thing get the same id; Secrets Manager accepts it as a
 * `ClientRequestToken` (32–64 characters), which makes a retried write idempotent.
 */
export function decisionId(bot: string, versionRead: string, action: string, target: number): string {
  return createHash('sha256').update(`${bot}\n${versionRead}\n${action}\n${target}`).digest('hex').slice(0, 40);
}

/** A short, token-free fingerprint of a record (stands in for a version when none is known). */
export function recordFingerprint(r: ParsedTokenRecord): string {
  return createHash('sha256').update(serializeTokenRecord(r)).digest('hex').slice(0, 16);
}

const MONITOR = /^monitor@[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const OPERATOR = /^operator:[A-Za-z0-9][A-Za-z0-9._@+-]{0,62}$/;

/** `monitor@<region>`: the actor name of the scheduled monitor in a region. */
export function monitorActor(region: string): string {
  return checkActor(`monitor@${region}`);
}

/** `operator:<user>`: the actor name of a person using the CLI. */
export function operatorActor(user: string): string {
  return checkActor(`operator:${user}`);
}

/** Validate an actor name (`monitor@<region>` or `operator:<user>`); UsageError otherwise. */
export function checkActor(by: string): string {
  if (!MONITOR.test(by) && !OPERATOR.test(by)) throw new UsageError(`actor ${JSON.stringify(by)}: must be monitor@<region> or operator:<user>`);
  return by;
}

/** Cut a history text to {@link WHY_LIMIT} characters. */
export function clip(text: string): string {
  return text.length <= WHY_LIMIT ? text : `${text.slice(0, WHY_LIMIT - 1)}…`;
}

/** Append an entry, keeping the last `limit` entries. Returns a new list. */
export function appendHistory(history: readonly HistoryEntry[] | undefined, entry: HistoryEntry, limit = HISTORY_LIMIT): HistoryEntry[] {
  const all = [...(history ?? []), { ...entry, reason: clip(entry.reason), why: clip(entry.why) }];
  return all.slice(Math.max(0, all.length - Math.max(1, limit)));
}

/** A deep copy of a record (the engine never mutates its input). */
export function cloneRecord(r: ParsedTokenRecord): ParsedTokenRecord {
  return JSON.parse(JSON.stringify({ ...r })) as ParsedTokenRecord;
}
