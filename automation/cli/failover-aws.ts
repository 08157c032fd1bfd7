/**
 * The AWS mode of `dr failover` (the command module stays thin and calls {@link awsFailoverCommand}).
 *
 * - `--dry-run --outputs-dir DIR`: offline plan from saved `pulumi stack output --json` files (E2's
 *   {@link planFromOutputsDir}); touches neither the Pulumi backend nor AWS.
 * - otherwise: read both stacks' outputs through the Automation API (refresh first; a region that does not answer
 *   keeps its last outputs), build the topology, probe the stacks (a backend that does not answer → promotion
 *   through RDS directly, and the record step says which config to set by hand), build E1's AWS ports and run
 *   the same engine as the local rehearsal, journaled in the survivor's bucket plus a local copy.
 */
import * as path from 'node:path';
import { awsFailoverPorts, probeStacks, type SqlProbe } from '../adapters/aws/index';
import { registerUrlSecret } from './commands/backup-shared';
import { awsRegion } from '../adapters/aws/topology';
import type { FlagSpecs } from './args';
import type { CommandContext } from './command';
import { RefusedError, UsageError } from '../core/errors';
import { formatPlan, planFailover, runFailover, unavailableOf } from '../failover/index';
import type { FailoverMode, FailoverResult, Incident, StepEvent } from '../failover/index';
import { loadTopology, offlinePlanJson, planFromOutputsDir } from '../ops/offline-plan';
import { AWS_STACK_FLAGS, awsDeps, failoverDirection, findResumableAws, outputsCacheDir, promotedRegionOf, pulumiProjectDir, readStacksOnline, stackNames } from './aws';
import type { BuiltTopology } from '../adapters/aws/topology';
import type { StackDriver, StackLike } from '../adapters/aws/stacks';

export const AWS_FAILOVER_FLAGS: FlagSpecs = {
  ...AWS_STACK_FLAGS,
  'outputs-dir': { type: 'string', description: 'AWS: plan offline from DIR/primary.json and DIR/secondary.json (`pulumi stack output --json`); with --dry-run touches no backend and no AWS' },
  'journal-dir': { type: 'string', description: 'AWS: local copy of the failover journal (the other copy is in the survivor\'s bucket)', env: 'DR_JOURNAL_DIR' },
  from: { type: 'string', description: 'AWS: the region that loses the role (default: the stack whose role output is primary)' },
  to: { type: 'string', description: 'AWS: the region that takes over (default: the other one)' },
  'primary-db-url': { type: 'string', description: 'AWS: SQL reach into the primary stack\'s database (lag in LSNs, planned catch-up, session fence); optional', env: 'DR_PRIMARY_DB_URL' },
  'secondary-db-url': { type: 'string', description: 'AWS: SQL reach into the secondary stack\'s database; optional', env: 'DR_SECONDARY_DB_URL' },
  'backup-retention-days': { type: 'number', description: 'AWS: backup retention on the promoted instance (default: the survivor stack\'s database.backupRetentionDays, else 14)' },
};

export function defaultJournalDir(ctx: CommandContext, workDir: string): string {
  const given = ctx.flags.string('journal-dir');
  return given ? path.resolve(ctx.cwd, given) : path.join(workDir, '.dr', 'failover-journal');
}

function listener(ctx: CommandContext) {
  return (e: StepEvent) => {
    if (e.status !== 'running') ctx.out.step(e.step, e.status, e.duration_ms, e.detail);
  };
}

/** SQL reach into each region from the optional `--primary-db-url` / `--secondary-db-url` (passwords registered for redaction). */
export function sqlProbeFromFlags(ctx: CommandContext, built: BuiltTopology): SqlProbe | undefined {
  const urls: Record<string, string> = {};
  for (const r of built.aws.regions) {
    const u = ctx.flags.string(`${r.key}-db-url`);
    if (u) {
      try {
        new URL(u);
      } catch {
        throw new UsageError(`--${r.key}-db-url is not a URL; expected postgresql://user:password@host:5432/db?sslmode=require`);
      }
      urls[r.region] = u;
    }
  }
  for (const u of Object.values(urls)) registerUrlSecret(u);
  return Object.keys(urls).length ? awsDeps.sqlProbe(urls) : undefined;
}

async function retentionDays(ctx: CommandContext, survivor: StackLike | undefined): Promise<number> {
  const flag = ctx.flags.number('backup-retention-days');
  if (flag !== undefined) {
    if (!(Number.isInteger(flag) && flag >= 1 && flag <= 35)) throw new UsageError(`--backup-retention-days must be a whole number 1-35 (RDS's range), got ${flag}`);
    return flag;
  }
  const v = survivor ? await survivor.getConfig('bot-platform-dr:database.backupRetentionDays', true).catch(() => undefined) : undefined;
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n >= 1 ? n : 14;
}

export interface AwsFailoverSetup {
  built: BuiltTopology;
  driver: StackDriver;
  stacks?: Record<'primary' | 'secondary', StackLike>;
  workDir: string;
  journalDir: string;
}

/** Read the topology (saved outputs, or online with a refresh) for the AWS commands that run the engine. */
export async function awsSetup(ctx: CommandContext, opts: { refresh: boolean }): Promise<AwsFailoverSetup> {
  const names = stackNames(ctx);
  const workDir = pulumiProjectDir(ctx);
  const driver = awsDeps.driver(workDir, ctx.env);
  const outputsDir = ctx.flags.string('outputs-dir');
  const journalDir = defaultJournalDir(ctx, workDir);
  if (outputsDir) return { built: loadTopology(path.resolve(ctx.cwd, outputsDir), names), driver, workDir, journalDir };
  const online = await readStacksOnline(driver, names, { refresh: opts.refresh, log: (l) => ctx.out.info(l), cacheDir: outputsCacheDir(workDir) });
  return { built: online.built, driver, stacks: online.stacks, workDir, journalDir };
}

export async function awsFailoverCommand(ctx: CommandContext, o: { mode: FailoverMode; incident: Incident; maxLag: number }): Promise<number> {
  const dryRun = ctx.flags.bool('dry-run');
  const resume = ctx.flags.bool('resume');
  const id = ctx.flags.string('id');
  const given = { from: ctx.flags.string('from'), to: ctx.flags.string('to') };
  const outputsDir = ctx.flags.string('outputs-dir');
  if (dryRun && resume) throw new UsageError('--dry-run and --resume do not go together: a dry-run plans a new failover');

  // Offline plan: two local files, no backend, no AWS.
  if (dryRun && outputsDir) {
    const names = stackNames(ctx);
    const plan = planFromOutputsDir(path.resolve(ctx.cwd, outputsDir), o.mode, o.incident, { stacks: names, ...given });
    ctx.out.result({ ok: true, dry_run: true, ...offlinePlanJson(plan) }, formatPlan(plan));
    return 0;
  }

  const setup = await awsSetup(ctx, { refresh: !dryRun });
  const { built, driver, journalDir } = setup;
  const clients = awsDeps.clients(ctx.env);
  let dir: { from: string; to: string; mode: FailoverMode; incident: Incident; id?: string };
  if (resume) {
    const hit = await findResumableAws(built, journalDir, clients.s3, (l) => ctx.out.info(l));
    if (!hit) throw new UsageError(`--resume: no unfinished failover in ${journalDir} or in either region's bucket (failover/journal/)`);
    if (id && id !== hit.id) throw new UsageError(`--resume: the unfinished failover is ${hit.id}, not ${id}`);
    dir = { ...hit };
    ctx.out.info(`resuming failover ${hit.id}: ${hit.mode} ${hit.incident} ${hit.from} → ${hit.to}`);
  } else {
    const d = await failoverDirection(built, given, setup.stacks ? () => promotedRegionOf(built, setup.stacks!) : undefined);
    dir = { ...d, mode: o.mode, incident: o.incident, ...(id ? { id } : {}) };
  }
  const survivor = awsRegion(built.aws, dir.to);
  const lost = awsRegion(built.aws, dir.from);
  const stacksUnavailable = dryRun ? undefined : await probeStacks(driver, { survivor: survivor.stack, lost: lost.stack });
  if (stacksUnavailable) ctx.out.warn(stacksUnavailable);
  const survivorStack = setup.stacks?.[survivor.key];
  const ports = awsFailoverPorts({
    topology: built.aws,
    survivor: dir.to,
    journalDir,
    driver,
    ...(stacksUnavailable ? { stacksUnavailable } : {}),
    clients,
    sql: sqlProbeFromFlags(ctx, built),
    backupRetentionDays: await retentionDays(ctx, stacksUnavailable ? undefined : survivorStack),
    ...(dir.id ? { failoverId: dir.id } : {}),
    ...(awsDeps.clock ? { clock: awsDeps.clock } : {}),
    ...(awsDeps.waits ? { waits: awsDeps.waits } : {}),
    ...(awsDeps.retry ? { retry: awsDeps.retry } : {}),
    ...(awsDeps.stackRetry ? { stackRetry: awsDeps.stackRetry } : {}),
    log: (l) => ctx.out.info(l),
  });
  const base = { ports, topology: built.topology, limits: { maxLagSeconds: o.maxLag }, signal: ctx.signal, log: (l: string) => ctx.out.info(l), listener: listener(ctx) };

  if (dryRun) {
    const res = await runFailover({ ...base, mode: dir.mode, incident: dir.incident, from: dir.from, to: dir.to, dryRun: true });
    const plan = planFailover({ mode: dir.mode, incident: dir.incident, from: dir.from, to: dir.to, topology: built.topology, unavailable: unavailableOf(ports), limits: { maxLagSeconds: o.maxLag } });
    ctx.out.result({ ok: true, dry_run: true, ...res.plan }, formatPlan(plan));
    return 0;
  }
  let confirm = ctx.flags.bool('yes');
  if (!confirm && ctx.out.isTTY) confirm = await ctx.out.confirm(resume ? `Resume failover ${dir.id}?` : `${dir.mode} ${dir.incident} failover on AWS from ${dir.from} (${lost.stack}) to ${dir.to} (${survivor.stack}): continue?`);
  if (!confirm) throw new RefusedError('a failover changes which region serves: confirm it with --yes (or answer the prompt); nothing was changed');
  const res: FailoverResult = resume
    ? await runFailover({ ...base, resume: true, ...(dir.id ? { id: dir.id } : {}), confirm: true })
    : await runFailover({ ...base, mode: dir.mode, incident: dir.incident, from: dir.from, to: dir.to, ...(dir.id ? { id: dir.id } : {}), confirm: true });
  ctx.out.result({ ok: true, ...res, ...(stacksUnavailable ? { stacks_unavailable: stacksUnavailable } : {}) }, awsSummary(res, stacksUnavailable));
  return 0;
}

export function awsSummary(r: FailoverResult, stacksUnavailable?: string): string {
  const lines = [`failover ${r.id}: ${r.mode} ${r.incident} ${r.from} → ${r.to}: ${r.outcome}`];
  if (r.estimated_data_loss) lines.push(`estimated data loss: ${r.estimated_data_loss.lag_seconds ?? '?'} s / ${r.estimated_data_loss.lag_bytes ?? '?'} bytes (${r.estimated_data_loss.basis})`);
  if (r.pending_fences.length) lines.push(`fence pending (the old primary did not answer; 'dr failback' fences it before rebuilding it): ${r.pending_fences.map((f) => `${f.region} ${f.tiers.join('+')}`).join(', ')}`);
  for (const n of r.notifications) for (const f of n.failed) lines.push(`notification ${n.kind} not delivered to ${f.target}: ${f.error}`);
  if (stacksUnavailable) lines.push(`STACKS NOT RE-TARGETED: ${stacksUnavailable}`);
  lines.push(`journal: ${r.journal}`);
  return lines.join('\n');
}
