/**
 * Failover step promote-secrets: make the survivor's replicated secrets (bot tokens, DB and cache credentials) writable,
 * then move the bots' consumers (issue 11, one consumer per token) and probe every bot's active token from the survivor
 * region (when the ports offer {@link BotsPort}).
 *
 * Moving the consumers: the record's `active_region` names the one region whose workers consume a bot's updates
 * (the bot runtime's `shouldConsume()`). Once the survivor's copies are writable, and before DNS switches:
 * 1. the LOST region's copy of each bot's secret is set to the survivor first, when that region answers (its workers
 *    stop within one runtime poll); bounded by {@link LOST_COPY_TIMEOUT_MS}; when it does not answer, a pending fence
 *    `bots` is journaled and the split-brain guard writes it as soon as the region answers again;
 * 2. then the SURVIVOR's copy (its workers start). Each copy is checked first and written only when it says
 *    otherwise, so a rerun after a crash anywhere here writes nothing twice.
 * A copy that cannot be written in the survivor does not stop traffic from moving (the database is already promoted):
 * it is a loud WARNING here, and `verify` fails on it (resumable: `--resume` re-checks this step and writes it).
 *
 * The token probe is a report, not a gate: an unhealthy active token is a WARNING (the survivor's token monitor switches
 * it, or an operator pins another with `dr tokens use`). Results are the step's journal data, never a token.
 */
import { errorSummary } from '../../core/errors';
import { redact } from '../../core/redact';
import type { PlanStep } from '../plan';
import type { ActiveTokenProbe, BotActiveRegion, BotsPort } from '../ports';
import { addPendingFence, asList, closePendingFence, describeProbe, isCrashLike, type StepContext, type StepOutcome } from './context';

/** States that are no fault of the token (a 429 says nothing about it): everything else is a warning. */
const NOT_A_FAULT = new Set(['healthy', 'rate-limited']);

/** How long the best-effort write into the lost region's copies may take before it becomes a pending fence. */
export const LOST_COPY_TIMEOUT_MS = 10_000;

/** What moving the consumers did, per copy (journaled as `data.active_region`). */
interface CopyResult {
  written: string[];
  already: string[];
  /** Bots whose copy could not be read or written, with why (redacted). */
  failed: Array<{ bot: string; detail: string }>;
}

/** Check-then-act per secret (`isPromoted`, then `promote`), then the consumers move, then the probe (module comment). */
export async function promoteSecretsStep(step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { to } = ctx.plan;
  const ids = ports.secrets.unavailable ? [] : asList(step.target.secrets);
  const acted: string[] = [];
  for (const sid of ids) {
    if (await ports.secrets.isPromoted(to, sid, call)) continue;
    await ports.secrets.promote(to, sid, call);
    acted.push(sid);
  }
  const parts: string[] = [];
  if (ports.secrets.unavailable) parts.push(`secrets: ${ports.secrets.unavailable}`);
  else if (!acted.length) parts.push(`${ids.length} secret(s) in ${to} already writable`);
  else parts.push(`${acted.length} of ${ids.length} secret(s) made writable in ${to}`);
  const moved = step.target.active_region && ports.bots && !ports.bots.unavailable ? await moveConsumers(ctx, ports.bots) : undefined;
  const probe = await probeActiveTokens(ctx, to);
  const data = { ...(probe.bots ? { bots: probe.bots } : {}), ...(moved ? { active_region: moved.data } : {}) };
  const text = `${parts.join('')}${moved ? `; ${moved.text}` : ''}${probe.text}`;
  const changed = acted.length > 0 || (moved?.wrote ?? false);
  return { status: changed ? 'ok' : 'done-before', detail: text, ...(Object.keys(data).length ? { data } : {}) };
}

/** Set every bot's `active_region` to the survivor: the lost region's copies first (best effort), then the survivor's. */
async function moveConsumers(ctx: StepContext, bots: BotsPort): Promise<{ text: string; wrote: boolean; data: Record<string, unknown> }> {
  const { from, to } = ctx.plan;
  const bound = AbortSignal.timeout(LOST_COPY_TIMEOUT_MS);
  const lostCall = { ...ctx.call, signal: ctx.call.signal ? AbortSignal.any([ctx.call.signal, bound]) : bound };
  const lost = await setCopies(ctx, bots, from, lostCall);
  if (ctx.call.signal?.aborted) throw ctx.call.signal.reason ?? new Error('aborted');
  if (lost.failed.length) await addPendingFence(ctx, from, ['bots']);
  else await closePendingFence(ctx, from, ['bots']);
  const survivor = await setCopies(ctx, bots, to, ctx.call);
  const texts = [
    lost.failed.length
      ? `${from}'s copies of ${lost.failed.map((f) => f.bot).join(', ')} not set (${[...new Set(lost.failed.map((f) => f.detail))].join('; ')}): pending fence, the split-brain guard sets them to ${to} as soon as ${from} answers`
      : describeCopy(from, to, lost),
    describeCopy(to, to, survivor),
  ];
  if (survivor.failed.length) {
    texts.push(`WARNING: ${to}'s copy of ${survivor.failed.map((f) => `${f.bot} (${f.detail})`).join(', ')} could not be set, so no worker in ${to} consumes ${survivor.failed.length === 1 ? 'that bot' : 'those bots'}: verify fails until it is; fix it and run dr failover --resume`);
  }
  return {
    text: redact(texts.join('; ')),
    wrote: survivor.written.length + lost.written.length > 0,
    data: { region: to, [to]: survivor, [from]: lost },
  };
}

/** `b's copies: active_region=b written for community; already for moderation`. */
function describeCopy(region: string, to: string, r: CopyResult): string {
  const parts = [...(r.written.length ? [`written for ${r.written.join(', ')}`] : []), ...(r.already.length ? [`already for ${r.already.join(', ')}`] : [])];
  return `${region}'s copies: active_region=${to} ${parts.join('; ') || 'for no bot'}`;
}

/** One region's copies: read them, write those that do not name the survivor. Never throws except for a crash or an interrupt. */
async function setCopies(ctx: StepContext, bots: BotsPort, region: string, call: StepContext['call']): Promise<CopyResult> {
  const { to } = ctx.plan;
  const out: CopyResult = { written: [], already: [], failed: [] };
  let copies: BotActiveRegion[];
  try {
    copies = await bots.activeRegions(region, call);
  } catch (err) {
    if (isCrashLike(err) || ctx.call.signal?.aborted) throw err;
    return { ...out, failed: [{ bot: 'every bot', detail: redact(errorSummary(err)) }] };
  }
  for (const c of copies) {
    if (c.state !== 'read') out.failed.push({ bot: c.bot, detail: redact(c.detail ?? c.state) });
    else if (c.active_region === to) out.already.push(c.bot);
    else {
      try {
        await bots.setActiveRegion(region, c.bot, to, { ...call, failover: ctx.id });
        out.written.push(c.bot);
      } catch (err) {
        if (isCrashLike(err) || ctx.call.signal?.aborted) throw err;
        out.failed.push({ bot: c.bot, detail: redact(errorSummary(err)) });
      }
    }
  }
  return out;
}

/** Probe every bot's active token from `region`; the text to append to the step detail, and the journal data. */
async function probeActiveTokens(ctx: StepContext, region: string): Promise<{ text: string; bots?: ActiveTokenProbe[] }> {
  const bots = ctx.ports.bots;
  if (!bots) return { text: '' };
  if (bots.unavailable) return { text: `; bot tokens not probed: ${bots.unavailable}` };
  let found: ActiveTokenProbe[];
  try {
    found = await bots.probeActive(region, ctx.call);
  } catch (err) {
    if (isCrashLike(err)) throw err;
    return { text: redact(`; WARNING: the bots' active tokens could not be probed from ${region}: ${errorSummary(err)}`) };
  }
  const clean = found.map((b) => ({ ...b, ...(b.detail !== undefined ? { detail: redact(b.detail) } : {}) }));
  if (!clean.length) return { text: `; no bot to probe in ${region}`, bots: clean };
  const bad = clean.filter((b) => !NOT_A_FAULT.has(b.state));
  const text = bad.length
    ? `; WARNING: ${bad.length} of ${clean.length} bot(s) have no healthy active token seen from ${region}: ${bad.map(describeProbe).join('; ')} — the token monitor in ${region} switches to a healthy token, or pin one with dr tokens use BOT INDEX --reason TEXT`
    : `; active bot tokens from ${region}: ${clean.map(describeProbe).join(', ')}`;
  return { text: redact(text), bots: clean };
}
