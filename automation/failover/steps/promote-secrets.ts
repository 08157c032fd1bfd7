/**
 * Failover step promote-secrets: make the survivor's replicated secrets (bot tokens, DB and cache credentials) writable,
 * then probe every bot's active token from the survivor region (when the ports offer {@link BotsPort}).
 *
 * The probe is a report, not a gate: the secrets are promoted either way, and a bot whose active token does not answer
 * healthy is a loud WARNING in the step's detail (the survivor's token monitor switches it, or an operator pins another
 * with `dr tokens use`). Its result is the step's journal data (`bots`), never a token.
 */
import { errorSummary } from '../../core/errors';
import { redact } from '../../core/redact';
import type { PlanStep } from '../plan';
import type { ActiveTokenProbe } from '../ports';
import { asList, type StepContext, type StepOutcome } from './context';

/** States that are no fault of the token (a 429 says nothing about it): everything else is a warning. */
const NOT_A_FAULT = new Set(['healthy', 'rate-limited']);

/** Check-then-act per secret (`isPromoted`, then `promote`), then the bots' active-token probe (see the module comment). */
export async function promoteSecretsStep(step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { to } = ctx.plan;
  const ids = asList(step.target.secrets);
  const acted: string[] = [];
  for (const sid of ids) {
    if (await ports.secrets.isPromoted(to, sid, call)) continue;
    await ports.secrets.promote(to, sid, call);
    acted.push(sid);
  }
  const probe = await probeActiveTokens(ctx, to);
  const data = probe.bots ? { data: { bots: probe.bots } } : {};
  if (!acted.length) return { status: 'done-before', detail: `${ids.length} secret(s) in ${to} already writable${probe.text}`, ...data };
  return { status: 'ok', detail: `${acted.length} of ${ids.length} secret(s) made writable in ${to}${probe.text}`, ...data };
}

/** One bot's probe for people: `community token 1 revoked (401: Unauthorized)`. */
function describeProbe(b: ActiveTokenProbe): string {
  return `${b.bot}${b.active >= 0 ? ` token ${b.active}` : ''} ${b.state}${b.detail ? ` (${b.detail})` : ''}`;
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
