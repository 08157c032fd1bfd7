/**
 * `dr failback`'s cache step (AWS, a global datastore), between the fence and the rebuild (ops/failback.ts calls
 * {@link failbackCacheStep} once): make the home region's replication group ready to be rebuilt as a member of the
 * survivor's global datastore.
 *
 * After an unplanned failover the survivor's group left the old datastore (`DisassociateGlobalReplicationGroup`: the
 * failover API refused with the old primary's region gone) and its stack created the next generation from it
 * (components/cache.ts `detached`). When the home region comes back, its group is still the PRIMARY of that old,
 * abandoned datastore, holding only writes the survivor never received (the RPO; the cache is not reconciled). The
 * home stack's rebuild `up` replaces that group with a new secondary of the survivor's datastore (ElastiCache adds a
 * region to a datastore only by creating a group there), which is expected — the survivor's data flows to it — but
 * ElastiCache refuses to delete a group that is still a datastore's primary. So, check-then-act:
 *
 *   1. decide from ElastiCache, not from the stacks: the home group's `GlobalReplicationGroupInfo` says which datastore
 *      it is in and as what ({@link decideHomeCache});
 *   2. before acting, refuse (exit 2, ElastiCache unchanged) unless the survivor's group is the available PRIMARY of the
 *      survivor stack's datastore (the rebuilt member must have something to join), unless the old datastore has no
 *      member but the home group (another member is not this pair's: never cut someone's replica), and while the home
 *      group's final snapshot name (`<group>-final`, which the rebuild's delete takes) is taken;
 *   3. `DeleteGlobalReplicationGroup` with `RetainPrimaryReplicationGroup = true` (the home group stays, standalone, until
 *      the rebuild replaces it and keeps its final snapshot), then a bounded wait until the datastore is gone and the
 *      group is available on its own. A rerun finds it standalone: done-before.
 *
 * Not automated (the step is `skipped` and says so): a home group that is in the survivor's datastore already while
 * the home stack still declares the datastore's owner (its `role` output is `primary`) — after a PLANNED failover, or a
 * database-only incident where the cache never moved. There the rebuild turns the home stack's cache from the owner
 * into a member (docs/infra-notes.md, "Cache after an unplanned failover"). A home stack that declares a member
 * already (a rerun after the rebuild, or a later cycle) has nothing to do: done-before.
 */
import { OperationError, RefusedError } from '../core/errors';
import type { CacheGroupView, FailbackCache } from '../adapters/aws/failback-cache';
import type { AwsRegionTopology } from '../adapters/aws/topology';
import type { Clock } from '../core/clock';
import { cacheFinalSnapshotName } from '../../lib/naming';

/** What to do with the home group (pure, from what ElastiCache says). */
export type HomeCacheDecision =
  /** Nothing to do here (no global datastore, or no home group: the rebuild creates a member). */
  | { kind: 'none'; detail: string }
  /** The home group stands alone already (a rerun, or someone removed the old datastore). */
  | { kind: 'standalone'; detail: string }
  /** The home group is the primary of `oldGlobalId`, which the survivor left: remove that datastore. */
  | { kind: 'remove'; oldGlobalId: string }
  /** The home group is in the survivor's datastore and its stack declares a member already (e.g. a rerun). */
  | { kind: 'joined'; detail: string }
  /** The home group is in the survivor's datastore but its stack still declares the owner: not automated (header). */
  | { kind: 'member'; detail: string }
  | { kind: 'refuse'; reason: string };

/**
 * `homeStackRole`: the home stack's `role` output — `primary` while it still declares the cache's owner (the original
 * primary, not updated since the failover), `secondary` once it declares a member.
 */
export function decideHomeCache(i: { home: string; group: string; survivor: string; survivorGlobalId?: string; homeStackRole: string; view: CacheGroupView }): HomeCacheDecision {
  const { group, view, survivorGlobalId: s } = i;
  if (!s) return { kind: 'none', detail: 'the stacks have no ElastiCache global datastore (cache.globalDatastore is false)' };
  if (!view.exists) return { kind: 'none', detail: `no replication group ${group} in ${i.home}: the rebuild creates it as a member of ${s}` };
  if (!view.globalId) return { kind: 'standalone', detail: `${group} in ${i.home} stands alone already: the rebuild replaces it with a member of ${s}` };
  if (view.globalId === s && i.homeStackRole !== 'primary') return { kind: 'joined', detail: `${group} in ${i.home} is a ${view.role ?? 'member'} of the survivor's datastore ${s} and its stack declares a member: nothing to do` };
  if (view.globalId === s) {
    const why = view.role === 'PRIMARY' ? `it is still the primary of ${s}: the cache never moved` : `it is a secondary of ${s} already (the cache failed over with FailoverGlobalReplicationGroup)`;
    return {
      kind: 'member',
      detail: `WARNING ${group} in ${i.home} is in the survivor's datastore: ${why}. Not automated: the rebuild turns the home stack's cache from the datastore's owner into a member; check its pulumi preview first (docs/infra-notes.md "Cache after an unplanned failover")`,
    };
  }
  if (view.role === 'PRIMARY') return { kind: 'remove', oldGlobalId: view.globalId };
  return { kind: 'refuse', reason: `${group} in ${i.home} is a ${view.role ?? 'member'} of ${view.globalId}, which is neither the survivor's datastore ${s} nor one the home group leads: investigate before rebuilding it. Nothing was changed in ElastiCache` };
}

export interface FailbackCacheOptions {
  cache: FailbackCache;
  home: AwsRegionTopology;
  survivor: AwsRegionTopology;
  clock: Clock;
  timeoutMs: number;
  pollMs: number;
  log: (line: string) => void;
  signal?: AbortSignal;
}

/** The step's outcome, as ops/failback.ts reports it. */
export interface FailbackCacheResult {
  status: 'ok' | 'skipped' | 'done-before';
  detail: string;
}

export async function failbackCacheStep(o: FailbackCacheOptions): Promise<FailbackCacheResult> {
  const { cache, home, survivor } = o;
  const group = home.cacheReplicationGroupId;
  if (!group) return { status: 'skipped', detail: `stack ${home.stack} outputs no cacheReplicationGroupId` };
  const view = survivor.globalDatastoreId ? await cache.group(home.region, group) : { exists: false };
  const d = decideHomeCache({ home: home.region, group, survivor: survivor.region, survivorGlobalId: survivor.globalDatastoreId, homeStackRole: home.role, view });
  if (d.kind === 'refuse') throw new RefusedError(d.reason);
  if (d.kind === 'none' || d.kind === 'member') return { status: 'skipped', detail: d.detail };
  if (d.kind === 'standalone' || d.kind === 'joined') return { status: 'done-before', detail: d.detail };
  await checkBeforeRemoving(o, group, d.oldGlobalId);
  const old = d.oldGlobalId;
  if ((await cache.global(home.region, old)).status !== 'deleting') {
    await cache.deleteGlobal(home.region, old);
    o.log(`cache: DeleteGlobalReplicationGroup ${old} (RetainPrimaryReplicationGroup): the datastore the survivor left is removed; ${group} stays, standalone, until the rebuild replaces it`);
  }
  await waitStandalone(o, group, old);
  return {
    status: 'ok',
    detail: `old global datastore ${old} deleted (its primary ${group} was left behind by the unplanned failover; it is kept standalone, and the rebuild replaces it with a member of ${survivor.globalDatastoreId}, taking the final snapshot ${cacheFinalSnapshotName(group)} of the writes ${survivor.region} never received)`,
  };
}

/** Refuse before any change unless the removal is safe and the rebuild can follow. */
async function checkBeforeRemoving(o: FailbackCacheOptions, group: string, old: string): Promise<void> {
  const { cache, home, survivor } = o;
  const sid = survivor.globalDatastoreId!;
  const s = await cache.global(survivor.region, sid);
  const primary = s.members.find((m) => m.role === 'PRIMARY');
  const survivorGroup = await cache.group(survivor.region, survivor.cacheReplicationGroupId ?? '');
  if (!s.exists || primary?.groupId !== survivor.cacheReplicationGroupId || primary?.region !== survivor.region || survivorGroup.status !== 'available') {
    throw new RefusedError(
      `the survivor's global datastore ${sid} ${s.exists ? `has ${primary ? `${primary.groupId} in ${primary.region}` : 'no member'} as its primary` : 'does not exist'}${survivorGroup.exists ? `, its group ${survivor.cacheReplicationGroupId} is ${survivorGroup.status}` : ''}: the home cache would have nothing to join. Run dr failover --resume until its reconcile is done (it creates ${sid} from ${survivor.cacheReplicationGroupId}), then rerun dr failback. Nothing was changed in ElastiCache`,
    );
  }
  const others = (await cache.global(home.region, old)).members.filter((m) => !(m.groupId === group && m.region === home.region));
  if (others.length) {
    throw new RefusedError(
      `the old global datastore ${old} still has other members (${others.map((m) => `${m.groupId} in ${m.region}, ${m.role ?? '?'}`).join('; ')}), which are not this pair's: dr never cuts them off. Remove them yourself (aws elasticache disassociate-global-replication-group), then rerun dr failback. Nothing was changed in ElastiCache`,
    );
  }
  const final = cacheFinalSnapshotName(group);
  if (await cache.snapshotExists(home.region, final)) {
    throw new RefusedError(
      `the rebuild deletes ${group} with the final snapshot ${final}, and a snapshot of that name exists in ${home.region} (an earlier failback's): keep it under another name and remove the old one (aws elasticache copy-snapshot --source-snapshot-name ${final} --target-snapshot-name ${final}-<date> --region ${home.region}; aws elasticache delete-snapshot --snapshot-name ${final} --region ${home.region}), then rerun dr failback. Nothing was changed in ElastiCache`,
    );
  }
}

/** Bounded wait: the old datastore is gone and the home group is available on its own. */
async function waitStandalone(o: FailbackCacheOptions, group: string, old: string): Promise<void> {
  const deadline = o.clock.now().getTime() + o.timeoutMs;
  for (let n = 1; ; n++) {
    const [g, v] = [await o.cache.global(o.home.region, old), await o.cache.group(o.home.region, group)];
    if (!g.exists && v.exists && !v.globalId && v.status === 'available') return;
    const last = `datastore ${g.exists ? g.status ?? 'present' : 'gone'}, ${group} ${v.exists ? `${v.status}${v.globalId ? ` in ${v.globalId}` : ', standalone'}` : 'missing'}`;
    if (!v.exists) throw new OperationError(`${group} in ${o.home.region} disappeared while ${old} was being deleted (${last}): investigate before rerunning dr failback`);
    if (o.clock.now().getTime() >= deadline) throw new OperationError(`${old} not deleted within ${Math.round(o.timeoutMs / 1000)} s (${last}); rerun dr failback to keep waiting`);
    o.log(`cache: waiting for ${old} to be deleted and ${group} to stand alone (${last}, poll ${n})`);
    await o.clock.sleep(o.pollMs, o.signal);
  }
}
