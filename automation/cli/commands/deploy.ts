/**
 * `dr deploy`: bring both regional stacks up in dependency order (primary, secondary, primary again for bucket
 * replication) and converge on rerun. Logic in automation/ops/deploy.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deploy, formatDeploy } from '../../ops/deploy';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { FlagError, RefusedError } from '../../core/errors';
import { FlagSpecs } from '../args';
import { AdminDriver, describeChanges } from '../../adapters/aws/stacks';
import { automationAdminDriver } from '../../adapters/aws/automation';

/** Stack flags shared by the AWS stack commands. */
export const STACK_FLAGS: FlagSpecs = {
  'primary-stack': { type: 'string', description: 'primary stack (name or org/project/stack)', env: 'DR_PRIMARY_STACK', default: 'primary' },
  'secondary-stack': { type: 'string', description: 'secondary stack (name or org/project/stack)', env: 'DR_SECONDARY_STACK', default: 'secondary' },
  'work-dir': { type: 'string', description: 'Pulumi project directory (holds Pulumi.yaml)', env: 'DR_WORK_DIR' },
};

/** How commands reach the Automation API; tests replace `driver` with a fake workspace. */
export const stackDeps: { driver: (workDir: string, env: Record<string, string | undefined>) => AdminDriver } = {
  driver: (workDir) => automationAdminDriver({ workDir }),
};

/** The Pulumi project directory: --work-dir or the cwd; it must hold Pulumi.yaml. */
export function projectDir(ctx: CommandContext): string {
  const dir = path.resolve(ctx.cwd, ctx.flags.string('work-dir') ?? '.');
  if (!fs.existsSync(path.join(dir, 'Pulumi.yaml'))) throw new FlagError(`--work-dir ${dir} is not a Pulumi project (no Pulumi.yaml)`);
  return dir;
}

export const command: Command = {
  name: 'deploy',
  summary: 'deploy both regions in dependency order (primary, secondary, primary again for bucket replication); converges on rerun',
  flags: {
    ...STACK_FLAGS,
    'dry-run': { type: 'boolean', description: 'preview every step, change nothing' },
    refresh: { type: 'boolean', description: 'refresh each stack before previewing (detect drift)' },
    yes: { type: 'boolean', description: 'apply without asking' },
    ...JSON_FLAG,
  },
  async run(ctx) {
    const stacks = { primary: ctx.flags.required('primary-stack'), secondary: ctx.flags.required('secondary-stack') };
    const workDir = projectDir(ctx);
    const dryRun = ctx.flags.bool('dry-run');
    if (!dryRun && !ctx.flags.bool('yes')) {
      const ok = await ctx.out.confirm(`Deploy ${stacks.primary} and ${stacks.secondary} (runs pulumi up)?`);
      if (!ok) throw new RefusedError('not confirmed: pass --yes to deploy without a terminal, or --dry-run to preview');
    }
    const report = await deploy({
      driver: stackDeps.driver(workDir, ctx.env),
      stacks,
      dryRun,
      refresh: ctx.flags.bool('refresh'),
      signal: ctx.signal,
      log: (l) => ctx.out.info(l),
      onStep: (s) => ctx.out.step(`${s.n}/3 ${s.stack}`, s.outcome === 'up' ? 'ok' : s.outcome === 'no-changes' ? 'skipped' : 'planned', s.duration_ms, `${s.outcome}: ${describeChanges(s.changes)}`),
    });
    ctx.out.result(report, formatDeploy(report));
    return 0;
  },
};
