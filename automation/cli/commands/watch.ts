import { Command, CommandContext, JSON_FLAG } from '../command';
import { FlagError } from '../../core/errors';
import { runMonitor, MonitorEvent } from '../../rehearsal/monitor';
import { requireState } from '../../adapters/rehearsal/state';
import { stepListener } from '../failover-run';
import { DIR_FLAG, LOCAL_FLAG, localDir, requireLocal, withLocalLock } from '../local';

export const command: Command = {
  name: 'watch',
  summary: 'health monitor (every second, 3 failures = incident): alerts, fails over only with --auto-failover, fences a returning old primary',
  flags: {
    local: LOCAL_FLAG,
    'auto-failover': { type: 'boolean', description: 'run an unplanned failover when an incident is detected (default: alert only)' },
    interval: { type: 'number', description: 'seconds between checks', default: 1 },
    threshold: { type: 'number', description: 'consecutive failed checks that make an incident', default: 3 },
    dir: DIR_FLAG,
    ...JSON_FLAG,
  },
  async run(ctx) {
    requireLocal(ctx, 'watch');
    const interval = ctx.flags.number('interval') ?? 1;
    const threshold = ctx.flags.number('threshold') ?? 3;
    if (!(interval >= 0.1 && interval <= 3600)) throw new FlagError(`--interval must be between 0.1 and 3600 seconds, got ${interval}`);
    if (!(Number.isInteger(threshold) && threshold >= 1 && threshold <= 100)) throw new FlagError(`--threshold must be a whole number 1-100, got ${threshold}`);
    const dir = localDir(ctx);
    const auto = ctx.flags.bool('auto-failover');
    // Watching changes nothing; watching with --auto-failover may fail over, so it holds the environment's lock.
    return auto ? withLocalLock(ctx, dir, 'dr watch --local --auto-failover', () => watch(ctx, dir, auto, interval, threshold)) : watch(ctx, dir, auto, interval, threshold);
  },
};

async function watch(ctx: CommandContext, dir: string, auto: boolean, interval: number, threshold: number): Promise<number> {
  const state = requireState(dir);
  const events: MonitorEvent[] = [];
  ctx.out.info(`watching ${state.dir} every ${interval}s (${threshold} failures = incident; ${auto ? 'auto-failover ON' : 'alert only: pass --auto-failover to fail over automatically'}); Ctrl-C to stop`);
  const outcome = await runMonitor({
    state,
    intervalMs: interval * 1000,
    threshold,
    autoFailover: auto,
    signal: ctx.signal,
    listener: stepListener(ctx),
    onEvent: (e) => {
      if (e.kind !== 'check') events.push(e);
      const t = new Date(e.at).toISOString();
      if (e.kind === 'failure') ctx.out.info(`${t} ${e.tier} in ${e.region} failed check ${e.consecutive <= threshold ? `${e.consecutive}/${threshold}` : `${e.consecutive} (threshold ${threshold} reached)`}: ${e.error ?? ''}`);
      else if (e.kind === 'recovered') ctx.out.info(`${t} ${e.tier} in ${e.region} answers again`);
      else if (e.kind === 'incident') ctx.out.warn(`${t} INCIDENT ${e.incident}: ${e.from} is down; ${e.auto_failover ? `failing over to ${e.to}` : `run 'dr failover --local --unplanned --incident ${e.incident} --yes' to fail over to ${e.to}`} (${e.alerted ? `alert recorded in ${state.notifications_log}` : 'the alert could not be recorded'})`);
      else if (e.kind === 'failover') ctx.out.info(`${t} failover ${e.result ? `${e.result.id} ${e.result.outcome}` : `failed: ${e.error}`}`);
      else if (e.kind === 'guard') ctx.out.warn(`${t} split-brain guard: ${e.action.tier} in ${e.action.region} ${e.action.outcome}${e.action.error ? ` (${e.action.error})` : ''}`);
      else if (e.kind === 'dns-warning') ctx.out.warn(`${t} ${e.warning}`);
    },
  });
  ctx.out.result({ ok: true, events, ...outcome }, 'watch stopped');
  return 0;
}
