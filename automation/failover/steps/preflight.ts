/**
 * Failover step preflight: check that both regions are what the mode needs (refuse before acting otherwise), estimate the
 * data loss of an unplanned failover. It reads the world directly (no Pulumi refresh: that waits for reconcile).
 *
 * Then readiness (issue 14, when the caller wired {@link ReadinessPort}): a planned switchover refuses while the
 * verdict is `not-ready` (nothing touched, every failed check named with its fix) unless forced; `degraded` is noted.
 * An unplanned failover only records the verdict (the region it leaves is expected to be broken), and waits for it
 * at most {@link UNPLANNED_READINESS_MS}.
 */
import { RefusedError } from '../../core/errors';
import type { ReadinessSummary } from '../../../lib/readiness';
import type { ReplicationState } from '../ports';
import { type PlanStep, regionOf } from '../plan';
import { incidentMoves } from '../step-names';
import { describeLoss, type StepContext, type StepOutcome } from './context';

export async function preflightStep(_step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { mode, incident, from, to } = ctx.plan;
  const moves = incidentMoves(incident);
  const planned = mode === 'planned';
  const notes: string[] = [];
  const data: Record<string, unknown> = {};
  if (moves.database && !ports.database.unavailable) {
    const [roleFrom, roleTo] = [await ports.database.role(from, call), await ports.database.role(to, call)];
    if (roleTo === 'unreachable') throw new RefusedError(`the database in ${to} does not answer: there is nothing to fail over to`);
    if (planned && roleFrom === 'unreachable') throw new RefusedError(`the primary database in ${from} does not answer, so a planned switchover cannot guarantee zero loss; use --unplanned to promote ${to} anyway`);
    if (planned && roleFrom !== 'primary') throw new RefusedError(`the database in ${from} is a ${roleFrom}, not the primary: nothing to switch over from ${from}`);
    if (roleTo === 'primary' && (await ports.database.isFenced(to, call))) {
      throw new RefusedError(`${from} already serves: the database in ${to} is the fenced old primary of an earlier failover, not a standby, so there is nothing to ${planned ? 'switch over' : 'fail over'} to. To make ${to} serve again, run 'dr failback' (it rebuilds ${to} as a replica of ${from}, then switches back)`);
    }
    if (planned && roleTo === 'primary') throw new RefusedError(`both ${from} and ${to} report a primary database (split brain): fence one by hand before any switchover`);
    const rep = await ports.database.replicationState(from, to, call);
    if (planned) {
      if (!rep.primaryReachable) throw new RefusedError(`the primary database in ${from} does not answer, so a planned switchover cannot guarantee zero loss; use --unplanned to promote ${to} anyway`);
      if (rep.lagSeconds === undefined) throw new RefusedError(`the replication lag of ${to} is unknown; a planned switchover needs it within ${ctx.limits.maxLagSeconds}s. Use --unplanned to promote anyway`);
      if (rep.lagSeconds > ctx.limits.maxLagSeconds) throw new RefusedError(`the standby in ${to} lags ${rep.lagSeconds}s behind ${from}, over the limit of ${ctx.limits.maxLagSeconds}s: wait for it to catch up, raise the limit, or use --unplanned (it may lose up to that lag)`, { lag_seconds: rep.lagSeconds, limit_seconds: ctx.limits.maxLagSeconds });
      notes.push(`database: ${from} primary answers, ${to} standby lags ${rep.lagSeconds}s${rep.lagBytes !== undefined ? ` / ${rep.lagBytes} bytes` : ''} (limit ${ctx.limits.maxLagSeconds}s)`);
    } else {
      const basisRep = newest(rep, ctx.lastKnown);
      ctx.state.estimatedLoss = {
        tier: 'database',
        ...(basisRep.lagSeconds !== undefined ? { lag_seconds: basisRep.lagSeconds } : {}),
        ...(basisRep.lagBytes !== undefined ? { lag_bytes: basisRep.lagBytes } : {}),
        observed_at: basisRep.observedAt,
        basis: basisRep.primaryReachable
          ? `current replication lag (primary ${from} still answers)`
          : basisRep.lagSeconds === undefined && basisRep.lagBytes === undefined
            ? `unknown: no replication lag was observed before ${from} was lost`
            : `last known replication lag before ${from} was lost`,
      };
      data.estimated_data_loss = ctx.state.estimatedLoss;
      if (roleFrom !== 'unreachable') {
        const warning = `WARNING: the primary database in ${from} still answers (${roleFrom}): an unplanned failover fences it and waits up to ${Math.round(ctx.limits.unplannedCatchUpTimeoutMs / 1000)}s for ${to} to catch up before promoting; a planned switchover (--planned) would lose nothing and wait as long as it takes`;
        call.log?.(warning);
        notes.push(warning);
      }
      notes.push(`database: ${to} is ${roleTo}, ${from} is ${roleFrom}; estimated data loss ${describeLoss(ctx.state.estimatedLoss)}`);
    }
  }
  if (moves.cache && !ports.cache.unavailable && regionOf(ctx.topology, to).cache) {
    const [cFrom, cTo] = [await ports.cache.role(from, call), await ports.cache.role(to, call)];
    if (cTo === 'unreachable') throw new RefusedError(`the cache in ${to} does not answer: there is nothing to fail over to`);
    if (planned && cFrom === 'unreachable') throw new RefusedError(`the primary cache in ${from} does not answer, so a planned switchover is not possible; use --unplanned`);
    notes.push(`cache: ${from} ${cFrom}, ${to} ${cTo}`);
    if (!planned && !moves.database) {
      ctx.state.estimatedLoss = { tier: 'cache', basis: `cache writes not yet replicated to ${to} are lost; the cache replication lag is not measured` };
      data.estimated_data_loss = ctx.state.estimatedLoss;
    }
  }
  // Readiness last: the refusals above name the one thing that is wrong; this one names every failed check.
  if (ports.readiness) notes.unshift(await readinessGate(ctx, data));
  // Traffic first: no Pulumi refresh before traffic moves (minutes, and the backend may be down); the world is read
  // directly above, and `reconcile` refreshes the stacks once traffic is served.
  return { status: 'ok', detail: notes.join('; '), data };
}

/** How long an unplanned failover's preflight lets readiness run before it goes on without it. */
export const UNPLANNED_READINESS_MS = 5_000;

/** `p`, or a rejection with `message` after `ms` (the timer never keeps the process alive and is always cleared). */
function withinMs<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref?.();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Run readiness; refuse a planned switchover that is not ready (unless forced). Returns the note for the step. */
async function readinessGate(ctx: StepContext, data: Record<string, unknown>): Promise<string> {
  const planned = ctx.plan.mode === 'planned';
  let r: ReadinessSummary;
  try {
    const run = ctx.ports.readiness!.check(ctx.call);
    // Unplanned: traffic first — readiness is recorded, never waited for past UNPLANNED_READINESS_MS (a lost region's
    // calls would otherwise time out on the RTO's critical path).
    r = planned ? await run : await withinMs(run, UNPLANNED_READINESS_MS, `not finished within ${UNPLANNED_READINESS_MS / 1000} s (an unplanned failover does not wait for it)`);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (planned && !ctx.force) throw new RefusedError(`readiness could not be checked (${why}): a planned switchover needs a ready verdict; find out why (dr readiness), or use --force to switch over anyway`);
    data.readiness = { verdict: 'unknown', error: why, ...(ctx.force ? { forced: true } : {}) };
    return `readiness: could not be checked (${why})${planned ? '; forced' : ''}`;
  }
  data.readiness = { verdict: r.verdict, failed: r.failed.map((f) => f.name), warned: r.warned, ...(planned && ctx.force && r.verdict === 'not-ready' ? { forced: true } : {}) };
  const SHOWN = 5;
  const failed = r.failed.slice(0, SHOWN).map((f) => `${f.name} ${f.resource}: ${f.reason} (fix: ${f.fix})`);
  if (r.failed.length > SHOWN) failed.push(`and ${r.failed.length - SHOWN} more`);
  if (planned && r.verdict === 'not-ready' && !ctx.force) {
    throw new RefusedError(`readiness is not-ready, so a planned switchover is refused (nothing was changed). Failed checks: ${failed.join('; ')}. Fix them (dr readiness shows every check), or use --force to switch over anyway`, { readiness: data.readiness });
  }
  const named = r.failed.length ? `; failed: ${r.failed.map((f) => f.name).join(', ')}` : r.warned.length ? `; warnings: ${r.warned.join(', ')}` : '';
  return `readiness: ${r.verdict}${named}${planned && r.verdict === 'not-ready' ? ' (forced)' : ''}`;
}

/** The newer of two replication samples that know a lag (the monitor's last sample wins when the primary is gone). */
function newest(rep: ReplicationState, lastKnown: ReplicationState | undefined): ReplicationState {
  if (rep.primaryReachable || !lastKnown) return rep;
  const known = (r: ReplicationState) => r.lagSeconds !== undefined || r.lagBytes !== undefined;
  if (!known(rep)) return known(lastKnown) ? lastKnown : rep;
  return Date.parse(lastKnown.observedAt) > Date.parse(rep.observedAt) && known(lastKnown) ? lastKnown : rep;
}
