/**
 * The AWS mode of `dr status`: both stacks' outputs (through the Automation API, or saved ones with --outputs-dir
 * while the Pulumi backend is down), then E2's {@link awsStatus} over {@link awsStatusProbes}: Route 53 health,
 * CloudWatch ReplicaLag, newest backup per tier, predicted RTO/RPO with their parts. A region that does not
 * answer is reported in its section, never fatal.
 */
import * as path from 'node:path';
import type { FlagSpecs } from './args';
import type { CommandContext } from './command';
import { UsageError } from '../core/errors';
import { loadTopology } from '../ops/offline-plan';
import { awsStatus, formatAwsStatus } from '../ops/status';
import { AWS_STACK_FLAGS, awsDeps, outputsCacheDir, pulumiProjectDir, readStacksOnline, stackNames } from './aws';
import { systemClock } from '../core/clock';

export const AWS_STATUS_FLAGS: FlagSpecs = {
  ...AWS_STACK_FLAGS,
  'outputs-dir': { type: 'string', description: 'AWS: read the stacks\' outputs from DIR/primary.json and DIR/secondary.json instead of the Pulumi backend' },
  refresh: { type: 'boolean', description: 'AWS: refresh both stacks before reading their outputs (slower; detects drift)' },
  'promotion-seconds': { type: 'number', description: 'AWS: database promotion estimate for the predicted RTO (e.g. a drill\'s measured time; default 600)' },
};

export async function awsStatusCommand(ctx: CommandContext): Promise<number> {
  const names = stackNames(ctx);
  const promotion = ctx.flags.number('promotion-seconds');
  if (promotion !== undefined && !(promotion >= 0 && promotion <= 86_400)) throw new UsageError(`--promotion-seconds must be between 0 and 86400, got ${promotion}`);
  const outputsDir = ctx.flags.string('outputs-dir');
  let built;
  if (outputsDir) {
    built = loadTopology(path.resolve(ctx.cwd, outputsDir), names);
  } else {
    const workDir = pulumiProjectDir(ctx);
    built = (await readStacksOnline(awsDeps.driver(workDir, ctx.env), names, { refresh: ctx.flags.bool('refresh'), log: (l) => ctx.out.info(l), cacheDir: outputsCacheDir(workDir) })).built;
  }
  const clock = awsDeps.clock ?? systemClock;
  const s = await awsStatus({ topology: built, probes: awsDeps.statusProbes(ctx.env), now: clock.now(), ...(promotion !== undefined ? { rto: { databasePromotionSeconds: promotion } } : {}) });
  ctx.out.result({ ok: true, ...s }, formatAwsStatus(s));
  return 0;
}
