/**
 * `dr failback --local`: return service to the home region (default `a`) after a failover, losing nothing.
 *
 * 1. Find the tiers that moved (the DNS file's `database` / `cache` records point away from home).
 * 2. Keep what the old primary holds: before anything rewinds it, its state becomes a verified divergent backup in
 *    the serving region's bucket (`divergent/…dump` + manifest: the rows that differ from the serving database and
 *    the transactions after the split; ./failback-divergent.ts). If that backup or its check fails, the failback
 *    stops here and nothing is rewound.
 * 3. Rebuild home's moved tiers as replicas of the serving region: PostgreSQL via `pg_rewind` (wal_log_hints is
 *    on) or a fresh `pg_basebackup` when rewind is impossible, streaming through a slot; Redis `REPLICAOF`.
 * 4. Planned switchover back (the engine: fence, catch-up to the final WAL position, promote, DNS, verify).
 * 5. Rebuild the region that just handed over as a replica of home again, so the environment is back to its
 *    normal shape (home primary, other region streaming) and ready for the next drill.
 */
import { localPorts, localTopology } from '../adapters/rehearsal/index';
import { readDnsFile } from '../adapters/rehearsal/local-dns';
import { OperationError, RefusedError, UsageError } from '../core/errors';
import { runFailover } from '../failover/index';
import type { FailoverResult, Incident, StepListener } from '../failover/index';
import { rebuildCacheReplica, rebuildDatabaseStandby } from './environment';
import { type DivergentSummary, preserveDivergent } from './failback-divergent';
import type { LocalState, RegionName } from '../adapters/rehearsal/state';
import { otherRegion } from '../adapters/rehearsal/state';

export interface FailbackOptions {
  home?: RegionName;
  confirm: boolean;
  log?: (line: string) => void;
  listener?: StepListener;
  signal?: AbortSignal;
  /** Planned-switchover limits. */
  maxLagSeconds?: number;
}

export interface FailbackResult {
  home: RegionName;
  from: RegionName;
  incident: Incident;
  rebuilt: { database?: 'pg_rewind' | 'pg_basebackup'; cache?: boolean };
  /**
   * The old primary's state kept before the rewind (absent when the database did not move, or home was already a
   * standby): how many rows differ from the serving database, per table, and where they are kept.
   */
  divergent?: DivergentSummary;
  switchover: FailoverResult;
  /** The handing-over region rebuilt as a replica of home afterwards. */
  reprotected: { database?: 'pg_rewind' | 'pg_basebackup'; cache?: boolean };
}

/** Which tiers serve away from `home` according to the DNS file. */
export function movedTiers(state: LocalState, home: RegionName): { database: boolean; cache: boolean; away: RegionName } {
  const rec = readDnsFile(state.dns_file).records;
  const away = otherRegion(home);
  return { database: rec.database === away, cache: rec.cache === away, away };
}

export function failbackIncident(moved: { database: boolean; cache: boolean }): Incident | undefined {
  if (moved.database && moved.cache) return 'datacenter';
  if (moved.database) return 'database';
  if (moved.cache) return 'cache';
  return undefined;
}

export async function failback(state: LocalState, o: FailbackOptions): Promise<FailbackResult> {
  const home = o.home ?? 'a';
  const log = o.log ?? (() => undefined);
  const moved = movedTiers(state, home);
  const incident = failbackIncident(moved);
  if (!incident) throw new UsageError(`every service name already points at ${home}: nothing to fail back`);
  if (!o.confirm) throw new RefusedError(`failback rebuilds ${home} from ${moved.away} and switches over: confirm it (pass --yes, or answer the prompt); nothing was changed`);
  const ports = localPorts(state);
  const away = moved.away;
  if (moved.database && (await ports.database.role(away)) !== 'primary') throw new OperationError(`the database in ${away} is not a primary: it cannot be the source of a failback`);
  if (moved.cache && (await ports.cache.role(away)) !== 'primary') throw new OperationError(`the cache in ${away} is not a primary: it cannot be the source of a failback`);
  const rebuilt: FailbackResult['rebuilt'] = {};
  const divergent = moved.database ? await preserveDivergent(state, home, away, { log, signal: o.signal }) : undefined;
  if (moved.database) rebuilt.database = (await rebuildDatabaseStandby(state, home, away, log)).method;
  if (moved.cache) {
    await rebuildCacheReplica(state, home, away, log);
    rebuilt.cache = true;
  }
  log(`switching over ${away} → ${home} (planned ${incident})`);
  const switchover = await runFailover({
    ports,
    topology: localTopology(state),
    mode: 'planned',
    incident,
    from: away,
    to: home,
    confirm: true,
    listener: o.listener,
    signal: o.signal,
    log,
    ...(o.maxLagSeconds !== undefined ? { limits: { maxLagSeconds: o.maxLagSeconds } } : {}),
  });
  const reprotected: FailbackResult['reprotected'] = {};
  if (moved.database) reprotected.database = (await rebuildDatabaseStandby(state, away, home, log)).method;
  if (moved.cache) {
    await rebuildCacheReplica(state, away, home, log);
    reprotected.cache = true;
  }
  return { home, from: away, incident, rebuilt, ...(divergent ? { divergent } : {}), switchover, reprotected };
}
