import { Command, JSON_FLAG } from '../command';
import { DEFAULT_DIR, down, formatStatus, status, statusProblems, up } from '../../rehearsal/environment';
import { requireState } from '../../adapters/rehearsal/state';
import { DIR_FLAG, localDir, withLocalLock } from '../local';

export const upCommand: Command = {
  name: 'local up',
  summary: 'start the local two-region environment (PostgreSQL primary + streaming standby, Redis + replica, s3rver, DNS file)',
  flags: { dir: DIR_FLAG, ...JSON_FLAG },
  async run(ctx) {
    const dir = localDir(ctx);
    const t0 = Date.now();
    return withLocalLock(ctx, dir, 'dr local up', async () => {
      const s = await up(dir, (l) => ctx.out.info(l), ctx.env);
      const st = await status(s);
      ctx.out.result({ ok: true, duration_ms: Date.now() - t0, ...st }, `local environment up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n${formatStatus(st)}\n${useItWith(ctx.flags.string('dir'))}`);
      return 0;
    });
  },
};

export const downCommand: Command = {
  name: 'local down',
  summary: 'stop every process of the local environment (also from a stale state) and remove its directory',
  flags: { dir: DIR_FLAG, 'keep-data': { type: 'boolean', description: 'stop the processes but keep the directory' }, ...JSON_FLAG },
  async run(ctx) {
    const dir = localDir(ctx);
    const rep = await withLocalLock(ctx, dir, 'dr local down', () => down(dir, { keepData: ctx.flags.bool('keep-data') }));
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
    const problems = statusProblems(st);
    ctx.out.result({ ...st, ok: problems.length === 0, problems }, formatStatus(st));
    return problems.length ? 1 : 0;
  },
};

export const command = upCommand;

/** How to point the other commands at a local environment (they read its state: no credentials are printed). */
function useItWith(dir: string | undefined): string {
  const d = !dir || dir === DEFAULT_DIR ? '' : ` --dir ${dir}`;
  return [
    'use it with:',
    `  dr failover --local${d} --dry-run        dr status --local${d}        dr watch --local${d}`,
    `  dr backup postgres --local${d}           dr backups list --local${d}    dr verify --local${d} --full`,
    `  dr restore postgres --local${d} --target-db restored      dr local down${d}`,
  ].join('\n');
}
