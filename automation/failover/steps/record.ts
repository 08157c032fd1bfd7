/**
 * Failover step record: re-target the stacks (the lost region becomes secondary) so a later `pulumi up` does not undo the
 * failover; locally, the journal is the record.
 */
import type { PlanStep } from '../plan';
import type { StepContext, StepOutcome } from './context';

export async function recordStep(_step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { to, from, incident } = ctx.plan;
  const hasStacks = ctx.topology.regions.some((r) => r.stack);
  if (!hasStacks || ports.stacks.unavailable) {
    const handover = ctx.plan.mode === 'planned' ? `${from} handed over (planned switchover)` : `${from} lost`;
    return { status: 'ok', detail: `journal ${ports.journal.location}: ${to} serves, ${handover}${ports.stacks.unavailable ? ` (stacks: ${ports.stacks.unavailable})` : ''}` };
  }
  const change = { id: ctx.id, incident, survivor: to, lost: from };
  if (await ports.stacks.isRetargeted(change, call)) return { status: 'done-before', detail: `stacks already say ${to} serves and ${from} is secondary` };
  await ports.stacks.retarget(change, call);
  return { status: 'ok', detail: `stacks re-targeted: ${to} primary, ${from} secondary; journal ${ports.journal.location}` };
}
