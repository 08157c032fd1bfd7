import { Command, JSON_FLAG } from '../command';
import { formatStatus, status } from '../../rehearsal/environment';
import { requireState } from '../../adapters/rehearsal/state';
import { DIR_FLAG, LOCAL_FLAG, localDir } from '../local';
import { AWS_STATUS_FLAGS, awsStatusCommand } from '../status-aws';

export const command: Command = {
  name: 'status',
  summary: 'both regions: role, endpoints, health checks, replica lag, newest backups, predicted RTO/RPO (AWS); --local: the local environment',
  flags: { local: LOCAL_FLAG, dir: { ...DIR_FLAG, description: `--local: ${DIR_FLAG.description}` }, ...AWS_STATUS_FLAGS, ...JSON_FLAG },
  async run(ctx) {
    if (!ctx.flags.bool('local')) return awsStatusCommand(ctx);
    const st = await status(requireState(localDir(ctx)));
    ctx.out.result(st, formatStatus(st));
    return 0;
  },
};
