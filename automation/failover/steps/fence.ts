/**
 * Failover step fence: make the old primary take no application writes (database, and the cache when its adapter can); an
 * unreachable one becomes a pending fence that the split-brain guard applies when it answers again.
 */
import { OperationError } from '../../core/errors';
import type { PlanStep } from '../plan';
import { addPendingFence, closePendingFence, type StepContext, type StepOutcome } from './context';

export async function fenceStep(step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { from, mode } = ctx.plan;
  const acted: string[] = [];
  const already: string[] = [];
  const pending: Array<'database' | 'cache'> = [];
  if (step.target.database) {
    if (await ports.database.isFenced(from, call)) already.push('database');
    else if ((await ports.database.role(from, call)) === 'unreachable') {
      if (mode === 'planned' && (await ports.database.role(ctx.plan.to, call)) !== 'primary') throw new OperationError(`the primary database in ${from} stopped answering before it could be fenced; a planned switchover cannot go on. Abandon this failover and run an unplanned one`);
      pending.push('database');
    } else {
      await ports.database.fence(from, call);
      acted.push('database');
    }
  }
  const cache = ports.cache;
  if (step.target.cache && cache.fence && cache.isFenced) {
    if (await cache.isFenced(from, call)) already.push('cache');
    else if ((await cache.role(from, call)) === 'unreachable') {
      if (mode === 'planned' && (await cache.role(ctx.plan.to, call)) !== 'primary') throw new OperationError(`the primary cache in ${from} stopped answering before it could be fenced; abandon this failover and run an unplanned one`);
      pending.push('cache');
    } else {
      await cache.fence(from, call);
      acted.push('cache');
    }
  }
  if (pending.length) await addPendingFence(ctx, from, pending);
  // It came back and is fenced now: close the pending fence of the tiers fenced here (the bots' copies are
  // promote-secrets' and the guard's).
  else await closePendingFence(ctx, from, ['database', 'cache']);
  const parts = [
    ...(acted.length ? [`fenced ${acted.join(' and ')} in ${from}`] : []),
    ...(already.length ? [`${already.join(' and ')} in ${from} already fenced`] : []),
    ...(pending.length ? [`${pending.join(' and ')} in ${from} unreachable: fence pending, the split-brain guard fences it as soon as it answers`] : []),
  ];
  const status = acted.length ? 'ok' : already.length ? 'done-before' : 'skipped';
  return { status, detail: parts.join('; ') };
}
