/**
 * `dr readiness [--json] [--local]`: is the DR pair ready to fail over? The readiness engine's verdict — ready,
 * degraded or not-ready — and every named check (`database.…`, `cache.…`, `backups.…`, `secrets.…`, `dns.…`,
 * `bots.…`, `certificates.…`, `jobs.…`) with its resource, reason and fix. The same checks the `readiness` Lambda
 * runs every 30 minutes in each region, from the operator's machine (AWS: both stacks' outputs and config, the bots
 * probed from here with their standby-region records), or `--local` over the rehearsal's real services.
 *
 * Exit 0 when ready, 1 when degraded or not ready, 2 on bad usage.
 */
import * as path from 'node:path';
import { requireState } from '../../adapters/rehearsal/state';
import { formatReadiness, type ReadinessReport } from '../../readiness/index';
import { loadTopology } from '../../ops/offline-plan';
import { localReadiness } from '../../rehearsal/readiness';
import type { FlagSpecs } from '../args';
import { AWS_STACK_FLAGS, awsDeps, awsSetup, stackNames } from '../aws';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { DIR_FLAG, LOCAL_FLAG, localDir } from '../local';

const AWS_FLAGS: FlagSpecs = {
  ...AWS_STACK_FLAGS,
  'outputs-dir': { type: 'string', description: "AWS: read the stacks' outputs from DIR/primary.json and DIR/secondary.json (no stack config: the RPO budget defaults to 900 s, the TTL and the bots' channels are not known)" },
};

export const command: Command = {
  name: 'readiness',
  summary: 'is the DR pair ready to fail over: one verdict (ready, degraded, not-ready) and every named check with its fix (AWS: both regions; --local: the rehearsal). Exit 0 ready, 1 degraded or not ready',
  flags: { local: LOCAL_FLAG, dir: { ...DIR_FLAG, description: `--local: ${DIR_FLAG.description}` }, ...AWS_FLAGS, ...JSON_FLAG },
  async run(ctx) {
    const report = ctx.flags.bool('local') ? await localReadiness(requireState(localDir(ctx))) : await awsReadinessCommand(ctx);
    ctx.out.result(readinessJson(report), formatReadiness(report));
    return report.verdict === 'ready' ? 0 : 1;
  },
};

/** The JSON of `dr readiness --json`: `{ verdict, checks: [{ name, status, resource, reason, fix }], … }`. */
export function readinessJson(r: ReadinessReport): Record<string, unknown> {
  return {
    verdict: r.verdict,
    checks: r.checks.map((c) => ({ name: c.name, status: c.status, resource: c.resource, reason: c.reason, fix: c.fix })),
    environment: r.environment,
    from: r.from,
    at: r.at,
    duration_ms: r.duration_ms,
    calls: r.calls,
    not_applicable: r.not_applicable,
  };
}

/** Both stacks' outputs (saved ones with --outputs-dir) and config, then the engine over the AWS observer. */
export async function awsReadinessCommand(ctx: CommandContext): Promise<ReadinessReport> {
  const outputsDir = ctx.flags.string('outputs-dir');
  const setup = outputsDir ? { built: loadTopology(path.resolve(ctx.cwd, outputsDir), stackNames(ctx)), stacks: undefined } : await awsSetup(ctx, { refresh: false });
  return awsDeps.readiness(ctx, setup.built, setup.stacks);
}
