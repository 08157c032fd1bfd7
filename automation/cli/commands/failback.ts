/**
 * `dr failback`: return service to the home region after a failover, losing nothing. `--local`: rebuild with
 * pg_rewind or a base backup and REPLICAOF, then a planned switchover (rehearsal/failback.ts). Before anything is
 * rewound or rebuilt, the old primary's writes after the split are kept as a divergent backup in the survivor's
 * bucket (locally a verified pg_dump; AWS the same when it answers SQL, else its snapshot). AWS: fence, preserve
 * the old primary as a snapshot, record the divergent copy, rebuild it as a replica through its stack, wait for the lag, switch back
 * (ops/failback.ts), with the engine's split-brain guard and a planned switchover over the AWS ports.
 */
import { rdsFailbackDatabase } from '../../adapters/aws/failback-db';
import { elastiCacheFailback } from '../../adapters/aws/failback-cache';
import { S3Store } from '../../adapters/aws/s3-store';
import { localTempFiles } from '../../adapters/tools/temp-files';
import { systemClock } from '../../core/clock';
import { awsDivergent } from '../../ops/divergent';
import { awsFailoverPorts } from '../../adapters/aws/index';
import { awsRegion, type BuiltTopology } from '../../adapters/aws/topology';
import { requireState } from '../../adapters/rehearsal/state';
import { FlagError, RefusedError, UsageError } from '../../core/errors';
import { describeDivergent } from '../../backup/index';
import { guardOldPrimary, runFailover } from '../../failover/index';
import { awsFailback as runAwsFailback, type AwsFailbackResult } from '../../ops/failback';
import { outputsCacheDir, readStacksOnline } from '../../ops/stack-outputs';
import { failback } from '../../rehearsal/failback';
import type { FlagSpecs } from '../args';
import { AWS_STACK_FLAGS, awsDeps, awsTuning, commandLease, dbUrlsFromFlags, defaultJournalDir, LEASE_FLAGS, pulumiProjectDir, sqlProbeFromFlags, stackNames } from '../aws';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { stepListener } from '../failover-run';
import { DIR_FLAG, LOCAL_FLAG, localDir, withLocalLock } from '../local';


const AWS_FAILBACK_FLAGS: FlagSpecs = {
  ...AWS_STACK_FLAGS,
  ...LEASE_FLAGS,
  'home-region': { type: 'string', description: 'AWS: the region to return to (default: the region of --primary-stack)' },
  'max-lag': { type: 'number', description: 'refuse the switchover back while the rebuilt replica lags more than this many seconds', default: 30 },
  'journal-dir': { type: 'string', description: 'AWS: local copy of the failover journal', env: 'DR_JOURNAL_DIR' },
  'primary-db-url': { type: 'string', description: 'AWS: SQL reach into the primary stack\'s database (planned catch-up in LSNs; when the old primary answers through it, its divergent backup is a pg_dump compared row by row, else its snapshot)', env: 'DR_PRIMARY_DB_URL' },
  'secondary-db-url': { type: 'string', description: 'AWS: SQL reach into the secondary stack\'s database; optional', env: 'DR_SECONDARY_DB_URL' },
  'backup-retention-days': { type: 'number', description: 'AWS: backup retention on the instance promoted back home', default: 14 },
};

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
    if (!ctx.flags.bool('local')) return awsFailback(ctx);
    const dir = localDir(ctx);
    return withLocalLock(ctx, dir, 'dr failback --local', () => localFailback(ctx, dir));
  },
};

/** The rehearsal environment: rebuild home from the serving region, switch back, re-protect. */
async function localFailback(ctx: CommandContext, dir: string): Promise<number> {
  const state = requireState(dir);
  let confirm = ctx.flags.bool('yes');
  if (!confirm && ctx.out.isTTY) confirm = await ctx.out.confirm(`Rebuild ${ctx.flags.string('home')} as a replica and switch back to it?`);
  const res = await failback(state, {
    home: ctx.flags.string('home') === 'b' ? 'b' : 'a',
    confirm,
    log: (l) => ctx.out.info(l),
    listener: stepListener(ctx),
    signal: ctx.signal,
  });
  ctx.out.result(
    { ok: true, ...res },
    `failback to ${res.home} (${res.incident}): ${res.divergent ? `before the rewind, ${describeDivergent(res.divergent)}; ` : ''}rebuilt with ${res.rebuilt.database ?? 'no database rebuild'}${res.rebuilt.cache ? ' + redis replicaof' : ''}; switchover ${res.switchover.id} ${res.switchover.outcome}; ${res.from} is a replica of ${res.home} again`,
  );
  return 0;
}

async function awsFailback(ctx: CommandContext): Promise<number> {
  const names = stackNames(ctx);
  const maxLag = ctx.flags.number('max-lag') ?? 30;
  if (!(maxLag >= 0)) throw new FlagError(`--max-lag must be a number of seconds ≥ 0, got ${maxLag}`);
  const retention = ctx.flags.number('backup-retention-days') ?? 14;
  if (!(Number.isInteger(retention) && retention >= 1 && retention <= 35)) throw new FlagError(`--backup-retention-days must be a whole number 1-35, got ${retention}`);
  const workDir = pulumiProjectDir(ctx);
  const driver = awsDeps.driver(workDir, ctx.env);
  const log = (l: string) => ctx.out.info(l);
  const { built } = await readStacksOnline(driver, names, { refresh: true, log, cacheDir: outputsCacheDir(workDir) });
  // The switchover back is planned (zero loss): its catch-up compares WAL positions, which needs SQL reach — the
  // backup-job Lambdas inside the VPC, or the operator's own URLs.
  if (!sqlProbeFromFlags(ctx, built)) {
    throw new UsageError("the switchover back is planned and waits for the replica to replay the last WAL position, which needs SQL reach into both databases: neither stack outputs its backup job's function (backupFunctionName, which answers SQL probes from inside the VPC) — deploy them, or pass --primary-db-url and --secondary-db-url (or DR_PRIMARY_DB_URL / DR_SECONDARY_DB_URL) where the VPC is reachable; nothing was changed");
  }
  const home = ctx.flags.string('home-region') ?? built.aws.regions.find((r) => r.key === 'primary')!.region;
  const homeRegion = awsRegion(built.aws, home);
  const survivor = built.aws.regions.find((r) => r.region !== home)!;
  let confirm = ctx.flags.bool('yes');
  if (!confirm && ctx.out.isTTY) confirm = await ctx.out.confirm(`Rebuild ${home} (${homeRegion.stack}) as a replica of ${survivor.region} and switch back to it?`);
  if (!confirm) throw new RefusedError('a failback replaces the old primary instance (after a snapshot) and switches regions: confirm it with --yes (or answer the prompt); nothing was changed');
  const clients = awsDeps.clients(ctx.env);
  const journalDir = defaultJournalDir(ctx, workDir);
  // One actor at a time: the failover lease in the serving region's bucket, held for the whole failback (its
  // switchover back re-enters it), so a `dr failover` or another failback elsewhere is refused naming us.
  const lease = commandLease(ctx, built, survivor.region, `dr failback --home-region ${home}`);
  const took = await lease.acquire(`failback-${home}`, { signal: ctx.signal, log });
  if (took.took_over) ctx.out.warn(`failover lease: ${took.took_over}`);
  try {
    return await runAwsFailbackCommand();
  } finally {
    await lease.release({ log });
  }

  async function runAwsFailbackCommand(): Promise<number> {
  const ports = (b: BuiltTopology, serving: string) =>
    awsFailoverPorts({
      topology: b.aws,
      survivor: serving,
      journalDir,
      driver,
      clients,
      sql: sqlProbeFromFlags(ctx, b),
      backupRetentionDays: retention,
      lease,
      ...awsTuning(ctx.env),
      log,
    });
  const probes = awsDeps.statusProbes(ctx.env);
  const res: AwsFailbackResult = await runAwsFailback({
    driver,
    built,
    home,
    db: (region) => rdsFailbackDatabase(clients.rds(region)),
    cache: elastiCacheFailback(clients.elasticache, { ...(awsDeps.clock ? { clock: awsDeps.clock } : {}), ...(awsDeps.retry ? { retry: awsDeps.retry } : {}) }),
    lag: (region, id) => probes.replicaLag(region, id),
    maxLagSeconds: maxLag,
    guard: async () => {
      const g = await guardOldPrimary(ports(built, survivor.region), undefined, { log, signal: ctx.signal });
      const acts = g.actions.map((a) => `${a.tier} in ${a.region}: ${a.outcome}${a.error ? ` (${a.error})` : ''}`);
      return [...acts, ...g.dnsWarnings].join('; ') || 'no old primary to fence';
    },
    divergent: (snapshot) => {
      const urls = dbUrlsFromFlags(ctx, built);
      return awsDivergent({
        store: new S3Store({ bucket: awsRegion(built.aws, survivor.region).bucketName, client: clients.s3(survivor.region) }),
        home: { region: home, dbIdentifier: homeRegion.dbIdentifier },
        survivor: { region: survivor.region },
        snapshot,
        urls: { home: urls[home], survivor: urls[survivor.region] },
        tools: awsDeps.pgTools(ctx.env),
        probe: awsDeps.divergenceProbe(ctx.env),
        temp: localTempFiles(),
        journal: ports(built, survivor.region).journal,
        clock: awsDeps.clock ?? systemClock,
        log,
        signal: ctx.signal,
      });
    },
    reread: async () => (await readStacksOnline(driver, names, { refresh: false, log })).built,
    switchover: (after, from, to) =>
      runFailover({
        ports: ports(after, to),
        topology: after.topology,
        mode: 'planned',
        incident: 'datacenter',
        from,
        to,
        confirm: true,
        limits: { maxLagSeconds: maxLag },
        signal: ctx.signal,
        log,
        listener: stepListener(ctx, '  switchover '),
      }),
    ...(awsDeps.clock ? { clock: awsDeps.clock } : {}),
    ...(awsDeps.waits ? { waits: awsDeps.waits } : {}),
    ...(awsDeps.stackRetry ? { stackRetry: awsDeps.stackRetry } : {}),
    log,
    onStep: (e) => ctx.out.step(e.step, e.status, e.duration_ms, e.detail),
    signal: ctx.signal,
  });
  ctx.out.result(
    { ok: true, ...res },
    `failback to ${res.home} (${res.home_stack}): ${res.snapshot ? `old primary preserved as snapshot ${res.snapshot}; ` : ''}${res.divergent ? `${describeDivergent(res.divergent)}; ` : ''}rebuilt as a replica of ${res.survivor}, lag ${res.replica_lag_seconds} s; switchover ${res.switchover.id} ${res.switchover.outcome}`,
  );
  return 0;
  }
}
