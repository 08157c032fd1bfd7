/**
 * The fixed failover step names, in execution order. Reports, the journal, the AWS implementation and the
 * checks all use these exact strings: never rename or reorder them. Traffic moves first (promote, DNS, verify);
 * `reconcile` re-targets the infrastructure as code afterwards, off the critical path.
 */
export const STEP_NAMES = [
  'preflight',
  'fence',
  'catch-up',
  'promote-database',
  'promote-cache',
  'promote-secrets',
  'switch-dns',
  'verify',
  'record',
  'reconcile',
] as const;

export type StepName = (typeof STEP_NAMES)[number];

/** `planned` = switchover that loses nothing; `unplanned` = the primary is gone, promote anyway. */
export const FAILOVER_MODES = ['planned', 'unplanned'] as const;
export type FailoverMode = (typeof FAILOVER_MODES)[number];

/** Incident types from the seeds' runbook: `datacenter` = everything, `database`/`cache` = that tier only. */
export const INCIDENTS = ['datacenter', 'database', 'cache'] as const;
export type Incident = (typeof INCIDENTS)[number];

/**
 * How a step ended in a run. `done-before` = found already done (journal or world), not acted again. `pending` =
 * could not be done now without harm to what serves (the Pulumi backend does not answer): the failover keeps
 * serving and stays open, and `--resume` finishes it.
 */
export type StepStatus = 'ok' | 'skipped' | 'done-before' | 'failed' | 'pending';

export function isStepName(value: string): value is StepName {
  return (STEP_NAMES as readonly string[]).includes(value);
}

export function isMode(value: string): value is FailoverMode {
  return (FAILOVER_MODES as readonly string[]).includes(value);
}

export function isIncident(value: string): value is Incident {
  return (INCIDENTS as readonly string[]).includes(value);
}

/** Which data tiers an incident moves. */
export function incidentMoves(incident: Incident): { database: boolean; cache: boolean; app: boolean } {
  return {
    database: incident === 'datacenter' || incident === 'database',
    cache: incident === 'datacenter' || incident === 'cache',
    app: incident === 'datacenter',
  };
}
