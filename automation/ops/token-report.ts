/**
 * What `dr tokens status|check` show: the stored state of every bot's tokens without probing ({@link readTokenStatus}
 * — active index, pin, each token's last known health, the last decisions), the human form of a monitor run
 * ({@link formatTokenCheck}) and the run's verdict ({@link everyActiveTokenHealthy}: the CLI's exit code).
 *
 * Everything here is built from records, probes and decisions, which never hold a token value; the text is redacted
 * anyway (the stores register every token they read).
 */
import { errorSummary } from '../core/errors';
import { redact } from '../core/redact';
import type { BotCheck, HistoryEntry, Platform, ProbeState, TokenCheckReport, TokenPin, TokenStore } from '../tokens';

/** One token's last known health, from the record (`state: null` = never probed). */
export interface TokenHealthView {
  index: number;
  state: ProbeState | null;
  consecutive_failures: number;
  consecutive_passes: number;
  /** ISO 8601: when `state` began; null when never probed. */
  since: string | null;
  switched_away_at?: string;
  next_probe_at?: string;
}

/** One bot in `dr tokens status --json`. */
export interface BotTokenStatus {
  bot: string;
  platform: Platform;
  active: number;
  /** How many tokens the bot has (their values are never shown). */
  token_count: number;
  pin: TokenPin | null;
  health: TokenHealthView[];
  /** The last decisions, oldest first. */
  history: HistoryEntry[];
}

/** `dr tokens status --json`. */
export interface TokenStatusReport {
  /** The store's name (a file path, `secretsmanager:<region>`). */
  store: string;
  bots: BotTokenStatus[];
  /** Bots whose record could not be read. */
  errors: Array<{ bot: string; error: string }>;
}

/** Read every bot's record (in parallel) and summarise it; an unreadable record is an entry in `errors`. */
export async function readTokenStatus(store: TokenStore, bots: readonly string[], o: { history: number; signal?: AbortSignal }): Promise<TokenStatusReport> {
  const errors: TokenStatusReport['errors'] = [];
  const read = await Promise.all(
    bots.map(async (bot): Promise<BotTokenStatus | undefined> => {
      try {
        const { record } = await store.read(bot, { signal: o.signal });
        const known = new Map((record.health ?? []).map((h) => [h.index, h]));
        const health = record.tokens.map((_t, index): TokenHealthView => {
          const h = known.get(index);
          return {
            index,
            state: h?.last_state ?? null,
            consecutive_failures: h?.consecutive_failures ?? 0,
            consecutive_passes: h?.consecutive_passes ?? 0,
            since: h?.since ?? null,
            ...(h?.switched_away_at ? { switched_away_at: h.switched_away_at } : {}),
            ...(h?.next_probe_at ? { next_probe_at: h.next_probe_at } : {}),
          };
        });
        const history = o.history > 0 ? (record.history ?? []).slice(-o.history) : [];
        return { bot, platform: record.platform, active: record.active, token_count: record.tokens.length, pin: record.pin ?? null, health, history };
      } catch (err) {
        errors.push({ bot, error: redact(`reading the record from ${store.location}: ${errorSummary(err)}`) });
        return undefined;
      }
    }),
  );
  return { store: store.location, bots: read.filter((b): b is BotTokenStatus => b !== undefined), errors: errors.sort((a, b) => a.bot.localeCompare(b.bot)) };
}

function historyLine(h: HistoryEntry): string {
  const move = h.from === h.to ? `token ${h.to}` : `${h.from} → ${h.to}`;
  return `    ${h.at}  ${h.what} ${move} by ${h.by} (${h.reason}): ${h.why}`;
}

/** Human form of {@link readTokenStatus}. */
export function formatTokenStatus(r: TokenStatusReport): string {
  const lines = [`token records in ${r.store}`];
  for (const b of r.bots) {
    lines.push('', `${b.bot} (${b.platform}): active token ${b.active} of ${b.token_count}${b.pin ? `, PINNED to token ${b.pin.index} by ${b.pin.by} at ${b.pin.at}: ${b.pin.reason}` : ''}`);
    for (const h of b.health) {
      const state = h.state ?? 'never probed';
      const counts = h.state ? `  failures ${h.consecutive_failures}  passes ${h.consecutive_passes}  since ${h.since ?? '?'}` : '';
      const extra = [h.switched_away_at ? `switched away at ${h.switched_away_at}` : '', h.next_probe_at ? `not probed before ${h.next_probe_at}` : ''].filter(Boolean).join(', ');
      lines.push(`  token ${h.index}  ${state.padEnd(12)}${counts}${extra ? `  (${extra})` : ''}${h.index === b.active ? '  ← active' : ''}`);
    }
    lines.push(b.history.length ? `  last ${b.history.length} decision(s):` : '  no decisions recorded yet');
    for (const h of b.history) lines.push(historyLine(h));
  }
  for (const e of r.errors) lines.push('', `${e.bot}: ERROR ${e.error}`);
  return redact(lines.join('\n'));
}

const WRITE_WORDS: Record<BotCheck['write'], string> = {
  written: 'written',
  unchanged: 'nothing to write',
  'not-applied': 'not applied (dry run; --apply writes it)',
  conflict: 'another monitor decided first',
  failed: 'WRITE FAILED',
};

/** Human form of a `dr tokens check` run: one line per bot, one per token, then the decision's sentence. */
export function formatTokenCheck(report: TokenCheckReport): string {
  const lines: string[] = [];
  for (const c of report.bots) {
    const r = c.result;
    const tail = [WRITE_WORDS[c.write], c.write_detail ?? '', c.notified ? 'notified' : ''].filter(Boolean).join(', ');
    lines.push(`${r.bot} (${r.platform}): ${r.action} (${r.reason}), active ${r.active_before} → ${r.active_after}; ${tail}`);
    const details = new Map(c.details.map((d) => [d.index, d]));
    for (const t of r.tokens) {
      const d = details.get(t.index);
      const wait = d?.retry_after_s !== undefined ? ` (retry after ${d.retry_after_s} s)` : '';
      lines.push(`  token ${t.index}  ${t.state.padEnd(12)} ${String(t.latency_ms).padStart(6)} ms  ${d?.detail ?? ''}${wait}`.trimEnd());
    }
    lines.push(`  ${c.why}`);
  }
  for (const e of report.errors) lines.push(`${e.bot}: ERROR ${e.error}`);
  if (report.degraded.length) lines.push(`platform API down: ${report.degraded.join(', ')} (no switch while every token is unreachable)`);
  return redact(lines.join('\n'));
}

/**
 * The run's verdict: true when every bot was checked and its active token after the run — the decision's when it
 * was applied, the stored one otherwise — was healthy in this run's probe. A rate-limited or skipped active token
 * is not known to be healthy, so it does not count as healthy.
 */
export function everyActiveTokenHealthy(report: TokenCheckReport, applied: boolean): boolean {
  if (report.errors.length) return false;
  return report.bots.every((c) => {
    const active = applied ? c.result.active_after : c.result.active_before;
    return c.result.tokens.find((t) => t.index === active)?.state === 'healthy';
  });
}
