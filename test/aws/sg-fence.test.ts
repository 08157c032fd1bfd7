import assert from 'node:assert/strict';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  IpPermission,
  RevokeSecurityGroupIngressCommand,
  Tag,
} from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, DescribeDBParametersCommand, ModifyDBParameterGroupCommand, RDSClient, ResetDBParameterGroupCommand } from '@aws-sdk/client-rds';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { OperationError } from '../../automation/cli/errors';
import { FENCED_BY_TAG, SecurityGroupFence } from '../../automation/adapters/aws/sg-fence';
import { RdsDatabase } from '../../automation/adapters/aws/rds';
import { buildAwsTopology } from '../../automation/adapters/aws/topology';
import { A, B, FakeClock, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS } from './world';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const DB_SG = 'sg-0db0000000000000a';
const APP_SG = 'sg-0app000000000000a';
const BACKUP_SG = 'sg-0bak000000000000a';
const FAST = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

/** One DB security group in region A, answered like EC2 does. */
class Ec2World {
  readonly client = new EC2Client({ region: A, credentials: creds });
  readonly mock = mockClient(this.client);
  perms: IpPermission[] = [
    { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: APP_SG, Description: 'app -> db' }] },
    { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: BACKUP_SG, Description: 'backup -> db' }] },
  ];
  tags: Tag[] = [{ Key: 'Name', Value: 'botdr-use1-db-sg' }];
  down = false;
  constructor() {
    const gate = () => {
      if (this.down) throw Object.assign(new Error('getaddrinfo ENOTFOUND ec2.us-east-1.amazonaws.com'), { code: 'ENOTFOUND', name: 'Error' });
    };
    this.mock.on(DescribeSecurityGroupsCommand).callsFake(() => {
      gate();
      return { SecurityGroups: [{ GroupId: DB_SG, IpPermissions: this.perms.map((p) => ({ ...p })), Tags: [...this.tags] }] };
    });
    this.mock.on(RevokeSecurityGroupIngressCommand).callsFake((i: { IpPermissions?: IpPermission[] }) => {
      gate();
      const app = i.IpPermissions![0].UserIdGroupPairs![0].GroupId;
      this.perms = this.perms.filter((p) => !p.UserIdGroupPairs?.some((u) => u.GroupId === app));
      return { Return: true };
    });
    this.mock.on(AuthorizeSecurityGroupIngressCommand).callsFake((i: { IpPermissions?: IpPermission[] }) => {
      gate();
      this.perms.push(...i.IpPermissions!);
      return { Return: true };
    });
    this.mock.on(CreateTagsCommand).callsFake((i: { Tags?: Tag[] }) => {
      this.tags.push(...i.Tags!);
      return {};
    });
    this.mock.on(DeleteTagsCommand).callsFake((i: { Tags?: Tag[] }) => {
      this.tags = this.tags.filter((t) => !i.Tags!.some((x) => x.Key === t.Key));
      return {};
    });
  }
}

describe('security-group fence of an old AWS primary (aws-sdk-client-mock)', () => {
  let w: Ec2World;
  let clock: FakeClock;
  const fence = () => new SecurityGroupFence({ ec2: () => w.client, groups: { [A]: { dbSecurityGroupId: DB_SG, appSecurityGroupId: APP_SG } }, clock, retry: FAST });
  beforeEach(() => {
    w = new Ec2World();
    clock = new FakeClock();
  });
  afterEach(() => w.mock.restore());

  it('fence: DescribeSecurityGroups, then revoke exactly the app rule and tag bot-dr:fenced-by=<failover id>; backup-job access stays', async () => {
    const f = fence();
    assert.equal(await f.isFenced(A), false);
    await f.fence(A, 'fo-20261122');
    assert.deepEqual(w.mock.commandCalls(DescribeSecurityGroupsCommand)[0].args[0].input, { GroupIds: [DB_SG] });
    assert.deepEqual(
      w.mock.commandCalls(RevokeSecurityGroupIngressCommand).map((c) => c.args[0].input),
      [{ GroupId: DB_SG, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: APP_SG }] }] }],
    );
    assert.deepEqual(w.mock.commandCalls(CreateTagsCommand).map((c) => c.args[0].input), [{ Resources: [DB_SG], Tags: [{ Key: FENCED_BY_TAG, Value: 'fo-20261122' }] }]);
    assert.equal(await f.isFenced(A), true);
    assert.deepEqual(w.perms.map((p) => p.UserIdGroupPairs![0].GroupId), [BACKUP_SG], 'the backup job can still dump the fenced database');
  });

  it('check-then-act: a second fence changes nothing; unfence restores the rule and removes the tag, once', async () => {
    const f = fence();
    await f.fence(A, 'fo-1');
    await f.fence(A, 'fo-1');
    assert.equal(w.mock.commandCalls(RevokeSecurityGroupIngressCommand).length, 1);
    assert.equal(w.mock.commandCalls(CreateTagsCommand).length, 1);
    await f.unfence(A);
    await f.unfence(A);
    assert.deepEqual(
      w.mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input),
      [{ GroupId: DB_SG, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: APP_SG, Description: 'app -> db' }] }] }],
    );
    assert.deepEqual(w.mock.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input), [{ Resources: [DB_SG], Tags: [{ Key: FENCED_BY_TAG }] }]);
    assert.equal(await f.isFenced(A), false);
    assert.ok(!w.tags.some((t) => t.Key === FENCED_BY_TAG));
  });

  it('a rule revoked by hand without the tag is not reported fenced (the tag says who and why); EC2 down is a clear error', async () => {
    w.perms = w.perms.filter((p) => p.UserIdGroupPairs![0].GroupId !== APP_SG);
    assert.equal(await fence().isFenced(A), false);
    w.down = true;
    await assert.rejects(fence().fence(A, 'fo-1'), (e: unknown) => e instanceof OperationError && /EC2 in us-east-1 does not answer/.test(e.message));
    await assert.rejects(fence().isFenced(B), /no DB\/app security group ids for us-west-2/);
  });

  it('RdsDatabase.fence applies the parameter-group AND the security-group fence; isFenced needs both; unfence lifts both', async () => {
    const rdsClient = new RDSClient({ region: A, credentials: creds });
    const rds = mockClient(rdsClient);
    let readOnly = false;
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: PRIMARY_OUTPUTS.dbIdentifier, DBInstanceStatus: 'available', DBParameterGroups: [{ DBParameterGroupName: 'botdr-use1-pg-postgres16' }] }] });
    rds.on(DescribeDBParametersCommand).callsFake(() => ({ Parameters: readOnly ? [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1' }] : [] }));
    rds.on(ModifyDBParameterGroupCommand).callsFake(() => {
      readOnly = true;
      return { DBParameterGroupName: 'botdr-use1-pg-postgres16' };
    });
    rds.on(ResetDBParameterGroupCommand).callsFake(() => {
      readOnly = false;
      return {};
    });
    try {
      const outputs = { ...PRIMARY_OUTPUTS, dbSecurityGroupId: DB_SG, appSecurityGroupId: APP_SG };
      const { aws } = buildAwsTopology({ primary: { name: 'p', outputs }, secondary: { name: 's', outputs: SECONDARY_OUTPUTS } });
      assert.equal(aws.regions[0].dbSecurityGroupId, DB_SG);
      const db = new RdsDatabase({ topology: aws, rds: () => rdsClient, cloudwatch: () => new CloudWatchClient({ region: A, credentials: creds }), sgFence: fence(), failoverId: 'fo-42', clock, retry: FAST });
      await db.fence(A);
      assert.equal(rds.commandCalls(ModifyDBParameterGroupCommand).length, 1);
      assert.equal(w.mock.commandCalls(RevokeSecurityGroupIngressCommand).length, 1);
      assert.equal(w.tags.find((t) => t.Key === FENCED_BY_TAG)?.Value, 'fo-42');
      assert.equal(await db.isFenced(A), true);
      // A session-overridable parameter alone is not a fence any more.
      await fence().unfence(A);
      assert.equal(await db.isFenced(A), false);
      await db.fence(A);
      await db.unfence(A);
      assert.equal(rds.commandCalls(ResetDBParameterGroupCommand).length, 1);
      assert.equal(await db.isFenced(A), false);
      assert.ok(w.perms.some((p) => p.UserIdGroupPairs![0].GroupId === APP_SG));
    } finally {
      rds.restore();
    }
  });
});
