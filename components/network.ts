import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { subnetCidrs } from '../lib/cidr';
import type { NetworkConfig } from '../lib/config';
import { regionShortName } from '../lib/naming';

/** Ports the data stores listen on. */
export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;

/** Arguments of {@link Network}. */
export interface NetworkArgs {
  /** Provider of the network's region; every child is created through it. */
  provider: aws.Provider;
  /** The region, e.g. `us-east-1` (used for endpoint service names). */
  region: string;
  /** Physical-name prefix for Name tags. */
  namePrefix: string;
  /**
   * Create a VPC (`mode: 'create'`: private subnets in `azCount` AZs, one private route table, an S3
   * gateway endpoint, and interface endpoints for Secrets Manager and CloudWatch metrics so the backup job
   * works without a NAT gateway), or use an existing one (`mode: 'existing'`: `vpcId` + `subnetIds`; its
   * routing/endpoints are the owner's responsibility).
   */
  network: NetworkConfig;
  /** Tags applied to taggable children. */
  tags?: Record<string, string>;
}

/**
 * The region's network: VPC + private subnets (or an existing VPC), and the security groups that fence
 * the data stores — the DB accepts 5432 and the cache 6379 only from the app and backup-job groups.
 * No security group accepts traffic from 0.0.0.0/0.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  /** Private subnet ids (≥ 2, different AZs). */
  readonly subnetIds: pulumi.Output<string[]>;
  /** Security group for the bot application (attach to your app; egress open, no ingress defined here). */
  readonly appSecurityGroupId: pulumi.Output<string>;
  /** Security group of the backup job (Lambda in the VPC). */
  readonly backupSecurityGroupId: pulumi.Output<string>;
  /** Security group of the database: 5432 from app + backup only. */
  readonly dbSecurityGroupId: pulumi.Output<string>;
  /** Security group of the cache: 6379 from app + backup only. */
  readonly cacheSecurityGroupId: pulumi.Output<string>;
  /**
   * The DB fence group: no ingress, no egress, referenced by nothing. `dr failover` fences an old primary by making
   * this the instance's only security group (ModifyDBInstance), so no Pulumi-managed rule is ever edited.
   */
  readonly dbFenceSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:network:Network', name, {}, opts);
    const base = `${args.namePrefix}-${regionShortName(args.region)}`;
    const tag: Tagger = (n) => ({ ...args.tags, Name: `${base}-${n}` });

    const vpc = args.network.mode === 'create' ? createVpc(name, args, this, tag, args.network) : existingVpc(args, this, args.network);
    this.vpcId = vpc.vpcId;
    this.subnetIds = vpc.subnetIds;
    const groups = createSecurityGroups(name, args, this, tag, this.vpcId);
    if (args.network.mode === 'create') createInterfaceEndpoints(name, args, this, tag, { vpcId: this.vpcId, subnetIds: this.subnetIds, vpcCidr: vpc.vpcCidr });

    this.appSecurityGroupId = groups.app.id;
    this.backupSecurityGroupId = groups.backup.id;
    this.dbSecurityGroupId = groups.db.id;
    this.cacheSecurityGroupId = groups.cache.id;
    this.dbFenceSecurityGroupId = groups.dbFence.id;
    this.registerOutputs({
      vpcId: this.vpcId,
      subnetIds: this.subnetIds,
      appSecurityGroupId: this.appSecurityGroupId,
      backupSecurityGroupId: this.backupSecurityGroupId,
      dbSecurityGroupId: this.dbSecurityGroupId,
      cacheSecurityGroupId: this.cacheSecurityGroupId,
      dbFenceSecurityGroupId: this.dbFenceSecurityGroupId,
    });
  }
}

/** The tags of a child whose Name is `<prefix>-<region short>-<n>`. */
type Tagger = (n: string) => Record<string, string>;

/** The VPC the security groups and endpoints go into. */
interface VpcParts {
  vpcId: pulumi.Output<string>;
  subnetIds: pulumi.Output<string[]>;
  /** The VPC's CIDR (the interface endpoints admit HTTPS from it). */
  vpcCidr: pulumi.Input<string>;
}

/** A new VPC: private subnets in `azCount` AZs, one private route table, an S3 gateway endpoint. */
function createVpc(name: string, args: NetworkArgs, parent: pulumi.Resource, tag: Tagger, net: Extract<NetworkConfig, { mode: 'create' }>): VpcParts {
  const o = { parent, provider: args.provider };
  const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: net.vpcCidr, enableDnsSupport: true, enableDnsHostnames: true, tags: tag('vpc') }, o);
  const azs = aws.getAvailabilityZonesOutput({ state: 'available', filters: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] }, o);
  const cidrs = subnetCidrs(net.vpcCidr, 4, net.azCount);
  const rt = new aws.ec2.RouteTable(`${name}-private-rt`, { vpcId: vpc.id, tags: tag('private') }, o);
  const subnets = cidrs.map(
    (cidr, i) =>
      new aws.ec2.Subnet(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: azs.names.apply((names) => {
            if (names.length < net.azCount) throw new Error(`network.azCount: ${args.region} offers only ${names.length} AZs, need ${net.azCount}`);
            return names[i];
          }),
          mapPublicIpOnLaunch: false,
          tags: tag(`private-${i}`),
        },
        o,
      ),
  );
  subnets.forEach((s, i) => new aws.ec2.RouteTableAssociation(`${name}-private-${i}-rta`, { subnetId: s.id, routeTableId: rt.id }, o));
  new aws.ec2.VpcEndpoint(
    `${name}-s3-endpoint`,
    { vpcId: vpc.id, serviceName: `com.amazonaws.${args.region}.s3`, vpcEndpointType: 'Gateway', routeTableIds: [rt.id], tags: tag('s3') },
    o,
  );
  return { vpcId: vpc.id, subnetIds: pulumi.all(subnets.map((s) => s.id)), vpcCidr: vpc.cidrBlock };
}

/** An existing VPC (its routing and endpoints are the owner's responsibility). */
function existingVpc(args: NetworkArgs, parent: pulumi.Resource, net: Extract<NetworkConfig, { mode: 'existing' }>): VpcParts {
  const o = { parent, provider: args.provider };
  return { vpcId: pulumi.output(net.vpcId), subnetIds: pulumi.output(net.subnetIds), vpcCidr: aws.ec2.getVpcOutput({ id: net.vpcId }, o).cidrBlock };
}

/** A security group `<name>-<n>-sg` in the VPC. */
function securityGroup(name: string, args: NetworkArgs, parent: pulumi.Resource, tag: Tagger, vpcId: pulumi.Input<string>, n: string, description: string): aws.ec2.SecurityGroup {
  return new aws.ec2.SecurityGroup(`${name}-${n}-sg`, { vpcId, description, tags: tag(`${n}-sg`) }, { parent, provider: args.provider });
}

/**
 * The app, backup-job, DB, cache and DB-fence groups: the data stores admit their port only from the app and
 * backup-job groups; the app has open egress, the backup job only the data stores and HTTPS.
 */
function createSecurityGroups(name: string, args: NetworkArgs, parent: pulumi.Resource, tag: Tagger, vpcId: pulumi.Input<string>) {
  const o = { parent, provider: args.provider };
  const sg = (n: string, description: string) => securityGroup(name, args, parent, tag, vpcId, n, description);
  const app = sg('app', 'Bot application: may reach the DB and the cache');
  const backup = sg('backup', 'Backup job (Lambda): may reach the DB, the cache and AWS APIs');
  const db = sg('db', `PostgreSQL: ${POSTGRES_PORT} from app and backup-job groups only`);
  const cache = sg('cache', `Redis: ${REDIS_PORT} from app and backup-job groups only`);
  // Empty on purpose (no rule resources, and the provider drops AWS's default allow-all egress): `dr failover`
  // swaps an old primary's instance onto it; a later `pulumi up` of that stack restores `db` (drift correction).
  const dbFence = sg('db-fence', 'bot-dr fence: an old primary database is moved here by dr failover; admits nothing');

  // Data stores: ingress only from the two client groups, no egress (terraform/pulumi drop AWS's default).
  for (const [store, group, port] of [['db', db, POSTGRES_PORT], ['cache', cache, REDIS_PORT]] as const) {
    for (const [client, from] of [['app', app], ['backup', backup]] as const) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${store}-from-${client}`,
        { securityGroupId: group.id, referencedSecurityGroupId: from.id, ipProtocol: 'tcp', fromPort: port, toPort: port, description: `${client} -> ${store}` },
        o,
      );
    }
  }
  // App: open egress (bots talk to Telegram/Discord). Backup job: only what it needs.
  new aws.vpc.SecurityGroupEgressRule(`${name}-app-egress`, { securityGroupId: app.id, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0', description: 'bot traffic' }, o);
  for (const [store, group, port] of [['db', db, POSTGRES_PORT], ['cache', cache, REDIS_PORT]] as const) {
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-backup-to-${store}`,
      { securityGroupId: backup.id, referencedSecurityGroupId: group.id, ipProtocol: 'tcp', fromPort: port, toPort: port, description: `backup -> ${store}` },
      o,
    );
  }
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-backup-to-https`,
    { securityGroupId: backup.id, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0', description: 'AWS APIs (S3, Secrets Manager, CloudWatch) over TLS' },
    o,
  );
  return { app, backup, db, cache, dbFence };
}

/** Interface endpoints so the backup job reaches Secrets Manager and CloudWatch without a NAT gateway. */
function createInterfaceEndpoints(name: string, args: NetworkArgs, parent: pulumi.Resource, tag: Tagger, { vpcId, subnetIds, vpcCidr }: VpcParts): void {
  const o = { parent, provider: args.provider };
  const endpointSg = securityGroup(name, args, parent, tag, vpcId, 'endpoints', 'VPC interface endpoints: 443 from the VPC');
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-endpoints-from-vpc`,
    { securityGroupId: endpointSg.id, cidrIpv4: vpcCidr, ipProtocol: 'tcp', fromPort: 443, toPort: 443, description: 'HTTPS from inside the VPC' },
    o,
  );
  for (const svc of ['secretsmanager', 'monitoring']) {
    new aws.ec2.VpcEndpoint(
      `${name}-${svc}-endpoint`,
      {
        vpcId,
        serviceName: `com.amazonaws.${args.region}.${svc}`,
        vpcEndpointType: 'Interface',
        privateDnsEnabled: true,
        subnetIds,
        securityGroupIds: [endpointSg.id],
        tags: tag(svc),
      },
      o,
    );
  }
}
