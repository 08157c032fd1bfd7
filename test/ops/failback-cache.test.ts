/**
 * Issue 12, `dr failback`'s cache step (ops/failback-cache.ts over adapters/aws/failback-cache.ts): the decision from
 * what ElastiCache says, the exact SDK calls (aws-sdk-client-mock), the refusals before any change, the bounded wait,
 * and the whole config sequence failover → reconcile → failback on the fake workspace (test/helpers/aws-world.ts).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteGlobalReplicationGroupCommand,
  DescribeGlobalReplicationGroupsCommand,
  DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand,
  DisassociateGlobalReplicationGroupCommand,
  ElastiCacheClient,
  FailoverGlobalReplicationGroupCommand,
} from '@aws-sdk/client-elasticache';
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand } from '@aws-sdk/client-rds';
import { awsFailoverPorts, buildAwsTopology, type SqlProbe } from '../../automation/adapters/aws';
import { elastiCacheFailback } from '../../automation/adapters/aws/failback-cache';
import { rdsFailbackDatabase } from '../../automation/adapters/aws/failback-db';
import type { StackDriver, StackLike } from '../../automation/adapters/aws/stacks';
import { awsRegion, peerOf, type BuiltTopology } from '../../automation/adapters/aws/topology';
import { OperationError, RefusedError } from '../../automation/core/errors';
import { runFailover } from '../../automation/failover';
import { awsFailback, FAILBACK_STEPS } from '../../automation/ops/failback';
import { decideHomeCache, failbackCacheStep, type FailbackCacheOptions } from '../../automation/ops/failback-cache';
import { A, awsError, B, FakeClock, FakeDriver, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS, throttle, World } from '../helpers/aws-world';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';
const GEN = 'bot-platform-dr:cache.globalDatastoreGeneration';
const DETACHED = 'bot-platform-dr:cache.detached';
const GEN1 = PRIMARY_OUTPUTS.globalDatastoreId;
const GEN2 = World.globalId(B, 'botdr-redis-g2');
const HOME_GROUP = PRIMARY_OUTPUTS.cacheReplicationGroupId;
const SURVIVOR_GROUP = SECONDARY_OUTPUTS.cacheReplicationGroupId;
const sql: SqlProbe = { query: async (_region, text) => (text.includes('current_wal') || text.includes('replay_lsn') ? [{ lsn: '0/5000000', delay: 0 }] : [{ ok: 1, n: 3 }]) };

describe('failback: the cache step (issue 12)', () => {
  describe('decideHomeCache (pure)', () => {
    const base = { home: A, group: HOME_GROUP, survivor: B, survivorGlobalId: GEN2, homeStackRole: 'primary' };
    const cases: Array<[string, Parameters<typeof decideHomeCache>[0], string]> = [
      ['no global datastore', { ...base, survivorGlobalId: undefined, view: { exists: true } }, 'none'],
      ['no home group', { ...base, view: { exists: false } }, 'none'],
      ['standalone already (a rerun)', { ...base, view: { exists: true, status: 'available' } }, 'standalone'],
      ['primary of the datastore the survivor left', { ...base, view: { exists: true, status: 'available', globalId: GEN1, role: 'PRIMARY' } }, 'remove'],
      ['a member of the survivor\'s datastore, its stack a member (rebuilt, or a later cycle)', { ...base, homeStackRole: 'secondary', view: { exists: true, globalId: GEN2, role: 'SECONDARY' } }, 'joined'],
      ['a secondary of the survivor\'s datastore while its stack is the owner (a planned failover)', { ...base, survivorGlobalId: GEN1, view: { exists: true, globalId: GEN1, role: 'SECONDARY' } }, 'member'],
      ['still the primary of the survivor\'s datastore while its stack is the owner (the cache never moved)', { ...base, survivorGlobalId: GEN1, view: { exists: true, globalId: GEN1, role: 'PRIMARY' } }, 'member'],
      ['a secondary of some other datastore', { ...base, view: { exists: true, globalId: 'ldgnf-elsewhere', role: 'SECONDARY' } }, 'refuse'],
    ];
    for (const [title, input, kind] of cases) it(`${title} → ${kind}`, () => assert.equal(decideHomeCache(input).kind, kind));
    it('the remove decision names the old datastore; the planned path says it is not automated', () => {
      assert.deepEqual(decideHomeCache(cases[3][1]), { kind: 'remove', oldGlobalId: GEN1 });
      const d = decideHomeCache(cases[5][1]);
      assert.ok(d.kind === 'member' && /WARNING .*Not automated.*owner into a member|owner into a member/.test(d.detail), JSON.stringify(d));
    });
  });

  describe('adapters/aws/failback-cache.ts: the exact ElastiCache calls', () => {
    const client = new ElastiCacheClient({ region: A, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const m = mockClient(client);
    const clock = new FakeClock();
    const ec = elastiCacheFailback(() => client, { clock, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } });
    afterEach(() => m.reset());
    after(() => m.restore());

    it('reads: group membership, datastore members, snapshot name; not-found faults are answers, not errors', async () => {
      m.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: HOME_GROUP, Status: 'available', GlobalReplicationGroupInfo: { GlobalReplicationGroupId: GEN1, GlobalReplicationGroupMemberRole: 'PRIMARY' } }] });
      m.on(DescribeGlobalReplicationGroupsCommand).resolves({ GlobalReplicationGroups: [{ GlobalReplicationGroupId: GEN1, Status: 'primary-only', Members: [{ ReplicationGroupId: HOME_GROUP, ReplicationGroupRegion: A, Role: 'PRIMARY', Status: 'associated' }] }] });
      m.on(DescribeSnapshotsCommand).rejects(awsError('SnapshotNotFoundFault', 'Snapshot not found.'));
      assert.deepEqual(await ec.group(A, HOME_GROUP), { exists: true, status: 'available', globalId: GEN1, role: 'PRIMARY' });
      assert.deepEqual(await ec.global(A, GEN1), { exists: true, status: 'primary-only', members: [{ groupId: HOME_GROUP, region: A, role: 'PRIMARY', status: 'associated' }] });
      assert.equal(await ec.snapshotExists(A, `${HOME_GROUP}-final`), false);
      assert.deepEqual(m.commandCalls(DescribeReplicationGroupsCommand)[0].args[0].input, { ReplicationGroupId: HOME_GROUP });
      assert.deepEqual(m.commandCalls(DescribeGlobalReplicationGroupsCommand)[0].args[0].input, { GlobalReplicationGroupId: GEN1, ShowMemberInfo: true });
      assert.deepEqual(m.commandCalls(DescribeSnapshotsCommand)[0].args[0].input, { SnapshotName: `${HOME_GROUP}-final` });
      m.on(DescribeReplicationGroupsCommand).rejects(awsError('ReplicationGroupNotFoundFault', 'not found'));
      m.on(DescribeGlobalReplicationGroupsCommand).rejects(awsError('GlobalReplicationGroupNotFoundFault', 'not found'));
      m.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotName: `${HOME_GROUP}-final` }] });
      assert.deepEqual(await ec.group(A, HOME_GROUP), { exists: false });
      assert.deepEqual(await ec.global(A, GEN1), { exists: false, members: [] });
      assert.equal(await ec.snapshotExists(A, `${HOME_GROUP}-final`), true);
    });

    it('acts: DeleteGlobalReplicationGroup keeps the primary; DisassociateGlobalReplicationGroup names group and region; throttling is retried, other faults surface', async () => {
      m.on(DeleteGlobalReplicationGroupCommand).rejectsOnce(throttle()).resolves({});
      m.on(DisassociateGlobalReplicationGroupCommand).resolves({});
      await ec.deleteGlobal(A, GEN1);
      await ec.disassociate(A, GEN1, 'other-group', 'eu-west-1');
      assert.deepEqual(m.commandCalls(DeleteGlobalReplicationGroupCommand).map((c) => c.args[0].input), [
        { GlobalReplicationGroupId: GEN1, RetainPrimaryReplicationGroup: true },
        { GlobalReplicationGroupId: GEN1, RetainPrimaryReplicationGroup: true },
      ]);
      assert.deepEqual(m.commandCalls(DisassociateGlobalReplicationGroupCommand)[0].args[0].input, { GlobalReplicationGroupId: GEN1, ReplicationGroupId: 'other-group', ReplicationGroupRegion: 'eu-west-1' });
      m.on(DeleteGlobalReplicationGroupCommand).rejects(awsError('InvalidGlobalReplicationGroupStateFault', 'has secondaries'));
      await assert.rejects(ec.deleteGlobal(A, GEN1), /has secondaries/);
    });
  });

  describe('failbackCacheStep over the simulated AWS', () => {
    let w: World;
    let clock: FakeClock;
    let log: string[];
    /** The world after an unplanned failover and its reconcile: the survivor leads generation 2, home is back. */
    beforeEach(() => {
      w = new World();
      clock = new FakeClock();
      log = [];
      w.cache[B] = { status: 'available', role: 'PRIMARY', global: GEN2 };
      w.globals[GEN2] = { status: 'available' };
    });
    afterEach(() => w.restore());
    /** `survivorGlobal` null: the stacks have no global datastore. */
    const topo = (survivorGlobal: string | null = GEN2, homeRole = 'primary'): BuiltTopology =>
      buildAwsTopology({
        primary: { name: P, outputs: { ...PRIMARY_OUTPUTS, role: homeRole, ...(survivorGlobal ? {} : { globalDatastoreId: undefined }) } },
        secondary: { name: S, outputs: { ...SECONDARY_OUTPUTS, globalDatastoreId: survivorGlobal ?? undefined } },
      });
    const step = (t = topo()): Promise<Awaited<ReturnType<typeof failbackCacheStep>>> => {
      const o: FailbackCacheOptions = {
        cache: elastiCacheFailback((r) => w.ec[r], { clock, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }),
        home: awsRegion(t.aws, A),
        survivor: peerOf(t.aws, A),
        clock,
        timeoutMs: 60_000,
        pollMs: 5_000,
        log: (l) => log.push(l),
      };
      return failbackCacheStep(o);
    };
    const deletes = () => w.mocks.ec[A].commandCalls(DeleteGlobalReplicationGroupCommand).map((c) => c.args[0].input);

    it('deletes the datastore the survivor left (its primary, the home group, kept standalone), after checking; a rerun is done-before', async () => {
      const r = await step();
      assert.equal(r.status, 'ok');
      assert.match(r.detail, new RegExp(`old global datastore ${GEN1} deleted .*${HOME_GROUP}.*kept standalone.*member of ${GEN2}.*final snapshot ${HOME_GROUP}-final`));
      assert.deepEqual(deletes(), [{ GlobalReplicationGroupId: GEN1, RetainPrimaryReplicationGroup: true }]);
      assert.equal(w.mocks.ec[A].commandCalls(DisassociateGlobalReplicationGroupCommand).length + w.mocks.ec[B].commandCalls(DisassociateGlobalReplicationGroupCommand).length, 0, 'no member to remove in a pair');
      // The checks came first: the survivor leads its datastore (asked in its region), the final snapshot name is free.
      assert.deepEqual(w.mocks.ec[B].commandCalls(DescribeGlobalReplicationGroupsCommand).map((c) => c.args[0].input), [{ GlobalReplicationGroupId: GEN2, ShowMemberInfo: true }]);
      assert.deepEqual(w.mocks.ec[B].commandCalls(DescribeReplicationGroupsCommand).map((c) => c.args[0].input), [{ ReplicationGroupId: SURVIVOR_GROUP }]);
      assert.deepEqual(w.mocks.ec[A].commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input), [{ SnapshotName: `${HOME_GROUP}-final` }]);
      assert.deepEqual(w.cache[A], { status: 'available', role: 'NONE', global: undefined });
      assert.deepEqual(w.cache[B], { status: 'available', role: 'PRIMARY', global: GEN2 }, 'the survivor is untouched');
      assert.ok(log.some((l) => l.startsWith(`cache: DeleteGlobalReplicationGroup ${GEN1} (RetainPrimaryReplicationGroup)`)));
      const again = await step();
      assert.equal(again.status, 'done-before');
      assert.equal(deletes().length, 1);
    });

    it('waits (bounded) while the datastore is deleting; a timeout is an error and the rerun only waits', async () => {
      w.globalDeletePolls = 3;
      const r = await step();
      assert.equal(r.status, 'ok');
      assert.ok(clock.sleeps.length >= 1 && clock.sleeps.every((s) => s === 5_000));
      assert.ok(log.some((l) => /waiting for .* to be deleted .*datastore deleting/.test(l)), log.join('\n'));
      const slow = new World();
      try {
        slow.cache[B] = { status: 'available', role: 'PRIMARY', global: GEN2 };
        slow.globals[GEN2] = { status: 'available' };
        slow.globalDeletePolls = 100;
        const t = topo();
        const o: FailbackCacheOptions = { cache: elastiCacheFailback((x) => slow.ec[x], { clock }), home: awsRegion(t.aws, A), survivor: peerOf(t.aws, A), clock, timeoutMs: 20_000, pollMs: 5_000, log: () => undefined };
        await assert.rejects(failbackCacheStep(o), (e: unknown) => e instanceof OperationError && /not deleted within 20 s.*rerun dr failback to keep waiting/.test((e as Error).message));
        slow.globalDeletePolls = 0;
        assert.equal((await failbackCacheStep({ ...o, timeoutMs: 600_000 })).status, 'ok');
        assert.equal(slow.mocks.ec[A].commandCalls(DeleteGlobalReplicationGroupCommand).length, 1, 'a datastore already deleting is not deleted twice');
      } finally {
        slow.restore();
      }
    });

    const refusals: Array<[string, (w: World) => void, RegExp]> = [
      ['the survivor does not lead its datastore yet (reconcile not done)', (x) => Object.assign(x.cache[B], { role: 'NONE', global: undefined }) && delete x.globals[GEN2], new RegExp(`datastore ${GEN2} does not exist.*dr failover --resume`)],
      ['the survivor\'s group is not available', (x) => (x.cache[B].status = 'modifying'), /is modifying: the home cache would have nothing to join/],
      ['the final snapshot name is taken (an earlier failback\'s)', (x) => x.cacheSnapshots.add(`${A}/${HOME_GROUP}-final`), new RegExp(`final snapshot ${HOME_GROUP}-final, and a snapshot of that name exists.*copy-snapshot.*delete-snapshot`)],
      ['the old datastore has a member that is not this pair\'s', (x) => {
        x.mocks.ec[A].on(DescribeGlobalReplicationGroupsCommand, { GlobalReplicationGroupId: GEN1 }).resolves({ GlobalReplicationGroups: [{ GlobalReplicationGroupId: GEN1, Status: 'available', Members: [{ ReplicationGroupId: HOME_GROUP, ReplicationGroupRegion: A, Role: 'PRIMARY' }, { ReplicationGroupId: 'someone-else', ReplicationGroupRegion: 'eu-west-1', Role: 'SECONDARY' }] }] });
      }, /still has other members \(someone-else in eu-west-1, SECONDARY\).*never cuts them off/],
      ['the home group is a secondary of another datastore', (x) => (x.cache[A].role = 'SECONDARY'), /is a SECONDARY of .*investigate/],
    ];
    for (const [title, arrange, message] of refusals) {
      it(`refused (exit 2), nothing deleted: ${title}`, async () => {
        arrange(w);
        await assert.rejects(step(), (e: unknown) => e instanceof RefusedError && e.exitCode === 2 && message.test((e as Error).message) && /Nothing was changed in ElastiCache/.test((e as Error).message));
        assert.deepEqual(deletes(), []);
        assert.equal(w.actLog.length, 0);
      });
    }

    it('skipped, with what it means: no global datastore; no home group; a home group in the survivor\'s datastore while its stack is the owner (the planned path, not automated)', async () => {
      assert.match((await step(topo(null))).detail, /no ElastiCache global datastore/);
      w.mocks.ec[A].on(DescribeReplicationGroupsCommand).rejects(awsError('ReplicationGroupNotFoundFault', 'not found'));
      assert.match((await step()).detail, new RegExp(`no replication group ${HOME_GROUP} in ${A}: the rebuild creates it as a member of ${GEN2}`));
      w.mocks.ec[A].on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: HOME_GROUP, Status: 'available', GlobalReplicationGroupInfo: { GlobalReplicationGroupId: GEN1, GlobalReplicationGroupMemberRole: 'SECONDARY' } }] });
      const planned = await step(topo(GEN1));
      assert.equal(planned.status, 'skipped');
      assert.match(planned.detail, /WARNING .* is a secondary of .* already .*Not automated/);
      const joined = await step(topo(GEN1, 'secondary'));
      assert.equal(joined.status, 'done-before');
      assert.deepEqual(deletes(), []);
    });
  });

  describe('the config sequence: unplanned failover → reconcile → failback (fake workspace)', () => {
    let w: World;
    let driver: FakeDriver;
    let clock: FakeClock;
    let dir: string;
    let log: string[];
    beforeEach(async () => {
      w = new World();
      driver = new FakeDriver(w);
      clock = new FakeClock();
      log = [];
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dr-fb-cache-'));
      const snapshots: Record<string, string> = {};
      w.mocks.rds[A].on(CreateDBSnapshotCommand).callsFake((i: { DBSnapshotIdentifier?: string }) => ((snapshots[i.DBSnapshotIdentifier!] = 'available'), {}));
      w.mocks.rds[A].on(DescribeDBSnapshotsCommand).callsFake((i: { DBSnapshotIdentifier?: string }) => ({ DBSnapshots: Object.keys(snapshots).filter((id) => !i.DBSnapshotIdentifier || id === i.DBSnapshotIdentifier).map((id) => ({ DBSnapshotIdentifier: id, Status: snapshots[id] })) }));
    });
    afterEach(async () => {
      w.restore();
      await fs.rm(dir, { recursive: true, force: true });
    });
    const outputs = (name: string) => Object.fromEntries(Object.entries(driver.stacks[name].outputs).map(([k, v]) => [k, v.value]));
    const built = () => buildAwsTopology({ primary: { name: P, outputs: outputs(P) }, secondary: { name: S, outputs: outputs(S) } });
    const ports = (b: BuiltTopology, survivor: string, id: string) =>
      awsFailoverPorts({
        topology: b.aws, survivor, journalDir: path.join(dir, 'journal'), driver, clients: w.clients(), clock, failoverId: id, backupRetentionDays: 14, sql,
        waits: { timeoutMs: 120_000, pollMs: 5_000 }, retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 200 }, stackRetry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 2_000 },
      });
    /** The home stack's `up` as the program does it: a secondary's database becomes a replica, its cache a member. */
    const wrapped: StackDriver = {
      async select(name: string): Promise<StackLike> {
        const s = await driver.select(name);
        if (name !== P) return s;
        return {
          ...s,
          async up(opts) {
            const cfg = driver.stacks[P].config;
            if (cfg['bot-platform-dr:role'] === 'secondary' && cfg['bot-platform-dr:database.promoted'] === 'false') {
              w.db[A] = { status: 'available', replicaOf: SECONDARY_OUTPUTS.dbArn, retention: 0, paramGroup: 'botdr-use1-pg16' };
              driver.stacks[P].outputs.role = { value: 'secondary', secret: false };
            }
            return s.up(opts);
          },
        };
      },
    };
    const config = (stack: string) => ({ gen: driver.stacks[stack].config[GEN], detached: driver.stacks[stack].config[DETACHED], role: driver.stacks[stack].config['bot-platform-dr:role'], promoted: driver.stacks[stack].config['bot-platform-dr:database.promoted'] });

    it('each phase\'s stack config and ElastiCache state; the survivor\'s group is never replaced, the home group once, after the old datastore is gone', async () => {
      // 1. Unplanned failover, us-east-1 down.
      w.down.add(A);
      const fo = await runFailover({ ports: ports(built(), B, 'fo-1'), topology: built().topology, mode: 'unplanned', incident: 'datacenter', from: A, to: B, confirm: true, id: 'fo-1' });
      assert.equal(fo.outcome, 'completed');
      assert.deepEqual(config(S), { gen: '2', detached: 'true', role: 'secondary', promoted: 'true' });
      assert.deepEqual(config(P), { gen: '2', detached: 'false', role: 'secondary', promoted: 'false' });
      assert.deepEqual(w.actLog.filter((a) => /GlobalReplicationGroup|cache-group/.test(a)), ['DisassociateGlobalReplicationGroup', 'stack:CreateGlobalReplicationGroup']);
      // 2. us-east-1 is back: its group is still the primary of the old datastore.
      w.down.delete(A);
      assert.deepEqual(w.cache[A], { status: 'available', role: 'PRIMARY', global: GEN1 });
      assert.equal(built().aws.cacheGlobalId, GEN2, 'the stacks\' current datastore is the survivor\'s');
      // 3. Failback to us-east-1.
      const before = built();
      const kept: string[] = [];
      const res = await awsFailback({
        driver: wrapped, built: before, home: A,
        db: (r) => rdsFailbackDatabase(w.rds[r]),
        cache: elastiCacheFailback((r) => w.ec[r], { clock }),
        lag: async () => ({ seconds: 1 }), maxLagSeconds: 30,
        guard: async () => 'no old primary to fence',
        // The old primary answers no SQL behind its fence: the divergent record points at the pre-failback snapshot
        // (ops/divergent.ts, tested in test/cli/failback-aws.test.ts); here only that it runs before the rebuild.
        divergent: async (snapshot) => {
          kept.push(snapshot);
          return {
            status: 'ok', detail: `kept in RDS snapshot ${snapshot}`,
            summary: { backup_id: 'backup_20261201_000000', location: `s3://${SECONDARY_OUTPUTS.bucketName}`, key: 'divergent/backup_20261201_000000.rds-snapshot.json', manifest_key: 'divergent/backup_20261201_000000.rds-snapshot.json.metadata.json', kind: 'rds-snapshot', snapshot, restorability: 'UNVERIFIED', compared: false, reason: 'the old primary does not answer SQL', rows_differ: null, rows_only_on_survivor: null, tables: [], split: { source: 'journal' }, duration_seconds: 0 },
          };
        },
        reread: async () => built(),
        switchover: (after, from, to) => runFailover({ ports: ports(after, to, 'fb-1'), topology: after.topology, mode: 'planned', incident: 'datacenter', from, to, confirm: true, id: 'fb-1' }),
        clock, waits: { timeoutMs: 120_000, pollMs: 5_000 }, stackRetry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 2_000 },
        log: (l) => log.push(l),
      });
      assert.deepEqual(res.steps.map((s) => `${s.step}:${s.status}`), FAILBACK_STEPS.map((s) => `${s}:ok`));
      assert.equal(res.switchover.outcome, 'completed');
      assert.equal(kept.length, 1, 'the old primary\'s writes are recorded once, from its pre-failback snapshot');
      // The old datastore went before the home group was replaced (deleted with its final snapshot, created as a member).
      assert.deepEqual(w.actLog.filter((a) => /GlobalReplicationGroup|cache-group/.test(a)), ['DisassociateGlobalReplicationGroup', 'stack:CreateGlobalReplicationGroup', 'DeleteGlobalReplicationGroup', 'stack:replace-cache-group', 'FailoverGlobalReplicationGroup']);
      assert.ok(w.cacheSnapshots.has(`${A}/${HOME_GROUP}-final`), 'the home group\'s writes the survivor never received are kept');
      assert.deepEqual(Object.keys(w.globals), [GEN2]);
      // The switchover back moved the new datastore's primary home (FailoverGlobalReplicationGroup on generation 2).
      assert.deepEqual(w.mocks.ec[A].commandCalls(FailoverGlobalReplicationGroupCommand).map((c) => c.args[0].input), [{ GlobalReplicationGroupId: GEN2, PrimaryRegion: A, PrimaryReplicationGroupId: HOME_GROUP }]);
      assert.deepEqual([w.cache[A], w.cache[B]], [{ status: 'available', role: 'PRIMARY', global: GEN2 }, { status: 'available', role: 'SECONDARY', global: GEN2 }]);
      // 4. The stacks after failback: home promoted, a member (generation 2); the survivor keeps declaring the datastore
      //    it created (detached, generation 2) with its primary moved — the planned case of components/cache.ts.
      assert.deepEqual(config(P), { gen: '2', detached: 'false', role: 'secondary', promoted: 'true' });
      assert.deepEqual(config(S), { gen: '2', detached: 'true', role: 'secondary', promoted: 'false' });
      assert.equal(driver.stacks[P].outputs.globalDatastoreId.value, GEN2);
      assert.equal(built().aws.cacheGlobalId, GEN2);
      assert.equal(w.acts['stack:replace-cache-group'], 1, 'only the home group was rebuilt');
      assert.equal(w.acts['stack:CreateGlobalReplicationGroup'], 1);
    });
  });
});
