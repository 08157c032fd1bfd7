/**
 * Failover step promote-cache: promote the survivor's cache (a coordinated switchover when planned), then check its role.
 *
 * With an ElastiCache global datastore the unplanned promotion may have to leave the datastore (the failover API refuses
 * while the old primary's region is gone; the adapter disassociates the survivor). The step then records which datastore
 * it left (`cache_left` in the journal, read from the world when the port can tell, so a rerun after a crash between the
 * disassociation and the journal learns it too):
 * reconcile moves the stacks to the next datastore generation, led by the survivor.
 */
import { OperationError } from '../../core/errors';
import type { PlanStep } from '../plan';
import type { StepContext, StepOutcome } from './context';

export async function promoteCacheStep(_step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { to, from, mode } = ctx.plan;
  const before = await ports.cache.role(to, call);
  if (before === 'primary') return withDetachment(ctx, { status: 'done-before', detail: `cache in ${to} is already the primary` });
  if (before === 'unreachable') throw new OperationError(`the cache in ${to} does not answer`);
  await ports.cache.promote(to, { ...call, planned: mode === 'planned', from });
  const after = await ports.cache.role(to, call);
  if (after !== 'primary') throw new OperationError(`promotion of the cache in ${to} returned but it reports ${after}`);
  return withDetachment(ctx, { status: 'ok', detail: `cache in ${to} promoted` });
}

/**
 * Record the global datastore the survivor's cache left, if it did (journaled with the step, restored on resume). Only
 * an unplanned promotion leaves it: a planned one (a switchover, failback's included) never disassociates, so there
 * the world is not even asked.
 */
async function withDetachment(ctx: StepContext, out: StepOutcome): Promise<StepOutcome> {
  if (ctx.plan.mode !== 'unplanned') return out;
  const left = ctx.state.cacheLeft ?? (await ctx.ports.cache.detachedFrom?.(ctx.plan.to, ctx.call));
  if (!left) return out;
  ctx.state.cacheLeft = left;
  return {
    ...out,
    detail: `${out.detail}; it left the global datastore ${left} (the old primary's region is gone, so it was disassociated and stands alone): reconcile moves the stacks to a new global datastore led by ${ctx.plan.to}`,
    data: { ...out.data, cache_left: left },
  };
}
