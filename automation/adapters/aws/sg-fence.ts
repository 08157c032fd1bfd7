/**
 * Network fence of an old AWS primary database: the instance is moved onto an EMPTY security group.
 *
 * The parameter-group fence (`default_transaction_read_only = 1`, rds.ts) can be overridden by any session
 * (`SET default_transaction_read_only = off`), so a misbehaving or stale app instance could still write to a
 * returned old primary. This fence removes the network path instead, WITHOUT editing any Pulumi-managed rule:
 *
 * - the Network component pre-creates, per region, a **fence security group** with no ingress and no egress
 *   (stack output `dbFenceSecurityGroupId`); nothing else references it;
 * - check: `DescribeDBInstances` → `VpcSecurityGroups`: fenced when the fence group is the instance's ONLY security
 *   group (a group still `removing` counts as attached: it may still admit traffic);
 * - act: `ModifyDBInstance` `VpcSecurityGroupIds = [fence group]`, `ApplyImmediately` (no reboot: RDS swaps the
 *   instance's ENI groups), then a bounded poll until the check holds;
 * - unfence (failback / an aborted failover): `ModifyDBInstance` `VpcSecurityGroupIds = <the stack's DB security
 *   groups>` (output `dbSecurityGroupId`, exactly what the Database component declares), then a bounded poll.
 *
 * Why not revoke the app's ingress rule (the first version): that rule is a Pulumi resource; re-adding it gives it a
 * new id, so the old stack's next `pulumi up` failed with `InvalidPermission.Duplicate`. Here every rule stays as
 * Pulumi created it, and the instance's `vpcSecurityGroupIds` is an input of the stack's `aws.rds.Instance`: a later
 * `pulumi up` of that stack puts the DB security group back by itself (drift correction) — right after failback has
 * rebuilt that instance as a replica (docs/infra-notes.md), never before.
 *
 * While fenced, the backup job cannot reach the instance either (decision: a clean, complete fence; the writes the
 * survivor never received are kept by failback's pre-failback snapshot, and by the instance itself). Needs only
 * `@aws-sdk/client-rds`.
 */
import { DBInstance, DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { errorSummary, OperationError } from '../../core/errors';
import { redact } from '../../core/redact';
import type { CallOptions } from '../../failover/index';
import { AWS_RETRY, isThrottling, isUnreachable, withRetry } from './retry';
import { systemClock, type Clock } from '../../core/clock';

/** What the fence needs about one region's database (from its stack outputs). */
export interface DbFenceGroups {
  dbIdentifier: string;
  /** The security groups the stack declares on the instance (output `dbSecurityGroupId`): what unfence restores. */
  securityGroupIds: string[];
  /** The empty fence group (output `dbFenceSecurityGroupId`). */
  fenceSecurityGroupId: string;
}

export interface SecurityGroupFenceOptions {
  rds: (region: string) => RDSClient;
  /** Region → its DB's groups; a region without an entry has no network fence (stacks deployed before it). */
  groups: Record<string, DbFenceGroups | undefined>;
  clock?: Clock;
  retry?: Partial<typeof AWS_RETRY>;
  /** Bounded wait for RDS to apply the change. Defaults: 10 min, polled every 5 s. */
  waitTimeoutMs?: number;
  pollMs?: number;
}

/** The instance's attached security groups (any status: `adding`, `active`, `removing`). */
export function attachedGroups(inst: DBInstance): string[] {
  return (inst.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId).filter((x): x is string => !!x);
}

/** Pure: fenced when the fence group is the only attached group. */
export function fencedBy(inst: DBInstance, fenceSecurityGroupId: string): boolean {
  const ids = attachedGroups(inst);
  return ids.length > 0 && ids.every((id) => id === fenceSecurityGroupId);
}

/** Pure: attached groups are exactly `want` (order-insensitive), none of them on its way out. */
export function exactlyGroups(inst: DBInstance, want: string[]): boolean {
  const live = (inst.VpcSecurityGroups ?? []).filter((g) => g.Status !== 'removing').map((g) => g.VpcSecurityGroupId);
  const all = attachedGroups(inst);
  return all.length === want.length && live.length === want.length && want.every((w) => all.includes(w));
}

export class SecurityGroupFence {
  private readonly clock: Clock;
  private readonly retry: typeof AWS_RETRY;

  constructor(private readonly o: SecurityGroupFenceOptions) {
    this.clock = o.clock ?? systemClock;
    this.retry = { ...AWS_RETRY, ...o.retry };
  }

  /** Whether `region` has the ids needed for this fence. */
  covers(region: string): boolean {
    return !!this.o.groups[region];
  }

  private groups(region: string): DbFenceGroups {
    const g = this.o.groups[region];
    if (!g) throw new OperationError(`no DB/fence security group ids for ${region} in the stack outputs (dbSecurityGroupId, dbFenceSecurityGroupId): deploy the stacks with this version first`);
    return g;
  }

  private async call<T>(what: string, region: string, fn: () => Promise<T>, opts?: CallOptions): Promise<T> {
    try {
      return await withRetry(fn, { ...this.retry, retryable: isThrottling, clock: this.clock, signal: opts?.signal, log: opts?.log && ((l) => opts.log!(redact(l))), what });
    } catch (err) {
      if (isUnreachable(err)) throw new OperationError(`${what}: RDS in ${region} does not answer (${errorSummary(err)})`);
      throw err;
    }
  }

  async describe(region: string, opts?: CallOptions): Promise<DBInstance> {
    const g = this.groups(region);
    const r = await this.call(`RDS DescribeDBInstances ${g.dbIdentifier} in ${region}`, region, () => this.o.rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: g.dbIdentifier })), opts);
    const inst = r.DBInstances?.[0];
    if (!inst) throw new OperationError(`RDS instance ${g.dbIdentifier} not found in ${region}`);
    return inst;
  }

  async isFenced(region: string, opts?: CallOptions): Promise<boolean> {
    return fencedBy(await this.describe(region, opts), this.groups(region).fenceSecurityGroupId);
  }

  private async modify(region: string, ids: string[], opts?: CallOptions): Promise<void> {
    const g = this.groups(region);
    await this.call(
      `RDS ModifyDBInstance ${g.dbIdentifier} in ${region}`,
      region,
      () => this.o.rds(region).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: g.dbIdentifier, VpcSecurityGroupIds: ids, ApplyImmediately: true })),
      opts,
    );
  }

  private async waitUntil(region: string, what: string, ok: (i: DBInstance) => boolean, opts?: CallOptions): Promise<void> {
    const timeout = this.o.waitTimeoutMs ?? 10 * 60_000;
    const poll = this.o.pollMs ?? 5_000;
    const start = this.clock.now().getTime();
    for (;;) {
      const inst = await this.describe(region, opts);
      if (ok(inst)) return;
      const groups = (inst.VpcSecurityGroups ?? []).map((s) => `${s.VpcSecurityGroupId}:${s.Status}`).join(', ');
      if (this.clock.now().getTime() - start >= timeout) throw new OperationError(`${this.groups(region).dbIdentifier} in ${region}: ${what} not applied within ${Math.round(timeout / 1000)} s (security groups: ${groups}); rerun to keep waiting`);
      opts?.log?.(`waiting for ${what} on ${this.groups(region).dbIdentifier} (security groups: ${groups})`);
      await this.clock.sleep(poll, opts?.signal);
    }
  }

  /** Move the instance onto the fence group only (check-then-act), and wait until RDS applied it. */
  async fence(region: string, opts?: CallOptions): Promise<void> {
    const g = this.groups(region);
    const inst = await this.describe(region, opts);
    if (fencedBy(inst, g.fenceSecurityGroupId)) return;
    const before = attachedGroups(inst);
    const unknown = before.filter((id) => id !== g.fenceSecurityGroupId && !g.securityGroupIds.includes(id));
    if (unknown.length) opts?.log?.(`database ${g.dbIdentifier}: security group(s) ${unknown.join(', ')} are not in the stack outputs; unfence (and pulumi up) restore only ${g.securityGroupIds.join(', ')}`);
    const pending = (inst.VpcSecurityGroups ?? []).some((s) => s.VpcSecurityGroupId === g.fenceSecurityGroupId && s.Status !== 'removing');
    if (!pending) {
      await this.modify(region, [g.fenceSecurityGroupId], opts);
      opts?.log?.(`database ${g.dbIdentifier} in ${region}: security groups ${before.join(', ') || '(none)'} → fence group ${g.fenceSecurityGroupId} (no ingress)`);
    }
    await this.waitUntil(region, `fence group ${g.fenceSecurityGroupId}`, (i) => fencedBy(i, g.fenceSecurityGroupId), opts);
  }

  /** Restore the stack's security groups (check-then-act), and wait until RDS applied it. */
  async unfence(region: string, opts?: CallOptions): Promise<void> {
    const g = this.groups(region);
    const inst = await this.describe(region, opts);
    if (exactlyGroups(inst, g.securityGroupIds)) return;
    const target = (inst.VpcSecurityGroups ?? []).filter((s) => s.Status !== 'removing').map((s) => s.VpcSecurityGroupId);
    const alreadyAsked = target.length === g.securityGroupIds.length && g.securityGroupIds.every((id) => target.includes(id));
    if (!alreadyAsked) {
      await this.modify(region, [...g.securityGroupIds], opts);
      opts?.log?.(`database ${g.dbIdentifier} in ${region}: security groups restored to ${g.securityGroupIds.join(', ')}`);
    }
    await this.waitUntil(region, `security groups ${g.securityGroupIds.join(', ')}`, (i) => exactlyGroups(i, g.securityGroupIds), opts);
  }
}
