/**
 * Failover step catch-up: wait until the standby replayed the fenced primary's final WAL position.
 * - planned: on timeout, unfence the old primary and abort the switchover (nothing promoted);
 * - unplanned, the old primary still answering: wait a bounded time, then promote anyway, with the remaining lag
 *   as the estimated data loss (so a lagging but healthy primary loses nothing it could have kept); the old
 *   primary not answering: nothing to wait for (the preflight's estimate stands).
 */
import { errorText, OperationError } from '../../core/errors';
import { lsnDiffBytes } from '../lsn';
import type { PlanStep } from '../plan';
import { AbortFailover, isCrashLike, type StepContext, type StepOutcome } from './context';

export async function catchUpStep(_step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { from, to } = ctx.plan;
  if ((await ports.database.role(to, call)) === 'primary') return { status: 'done-before', detail: `${to} is already promoted` };
  if (ctx.plan.mode === 'unplanned') return unplannedCatchUp(ctx);
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

/** Unplanned: a bounded catch-up when the old primary still answers; the estimate becomes what is really left. */
async function unplannedCatchUp(ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { from, to } = ctx.plan;
  if ((await ports.database.role(from, call)) === 'unreachable') {
    return { status: 'skipped', detail: `${from} does not answer: nothing to catch up from; the estimated data loss stands` };
  }
  const finalLsn = await ports.database.currentLsn(from, call);
  ctx.state.finalLsn = finalLsn;
  const timeoutMs = ctx.limits.unplannedCatchUpTimeoutMs;
  const r = await ports.database.waitForReplay(to, finalLsn, timeoutMs, call);
  const left = r.caughtUp ? 0 : r.replayLsn ? Math.max(0, lsnDiffBytes(finalLsn, r.replayLsn)) : undefined;
  ctx.state.estimatedLoss = r.caughtUp
    ? { tier: 'database', lag_seconds: 0, lag_bytes: 0, basis: `caught up: ${to} replayed ${from}'s final WAL position ${finalLsn} before promotion` }
    : { tier: 'database', ...(left !== undefined ? { lag_bytes: left } : {}), basis: `catch-up timed out after ${Math.round(timeoutMs / 1000)}s: ${to} had replayed ${r.replayLsn ?? 'an unknown position'} of ${from}'s final position ${finalLsn}; promoted anyway (unplanned)` };
  const data = { final_lsn: finalLsn, replay_lsn: r.replayLsn ?? (r.caughtUp ? finalLsn : undefined), estimated_data_loss: ctx.state.estimatedLoss };
  if (r.caughtUp) return { status: 'ok', detail: `${from} still answered: ${to} caught up with its final WAL position ${finalLsn} before promotion; nothing acknowledged is lost`, data };
  return { status: 'ok', detail: `${from} still answered, but ${to} did not reach its final WAL position ${finalLsn} within ${Math.round(timeoutMs / 1000)}s (${left ?? '?'} bytes left): promoting anyway`, data };
}
