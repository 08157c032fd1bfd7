/**
 * `dr failover`: a planned switchover or an unplanned failover to the other region, on AWS (the stacks' outputs,
 * AWS adapters, journal in the survivor's bucket) or `--local` (the rehearsal environment). Both branches build
 * the engine's ports and hand them to {@link runFailoverCommand}, which prints the dry-run plan or confirms, runs
 * and summarizes. `--dry-run --outputs-dir DIR` plans offline from saved outputs (no backend, no AWS).
 */
import * as path from 'node:path';
import { awsFailoverPorts, probeStacks } from '../../adapters/aws/index';
import type { StackLike } from '../../adapters/aws/stacks';
import { awsRegion } from '../../adapters/aws/topology';
import { localPorts, localTopology, readDnsFile } from '../../adapters/rehearsal/index';
import { isRegion, otherRegion, requireState } from '../../adapters/rehearsal/state';
import { FlagError, UsageError } from '../../core/errors';
import { type FailoverLimits, type FailoverMode, formatPlan, type Incident, INCIDENTS } from '../../failover/index';
import { readinessSummary } from '../../../lib/readiness';
import { localReadiness } from '../../rehearsal/readiness';
import { offlinePlanJson, planFromOutputsDir } from '../../ops/offline-plan';
import { failoverDirection, findResumableAws, promotedRegionOf } from '../../ops/stack-outputs';
import type { FlagSpecs } from '../args';
import { AWS_STACK_FLAGS, awsDeps, awsSetup, awsTuning, commandLease, LEASE_FLAGS, sqlProbeFromFlags, stackNames } from '../aws';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { runFailoverCommand, stepListener } from '../failover-run';
import { DIR_FLAG, LOCAL_FLAG, localDir, withCrashHook, withLocalLock } from '../local';

const AWS_FAILOVER_FLAGS: FlagSpecs = {
  ...AWS_STACK_FLAGS,
  ...LEASE_FLAGS,
  'outputs-dir': { type: 'string', description: 'AWS: plan offline from DIR/primary.json and DIR/secondary.json (`pulumi stack output --json`); with --dry-run touches no backend and no AWS' },
  'journal-dir': { type: 'string', description: 'AWS: local copy of the failover journal (the other copy is in the survivor\'s bucket)', env: 'DR_JOURNAL_DIR' },
  from: { type: 'string', description: 'AWS: the region that loses the role (default: the stack whose role output is primary)' },
  to: { type: 'string', description: 'AWS: the region that takes over (default: the other one)' },
  'primary-db-url': { type: 'string', description: 'AWS: SQL reach into the primary stack\'s database (lag in LSNs, planned catch-up, session fence); optional', env: 'DR_PRIMARY_DB_URL' },
  'secondary-db-url': { type: 'string', description: 'AWS: SQL reach into the secondary stack\'s database; optional', env: 'DR_SECONDARY_DB_URL' },
  'backup-retention-days': { type: 'number', description: 'AWS: backup retention on the promoted instance (default: the survivor stack\'s database.backupRetentionDays, else 14)' },
};

interface FailoverFlags {
  mode: FailoverMode;
  incident: Incident;
  maxLag: number;
  limits: Partial<FailoverLimits>;
  force: boolean;
}

export const command: Command = {
  name: 'failover',
  summary: 'planned switchover or unplanned failover to the other region, on AWS (stacks) or --local (journaled, resumable, --dry-run prints the plan)',
  flags: {
    local: LOCAL_FLAG,
    planned: { type: 'boolean', description: 'switchover that loses nothing (default): fence, catch up, promote; refuses when unsafe' },
    unplanned: { type: 'boolean', description: 'the primary is gone: promote anyway and report the estimated data loss' },
    incident: { type: 'string', description: 'what moves: datacenter (everything), database, cache', choices: INCIDENTS, default: 'datacenter' },
    'dry-run': { type: 'boolean', description: 'print the plan with the reason for each step; change nothing' },
    yes: { type: 'boolean', description: 'confirm without a prompt' },
    force: { type: 'boolean', description: "planned: switch over although readiness says not-ready (preflight runs it first and otherwise refuses; 'dr readiness' shows why)" },
    resume: { type: 'boolean', description: 'continue the latest unfinished failover from its journal' },
    id: { type: 'string', description: 'failover id (rerun with the same id to resume it)' },
    'max-lag': { type: 'number', description: 'planned: refuse when the standby lags more than this many seconds', default: 30 },
    'catch-up-timeout': { type: 'number', description: 'seconds the standby may take to replay the fenced old primary\'s final WAL position: unplanned (the primary still answers) promotes anyway after it, planned aborts and unfences (default 10 unplanned, 60 planned)' },
    dir: { ...DIR_FLAG, description: `--local: ${DIR_FLAG.description}` },
    ...AWS_FAILOVER_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    if (ctx.flags.bool('planned') && ctx.flags.bool('unplanned')) throw new FlagError('--planned and --unplanned exclude each other');
    if (ctx.flags.bool('dry-run') && ctx.flags.bool('resume')) throw new FlagError('--dry-run and --resume do not go together: a dry-run plans a new failover');
    const mode: FailoverMode = ctx.flags.bool('unplanned') ? 'unplanned' : 'planned';
    if (mode === 'unplanned' && ctx.flags.bool('force')) throw new FlagError('--force goes with a planned switchover (an unplanned failover never waits for readiness)');
    const maxLag = ctx.flags.number('max-lag') ?? 30;
    if (!(maxLag >= 0)) throw new FlagError(`--max-lag must be a number of seconds ≥ 0, got ${maxLag}`);
    const catchUp = ctx.flags.number('catch-up-timeout');
    if (catchUp !== undefined && !(catchUp > 0 && catchUp <= 3600)) throw new FlagError(`--catch-up-timeout must be between 0 and 3600 seconds (more than 0), got ${catchUp}`);
    const o: FailoverFlags = {
      mode,
      incident: ctx.flags.required('incident') as Incident,
      maxLag,
      force: ctx.flags.bool('force'),
      limits: { maxLagSeconds: maxLag, ...(catchUp === undefined ? {} : mode === 'unplanned' ? { unplannedCatchUpTimeoutMs: catchUp * 1000 } : { catchUpTimeoutMs: catchUp * 1000 }) },
    };
    return ctx.flags.bool('local') ? localFailover(ctx, o) : awsFailover(ctx, o);
  },
};

/** The rehearsal environment: the DNS record file says which region serves; the other one takes over. */
async function localFailover(ctx: CommandContext, o: FailoverFlags): Promise<number> {
  const dir = localDir(ctx);
  if (ctx.flags.bool('dry-run')) return prepareLocal(ctx, o, dir);
  return withLocalLock(ctx, dir, `dr failover --local${ctx.flags.bool('resume') ? ' --resume' : ` --${o.mode}`}`, () => prepareLocal(ctx, o, dir));
}

async function prepareLocal(ctx: CommandContext, o: FailoverFlags, dir: string): Promise<number> {
  const state = requireState(dir);
  const ports = { ...withCrashHook(localPorts(state), ctx), readiness: { check: async () => readinessSummary(await localReadiness(state)) } };
  const records = readDnsFile(state.dns_file).records;
  const tier = o.incident === 'cache' ? 'cache' : 'database';
  const from = records[tier];
  if (!from || !isRegion(from)) throw new UsageError(`the DNS record file ${state.dns_file} names no region for '${tier}'`);
  const to = otherRegion(from);
  const id = ctx.flags.string('id');
  const resume = ctx.flags.bool('resume');
  return runFailoverCommand(ctx, {
    base: { ports, topology: localTopology(state), limits: o.limits, force: o.force, signal: ctx.signal, log: (l) => ctx.out.info(l), listener: stepListener(ctx) },
    target: resume ? { resume: true, ...(id ? { id } : {}) } : { mode: o.mode, incident: o.incident, from, to, ...(id ? { id } : {}) },
    question: resume ? 'Resume the unfinished failover?' : `${o.mode} ${o.incident} failover from ${from} to ${to}: continue?`,
    pendingFenceHint: "the split-brain guard in 'dr watch --local' applies it when it answers",
  });
}

/** Backup retention for the promoted instance: the flag, else the survivor stack's config, else 14 days. */
/** The survivor's posture after promotion: backup retention (flag, then stack config, then 14) and Multi-AZ (config, default true). */
async function survivorPosture(ctx: CommandContext, survivor: StackLike | undefined): Promise<{ backupRetentionDays: number; promotedMultiAz: boolean }> {
  const get = (key: string) => (survivor ? survivor.getConfig(`bot-platform-dr:database.${key}`, true).catch(() => undefined) : Promise.resolve(undefined));
  const promotedMultiAz = (await get('promotedMultiAz')) !== 'false';
  const flag = ctx.flags.number('backup-retention-days');
  if (flag !== undefined) {
    if (!(Number.isInteger(flag) && flag >= 1 && flag <= 35)) throw new FlagError(`--backup-retention-days must be a whole number 1-35 (RDS's range), got ${flag}`);
    return { backupRetentionDays: flag, promotedMultiAz };
  }
  const v = await get('backupRetentionDays');
  const n = v === undefined ? NaN : Number(v);
  return { backupRetentionDays: Number.isInteger(n) && n >= 1 ? n : 14, promotedMultiAz };
}

/**
 * AWS: both stacks' outputs as last recorded (no refresh on the critical path), the direction,
 * a probe of the stacks (a backend that does not answer → reconcile stays pending, traffic moves anyway), then the
 * engine over the AWS ports, journaled in the survivor's bucket.
 */
async function awsFailover(ctx: CommandContext, o: FailoverFlags): Promise<number> {
  const dryRun = ctx.flags.bool('dry-run');
  const resume = ctx.flags.bool('resume');
  const id = ctx.flags.string('id');
  const given = { from: ctx.flags.string('from'), to: ctx.flags.string('to') };
  const outputsDir = ctx.flags.string('outputs-dir');
  if (dryRun && outputsDir) {
    // Offline plan: two local files, no backend, no AWS.
    const plan = planFromOutputsDir(path.resolve(ctx.cwd, outputsDir), o.mode, o.incident, { stacks: stackNames(ctx), ...given });
    ctx.out.result({ ok: true, dry_run: true, ...offlinePlanJson(plan) }, formatPlan(plan));
    return 0;
  }
  // No refresh before traffic moves: it takes minutes and needs the Pulumi backend; reconcile refreshes afterwards.
  const setup = await awsSetup(ctx, { refresh: false });
  const { built, driver, journalDir } = setup;
  const clients = awsDeps.clients(ctx.env);
  let dir: { from: string; to: string; mode: FailoverMode; incident: Incident; id?: string };
  if (resume) {
    const hit = await findResumableAws(built, journalDir, clients.s3, (l) => ctx.out.info(l));
    if (!hit) throw new FlagError(`--resume: no unfinished failover in ${journalDir} or in either region's bucket (failover/journal/)`);
    if (id && id !== hit.id) throw new FlagError(`--resume: the unfinished failover is ${hit.id}, not ${id}`);
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
  const ports = awsFailoverPorts({
    topology: built.aws,
    survivor: dir.to,
    journalDir,
    driver,
    ...(stacksUnavailable ? { stacksUnavailable } : {}),
    clients,
    sql: sqlProbeFromFlags(ctx, built),
    ...(await survivorPosture(ctx, stacksUnavailable ? undefined : setup.stacks?.[survivor.key])),
    ...(dir.id ? { failoverId: dir.id } : {}),
    ...(dryRun ? {} : { lease: commandLease(ctx, built, dir.to, resume ? 'dr failover --resume' : `dr failover --${dir.mode} --incident ${dir.incident}`) }),
    ...awsTuning(ctx.env),
    log: (l) => ctx.out.info(l),
  });
  return runFailoverCommand(ctx, {
    base: { ports: { ...ports, readiness: { check: async () => readinessSummary(await awsDeps.readiness(ctx, built, setup.stacks)) } }, topology: built.topology, limits: o.limits, force: o.force, signal: ctx.signal, log: (l) => ctx.out.info(l), listener: stepListener(ctx) },
    target: resume ? { resume: true, ...(dir.id ? { id: dir.id } : {}) } : { mode: dir.mode, incident: dir.incident, from: dir.from, to: dir.to, ...(dir.id ? { id: dir.id } : {}) },
    question: resume ? `Resume failover ${dir.id}?` : `${dir.mode} ${dir.incident} failover on AWS from ${dir.from} (${lost.stack}) to ${dir.to} (${survivor.stack}): continue?`,
    pendingFenceHint: "the old primary did not answer; 'dr failback' fences it before rebuilding it",
    ...(stacksUnavailable ? { extra: { lines: [], json: { stacks_unavailable: stacksUnavailable } } } : {}),
  });
}
