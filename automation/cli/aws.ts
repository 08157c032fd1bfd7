/**
 * The AWS composition root of the CLI: the injectable dependencies of the AWS branches of `dr failover|failback|
 * status|drill|deploy|backup config` (the Automation API driver, AWS client factories, clock and wait knobs —
 * tests replace them with a fake workspace and aws-sdk-client-mock clients) and the flags they share.
 *
 * No AWS call is made here: everything goes through adapters/aws, and the operations live in ops/.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { automationAdminDriver, automationDriver } from '../adapters/aws/automation';
import { defaultClients, fallbackSqlProbe, LambdaSqlProbe, LEASE_KEY, s3LeaseFor, type AwsClientFactories, type AwsPortsOptions, type LeaseIdentity, type S3Lease } from '../adapters/aws/index';
import { processStart } from '../adapters/tools/file-lock';
import { pgSqlProbe, pgUrlResolver } from '../adapters/aws/pg-probe';
import type { SqlProbe } from '../adapters/aws/rds';
import { S3Store } from '../adapters/aws/s3-store';
import type { AdminDriver, StackDriver, StackLike } from '../adapters/aws/stacks';
import { awsStatusProbes, type StatusProbes } from '../adapters/aws/status-probes';
import type { BuiltTopology } from '../adapters/aws/topology';
import { PgDivergenceProbe } from '../adapters/tools/pg-divergence';
import { LocalPgTools } from '../adapters/tools/pg-tools';
import type { DivergenceProbe, ObjectStore, PgTools, ScratchDatabases } from '../backup/index';
import type { Clock } from '../core/clock';
import { FlagError } from '../core/errors';
import { registerUrlSecret } from '../core/redact';
import { loadTopology } from '../ops/offline-plan';
import { awsReadiness, readinessConfig } from '../ops/readiness';
import type { ReadinessReport } from '../readiness/index';
import { outputsCacheDir, readStacksOnline } from '../ops/stack-outputs';
import type { FlagSpecs } from './args';
import type { CommandContext } from './command';

/** Everything the AWS command branches reach the outside world through. Tests override fields and restore them. */
export interface AwsDeps {
  driver: (workDir: string, env: Record<string, string | undefined>) => StackDriver;
  adminDriver: (workDir: string, env: Record<string, string | undefined>) => AdminDriver;
  clients: (env: Record<string, string | undefined>) => AwsClientFactories;
  statusProbes: (env: Record<string, string | undefined>) => StatusProbes;
  /** The bucket store drill reports go to. */
  store: (region: string, bucket: string, env: Record<string, string | undefined>) => ObjectStore;
  /** SQL reach per region from `--primary-db-url` / `--secondary-db-url` (region → URL; `env` for PGSSLROOTCERT). */
  sqlProbe: (urls: Record<string, string>, env: Record<string, string | undefined>) => SqlProbe;
  /** PostgreSQL tools (pg_dump, pg_restore, scratch databases) and the row comparison of failback's divergent backup. */
  pgTools: (env: Record<string, string | undefined>) => PgTools & ScratchDatabases;
  divergenceProbe: (env: Record<string, string | undefined>) => DivergenceProbe;
  clock?: Clock;
  /** Bounded waits and retries of the adapters (tests shorten them; production uses the adapters' defaults). */
  waits?: { timeoutMs?: number; pollMs?: number };
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  stackRetry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Who takes the failover lease (user, host, pid); tests play two machines with it. */
  leaseIdentity: (ctx: CommandContext, command: string) => LeaseIdentity;
  /**
   * The failover's bots port options (the platform side: prober, webhook/endpoint reader, API roots). Default: the
   * API roots from `DR_TELEGRAM_API_URL` / `DR_DISCORD_API_URL` (the real APIs when unset); tests inject stubs.
   */
  bots: (env: Record<string, string | undefined>) => AwsPortsOptions['bots'];
  /**
   * One readiness run over both stacks (issue 14) for `dr failover`'s preflight and `dr status`: the readiness
   * engine over the AWS observer (ops/readiness.ts); tests replace it.
   */
  readiness: (ctx: CommandContext, built: BuiltTopology, stacks: Record<'primary' | 'secondary', StackLike> | undefined) => Promise<ReadinessReport>;
}

export const DEFAULT_AWS_DEPS: AwsDeps = {
  driver: (workDir) => automationDriver({ workDir }),
  adminDriver: (workDir) => automationAdminDriver({ workDir }),
  clients: () => defaultClients(),
  statusProbes: (env) => awsStatusProbes({ env }),
  store: (region, bucket, env) => new S3Store({ bucket, region, env }),
  sqlProbe: (urls, env) => pgSqlProbe(pgUrlResolver(urls, env)),
  pgTools: (env) => new LocalPgTools({ env }),
  divergenceProbe: (env) => new PgDivergenceProbe({ env }),
  readiness: async (ctx, built, stacks) =>
    awsReadiness({
      built,
      config: await readinessConfig(stacks),
      clients: awsDeps.clients(ctx.env),
      apis: { telegram: ctx.env.DR_TELEGRAM_API_URL, discord: ctx.env.DR_DISCORD_API_URL },
      ...(awsDeps.clock ? { clock: awsDeps.clock } : {}),
      ...(awsDeps.retry ? { retry: awsDeps.retry } : {}),
    }),
  leaseIdentity: (ctx, command) => ({ user: ctx.env.USER ?? ctx.env.LOGNAME ?? os.userInfo().username, host: os.hostname(), pid: process.pid, command }),
  bots: (env) => ({ apis: { ...(env.DR_TELEGRAM_API_URL ? { telegram: env.DR_TELEGRAM_API_URL } : {}), ...(env.DR_DISCORD_API_URL ? { discord: env.DR_DISCORD_API_URL } : {}) } }),
};

/** The live dependencies (a mutable copy: tests assign fields, then {@link resetAwsDeps}). */
export const awsDeps: AwsDeps = { ...DEFAULT_AWS_DEPS };

export function resetAwsDeps(): void {
  for (const k of Object.keys(awsDeps) as Array<keyof AwsDeps>) delete awsDeps[k];
  Object.assign(awsDeps, DEFAULT_AWS_DEPS);
}

/** Flags of the AWS stack commands (shared with `dr deploy`'s names and env variables). */
export const AWS_STACK_FLAGS: FlagSpecs = {
  'primary-stack': { type: 'string', description: 'AWS: the primary stack (name or org/project/stack)', env: 'DR_PRIMARY_STACK', default: 'primary' },
  'secondary-stack': { type: 'string', description: 'AWS: the secondary stack (name or org/project/stack)', env: 'DR_SECONDARY_STACK', default: 'secondary' },
  'work-dir': { type: 'string', description: 'AWS: the Pulumi project directory holding Pulumi.yaml (default: the working directory)', env: 'DR_WORK_DIR' },
};

/** `--break-lock` of the AWS commands that act on a failover (failover, failback). */
export const LEASE_FLAGS: FlagSpecs = {
  'break-lock': { type: 'boolean', description: `AWS: take over the failover lease (${LEASE_KEY} in the serving region's bucket) whose holder's lease has expired; refused while it is live; journaled` },
};

/**
 * The failover lease in `region`'s bucket for this command: the holder is this user@host and pid, a dead holder on
 * this host is taken over, an expired one elsewhere only with --break-lock.
 */
export function commandLease(ctx: CommandContext, built: BuiltTopology, region: string, command: string): S3Lease {
  return s3LeaseFor(built.aws, region, awsDeps.clients(ctx.env), {
    identity: awsDeps.leaseIdentity(ctx, command),
    breakLock: ctx.flags.bool('break-lock'),
    localPidAlive: (pid) => processStart(pid) !== undefined,
    ...(awsDeps.clock ? { clock: awsDeps.clock } : {}),
  });
}

/** The Pulumi project directory: --work-dir or the cwd; it must hold Pulumi.yaml. */
export function pulumiProjectDir(ctx: CommandContext): string {
  const dir = path.resolve(ctx.cwd, ctx.flags.string('work-dir') ?? '.');
  if (!fs.existsSync(path.join(dir, 'Pulumi.yaml'))) throw new FlagError(`--work-dir ${dir} is not a Pulumi project (no Pulumi.yaml); pass --work-dir, or --local for the local rehearsal`);
  return dir;
}

export function stackNames(ctx: CommandContext): { primary: string; secondary: string } {
  const primary = ctx.flags.required('primary-stack');
  const secondary = ctx.flags.required('secondary-stack');
  if (primary === secondary) throw new FlagError(`--primary-stack and --secondary-stack name the same stack '${primary}'`);
  return { primary, secondary };
}

/** The local copy of the failover journal: --journal-dir, or `.dr/failover-journal` in the Pulumi project. */
export function defaultJournalDir(ctx: CommandContext, workDir: string): string {
  const given = ctx.flags.string('journal-dir');
  return given ? path.resolve(ctx.cwd, given) : path.join(workDir, '.dr', 'failover-journal');
}

/**
 * SQL reach into each region: the optional `--primary-db-url` / `--secondary-db-url` (passwords registered for
 * redaction) where given and reachable, else the region's backup-job Lambda from inside the VPC (stack output
 * `backupFunctionName`). Undefined only when neither exists.
 */
export function sqlProbeFromFlags(ctx: CommandContext, built: BuiltTopology): SqlProbe | undefined {
  const urls: Record<string, string> = {};
  for (const r of built.aws.regions) {
    const u = ctx.flags.string(`${r.key}-db-url`);
    if (u) {
      try {
        new URL(u);
      } catch {
        throw new FlagError(`--${r.key}-db-url is not a URL; expected postgresql://user:password@host:5432/db (an RDS endpoint is verify-full against the RDS CA bundle)`);
      }
      urls[r.region] = u;
    }
  }
  for (const u of Object.values(urls)) registerUrlSecret(u);
  const direct = Object.keys(urls).length ? { probe: awsDeps.sqlProbe(urls, ctx.env), regions: Object.keys(urls) } : undefined;
  const functions = Object.fromEntries(built.aws.regions.map((r) => [r.region, r.backupFunctionName]));
  const lambda = awsDeps.clients(ctx.env).lambda;
  if (!lambda || !Object.values(functions).some(Boolean)) return direct?.probe;
  const viaLambda = new LambdaSqlProbe({ functions, lambda, ...(awsDeps.clock ? { clock: awsDeps.clock } : {}), ...(awsDeps.retry ? { retry: awsDeps.retry } : {}) });
  return fallbackSqlProbe(direct, viaLambda, (l) => ctx.out.info(l));
}

/** The `--primary-db-url` / `--secondary-db-url` URLs by region (what failback's divergent backup dumps and compares). */
export function dbUrlsFromFlags(ctx: CommandContext, built: BuiltTopology): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const r of built.aws.regions) {
    const u = ctx.flags.string(`${r.key}-db-url`);
    if (u) {
      registerUrlSecret(u);
      urls[r.region] = u;
    }
  }
  return urls;
}

/** The adapters' clock, waits and retries from {@link awsDeps} (tests shorten them), and the bots' platform side. */
export function awsTuning(env: Record<string, string | undefined> = {}): Pick<AwsPortsOptions, 'clock' | 'waits' | 'retry' | 'stackRetry' | 'bots'> {
  return {
    bots: awsDeps.bots(env),
    ...(awsDeps.clock ? { clock: awsDeps.clock } : {}),
    ...(awsDeps.waits ? { waits: awsDeps.waits } : {}),
    ...(awsDeps.retry ? { retry: awsDeps.retry } : {}),
    ...(awsDeps.stackRetry ? { stackRetry: awsDeps.stackRetry } : {}),
  };
}

export interface AwsSetup {
  built: BuiltTopology;
  driver: StackDriver;
  /** The selected stacks (absent when the outputs came from --outputs-dir). */
  stacks?: Record<'primary' | 'secondary', StackLike>;
  workDir: string;
  journalDir: string;
}

/** Read the topology (saved outputs with --outputs-dir, or online with an optional refresh) for the AWS commands. */
export async function awsSetup(ctx: CommandContext, opts: { refresh: boolean }): Promise<AwsSetup> {
  const names = stackNames(ctx);
  const workDir = pulumiProjectDir(ctx);
  const driver = awsDeps.driver(workDir, ctx.env);
  const outputsDir = ctx.flags.string('outputs-dir');
  const journalDir = defaultJournalDir(ctx, workDir);
  if (outputsDir) return { built: loadTopology(path.resolve(ctx.cwd, outputsDir), names), driver, workDir, journalDir };
  const online = await readStacksOnline(driver, names, { refresh: opts.refresh, log: (l) => ctx.out.info(l), cacheDir: outputsCacheDir(workDir) });
  return { built: online.built, driver, stacks: online.stacks, workDir, journalDir };
}
