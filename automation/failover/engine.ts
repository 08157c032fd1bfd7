/**
 * The failover engine: executes a {@link FailoverPlan} over the ports, one journaled, idempotent step at a time.
 *
 * Every step: journal `started` → CHECK the world (already done? → `done-before`) → ACT → journal `done`.
 * A rerun with the same id (or `resume`) skips steps the journal says are done and re-checks any step that was
 * started but not journaled as done, so a crash anywhere — before an act, or after it but before the journal
 * write — converges without acting twice: it never promotes twice and never points DNS back.
 */

import { systemClock } from '../core/clock';
import { DrError, errorText, FlagError, OperationError, RefusedError, UsageError, VerificationError } from '../core/errors';
import { redact } from '../core/redact';
import { findResumable, stepDone, summarize, JournalSummary } from './journal';
import type { CallOptions, FailoverNotice, FailoverPorts, FenceTier, JournalEntry, ReplicationState, StepListener } from './ports';
import { DEFAULT_LIMITS, FailoverLimits, FailoverPlan, PlanStep, Topology, Unavailable, planFailover, planToJson } from './plan';
import type { FailoverMode, Incident, StepName, StepStatus } from './step-names';
import { AbortFailover, describeLoss, isCrashLike, STEP_RUNNERS, type EstimatedDataLoss, type RunState, type StepContext, type StepOutcome } from './steps/index';

export { describeLoss } from './steps/index';
export type { EstimatedDataLoss } from './steps/index';

export interface FailoverRequest {
  ports: FailoverPorts;
  /** Identifiers of both regions (stack outputs on AWS, the local environment's state locally). */
  topology: Topology;
  /** Required unless resuming (then the journal's values are used; given values must match). */
  mode?: FailoverMode;
  incident?: Incident;
  from?: string;
  to?: string;
  /** Plan only: no port method is called, nothing is journaled. */
  dryRun?: boolean;
  /** The operator confirmed (`--yes` or an interactive answer). Execution without it is refused. */
  confirm?: boolean;
  limits?: Partial<FailoverLimits>;
  /** Failover id. An id with journal entries is resumed; a new id starts a failover (default: generated). */
  id?: string;
  /** Continue the latest unfinished failover in the journal. */
  resume?: boolean;
  listener?: StepListener;
  signal?: AbortSignal;
  /** Step log lines (adapters' progress). */
  log?: (line: string) => void;
  /** Last replication sample the caller saw (the health monitor's), used for the estimated loss when newer. */
  lastKnown?: ReplicationState;
  /** Planned: switch over even when readiness says `not-ready` (`--force`; preflight records that it was forced). */
  force?: boolean;
}

export interface StepResult {
  name: StepName;
  status: StepStatus;
  duration_ms: number;
  detail?: string;
}


export interface FailoverResult {
  id: string;
  mode: FailoverMode;
  incident: Incident;
  from: string;
  to: string;
  dry_run: boolean;
  /** `planned` for a dry-run. */
  /**
   * `serving`: traffic moved and was verified, but a step had to stay `pending` (the stacks could not be
   * re-targeted): the failover is open, and `--resume` finishes it when it can.
   */
  outcome: 'completed' | 'serving' | 'aborted' | 'failed' | 'planned';
  steps: StepResult[];
  /** The plan (always present: dry-run prints it, execution reports it). */
  plan: ReturnType<typeof planToJson>;
  /** Unplanned only: what the failover may have lost. */
  estimated_data_loss?: EstimatedDataLoss;
  /** Regions the split-brain guard still has to fence when they come back. */
  pending_fences: Array<{ region: string; tiers: FenceTier[] }>;
  notifications: Array<{ kind: FailoverNotice['kind']; delivered: string[]; failed: Array<{ target: string; error: string }> }>;
  /** Journal damage found on resume (e.g. a torn last line), already dropped. */
  journal_damage: string[];
  journal: string;
  started_at: string;
  finished_at: string;
}

/** What ports declare unavailable, in the plan's terms. */
export function unavailableOf(ports: FailoverPorts): Unavailable {
  const u: Unavailable = {};
  if (ports.database.unavailable) u.database = ports.database.unavailable;
  if (ports.cache.unavailable) u.cache = ports.cache.unavailable;
  if (!ports.cache.unavailable && (!ports.cache.fence || !ports.cache.isFenced)) u.cacheFence = 'the cache adapter has no fence: promotion demotes the old primary itself';
  if (ports.secrets.unavailable) u.secrets = ports.secrets.unavailable;
  if (ports.dns.unavailable) u.dns = ports.dns.unavailable;
  if (ports.stacks.unavailable) u.stacks = ports.stacks.unavailable;
  if (ports.stacks.unreachable) u.stacksUnreachable = ports.stacks.unreachable;
  if (!ports.bots) u.bots = 'no bots port: the bots are not part of this failover';
  else if (ports.bots.unavailable) u.bots = ports.bots.unavailable;
  return u;
}

/** A new failover id: sortable by time, unique enough for one team. */
export function newFailoverId(now: Date, rand: () => number = Math.random): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `fo-${ts}-${Math.floor(rand() * 0xffffff).toString(16).padStart(6, '0')}`;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;


/**
 * Plan, then (unless `dryRun`) execute or resume a failover. Throws:
 * - {@link UsageError} for a bad request (unknown region, same region twice, resume with nothing to resume…);
 * - {@link RefusedError} before acting: no confirmation, another failover unfinished, or preflight refusal
 *   (planned with the primary unreachable or the lag over the limit — the message suggests `--unplanned`);
 * - {@link OperationError} when a step fails (the failover stays journaled and resumable) or a planned catch-up
 *   times out (aborted: old primary unfenced, nothing promoted); {@link VerificationError} when verify fails.
 * Thrown errors carry the partial {@link FailoverResult} in `detail.result`.
 */
export async function runFailover(req: FailoverRequest): Promise<FailoverResult> {
  const { ports } = req;
  const clock = ports.clock ?? systemClock;
  const journal = ports.journal;
  const limits: FailoverLimits = { ...DEFAULT_LIMITS, ...req.limits };
  if (!(limits.maxLagSeconds >= 0)) throw new UsageError(`limits.maxLagSeconds must be a number ≥ 0, got ${limits.maxLagSeconds}`);
  if (!(limits.catchUpTimeoutMs > 0)) throw new UsageError(`limits.catchUpTimeoutMs must be a number > 0, got ${limits.catchUpTimeoutMs}`);
  if (req.id !== undefined && !ID.test(req.id)) throw new UsageError(`failover id '${req.id}' is not allowed: use letters, digits, '.', '_' or '-' (max 100)`);

  // Dry-run: plan only, touch nothing (not even the journal).
  if (req.dryRun) {
    if (req.resume) throw new FlagError('--dry-run and --resume do not go together: a dry-run plans a new failover');
    const { mode, incident, from, to } = required(req);
    const plan = planFailover({ mode, incident, from, to, topology: req.topology, unavailable: unavailableOf(ports), limits });
    const at = clock.now().toISOString();
    return { id: req.id ?? 'dry-run', mode, incident, from, to, dry_run: true, outcome: 'planned', steps: [], plan: planToJson(plan), pending_fences: [], notifications: [], journal_damage: [], journal: journal.location, started_at: at, finished_at: at };
  }

  if (!req.confirm) throw new RefusedError('a failover changes production: confirm it (pass --yes, or answer the prompt); nothing was changed');

  // Which failover: resume one or start one.
  let id: string;
  if (req.resume) {
    const r = await findResumable(journal);
    if (!r) throw new UsageError(`there is no unfinished failover to resume in ${journal.location}`);
    if (req.id && req.id !== r.id) throw new FlagError(`--resume continues the latest unfinished failover '${r.id}', not '${req.id}'`);
    id = r.id;
  } else {
    id = req.id ?? newFailoverId(clock.now());
  }
  // One actor at a time, across machines: the lease is taken before the journal is read, so of two operators
  // starting or resuming at once exactly one goes on; the other is refused naming the holder.
  const lease = ports.lease;
  const taken = lease ? await lease.acquire(id, { signal: req.signal, log: req.log }) : {};
  try {
    return await resolveAndRun(req, id, limits, taken.took_over);
  } finally {
    await lease?.release({ log: req.log });
  }
}

async function resolveAndRun(req: FailoverRequest, id: string, limits: FailoverLimits, tookOver: string | undefined): Promise<FailoverResult> {
  const { ports } = req;
  const journal = ports.journal;
  let existing: JournalSummary | undefined;
  let damage: string[] = [];
  const read = await journal.read(id);
  damage = read.damage;
  if (read.entries.length) existing = summarize(id, read.entries);

  let mode: FailoverMode, incident: Incident, from: string, to: string;
  if (existing?.begin) {
    const b = existing.begin;
    for (const [k, given, had] of [['mode', req.mode, b.mode], ['incident', req.incident, b.incident], ['from', req.from, b.from], ['to', req.to, b.to]] as const) {
      if (given !== undefined && given !== had) throw new UsageError(`failover '${id}' was journaled with ${k}=${had}, not ${given}: resume it as it started, or start a new failover`);
    }
    ({ mode, incident, from, to } = b);
    if (existing.end && existing.end.outcome !== 'completed') throw new UsageError(`failover '${id}' already ended (${existing.end.outcome}${existing.end.detail ? `: ${existing.end.detail}` : ''}); start a new failover`);
  } else {
    ({ mode, incident, from, to } = required(req));
    const other = await findResumable(journal);
    if (other && other.id !== id) {
      throw new RefusedError(`failover '${other.id}' (${other.mode} ${other.incident} ${other.from}→${other.to}) is unfinished: resume it (--resume) or abandon it before starting another; nothing was changed`, { unfinished: other.id });
    }
  }

  const plan = planFailover({ mode, incident, from, to, topology: req.topology, unavailable: unavailableOf(ports), limits });
  const ctx = new Run(req, plan, id, limits, damage, existing, tookOver);
  return ctx.execute();
}

function required(req: FailoverRequest): { mode: FailoverMode; incident: Incident; from: string; to: string } {
  const missing = (['mode', 'incident', 'from', 'to'] as const).filter((k) => req[k] === undefined);
  if (missing.length) throw new UsageError(`a failover needs ${missing.join(', ')}`);
  return { mode: req.mode!, incident: req.incident!, from: req.from!, to: req.to! };
}

/** One execution (fresh or resumed) of one failover id. */
class Run {
  private readonly ports: FailoverPorts;
  private readonly clock;
  private readonly steps: StepResult[] = [];
  private readonly notifications: FailoverResult['notifications'] = [];
  private readonly startedAt: string;
  private readonly state: RunState;
  private readonly call: CallOptions;

  constructor(
    private readonly req: FailoverRequest,
    private readonly plan: FailoverPlan,
    private readonly id: string,
    private readonly limits: FailoverLimits,
    private readonly damage: string[],
    private summary: JournalSummary | undefined,
    private readonly tookOver?: string,
  ) {
    this.ports = req.ports;
    this.clock = req.ports.clock ?? systemClock;
    this.startedAt = this.clock.now().toISOString();
    this.call = { signal: req.signal, log: req.log ? (l) => req.log!(redact(l)) : undefined };
    this.state = { pendingFences: summary?.pendingFences ?? [] };
  }

  private get p(): FailoverPlan {
    return this.plan;
  }

  private at(): string {
    return this.clock.now().toISOString();
  }

  private async append(entry: JournalEntry): Promise<void> {
    await this.ports.journal.append(entry);
  }

  private emit(name: StepName, status: 'running' | StepStatus, duration_ms?: number, detail?: string): void {
    try {
      this.req.listener?.({ step: name, status, duration_ms, detail: detail === undefined ? undefined : redact(detail) });
    } catch {
      // A listener must not break a failover.
    }
  }

  async execute(): Promise<FailoverResult> {
    const { id } = this;
    const { mode, incident, from, to } = this.p;
    if (!this.summary?.begin) {
      await this.append({ kind: 'begin', id, at: this.at(), mode, incident, from, to, runs: this.p.steps.filter((s) => s.runs).map((s) => s.name) });
      await this.notify('started', `${mode} ${incident} failover ${id} from ${from} to ${to} started`);
    } else if (!this.summary.end) {
      await this.notify('started', `${mode} ${incident} failover ${id} from ${from} to ${to} resumed`);
    }
    if (this.tookOver) await this.append({ kind: 'lease', id, at: this.at(), took_over: redact(this.tookOver) });

    for (const step of this.p.steps) {
      if (this.req.signal?.aborted) {
        await this.notify('failed', `${mode} ${incident} failover ${id} interrupted before ${step.name}`);
        throw new OperationError(`interrupted before ${step.name}; the failover is journaled as '${id}': rerun with the same id (or --resume) to continue where it stopped`, { result: this.result('failed') });
      }
      await this.checkLease(step.name);
      await this.runStep(step);
    }

    const pending = this.steps.filter((x) => x.status === 'pending').map((x) => x.name);
    const serves = `${to} now serves (${from} ${mode === 'planned' ? 'handed over' : 'lost'})${this.state.estimatedLoss ? `; estimated data loss: ${describeLoss(this.state.estimatedLoss)}` : ''}${this.state.pendingFences.length ? `; fence pending for ${this.state.pendingFences.map((f) => f.region).join(', ')}` : ''}`;
    if (pending.length) {
      // Traffic is served; what is left does not block it. The failover stays open so --resume finishes it.
      await this.notify('finished', `${mode} ${incident} failover ${id}: ${serves}; PENDING: ${pending.join(', ')} (resume with --resume)`);
      return this.result('serving');
    }
    if (!this.summary?.end) {
      await this.append({ kind: 'end', id, at: this.at(), outcome: 'completed' });
      await this.notify('finished', `${mode} ${incident} failover ${id}: ${serves}`);
    }
    return this.result('completed');
  }

  /** Before each step: still ours? A lease someone broke stops this run between steps (resumable, nothing half-done). */
  private async checkLease(next: StepName): Promise<void> {
    if (!this.ports.lease) return;
    try {
      await this.ports.lease.renew(this.call);
    } catch (err) {
      const { mode, incident } = this.p;
      await this.notify('failed', `${mode} ${incident} failover ${this.id} stopped before ${next}: ${errorText(err)}`);
      throw new OperationError(`stopped before ${next}: ${errorText(err)}`, { result: this.result('failed') }, { cause: err });
    }
  }

  private result(outcome: FailoverResult['outcome']): FailoverResult {
    const { mode, incident, from, to } = this.p;
    return {
      id: this.id,
      mode,
      incident,
      from,
      to,
      dry_run: false,
      outcome,
      steps: [...this.steps],
      plan: planToJson(this.p),
      ...(this.state.estimatedLoss ? { estimated_data_loss: this.state.estimatedLoss } : {}),
      pending_fences: this.state.pendingFences,
      notifications: this.notifications,
      journal_damage: this.damage,
      journal: this.ports.journal.location,
      started_at: this.startedAt,
      finished_at: this.at(),
    };
  }

  private async notify(kind: FailoverNotice['kind'], message: string): Promise<void> {
    if (this.ports.notifier.unavailable) return;
    const { mode, incident, from, to } = this.p;
    const notice: FailoverNotice = { kind, id: this.id, mode, incident, from, to, message: redact(message), steps: this.steps.map((s) => ({ ...s })) };
    try {
      const r = await this.ports.notifier.notify(notice, this.call);
      this.notifications.push({ kind, delivered: r.delivered, failed: r.failed.map((f) => ({ target: f.target, error: redact(f.error) })) });
    } catch (err) {
      this.notifications.push({ kind, delivered: [], failed: [{ target: 'notifier', error: redact(errorText(err)) }] });
    }
  }

  private async runStep(step: PlanStep): Promise<void> {
    const name = step.name;
    if (!step.runs) {
      if (!this.summary?.steps[name]) await this.append({ kind: 'step', id: this.id, at: this.at(), step: name, phase: 'skipped', status: 'skipped', detail: step.reason });
      this.record(name, 'skipped', 0, step.reason.replace(/^skipped: /, ''));
      return;
    }
    const journaled = this.summary?.steps[name];
    const wasDone = !!this.summary && stepDone(this.summary, name);
    if (wasDone) this.restore(name, journaled?.data);
    // A finished failover is never re-checked (a later failback may have changed the world on purpose),
    // preflight's conditions no longer hold once it acted, and record only writes the journal. Every other step of
    // an unfinished failover is re-checked against the world: done-before when the world agrees, re-applied
    // (towards `to` only) when not; verify, which only looks, is simply verified again.
    if (wasDone && (this.summary!.end || name === 'preflight' || name === 'record')) {
      this.record(name, 'done-before', 0, `journaled as done${journaled?.detail ? `: ${journaled.detail}` : ''}`);
      return;
    }
    this.emit(name, 'running');
    const t0 = this.clock.now().getTime();
    await this.append({ kind: 'step', id: this.id, at: this.at(), step: name, phase: 'started' });
    let out: StepOutcome;
    try {
      out = await STEP_RUNNERS[name](step, this.stepContext());
    } catch (err) {
      const ms = Math.max(0, this.clock.now().getTime() - t0);
      return this.fail(name, ms, err);
    }
    const ms = Math.max(0, this.clock.now().getTime() - t0);
    if (wasDone && out.status === 'ok') out.detail = name === 'verify' ? `verified again: ${out.detail ?? ''}` : `re-applied, the world had drifted from the journal: ${out.detail ?? ''}`;
    await this.append({ kind: 'step', id: this.id, at: this.at(), step: name, phase: out.status === 'skipped' || out.status === 'pending' ? out.status : 'done', status: out.status, duration_ms: ms, ...(out.detail ? { detail: redact(out.detail) } : {}), ...(out.data ? { data: out.data } : {}) });
    this.record(name, out.status, ms, out.detail);
  }

  private record(name: StepName, status: StepStatus, ms: number, detail?: string): void {
    const d = detail === undefined ? undefined : redact(detail);
    this.steps.push({ name, status, duration_ms: ms, ...(d ? { detail: d } : {}) });
    this.emit(name, status, ms, d);
  }

  private stepContext(): StepContext {
    return {
      id: this.id,
      ports: this.ports,
      plan: this.plan,
      topology: this.req.topology,
      limits: this.limits,
      call: this.call,
      lastKnown: this.req.lastKnown,
      force: this.req.force === true,
      state: this.state,
      at: () => this.at(),
      append: (entry) => this.append(entry),
    };
  }

  /** Re-establish what a journaled-done step computed, for the result of a resumed run. */
  private restore(name: StepName, data: Record<string, unknown> | undefined): void {
    if (!data) return;
    if ((name === 'preflight' || name === 'catch-up') && data.estimated_data_loss) this.state.estimatedLoss = data.estimated_data_loss as EstimatedDataLoss;
    if (name === 'catch-up' && typeof data.final_lsn === 'string') this.state.finalLsn = data.final_lsn;
    if (name === 'promote-cache' && typeof data.cache_left === 'string') this.state.cacheLeft = data.cache_left;
  }

  private async fail(name: StepName, ms: number, err: unknown): Promise<never> {
    const { mode, incident, from, to } = this.p;
    const message = redact(errorText(err));
    this.record(name, 'failed', ms, message);
    const isAbort = err instanceof AbortFailover;
    const isRefusal = err instanceof RefusedError;
    // Journal writes here are best-effort: if `dr` is dying, the rerun's checks decide.
    try {
      await this.append({ kind: 'step', id: this.id, at: this.at(), step: name, phase: 'failed', duration_ms: ms, detail: message });
      if (isRefusal) await this.append({ kind: 'end', id: this.id, at: this.at(), outcome: 'refused', detail: message });
      if (isAbort) await this.append({ kind: 'end', id: this.id, at: this.at(), outcome: 'aborted', detail: message });
    } catch (journalErr) {
      if (isCrashLike(journalErr)) throw journalErr;
    }
    if (isCrashLike(err)) throw err;
    await this.notify('failed', `${mode} ${incident} failover ${this.id} from ${from} to ${to}: ${name} ${isRefusal ? 'refused' : isAbort ? 'aborted' : 'failed'}: ${message}`);
    const result = this.result(isAbort ? 'aborted' : 'failed');
    if (isRefusal) throw new RefusedError((err as RefusedError).message, { ...((err as DrError).detail ?? {}), result });
    if (isAbort) throw new OperationError(`${message} The switchover was aborted; nothing was promoted.`, { result });
    if (err instanceof VerificationError) throw new VerificationError(`verify failed: ${message}. The failover is journaled as '${this.id}': fix it and resume (same id, or --resume).`, { result });
    throw new OperationError(`step ${name} failed: ${message}. The failover is journaled as '${this.id}': rerun with the same id (or --resume) to continue where it stopped.`, { result, step: name });
  }
}





