/**
 * The drill's bot-token scenarios, on the environment's fake Telegram API and its token file:
 * - `token`: the community bot's active token is revoked mid-traffic; the token monitor (1 s probes) switches to the
 *   next healthy token and the bot worker, following the bot runtime, posts again with it. `switch_seconds` runs from
 *   the revocation to the worker's first successful call with the new token.
 * - `token-outage`: every token gets 5xx (the platform is down): the monitor must NOT switch (it cannot help and it
 *   burns tokens) and must raise a `platform-degraded` alert; when the platform is back the bot carries on with the
 *   same token.
 * - `permissions` (issue 11): before the monitor starts, the backup token next in rotation (token 1) loses Delete
 *   messages in the community channel; the monitor's rights check reports it; then the active token is revoked and
 *   the switch must prefer the token with every right (token 2) over the next in rotation.
 */
import { openRightsGap, REHEARSAL_RIGHTS_GAP } from '../adapters/rehearsal/bot-settings';
import type { PlatformControl } from '../adapters/rehearsal/platform-server';
import { missingCells, type PermissionReport } from '../ops/bot-permissions';
import type { LocalState } from '../adapters/rehearsal/state';
import { OperationError } from '../core/errors';
import { platformControl } from './environment';
import type { TokenCheckReport, TokenNotice } from '../tokens/index';
import { BotWorker, CONVERSATIONS } from './bot-worker';
import type { DrillCheck, DrillResult } from './drill-result';
import { round2 } from './drill-result';
import { localTokenStore, runTokenMonitor } from './token-monitor';

export const TOKEN_BOT = 'community';

/** The scenarios this module drives. */
export type TokenDrillScenario = 'token' | 'token-outage' | 'permissions';

/** The bot tier of one token drill: worker, monitor, platform control, and what they saw. */
export class TokenDrill {
  readonly worker: BotWorker;
  private readonly control: PlatformControl;
  private readonly abort = new AbortController();
  private monitor?: Promise<void>;
  private readonly reports: Array<{ at: number; report: TokenCheckReport }> = [];
  private readonly rights: Array<{ at: number; report: PermissionReport }> = [];
  private gapAt = 0;
  readonly notices: TokenNotice[] = [];
  private revoked?: { index: number; at: number };
  private outageEndedAt?: number;
  private sessionsBefore: Record<string, number> = {};

  constructor(
    private readonly state: LocalState,
    private readonly scenario: TokenDrillScenario,
  ) {
    this.worker = new BotWorker(state, TOKEN_BOT);
    this.control = platformControl(state);
  }

  /** Start the bot worker and the token monitor (1 s probes; `permissions`: the rights gap first, re-checked every 2 s). */
  async start(): Promise<void> {
    if (this.scenario === 'permissions') {
      const { record } = await localTokenStore(this.state).read(TOKEN_BOT);
      await openRightsGap(this.control, record.tokens[REHEARSAL_RIGHTS_GAP.token]);
      this.gapAt = Date.now();
    }
    await this.worker.start();
    this.monitor = runTokenMonitor({
      state: this.state,
      intervalMs: 1000,
      signal: this.abort.signal,
      rightsEveryRuns: this.scenario === 'permissions' ? 2 : undefined,
      onRun: (report, at) => this.reports.push({ at, report }),
      onNotice: (n) => this.notices.push(n),
      onRights: (report, at) => this.rights.push({ at, report }),
    });
  }

  /** `permissions`: the first rights check after the gap that names it. */
  private gapReported(): { token: number; channel: string; missing: string[]; action?: string } | undefined {
    const bot = this.rights.find((r) => r.at >= this.gapAt)?.report.matrix.bots.find((b) => b.bot === TOKEN_BOT);
    return bot ? missingCells(bot).find((c) => c.token === REHEARSAL_RIGHTS_GAP.token && c.channel === REHEARSAL_RIGHTS_GAP.channel) : undefined;
  }

  /** `permissions`: wait (at most `timeoutMs`) until the monitor's rights check has reported the gap. */
  async waitForGap(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const g = this.gapReported();
      if (g) return `the monitor's rights check reports token ${g.token} of ${TOKEN_BOT} missing ${g.missing.join(', ')} in ${g.channel} (admin action: ${g.action ?? 'grant the missing rights'})`;
      if (Date.now() > deadline) throw new OperationError(`the monitor's rights check did not report the gap within ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Revoke the active token, or take the platform down. Returns a line for the step. */
  async inject(): Promise<string> {
    this.sessionsBefore = await this.worker.conversations();
    const { record } = await localTokenStore(this.state).read(TOKEN_BOT);
    if (this.scenario !== 'token-outage') {
      await this.control.revoke(record.tokens[record.active]);
      this.revoked = { index: record.active, at: Date.now() };
      return `revoked ${TOKEN_BOT}'s active token ${record.active} on the fake Telegram API (it now answers 401)`;
    }
    await this.control.outage('telegram', { status: 502 });
    this.revoked = { index: record.active, at: Date.now() };
    return 'fake Telegram API down: every call answers 502';
  }

  get failAt(): number {
    return this.revoked?.at ?? 0;
  }

  private monitorRunsAfter(at: number): Array<{ at: number; report: TokenCheckReport }> {
    return this.reports.filter((r) => r.at > at);
  }

  /** `token`: the monitor's switch away from the revoked token; `token-outage`: its platform-degraded alert. */
  async detect(timeoutMs: number): Promise<{ detail: string; seconds: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const { at, report } of this.monitorRunsAfter(this.failAt)) {
        const bot = report.bots.find((b) => b.result.bot === TOKEN_BOT);
        if (this.scenario !== 'token-outage' && bot?.result.action === 'switch') return { seconds: round2((at - this.failAt) / 1000), detail: `the monitor switched ${TOKEN_BOT} from token ${bot.result.active_before} to ${bot.result.active_after} (${bot.result.reason})` };
        if (this.scenario === 'token-outage' && report.degraded.includes('telegram')) return { seconds: round2((at - this.failAt) / 1000), detail: `the monitor reported platform-degraded for telegram and kept token ${bot?.result.active_after}` };
      }
      if (Date.now() > deadline) throw new OperationError(`the token monitor did not ${this.scenario !== 'token-outage' ? 'switch' : 'report the outage'} within ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** `token-outage`: hold the outage a few monitor runs (no switch may happen), then end it. */
  async endOutage(holdMs: number): Promise<void> {
    if (this.scenario !== 'token-outage') return;
    await new Promise((r) => setTimeout(r, holdMs));
    await this.control.outage('telegram', false);
    this.outageEndedAt = Date.now();
  }

  /** The worker's first successful call after the failure (with the new token, for `token`). */
  async resumed(timeoutMs: number): Promise<{ seconds: number; index: number }> {
    const deadline = Date.now() + timeoutMs;
    const after = this.outageEndedAt ?? this.failAt;
    for (;;) {
      const ok = this.worker.calls.find((c) => c.ok && c.at > after && (this.scenario === 'token-outage' || c.index !== this.revoked!.index));
      if (ok) return { seconds: round2((ok.at - this.failAt) / 1000), index: ok.index };
      if (Date.now() > deadline) throw new OperationError(`the bot made no successful call within ${timeoutMs / 1000}s of the failure`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Conversations that kept counting across the failure: begun before it (step ≥ 1) and advanced since, none
   * restarted. Waits (at most `timeoutMs`) until each has had its turn after the failure.
   */
  async sessionsKept(timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.worker.conversations();
      const kept = Object.keys(now).filter((k) => (this.sessionsBefore[k] ?? 0) > 0 && now[k] > this.sessionsBefore[k]).length;
      if (kept === CONVERSATIONS || Date.now() > deadline) return kept;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.monitor?.catch(() => undefined);
    await this.worker.stop().catch(() => undefined);
  }

  /** The scenario's checks and its `token` figures (`permissions`: and its `permissions` figures). */
  async conclude(result: DrillResult, switchSeconds: number | null): Promise<DrillCheck[]> {
    const kept = await this.sessionsKept().catch(() => 0);
    await this.stop();
    const switches = this.monitorRunsAfter(this.failAt).flatMap(({ report }) => report.bots.filter((b) => b.result.bot === TOKEN_BOT && b.result.action === 'switch'));
    const switching = this.scenario !== 'token-outage';
    result.token = { switch_seconds: switching ? switchSeconds : null, calls_ok: this.worker.stats.calls_ok, calls_failed: this.worker.stats.calls_failed, sessions_kept: kept, sessions: CONVERSATIONS };
    const resumedWith = this.worker.calls.filter((c) => c.ok && c.at > this.failAt).at(-1)?.index;
    const checks: DrillCheck[] = [];
    if (switching) {
      checks.push({ name: 'token switched', ok: switches.length === 1 && switches[0].result.active_after !== this.revoked?.index, detail: `${switches.length} switch(es): ${switches.map((s) => `${s.result.active_before} → ${s.result.active_after}`).join(', ') || 'none'}` });
      checks.push({ name: 'bot calls resumed with the new token', ok: switchSeconds !== null && resumedWith !== undefined && resumedWith !== this.revoked?.index, detail: `first successful call ${switchSeconds ?? '?'}s after the revocation, with token ${resumedWith ?? '?'}` });
    } else {
      checks.push({ name: 'no switch during the outage', ok: switches.length === 0, detail: `${switches.length} switch(es) while every token got 502` });
      const alert = this.notices.find((n) => n.kind === 'platform-degraded');
      checks.push({ name: 'platform-degraded alert raised', ok: !!alert, detail: alert ? 'notified: platform-degraded (telegram)' : 'no platform-degraded notice' });
      checks.push({ name: 'bot calls resumed with the same token', ok: switchSeconds !== null && resumedWith === this.revoked?.index, detail: `calls resumed ${switchSeconds ?? '?'}s after the outage began, with token ${resumedWith ?? '?'}` });
    }
    if (this.scenario === 'permissions') checks.push(...this.permissionChecks(result, switches[0]?.result.active_after));
    checks.push({ name: 'sessions kept', ok: kept === CONVERSATIONS, detail: `${kept}/${CONVERSATIONS} conversations kept counting across the ${switching ? 'switch' : 'outage'}` });
    return checks;
  }

  /** `permissions`: the gap reported, and the switch going to a token with every right, past the one without. */
  private permissionChecks(result: DrillResult, switchedTo: number | undefined): DrillCheck[] {
    const last = [...this.rights].reverse().find((r) => r.at >= this.gapAt)?.report;
    const bot = last?.matrix.bots.find((b) => b.bot === TOKEN_BOT);
    const missing = bot ? missingCells(bot).map((c) => ({ bot: TOKEN_BOT, token: c.token, channel: c.channel, missing: c.missing, ...(c.action ? { action: c.action } : {}) })) : [];
    const full = bot?.tokens.filter((t) => t.channels.length && t.channels.every((c) => c.state === 'ok')).map((t) => t.index) ?? [];
    const from = this.revoked?.index ?? 0;
    const n = bot?.tokens.length ?? 0;
    const skipped = switchedTo === undefined || n === 0 ? [] : Array.from({ length: (switchedTo - from - 1 + n) % n }, (_, k) => (from + 1 + k) % n);
    result.permissions = { missing, switched_to: switchedTo ?? null, skipped };
    const gap = this.gapReported();
    return [
      { name: 'rights gap reported', ok: !!gap, detail: gap ? `token ${gap.token} missing ${gap.missing.join(', ')} in ${gap.channel}; admin action: ${gap.action ?? 'grant the missing rights'} (nothing is corrected: bots cannot grant themselves rights)` : 'the rights check never named the gap' },
      {
        name: 'switch preferred full rights',
        ok: switchedTo !== undefined && full.includes(switchedTo) && skipped.includes(REHEARSAL_RIGHTS_GAP.token),
        detail: `switched to token ${switchedTo ?? '?'} (every right: tokens ${full.join(', ') || 'none'}), skipping ${skipped.length ? skipped.map((i) => `token ${i}`).join(', ') : 'nothing'}`,
      },
    ];
  }
}
