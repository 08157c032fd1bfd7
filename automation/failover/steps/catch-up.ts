/**
 * Failover step catch-up (planned only): wait until the standby replayed the fenced primary's final WAL position; on timeout,
 * unfence the old primary and abort the switchover (nothing promoted).
 */
import { errorText, OperationError } from '../../core/errors';
import type { PlanStep } from '../plan';
import { AbortFailover, isCrashLike, type StepContext, type StepOutcome } from './context';

export async function catchUpStep(_step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { from, to } = ctx.plan;
  if ((await ports.database.role(to, call)) === 'primary') return { status: 'done-before', detail: `${to} is already promoted` };
  const finalLsn = await ports.database.currentLsn(from, call);
  ctx.state.finalLsn = finalLsn;
  const r = await ports.database.waitForReplay(to, finalLsn, ctx.limits.catchUpTimeoutMs, call);
  if (!r.caughtUp) {
    const msg = `catch-up timed out: after ${Math.round(ctx.limits.catchUpTimeoutMs / 1000)}s the standby in ${to} had replayed ${r.replayLsn ?? 'an unknown position'} of ${from}'s final position ${finalLsn}.`;
    const undone: string[] = [];
    try {
      if (await ports.database.isFenced(from, call)) {
        await ports.database.unfence(from, call);
        undone.push('database');
      }
      if (ports.cache.unfence && ports.cache.isFenced && (await ports.cache.isFenced(from, call))) {
        await ports.cache.unfence(from, call);
        undone.push('cache');
      }
    } catch (err) {
      if (isCrashLike(err)) throw err;
      throw new OperationError(`${msg} Unfencing ${from} failed too (${errorText(err)}): ${from} is still read-only; unfence it by hand or resume`);
    }
    throw new AbortFailover(`${msg} ${undone.length ? `${from}'s ${undone.join(' and ')} unfenced and writable again.` : ''}`.trim());
  }
  return { status: 'ok', detail: `${to} replayed ${r.replayLsn ?? finalLsn}, ${from}'s final WAL position ${finalLsn}`, data: { final_lsn: finalLsn, replay_lsn: r.replayLsn ?? finalLsn } };
}
