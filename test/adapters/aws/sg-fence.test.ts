import assert from 'node:assert/strict';
import {
  DescribeDBInstancesCommand,
  DescribeDBParametersCommand,
  ModifyDBInstanceCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
  ResetDBParameterGroupCommand,
  VpcSecurityGroupMembership,
} from '@aws-sdk/client-rds';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { OperationError } from '../../../automation/core/errors';
import { SecurityGroupFence, exactlyGroups, fencedBy } from '../../../automation/adapters/aws/sg-fence';
import { fenceGroups } from '../../../automation/adapters/aws';
import { RdsDatabase } from '../../../automation/adapters/aws/rds';
import { buildAwsTopology } from '../../../automation/adapters/aws/topology';
import { A, B, FakeClock, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS } from '../../helpers/aws-world';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const DB_SG = 'sg-0db0000000000000a';
const FENCE_SG = 'sg-0fe0000000000000a';
const DB_ID = PRIMARY_OUTPUTS.dbIdentifier;
const FAST = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

/**
 * One RDS instance in region A, answered like RDS does: a `ModifyDBInstance` of the security groups is accepted at
 * once (new groups `adding`, old ones `removing`) and settles after `settleAfter` more describes.
 */
class RdsWorld {
  readonly client = new RDSClient({ region: A, credentials: creds });
  readonly mock = mockClient(this.client);
  groups: VpcSecurityGroupMembership[] = [{ VpcSecurityGroupId: DB_SG, Status: 'active' }];
  settleAfter = 1;
  private pending = 0;
  readOnly = false;
  down = false;
  constructor() {
    const gate = () => {
      if (this.down) throw Object.assign(new Error('getaddrinfo ENOTFOUND rds.us-east-1.amazonaws.com'), { code: 'ENOTFOUND', name: 'Error' });
    };
    this.mock.on(DescribeDBInstancesCommand).callsFake(() => {
      gate();
      if (this.pending > 0 && --this.pending === 0) this.groups = this.groups.filter((g) => g.Status !== 'removing').map((g) => ({ ...g, Status: 'active' }));
      return {
        DBInstances: [
          { DBInstanceIdentifier: DB_ID, DBInstanceStatus: this.pending ? 'modifying' : 'available', VpcSecurityGroups: this.groups.map((g) => ({ ...g })), DBParameterGroups: [{ DBParameterGroupName: 'botdr-use1-pg-postgres16' }] },
        ],
      };
    });
    this.mock.on(ModifyDBInstanceCommand).callsFake((i: { VpcSecurityGroupIds?: string[] }) => {
      gate();
      const want = i.VpcSecurityGroupIds!;
      this.groups = [
        ...this.groups.filter((g) => !want.includes(g.VpcSecurityGroupId!)).map((g) => ({ ...g, Status: 'removing' })),
        ...want.map((id) => ({ VpcSecurityGroupId: id, Status: this.groups.some((g) => g.VpcSecurityGroupId === id && g.Status === 'active') ? 'active' : 'adding' })),
      ];
      this.pending = this.settleAfter;
      return { DBInstance: { DBInstanceIdentifier: DB_ID } };
    });
    this.mock.on(DescribeDBParametersCommand).callsFake(() => ({ Parameters: this.readOnly ? [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1' }] : [] }));
    this.mock.on(ModifyDBParameterGroupCommand).callsFake(() => {
      this.readOnly = true;
      return { DBParameterGroupName: 'botdr-use1-pg-postgres16' };
    });
    this.mock.on(ResetDBParameterGroupCommand).callsFake(() => {
      this.readOnly = false;
      return {};
    });
  }
  ids(): string[] {
    return this.groups.map((g) => g.VpcSecurityGroupId!);
  }
}

describe('security-group fence of an old AWS primary: ModifyDBInstance onto the empty fence group (aws-sdk-client-mock)', () => {
  let w: RdsWorld;
  let clock: FakeClock;
  const groups = { [A]: { dbIdentifier: DB_ID, securityGroupIds: [DB_SG], fenceSecurityGroupId: FENCE_SG } };
  const fence = (extra: Partial<ConstructorParameters<typeof SecurityGroupFence>[0]> = {}) => new SecurityGroupFence({ rds: () => w.client, groups, clock, retry: FAST, pollMs: 5_000, ...extra });
  beforeEach(() => {
    w = new RdsWorld();
    clock = new FakeClock();
  });
  afterEach(() => w.mock.restore());

  it('pure: fenced only when the fence group is the only attached group (a group still removing counts)', () => {
    assert.equal(fencedBy({ VpcSecurityGroups: [{ VpcSecurityGroupId: FENCE_SG, Status: 'active' }] }, FENCE_SG), true);
    assert.equal(fencedBy({ VpcSecurityGroups: [{ VpcSecurityGroupId: FENCE_SG, Status: 'adding' }, { VpcSecurityGroupId: DB_SG, Status: 'removing' }] }, FENCE_SG), false);
    assert.equal(fencedBy({ VpcSecurityGroups: [] }, FENCE_SG), false);
    assert.equal(exactlyGroups({ VpcSecurityGroups: [{ VpcSecurityGroupId: DB_SG, Status: 'active' }] }, [DB_SG]), true);
    assert.equal(exactlyGroups({ VpcSecurityGroups: [{ VpcSecurityGroupId: DB_SG, Status: 'adding' }, { VpcSecurityGroupId: FENCE_SG, Status: 'removing' }] }, [DB_SG]), false);
  });

  it('fence: DescribeDBInstances, then exactly one ModifyDBInstance VpcSecurityGroupIds=[fence] ApplyImmediately, waits until applied', async () => {
    const f = fence();
    assert.equal(await f.isFenced(A), false);
    const logs: string[] = [];
    await f.fence(A, { log: (l) => logs.push(l) });
    assert.deepEqual(w.mock.commandCalls(DescribeDBInstancesCommand)[0].args[0].input, { DBInstanceIdentifier: DB_ID });
    assert.deepEqual(
      w.mock.commandCalls(ModifyDBInstanceCommand).map((c) => c.args[0].input),
      [{ DBInstanceIdentifier: DB_ID, VpcSecurityGroupIds: [FENCE_SG], ApplyImmediately: true }],
    );
    assert.deepEqual(w.ids(), [FENCE_SG]);
    assert.equal(await f.isFenced(A), true);
    assert.ok(logs.some((l) => l.includes(`${DB_SG} → fence group ${FENCE_SG}`)), logs.join('\n'));
  });

  it('check-then-act: a second fence changes nothing; unfence restores the stack group once and waits; rerun is a no-op', async () => {
    w.settleAfter = 3;
    const f = fence();
    await f.fence(A);
    await f.fence(A);
    assert.equal(w.mock.commandCalls(ModifyDBInstanceCommand).length, 1);
    assert.ok(clock.now().getTime() > Date.parse('2026-11-22T10:00:00Z'), 'it polled (bounded) while RDS applied the change');
    await f.unfence(A);
    await f.unfence(A);
    assert.deepEqual(
      w.mock.commandCalls(ModifyDBInstanceCommand).map((c) => c.args[0].input),
      [
        { DBInstanceIdentifier: DB_ID, VpcSecurityGroupIds: [FENCE_SG], ApplyImmediately: true },
        { DBInstanceIdentifier: DB_ID, VpcSecurityGroupIds: [DB_SG], ApplyImmediately: true },
      ],
    );
    assert.deepEqual(w.ids(), [DB_SG]);
    assert.equal(await f.isFenced(A), false);
  });

  it('a crash between the modify and its completion: the rerun waits for the pending change instead of modifying again', async () => {
    w.settleAfter = 4;
    await w.client.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: DB_ID, VpcSecurityGroupIds: [FENCE_SG], ApplyImmediately: true }));
    await fence().fence(A);
    assert.equal(w.mock.commandCalls(ModifyDBInstanceCommand).length, 1, 'only the pre-crash modify');
    assert.deepEqual(w.ids(), [FENCE_SG]);
  });

  it('never edits a security-group rule: the only mutating call is ModifyDBInstance', async () => {
    const f = fence();
    await f.fence(A);
    await f.unfence(A);
    const names = w.mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    assert.deepEqual([...new Set(names)].sort(), ['DescribeDBInstancesCommand', 'ModifyDBInstanceCommand']);
  });

  it('bounded: a change RDS never applies fails with the groups it saw; RDS down is a clear error; an uncovered region is named', async () => {
    w.settleAfter = 1_000_000;
    await assert.rejects(fence({ waitTimeoutMs: 60_000 }).fence(A), (e: unknown) => e instanceof OperationError && /not applied within 60 s/.test(e.message) && e.message.includes(`${FENCE_SG}:adding`));
    w.down = true;
    await assert.rejects(fence().fence(A), (e: unknown) => e instanceof OperationError && /RDS in us-east-1 does not answer/.test(e.message));
    await assert.rejects(fence().isFenced(B), /no DB\/fence security group ids for us-west-2/);
  });

  it('topology: the fence covers a region only when its outputs carry dbSecurityGroupId AND dbFenceSecurityGroupId', () => {
    const outputs = { ...PRIMARY_OUTPUTS, dbSecurityGroupId: DB_SG, dbFenceSecurityGroupId: FENCE_SG };
    const { aws } = buildAwsTopology({ primary: { name: 'p', outputs }, secondary: { name: 's', outputs: { ...SECONDARY_OUTPUTS, dbSecurityGroupId: 'sg-b' } } });
    const g = fenceGroups(aws);
    assert.deepEqual(g[A], { dbIdentifier: DB_ID, securityGroupIds: [DB_SG], fenceSecurityGroupId: FENCE_SG });
    assert.equal(g[B], undefined);
    assert.equal(new SecurityGroupFence({ rds: () => w.client, groups: g }).covers(B), false);
  });

  it('RdsDatabase.fence applies the parameter-group AND the security-group fence; isFenced needs both; unfence lifts both', async () => {
    const outputs = { ...PRIMARY_OUTPUTS, dbSecurityGroupId: DB_SG, dbFenceSecurityGroupId: FENCE_SG };
    const { aws } = buildAwsTopology({ primary: { name: 'p', outputs }, secondary: { name: 's', outputs: SECONDARY_OUTPUTS } });
    const db = new RdsDatabase({ topology: aws, rds: () => w.client, cloudwatch: () => new CloudWatchClient({ region: A, credentials: creds }), sgFence: fence(), failoverId: 'fo-42', clock, retry: FAST });
    await db.fence(A);
    assert.equal(w.mock.commandCalls(ModifyDBParameterGroupCommand).length, 1);
    assert.deepEqual(w.ids(), [FENCE_SG]);
    assert.equal(await db.isFenced(A), true);
    // A session-overridable parameter alone is not a fence.
    await fence().unfence(A);
    assert.equal(await db.isFenced(A), false);
    await db.fence(A);
    await db.unfence(A);
    assert.equal(w.mock.commandCalls(ResetDBParameterGroupCommand).length, 1);
    assert.equal(await db.isFenced(A), false);
    assert.deepEqual(w.ids(), [DB_SG]);
  });
});
