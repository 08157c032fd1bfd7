/**
 * `dr tokens status|check|use|unpin` (issue 10): the bots' Telegram/Discord tokens, on a local tokens file
 * (`--file`) or on AWS (the stacks' bot-token secrets in Secrets Manager); see ./tokens-target for how the target
 * is found. The token engine decides (automation/tokens); these commands only compose and print.
 *
 * - status: what the records say (active token, pin, last known health per token, the last decisions); no probing.
 * - check: probe every token once and decide per bot; `--apply` writes the decisions (compare-and-set) and sends
 *   the notices. `--json` is exactly `{ "bots": [ checkJson(...) ] }`. Exit 0 when every bot's active token after
 *   the run is healthy, 1 otherwise.
 * - use BOT INDEX --reason TEXT: pin a token (the monitor never switches away from it, but still alerts).
 * - unpin BOT: lift the pin.
 * No output, JSON document, log line or notice ever holds a token: the stores register every token they read for
 * redaction, and the engine's results carry none.
 */
import { applyManualChange, checkJson, runTokenCheck, type ManualChangeResult } from '../../tokens';
import { UsageError } from '../../core/errors';
import { everyActiveTokenHealthy, formatTokenCheck, formatTokenStatus, readTokenStatus } from '../../ops/token-report';
import type { ArgSpec } from '../args';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { openTokenTarget, operatorFromEnv, TOKEN_API_FLAGS, TOKEN_TARGET_FLAGS, tokenProber } from './tokens-target';

const TARGET_SUMMARY = "Target: --file FILE (local), else AWS: the stacks' botTokenSecretArns (online, or --outputs-dir) in the serving region's Secrets Manager (or --region)";

const BOT_ARG: ArgSpec = { name: 'bot', description: "the bot's name (a key of the tokens file's \"bots\", or of the stacks' botTokenSecretArns)" };

/** `dr tokens status`: the stored state of every bot's tokens, without probing. */
export const statusCommand: Command = {
  name: 'tokens status',
  summary: `per bot: platform, active token, pin, each token's last known health, the last decisions; no probing. ${TARGET_SUMMARY}`,
  flags: {
    history: { type: 'number', description: 'how many of the last decisions to show per bot (0-100)', default: 5 },
    ...TOKEN_TARGET_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    const history = ctx.flags.number('history') ?? 5;
    if (!Number.isInteger(history) || history < 0 || history > 100) throw new UsageError(`--history must be a whole number 0-100, got ${history}`);
    const t = await openTokenTarget(ctx, { write: false });
    const r = await readTokenStatus(t.store, t.bots, { history, signal: ctx.signal });
    ctx.out.result({ ok: r.errors.length === 0, ...r }, formatTokenStatus(r));
    return r.errors.length ? 1 : 0;
  },
};

/** `dr tokens check [--apply]`: probe every token once, decide per bot, optionally write and notify. */
export const checkCommand: Command = {
  name: 'tokens check',
  summary: `probe every token once and print each bot's decision (keep, switch, alert); --apply writes it and notifies. Exit 0 when every bot's active token is healthy after the decision. ${TARGET_SUMMARY}`,
  flags: {
    apply: { type: 'boolean', description: 'write the decisions to the store (compare-and-set) and send the notices; without it nothing is written' },
    ...TOKEN_TARGET_FLAGS,
    ...TOKEN_API_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    const apply = ctx.flags.bool('apply');
    const actor = operatorFromEnv(ctx.env);
    const proberWith = tokenProber(ctx);
    const t = await openTokenTarget(ctx, { write: apply });
    const prober = proberWith(t.clock);
    const report = await runTokenCheck({ bots: t.bots, store: t.store, prober, notifier: t.notifier, clock: t.clock, apply, actor, signal: ctx.signal });
    for (const c of report.bots) {
      for (const w of c.warnings) ctx.out.warn(`${c.result.bot}: ${w}`);
      if (c.notify_error) ctx.out.warn(`${c.result.bot}: the notice was not delivered (${t.notifications}): ${c.notify_error}`);
    }
    for (const e of report.errors) ctx.out.warn(`${e.bot}: ${e.error}`);
    const changed = report.bots.some((c) => c.write === 'not-applied' && (c.result.active_after !== c.result.active_before || c.result.action === 'alert'));
    const footer = !apply && changed ? '\ndry run: nothing was written and nobody was notified; run with --apply to act on these decisions' : '';
    ctx.out.result({ bots: checkJson(report) }, `${formatTokenCheck(report)}${footer}`);
    return everyActiveTokenHealthy(report, apply) ? 0 : 1;
  },
};

function parseIndex(raw: string | undefined): number {
  if (raw === undefined || !/^\d+$/.test(raw)) throw new UsageError(`INDEX must be a token index (a whole number 0, 1, …), got '${raw ?? ''}'`);
  return Number(raw);
}

function manualJson(r: ManualChangeResult, bot: string, store: string, note: string): Record<string, unknown> {
  const e = r.entry;
  return {
    ok: true,
    bot,
    platform: r.record.platform,
    action: e.what,
    active_before: e.from,
    active_after: r.record.active,
    pin: r.record.pin ?? null,
    decision_id: e.id,
    why: e.why,
    store,
    notified: r.notified,
    ...(r.notify_error ? { notify_error: r.notify_error } : {}),
    note,
  };
}

function reportManual(ctx: CommandContext, r: ManualChangeResult, bot: string, store: string, notifications: string, note: string): void {
  if (r.notify_error) ctx.out.warn(`the notice was not delivered (${notifications}): ${r.notify_error}`);
  const human = [`${bot} (${r.record.platform}): ${r.entry.why}`, `active ${r.entry.from} → ${r.record.active}${r.notified ? `; notified ${notifications}` : ''}`, `note: ${note}`];
  ctx.out.result(manualJson(r, bot, store, note), human.join('\n'));
}

/** `dr tokens use BOT INDEX --reason TEXT`: pin a token. */
export const useCommand: Command = {
  name: 'tokens use',
  summary: `pin token INDEX of BOT: it becomes active and the monitor will not switch away from it (it still alerts when it fails) until 'dr tokens unpin'. ${TARGET_SUMMARY}`,
  args: [BOT_ARG, { name: 'index', description: "the token to pin: its index in the bot's tokens (0 is the first)" }],
  flags: {
    reason: { type: 'string', description: 'why the token is pinned (required; kept in the history and the notice)' },
    ...TOKEN_TARGET_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    const index = parseIndex(ctx.flags.arg('index'));
    const reason = ctx.flags.required('reason', 'say why the token is pinned: it is kept in the history and the notice');
    if (reason.trim() === '') throw new UsageError('--reason must not be blank: say why the token is pinned');
    const actor = operatorFromEnv(ctx.env);
    const bot = ctx.flags.arg('bot') ?? '';
    const t = await openTokenTarget(ctx, { write: true, bot });
    const r = await applyManualChange({ store: t.store, bot, change: { kind: 'pin', index, reason }, actor, clock: t.clock, notifier: t.notifier, signal: ctx.signal });
    const last = r.record.health?.find((h) => h.index === index)?.last_state;
    if (last && last !== 'healthy') ctx.out.warn(`token ${index}'s last probe found it ${last}; it is pinned anyway (the monitor will alert, not switch)`);
    reportManual(ctx, r, bot, t.store.location, t.notifications, `the monitor will not switch away from token ${index} while it is pinned, but it still alerts when it fails; 'dr tokens unpin ${bot}' lifts the pin`);
    return 0;
  },
};

/** `dr tokens unpin BOT`: lift the pin. */
export const unpinCommand: Command = {
  name: 'tokens unpin',
  summary: `lift BOT's pin: the active token stays, and the monitor decides again from its next run. ${TARGET_SUMMARY}`,
  args: [BOT_ARG],
  flags: { ...TOKEN_TARGET_FLAGS, ...JSON_FLAG },
  async run(ctx) {
    const actor = operatorFromEnv(ctx.env);
    const bot = ctx.flags.arg('bot') ?? '';
    const t = await openTokenTarget(ctx, { write: true, bot });
    const r = await applyManualChange({ store: t.store, bot, change: { kind: 'unpin' }, actor, clock: t.clock, notifier: t.notifier, signal: ctx.signal });
    reportManual(ctx, r, bot, t.store.location, t.notifications, `token ${r.record.active} stays active; the monitor may switch away from it again from its next run`);
    return 0;
  },
};

export const command = statusCommand;
