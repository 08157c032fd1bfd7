import { strict as assert } from 'node:assert';
import * as aws from '@pulumi/aws';
import { Network } from '../../components/network';
import { subnetCidrs } from '../../lib/cidr';
import type { NetworkConfig } from '../../lib/config';
import { ProgramRun, runProgram } from '../helpers/pulumi';

async function runNetwork(network: NetworkConfig): Promise<ProgramRun> {
  return runProgram(() => {
    const provider = new aws.Provider('p', { region: 'us-east-1' });
    const n = new Network('net', { provider, region: 'us-east-1', namePrefix: 'botdr', network });
    return { vpcId: n.vpcId, subnetIds: n.subnetIds, db: n.dbSecurityGroupId, cache: n.cacheSecurityGroupId, app: n.appSecurityGroupId, backup: n.backupSecurityGroupId, fence: n.dbFenceSecurityGroupId };
  });
}

describe('Network', () => {
  it('subnet maths (pure)', () => {
    assert.deepEqual(subnetCidrs('10.40.0.0/16', 4, 3), ['10.40.0.0/20', '10.40.16.0/20', '10.40.32.0/20']);
    assert.deepEqual(subnetCidrs('10.1.2.0/24', 2, 2), ['10.1.2.0/26', '10.1.2.64/26']);
    assert.throws(() => subnetCidrs('10.0.0.0/27', 2, 2), /\/28/);
  });

  it('creates a VPC with private subnets in distinct AZs, a route table and an S3 gateway endpoint', async () => {
    const run = await runNetwork({ mode: 'create', vpcCidr: '10.40.0.0/16', azCount: 2 });
    assert.equal(run.one('aws:ec2/vpc:Vpc').inputs.cidrBlock, '10.40.0.0/16');
    const subnets = run.byType('aws:ec2/subnet:Subnet');
    assert.equal(subnets.length, 2);
    assert.deepEqual(subnets.map((s) => s.inputs.availabilityZone), ['us-east-1a', 'us-east-1b']);
    assert.ok(subnets.every((s) => s.inputs.mapPublicIpOnLaunch === false));
    assert.equal(run.byType('aws:ec2/routeTableAssociation:RouteTableAssociation').length, 2);
    assert.equal(run.byType('aws:ec2/internetGateway:InternetGateway').length, 0, 'private only');
    const endpoints = run.byType('aws:ec2/vpcEndpoint:VpcEndpoint');
    const s3 = endpoints.find((e) => e.inputs.serviceName === 'com.amazonaws.us-east-1.s3');
    assert.ok(s3, 'S3 gateway endpoint');
    assert.equal(s3.inputs.vpcEndpointType, 'Gateway');
    assert.deepEqual(s3.inputs.routeTableIds, [run.one('aws:ec2/routeTable:RouteTable').id]);
    assert.ok(endpoints.some((e) => e.inputs.serviceName === 'com.amazonaws.us-east-1.secretsmanager' && e.inputs.vpcEndpointType === 'Interface'));
    assert.ok(run.calls.some((c) => c.token === 'aws:index/getAvailabilityZones:getAvailabilityZones' && c.region === 'us-east-1'));
  });

  it('uses an existing VPC and subnets without creating one', async () => {
    const run = await runNetwork({ mode: 'existing', vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'] });
    assert.equal(run.byType('aws:ec2/vpc:Vpc').length, 0);
    assert.equal(run.byType('aws:ec2/subnet:Subnet').length, 0);
    assert.equal(run.outputs.vpcId, 'vpc-0123456789abcdef0');
    assert.deepEqual(run.outputs.subnetIds, ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']);
    assert.ok(run.byType('aws:ec2/securityGroup:SecurityGroup').every((sg) => sg.inputs.vpcId === 'vpc-0123456789abcdef0'));
  });

  it('DB accepts 5432 and cache 6379 only from the app and backup groups; no 0.0.0.0/0 ingress anywhere', async () => {
    const run = await runNetwork({ mode: 'create', vpcCidr: '10.40.0.0/16', azCount: 2 });
    const { db, cache, app, backup } = run.outputs;
    const ingress = run.byType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule');
    for (const [sg, port] of [[db, 5432], [cache, 6379]] as const) {
      const rules = ingress.filter((r) => r.inputs.securityGroupId === sg);
      assert.deepEqual(rules.map((r) => r.inputs.referencedSecurityGroupId).sort(), [app, backup].sort(), `sources of ${port}`);
      assert.ok(rules.every((r) => r.inputs.fromPort === port && r.inputs.toPort === port && r.inputs.ipProtocol === 'tcp'));
      assert.ok(rules.every((r) => r.inputs.cidrIpv4 === undefined));
    }
    assert.ok(!ingress.some((r) => r.inputs.cidrIpv4 === '0.0.0.0/0' || r.inputs.cidrIpv6 === '::/0'), 'no open ingress');
    for (const sg of run.byType('aws:ec2/securityGroup:SecurityGroup')) {
      assert.equal(sg.inputs.ingress, undefined, 'no inline ingress rules');
    }
    const egress = run.byType('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule');
    assert.ok(!egress.some((r) => r.inputs.securityGroupId === db || r.inputs.securityGroupId === cache), 'data stores have no egress');
  });

  it('pre-creates an empty DB fence group per region: no rule of any kind, referenced by nothing, exported', async () => {
    const run = await runNetwork({ mode: 'create', vpcCidr: '10.40.0.0/16', azCount: 2 });
    const { fence, db } = run.outputs;
    assert.ok(fence && fence !== db, 'a group of its own, not the DB group');
    const sg = run.byType('aws:ec2/securityGroup:SecurityGroup').find((g) => g.id === fence);
    assert.ok(sg, 'the fence group is a security group of this network');
    assert.equal(sg.inputs.ingress, undefined);
    assert.equal(sg.inputs.egress, undefined, 'no inline egress (the provider drops the default allow-all egress)');
    assert.equal(sg.inputs.vpcId, run.outputs.vpcId);
    assert.equal(sg.inputs.tags.Name, 'botdr-use1-db-fence-sg');
    const rules = [...run.byType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule'), ...run.byType('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule')];
    assert.ok(!rules.some((r) => r.inputs.securityGroupId === fence || r.inputs.referencedSecurityGroupId === fence), 'no rule on or referencing the fence group');
  });
});
