import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { isHostname } from '../lib/validators';

/** Arguments of {@link FailoverDns}. */
export interface FailoverDnsArgs {
  /**
   * Provider for Route 53. Route 53 is global; any region's provider works — pass this stack's so the
   * resources belong to this stack's account/credentials.
   */
  provider: aws.Provider;
  /**
   * The stack's role: `primary` → PRIMARY record, `secondary` → SECONDARY — at CREATION only. Afterwards the
   * failover type belongs to `dr` (docs/route53-control-plane.md). `scratch` is refused.
   */
  role: 'primary' | 'secondary' | 'scratch';
  /** This region, e.g. `us-east-1`: the record's set identifier (region only — roles swap, regions don't). */
  region: string;
  /** Route 53 hosted zone id holding the record. */
  hostedZoneId: pulumi.Input<string>;
  /** The record users/bot webhooks resolve, e.g. `bot.example.com` (not the zone apex: it is a CNAME). */
  recordName: string;
  /** This region's application endpoint (hostname, no scheme), e.g. `bot-use1.example.com`. */
  endpoint: string;
  /** Path the health check requests over HTTPS. Default `/healthz`. */
  healthCheckPath?: string;
  /** HTTPS port of the endpoint the health check connects to. Default 443. */
  healthCheckPort?: number;
  /** Record TTL in seconds; keep it low so resolvers follow a failover quickly. Default 60. */
  ttl?: number;
  /** Route 53 checker regions (at least 3), or undefined for Route 53's default set. */
  healthCheckRegions?: string[];
  /** Tags on the health check. */
  tags?: Record<string, string>;
}

/** Validates FailoverDns args; errors name the key and what is allowed. */
export function validateFailoverDnsArgs(args: FailoverDnsArgs): void {
  if (args.role !== 'primary' && args.role !== 'secondary') {
    throw new Error(`role: failover DNS exists only for primary or secondary stacks, got ${JSON.stringify(args.role)}`);
  }
  if (!isHostname(args.recordName)) throw new Error(`dns.recordName: must be a DNS name like bot.example.com, got ${JSON.stringify(args.recordName)}`);
  if (!isHostname(args.endpoint)) throw new Error(`dns.endpoint: must be a hostname without scheme or path, got ${JSON.stringify(args.endpoint)}`);
  if (args.endpoint.replace(/\.$/, '').toLowerCase() === args.recordName.replace(/\.$/, '').toLowerCase()) {
    throw new Error('dns.endpoint: must differ from dns.recordName (the record would point at itself)');
  }
  const path = args.healthCheckPath ?? '/healthz';
  if (!path.startsWith('/') || path.length > 255) throw new Error(`dns.healthCheckPath: must start with / and be ≤ 255 characters, got ${JSON.stringify(path)}`);
  const port = args.healthCheckPort ?? 443;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`dns.healthCheckPort: must be a TCP port 1–65535, got ${JSON.stringify(port)}`);
  const ttl = args.ttl ?? 60;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 172800) throw new Error(`dns.ttl: must be a whole number of seconds from 0 to 172800, got ${JSON.stringify(ttl)}`);
  if (args.healthCheckRegions !== undefined && args.healthCheckRegions.length < 3) {
    throw new Error(`dns.healthCheckRegions: Route 53 needs at least 3 checker regions, got ${args.healthCheckRegions.length}`);
  }
}

/** The record's set identifier: the region alone, so a stack keeps its record whatever its role becomes. */
export function failoverSetIdentifier(region: string): string {
  return region;
}

/**
 * Route 53 failover for one region: an HTTPS health check on the region's endpoint (every 10 s,
 * unhealthy after 3 failures) and a failover CNAME carrying that check, PRIMARY or SECONDARY by role when it is
 * created. Route 53 answers with the PRIMARY while its check is healthy and with the SECONDARY otherwise.
 *
 * Who is PRIMARY after that is decided by the failover, not by the stacks: `dr failover`/`failback` swap the two
 * records' types in one Route 53 change batch (each record keeps its own value and health check), and the record
 * ignores changes to `failoverRoutingPolicies`, so a later `pulumi up` of either stack — whatever its role or
 * `promoted` config says — never flips traffic back or collides with the other stack's record. The set identifier
 * is the region alone (a role in it would make a re-targeted stack replace its record).
 */
export class FailoverDns extends pulumi.ComponentResource {
  /** Route 53 health check id. */
  readonly healthCheckId: pulumi.Output<string>;
  /** The failover record's name. */
  readonly recordName: pulumi.Output<string>;
  /** PRIMARY or SECONDARY. */
  readonly failoverType: 'PRIMARY' | 'SECONDARY';

  constructor(name: string, args: FailoverDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:dns:FailoverDns', name, {}, opts);
    validateFailoverDnsArgs(args);
    const child = { parent: this, provider: args.provider };
    this.failoverType = args.role === 'primary' ? 'PRIMARY' : 'SECONDARY';

    const check = new aws.route53.HealthCheck(
      `${name}-health`,
      {
        type: 'HTTPS',
        fqdn: args.endpoint,
        port: args.healthCheckPort ?? 443,
        resourcePath: args.healthCheckPath ?? '/healthz',
        enableSni: true,
        requestInterval: 10,
        failureThreshold: 3,
        measureLatency: true,
        regions: args.healthCheckRegions,
        tags: { ...args.tags, Name: `${name}-${args.region}` },
      },
      child,
    );

    const record = new aws.route53.Record(
      `${name}-record`,
      {
        zoneId: args.hostedZoneId,
        name: args.recordName,
        type: 'CNAME',
        ttl: args.ttl ?? 60,
        records: [args.endpoint],
        setIdentifier: failoverSetIdentifier(args.region),
        failoverRoutingPolicies: [{ type: this.failoverType }],
        healthCheckId: check.id,
      },
      // deleteBeforeReplace: a replacement (e.g. the zone or name changed) must not create a second record of the
      // same failover type next to the old one — Route 53 refuses that.
      { ...child, ignoreChanges: ['failoverRoutingPolicies'], deleteBeforeReplace: true },
    );

    this.healthCheckId = check.id;
    this.recordName = record.name;
    this.registerOutputs({ healthCheckId: this.healthCheckId, recordName: this.recordName });
  }
}
