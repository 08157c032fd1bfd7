/**
 * Failover step verify: the survivor takes writes, the old primary is not an unfenced primary, every record points at
 * it, and — when the ports offer the bots — every bot can be served from it (issue 11).
 *
 * Per bot, read from the survivor with calls that never conflict with a live consumer ({@link BotsPort.serving}):
 * - FAILS verify (resumable: fix, then `dr failover --resume` re-checks promote-secrets and verifies again) when the
 *   failover's own work is not in place or updates cannot reach the survivor: the bot's secret in the survivor cannot be
 *   read, or does not say `active_region = survivor` (its workers there would consume nothing); its webhook or
 *   interactions endpoint points anywhere but the shared record name or the survivor's own endpoint (updates go to the
 *   lost region); or one of the checker's own calls answered 409.
 * - WARNS (verify passes, the detail says WARNING) for what heals without the failover: an active token that does not
 *   answer healthy (the survivor's token monitor switches it; a 5xx or a 429 is the platform's), a target that could
 *   not be read.
 * "No 409 conflict in the last probe" therefore means: none of the verify probe's own calls (getMe, getWebhookInfo,
 * users/@me, applications/@me — none of which can conflict) got a 409. Two consumers polling one token are NOT
 * detectable from here without becoming a third consumer (a `getUpdates` by the checker would itself end the bot's
 * long poll with a 409); one consumer is guaranteed structurally instead — `active_region` names one region and every
 * worker gates on `shouldConsume()` — and the rehearsal measures the conflicts on the fake Telegram.
 */
import { errorSummary, VerificationError } from '../../core/errors';
import { redact, redactValue } from '../../core/redact';
import type { PlanStep } from '../plan';
import type { BotServing } from '../ports';
import { asList, describeProbe, isCrashLike, type StepContext, type StepOutcome } from './context';

export async function verifyStep(step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { to, from } = ctx.plan;
  const problems: string[] = [];
  const ok: string[] = [];
  if (step.target.database) {
    if (await ports.database.writable(to, call)) ok.push(`database in ${to} takes writes`);
    else problems.push(`the database in ${to} does not take writes`);
    if ((await ports.database.role(from, call)) === 'primary' && !(await ports.database.isFenced(from, call))) problems.push(`the old primary database in ${from} answers, unfenced: split-brain risk`);
  }
  if (step.target.cache) {
    if (await ports.cache.writable(to, call)) ok.push(`cache in ${to} takes writes`);
    else problems.push(`the cache in ${to} does not take writes`);
  }
  for (const rec of asList(step.target.records)) {
    const cur = await ports.dns.current(rec, call);
    if (cur === to) ok.push(`${rec} → ${to}`);
    else problems.push(`${rec} points at ${cur ?? 'nothing'}, not ${to}`);
  }
  const bots = step.target.bots ? await verifyBots(ctx) : undefined;
  if (bots) {
    problems.push(...bots.problems);
    ok.push(...bots.ok);
  }
  if (problems.length) throw new VerificationError(redact(problems.join('; ')));
  const data = bots ? { data: { bots: bots.serving } } : {};
  return { status: 'ok', detail: redact([...ok, ...(bots?.warnings.length ? [`WARNING: ${bots.warnings.join('; ')}`] : [])].join('; ')), ...data };
}

/** Every bot from the survivor: what fails verify, what is a warning, what is fine (see the module comment). */
async function verifyBots(ctx: StepContext): Promise<{ problems: string[]; warnings: string[]; ok: string[]; serving: BotServing[] }> {
  const { to } = ctx.plan;
  const bots = ctx.ports.bots;
  const out = { problems: [] as string[], warnings: [] as string[], ok: [] as string[], serving: [] as BotServing[] };
  if (!bots || bots.unavailable) return out;
  try {
    out.serving = (await bots.serving(to, ctx.call)).map((b) => redactValue(b));
  } catch (err) {
    if (isCrashLike(err)) throw err;
    out.problems.push(`the bots could not be checked from ${to}: ${errorSummary(err)}`);
    return out;
  }
  for (const b of out.serving) {
    const bad = botProblems(b, to);
    out.problems.push(...bad);
    if (b.state !== 'healthy') {
      if (b.state !== 'unreadable') out.warnings.push(`${describeProbe(b)} from ${to}: the token monitor in ${to} switches it, or pin one with dr tokens use`);
    }
    if (b.target === 'unknown') out.warnings.push(`${b.bot}: where its updates go could not be read from ${to}${b.target_detail ? ` (${b.target_detail})` : ''}`);
    if (!bad.length) out.ok.push(`${b.bot}: active_region=${to}, token ${b.active} ${b.state}, updates ${b.target === 'polling' || b.target === 'gateway' ? `by ${b.target}` : `to ${b.webhook_target ?? b.target}`}`);
  }
  return out;
}

/** What makes one bot fail verify (see the module comment). */
function botProblems(b: BotServing, to: string): string[] {
  if (b.state === 'unreadable') return [`${b.bot}: its secret in ${to} cannot be read${b.detail ? ` (${b.detail})` : ''}, so no worker there can consume it`];
  const out: string[] = [];
  if (b.active_region !== to) out.push(`${b.bot}: its secret in ${to} says active_region=${b.active_region ?? '(none)'}, so ${b.active_region ? `no worker in ${to} consumes it` : 'every region may consume it'}; run dr failover --resume`);
  if (b.target === 'elsewhere') out.push(`${b.bot}: its updates go to ${b.webhook_target ?? 'another host'}, neither the shared record name nor ${to}'s endpoint${b.target_detail ? ` (${b.target_detail})` : ''}`);
  if (/\b409\b/.test(b.detail ?? '') || /\b409\b/.test(b.target_detail ?? '')) out.push(`${b.bot}: the platform answered 409 (conflict) to the verify probe from ${to}`);
  return out;
}
