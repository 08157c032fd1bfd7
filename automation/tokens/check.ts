/**
 * `runTokenCheck`: one monitor run (the every-minute Lambda, `dr tokens check [--apply]`). Reads every bot's record,
 * probes every token once (a rate-limited token is skipped until its `next_probe_at`), decides per bot, writes the new
 * record with compare-and-set when `apply` and the decision changed it, and notifies switches, new alerts and
 * platform outages.
 *
 * A lost compare-and-set (another monitor wrote first) is never retried: the record is re-read and reported as
 * `decided-by-another-monitor` with that writer's active token; the winner notifies, the loser does not. So two
 * monitors in two regions that see the same outage switch once and notify once.
 *
 * The JSON contract per bot (`dr tokens check --json`, {@link TokenCheckJson}):
 *   { "bot", "platform", "active_before", "active_after", "action": "keep"|"switch"|"alert", "reason",
 *     "tokens": [ { "index", "state", "latency_ms" } ] }
 * A platform-wide outage is an `alert` with reason `platform-degraded` (no extra field). Without `apply`,
 * `active_after` is what the decision would make it (nothing is written). Everything else (decision id, sentence,
 * write outcome, warnings) is in {@link BotCheck} beside the contract object.
 */
import type { Clock } from '../core/clock';
import { errorSummary, UsageError } from '../core/errors';
import { redact } from '../core/redact';
import { decide, type DecideRules, type DecisionReason, type RightsMap, type TokenDecision } from './decide';
import type { HistoryEntry, Platform, ProbeState, StoredTokenRecord, TokenNotice, TokenNotifier, TokenProbe, TokenProber, TokenStore } from './ports';
import { checkActor, type ParsedTokenRecord } from './record';

/** Inputs of {@link runTokenCheck}. */
export interface TokenCheckOptions {
  /** Bot names (each a record in the store). */
  bots: readonly string[];
  store: TokenStore;
  prober: TokenProber;
  /** Optional: without one, nothing is announced (the report still says what would have been). */
  notifier?: TokenNotifier;
  clock: Clock;
  /** Write decisions (compare-and-set) and notify. False: decide and report only. */
  apply: boolean;
  /** `monitor@<region>` or `operator:<user>`. */
  actor: string;
  rules?: Partial<DecideRules>;
  /** Per bot, per token index: all channel rights (issue 11 fills this). */
  rights?: Readonly<Record<string, RightsMap>>;
  /** Probes in flight at once (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Progress lines (redacted here). */
  log?: (line: string) => void;
}

/** The per-bot JSON contract of `dr tokens check --json`. */
export interface TokenCheckJson {
  bot: string;
  platform: Platform;
  active_before: number;
  active_after: number;
  action: 'keep' | 'switch' | 'alert';
  reason: DecisionReason | 'decided-by-another-monitor';
  tokens: Array<{ index: number; state: ProbeState; latency_ms: number }>;
}

/** What happened to the decision's record. */
export type WriteResult = 'written' | 'unchanged' | 'not-applied' | 'conflict' | 'failed';

/** One bot's outcome: the contract object plus what people and the CLI need besides. */
export interface BotCheck {
  result: TokenCheckJson;
  decision_id: string;
  why: string;
  write: WriteResult;
  /** The store's words on a conflict or a failed write (redacted). */
  write_detail?: string;
  /** With a conflict: the history entry the other writer appended since our read (their decision), if any. */
  decided_by?: HistoryEntry;
  notified: boolean;
  notify_error?: string;
  next_probe_at: Array<{ index: number; at: string }>;
  warnings: string[];
  /** Per token: the redacted probe detail, for the human output. */
  details: Array<{ index: number; detail?: string; retry_after_s?: number }>;
}

/** Everything one run found. */
export interface TokenCheckReport {
  bots: BotCheck[];
  /** Bots that could not be checked at all (record unreadable), and failed writes. */
  errors: Array<{ bot: string; error: string }>;
  /** Platforms whose every probed token was unreachable. */
  degraded: Platform[];
}

/** The contract objects of a report, in bot order (what `--json` prints). */
export function checkJson(report: TokenCheckReport): TokenCheckJson[] {
  return report.bots.map((b) => b.result);
}

/** Run `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

interface Job {
  bot: string;
  platform: Platform;
  index: number;
  token: string;
  notBefore?: string;
}

async function probeOne(job: Job, o: TokenCheckOptions): Promise<TokenProbe> {
  const now = o.clock.now();
  if (job.notBefore && Date.parse(job.notBefore) > now.getTime()) {
    return { index: job.index, state: 'rate-limited', latency_ms: 0, skipped: true, detail: `not probed: rate-limited until ${job.notBefore}` };
  }
  try {
    const p = await o.prober.probe({ platform: job.platform, token: job.token, index: job.index, signal: o.signal });
    return { ...p, index: job.index, ...(p.detail !== undefined ? { detail: redact(p.detail) } : {}) };
  } catch (err) {
    return { index: job.index, state: 'failing', latency_ms: 0, detail: redact(`probe error: ${errorSummary(err)}`) };
  }
}

/** Probe every token of every bot read; returns probes per bot. */
async function probeAll(records: Map<string, StoredTokenRecord>, o: TokenCheckOptions): Promise<Map<string, TokenProbe[]>> {
  const jobs: Job[] = [];
  for (const [bot, { record }] of records) {
    const health = new Map((record.health ?? []).map((h) => [h.index, h]));
    record.tokens.forEach((token, index) => jobs.push({ bot, platform: record.platform, index, token, notBefore: health.get(index)?.next_probe_at }));
  }
  const results = await mapLimit(jobs, o.concurrency ?? 8, (j) => probeOne(j, o));
  const out = new Map<string, TokenProbe[]>();
  jobs.forEach((j, i) => out.set(j.bot, [...(out.get(j.bot) ?? []), results[i]]));
  return out;
}

/** Rule 3 across bots: platforms where every token actually asked this run was unreachable. */
function degradedPlatforms(records: Map<string, StoredTokenRecord>, probes: Map<string, TokenProbe[]>): Set<Platform> {
  const asked = new Map<Platform, TokenProbe[]>();
  for (const [bot, { record }] of records) asked.set(record.platform, [...(asked.get(record.platform) ?? []), ...(probes.get(bot) ?? []).filter((p) => !p.skipped)]);
  return new Set([...asked].filter(([, ps]) => ps.length > 0 && ps.every((p) => p.state === 'unreachable')).map(([pl]) => pl));
}

function noticeOf(bot: string, platform: Platform, d: TokenDecision, entry: HistoryEntry): TokenNotice {
  const kind = entry.what === 'alert' && entry.reason === 'platform-degraded' ? 'platform-degraded' : entry.what;
  return { kind, bot, platform, id: entry.id, from: entry.from, to: entry.to, reason: entry.reason, by: entry.by, at: entry.at, message: redact(`${bot} (${platform}): ${d.why}`) };
}

function baseCheck(bot: string, rec: ParsedTokenRecord, probes: TokenProbe[], d: TokenDecision, write: WriteResult): BotCheck {
  const sorted = [...probes].sort((a, b) => a.index - b.index);
  return {
    result: {
      bot,
      platform: rec.platform,
      active_before: rec.active,
      active_after: d.record.active,
      action: d.action,
      reason: d.reason,
      tokens: sorted.map((p) => ({ index: p.index, state: p.state, latency_ms: p.latency_ms })),
    },
    decision_id: d.id,
    why: d.why,
    write,
    notified: false,
    next_probe_at: d.nextProbeAt,
    warnings: d.warnings,
    details: sorted.map((p) => ({ index: p.index, ...(p.detail !== undefined ? { detail: p.detail } : {}), ...(p.retry_after_s !== undefined ? { retry_after_s: p.retry_after_s } : {}) })),
  };
}

/** A lost compare-and-set: re-read once and report the winner's state; never write again. */
async function reportConflict(c: BotCheck, bot: string, read: StoredTokenRecord, d: TokenDecision, detail: string, o: TokenCheckOptions, errors: TokenCheckReport['errors']): Promise<void> {
  c.write = 'conflict';
  c.write_detail = redact(detail);
  c.result.reason = 'decided-by-another-monitor';
  try {
    const now = await o.store.read(bot, { signal: o.signal });
    c.result.active_after = now.record.active;
    // The other writer's decision: an entry appended since our read (same id when it decided exactly what we did).
    const seen = read.record.history?.at(-1);
    const last = now.record.history?.at(-1);
    if (last && (seen === undefined || JSON.stringify(last) !== JSON.stringify(seen))) c.decided_by = last;
    c.result.action = now.record.active !== c.result.active_before ? 'switch' : d.action === 'alert' ? 'alert' : 'keep';
  } catch (err) {
    c.result.active_after = c.result.active_before;
    c.result.action = d.action === 'switch' ? 'keep' : d.action;
    errors.push({ bot, error: redact(`re-reading after a conflict: ${errorSummary(err)}`) });
  }
}

/** Write (when applying and changed) and notify (when the decision appended news and our write won). */
async function commit(bot: string, read: StoredTokenRecord, probes: TokenProbe[], d: TokenDecision, o: TokenCheckOptions, errors: TokenCheckReport['errors']): Promise<BotCheck> {
  const c = baseCheck(bot, read.record, probes, d, !o.apply ? 'not-applied' : d.changed ? 'written' : 'unchanged');
  if (!o.apply || !d.changed) return c;
  try {
    const w = await o.store.write(bot, d.record, { expectVersion: read.version, requestId: d.id, signal: o.signal });
    if (w.outcome === 'conflict') {
      await reportConflict(c, bot, read, d, w.detail, o, errors);
      return c;
    }
    if (w.detail) c.write_detail = redact(w.detail);
  } catch (err) {
    c.write = 'failed';
    c.write_detail = redact(errorSummary(err));
    c.result.active_after = c.result.active_before;
    errors.push({ bot, error: redact(`writing the decision: ${errorSummary(err)}`) });
    return c;
  }
  if (d.entry && o.notifier) {
    try {
      await o.notifier.notify(noticeOf(bot, read.record.platform, d, d.entry), { signal: o.signal });
      c.notified = true;
    } catch (err) {
      c.notify_error = redact(errorSummary(err));
    }
  }
  return c;
}

/** One monitor run over every bot: see the module comment. Never throws for one bot's trouble (see `errors`). */
export async function runTokenCheck(o: TokenCheckOptions): Promise<TokenCheckReport> {
  checkActor(o.actor);
  const bots = [...new Set(o.bots)];
  if (bots.length === 0) throw new UsageError('no bots to check');
  const log = (line: string): void => o.log?.(redact(line));
  const errors: TokenCheckReport['errors'] = [];
  const records = new Map<string, StoredTokenRecord>();
  await Promise.all(
    bots.map(async (bot) => {
      try {
        records.set(bot, await o.store.read(bot, { signal: o.signal }));
      } catch (err) {
        errors.push({ bot, error: redact(`reading the record from ${o.store.location}: ${errorSummary(err)}`) });
      }
    }),
  );
  const probes = await probeAll(records, o);
  const degraded = degradedPlatforms(records, probes);
  const now = o.clock.now();
  const checks: BotCheck[] = [];
  for (const bot of bots) {
    const read = records.get(bot);
    if (!read) continue;
    const ps = probes.get(bot) ?? [];
    const d = decide(read.record, ps, { ...o.rules, bot, version: read.version, now, by: o.actor, platformDegraded: degraded.has(read.record.platform), rights: o.rights?.[bot] });
    const c = await commit(bot, read, ps, d, o, errors);
    log(`tokens ${bot}: ${c.result.action} (${c.result.reason}), active ${c.result.active_before} → ${c.result.active_after}, ${c.write}${c.notified ? ', notified' : ''}: ${c.why}`);
    checks.push(c);
  }
  return { bots: checks, errors: errors.sort((a, b) => a.bot.localeCompare(b.bot)), degraded: [...degraded].sort() };
}
