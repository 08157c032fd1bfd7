/**
 * The local drill's contract: its scenarios and steps, its options (checked before anything starts) and the
 * result that the CLI prints, the JSON carries and the Markdown report renders.
 */
import type { DivergentSummary } from '../backup/index';
import type { FailoverResult, StepEvent } from '../failover/index';
import { FlagError, UsageError } from '../core/errors';
import type { ReplicationHold } from './environment';
import type { ReadinessDrillResult } from './readiness';

export const SCENARIOS = ['datacenter', 'database', 'cache', 'planned', 'token', 'token-outage', 'permissions', 'readiness'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The scenarios that fail a bot token or its platform (or a token's channel rights), not a region. */
export const TOKEN_SCENARIOS = ['token', 'token-outage', 'permissions'] as const;
export function isTokenScenario(s: Scenario): s is (typeof TOKEN_SCENARIOS)[number] {
  return (TOKEN_SCENARIOS as readonly string[]).includes(s);
}

export const DRILL_STEPS = ['env-up', 'seed', 'traffic', 'backup', 'inject-failure', 'detect-failover', 'traffic-resumed', 'region-returns', 'restore-verify', 'failback', 'report', 'teardown'] as const;
export type DrillStepName = (typeof DRILL_STEPS)[number];

export interface DrillOptions {
  scenario: Scenario;
  /** Writes per second of the traffic simulator. */
  loadTps: number;
  /** Seconds of steady traffic before the failure is injected. */
  durationSeconds: number;
  dir: string;
  keep: boolean;
  /** Directory for the Markdown report (default `<cwd>/reports`). */
  reportsDir: string;
  /** Health check interval and threshold (defaults 1000 ms × 3). */
  checkIntervalMs?: number;
  checkThreshold?: number;
  /** Extra wait before the failure, in ms (default: random within one check interval). */
  failurePhaseMs?: number;
  /** How long to wait for traffic to resume (default 60 s). */
  resumeTimeoutMs?: number;
  /**
   * Hold replication back for this long before the failure (datacenter and database scenarios only), so the
   * standby really lags when the primary dies: the unplanned RPO and the engine's loss estimate are then
   * measured against real lag. `replicationHold` says how (default `sender`: nothing reaches the standby, the
   * writes meanwhile are really lost; `replay`: received but not applied, promotion replays them).
   */
  replicationDelayMs?: number;
  replicationHold?: ReplicationHold;
  /**
   * After the restore check, fail back to a (`dr failback --local`): the old primary's state is kept as a verified
   * divergent backup before pg_rewind, and the drill checks that every lost write id is listed in it.
   */
  failback?: boolean;
  signal?: AbortSignal;
  onStep?: (name: string, status: 'running' | 'ok' | 'failed' | 'skipped', durationMs?: number, detail?: string) => void;
  onEngineStep?: (e: StepEvent) => void;
  /** A live status line (the CLI shows it on a TTY only): traffic so far and the monitor's latest check. */
  onLive?: (text: string) => void;
  log?: (line: string) => void;
}

export interface DrillStep {
  name: DrillStepName;
  status: 'ok' | 'failed' | 'skipped';
  duration_ms: number;
  detail?: string;
  started_at: string;
}

export interface DrillCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DrillResult {
  ok: boolean;
  scenario: Scenario;
  rto_seconds: number | null;
  detection_seconds: number | null;
  /**
   * The monitor's failed checks up to the incident (`at`: when the check ran, `slot`: when it was due, both ms
   * since the epoch): the detection measured on the monitor's own clock, not on the drill's wall time.
   */
  detection_checks: Array<{ tier: 'database' | 'cache'; region: string; consecutive: number; at: number; slot: number }>;
  rpo: {
    acked_writes: number;
    lost_writes: number;
    lag_at_failure_seconds: number | null;
    lag_at_failure_bytes: number | null;
    cache_acked_writes: number;
    cache_lost_writes: number;
    /** Ids of lost database writes (at most {@link LOST_IDS_SHOWN}), for reconciling them with the old primary. */
    lost_write_ids: string[];
    estimated_data_loss?: FailoverResult['estimated_data_loss'];
    /** Replication held back before the failure (replicationDelayMs). */
    replication_hold?: { how: ReplicationHold; ms: number };
  };
  steps: DrillStep[];
  /**
   * The failback after the drill (`failback` option): the divergent backup taken before pg_rewind (how many rows
   * differ, where they are kept), how many of the lost write ids it lists, the rebuild and the switchover back.
   */
  failback?: {
    divergent?: DivergentSummary;
    /** Lost write ids (of `rpo.lost_write_ids`) listed in the divergent backup's manifest. */
    lost_writes_kept: number;
    rebuilt: { database?: string; cache?: boolean };
    switchover: { id: string; outcome: string };
  };
  /**
   * The token scenarios: `switch_seconds` from the revocation to the bot worker's first successful call with the new
   * token (`token`; null for `token-outage`), the worker's calls, and how many of its conversations (Redis
   * sessions) kept counting across the failure out of `sessions`.
   */
  token?: { switch_seconds: number | null; calls_ok: number; calls_failed: number; sessions_kept: number; sessions: number };
  /**
   * The `permissions` scenario (issue 11): the missing rights the monitor's last check reported (bot, token INDEX,
   * channel, rights, the admin action that would grant them), the token the switch went to, and the tokens in rotation order it skipped for lacking a right.
   */
  permissions?: { missing: Array<{ bot: string; token: number; channel: string; missing: string[]; action?: string }>; switched_to: number | null; skipped: number[] };
  /** The datacenter scenario's bot tier (one consumer per token): see {@link DrillBots}. */
  bots?: DrillBots;
  /** `--scenario readiness`: each break, the check that caught it, seconds to detect and to repair (rehearsal/readiness.ts). */
  readiness?: ReadinessDrillResult;
  failover?: { id: string; mode: string; incident: string; from: string; to: string; outcome: string; steps: FailoverResult['steps']; journal: string };
  /**
   * Both restores. `verified` is true only when both are; `duration_seconds` is the whole step. `backup`,
   * `tables` and `bucket` describe the PostgreSQL restore (the original shape); `postgresql` / `redis` the detail.
   */
  restore: {
    verified: boolean;
    duration_seconds: number | null;
    backup?: string;
    tables?: Array<{ table: string; expected: number | null; actual: number | null; ok: boolean }>;
    bucket?: string;
    error?: string;
    postgresql?: ServiceRestore & { tables: Array<{ table: string; expected: number | null; actual: number | null; ok: boolean }> };
    redis?: ServiceRestore & { keys: { backup: number; restored: number; target: number }; sample: { compared: number; mismatched: number } };
  };
  traffic: { load_tps: number; ops: number; db_acked: number; cache_acked: number; db_errors: number; cache_errors: number; reconnects: number };
  timeline: Array<{ at: string; t_seconds: number; event: string }>;
  checks: DrillCheck[];
  notifications: Array<{ kind: string; message: string }>;
  report: string;
  env_dir: string;
  kept: boolean;
  started_at: string;
  finished_at: string;
  error?: string;
}

/**
 * The bot tier of the datacenter drill (issue 11): the community bot polls; a worker in each region follows the bot
 * runtime with its region's copy of the secret; users write at a steady rate before, during and after the failover.
 * A clean failover loses 0 updates and has 0 conflicts after the switch.
 */
export interface DrillBots {
  bot: string;
  /** Updates the users wrote (queued at the fake Telegram). */
  updates_sent: number;
  /** Handled by a's workers (before the failure, and the restarted one after a came back: 0 expected). */
  updates_handled_a: number;
  updates_handled_b: number;
  /** Sent, never handled, and no longer queued at the end (after b drained the queue). */
  updates_lost: number;
  /** 409s the fake handed out from the moment b's worker started consuming. */
  conflicts_after_switch: number;
  /** Where the platform delivers: `polling` (no webhook set), else the webhook URL without its query. */
  webhook_target: string;
  /** Still queued (unconfirmed) at the end, after the drain: neither handled nor lost. */
  updates_still_queued: number;
  /** Handled by a before it died without confirming, and again by b (at-least-once delivery across the switch). */
  updates_handled_twice: number;
  /** Every 409 of the drill. */
  conflicts_total: number;
  /** The bot tier's switch time: failure → b's first handled update. */
  switch_seconds: number | null;
  /** The failover's switch-dns done (journal) → b's first handled update: negative when b consumed before DNS moved. */
  dns_switch_to_first_update_seconds: number | null;
  /** Failure → b's worker's shouldConsume() true (b's copy said active_region=b, seen at its next runtime poll). */
  consuming_b_after_seconds: number | null;
  /** a's worker started again once a came back (its copy set by the split-brain guard): what it did. */
  returned_a: { consuming: boolean; polls: number; handled: number } | null;
}

export interface ServiceRestore {
  verified: boolean;
  backup: string;
  bucket: string;
  checksum: 'verified';
  duration_seconds: number;
  /** Where it was restored (scratch database / scratch redis-server), without credentials. */
  target: string;
}

export const LOST_IDS_SHOWN = 100;

/** Check the drill options before anything starts (the CLI maps the thrown message to a usage error). */
export function checkDrillOptions(o: Pick<DrillOptions, 'scenario' | 'loadTps' | 'durationSeconds' | 'replicationDelayMs' | 'replicationHold' | 'failback'>): void {
  if (!(SCENARIOS as readonly string[]).includes(o.scenario)) throw new UsageError(`scenario must be one of ${SCENARIOS.join(', ')}, got '${o.scenario}'`);
  if (o.failback && isTokenScenario(o.scenario)) throw new FlagError(`--failback follows a failover; the '${o.scenario}' scenario moves no region`);
  if (!(o.loadTps > 0 && o.loadTps <= 1000)) throw new FlagError(`--load-tps must be between 1 and 1000, got ${o.loadTps}`);
  if (!(o.durationSeconds > 0 && o.durationSeconds <= 3600)) throw new FlagError(`--duration must be between 1 and 3600 seconds, got ${o.durationSeconds}`);
  if (o.replicationDelayMs !== undefined) {
    if (!(Number.isFinite(o.replicationDelayMs) && o.replicationDelayMs > 0 && o.replicationDelayMs <= 600_000)) throw new FlagError(`--replication-delay-ms must be between 1 and 600000, got ${o.replicationDelayMs}`);
    if (o.scenario !== 'datacenter' && o.scenario !== 'database') throw new FlagError(`--replication-delay-ms applies to the datacenter and database scenarios (the primary database dies lagging), not to '${o.scenario}'`);
  }
  if (o.replicationHold !== undefined && !['sender', 'replay'].includes(o.replicationHold)) throw new UsageError(`replication hold must be 'sender' or 'replay', got '${String(o.replicationHold)}'`);
}


/** Seconds with two decimals, as the report shows them. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
