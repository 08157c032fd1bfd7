/**
 * The small interfaces ("ports") the failover engine talks to. The engine never imports the AWS SDK and never
 * spawns a process: everything that touches the world goes through one of these.
 *
 * Implementations:
 * - local (`automation/adapters/rehearsal/`): a real PostgreSQL streaming standby promoted with `pg_promote()`,
 *   Redis `REPLICAOF NO ONE`, a DNS record JSON file naming which region serves each service name, a log/file
 *   notifier and {@link FileJournal}, the bots' token files per region. Stacks have no local counterpart: that port sets
 *   {@link Capability.unavailable} and the engine reports their steps `skipped` with that reason.
 * - AWS (`automation/adapters/aws/`): RDS (stack update, `PromoteReadReplica` fallback, wait `available`),
 *   ElastiCache `FailoverGlobalReplicationGroup`, Secrets Manager `StopReplicationToReplica`, Route 53 UPSERT +
 *   wait `INSYNC`, the Automation API for stacks, SNS in both regions, a journal in the surviving region's bucket.
 *
 * Every acting method is paired with a checking method (check-or-act): the engine always checks the world first
 * and only acts when the check says the thing is not done yet. That is what makes a rerun after a crash between
 * "acted" and "journaled" converge without acting twice. Acting methods must therefore be safe to call when the
 * world already is in the wanted state (they will rarely be, but a race is not an error).
 *
 * Regions are plain names (`a`/`b` locally, `eu-west-1`/`eu-central-1` on AWS) matching {@link RegionTopology.name}.
 */

import type { ReadinessSummary } from '../../lib/readiness';
import type { Clock } from '../core/clock';
import type { FailoverMode, Incident, StepName, StepStatus } from './step-names';

/**
 * Every port may declare that it has no counterpart in this environment. When `unavailable` is set, the engine
 * never calls the port's methods and reports the steps that need it as `skipped` with this text as the reason
 * (e.g. `"no local counterpart: secrets live in the process environment"`). A port must never fake success.
 */
export interface Capability {
  readonly unavailable?: string;
}

/** Options every potentially slow call receives. */
export interface CallOptions {
  /** Aborted when the operator interrupts (SIGINT/SIGTERM): stop waiting, leave the world consistent. */
  signal?: AbortSignal;
  /** Progress lines for the step log (e.g. `pulumi up` output, waiter polls). Adapters must redact secrets. */
  log?: (line: string) => void;
}

/** Role of a database (or cache) in one region as seen right now. */
export type DataRole = 'primary' | 'standby' | 'unreachable';

/** A snapshot of primary → standby replication. */
export interface ReplicationState {
  /** Whether the primary answered this observation. */
  primaryReachable: boolean;
  /** The primary's current WAL position (`pg_current_wal_lsn()`), when reachable. PostgreSQL `X/Y` format. */
  primaryLsn?: string;
  /** The standby's last replayed position (`pg_last_wal_replay_lsn()`). */
  standbyReplayLsn?: string;
  /**
   * Replication lag in seconds. When the primary is unreachable this is the LAST KNOWN value (CloudWatch's last
   * `ReplicaLag` datapoint, the health monitor's last sample) and {@link observedAt} says when it was seen.
   * Undefined when nothing is known.
   */
  lagSeconds?: number;
  /** Lag in bytes of WAL (primaryLsn − standbyReplayLsn), when both are known. */
  lagBytes?: number;
  /** When these figures were observed (ISO 8601). */
  observedAt: string;
}

/** The database tier (PostgreSQL primary + streaming standby / RDS cross-region read replica). */
export interface DatabasePort extends Capability {
  /** Current role of the database in `region`; `unreachable` when it does not answer (never throws for that). */
  role(region: string, opts?: CallOptions): Promise<DataRole>;
  /**
   * Replication from `primary` to `standby`. Must not throw when the primary is unreachable: report
   * `primaryReachable: false` and the last known lag instead.
   */
  replicationState(primary: string, standby: string, opts?: CallOptions): Promise<ReplicationState>;
  /**
   * Check for {@link fence}: true when `region` takes no application writes (read-only and refusing
   * application connections). Unreachable → false.
   */
  isFenced(region: string, opts?: CallOptions): Promise<boolean>;
  /**
   * Fence `region`'s database so it takes no application writes, persistently (it must stay fenced across a
   * restart): e.g. `ALTER SYSTEM SET default_transaction_read_only = on` + reload + terminate application
   * sessions + refuse application connections (replication connections keep working, so the standby can catch
   * up). On AWS: set the instance read-only parameter / revoke the security group ingress, as E decides.
   */
  fence(region: string, opts?: CallOptions): Promise<void>;
  /** Undo {@link fence} (only used to abort a planned switchover whose catch-up timed out, before promotion). */
  unfence(region: string, opts?: CallOptions): Promise<void>;
  /** The primary's current (after fencing: final) WAL position, `X/Y`. Throws when unreachable. */
  currentLsn(region: string, opts?: CallOptions): Promise<string>;
  /**
   * Wait until the standby in `region` has replayed at least `lsn`, at most `timeoutMs`. Resolves with
   * `caughtUp: false` on timeout (never throws for a timeout), and the last replay position seen.
   */
  waitForReplay(region: string, lsn: string, timeoutMs: number, opts?: CallOptions): Promise<{ caughtUp: boolean; replayLsn?: string }>;
  /**
   * Promote the standby in `region` to a writable primary (`pg_promote()` / stack update with `promoted=true`,
   * falling back to RDS `PromoteReadReplica` + wait `available`). Resolves once it accepts writes.
   * The check is `role(region) === 'primary'`.
   */
  promote(region: string, opts?: CallOptions): Promise<void>;
  /** Verification probe: true when `region`'s database accepts a write (e.g. a write + read in a probe table). */
  writable(region: string, opts?: CallOptions): Promise<boolean>;
  /**
   * Optional: bring the promoted database to the primary's posture (AWS: Multi-AZ, online, `ApplyImmediately`),
   * check-then-act, without waiting for it to finish; resolves with one line saying what it started or found.
   */
  harden?(region: string, opts?: CallOptions): Promise<string>;
  /**
   * Optional: finish what a promotion leaves (AWS: the backup retention RDS drops on a promoted PostgreSQL replica),
   * check-then-act; called when the database already reports primary, so a crash right after the promotion call
   * does not leave the survivor without backups. Resolves with what it did, undefined when nothing was left.
   */
  settle?(region: string, opts?: CallOptions): Promise<string | undefined>;
}

/** The cache tier (Redis primary + replica / ElastiCache Global Datastore). */
export interface CachePort extends Capability {
  /** Current role of the cache in `region`; `unreachable` when it does not answer. */
  role(region: string, opts?: CallOptions): Promise<DataRole>;
  /**
   * Promote the cache in `region` (`REPLICAOF NO ONE` / `FailoverGlobalReplicationGroup` + wait available).
   * `planned` lets an adapter do a coordinated switchover (e.g. Redis `FAILOVER`) when the old primary is up.
   * The check is `role(region) === 'primary'`.
   */
  promote(region: string, opts?: CallOptions & { planned?: boolean; from?: string }): Promise<void>;
  /**
   * Optional pair: check/act to make `region`'s cache refuse application writes, persistently, keeping its data
   * (e.g. `CONFIG SET min-replicas-to-write` above its replica count + `CONFIG REWRITE`). Called on the OLD primary
   * before the new one is promoted, and by the split-brain guard: it must not make the old primary replicate from
   * the other region (that is failback's job). Absent when promotion itself demotes the old primary (ElastiCache
   * Global Datastore): the engine then relies on {@link promote}.
   */
  isFenced?(region: string, opts?: CallOptions): Promise<boolean>;
  fence?(region: string, opts?: CallOptions): Promise<void>;
  /** Undo {@link fence} (abort of a planned switchover before promotion). Present whenever `fence` is. */
  unfence?(region: string, opts?: CallOptions): Promise<void>;
  /** Verification probe: true when `region`'s cache accepts a write. */
  writable(region: string, opts?: CallOptions): Promise<boolean>;
  /**
   * Optional check (ElastiCache Global Datastore): the id of the global datastore `region`'s cache was a member of and
   * left — it answers, is available, and no longer belongs to it (an unplanned promotion disassociates it) — or
   * undefined while it is a member, or when it does not answer. Read after promote-cache, so a rerun learns it too.
   */
  detachedFrom?(region: string, opts?: CallOptions): Promise<string | undefined>;
}

/** Replicated secrets (bot tokens, DB credentials). Local: unavailable (no counterpart). */
export interface SecretsPort extends Capability {
  /** Check: true when `secretId` in `region` is standalone and writable (no longer a replica). */
  isPromoted(region: string, secretId: string, opts?: CallOptions): Promise<boolean>;
  /** Act: stop replication so the replica in `region` becomes writable (`StopReplicationToReplica`). */
  promote(region: string, secretId: string, opts?: CallOptions): Promise<void>;
}

/**
 * DNS: which region serves each service name. Local: a JSON file; AWS: Route 53 records in a hosted zone.
 * `record` is the record name from {@link DnsRecordRef.name}.
 */
export interface DnsPort extends Capability {
  /** Check: the region the record currently sends traffic to, or undefined when it names none. */
  current(record: string, opts?: CallOptions): Promise<string | undefined>;
  /** Act: send the record's traffic to `region` now (no health-check wait); resolves once in sync (INSYNC). */
  point(record: string, region: string, opts?: CallOptions): Promise<void>;
}

/** What probing one bot's ACTIVE token found, from one region. Never carries a token. */
export interface ActiveTokenProbe {
  bot: string;
  /** `telegram` | `discord` (the bot's record), or `unknown` when the record could not be read. */
  platform: string;
  /** Index of the active token in the bot's record; -1 when the record could not be read. */
  active: number;
  /**
   * `healthy` | `revoked` | `rate-limited` | `unreachable` | `failing` (the token engine's probe states), or
   * `unreadable` when the bot's secret could not be read in that region.
   */
  state: string;
  /** The probe's round trip, when it was made. */
  latency_ms?: number;
  /** One redacted line for people (e.g. `401: Unauthorized`); never the token. */
  detail?: string;
}

/** What the split-brain guard fences in a lost region: its database, its cache, its bots' copies of their secrets. */
export type FenceTier = 'database' | 'cache' | 'bots';

/** One bot's `active_region` as ONE region's copy of its secret says it. Never a token. */
export interface BotActiveRegion {
  bot: string;
  /**
   * `read`: that copy answered (`active_region` below; absent when the record names none). `unreachable`: that region's
   * secret store did not answer (a lost region). `unreadable`: it answered, but the record could not be read (missing,
   * malformed, access denied): see `detail`.
   */
  state: 'read' | 'unreachable' | 'unreadable';
  active_region?: string;
  /** One redacted line for people; never the token. */
  detail?: string;
}

/**
 * Where the platform delivers one bot's updates, relative to a region:
 * `polling` (Telegram, no webhook set: the bot's own getUpdates), `gateway` (Discord, no interactions endpoint: the
 * bot's own shards), `shared` (a webhook / interactions endpoint on the failover record's name: DNS moves it),
 * `region` (on that region's own endpoint), `elsewhere` (any other host, e.g. the lost region's endpoint), `unknown`
 * (the platform could not be asked: see `target_detail`).
 */
export type BotTargetKind = 'polling' | 'gateway' | 'shared' | 'region' | 'elsewhere' | 'unknown';

/** What `verify` sees of one bot from the survivor (read-only; see {@link BotsPort.serving}). Never a token. */
export interface BotServing extends ActiveTokenProbe {
  /** `active_region` in that region's copy of the bot's secret (undefined: the record names none, or was not read). */
  active_region?: string;
  /** Where updates go: `polling`, `gateway`, or the registered URL's origin and path (redacted; no query). */
  webhook_target?: string;
  target: BotTargetKind;
  /** Why the target is `unknown`, or what it points at for people. Redacted. */
  target_detail?: string;
  /** Telegram: `pending_update_count` of getWebhookInfo (updates waiting for a consumer or a delivery). */
  pending_updates?: number;
}

/**
 * The bots (optional: a world without bots, or one that does not model them, omits it or declares it
 * {@link Capability.unavailable}). Issue 10 probes the active tokens after promote-secrets; issue 11 adds one consumer
 * per token: the record's `active_region` in each region's copy of each bot's secret (AWS: the secret in that region,
 * a standalone copy once replication was stopped; locally: that region's token file). Check-then-act like the other
 * ports: {@link activeRegions} is the check, {@link setActiveRegion} the act, {@link serving} what verify reads.
 */
/**
 * Is the pair ready to fail over (issue 14)? One run of the readiness engine over this environment, summarized: the
 * verdict and its failed checks. `preflight` runs it first; a planned switchover refuses while it is `not-ready`
 * unless the request says `force`. The engine never builds it: the caller wires the observer (AWS or local).
 */
export interface ReadinessPort {
  check(opts?: CallOptions): Promise<ReadinessSummary>;
}

export interface BotsPort extends Capability {
  /**
   * Read every bot's record in `region` and probe its active token once. One entry per bot, in a stable order; a bot
   * whose secret cannot be read is `unreadable`, never an exception (only a bug rejects).
   */
  probeActive(region: string, opts?: CallOptions): Promise<ActiveTokenProbe[]>;
  /**
   * Check: every bot's `active_region` in `copy`'s copy of its secret, one entry per bot in the same order. A region
   * whose store does not answer gives `unreachable` entries, never an exception.
   */
  activeRegions(copy: string, opts?: CallOptions): Promise<BotActiveRegion[]>;
  /**
   * Act: make `copy`'s copy of `bot`'s secret say `active_region = active` (compare-and-set; only that field changes;
   * a copy that already says so is left alone). `failover` keys the write, so a retry of the same decision is
   * idempotent. Rejects when the copy cannot be written (unreachable, a read-only replica, lost races).
   */
  setActiveRegion(copy: string, bot: string, active: string, opts: CallOptions & { failover: string }): Promise<void>;
  /**
   * Verify, from `region`: per bot, its copy's `active_region`, its active token probed (Telegram `getMe`, Discord
   * `GET /users/@me`) and where its updates go (Telegram `getWebhookInfo`, Discord `GET /applications/@me`). Calls
   * that never conflict with a live consumer only: it never calls `getUpdates` (that would itself be the second
   * consumer and cause the 409 it looks for) and never opens a gateway session. A bot that cannot be read is
   * `unreadable`, never an exception.
   */
  serving(region: string, opts?: CallOptions): Promise<BotServing[]>;
}

/** What a failover changes in the infrastructure-as-code, so a later `pulumi up` does not undo it. */
export interface Retarget {
  /** Failover id, for the stack update message. */
  id: string;
  incident: Incident;
  /** The region that now serves (gets `role=primary`, `promoted=true` as the incident requires). */
  survivor: string;
  /** The region that was lost (becomes `secondary`, for a later failback). */
  lost: string;
  /**
   * The global datastore the survivor's cache left (promote-cache: the failover API refused, the group was
   * disassociated). The stacks then move to the next datastore generation, led by the survivor.
   */
  cacheLeft?: string;
}

/** Pulumi stacks (Automation API). Local: unavailable (no counterpart). */
export interface StacksPort extends Capability {
  /**
   * Set when the stacks exist but cannot be used right now (the Pulumi backend does not answer): unlike
   * `unavailable`, the work is owed — the engine keeps `reconcile` pending and the failover open.
   */
  readonly unreachable?: string;
  /** Check: the stacks' config already says what {@link retarget} would set. */
  isRetargeted(change: Retarget, opts?: CallOptions): Promise<boolean>;
  /** Act: set config (survivor `role`/`promoted`, lost → `secondary`) and run `up` on the survivor's stack. */
  retarget(change: Retarget, opts?: CallOptions): Promise<void>;
}

/** A failover lifecycle event for people. */
export interface FailoverNotice {
  kind: 'started' | 'failed' | 'finished';
  id: string;
  mode: FailoverMode;
  incident: Incident;
  from: string;
  to: string;
  /** One line for people, already redacted. */
  message: string;
  /** Step outcomes so far. */
  steps: ReadonlyArray<{ name: StepName; status: StepStatus; duration_ms: number; detail?: string }>;
}

/** Where each notification went. A region that is down is reported in `failed`, never thrown. */
export interface NotifyReport {
  delivered: string[];
  failed: Array<{ target: string; error: string }>;
}

/** Notifications: SNS in both regions on AWS; a log/file locally. Failures are reported, never fatal. */
export interface NotifierPort extends Capability {
  notify(notice: FailoverNotice, opts?: CallOptions): Promise<NotifyReport>;
}

/**
 * The exclusive right to act on failovers, across machines (AWS: a lease object in the survivor's bucket written
 * with S3 conditional requests). Two operators, or an operator and a monitor, must never both act: the engine takes
 * it before reading the journal, checks it before every step, and gives it back at the end. Re-entrant within one
 * holder (a failback holds it around its own switchover). Local mode: the environment's file lock, taken by the CLI.
 */
export interface LeasePort {
  /**
   * Take the lease for failover `id`. Throws a RefusedError (exit 2) naming the holder and how long they have held
   * it when someone else holds it. Resolves with `took_over` when it replaced a dead or expired holder's lease
   * (`--break-lock`): the engine journals that.
   */
  acquire(id: string, opts?: CallOptions): Promise<{ took_over?: string }>;
  /** Before each step: renew it; throws (OperationError) when it was lost — someone else broke it and acts now. */
  renew(opts?: CallOptions): Promise<void>;
  /** Give it back (only if still ours). Never throws. */
  release(opts?: CallOptions): Promise<void>;
}

/** One journal line. Every entry carries the failover `id` and an ISO timestamp `at`. */
export type JournalEntry =
  | {
      kind: 'begin';
      id: string;
      at: string;
      mode: FailoverMode;
      incident: Incident;
      from: string;
      to: string;
      /** The step names that will run (the rest are skipped by plan). */
      runs: StepName[];
    }
  | {
      kind: 'step';
      id: string;
      at: string;
      step: StepName;
      /** `started` is written before the check; `done`/`skipped`/`failed`/`pending` after. */
      phase: 'started' | 'done' | 'skipped' | 'failed' | 'pending';
      /** `done`: whether this run acted (`ok`) or found it done (`done-before`). */
      status?: StepStatus;
      duration_ms?: number;
      detail?: string;
      /** Step data needed on resume (e.g. preflight's replication snapshot, catch-up's final LSN). */
      data?: Record<string, unknown>;
    }
  | {
      /** The old primary could not be fenced (unreachable): the split-brain guard must fence it when it returns. */
      kind: 'pending-fence';
      id: string;
      at: string;
      region: string;
      tiers: FenceTier[];
    }
  | {
      /** The split-brain guard fenced a returning old primary. */
      kind: 'fenced';
      id: string;
      at: string;
      region: string;
      tiers: FenceTier[];
    }
  | {
      /** The lease was taken over from a dead or expired holder (`--break-lock`). */
      kind: 'lease';
      id: string;
      at: string;
      took_over: string;
    }
  | {
      kind: 'end';
      id: string;
      at: string;
      /**
       * `completed`: every step done. `aborted`: stopped before promotion with the world restored (e.g. planned
       * catch-up timeout, old primary unfenced). `refused`: preflight refused before acting. `abandoned`: an
       * operator closed an unfinished failover. A failed step does NOT end the failover: it stays resumable.
       */
      outcome: 'completed' | 'aborted' | 'refused' | 'abandoned';
      detail?: string;
    };

/** What {@link JournalPort.read} found, including damage it detected. */
export interface JournalRead {
  entries: JournalEntry[];
  /**
   * Damage detected and dropped (e.g. a torn last line after a crash mid-write). Entries after damage are never
   * trusted. Empty when the journal is intact.
   */
  damage: string[];
}

/**
 * The failover journal: append-only per failover id, durable before the call resolves (fsync / S3 PUT).
 * Local: {@link FileJournal}; AWS: the surviving region's backup bucket plus a local copy.
 */
export interface JournalPort {
  /** Append one entry; durable when it resolves. */
  append(entry: JournalEntry): Promise<void>;
  /** Every entry of failover `id` in append order (empty when unknown). */
  read(id: string): Promise<JournalRead>;
  /** Failover ids, oldest first (by their `begin`). */
  list(): Promise<string[]>;
  /** Human description of where it lives (path, bucket/key), for reports. */
  readonly location: string;
}

/** Step progress as it happens: `running` before the check, then the final status. */
export interface StepEvent {
  step: StepName;
  status: 'running' | StepStatus;
  duration_ms?: number;
  detail?: string;
}

export type StepListener = (event: StepEvent) => void;

/** Everything the engine talks to. */
export interface FailoverPorts {
  database: DatabasePort;
  cache: CachePort;
  secrets: SecretsPort;
  dns: DnsPort;
  stacks: StacksPort;
  notifier: NotifierPort;
  journal: JournalPort;
  /** Optional cross-machine exclusion ({@link LeasePort}); without it the caller guarantees one run at a time. */
  lease?: LeasePort;
  /**
   * Optional: the bots. promote-secrets writes `active_region` (survivor's copy, and the lost region's when it answers)
   * and probes the active tokens; verify checks each bot from the survivor; the guard fences a returning region's copies.
   */
  bots?: BotsPort;
  /** Optional: the readiness verdict, checked by `preflight` ({@link ReadinessPort}). */
  readiness?: ReadinessPort;
  clock?: Clock;
}
