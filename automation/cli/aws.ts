/**
 * Wiring shared by the AWS branches of `dr failover|failback|status|drill`: the injectable dependencies (the
 * Automation API driver, AWS client factories, clock and wait knobs — tests replace them with a fake workspace and
 * aws-sdk-client-mock clients), reading both stacks' outputs (refresh first), the failover direction, the
 * last-known outputs cache and the journal search for `--resume`.
 *
 * No AWS call is made here directly: everything goes through E1's adapters or E2's probes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultClients, AwsClientFactories } from '../adapters/aws/index';
import { FileJournal } from '../adapters/tools/file-journal';
import { S3Journal } from '../adapters/aws/s3-journal';
import { automationDriver } from '../adapters/aws/automation-workspace';
import { pgSqlProbe, pgUrlResolver } from '../adapters/aws/pg-probe';
import type { SqlProbe } from '../adapters/aws/rds';
import type { StackDriver, StackLike } from '../adapters/aws/stacks';
import { buildAwsTopology, BuiltTopology, defaultDirection, plainOutputs } from '../adapters/aws/topology';
import { S3Store } from '../adapters/aws/s3-store';
import { OperationError, UsageError } from '../core/errors';
import { redact } from '../core/redact';
import type { FlagSpecs } from './args';
import type { CommandContext } from './command';
import { findResumable } from '../failover/journal';
import type { FailoverMode, Incident } from '../failover/index';
import type { ObjectStore } from '../backup/ports';
import { AdminDriver, automationAdminDriver } from '../adapters/aws/stack-admin';
import { awsStatusProbes } from '../adapters/aws/status-probes';
import type { StatusProbes } from '../ops/status';
import type { Clock } from '../core/clock';
import { errorSummary } from '../core/errors';

/** Everything the AWS command branches reach the outside world through. Tests override fields and restore them. */
export interface AwsDeps {
  driver: (workDir: string, env: Record<string, string | undefined>) => StackDriver;
  adminDriver: (workDir: string, env: Record<string, string | undefined>) => AdminDriver;
  clients: (env: Record<string, string | undefined>) => AwsClientFactories;
  statusProbes: (env: Record<string, string | undefined>) => StatusProbes;
  /** The bucket store drill reports go to. */
  store: (region: string, bucket: string, env: Record<string, string | undefined>) => ObjectStore;
  /** SQL reach per region from `--primary-db-url` / `--secondary-db-url` (region → URL). */
  sqlProbe: (urls: Record<string, string>) => SqlProbe;
  clock?: Clock;
  /** Bounded waits and retries of the adapters (tests shorten them; production uses the adapters' defaults). */
  waits?: { timeoutMs?: number; pollMs?: number };
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  stackRetry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
}

export const DEFAULT_AWS_DEPS: AwsDeps = {
  driver: (workDir) => automationDriver({ workDir }),
  adminDriver: (workDir) => automationAdminDriver({ workDir }),
  clients: () => defaultClients(),
  statusProbes: (env) => awsStatusProbes({ env }),
  store: (region, bucket, env) => new S3Store({ bucket, region, env }),
  sqlProbe: (urls) => pgSqlProbe(pgUrlResolver(urls)),
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

/** The Pulumi project directory: --work-dir or the cwd; it must hold Pulumi.yaml. */
export function pulumiProjectDir(ctx: CommandContext): string {
  const dir = path.resolve(ctx.cwd, ctx.flags.string('work-dir') ?? '.');
  if (!fs.existsSync(path.join(dir, 'Pulumi.yaml'))) throw new UsageError(`--work-dir ${dir} is not a Pulumi project (no Pulumi.yaml); pass --work-dir, or --local for the local rehearsal`);
  return dir;
}

export function stackNames(ctx: CommandContext): { primary: string; secondary: string } {
  const primary = ctx.flags.required('primary-stack');
  const secondary = ctx.flags.required('secondary-stack');
  if (primary === secondary) throw new UsageError(`--primary-stack and --secondary-stack name the same stack '${primary}'`);
  return { primary, secondary };
}

/** Where the last outputs read online are kept, so a later plan works while the Pulumi backend is down. */
export function outputsCacheDir(workDir: string): string {
  return path.join(workDir, '.dr', 'outputs');
}

export interface OnlineOutputs {
  built: BuiltTopology;
  /** Stack name → why its refresh failed (its last recorded outputs were used instead). */
  refreshFailed: Record<string, string>;
  stacks: Record<'primary' | 'secondary', StackLike>;
}

/**
 * Select both stacks, refresh each (a region that does not answer makes its refresh fail: its last recorded
 * outputs are used, and the failure is reported), read the outputs and build the validated topology. The plain
 * (non-secret) outputs are cached under `cacheDir` as `primary.json` / `secondary.json`, in the
 * `pulumi stack output --json` shape `--outputs-dir` reads.
 */
export async function readStacksOnline(
  driver: StackDriver,
  names: { primary: string; secondary: string },
  opts: { refresh: boolean; log: (line: string) => void; cacheDir?: string },
): Promise<OnlineOutputs> {
  const stacks = {} as Record<'primary' | 'secondary', StackLike>;
  const outputs = {} as Record<'primary' | 'secondary', Record<string, unknown>>;
  const refreshFailed: Record<string, string> = {};
  for (const key of ['primary', 'secondary'] as const) {
    const name = names[key];
    let s: StackLike;
    try {
      s = await driver.select(name);
    } catch (err) {
      throw new OperationError(
        redact(`cannot select stack ${name} (${errorSummary(err)}): the Pulumi backend does not answer or the stack does not exist; plan offline from saved outputs with --outputs-dir DIR${opts.cacheDir ? ` (the last outputs read are in ${opts.cacheDir})` : ''}`),
      );
    }
    stacks[key] = s;
    if (opts.refresh) {
      try {
        await s.refresh({ message: `dr: refresh ${name} before deciding`, onOutput: lineSplitter(`[${name} refresh]`, opts.log) });
      } catch (err) {
        refreshFailed[name] = redact(errorSummary(err));
        opts.log(`refresh of ${name} failed (${refreshFailed[name]}); using its last recorded outputs`);
      }
    }
    outputs[key] = plainOutputs(await s.outputs());
  }
  const built = buildAwsTopology({ primary: { name: names.primary, outputs: outputs.primary }, secondary: { name: names.secondary, outputs: outputs.secondary } });
  if (opts.cacheDir) {
    try {
      fs.mkdirSync(opts.cacheDir, { recursive: true, mode: 0o700 });
      for (const key of ['primary', 'secondary'] as const) fs.writeFileSync(path.join(opts.cacheDir, `${key}.json`), JSON.stringify(outputs[key], null, 2) + '\n', { mode: 0o600 });
    } catch (err) {
      opts.log(`could not cache the outputs in ${opts.cacheDir}: ${errorSummary(err)}`);
    }
  }
  return { built, refreshFailed, stacks };
}

/** Split streamed command output into redacted, prefixed log lines. */
export function lineSplitter(prefix: string, log: (line: string) => void): (out: string) => void {
  return (out: string) => out.split(/\r?\n/).forEach((l) => l.trim() && log(redact(`${prefix} ${l}`)));
}

/**
 * Which region is lost (`from`) and which takes over (`to`): `--from`/`--to` when given, else from the stack whose
 * `role` output is `primary`. After an earlier failover both stacks say `secondary`; then the stack whose config
 * has `database.promoted = true` serves (when the stacks can be asked), else the operator names it with --from.
 */
export async function failoverDirection(
  built: BuiltTopology,
  given: { from?: string; to?: string },
  promotedRegion?: () => Promise<string | undefined>,
): Promise<{ from: string; to: string }> {
  const regions = built.aws.regions.map((r) => r.region);
  if (given.from || given.to) {
    const from = given.from ?? regions.find((r) => r !== given.to)!;
    const to = given.to ?? regions.find((r) => r !== from)!;
    for (const [flag, r] of [['--from', from], ['--to', to]] as const) {
      if (!regions.includes(r)) throw new UsageError(`${flag} ${r} is not one of the stacks' regions (${regions.join(', ')})`);
    }
    if (from === to) throw new UsageError(`--from and --to name the same region ${from}`);
    return { from, to };
  }
  const d = defaultDirection(built.aws);
  if (d) return d;
  const promoted = promotedRegion ? await promotedRegion().catch(() => undefined) : undefined;
  if (promoted && regions.includes(promoted)) return { from: promoted, to: regions.find((r) => r !== promoted)! };
  const roles = built.aws.regions.map((r) => `${r.stack} (${r.region}) has role '${r.role}'`).join(', ');
  throw new UsageError(`the outputs do not name exactly one primary: ${roles}; say which region is lost with --from <region>`);
}

/** The region whose stack has `database.promoted = true` (it serves after an earlier failover), if exactly one. */
export async function promotedRegionOf(built: BuiltTopology, stacks: Record<'primary' | 'secondary', StackLike>): Promise<string | undefined> {
  const hits: string[] = [];
  for (const r of built.aws.regions) {
    if ((await stacks[r.key].getConfig('bot-platform-dr:database.promoted', true)) === 'true') hits.push(r.region);
  }
  return hits.length === 1 ? hits[0] : undefined;
}

/**
 * The latest unfinished failover for `--resume`: looked for in the local journal copy first, then in each region's
 * bucket (another operator's machine may have started it). Resolves its direction, or undefined.
 */
export async function findResumableAws(
  built: BuiltTopology,
  journalDir: string,
  s3: AwsClientFactories['s3'],
  log: (line: string) => void,
): Promise<{ id: string; mode: FailoverMode; incident: Incident; from: string; to: string } | undefined> {
  const local = await findResumable(new FileJournal(journalDir));
  if (local) return local;
  for (const r of built.aws.regions) {
    try {
      const hit = await findResumable(new S3Journal({ bucket: r.bucketName, s3: s3(r.region), local: new FileJournal(journalDir), log }));
      if (hit) return hit;
    } catch (err) {
      log(`journal in s3://${r.bucketName} not readable: ${redact(errorSummary(err))}`);
    }
  }
  return undefined;
}
