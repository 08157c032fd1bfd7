import { Command, JSON_FLAG } from '../command';
import { formatStatus, status } from '../../local/environment';
import { requireState } from '../../local/state';
import { DIR_FLAG, LOCAL_FLAG, localDir, requireLocal } from '../../local/cli-support';

export const command: Command = {
  name: 'status',
  summary: 'roles, replication lag and the region the service names point at (--local: the local environment)',
  flags: { local: LOCAL_FLAG, dir: DIR_FLAG, ...JSON_FLAG },
  async run(ctx) {
    requireLocal(ctx, 'status');
    const st = await status(requireState(localDir(ctx)));
    ctx.out.result(st, formatStatus(st));
    return 0;
  },
};
