/**
 * What every failover step receives and returns. A step is one file in this folder: it CHECKS the world first
 * (already done? → `done-before`) and only then ACTS, so a rerun after a crash never acts twice. The runner in
 * `../engine.ts` journals `started` before and `done`/`failed` after each step.
 */
import type { ActiveTokenProbe, CallOptions, FailoverPorts, FenceTier, JournalEntry, ReplicationState } from '../ports';
import type { FailoverLimits, FailoverPlan, PlanStep, Topology } from '../plan';

/** Figures a step computes that later steps, the result and a resumed run need. */
export interface RunState {
  /** Unplanned (or cache-only) failover: what it may lose. */
  estimatedLoss?: EstimatedDataLoss;
  /** Regions the split-brain guard still has to fence when they come back. */
  pendingFences: Array<{ region: string; tiers: FenceTier[] }>;
  /** Planned: the old primary's final WAL position (catch-up). */
  finalLsn?: string;
  /** The global datastore the survivor's cache left (promote-cache, journaled as `cache_left`): reconcile moves on. */
  cacheLeft?: string;
}

export interface EstimatedDataLoss {
  tier: 'database' | 'cache';
  lag_seconds?: number;
  lag_bytes?: number;
  /** When the lag figures were observed (ISO 8601). */
  observed_at?: string;
  /** How the estimate was obtained, for people. */
  basis: string;
}

export interface StepContext {
  /** The failover id (journal entries carry it). */
  id: string;
  ports: FailoverPorts;
  plan: FailoverPlan;
  topology: Topology;
  limits: FailoverLimits;
  call: CallOptions;
  /** Last replication sample the caller saw (the health monitor's). */
  lastKnown?: ReplicationState;
  /** Planned mode goes on although readiness is `not-ready` (`--force`). */
  force?: boolean;
  state: RunState;
  /** Now, ISO 8601, from the injected clock. */
  at(): string;
  append(entry: JournalEntry): Promise<void>;
}

/** What one step reports. */
export interface StepOutcome {
  status: 'ok' | 'done-before' | 'skipped' | 'pending';
  detail?: string;
  /** Journaled with the step; restored on resume (see `restoreState` in ../engine.ts). */
  data?: Record<string, unknown>;
}

export type StepRunner = (step: PlanStep, ctx: StepContext) => Promise<StepOutcome>;

/** Raised inside a step when a planned switchover must stop and restore the world (catch-up timeout). */
export class AbortFailover extends Error {}

/**
 * An error that means "this process is dying right here" (the fakes' injected CrashError): the engine must not
 * clean up after it — the journal and the checks take over on the rerun. (An operator's interrupt is not one:
 * it is journaled as a failed step and reported.)
 */
export function isCrashLike(err: unknown): boolean {
  return err instanceof Error && err.name === 'CrashError';
}

export function asList(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function describeLoss(l: EstimatedDataLoss): string {
  if (l.lag_seconds === undefined && l.lag_bytes === undefined) return l.basis;
  const parts = [l.lag_seconds !== undefined ? `≤ ${l.lag_seconds}s of writes` : undefined, l.lag_bytes !== undefined ? `${l.lag_bytes} bytes of WAL` : undefined].filter(Boolean);
  return `${parts.join(' / ')} (${l.basis}${l.observed_at ? `, observed ${l.observed_at}` : ''})`;
}

/** Journal that `tiers` of `region` still need the split-brain guard (once per tier), and keep the run's state in step. */
export async function addPendingFence(ctx: StepContext, region: string, tiers: FenceTier[]): Promise<void> {
  const known = ctx.state.pendingFences.find((f) => f.region === region);
  if (known && tiers.every((t) => known.tiers.includes(t))) return;
  await ctx.append({ kind: 'pending-fence', id: ctx.id, at: ctx.at(), region, tiers });
  ctx.state.pendingFences = [...ctx.state.pendingFences.filter((f) => f.region !== region), { region, tiers: [...new Set([...(known?.tiers ?? []), ...tiers])] }];
}

/** Journal that `tiers` of `region` are fenced now (only those that were pending), and drop them from the run's state. */
export async function closePendingFence(ctx: StepContext, region: string, tiers: FenceTier[]): Promise<void> {
  const known = ctx.state.pendingFences.find((f) => f.region === region);
  const closing = known?.tiers.filter((t) => tiers.includes(t)) ?? [];
  if (!known || !closing.length) return;
  await ctx.append({ kind: 'fenced', id: ctx.id, at: ctx.at(), region, tiers: closing });
  const left = known.tiers.filter((t) => !closing.includes(t));
  ctx.state.pendingFences = [...ctx.state.pendingFences.filter((f) => f.region !== region), ...(left.length ? [{ region, tiers: left }] : [])];
}

/** One bot's probe for people: `community token 1 revoked (401: Unauthorized)`. */
export function describeProbe(b: ActiveTokenProbe): string {
  return `${b.bot}${b.active >= 0 ? ` token ${b.active}` : ''} ${b.state}${b.detail ? ` (${b.detail})` : ''}`;
}
