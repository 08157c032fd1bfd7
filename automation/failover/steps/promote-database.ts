/**
 * Failover step promote-database: promote the survivor's standby, then check it reports primary.
 */
import { OperationError } from '../../core/errors';
import type { PlanStep } from '../plan';
import type { StepContext, StepOutcome } from './context';

export async function promoteDatabaseStep(_step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { to, from } = ctx.plan;
  const before = await ports.database.role(to, call);
  if (before === 'primary') {
    const finished = ports.database.settle ? await ports.database.settle(to, call) : undefined;
    if (finished) return { status: 'ok', detail: `${to} was already the primary; finished its promotion: ${finished}` };
    return { status: 'done-before', detail: `${to} is already the primary` };
  }
  if (before === 'unreachable') throw new OperationError(`the database in ${to} does not answer`);
  await ports.database.promote(to, call);
  const after = await ports.database.role(to, call);
  if (after !== 'primary') throw new OperationError(`promotion of the database in ${to} returned but it reports ${after}`);
  return { status: 'ok', detail: `${to} promoted (was standby of ${from})${ctx.state.finalLsn ? ` at ${ctx.state.finalLsn}` : ''}` };
}
