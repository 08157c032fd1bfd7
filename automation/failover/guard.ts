/**
 * The split-brain guard. After a failover the old primary must never take writes through the service name, even
 * when it comes back (a restarted server, a region recovering). The health monitor / `dr watch` calls
 * {@link guardOldPrimary} periodically: it fences the lost region's database (and cache, when the adapter can)
 * as soon as it answers, and never touches DNS (it only reports a record pointing at the lost region).
 *
 * It covers the bots too (issue 11, one consumer per token): when the lost region's secret store answers again, every
 * bot's copy there must say `active_region = <survivor>` — on AWS those copies became standalone when replication was
 * stopped and still name the old region — so the returning region's workers read `shouldConsume() === false` and
 * consume nothing. The guard writes each copy that says otherwise (check-then-act, the failover's id as the key).
 */

import { redact } from '../core/redact';
import { readAll, stepDone } from './journal';
import type { BotsPort, CallOptions, FailoverPorts, FenceTier, JournalPort } from './ports';
import type { JournalSummary } from './journal';
import { systemClock } from '../core/clock';

export interface GuardAction {
  tier: FenceTier;
  region: string;
  /** From the failover that made `region` the lost one. */
  failover: string;
  /**
   * `fenced`: it was back and writable, the guard fenced it now. `already-fenced`: nothing to do.
   * `pending`: still unreachable, the guard will retry. `standby`: rebuilt as a standby (failback), no risk.
   * `failed`: fencing it failed (see `error`), the guard will retry.
   */
  outcome: 'fenced' | 'already-fenced' | 'pending' | 'standby' | 'failed';
  error?: string;
  /** Bots: which copies were written now, and which could not be read yet (redacted). */
  detail?: string;
}

export interface GuardReport {
  actions: GuardAction[];
  /** DNS records that point at a lost region (reported, never re-pointed by the guard). */
  dnsWarnings: string[];
}

/**
 * Fence every lost old primary that is reachable again. The lost region of a tier is the `from` of the latest
 * failover (in journal order) whose promote step for that tier is done; a later failback supersedes an earlier
 * failover. Safe to call as often as wanted: it checks before acting and never acts on the serving region.
 */
export async function guardOldPrimary(ports: FailoverPorts, journal: JournalPort = ports.journal, opts: CallOptions = {}): Promise<GuardReport> {
  const clock = ports.clock ?? systemClock;
  const report: GuardReport = { actions: [], dnsWarnings: [] };
  const all = await readAll(journal);
  const latest = (step: 'promote-database' | 'promote-cache') => [...all].reverse().find((s) => s.begin && stepDone(s, step));
  const db = latest('promote-database');
  const cache = latest('promote-cache');

  if (db?.begin && !ports.database.unavailable) {
    const region = db.begin.from;
    const action: GuardAction = { tier: 'database', region, failover: db.id, outcome: 'pending' };
    try {
      const role = await ports.database.role(region, opts);
      if (role === 'standby') action.outcome = 'standby';
      else if (role === 'primary') {
        if (await ports.database.isFenced(region, opts)) action.outcome = 'already-fenced';
        else {
          await ports.database.fence(region, opts);
          action.outcome = 'fenced';
        }
      }
    } catch (err) {
      action.outcome = 'failed';
      action.error = redact(err instanceof Error ? err.message : String(err));
    }
    report.actions.push(action);
  }

  const cachePort = ports.cache;
  if (cache?.begin && !cachePort.unavailable && cachePort.fence && cachePort.isFenced) {
    const region = cache.begin.from;
    const action: GuardAction = { tier: 'cache', region, failover: cache.id, outcome: 'pending' };
    try {
      const role = await cachePort.role(region, opts);
      if (role === 'standby') action.outcome = 'standby';
      else if (role === 'primary') {
        if (await cachePort.isFenced(region, opts)) action.outcome = 'already-fenced';
        else {
          await cachePort.fence(region, opts);
          action.outcome = 'fenced';
        }
      }
    } catch (err) {
      action.outcome = 'failed';
      action.error = redact(err instanceof Error ? err.message : String(err));
    }
    report.actions.push(action);
  }

  const bots = [...all].reverse().find((s) => s.begin && stepDone(s, 'promote-secrets') && !!s.steps['promote-secrets']?.data?.active_region);
  if (bots?.begin && ports.bots && !ports.bots.unavailable) report.actions.push(await guardBots(ports.bots, bots, opts));

  // Close pending fences the guard has now satisfied, in the failover that recorded them.
  for (const s of all) {
    for (const pf of s.pendingFences) {
      const done = pf.tiers.filter((t) => report.actions.some((a) => a.tier === t && a.region === pf.region && (a.outcome === 'fenced' || a.outcome === 'already-fenced' || a.outcome === 'standby')));
      if (done.length) await journal.append({ kind: 'fenced', id: s.id, at: clock.now().toISOString(), region: pf.region, tiers: done });
    }
  }

  // DNS: report (never change) records that point at a lost region.
  if (!ports.dns.unavailable) {
    const lost = new Map<string, string>();
    for (const s of [db, cache]) if (s?.begin) lost.set(s.begin.from, s.begin.to);
    const last = [...all].reverse().find((s) => s.begin && stepDone(s, 'switch-dns'));
    const data = last?.steps['switch-dns']?.data;
    const records = Array.isArray(data?.records) ? data.records.filter((r): r is string => typeof r === 'string') : [];
    for (const rec of records) {
      try {
        const cur = await ports.dns.current(rec, opts);
        if (cur !== undefined && lost.has(cur)) report.dnsWarnings.push(`${rec} points at ${cur}, a lost region (serving: ${lost.get(cur)}); the guard does not change DNS`);
      } catch (err) {
        report.dnsWarnings.push(`${rec}: could not read (${redact(err instanceof Error ? err.message : String(err))})`);
      }
    }
  }
  return report;
}

/**
 * The bots' copies in the lost region of the latest failover that moved the consumers: every copy that answers and
 * names another region is set to the survivor; `pending` while any copy does not answer.
 */
async function guardBots(bots: BotsPort, s: JournalSummary, opts: CallOptions): Promise<GuardAction> {
  const { from: region, to: survivor } = s.begin!;
  const action: GuardAction = { tier: 'bots', region, failover: s.id, outcome: 'pending' };
  try {
    const copies = await bots.activeRegions(region, opts);
    const written: string[] = [];
    const waiting: string[] = [];
    for (const c of copies) {
      if (c.state !== 'read') waiting.push(`${c.bot} ${c.state}`);
      else if (c.active_region !== survivor) {
        await bots.setActiveRegion(region, c.bot, survivor, { ...opts, failover: s.id });
        written.push(c.bot);
      }
    }
    action.outcome = waiting.length ? 'pending' : written.length ? 'fenced' : 'already-fenced';
    const parts = [...(written.length ? [`active_region=${survivor} written in ${region}'s copy of ${written.join(', ')}`] : []), ...(waiting.length ? [`not yet readable in ${region}: ${waiting.join(', ')}`] : [])];
    if (parts.length) action.detail = redact(parts.join('; '));
  } catch (err) {
    action.outcome = 'failed';
    action.error = redact(err instanceof Error ? err.message : String(err));
  }
  return action;
}
