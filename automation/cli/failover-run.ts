/**
 * The one place `dr failover` (local and AWS) turns a prepared request into output: the dry-run plan, the
 * confirmation, the run and its summary. The two command branches only differ in how they build the ports.
 */
import { FlagError, RefusedError } from '../core/errors';
import { formatPlan, runFailover, type FailoverRequest, type FailoverResult, type StepEvent } from '../failover/index';
import type { CommandContext } from './command';

/** What the command prepared: the engine request without mode/direction, and how it is worded. */
export interface PreparedFailover {
  base: Pick<FailoverRequest, 'ports' | 'topology' | 'limits' | 'signal' | 'log' | 'listener' | 'lastKnown' | 'force'>;
  /** A new failover, or `--resume` of the latest unfinished one. */
  target: { mode: NonNullable<FailoverRequest['mode']>; incident: NonNullable<FailoverRequest['incident']>; from: string; to: string; id?: string } | { resume: true; id?: string };
  /** The interactive question (`--yes` skips it). */
  question: string;
  /** How pending fences get applied in this environment, for the summary. */
  pendingFenceHint: string;
  /** Extra lines and JSON fields (AWS: stacks not re-targeted). */
  extra?: { lines: string[]; json: Record<string, unknown> };
}

/** Step progress for the engine's listener: one line per finished step. */
export function stepListener(ctx: CommandContext, prefix = ''): (e: StepEvent) => void {
  return (e) => {
    if (e.status !== 'running') ctx.out.step(`${prefix}${e.step}`, e.status, e.duration_ms, e.detail);
  };
}

/** Dry-run (plan, act on nothing), or confirm and run; prints the result. Exit code 0 (failures throw). */
export async function runFailoverCommand(ctx: CommandContext, p: PreparedFailover): Promise<number> {
  if (ctx.flags.bool('dry-run')) {
    if ('resume' in p.target) throw new FlagError('--dry-run and --resume do not go together: a dry-run plans a new failover');
    const res = await runFailover({ ...p.base, ...p.target, dryRun: true });
    ctx.out.result({ ok: true, dry_run: true, ...res.plan }, formatPlan(res.plan));
    return 0;
  }
  let confirm = ctx.flags.bool('yes');
  if (!confirm && ctx.out.isTTY) confirm = await ctx.out.confirm(p.question);
  if (!confirm) throw new RefusedError('a failover changes which region serves: confirm it with --yes (or answer the prompt); nothing was changed');
  const res = await runFailover({ ...p.base, ...p.target, confirm: true });
  ctx.out.result({ ok: true, ...res, ...(p.extra?.json ?? {}) }, failoverSummary(res, p.pendingFenceHint, p.extra?.lines ?? []));
  return 0;
}

/** The human summary of a failover: outcome, estimated loss, pending fences, undelivered notifications. */
export function failoverSummary(r: FailoverResult, pendingFenceHint: string, extra: string[] = []): string {
  const lines = [`failover ${r.id}: ${r.mode} ${r.incident} ${r.from} → ${r.to}: ${r.outcome}`];
  if (r.estimated_data_loss) lines.push(`estimated data loss: ${r.estimated_data_loss.lag_seconds ?? '?'} s / ${r.estimated_data_loss.lag_bytes ?? '?'} bytes (${r.estimated_data_loss.basis})`);
  if (r.pending_fences.length) lines.push(`fence pending (${pendingFenceHint}): ${r.pending_fences.map((f) => `${f.region} ${f.tiers.join('+')}`).join(', ')}`);
  for (const n of r.notifications) for (const f of n.failed) lines.push(`notification ${n.kind} not delivered to ${f.target}: ${f.error}`);
  const pending = r.steps.filter((x) => x.status === 'pending');
  for (const x of pending) lines.push(`PENDING ${x.name}: ${x.detail ?? ''}`);
  if (pending.length) lines.push(`traffic is served by ${r.to}; the failover stays open until 'dr failover --resume' finishes ${pending.map((x) => x.name).join(', ')}`);
  lines.push(...extra);
  lines.push(`journal: ${r.journal}`);
  return lines.join('\n');
}
