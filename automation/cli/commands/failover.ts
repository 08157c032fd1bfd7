import { Command, JSON_FLAG } from '../command';
import { RefusedError, UsageError } from '../../core/errors';
import { formatPlan, INCIDENTS, planFailover, runFailover, unavailableOf } from '../../failover/index';
import type { FailoverResult, Incident } from '../../failover/index';
import { localPorts, localTopology, readDnsFile } from '../../adapters/rehearsal/index';
import { requireState, otherRegion, isRegion } from '../../adapters/rehearsal/state';
import { DIR_FLAG, LOCAL_FLAG, localDir, withCrashHook } from '../local';
import { AWS_FAILOVER_FLAGS, awsFailoverCommand } from '../failover-aws';

export const command: Command = {
  name: 'failover',
  summary: 'planned switchover or unplanned failover to the other region, on AWS (stacks) or --local (journaled, resumable, --dry-run prints the plan)',
  flags: {
    local: LOCAL_FLAG,
    planned: { type: 'boolean', description: 'switchover that loses nothing (default): fence, catch up, promote; refuses when unsafe' },
    unplanned: { type: 'boolean', description: 'the primary is gone: promote anyway and report the estimated data loss' },
    incident: { type: 'string', description: 'what moves: datacenter (everything), database, cache', choices: INCIDENTS, default: 'datacenter' },
    'dry-run': { type: 'boolean', description: 'print the plan with the reason for each step; change nothing' },
    yes: { type: 'boolean', description: 'confirm without a prompt' },
    resume: { type: 'boolean', description: 'continue the latest unfinished failover from its journal' },
    id: { type: 'string', description: 'failover id (rerun with the same id to resume it)' },
    'max-lag': { type: 'number', description: 'planned: refuse when the standby lags more than this many seconds', default: 30 },
    dir: { ...DIR_FLAG, description: `--local: ${DIR_FLAG.description}` },
    ...AWS_FAILOVER_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    if (ctx.flags.bool('planned') && ctx.flags.bool('unplanned')) throw new UsageError('--planned and --unplanned exclude each other');
    const mode = ctx.flags.bool('unplanned') ? 'unplanned' : 'planned';
    const incident = ctx.flags.required('incident') as Incident;
    const maxLag = ctx.flags.number('max-lag') ?? 30;
    if (!(maxLag >= 0)) throw new UsageError(`--max-lag must be a number of seconds ≥ 0, got ${maxLag}`);
    if (!ctx.flags.bool('local')) return awsFailoverCommand(ctx, { mode, incident, maxLag });
    const state = requireState(localDir(ctx));
    const topology = localTopology(state);
    const ports = withCrashHook(localPorts(state), ctx);
    const records = readDnsFile(state.dns_file).records;
    const from = incident === 'cache' ? records.cache : records.database;
    if (!from || !isRegion(from)) throw new UsageError(`the DNS record file ${state.dns_file} names no region for '${incident === 'cache' ? 'cache' : 'database'}'`);
    const to = otherRegion(from);
    const resume = ctx.flags.bool('resume');
    const base = { ports, topology, limits: { maxLagSeconds: maxLag }, signal: ctx.signal, log: (l: string) => ctx.out.info(l), listener: (e: { step: string; status: string; duration_ms?: number; detail?: string }) => {
      if (e.status !== 'running') ctx.out.step(e.step, e.status as 'ok', e.duration_ms, e.detail);
    } };
    const request = resume ? { ...base, resume: true, ...(ctx.flags.string('id') ? { id: ctx.flags.string('id') } : {}) } : { ...base, mode, incident, from, to, ...(ctx.flags.string('id') ? { id: ctx.flags.string('id') } : {}) } as const;
    if (ctx.flags.bool('dry-run')) {
      if (resume) throw new UsageError('--dry-run and --resume do not go together: a dry-run plans a new failover');
      const res = await runFailover({ ...base, mode, incident, from, to, dryRun: true });
      const plan = planFailover({ mode, incident, from, to, topology, unavailable: unavailableOf(ports), limits: { maxLagSeconds: maxLag } });
      ctx.out.result({ ok: true, dry_run: true, ...res.plan }, formatPlan(plan));
      return 0;
    }
    let confirm = ctx.flags.bool('yes');
    if (!confirm && ctx.out.isTTY) confirm = await ctx.out.confirm(resume ? 'Resume the unfinished failover?' : `${mode} ${incident} failover from ${from} to ${to}: continue?`);
    if (!confirm) throw new RefusedError('a failover changes which region serves: confirm it with --yes (or answer the prompt); nothing was changed');
    const res: FailoverResult = await runFailover({ ...request, confirm: true });
    ctx.out.result({ ok: true, ...res }, summary(res));
    return 0;
  },
};

function summary(r: FailoverResult): string {
  const lines = [`failover ${r.id}: ${r.mode} ${r.incident} ${r.from} → ${r.to}: ${r.outcome}`];
  if (r.estimated_data_loss) lines.push(`estimated data loss: ${r.estimated_data_loss.lag_seconds ?? '?'} s / ${r.estimated_data_loss.lag_bytes ?? '?'} bytes (${r.estimated_data_loss.basis})`);
  if (r.pending_fences.length) lines.push(`fence pending (the split-brain guard in 'dr watch --local' applies it when it answers): ${r.pending_fences.map((f) => `${f.region} ${f.tiers.join('+')}`).join(', ')}`);
  lines.push(`journal: ${r.journal}`);
  return lines.join('\n');
}
