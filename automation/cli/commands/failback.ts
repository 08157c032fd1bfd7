import { Command, JSON_FLAG } from '../command';
import { failback } from '../../rehearsal/failback';
import { requireState } from '../../adapters/rehearsal/state';
import { DIR_FLAG, LOCAL_FLAG, localDir } from '../local';
import { AWS_FAILBACK_FLAGS, awsFailbackCommand } from '../failback-aws';

export const command: Command = {
  name: 'failback',
  summary: 'rebuild the old primary as a replica of the new one (AWS: its stack; --local: pg_rewind or base backup, REPLICAOF), then switch back with nothing lost',
  flags: {
    local: LOCAL_FLAG,
    home: { type: 'string', description: '--local: region to return to', choices: ['a', 'b'], default: 'a' },
    yes: { type: 'boolean', description: 'confirm without a prompt' },
    dir: { ...DIR_FLAG, description: `--local: ${DIR_FLAG.description}` },
    ...AWS_FAILBACK_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    if (!ctx.flags.bool('local')) return awsFailbackCommand(ctx);
    const state = requireState(localDir(ctx));
    let confirm = ctx.flags.bool('yes');
    if (!confirm && ctx.out.isTTY) confirm = await ctx.out.confirm(`Rebuild ${ctx.flags.string('home')} as a replica and switch back to it?`);
    const res = await failback(state, {
      home: ctx.flags.string('home') === 'b' ? 'b' : 'a',
      confirm,
      log: (l) => ctx.out.info(l),
      listener: (e) => {
        if (e.status !== 'running') ctx.out.step(e.step, e.status, e.duration_ms, e.detail);
      },
      signal: ctx.signal,
    });
    ctx.out.result(
      { ok: true, ...res },
      `failback to ${res.home} (${res.incident}): rebuilt with ${res.rebuilt.database ?? 'no database rebuild'}${res.rebuilt.cache ? ' + redis replicaof' : ''}; switchover ${res.switchover.id} ${res.switchover.outcome}; ${res.from} is a replica of ${res.home} again`,
    );
    return 0;
  },
};
