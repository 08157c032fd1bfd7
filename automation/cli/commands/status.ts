/**
 * `dr status`: both regions at a glance. AWS: both stacks' outputs (through the Automation API, or saved ones with
 * --outputs-dir while the Pulumi backend is down), then {@link awsStatus} over the status probes: Route 53 health,
 * CloudWatch ReplicaLag, newest backup per tier, predicted RTO/RPO with their parts. A region that does not answer
 * is reported in its section, never fatal. Issue 11: per bot (ops/bot-status.ts) the active token and its health, the
 * webhook target and pending updates, the active region, missing channel rights — the bots from the primary stack's
 * settings file, the tokens from the serving region; a bots section that cannot be read says why. `--local`: the
 * rehearsal environment's services and bots.
 */
import * as path from 'node:path';
import { requireState } from '../../adapters/rehearsal/state';
import { systemClock } from '../../core/clock';
import { errorSummary, FlagError } from '../../core/errors';
import { loadTopology } from '../../ops/offline-plan';
import { outputsCacheDir, readStacksOnline } from '../../ops/stack-outputs';
import { botsStatus } from '../../ops/bot-status';
import { awsStatus, formatAwsStatus } from '../../ops/status';
import { formatStatus, status, statusProblems } from '../../rehearsal/environment';
import { localReadiness } from '../../rehearsal/readiness';
import { readinessSummary, readinessSummaryLines } from '../../../lib/readiness';
import { redact } from '../../core/redact';
import type { FlagSpecs } from '../args';
import { AWS_STACK_FLAGS, awsDeps, pulumiProjectDir, stackNames } from '../aws';
import { botsTargetFromTopology } from '../bots-target';
import { TOKEN_API_FLAGS } from './tokens-target';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { DIR_FLAG, LOCAL_FLAG, localDir } from '../local';


const AWS_STATUS_FLAGS: FlagSpecs = {
  ...AWS_STACK_FLAGS,
  'outputs-dir': { type: 'string', description: 'AWS: read the stacks\' outputs from DIR/primary.json and DIR/secondary.json instead of the Pulumi backend' },
  refresh: { type: 'boolean', description: 'AWS: refresh both stacks before reading their outputs (slower; detects drift)' },
  'promotion-seconds': { type: 'number', description: 'AWS: database promotion estimate for the predicted RTO (e.g. a drill\'s measured time; default 600)' },
  ...TOKEN_API_FLAGS,
};

export const command: Command = {
  name: 'status',
  summary: 'both regions: role, endpoints, health checks, replica lag, newest backups, predicted RTO/RPO (AWS); --local: the local environment',
  flags: { local: LOCAL_FLAG, dir: { ...DIR_FLAG, description: `--local: ${DIR_FLAG.description}` }, ...AWS_STATUS_FLAGS, ...JSON_FLAG },
  async run(ctx) {
    if (!ctx.flags.bool('local')) return awsStatusCommand(ctx);
    const state = requireState(localDir(ctx));
    const st = await status(state);
    st.readiness = readinessSummary(await localReadiness(state));
    const problems = statusProblems(st);
    ctx.out.result({ ...st, ok: problems.length === 0, problems }, formatStatus(st));
    return problems.length ? 1 : 0;
  },
};

async function awsStatusCommand(ctx: CommandContext): Promise<number> {
  const names = stackNames(ctx);
  const promotion = ctx.flags.number('promotion-seconds');
  if (promotion !== undefined && !(promotion >= 0 && promotion <= 86_400)) throw new FlagError(`--promotion-seconds must be between 0 and 86400, got ${promotion}`);
  const outputsDir = ctx.flags.string('outputs-dir');
  let built;
  let stacks;
  if (outputsDir) {
    built = loadTopology(path.resolve(ctx.cwd, outputsDir), names);
  } else {
    const workDir = pulumiProjectDir(ctx);
    ({ built, stacks } = await readStacksOnline(awsDeps.driver(workDir, ctx.env), names, { refresh: ctx.flags.bool('refresh'), log: (l) => ctx.out.info(l), cacheDir: outputsCacheDir(workDir) }));
  }
  const clock = awsDeps.clock ?? systemClock;
  const target = botsTargetFromTopology(ctx, built);
  const bots = target
    ? () => {
        const t = target();
        return botsStatus({ bots: t.bots, store: t.store, telegram: { ...t.telegram, timeoutMs: 5000 }, discord: { ...t.discord, timeoutMs: 5000 }, clock: t.clock, signal: ctx.signal });
      }
    : undefined;
  const s = await awsStatus({ topology: built, probes: awsDeps.statusProbes(ctx.env), now: clock.now(), ...(promotion !== undefined ? { rto: { databasePromotionSeconds: promotion } } : {}), ...(bots ? { bots: async () => bots() } : {}) });
  // Readiness (issue 14): the verdict and its failed checks; a run that cannot be made is said, never a verdict.
  const readiness = await awsDeps.readiness(ctx, built, stacks).then(readinessSummary, (err: unknown) => ({ error: redact(errorSummary(err)) }));
  const lines = 'error' in readiness ? [`  readiness  could not be run: ${readiness.error} (dr readiness)`] : readinessSummaryLines(readiness);
  ctx.out.result({ ok: true, ...s, readiness }, `${formatAwsStatus(s).replace(/\n$/, '')}\n\n${lines.join('\n')}\n`);
  return 0;
}
