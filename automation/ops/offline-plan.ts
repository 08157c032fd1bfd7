/**
 * Offline failover plan: `dr failover --dry-run --json --outputs-dir DIR`, where DIR holds `primary.json` and
 * `secondary.json` as printed by `pulumi stack output --json`. Builds the AWS topology from those outputs and runs
 * the engine's pure planner, so an operator can review exactly what a failover would touch — stack names, RDS
 * identifiers, the global datastore, secret ARNs, hosted zone and record — while the Pulumi backend or a region
 * is unreachable. Reads two local files; no network.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FlagError, RefusedError, UsageError } from '../core/errors';
import { FAILOVER_MODES, FailoverMode, FailoverPlan, Incident, INCIDENTS, isIncident, isMode, planFailover, planToJson } from '../failover/index';
import { buildAwsTopology, BuiltTopology, defaultDirection } from '../adapters/aws/topology';
import { botSecretArns } from '../adapters/aws/bot-probe';

export const OUTPUT_FILES = { primary: 'primary.json', secondary: 'secondary.json' } as const;

export interface OfflinePlanOptions {
  /** Pulumi stack names (e.g. `acme/bot-platform-dr/primary`); default `primary` / `secondary`. */
  stacks?: { primary?: string; secondary?: string };
  /**
   * What the caller knows about the current primary (e.g. its health endpoint did not answer). A planned
   * switchover needs the primary: `false` refuses it before planning, as the engine's preflight would.
   */
  primaryReachable?: boolean;
  /** Region losing the role / taking over; default: from the stack whose `role` output is `primary`. */
  from?: string;
  to?: string;
}

/** Read `DIR/<file>` as JSON; a missing or unparsable file is a {@link UsageError} naming it. */
export function readOutputsFile(dir: string, file: string): unknown {
  const p = path.join(dir, file);
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const stack = file.replace(/\.json$/, '');
    if (code === 'ENOENT') throw new UsageError(`missing outputs: ${p} does not exist (save it with \`pulumi stack output --json -s ${stack} > ${p}\`)`);
    throw new UsageError(`cannot read outputs ${p}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`outputs ${p} is not JSON: ${(err as Error).message}`);
  }
}

/** Load both stacks' outputs from DIR and build the validated AWS topology (E1's {@link buildAwsTopology}). */
export function loadTopology(dir: string, stacks: OfflinePlanOptions['stacks'] = {}): BuiltTopology {
  if (!dir) throw new FlagError('--outputs-dir is required for an offline plan');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new FlagError(`--outputs-dir ${dir} is not a directory`);
  const primary = readOutputsFile(dir, OUTPUT_FILES.primary);
  const secondary = readOutputsFile(dir, OUTPUT_FILES.secondary);
  for (const [file, doc] of [[OUTPUT_FILES.primary, primary], [OUTPUT_FILES.secondary, secondary]] as const) {
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${path.join(dir, file)}: not a JSON object of stack outputs (expected \`pulumi stack output --json\`)`);
  }
  return buildAwsTopology({
    primary: { name: stacks.primary || 'primary', outputs: primary as Record<string, unknown> },
    secondary: { name: stacks.secondary || 'secondary', outputs: secondary as Record<string, unknown> },
  });
}

/** Plan a failover from saved stack outputs. Bad input → {@link UsageError}; planned with the primary down → {@link RefusedError}. */
export function planFromOutputsDir(dir: string, mode: string, incident: string, opts: OfflinePlanOptions = {}): FailoverPlan {
  // Flags first: a bad mode or incident fails before any file is read.
  if (!isMode(mode)) throw new UsageError(`mode '${mode}' is not allowed; allowed: ${FAILOVER_MODES.join(', ')}`);
  if (!isIncident(incident)) throw new FlagError(`--incident '${incident}' is not allowed; allowed: ${INCIDENTS.join(', ')}`);
  const built = loadTopology(dir, opts.stacks);
  const regions = built.aws.regions.map((r) => r.region);
  let dir2 = defaultDirection(built.aws);
  if (opts.from || opts.to) {
    const from = opts.from ?? regions.find((r) => r !== opts.to)!;
    const to = opts.to ?? regions.find((r) => r !== from)!;
    for (const [flag, r] of [['--from', from], ['--to', to]] as const) {
      if (!regions.includes(r)) throw new UsageError(`${flag} ${r} is not one of the stacks' regions (${regions.join(', ')})`);
    }
    dir2 = { from, to };
  }
  if (!dir2) {
    const roles = built.aws.regions.map((r) => `${r.stack} (${r.region}) has role '${r.role}'`).join(', ');
    throw new UsageError(`the outputs do not name exactly one primary: ${roles}; say which region is lost with --from <region> (e.g. after an earlier failover)`);
  }
  const fromRegion = dir2.from;
  if (mode === 'planned' && opts.primaryReachable === false) {
    throw new RefusedError(`--planned refused: the primary in ${fromRegion} is unreachable, so a switchover cannot guarantee zero data loss; use --unplanned to fail over anyway`);
  }
  // The bots move with a datacenter failover when the stacks output their secrets (the AWS bots port's own rule).
  const bots = botSecretArns(built.aws).length ? {} : { bots: 'the stacks output no bot-token secrets (botTokenSecretArns is empty on both)' };
  return planFailover({ mode: mode as FailoverMode, incident: incident as Incident, from: dir2.from, to: dir2.to, topology: built.topology, unavailable: bots });
}

/** The JSON shape `{ mode, incident, steps: [{ name, action, target }] }`, plus from/to and why/whether each step runs. */
export function offlinePlanJson(plan: FailoverPlan): ReturnType<typeof planToJson> & { offline: true } {
  return { ...planToJson(plan), offline: true };
}
