/**
 * What `dr failback` asks of ElastiCache (ops/failback-cache.ts): a replication group's status and the global datastore
 * it belongs to (`DescribeReplicationGroups`: `GlobalReplicationGroupInfo`), a global datastore's members
 * (`DescribeGlobalReplicationGroups` with `ShowMemberInfo`), whether a snapshot name is taken (`DescribeSnapshots`),
 * and the two removals: `DisassociateGlobalReplicationGroup` (a member leaves) and `DeleteGlobalReplicationGroup` with
 * `RetainPrimaryReplicationGroup = true` (the datastore goes, its primary group stays, standalone). The global datastore
 * calls are answered in any member's region; failback makes them in the home region, where the old datastore's primary
 * is. Throttling is retried with a bound.
 */
import {
  DeleteGlobalReplicationGroupCommand,
  DescribeGlobalReplicationGroupsCommand,
  DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand,
  DisassociateGlobalReplicationGroupCommand,
  type ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import { systemClock, type Clock } from '../../core/clock';
import { AWS_RETRY, isThrottling, withRetry } from './retry';

/** A replication group as failback sees it. */
export interface CacheGroupView {
  exists: boolean;
  status?: string;
  /** The global datastore it is a member of (absent: it stands alone). */
  globalId?: string;
  /** Its role there: `PRIMARY` | `SECONDARY`. */
  role?: string;
}

/** A global datastore as failback sees it. */
export interface GlobalDatastoreView {
  exists: boolean;
  status?: string;
  members: Array<{ groupId: string; region: string; role?: string; status?: string }>;
}

export interface FailbackCache {
  group(region: string, groupId: string): Promise<CacheGroupView>;
  global(region: string, globalId: string): Promise<GlobalDatastoreView>;
  /** Whether an ElastiCache snapshot of that name exists in `region`. */
  snapshotExists(region: string, name: string): Promise<boolean>;
  /** `groupId` (in `groupRegion`) leaves `globalId`. */
  disassociate(region: string, globalId: string, groupId: string, groupRegion: string): Promise<void>;
  /** Delete `globalId`, keeping its primary group as a standalone group. */
  deleteGlobal(region: string, globalId: string): Promise<void>;
}

const errName = (err: unknown) => (err as { name?: string }).name ?? '';

export function elastiCacheFailback(elasticache: (region: string) => ElastiCacheClient, o: { clock?: Clock; retry?: Partial<typeof AWS_RETRY> } = {}): FailbackCache {
  const retry = { ...AWS_RETRY, ...o.retry };
  const call = <T>(what: string, fn: () => Promise<T>) => withRetry(fn, { ...retry, retryable: isThrottling, clock: o.clock ?? systemClock, what });
  return {
    async group(region, groupId) {
      try {
        const g = (await call(`ElastiCache DescribeReplicationGroups ${groupId}`, () => elasticache(region).send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: groupId })))).ReplicationGroups?.[0];
        if (!g) return { exists: false };
        const info = g.GlobalReplicationGroupInfo;
        return { exists: true, status: g.Status, ...(info?.GlobalReplicationGroupId ? { globalId: info.GlobalReplicationGroupId, role: info.GlobalReplicationGroupMemberRole } : {}) };
      } catch (err) {
        if (errName(err) === 'ReplicationGroupNotFoundFault') return { exists: false };
        throw err;
      }
    },
    async global(region, globalId) {
      try {
        const r = await call(`ElastiCache DescribeGlobalReplicationGroups ${globalId}`, () =>
          elasticache(region).send(new DescribeGlobalReplicationGroupsCommand({ GlobalReplicationGroupId: globalId, ShowMemberInfo: true })),
        );
        const g = r.GlobalReplicationGroups?.[0];
        if (!g || g.Status === 'deleted') return { exists: false, members: [] };
        return { exists: true, status: g.Status, members: (g.Members ?? []).map((m) => ({ groupId: m.ReplicationGroupId ?? '', region: m.ReplicationGroupRegion ?? '', role: m.Role, status: m.Status })) };
      } catch (err) {
        if (errName(err) === 'GlobalReplicationGroupNotFoundFault') return { exists: false, members: [] };
        throw err;
      }
    },
    async snapshotExists(region, name) {
      try {
        const r = await call(`ElastiCache DescribeSnapshots ${name}`, () => elasticache(region).send(new DescribeSnapshotsCommand({ SnapshotName: name })));
        return (r.Snapshots ?? []).some((s) => s.SnapshotName === name);
      } catch (err) {
        if (errName(err) === 'SnapshotNotFoundFault') return false;
        throw err;
      }
    },
    async disassociate(region, globalId, groupId, groupRegion) {
      await call(`ElastiCache DisassociateGlobalReplicationGroup ${globalId} ${groupId}`, () =>
        elasticache(region).send(new DisassociateGlobalReplicationGroupCommand({ GlobalReplicationGroupId: globalId, ReplicationGroupId: groupId, ReplicationGroupRegion: groupRegion })),
      );
    },
    async deleteGlobal(region, globalId) {
      await call(`ElastiCache DeleteGlobalReplicationGroup ${globalId}`, () =>
        elasticache(region).send(new DeleteGlobalReplicationGroupCommand({ GlobalReplicationGroupId: globalId, RetainPrimaryReplicationGroup: true })),
      );
    },
  };
}
