/**
 * Reading both stacks' outputs for the AWS operations: select and refresh each stack (a region that does not answer
 * keeps its last recorded outputs), build the validated topology and cache the plain outputs for offline plans;
 * the failover direction; the journal search for `--resume` (locally, then in each region's bucket).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AwsClientFactories } from '../adapters/aws/index';
import { S3Journal } from '../adapters/aws/s3-journal';
import type { StackDriver, StackLike } from '../adapters/aws/stacks';
import { buildAwsTopology, type BuiltTopology, defaultDirection, plainOutputs } from '../adapters/aws/topology';
import { FileJournal } from '../adapters/tools/file-journal';
import { errorSummary, FlagError, OperationError, UsageError } from '../core/errors';
import { redact } from '../core/redact';
import { type FailoverMode, findResumable, type Incident } from '../failover/index';

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
    if (from === to) throw new FlagError(`--from and --to name the same region ${from}`);
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
