/**
 * Failover step promote-secrets: make the survivor's replicated secrets (bot tokens, DB and cache credentials) writable.
 */
import type { PlanStep } from '../plan';
import { asList, type StepContext, type StepOutcome } from './context';

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
  if (!acted.length) return { status: 'done-before', detail: `${ids.length} secret(s) in ${to} already writable` };
  return { status: 'ok', detail: `${acted.length} of ${ids.length} secret(s) made writable in ${to}` };
}
