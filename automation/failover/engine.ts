/**
 * The failover engine: executes a {@link FailoverPlan} over the ports, one journaled, idempotent step at a time.
 *
 * Every step: journal `started` → CHECK the world (already done? → `done-before`) → ACT → journal `done`.
 * A rerun with the same id (or `resume`) skips steps the journal says are done and re-checks any step that was
 * started but not journaled as done, so a crash anywhere — before an act, or after it but before the journal
 * write — converges without acting twice: it never promotes twice and never points DNS back.
 */

import { systemClock } from '../core/clock';
import { DrError, errorText, OperationError, RefusedError, UsageError, VerificationError } from '../core/errors';
import { redact } from '../core/redact';
import { findResumable, stepDone, summarize, JournalSummary } from './journal';
import type { CallOptions, FailoverNotice, FailoverPorts, JournalEntry, ReplicationState, StepListener } from './ports';
import { DEFAULT_LIMITS, FailoverLimits, FailoverPlan, PlanStep, Topology, Unavailable, planFailover, planToJson, regionOf } from './plan';
import { FailoverMode, Incident, StepName, StepStatus, incidentMoves } from './steps';

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
}

export interface StepResult {
  name: StepName;
  status: StepStatus;
  duration_ms: number;
  detail?: string;
}

export interface EstimatedDataLoss {
  tier: 'database' | 'cache';
  lag_seconds?: number;
  lag_bytes?: number;
  /** When the lag figures were observed (ISO 8601). */
  observed_at?: string;
  /** How the estimate was obtained, for people. */
  basis: string;
}

export interface FailoverResult {
  id: string;
  mode: FailoverMode;
  incident: Incident;
  from: string;
  to: string;
  dry_run: boolean;
  /** `planned` for a dry-run. */
  outcome: 'completed' | 'aborted' | 'failed' | 'planned';
  steps: StepResult[];
  /** The plan (always present: dry-run prints it, execution reports it). */
  plan: ReturnType<typeof planToJson>;
  /** Unplanned only: what the failover may have lost. */
  estimated_data_loss?: EstimatedDataLoss;
  /** Regions the split-brain guard still has to fence when they come back. */
  pending_fences: Array<{ region: string; tiers: Array<'database' | 'cache'> }>;
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
  return u;
}

/** A new failover id: sortable by time, unique enough for one team. */
export function newFailoverId(now: Date, rand: () => number = Math.random): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `fo-${ts}-${Math.floor(rand() * 0xffffff).toString(16).padStart(6, '0')}`;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** What one step function reports. */
interface StepOutcome {
  status: 'ok' | 'done-before' | 'skipped';
  detail?: string;
  data?: Record<string, unknown>;
}

/** Raised inside a step when a planned switchover must stop and restore the world (catch-up timeout). */
class AbortFailover extends Error {}

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
    if (req.resume) throw new UsageError('--dry-run and --resume do not go together: a dry-run plans a new failover');
    const { mode, incident, from, to } = required(req);
    const plan = planFailover({ mode, incident, from, to, topology: req.topology, unavailable: unavailableOf(ports), limits });
    const at = clock.now().toISOString();
    return { id: req.id ?? 'dry-run', mode, incident, from, to, dry_run: true, outcome: 'planned', steps: [], plan: planToJson(plan), pending_fences: [], notifications: [], journal_damage: [], journal: journal.location, started_at: at, finished_at: at };
  }

  if (!req.confirm) throw new RefusedError('a failover changes production: confirm it (pass --yes, or answer the prompt); nothing was changed');

  // Which failover: resume one or start one.
  let id: string;
  let existing: JournalSummary | undefined;
  let damage: string[] = [];
  if (req.resume) {
    const r = await findResumable(journal);
    if (!r) throw new UsageError(`there is no unfinished failover to resume in ${journal.location}`);
    if (req.id && req.id !== r.id) throw new UsageError(`--resume continues the latest unfinished failover '${r.id}', not '${req.id}'`);
    id = r.id;
  } else {
    id = req.id ?? newFailoverId(clock.now());
  }
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
  const ctx = new Run(req, plan, id, limits, damage, existing);
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
  private estimatedLoss: EstimatedDataLoss | undefined;
  private pendingFences: FailoverResult['pending_fences'] = [];
  private finalLsn: string | undefined;
  private readonly call: CallOptions;

  constructor(
    private readonly req: FailoverRequest,
    private readonly plan: FailoverPlan,
    private readonly id: string,
    private readonly limits: FailoverLimits,
    private readonly damage: string[],
    private summary: JournalSummary | undefined,
  ) {
    this.ports = req.ports;
    this.clock = req.ports.clock ?? systemClock;
    this.startedAt = this.clock.now().toISOString();
    this.call = { signal: req.signal, log: req.log ? (l) => req.log!(redact(l)) : undefined };
    this.pendingFences = summary?.pendingFences ?? [];
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

    for (const step of this.p.steps) {
      if (this.req.signal?.aborted) {
        await this.notify('failed', `${mode} ${incident} failover ${id} interrupted before ${step.name}`);
        throw new OperationError(`interrupted before ${step.name}; the failover is journaled as '${id}': rerun with the same id (or --resume) to continue where it stopped`, { result: this.result('failed') });
      }
      await this.runStep(step);
    }

    if (!this.summary?.end) {
      await this.append({ kind: 'end', id, at: this.at(), outcome: 'completed' });
      await this.notify('finished', `${mode} ${incident} failover ${id}: ${to} now serves (${from} lost)${this.estimatedLoss ? `; estimated data loss: ${describeLoss(this.estimatedLoss)}` : ''}${this.pendingFences.length ? `; fence pending for ${this.pendingFences.map((f) => f.region).join(', ')}` : ''}`);
    }
    return this.result('completed');
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
      ...(this.estimatedLoss ? { estimated_data_loss: this.estimatedLoss } : {}),
      pending_fences: this.pendingFences,
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
    // A finished failover is never re-checked (a later failback may have changed the world on purpose), and
    // preflight's conditions no longer hold once it acted. Every other step of an unfinished failover is
    // re-checked against the world: done-before when the world agrees, re-applied (towards `to` only) when not.
    if (wasDone && (this.summary!.end || name === 'preflight')) {
      this.record(name, 'done-before', 0, `journaled as done${journaled?.detail ? `: ${journaled.detail}` : ''}`);
      return;
    }
    this.emit(name, 'running');
    const t0 = this.clock.now().getTime();
    await this.append({ kind: 'step', id: this.id, at: this.at(), step: name, phase: 'started' });
    let out: StepOutcome;
    try {
      out = await this.act(step);
    } catch (err) {
      const ms = Math.max(0, this.clock.now().getTime() - t0);
      return this.fail(name, ms, err);
    }
    const ms = Math.max(0, this.clock.now().getTime() - t0);
    if (wasDone && out.status === 'ok') out.detail = `re-applied, the world had drifted from the journal: ${out.detail ?? ''}`;
    await this.append({ kind: 'step', id: this.id, at: this.at(), step: name, phase: out.status === 'skipped' ? 'skipped' : 'done', status: out.status, duration_ms: ms, ...(out.detail ? { detail: redact(out.detail) } : {}), ...(out.data ? { data: out.data } : {}) });
    this.record(name, out.status, ms, out.detail);
  }

  private record(name: StepName, status: StepStatus, ms: number, detail?: string): void {
    const d = detail === undefined ? undefined : redact(detail);
    this.steps.push({ name, status, duration_ms: ms, ...(d ? { detail: d } : {}) });
    this.emit(name, status, ms, d);
  }

  /** Re-establish what a journaled-done step computed, for the result of a resumed run. */
  private restore(name: StepName, data: Record<string, unknown> | undefined): void {
    if (!data) return;
    if (name === 'preflight' && data.estimated_data_loss) this.estimatedLoss = data.estimated_data_loss as EstimatedDataLoss;
    if (name === 'catch-up' && typeof data.final_lsn === 'string') this.finalLsn = data.final_lsn;
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

  // --- the steps -------------------------------------------------------------------------------------------------

  private act(step: PlanStep): Promise<StepOutcome> {
    switch (step.name) {
      case 'preflight':
        return this.preflight();
      case 'fence':
        return this.fence(step);
      case 'catch-up':
        return this.catchUp();
      case 'promote-database':
        return this.promoteDatabase();
      case 'promote-cache':
        return this.promoteCache();
      case 'promote-secrets':
        return this.promoteSecrets(step);
      case 'switch-dns':
        return this.switchDns(step);
      case 'verify':
        return this.verify(step);
      case 'record':
        return this.recordStep();
    }
  }

  private async preflight(): Promise<StepOutcome> {
    const { ports, call } = this;
    const { mode, incident, from, to } = this.p;
    const moves = incidentMoves(incident);
    const planned = mode === 'planned';
    const notes: string[] = [];
    const data: Record<string, unknown> = {};
    if (moves.database && !ports.database.unavailable) {
      const [roleFrom, roleTo] = [await ports.database.role(from, call), await ports.database.role(to, call)];
      if (roleTo === 'unreachable') throw new RefusedError(`the database in ${to} does not answer: there is nothing to fail over to`);
      if (planned && roleFrom === 'unreachable') throw new RefusedError(`the primary database in ${from} does not answer, so a planned switchover cannot guarantee zero loss; use --unplanned to promote ${to} anyway`);
      if (planned && roleFrom !== 'primary') throw new RefusedError(`the database in ${from} is a ${roleFrom}, not the primary: nothing to switch over from ${from}`);
      if (planned && roleTo === 'primary') throw new RefusedError(`both ${from} and ${to} report a primary database (split brain): fence one by hand before any switchover`);
      const rep = await ports.database.replicationState(from, to, call);
      if (planned) {
        if (!rep.primaryReachable) throw new RefusedError(`the primary database in ${from} does not answer, so a planned switchover cannot guarantee zero loss; use --unplanned to promote ${to} anyway`);
        if (rep.lagSeconds === undefined) throw new RefusedError(`the replication lag of ${to} is unknown; a planned switchover needs it within ${this.limits.maxLagSeconds}s. Use --unplanned to promote anyway`);
        if (rep.lagSeconds > this.limits.maxLagSeconds) throw new RefusedError(`the standby in ${to} lags ${rep.lagSeconds}s behind ${from}, over the limit of ${this.limits.maxLagSeconds}s: wait for it to catch up, raise the limit, or use --unplanned (it may lose up to that lag)`, { lag_seconds: rep.lagSeconds, limit_seconds: this.limits.maxLagSeconds });
        notes.push(`database: ${from} primary answers, ${to} standby lags ${rep.lagSeconds}s${rep.lagBytes !== undefined ? ` / ${rep.lagBytes} bytes` : ''} (limit ${this.limits.maxLagSeconds}s)`);
      } else {
        const basisRep = newest(rep, this.req.lastKnown);
        this.estimatedLoss = {
          tier: 'database',
          ...(basisRep.lagSeconds !== undefined ? { lag_seconds: basisRep.lagSeconds } : {}),
          ...(basisRep.lagBytes !== undefined ? { lag_bytes: basisRep.lagBytes } : {}),
          observed_at: basisRep.observedAt,
          basis: basisRep.primaryReachable
            ? `current replication lag (primary ${from} still answers)`
            : basisRep.lagSeconds === undefined && basisRep.lagBytes === undefined
              ? `unknown: no replication lag was observed before ${from} was lost`
              : `last known replication lag before ${from} was lost`,
        };
        data.estimated_data_loss = this.estimatedLoss;
        notes.push(`database: ${to} is ${roleTo}, ${from} is ${roleFrom}; estimated data loss ${describeLoss(this.estimatedLoss)}`);
      }
    }
    if (moves.cache && !ports.cache.unavailable && regionOf(this.req.topology, to).cache) {
      const [cFrom, cTo] = [await ports.cache.role(from, call), await ports.cache.role(to, call)];
      if (cTo === 'unreachable') throw new RefusedError(`the cache in ${to} does not answer: there is nothing to fail over to`);
      if (planned && cFrom === 'unreachable') throw new RefusedError(`the primary cache in ${from} does not answer, so a planned switchover is not possible; use --unplanned`);
      notes.push(`cache: ${from} ${cFrom}, ${to} ${cTo}`);
      if (!planned && !moves.database) {
        this.estimatedLoss = { tier: 'cache', basis: `cache writes not yet replicated to ${to} are lost; the cache replication lag is not measured` };
        data.estimated_data_loss = this.estimatedLoss;
      }
    }
    const stacks = [regionOf(this.req.topology, from), regionOf(this.req.topology, to)].filter((r) => r.stack);
    if (stacks.length && !ports.stacks.unavailable) {
      for (const r of stacks) {
        try {
          await ports.stacks.refresh(r.name, call);
          notes.push(`stack ${r.stack} refreshed`);
        } catch (err) {
          if (isCrashLike(err)) throw err;
          if (r.name === to || planned) throw new OperationError(`cannot refresh stack ${r.stack} in ${r.name}: ${errorText(err)}`);
          notes.push(`stack ${r.stack} in ${r.name} could not be refreshed (${errorText(err)}); going on, the region is lost`);
        }
      }
    }
    return { status: 'ok', detail: notes.join('; '), data };
  }

  private async fence(step: PlanStep): Promise<StepOutcome> {
    const { ports, call } = this;
    const { from, mode } = this.p;
    const acted: string[] = [];
    const already: string[] = [];
    const pending: Array<'database' | 'cache'> = [];
    if (step.target.database) {
      if (await ports.database.isFenced(from, call)) already.push('database');
      else if ((await ports.database.role(from, call)) === 'unreachable') {
        if (mode === 'planned' && (await ports.database.role(this.p.to, call)) !== 'primary') throw new OperationError(`the primary database in ${from} stopped answering before it could be fenced; a planned switchover cannot go on. Abandon this failover and run an unplanned one`);
        pending.push('database');
      } else {
        await ports.database.fence(from, call);
        acted.push('database');
      }
    }
    const cache = ports.cache;
    if (step.target.cache && cache.fence && cache.isFenced) {
      if (await cache.isFenced(from, call)) already.push('cache');
      else if ((await cache.role(from, call)) === 'unreachable') {
        if (mode === 'planned' && (await cache.role(this.p.to, call)) !== 'primary') throw new OperationError(`the primary cache in ${from} stopped answering before it could be fenced; abandon this failover and run an unplanned one`);
        pending.push('cache');
      } else {
        await cache.fence(from, call);
        acted.push('cache');
      }
    }
    if (pending.length) {
      const known = this.pendingFences.find((f) => f.region === from);
      if (!known || pending.some((t) => !known.tiers.includes(t))) {
        await this.append({ kind: 'pending-fence', id: this.id, at: this.at(), region: from, tiers: pending });
        this.pendingFences = [...this.pendingFences.filter((f) => f.region !== from), { region: from, tiers: [...new Set([...(known?.tiers ?? []), ...pending])] }];
      }
    } else if (this.pendingFences.some((f) => f.region === from)) {
      // It came back and is fenced now: close the pending fence.
      const tiers = this.pendingFences.find((f) => f.region === from)!.tiers;
      await this.append({ kind: 'fenced', id: this.id, at: this.at(), region: from, tiers });
      this.pendingFences = this.pendingFences.filter((f) => f.region !== from);
    }
    const parts = [
      ...(acted.length ? [`fenced ${acted.join(' and ')} in ${from}`] : []),
      ...(already.length ? [`${already.join(' and ')} in ${from} already fenced`] : []),
      ...(pending.length ? [`${pending.join(' and ')} in ${from} unreachable: fence pending, the split-brain guard fences it as soon as it answers`] : []),
    ];
    const status = acted.length ? 'ok' : already.length ? 'done-before' : 'skipped';
    return { status, detail: parts.join('; ') };
  }

  private async catchUp(): Promise<StepOutcome> {
    const { ports, call } = this;
    const { from, to } = this.p;
    if ((await ports.database.role(to, call)) === 'primary') return { status: 'done-before', detail: `${to} is already promoted` };
    const finalLsn = await ports.database.currentLsn(from, call);
    this.finalLsn = finalLsn;
    const r = await ports.database.waitForReplay(to, finalLsn, this.limits.catchUpTimeoutMs, call);
    if (!r.caughtUp) {
      const msg = `catch-up timed out: after ${Math.round(this.limits.catchUpTimeoutMs / 1000)}s the standby in ${to} had replayed ${r.replayLsn ?? 'an unknown position'} of ${from}'s final position ${finalLsn}.`;
      const undone: string[] = [];
      try {
        if (await ports.database.isFenced(from, call)) {
          await ports.database.unfence(from, call);
          undone.push('database');
        }
        if (ports.cache.unfence && ports.cache.isFenced && (await ports.cache.isFenced(from, call))) {
          await ports.cache.unfence(from, call);
          undone.push('cache');
        }
      } catch (err) {
        if (isCrashLike(err)) throw err;
        throw new OperationError(`${msg} Unfencing ${from} failed too (${errorText(err)}): ${from} is still read-only; unfence it by hand or resume`);
      }
      throw new AbortFailover(`${msg} ${undone.length ? `${from}'s ${undone.join(' and ')} unfenced and writable again.` : ''}`.trim());
    }
    return { status: 'ok', detail: `${to} replayed ${r.replayLsn ?? finalLsn}, ${from}'s final WAL position ${finalLsn}`, data: { final_lsn: finalLsn, replay_lsn: r.replayLsn ?? finalLsn } };
  }

  private async promoteDatabase(): Promise<StepOutcome> {
    const { ports, call } = this;
    const { to, from } = this.p;
    const before = await ports.database.role(to, call);
    if (before === 'primary') return { status: 'done-before', detail: `${to} is already the primary` };
    if (before === 'unreachable') throw new OperationError(`the database in ${to} does not answer`);
    await ports.database.promote(to, call);
    const after = await ports.database.role(to, call);
    if (after !== 'primary') throw new OperationError(`promotion of the database in ${to} returned but it reports ${after}`);
    return { status: 'ok', detail: `${to} promoted (was standby of ${from})${this.finalLsn ? ` at ${this.finalLsn}` : ''}` };
  }

  private async promoteCache(): Promise<StepOutcome> {
    const { ports, call } = this;
    const { to, from, mode } = this.p;
    const before = await ports.cache.role(to, call);
    if (before === 'primary') return { status: 'done-before', detail: `cache in ${to} is already the primary` };
    if (before === 'unreachable') throw new OperationError(`the cache in ${to} does not answer`);
    await ports.cache.promote(to, { ...call, planned: mode === 'planned', from });
    const after = await ports.cache.role(to, call);
    if (after !== 'primary') throw new OperationError(`promotion of the cache in ${to} returned but it reports ${after}`);
    return { status: 'ok', detail: `cache in ${to} promoted` };
  }

  private async promoteSecrets(step: PlanStep): Promise<StepOutcome> {
    const { ports, call } = this;
    const { to } = this.p;
    const ids = asList(step.target.secrets);
    const acted: string[] = [];
    for (const sid of ids) {
      if (await ports.secrets.isPromoted(to, sid, call)) continue;
      await ports.secrets.promote(to, sid, call);
      acted.push(sid);
    }
    if (!acted.length) return { status: 'done-before', detail: `${ids.length} secret(s) in ${to} already writable` };
    return { status: 'ok', detail: `${acted.length} of ${ids.length} secret(s) made writable in ${to}` };
  }

  private async switchDns(step: PlanStep): Promise<StepOutcome> {
    const { ports, call } = this;
    const { to } = this.p;
    const acted: string[] = [];
    for (const rec of asList(step.target.records)) {
      if ((await ports.dns.current(rec, call)) === to) continue;
      await ports.dns.point(rec, to, call);
      acted.push(rec);
    }
    const data = { records: asList(step.target.records), region: to };
    if (!acted.length) return { status: 'done-before', detail: `already pointing at ${to}`, data };
    return { status: 'ok', detail: `${acted.join(', ')} → ${to}`, data };
  }

  private async verify(step: PlanStep): Promise<StepOutcome> {
    const { ports, call } = this;
    const { to, from } = this.p;
    const problems: string[] = [];
    const ok: string[] = [];
    if (step.target.database) {
      if (await ports.database.writable(to, call)) ok.push(`database in ${to} takes writes`);
      else problems.push(`the database in ${to} does not take writes`);
      if ((await ports.database.role(from, call)) === 'primary' && !(await ports.database.isFenced(from, call))) problems.push(`the old primary database in ${from} answers, unfenced: split-brain risk`);
    }
    if (step.target.cache) {
      if (await ports.cache.writable(to, call)) ok.push(`cache in ${to} takes writes`);
      else problems.push(`the cache in ${to} does not take writes`);
    }
    for (const rec of asList(step.target.records)) {
      const cur = await ports.dns.current(rec, call);
      if (cur === to) ok.push(`${rec} → ${to}`);
      else problems.push(`${rec} points at ${cur ?? 'nothing'}, not ${to}`);
    }
    if (problems.length) throw new VerificationError(problems.join('; '));
    return { status: 'ok', detail: ok.join('; ') };
  }

  private async recordStep(): Promise<StepOutcome> {
    const { ports, call } = this;
    const { to, from, incident } = this.p;
    const hasStacks = this.req.topology.regions.some((r) => r.stack);
    if (!hasStacks || ports.stacks.unavailable) {
      return { status: 'ok', detail: `journal ${ports.journal.location}: ${to} serves, ${from} lost${ports.stacks.unavailable ? ` (stacks: ${ports.stacks.unavailable})` : ''}` };
    }
    const change = { id: this.id, incident, survivor: to, lost: from };
    if (await ports.stacks.isRetargeted(change, call)) return { status: 'done-before', detail: `stacks already say ${to} serves and ${from} is secondary` };
    await ports.stacks.retarget(change, call);
    return { status: 'ok', detail: `stacks re-targeted: ${to} primary, ${from} secondary; journal ${ports.journal.location}` };
  }
}

function asList(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function newest(rep: ReplicationState, lastKnown: ReplicationState | undefined): ReplicationState {
  if (rep.primaryReachable || !lastKnown) return rep;
  const known = (r: ReplicationState) => r.lagSeconds !== undefined || r.lagBytes !== undefined;
  if (!known(rep)) return known(lastKnown) ? lastKnown : rep;
  return Date.parse(lastKnown.observedAt) > Date.parse(rep.observedAt) && known(lastKnown) ? lastKnown : rep;
}

export function describeLoss(l: EstimatedDataLoss): string {
  if (l.lag_seconds === undefined && l.lag_bytes === undefined) return l.basis;
  const parts = [l.lag_seconds !== undefined ? `≤ ${l.lag_seconds}s of writes` : undefined, l.lag_bytes !== undefined ? `${l.lag_bytes} bytes of WAL` : undefined].filter(Boolean);
  return `${parts.join(' / ')} (${l.basis}${l.observed_at ? `, observed ${l.observed_at}` : ''})`;
}


/**
 * An error that means "this process is dying right here" (the fakes' injected CrashError): the engine must not
 * clean up after it — the journal and the checks take over on the rerun. (An operator's interrupt is not one:
 * it is journaled as a failed step and reported.)
 */
function isCrashLike(err: unknown): boolean {
  return err instanceof Error && err.name === 'CrashError';
}
