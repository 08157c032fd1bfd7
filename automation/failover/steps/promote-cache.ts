/**
 * Failover step promote-cache: promote the survivor's cache (a coordinated switchover when planned), then check its role.
 */
import { OperationError } from '../../core/errors';
import type { PlanStep } from '../plan';
import type { StepContext, StepOutcome } from './context';

export async function promoteCacheStep(_step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { to, from, mode } = ctx.plan;
  const before = await ports.cache.role(to, call);
  if (before === 'primary') return { status: 'done-before', detail: `cache in ${to} is already the primary` };
  if (before === 'unreachable') throw new OperationError(`the cache in ${to} does not answer`);
  await ports.cache.promote(to, { ...call, planned: mode === 'planned', from });
  const after = await ports.cache.role(to, call);
  if (after !== 'primary') throw new OperationError(`promotion of the cache in ${to} returned but it reports ${after}`);
  return { status: 'ok', detail: `cache in ${to} promoted` };
}
