/**
 * Network fence of an old AWS primary database: its security group stops admitting the application.
 *
 * The parameter-group fence (`default_transaction_read_only = 1`, rds.ts) can be overridden by any session
 * (`SET default_transaction_read_only = off`), so a misbehaving or stale app instance could still write to a
 * returned old primary. This fence removes the path instead:
 *
 * - check: `DescribeSecurityGroups` of the DB security group (stack output `dbSecurityGroupId`): fenced when it has
 *   no ingress from the app security group (`appSecurityGroupId`) on the DB port AND carries the tag
 *   `bot-dr:fenced-by`.
 * - act: `RevokeSecurityGroupIngress` of exactly that rule (tcp 5432 from the app SG), only if present; then
 *   `CreateTags` `bot-dr:fenced-by = <failover id>` so an operator sees who fenced it and why.
 * - unfence (failback / an aborted failover): `AuthorizeSecurityGroupIngress` of the same rule, only if absent, and
 *   `DeleteTags`.
 *
 * Decision: the backup-job security group keeps its access. A fenced old primary is read-only (parameter group)
 * and unreachable for the app; its job can still dump it, which preserves the writes that never reached the
 * survivor for reconciliation. Note: a later `pulumi up` of the old primary's stack re-creates the app rule —
 * right only once failback has rebuilt that database as a replica (docs/infra-notes.md, failback sequence).
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  IpPermission,
  RevokeSecurityGroupIngressCommand,
  SecurityGroup,
} from '@aws-sdk/client-ec2';
import { OperationError } from '../../cli/errors';
import { redact } from '../../cli/redact';
import type { CallOptions, Clock } from '../../failover/ports';
import { systemClock } from '../../failover/ports';
import { AWS_RETRY, errorText, isThrottling, isUnreachable, withRetry } from './retry';

export const FENCED_BY_TAG = 'bot-dr:fenced-by';
export const DB_PORT = 5432;

/** The security groups of one region's database (from its stack outputs). */
export interface DbSecurityGroups {
  dbSecurityGroupId: string;
  appSecurityGroupId: string;
}

export interface SecurityGroupFenceOptions {
  ec2: (region: string) => EC2Client;
  /** Region → its DB and app security groups; a region without an entry has no network fence. */
  groups: Record<string, DbSecurityGroups | undefined>;
  clock?: Clock;
  retry?: Partial<typeof AWS_RETRY>;
}

/** The one ingress rule the fence removes: tcp 5432 from the app security group. */
export function appIngress(g: DbSecurityGroups): IpPermission {
  return { IpProtocol: 'tcp', FromPort: DB_PORT, ToPort: DB_PORT, UserIdGroupPairs: [{ GroupId: g.appSecurityGroupId, Description: 'app -> db' }] };
}

/** Whether a security group admits the app group on the DB port. */
export function admitsApp(sg: SecurityGroup, appSecurityGroupId: string): boolean {
  return (sg.IpPermissions ?? []).some(
    (p) =>
      (p.IpProtocol === 'tcp' || p.IpProtocol === '-1') &&
      (p.IpProtocol === '-1' || ((p.FromPort ?? 0) <= DB_PORT && (p.ToPort ?? 0) >= DB_PORT)) &&
      (p.UserIdGroupPairs ?? []).some((u) => u.GroupId === appSecurityGroupId),
  );
}

export class SecurityGroupFence {
  private readonly clock: Clock;
  private readonly retry: typeof AWS_RETRY;

  constructor(private readonly o: SecurityGroupFenceOptions) {
    this.clock = o.clock ?? systemClock;
    this.retry = { ...AWS_RETRY, ...o.retry };
  }

  /** Whether `region` has the security-group ids needed for this fence. */
  covers(region: string): boolean {
    return !!this.o.groups[region];
  }

  private groups(region: string): DbSecurityGroups {
    const g = this.o.groups[region];
    if (!g) throw new OperationError(`no DB/app security group ids for ${region} in the stack outputs (dbSecurityGroupId, appSecurityGroupId): deploy the stacks with this version first`);
    return g;
  }

  private async call<T>(what: string, region: string, fn: () => Promise<T>, opts?: CallOptions): Promise<T> {
    try {
      return await withRetry(fn, { ...this.retry, retryable: isThrottling, clock: this.clock, signal: opts?.signal, log: opts?.log && ((l) => opts.log!(redact(l))), what });
    } catch (err) {
      if (isUnreachable(err)) throw new OperationError(`${what}: EC2 in ${region} does not answer (${errorText(err)})`);
      throw err;
    }
  }

  async describe(region: string, opts?: CallOptions): Promise<SecurityGroup> {
    const g = this.groups(region);
    const r = await this.call(`EC2 DescribeSecurityGroups ${g.dbSecurityGroupId} in ${region}`, region, () => this.o.ec2(region).send(new DescribeSecurityGroupsCommand({ GroupIds: [g.dbSecurityGroupId] })), opts);
    const sg = r.SecurityGroups?.[0];
    if (!sg) throw new OperationError(`security group ${g.dbSecurityGroupId} not found in ${region}`);
    return sg;
  }

  async isFenced(region: string, opts?: CallOptions): Promise<boolean> {
    const g = this.groups(region);
    const sg = await this.describe(region, opts);
    return !admitsApp(sg, g.appSecurityGroupId) && (sg.Tags ?? []).some((t) => t.Key === FENCED_BY_TAG);
  }

  async fence(region: string, failoverId: string, opts?: CallOptions): Promise<void> {
    const g = this.groups(region);
    const sg = await this.describe(region, opts);
    if (admitsApp(sg, g.appSecurityGroupId)) {
      await this.call(
        `EC2 RevokeSecurityGroupIngress ${g.dbSecurityGroupId} in ${region}`,
        region,
        () => this.o.ec2(region).send(new RevokeSecurityGroupIngressCommand({ GroupId: g.dbSecurityGroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: DB_PORT, ToPort: DB_PORT, UserIdGroupPairs: [{ GroupId: g.appSecurityGroupId }] }] })),
        opts,
      );
      opts?.log?.(`database security group ${g.dbSecurityGroupId} in ${region}: ingress from the app (${g.appSecurityGroupId}) revoked`);
    }
    if (!(sg.Tags ?? []).some((t) => t.Key === FENCED_BY_TAG)) {
      await this.call(
        `EC2 CreateTags ${g.dbSecurityGroupId} in ${region}`,
        region,
        () => this.o.ec2(region).send(new CreateTagsCommand({ Resources: [g.dbSecurityGroupId], Tags: [{ Key: FENCED_BY_TAG, Value: failoverId }] })),
        opts,
      );
    }
  }

  async unfence(region: string, opts?: CallOptions): Promise<void> {
    const g = this.groups(region);
    const sg = await this.describe(region, opts);
    if (!admitsApp(sg, g.appSecurityGroupId)) {
      await this.call(
        `EC2 AuthorizeSecurityGroupIngress ${g.dbSecurityGroupId} in ${region}`,
        region,
        () => this.o.ec2(region).send(new AuthorizeSecurityGroupIngressCommand({ GroupId: g.dbSecurityGroupId, IpPermissions: [appIngress(g)] })),
        opts,
      );
      opts?.log?.(`database security group ${g.dbSecurityGroupId} in ${region}: ingress from the app (${g.appSecurityGroupId}) restored`);
    }
    if ((sg.Tags ?? []).some((t) => t.Key === FENCED_BY_TAG)) {
      await this.call(`EC2 DeleteTags ${g.dbSecurityGroupId} in ${region}`, region, () => this.o.ec2(region).send(new DeleteTagsCommand({ Resources: [g.dbSecurityGroupId], Tags: [{ Key: FENCED_BY_TAG }] })), opts);
    }
  }
}
