/**
 * Failover step reconcile, after traffic moved and was verified: re-target the infrastructure as code so that a
 * later `pulumi up` does not undo the failover — the survivor's stack says primary/promoted, the lost one says
 * secondary — and harden the survivor to the primary's posture (Multi-AZ, backups). Off the critical path: when
 * the Pulumi backend does not answer, or the update fails, the step is `pending` (traffic keeps being served, the
 * failover stays open) and `--resume` finishes it. The direct hardening (e.g. RDS `ModifyDBInstance MultiAZ`) does
 * not need the backend and is started either way. When promote-cache left the global datastore (`cacheLeft`), the
 * re-target also moves the stacks to the next datastore generation, led by the survivor.
 */
import { errorText } from '../../core/errors';
import type { PlanStep } from '../plan';
import { isCrashLike, type StepContext, type StepOutcome } from './context';

export async function reconcileStep(_step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { to, from, incident } = ctx.plan;
  const notes: string[] = [];
  if (ports.database.harden && !ports.database.unavailable) {
    try {
      notes.push(await ports.database.harden(to, call));
    } catch (err) {
      if (isCrashLike(err)) throw err;
      notes.push(`hardening ${to} could not start (${errorText(err)}); rerun --resume to try again`);
    }
  }
  if (ports.stacks.unavailable) return { status: 'skipped', detail: [...notes, ports.stacks.unavailable].join('; ') };
  if (ports.stacks.unreachable) return { status: 'pending', detail: [...notes, `stacks not re-targeted: ${ports.stacks.unreachable}; traffic is served by ${to}; run dr failover --resume when the Pulumi backend answers`].join('; ') };
  const change = { id: ctx.id, incident, survivor: to, lost: from, ...(ctx.state.cacheLeft ? { cacheLeft: ctx.state.cacheLeft } : {}) };
  try {
    if (await ports.stacks.isRetargeted(change, call)) return { status: 'done-before', detail: [...notes, `stacks already say ${to} serves and ${from} is secondary`].join('; ') };
    await ports.stacks.retarget(change, call);
  } catch (err) {
    if (isCrashLike(err) || call.signal?.aborted) throw err;
    return { status: 'pending', detail: [...notes, `stacks not re-targeted (${errorText(err)}); traffic is served by ${to}; run dr failover --resume to finish`].join('; ') };
  }
  const cache = change.cacheLeft ? `; the cache moves to a new global datastore led by ${to} (its group left ${change.cacheLeft}); ${from} rejoins it at failback` : '';
  return { status: 'ok', detail: [...notes, `stacks re-targeted: ${to} primary, ${from} secondary${cache}`].join('; ') };
}
