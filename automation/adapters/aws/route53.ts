/**
 * DnsPort on AWS: the Route 53 failover record pair (one PRIMARY, one SECONDARY, each with its region's health
 * check; created by the stacks' FailoverDns components).
 *
 * Design (docs/route53-control-plane.md): a forced move is ONE `ChangeResourceRecordSets` batch that SWAPS the two
 * records' failover types — DELETE the current PRIMARY and the survivor's SECONDARY as they are, CREATE them again
 * with the types exchanged; each record keeps its own SetIdentifier (the region), value, TTL and health check.
 * The batch is atomic, so there is never a moment with two PRIMARY or no PRIMARY. Traffic moves at once, without
 * waiting for the health checks to notice, and it does not flip back when the old region's endpoint returns
 * healthy: the survivor's record is PRIMARY now. The stacks' FailoverDns records ignore changes to the failover
 * type, so a later `pulumi up` of either stack leaves the swap alone (and, since each record still carries its own
 * value and check, there is nothing else for it to "correct"). Then `GetChange` is polled until `INSYNC` (bounded).
 *
 * Check: `ListResourceRecordSets` — the region whose health check the PRIMARY record carries is the region the
 * record sends traffic to.
 *
 * Route 53's control plane lives in us-east-1: the client always uses that region. When it does not answer the
 * step fails with a clear error (the data-plane health-check failover keeps working without it).
 */
import { Change, ChangeResourceRecordSetsCommand, GetChangeCommand, ListResourceRecordSetsCommand, ResourceRecordSet, Route53Client, RRType } from '@aws-sdk/client-route-53';
import { errorSummary, OperationError } from '../../core/errors';
import { redact } from '../../core/redact';
import type { CallOptions, DnsPort } from '../../failover/index';
import { AWS_RETRY, isThrottling, isUnreachable, withRetry } from './retry';
import { AwsTopology, norm } from './topology';
import { systemClock, type Clock } from '../../core/clock';

export const ROUTE53_CONTROL_PLANE_REGION = 'us-east-1';

export interface Route53Options {
  topology: AwsTopology;
  route53: () => Route53Client;
  /** Bounded wait for INSYNC. Defaults: 5 min, polled every 5 s. */
  waitTimeoutMs?: number;
  pollMs?: number;
  clock?: Clock;
  retry?: Partial<typeof AWS_RETRY>;
}

export class Route53Failover implements DnsPort {
  readonly unavailable: string | undefined;
  private readonly clock: Clock;
  private readonly retry: typeof AWS_RETRY;

  constructor(private readonly o: Route53Options) {
    this.clock = o.clock ?? systemClock;
    this.retry = { ...AWS_RETRY, ...o.retry };
    this.unavailable = o.topology.dns ? undefined : 'the stacks have no failover DNS (no dns.* config): traffic is not switched by dr';
  }

  private async call<T>(what: string, fn: () => Promise<T>, opts?: CallOptions): Promise<T> {
    try {
      return await withRetry(fn, { ...this.retry, retryable: isThrottling, clock: this.clock, signal: opts?.signal, log: opts?.log && ((l) => opts.log!(redact(l))), what });
    } catch (err) {
      if (isUnreachable(err)) {
        throw new OperationError(
          `${what}: the Route 53 control plane (${ROUTE53_CONTROL_PLANE_REGION}) does not answer (${errorSummary(err)}). The health-check failover still moves traffic on its own once ${'the old region'}'s check fails; rerun to force the switch when Route 53 answers`,
        );
      }
      throw err;
    }
  }

  private zone(): string {
    return this.o.topology.dns!.zone;
  }

  /** The failover record sets of `record` (CNAME/A/AAAA with a Failover value). */
  async recordSets(record: string, opts?: CallOptions): Promise<ResourceRecordSet[]> {
    const zone = this.zone();
    const want = norm(record);
    const found: ResourceRecordSet[] = [];
    let start: { name?: string; type?: RRType; id?: string } = { name: want };
    for (let page = 0; page < 20; page++) {
      const r = await this.call(
        `Route 53 ListResourceRecordSets ${zone} ${want}`,
        () =>
          this.o.route53().send(
            new ListResourceRecordSetsCommand({ HostedZoneId: zone, StartRecordName: start.name, ...(start.type ? { StartRecordType: start.type } : {}), ...(start.id ? { StartRecordIdentifier: start.id } : {}), MaxItems: 20 }),
          ),
        opts,
      );
      let past = false;
      for (const s of r.ResourceRecordSets ?? []) {
        if (norm(s.Name ?? '') !== want) {
          past = true;
          break;
        }
        if (s.Failover) found.push(s);
      }
      if (past || !r.IsTruncated) break;
      start = { name: r.NextRecordName, type: r.NextRecordType, id: r.NextRecordIdentifier };
    }
    return found;
  }

  private regionOfCheck(healthCheckId: string | undefined): string | undefined {
    return this.o.topology.regions.find((r) => r.healthCheckId && r.healthCheckId === healthCheckId)?.region;
  }

  async current(record: string, opts?: CallOptions): Promise<string | undefined> {
    const sets = await this.recordSets(record, opts);
    const primary = sets.find((s) => s.Failover === 'PRIMARY');
    return primary ? this.regionOfCheck(primary.HealthCheckId) : undefined;
  }

  async point(record: string, region: string, opts?: CallOptions): Promise<void> {
    const target = this.o.topology.regions.find((r) => r.region === region);
    if (!target?.healthCheckId) throw new OperationError(`region ${region} has no health check in the stack outputs: cannot point ${record} at it`);
    const sets = await this.recordSets(record, opts);
    const primary = sets.find((s) => s.Failover === 'PRIMARY');
    if (!primary) throw new OperationError(`${record} has no PRIMARY failover record in zone ${this.zone()}: deploy the stacks' failover DNS first`);
    if (primary.HealthCheckId === target.healthCheckId) return;
    const own = sets.find((s) => s.HealthCheckId === target.healthCheckId);
    if (!own) throw new OperationError(`${record} has no failover record carrying ${region}'s health check ${target.healthCheckId} in zone ${this.zone()}: deploy ${target.stack} first`);
    // Swap: the old PRIMARY becomes SECONDARY, the survivor's record becomes PRIMARY; values and checks unchanged.
    const changes: Change[] = [
      { Action: 'DELETE', ResourceRecordSet: primary },
      { Action: 'DELETE', ResourceRecordSet: own },
      { Action: 'CREATE', ResourceRecordSet: { ...primary, Failover: 'SECONDARY' } },
      { Action: 'CREATE', ResourceRecordSet: { ...own, Failover: 'PRIMARY' } },
    ];
    const r = await this.call(
      `Route 53 ChangeResourceRecordSets ${this.zone()} ${record}`,
      () =>
        this.o.route53().send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: this.zone(),
            ChangeBatch: { Comment: `dr failover: ${norm(record)} → ${region}`, Changes: changes },
          }),
        ),
      opts,
    );
    const changeId = r.ChangeInfo?.Id;
    opts?.log?.(`Route 53: ${norm(record)} PRIMARY now answers ${region} (change ${changeId ?? '?'}, ${r.ChangeInfo?.Status ?? '?'})`);
    if (!changeId) throw new OperationError('Route 53 accepted the change but returned no change id');
    await this.waitInsync(changeId, opts);
  }

  /** Poll `GetChange` until INSYNC, bounded. */
  async waitInsync(changeId: string, opts?: CallOptions): Promise<void> {
    const timeout = this.o.waitTimeoutMs ?? 5 * 60_000;
    const poll = this.o.pollMs ?? 5_000;
    const start = this.clock.now().getTime();
    for (let n = 1; ; n++) {
      const r = await this.call(`Route 53 GetChange ${changeId}`, () => this.o.route53().send(new GetChangeCommand({ Id: changeId })), opts);
      const status = r.ChangeInfo?.Status;
      if (status === 'INSYNC') return;
      if (this.clock.now().getTime() - start >= timeout) throw new OperationError(`Route 53 change ${changeId} was still ${status ?? 'unknown'} after ${Math.round(timeout / 1000)}s`);
      opts?.log?.(`Route 53 change ${changeId}: ${status ?? 'unknown'} (poll ${n})`);
      await this.clock.sleep(poll, opts?.signal);
    }
  }
}
