/**
 * CachePort on AWS: an ElastiCache (Redis) Global Datastore with one member per region.
 *
 * - role(region): `DescribeReplicationGroups` of the region's member (does the region answer, is it available?),
 *   then `DescribeGlobalReplicationGroups` with `ShowMemberInfo` (the member's `Role` PRIMARY/SECONDARY). A member
 *   no longer in the global datastore (disassociated) that is available is a standalone primary.
 * - promote(region): check first (member already PRIMARY → nothing), then `FailoverGlobalReplicationGroup`
 *   (`GlobalReplicationGroupId`, `PrimaryRegion` = the survivor, `PrimaryReplicationGroupId` = its member), then a
 *   bounded poll until the global datastore is `available`, the survivor's member is PRIMARY and `associated`, and
 *   its replication group is `available`. When the old primary region is gone the failover API refuses
 *   (`InvalidGlobalReplicationGroupState`) on an unplanned failover: the survivor is then
 *   `DisassociateGlobalReplicationGroup`-ed, which leaves it a standalone writable primary.
 * - detachedFrom(region): the datastore the region's available group is no longer a member of (after that
 *   disassociation). The failover's reconcile then moves the stacks to the next datastore generation, created from
 *   the survivor's group (components/cache.ts `detached`); `dr failback` removes the old one, whose primary is the
 *   old home group, and rebuilds that group as a member of the new one (ops/failback-cache.ts).
 * - no fence pair: promotion itself demotes the old primary (it becomes a SECONDARY of the global datastore).
 */

import {
  DescribeGlobalReplicationGroupsCommand,
  DescribeReplicationGroupsCommand,
  DisassociateGlobalReplicationGroupCommand,
  ElastiCacheClient,
  FailoverGlobalReplicationGroupCommand,
  GlobalReplicationGroup,
} from '@aws-sdk/client-elasticache';
import { errorSummary, OperationError } from '../../core/errors';
import { redact } from '../../core/redact';
import type { CachePort, CallOptions, DataRole } from '../../failover/index';
import { AWS_RETRY, isThrottling, isUnreachable, withRetry } from './retry';
import { AwsTopology, awsRegion } from './topology';
import { systemClock, type Clock } from '../../core/clock';

export interface ElastiCacheOptions {
  topology: AwsTopology;
  elasticache: (region: string) => ElastiCacheClient;
  /** Bounded wait for the new primary. Defaults: 30 min, polled every 15 s. */
  waitTimeoutMs?: number;
  pollMs?: number;
  clock?: Clock;
  retry?: Partial<typeof AWS_RETRY>;
}

export class ElastiCacheGlobal implements CachePort {
  readonly unavailable: string | undefined;
  private readonly clock: Clock;
  private readonly retry: typeof AWS_RETRY;

  constructor(private readonly o: ElastiCacheOptions) {
    this.clock = o.clock ?? systemClock;
    this.retry = { ...AWS_RETRY, ...o.retry };
    this.unavailable = o.topology.cacheGlobalId ? undefined : 'the stacks have no ElastiCache global datastore (cache.globalDatastore is false): each region keeps its own cache';
  }

  private group(region: string): string {
    const g = awsRegion(this.o.topology, region).cacheReplicationGroupId;
    if (!g) throw new OperationError(`the stack in ${region} outputs no cacheReplicationGroupId`);
    return g;
  }

  private call<T>(what: string, fn: () => Promise<T>, opts?: CallOptions): Promise<T> {
    return withRetry(fn, { ...this.retry, retryable: isThrottling, clock: this.clock, signal: opts?.signal, log: opts?.log && ((l) => opts.log!(redact(l))), what });
  }

  /** The replication group's status, or undefined when the region does not answer. */
  private async groupStatus(region: string, opts?: CallOptions): Promise<string | undefined> {
    const id = this.group(region);
    try {
      const r = await this.call(`ElastiCache DescribeReplicationGroups ${id} in ${region}`, () => this.o.elasticache(region).send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id })), opts);
      return r.ReplicationGroups?.[0]?.Status ?? 'unknown';
    } catch (err) {
      if (isUnreachable(err)) return undefined;
      throw err;
    }
  }

  /** The global datastore as seen from `region` (undefined when that region does not answer). */
  async global(region: string, opts?: CallOptions): Promise<GlobalReplicationGroup | undefined> {
    const gid = this.o.topology.cacheGlobalId!;
    try {
      const r = await this.call(
        `ElastiCache DescribeGlobalReplicationGroups ${gid} in ${region}`,
        () => this.o.elasticache(region).send(new DescribeGlobalReplicationGroupsCommand({ GlobalReplicationGroupId: gid, ShowMemberInfo: true })),
        opts,
      );
      return r.GlobalReplicationGroups?.[0];
    } catch (err) {
      if (isUnreachable(err)) return undefined;
      if ((err as { name?: string }).name === 'GlobalReplicationGroupNotFoundFault') return { GlobalReplicationGroupId: gid, Members: [] };
      throw err;
    }
  }

  private member(g: GlobalReplicationGroup | undefined, region: string) {
    const id = this.group(region);
    return g?.Members?.find((m) => m.ReplicationGroupId === id && (m.ReplicationGroupRegion === undefined || m.ReplicationGroupRegion === region));
  }

  async role(region: string, opts?: CallOptions): Promise<DataRole> {
    const status = await this.groupStatus(region, opts);
    if (status === undefined || ['deleting', 'create-failed', 'snapshotting-failed'].includes(status)) return 'unreachable';
    const g = await this.global(region, opts);
    if (!g) return 'unreachable';
    const m = this.member(g, region);
    if (!m) return status === 'available' ? 'primary' : 'standby';
    return m.Role === 'PRIMARY' ? 'primary' : 'standby';
  }

  async promote(region: string, opts?: CallOptions & { planned?: boolean; from?: string }): Promise<void> {
    const gid = this.o.topology.cacheGlobalId!;
    const id = this.group(region);
    const before = await this.global(region, opts);
    if (!before) throw new OperationError(`cannot promote cache ${id}: ElastiCache in ${region} does not answer`);
    const m = this.member(before, region);
    if (m?.Role !== 'PRIMARY' && m) {
      try {
        await this.call(
          `ElastiCache FailoverGlobalReplicationGroup ${gid} → ${region}`,
          () => this.o.elasticache(region).send(new FailoverGlobalReplicationGroupCommand({ GlobalReplicationGroupId: gid, PrimaryRegion: region, PrimaryReplicationGroupId: id })),
          opts,
        );
        opts?.log?.(`cache: FailoverGlobalReplicationGroup ${gid}: ${id} in ${region} becomes primary`);
      } catch (err) {
        const name = (err as { name?: string }).name ?? '';
        if (opts?.planned || !/InvalidGlobalReplicationGroupState/.test(name)) throw err;
        // Unplanned, the old primary region is gone: leave the global datastore as a standalone primary.
        opts?.log?.(redact(`cache: failover refused (${errorSummary(err)}); the old primary is gone: disassociating ${id} from ${gid} so it stands alone as primary`));
        await this.call(
          `ElastiCache DisassociateGlobalReplicationGroup ${gid} ${id}`,
          () => this.o.elasticache(region).send(new DisassociateGlobalReplicationGroupCommand({ GlobalReplicationGroupId: gid, ReplicationGroupId: id, ReplicationGroupRegion: region })),
          opts,
        );
      }
    }
    await this.waitPrimary(region, opts);
  }

  /** Bounded poll until `region`'s member is the available primary. */
  async waitPrimary(region: string, opts?: CallOptions): Promise<void> {
    const id = this.group(region);
    const timeout = this.o.waitTimeoutMs ?? 30 * 60_000;
    const poll = this.o.pollMs ?? 15_000;
    const start = this.clock.now().getTime();
    for (let n = 1; ; n++) {
      const g = await this.global(region, opts);
      const m = this.member(g, region);
      const status = await this.groupStatus(region, opts);
      const standalone = !m && g !== undefined;
      const ok = status === 'available' && (standalone || (m?.Role === 'PRIMARY' && (m.Status ?? 'associated') === 'associated' && (g?.Status ?? 'available') === 'available'));
      if (ok) return;
      const last = `group ${status ?? 'not answering'}, member ${m ? `${m.Role ?? '?'}/${m.Status ?? '?'}` : standalone ? 'standalone' : 'unknown'}, global datastore ${g?.Status ?? 'unknown'}`;
      if (this.clock.now().getTime() - start >= timeout) throw new OperationError(`cache ${id} in ${region} did not become the available primary within ${Math.round(timeout / 1000)}s (${last})`);
      opts?.log?.(`waiting for cache ${id} to be the available primary (${last}, poll ${n})`);
      await this.clock.sleep(poll, opts?.signal);
    }
  }

  async detachedFrom(region: string, opts?: CallOptions): Promise<string | undefined> {
    if ((await this.groupStatus(region, opts)) !== 'available') return undefined;
    const g = await this.global(region, opts);
    if (!g || this.member(g, region)) return undefined;
    return this.o.topology.cacheGlobalId;
  }

  async writable(region: string, opts?: CallOptions): Promise<boolean> {
    // No Redis connection from the operator's machine (private subnets, in-transit encryption + auth token):
    // the control plane's evidence. The step log says so.
    const role = await this.role(region, opts);
    const status = await this.groupStatus(region, opts);
    opts?.log?.(`cache ${this.group(region)}: writable judged from ElastiCache (${role}, ${status ?? 'not answering'}); no Redis probe from here`);
    return role === 'primary' && status === 'available';
  }
}
