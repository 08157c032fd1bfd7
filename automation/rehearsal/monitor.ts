/**
 * Health monitor for the local environment. Every `intervalMs` (default 1 s) it checks the primary behind each
 * service name (the region the DNS file names for `database` and `cache`): the database must answer as a
 * primary, the cache likewise. While the database answers it also samples replication (the last known lag,
 * used as the estimated loss when the primary is gone). After `threshold` (default 3) consecutive failures it
 * raises an incident — `datacenter` when both tiers fail, otherwise the failing tier — and, only with
 * `autoFailover`, runs the failover engine (unplanned). Without it, it only alerts: the manual override.
 *
 * Whenever the journal holds a failover, every tick also runs the split-brain guard, which fences the old
 * primary as soon as it comes back.
 */
import { readDnsFile } from '../adapters/rehearsal/local-dns';
import { localPorts, localTopology } from '../adapters/rehearsal/index';
import { type IncidentAlert, LocalNotifier } from '../adapters/rehearsal/local-notifier';
import { type FailoverPorts, type FailoverResult, type GuardAction, guardOldPrimary, type Incident, type NotifyReport, readAll, type ReplicationState, runFailover, type StepListener } from '../failover/index';
import { sleep } from '../adapters/tools/proc';
import { isRegion, type LocalState, otherRegion } from '../adapters/rehearsal/state';
import { UsageError } from '../core/errors';

export type MonitorEvent =
  | { kind: 'check'; at: number; slot: number; database: boolean; cache: boolean; db_region: string; cache_region: string; lag_seconds?: number; lag_bytes?: number }
  | { kind: 'failure'; at: number; slot: number; tier: 'database' | 'cache'; region: string; consecutive: number; error?: string }
  | { kind: 'recovered'; at: number; tier: 'database' | 'cache'; region: string }
  | { kind: 'incident'; at: number; incident: Incident; from: string; to: string; auto_failover: boolean; alerted: boolean }
  | { kind: 'failover'; at: number; result?: FailoverResult; error?: string }
  | { kind: 'guard'; at: number; action: GuardAction }
  | { kind: 'dns-warning'; at: number; warning: string };

export interface MonitorOptions {
  state: LocalState;
  intervalMs?: number;
  threshold?: number;
  autoFailover?: boolean;
  /** Stop after the first triggered failover finished (the drill); `dr watch` keeps going. */
  stopAfterFailover?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: MonitorEvent) => void;
  /** Step progress of a triggered failover. */
  listener?: StepListener;
  ports?: FailoverPorts;
  /** Where incident alerts go (default: the environment's notifications log, the local stand-in for SNS). */
  alert?: (a: IncidentAlert) => Promise<NotifyReport>;
}

export interface MonitorOutcome {
  incident?: { incident: Incident; from: string; to: string; detected_at: number; first_failure_at: number };
  failover?: FailoverResult;
  failover_error?: string;
}

export async function runMonitor(o: MonitorOptions): Promise<MonitorOutcome> {
  const interval = o.intervalMs ?? 1000;
  const threshold = o.threshold ?? 3;
  if (!(interval >= 100)) throw new UsageError(`check interval must be at least 100 ms, got ${interval}`);
  if (!(Number.isInteger(threshold) && threshold >= 1)) throw new UsageError(`failure threshold must be a whole number ≥ 1, got ${threshold}`);
  const ports = o.ports ?? localPorts(o.state);
  const emit = (e: MonitorEvent) => {
    try {
      o.onEvent?.(e);
    } catch {
      /* a listener must not stop the monitor */
    }
  };
  const fails = { database: 0, cache: 0 };
  const firstFail = { database: 0, cache: 0 };
  let lastKnown: ReplicationState | undefined;
  const outcome: MonitorOutcome = {};
  let alerted = false;
  let guardActive = (await readAll(ports.journal)).some((s) => s.steps['promote-database']?.phase === 'done' || s.steps['promote-cache']?.phase === 'done');
  let next = Date.now();
  while (!o.signal?.aborted) {
    // `slot`: when this check was due. Slots are at least one interval apart, however late a check starts.
    const slot = next;
    const at = Date.now();
    let records: Record<string, string> = {};
    try {
      records = readDnsFile(o.state.dns_file).records;
    } catch {
      records = {};
    }
    const dbRegion = records.database ?? 'a';
    const cacheRegion = records.cache ?? 'a';
    const [dbRole, cacheRole] = await Promise.all([ports.database.role(dbRegion), ports.cache.role(cacheRegion)]);
    const dbOk = dbRole === 'primary';
    const cacheOk = cacheRole === 'primary';
    const check: MonitorEvent = { kind: 'check', at, slot, database: dbOk, cache: cacheOk, db_region: dbRegion, cache_region: cacheRegion };
    if (dbOk && isRegion(dbRegion)) {
      try {
        const rep = await ports.database.replicationState(dbRegion, otherRegion(dbRegion));
        if (rep.primaryReachable && rep.standbyReplayLsn) {
          lastKnown = rep;
          check.lag_seconds = rep.lagSeconds;
          check.lag_bytes = rep.lagBytes;
        }
      } catch {
        /* sampling is best effort */
      }
    }
    emit(check);
    for (const [tier, ok, region, role] of [['database', dbOk, dbRegion, dbRole], ['cache', cacheOk, cacheRegion, cacheRole]] as const) {
      if (ok) {
        if (fails[tier] > 0) emit({ kind: 'recovered', at, tier, region });
        fails[tier] = 0;
      } else {
        if (fails[tier] === 0) firstFail[tier] = at;
        fails[tier]++;
        emit({ kind: 'failure', at, slot, tier, region, consecutive: fails[tier], error: role === 'unreachable' ? 'does not answer' : `answers as ${role}` });
      }
    }
    if (!fails.database && !fails.cache) alerted = false;
    const tripped = fails.database >= threshold || fails.cache >= threshold;
    if (tripped && !alerted) {
      alerted = true;
      const incident: Incident = fails.database > 0 && fails.cache > 0 ? 'datacenter' : fails.database >= threshold ? 'database' : 'cache';
      const from = incident === 'cache' ? cacheRegion : dbRegion;
      const to = isRegion(from) ? otherRegion(from) : 'b';
      const first = Math.min(...(['database', 'cache'] as const).filter((t) => fails[t] > 0).map((t) => firstFail[t]));
      outcome.incident = { incident, from, to, detected_at: Date.now(), first_failure_at: first };
      // Alert first, in both modes: without --auto-failover the alert is all there is (someone has to decide).
      const message = o.autoFailover
        ? `${incident} incident: ${from} failed ${threshold} consecutive checks; failing over to ${to} automatically`
        : `${incident} incident: ${from} failed ${threshold} consecutive checks; NOT failing over (alert only). To fail over: dr failover --local --unplanned --incident ${incident} --yes`;
      let alertedOk = true;
      try {
        const rep = await (o.alert ?? ((a: IncidentAlert) => new LocalNotifier(o.state.notifications_log).alert(a)))({ kind: 'incident', incident, from, to, auto_failover: !!o.autoFailover, message });
        alertedOk = rep.delivered.length > 0;
      } catch {
        alertedOk = false;
      }
      emit({ kind: 'incident', at: Date.now(), incident, from, to, auto_failover: !!o.autoFailover, alerted: alertedOk });
      if (o.autoFailover) {
        try {
          outcome.failover = await runFailover({ ports, topology: localTopology(o.state), mode: 'unplanned', incident, from, to, confirm: true, lastKnown, listener: o.listener, signal: o.signal });
          emit({ kind: 'failover', at: Date.now(), result: outcome.failover });
        } catch (err) {
          outcome.failover_error = err instanceof Error ? err.message : String(err);
          emit({ kind: 'failover', at: Date.now(), error: outcome.failover_error });
        }
        guardActive = true;
        fails.database = 0;
        fails.cache = 0;
        alerted = false;
        if (o.stopAfterFailover) return outcome;
      }
    }
    if (guardActive) {
      try {
        const g = await guardOldPrimary(ports);
        for (const a of g.actions) if (a.outcome === 'fenced' || a.outcome === 'failed') emit({ kind: 'guard', at: Date.now(), action: a });
        for (const w of g.dnsWarnings) emit({ kind: 'dns-warning', at: Date.now(), warning: w });
      } catch {
        /* retried next tick */
      }
    }
    next += interval;
    const now = Date.now();
    if (next < now) next = now;
    try {
      await sleepUnlessAborted(next - now, o.signal);
    } catch {
      break;
    }
  }
  return outcome;
}

function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return sleep(ms);
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
