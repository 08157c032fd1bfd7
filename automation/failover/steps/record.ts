/**
 * Failover step record: the journal says who serves now (the notifications follow from the engine); the stacks are
 * re-targeted by the next step, `reconcile`.
 */
import type { PlanStep } from '../plan';
import type { StepContext, StepOutcome } from './context';

export async function recordStep(_step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { to, from } = ctx.plan;
  const handover = ctx.plan.mode === 'planned' ? `${from} handed over (planned switchover)` : `${from} lost`;
  return { status: 'ok', detail: `journal ${ctx.ports.journal.location}: ${to} serves, ${handover}` };
}
