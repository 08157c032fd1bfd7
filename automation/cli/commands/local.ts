import { Command, JSON_FLAG } from '../command';
import { down, formatStatus, status, up } from '../../rehearsal/environment';
import { requireState } from '../../adapters/rehearsal/state';
import { DIR_FLAG, localDir } from '../local';

export const upCommand: Command = {
  name: 'local up',
  summary: 'start the local two-region environment (PostgreSQL primary + streaming standby, Redis + replica, s3rver, DNS file)',
  flags: { dir: DIR_FLAG, ...JSON_FLAG },
  async run(ctx) {
    const dir = localDir(ctx);
    const t0 = Date.now();
    const s = await up(dir, (l) => ctx.out.info(l), ctx.env);
    const st = await status(s);
    ctx.out.result({ ok: true, duration_ms: Date.now() - t0, ...st }, `local environment up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n${formatStatus(st)}`);
    return 0;
  },
};

export const downCommand: Command = {
  name: 'local down',
  summary: 'stop every process of the local environment (also from a stale state) and remove its directory',
  flags: { dir: DIR_FLAG, 'keep-data': { type: 'boolean', description: 'stop the processes but keep the directory' }, ...JSON_FLAG },
  async run(ctx) {
    const rep = await down(localDir(ctx), { keepData: ctx.flags.bool('keep-data') });
    ctx.out.result({ ok: true, ...rep }, `stopped: ${rep.stopped.join(', ') || 'nothing was running'}${rep.removed ? `; removed ${rep.dir}` : ''}`);
    return 0;
  },
};

export const statusCommand: Command = {
  name: 'local status',
  summary: 'each local service: role, port, replication lag (seconds and bytes), fence, and where the DNS file points',
  flags: { dir: DIR_FLAG, ...JSON_FLAG },
  async run(ctx) {
    const st = await status(requireState(localDir(ctx)));
    ctx.out.result(st, formatStatus(st));
    return 0;
  },
};

export const command = upCommand;
