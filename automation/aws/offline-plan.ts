/**
 * Offline failover plan: `dr failover --dry-run --json --outputs-dir DIR`, where DIR holds `primary.json` and
 * `secondary.json` as printed by `pulumi stack output --json`. Builds the AWS topology from those outputs and runs
 * the engine's pure planner, so an operator can review exactly what a failover would touch — stack names, RDS
 * identifiers, the global datastore, secret ARNs, hosted zone and record — while the Pulumi backend or a region
 * is unreachable. Reads two local files; no network.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RefusedError, UsageError } from '../cli/errors';
import { FAILOVER_MODES, INCIDENTS, isIncident, isMode, FailoverMode, Incident } from '../failover/steps';
import { FailoverPlan, planFailover, planToJson, Topology } from '../failover/plan';
import { checkPair, parseStackOutputs, replicatedSecretsInto, StackOutputs, StackPair } from './outputs';

export const OUTPUT_FILES = { primary: 'primary.json', secondary: 'secondary.json' } as const;

export interface OfflinePlanOptions {
  /** Pulumi stack names (e.g. `acme/bot-platform-dr/primary`); default `primary` / `secondary`. */
  stacks?: { primary?: string; secondary?: string };
  /**
   * What the caller knows about the current primary (e.g. its health endpoint did not answer). A planned
   * switchover needs the primary: `false` refuses it before planning, as the engine's preflight would.
   */
  primaryReachable?: boolean;
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

/** Load and check both stacks' outputs from DIR. */
export function loadPair(dir: string, stacks: OfflinePlanOptions['stacks'] = {}): { pair: StackPair; files: { primary: string; secondary: string } } {
  if (!dir) throw new UsageError('--outputs-dir is required for an offline plan');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`--outputs-dir ${dir} is not a directory`);
  const files = { primary: path.join(dir, OUTPUT_FILES.primary), secondary: path.join(dir, OUTPUT_FILES.secondary) };
  const primary = parseStackOutputs(readOutputsFile(dir, OUTPUT_FILES.primary), files.primary);
  const secondary = parseStackOutputs(readOutputsFile(dir, OUTPUT_FILES.secondary), files.secondary);
  const pair: StackPair = {
    primary: { stack: stacks.primary || 'primary', outputs: primary },
    secondary: { stack: stacks.secondary || 'secondary', outputs: secondary },
  };
  checkPair(pair, files);
  return { pair, files };
}

/** The engine's topology for a DR pair (pure). Each region lists the secrets replicated into it from the other. */
export function topologyFromPair(pair: StackPair): Topology {
  const regions = [pair.primary, pair.secondary].map(({ stack, outputs }, i) => {
    const other = (i === 0 ? pair.secondary : pair.primary).outputs;
    return {
      name: outputs.region,
      stack,
      database: outputs.dbIdentifier,
      ...(outputs.cacheReplicationGroupId ? { cache: outputs.cacheReplicationGroupId } : {}),
      secrets: replicatedSecretsInto(other, outputs.region),
    };
  });
  const p = pair.primary.outputs;
  const s = pair.secondary.outputs;
  const recordName = p.recordName ?? s.recordName;
  const zone = p.hostedZoneId ?? s.hostedZoneId;
  const topology: Topology = {
    regions,
    dns: { ...(zone ? { zone } : {}), records: recordName ? [{ name: recordName, service: 'platform' }] : [] },
  };
  const globalId = p.globalDatastoreId ?? s.globalDatastoreId;
  if (globalId) topology.cacheGlobalId = globalId;
  return topology;
}

/** Which stack serves now: exactly one of the pair must have role `primary`. */
export function currentDirection(pair: StackPair, files: { primary: string; secondary: string }): { from: StackOutputs; to: StackOutputs } {
  const p = pair.primary.outputs;
  const s = pair.secondary.outputs;
  if (p.role === 'primary' && s.role === 'secondary') return { from: p, to: s };
  if (p.role === 'secondary' && s.role === 'primary') return { from: s, to: p }; // after an earlier failover: fail back
  throw new UsageError(
    `the outputs do not name exactly one primary: ${files.primary} has role '${p.role}', ${files.secondary} has role '${s.role}' (a failover may be half done: run \`dr failover --resume\` or \`dr status\`)`,
  );
}

/** Plan a failover from saved stack outputs. Bad input → {@link UsageError}; planned with the primary down → {@link RefusedError}. */
export function planFromOutputsDir(dir: string, mode: string, incident: string, opts: OfflinePlanOptions = {}): FailoverPlan {
  // Flags first: a bad mode or incident fails before any file is read.
  if (!isMode(mode)) throw new UsageError(`mode '${mode}' is not allowed; allowed: ${FAILOVER_MODES.join(', ')}`);
  if (!isIncident(incident)) throw new UsageError(`--incident '${incident}' is not allowed; allowed: ${INCIDENTS.join(', ')}`);
  const { pair, files } = loadPair(dir, opts.stacks);
  const { from, to } = currentDirection(pair, files);
  if (mode === 'planned' && opts.primaryReachable === false) {
    throw new RefusedError(`--planned refused: the primary in ${from.region} is unreachable, so a switchover cannot guarantee zero data loss; use --unplanned to fail over anyway`);
  }
  return planFailover({ mode: mode as FailoverMode, incident: incident as Incident, from: from.region, to: to.region, topology: topologyFromPair(pair) });
}

/** The JSON shape `{ mode, incident, steps: [{ name, action, target }] }`, plus from/to and why/whether each step runs. */
export function offlinePlanJson(plan: FailoverPlan): ReturnType<typeof planToJson> & { offline: true } {
  return { ...planToJson(plan), offline: true };
}
