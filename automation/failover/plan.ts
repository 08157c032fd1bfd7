/**
 * Pure failover planning: `(mode, incident, from, to, topology) → ordered steps`, each with what it does, what it
 * touches (concrete identifiers) and why it runs or is skipped. Dry-run prints exactly this plan; the engine
 * executes it. No I/O here.
 */

import { FlagError, UsageError } from '../core/errors';
import { FailoverMode, Incident, INCIDENTS, FAILOVER_MODES, STEP_NAMES, StepName, incidentMoves, isIncident, isMode } from './step-names';

/** One region's identifiers. */
export interface RegionTopology {
  /** Region name used everywhere else (`a`/`b` locally, `eu-west-1` on AWS). */
  name: string;
  /** Pulumi stack of this region (e.g. `org/bot-platform/secondary`); absent locally. */
  stack?: string;
  /** Database identifier (RDS instance id / local `postgres@127.0.0.1:5433`). */
  database: string;
  /** Cache identifier (ElastiCache replication group id / local `redis@127.0.0.1:6380`). */
  cache?: string;
  /** Secret ids/ARNs replicated into this region (bot tokens, DB credentials). */
  secrets?: string[];
}

/** A DNS service name and which tier it serves. */
export interface DnsRecordRef {
  /** Record name (`bot.example.com.` / local `platform`). */
  name: string;
  /** `platform` moves with a datacenter failover; `database`/`cache` with that tier's incident (and datacenter). */
  service: 'platform' | 'database' | 'cache';
}

/** What a failover can touch. Built from stack outputs on AWS, from the local environment's state locally. */
export interface Topology {
  regions: RegionTopology[];
  dns: {
    /** Hosted zone id/name; absent locally. */
    zone?: string;
    records: DnsRecordRef[];
  };
  /** ElastiCache Global Datastore id, when there is one. */
  cacheGlobalId?: string;
}

/**
 * Capabilities the ports declared unavailable (their {@link Capability.unavailable} text). Steps needing them are
 * planned as skipped with that reason. `cacheFence` covers the optional cache fence pair.
 */
/**
 * What ports declare unavailable (no counterpart here), and `stacksUnreachable`: stacks that exist but do not answer
 * now. `bots`: the failover has no bots port (or it is unavailable): no `active_region` is written, no bot is verified.
 */
export type Unavailable = Partial<Record<'database' | 'cache' | 'cacheFence' | 'secrets' | 'dns' | 'stacks' | 'stacksUnreachable' | 'bots', string>>;

export interface PlanRequest {
  mode: FailoverMode;
  incident: Incident;
  /** Region losing the role. */
  from: string;
  /** Region taking over. */
  to: string;
  topology: Topology;
  unavailable?: Unavailable;
  /** For the step texts only. */
  limits?: Partial<FailoverLimits>;
}

export interface FailoverLimits {
  /** Planned mode refuses when the standby lags more than this. */
  maxLagSeconds: number;
  /** Planned mode aborts (and unfences) when the standby has not replayed the final WAL position by then. */
  catchUpTimeoutMs: number;
  /**
   * Unplanned mode, when the old primary still answers: how long the standby may take to replay its final WAL
   * position (after the fence) before it is promoted anyway, with the remaining lag as the estimated loss.
   */
  unplannedCatchUpTimeoutMs: number;
}

export const DEFAULT_LIMITS: FailoverLimits = { maxLagSeconds: 30, catchUpTimeoutMs: 60_000, unplannedCatchUpTimeoutMs: 10_000 };

export type StepTarget = Record<string, string | string[]>;

export interface PlanStep {
  name: StepName;
  /** Whether the step runs in this plan (false: skipped, `reason` says why). */
  runs: boolean;
  /** What it does, for people. */
  action: string;
  /** Concrete identifiers it touches. */
  target: StepTarget;
  /** Why it runs, or why it is skipped for this mode/incident/environment. */
  reason: string;
}

export interface FailoverPlan {
  mode: FailoverMode;
  incident: Incident;
  from: string;
  to: string;
  steps: PlanStep[];
}

/** Validate a request; every problem is a {@link UsageError} naming the key and what is allowed. */
export function validatePlanRequest(req: { mode: string; incident: string; from: string; to: string; topology: Topology }): void {
  if (!isMode(req.mode)) throw new UsageError(`mode '${req.mode}' is not allowed; allowed: ${FAILOVER_MODES.join(', ')}`);
  if (!isIncident(req.incident)) throw new FlagError(`--incident '${req.incident}' is not allowed; allowed: ${INCIDENTS.join(', ')}`);
  const names = req.topology.regions.map((r) => r.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new UsageError(`topology names region '${dup}' twice: the two stacks must be in different regions`);
  for (const [key, region] of [['from', req.from], ['to', req.to]] as const) {
    if (!names.includes(region)) throw new UsageError(`${key} region '${region}' is not in the topology; known regions: ${names.join(', ') || '(none)'}`);
  }
  if (req.from === req.to) throw new UsageError(`from and to are the same region ('${req.from}'): a failover needs two regions`);
  const moves = incidentMoves(req.incident);
  const to = regionOf(req.topology, req.to);
  const from = regionOf(req.topology, req.from);
  if (moves.database && (!to.database || !from.database)) throw new UsageError(`incident '${req.incident}' moves the database, but the topology has no database id for region '${!to.database ? req.to : req.from}'`);
  if (req.incident === 'cache' && (!to.cache || !from.cache)) throw new UsageError(`incident 'cache' moves the cache, but the topology has no cache id for region '${!to.cache ? req.to : req.from}'`);
}

export function regionOf(topology: Topology, name: string): RegionTopology {
  const r = topology.regions.find((x) => x.name === name);
  if (!r) throw new UsageError(`region '${name}' is not in the topology`);
  return r;
}

/** What every step's planner reads: the request, resolved once. */
interface PlanContext {
  mode: FailoverMode;
  incident: Incident;
  topology: Topology;
  un: Unavailable;
  limits: FailoverLimits;
  from: RegionTopology;
  to: RegionTopology;
  moves: ReturnType<typeof incidentMoves>;
  planned: boolean;
  stacks: string[];
  services: Set<DnsRecordRef['service']>;
  records: string[];
  cacheMoves: boolean;
}

type StepPlanner = (c: PlanContext, add: (name: StepName, runs: boolean, action: string, target: StepTarget, reason: string) => void) => void;

const planPreflight: StepPlanner = (c, add) => {
  const { limits, from, to, moves, planned } = c;
  const pfTarget: StepTarget = { from: from.name, to: to.name };
  if (moves.database) Object.assign(pfTarget, { from_database: from.database, to_database: to.database });
  if (moves.cache && from.cache && to.cache) Object.assign(pfTarget, { from_cache: from.cache, to_cache: to.cache });
  add(
    'preflight',
    true,
    planned
      ? `check that ${from.name} answers, that ${to.name} is a healthy standby and that it lags at most ${limits.maxLagSeconds}s`
      : `check that ${to.name} is a healthy standby and record the last known replication lag as the estimated data loss`,
    pfTarget,
    planned ? 'a planned switchover refuses to start unless it can lose nothing' : 'an unplanned failover must know what it is about to lose',
  );
};

const planFence: StepPlanner = (c, add) => {
  const { incident, un, from, moves, planned, cacheMoves } = c;
  const fenceTarget: StepTarget = { region: from.name };
  const fenceTiers: string[] = [];
  if (moves.database && !un.database) {
    fenceTarget.database = from.database;
    fenceTiers.push(`database ${from.database}`);
  }
  const cacheFence = cacheMoves && !un.cacheFence;
  if (cacheFence && from.cache) {
    fenceTarget.cache = from.cache;
    fenceTiers.push(`cache ${from.cache}`);
  }
  if (fenceTiers.length === 0) {
    add('fence', false, 'fence the old primary', fenceTarget, un.cacheFence && moves.cache && !moves.database ? `skipped: ${un.cacheFence}` : `skipped: nothing to fence for a ${incident} incident`);
  } else {
    add(
      'fence',
      true,
      planned
        ? `make ${fenceTiers.join(' and ')} in ${from.name} refuse application writes (read-only, application sessions terminated, new application connections refused; replication keeps streaming)`
        : `fence ${fenceTiers.join(' and ')} in ${from.name} if it answers; otherwise record a pending fence that the split-brain guard applies as soon as it is reachable`,
      fenceTarget,
      'split-brain guard: the old primary must never take writes again through the service name',
    );
  }
};

const planCatchUp: StepPlanner = (c, add) => {
  const { incident, limits, from, to, moves, planned } = c;
  if (!moves.database) {
    add('catch-up', false, 'wait for the standby to replay the primary\'s final WAL position', { region: to.name }, `skipped: a ${incident} incident leaves the database where it is`);
  } else if (!planned) {
    add(
      'catch-up',
      true,
      `if ${from.name} still answers (fenced above): read ${from.database}'s final WAL position and wait up to ${Math.round(limits.unplannedCatchUpTimeoutMs / 1000)}s until ${to.database} has replayed it, then promote anyway; if it does not answer, skip (the estimated data loss is recorded)`,
      { region: to.name, database: to.database, source: from.database },
      'an unplanned failover keeps every write it can: a primary that still answers is caught up, within a bound, before the standby is promoted',
    );
  } else {
    add(
      'catch-up',
      true,
      `read ${from.database}'s final WAL position and wait up to ${Math.round(limits.catchUpTimeoutMs / 1000)}s until ${to.database} has replayed it; on timeout unfence ${from.name} and abort`,
      { region: to.name, database: to.database, source: from.database },
      'planned switchover loses nothing: promote only once every acknowledged write is on the standby',
    );
  }
};

const planPromoteDatabase: StepPlanner = (c, add) => {
  const { incident, un, to, moves } = c;
  const pdTarget: StepTarget = { region: to.name, database: to.database };
  if (!moves.database) add('promote-database', false, `promote ${to.database}`, pdTarget, `skipped: a ${incident} incident leaves the database where it is`);
  else if (un.database) add('promote-database', false, `promote ${to.database}`, pdTarget, `skipped: ${un.database}`);
  else add('promote-database', true, `promote standby ${to.database} in ${to.name} to a writable primary, directly (the stacks follow in reconcile)`, pdTarget, `${to.name} takes over the database`);
};

const planPromoteCache: StepPlanner = (c, add) => {
  const { incident, topology, un, from, to, moves, planned } = c;
  const pcTarget: StepTarget = { region: to.name };
  if (to.cache) pcTarget.cache = to.cache;
  if (topology.cacheGlobalId) pcTarget.global_datastore = topology.cacheGlobalId;
  if (!moves.cache) add('promote-cache', false, 'promote the cache', pcTarget, `skipped: a ${incident} incident leaves the cache where it is`);
  else if (un.cache) add('promote-cache', false, 'promote the cache', pcTarget, `skipped: ${un.cache}`);
  else if (!to.cache || !from.cache) add('promote-cache', false, 'promote the cache', pcTarget, `skipped: the topology has no cache replica in ${to.cache ? from.name : to.name}`);
  else
    add(
      'promote-cache',
      true,
      `promote cache ${to.cache} in ${to.name} to primary${topology.cacheGlobalId ? ` (global datastore ${topology.cacheGlobalId})` : ''}${planned ? ', coordinated with the old primary' : ''}`,
      pcTarget,
      `${to.name} takes over the cache`,
    );
};

const planPromoteSecrets: StepPlanner = (c, add) => {
  const { incident, un, from, to, moves } = c;
  const secrets = to.secrets ?? [];
  const psTarget: StepTarget = { region: to.name, secrets };
  const name = 'promote-secrets';
  const what = 'make the replicated secrets writable';
  if (!moves.app) return add(name, false, what, psTarget, `skipped: a ${incident} incident leaves the application (and its secrets) in ${from.name}`);
  const secretsRun = !un.secrets && secrets.length > 0;
  const botsRun = !un.bots;
  if (!secretsRun && !botsRun) return add(name, false, what, psTarget, `skipped: ${un.secrets ?? `the topology lists no replicated secrets in ${to.name}`}`);
  if (botsRun) psTarget.active_region = to.name;
  const actions = [
    ...(secretsRun ? [`stop replication of ${secrets.length} secret(s) into ${to.name} so they become writable there`] : []),
    ...(botsRun ? [`set active_region=${to.name} in each bot's secret (${from.name}'s copy first when it answers, else a pending fence for the split-brain guard; then ${to.name}'s), so only ${to.name}'s workers consume updates`] : []),
  ];
  add(name, true, actions.join('; then '), psTarget, `${to.name} must be able to rotate its own bot tokens and credentials${botsRun ? `, and its bot workers must be the only consumers of each token before traffic moves` : ''}`);
};

const planSwitchDns: StepPlanner = (c, add) => {
  const { topology, un, to, services, records } = c;
  const dnsTarget: StepTarget = { region: to.name, records };
  if (topology.dns.zone) dnsTarget.zone = topology.dns.zone;
  if (un.dns) add('switch-dns', false, 'point the service names at the new region', dnsTarget, `skipped: ${un.dns}`);
  else if (records.length === 0) add('switch-dns', false, 'point the service names at the new region', dnsTarget, `skipped: no DNS record serves the ${[...services].join('/')} service`);
  else add('switch-dns', true, `point ${records.join(', ')} at ${to.name} now (no health-check wait) and wait until in sync`, dnsTarget, 'traffic follows the service names; they never point back at the old primary');
};

const planVerify: StepPlanner = (c, add) => {
  const { un, to, moves, records, cacheMoves } = c;
  const vTarget: StepTarget = { region: to.name };
  if (moves.database) vTarget.database = to.database;
  if (cacheMoves && to.cache) vTarget.cache = to.cache;
  if (records.length && !un.dns) vTarget.records = records;
  const bots = moves.app && !un.bots;
  if (bots) vTarget.bots = 'every bot';
  const botCheck = bots ? `, and for every bot: its secret in ${to.name} says active_region=${to.name}, its updates go to the shared name or ${to.name} (never the lost region), its active token answers from ${to.name}` : '';
  add('verify', true, `check that ${to.name} accepts writes on every moved tier and that the service names resolve to it${botCheck}`, vTarget, 'a failover is done when traffic can be served, not when commands returned');
};

const planRecord: StepPlanner = (c, add) => {
  const { from, to, planned } = c;
  add(
    'record',
    true,
    `journal the new roles (${to.name} serves, ${from.name} ${planned ? 'handed over' : 'is lost'}) and tell people`,
    { survivor: to.name, lost: from.name },
    'the journal is the record of the new roles until the stacks say so too',
  );
};

const planReconcile: StepPlanner = (c, add) => {
  const { un, from, to, stacks } = c;
  const target: StepTarget = { survivor: to.name, lost: from.name };
  if (stacks.length) target.stacks = stacks;
  if (!stacks.length || un.stacks) {
    add('reconcile', false, 're-target the infrastructure as code', target, `skipped: ${un.stacks ?? 'no stacks in this environment'}${/journal/.test(un.stacks ?? '') ? '' : ' (the journal records the roles)'}`);
    return;
  }
  add(
    'reconcile',
    true,
    `after traffic moved: set the stacks' config (${to.stack ?? to.name}: primary/promoted, ${from.stack ?? from.name}: secondary), harden the survivor (Multi-AZ, backups), and pulumi up ${to.stack ?? to.name} without rebuilding the job image`,
    target,
    un.stacksUnreachable
      ? `the Pulumi backend does not answer (${un.stacksUnreachable}): the step stays pending, traffic keeps being served, and --resume finishes it`
      : 'a later deploy or failback must start from the new roles, not undo them; off the critical path, so the RTO does not wait on the Pulumi backend',
  );
};

/** One planner per step, in execution order. */
const PLANNERS: StepPlanner[] = [planPreflight, planFence, planCatchUp, planPromoteDatabase, planPromoteCache, planPromoteSecrets, planSwitchDns, planVerify, planRecord, planReconcile];

/** Plan a failover. Pure: same input, same plan. Throws {@link UsageError} on an invalid request. */
export function planFailover(req: PlanRequest): FailoverPlan {
  validatePlanRequest(req);
  const { mode, incident, topology } = req;
  const from = regionOf(topology, req.from);
  const to = regionOf(topology, req.to);
  const moves = incidentMoves(incident);
  const services = new Set<DnsRecordRef['service']>([
    ...(moves.app ? (['platform'] as const) : []),
    ...(moves.database ? (['database'] as const) : []),
    ...(moves.cache ? (['cache'] as const) : []),
  ]);
  const un = req.unavailable ?? {};
  const c: PlanContext = {
    mode,
    incident,
    topology,
    un,
    limits: { ...DEFAULT_LIMITS, ...req.limits },
    from,
    to,
    moves,
    planned: mode === 'planned',
    stacks: [from.stack, to.stack].filter((s): s is string => !!s),
    services,
    records: topology.dns.records.filter((r) => services.has(r.service)).map((r) => r.name),
    cacheMoves: moves.cache && !!to.cache && !!from.cache && !un.cache,
  };
  const steps: PlanStep[] = [];
  for (const planner of PLANNERS) planner(c, (name, runs, action, target, reason) => steps.push({ name, runs, action, target, reason }));
  // Keep STEP_NAMES order whatever the planners did.
  steps.sort((a, b) => STEP_NAMES.indexOf(a.name) - STEP_NAMES.indexOf(b.name));
  return { mode, incident, from: from.name, to: to.name, steps };
}

/** The JSON shape of a plan (superset of issue 5's `{mode, incident, steps:[{name, action, target}]}`). */
export function planToJson(plan: FailoverPlan): {
  mode: FailoverMode;
  incident: Incident;
  from: string;
  to: string;
  steps: Array<{ name: StepName; action: string; target: StepTarget; reason: string; runs: boolean }>;
} {
  return {
    mode: plan.mode,
    incident: plan.incident,
    from: plan.from,
    to: plan.to,
    steps: plan.steps.map((s) => ({ name: s.name, action: s.action, target: s.target, reason: s.reason, runs: s.runs })),
  };
}

/** Human text of a plan: one numbered block per step, skipped steps marked. */
export function formatPlan(plan: FailoverPlan): string {
  const lines = [`Failover plan: ${plan.mode} ${plan.incident} failover from ${plan.from} to ${plan.to} (dry run: nothing is changed)`];
  plan.steps.forEach((s, i) => {
    const mark = s.runs ? 'run ' : 'skip';
    lines.push(`${String(i + 1).padStart(2)}. [${mark}] ${s.name}: ${s.action}`);
    const target = Object.entries(s.target)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? (v.length ? v.join(',') : '(none)') : v}`)
      .join(' ');
    if (target) lines.push(`      target: ${target}`);
    lines.push(`      why:    ${s.reason}`);
  });
  return lines.join('\n') + '\n';
}
