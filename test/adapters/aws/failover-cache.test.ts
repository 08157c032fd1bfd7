/**
 * Issue 12, the cache after an unplanned failover, through the failover engine and the AWS adapters (fake workspace +
 * aws-sdk-client-mock, test/helpers/aws-world.ts): promote-cache disassociates the survivor when the failover API
 * refuses and journals it; reconcile moves the stacks to the next global datastore generation (the survivor's one
 * targeted `up` creates it from its group); a planned failover changes no cache config and keeps the datastore.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeGlobalReplicationGroupsCommand, DisassociateGlobalReplicationGroupCommand, FailoverGlobalReplicationGroupCommand } from '@aws-sdk/client-elasticache';
import { AwsStacks, awsFailoverPorts, buildAwsTopology, probeStacks, retargetChanges, SqlProbe } from '../../../automation/adapters/aws';
import { currentGlobalDatastore } from '../../../automation/adapters/aws/topology';
import { nextGeneration } from '../../../automation/adapters/aws/stacks';
import { Incident, runFailover } from '../../../automation/failover';
import { reconcileTargets } from '../../../lib/reconcile';
import { A, B, FakeClock, FakeDriver, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS, World } from '../../helpers/aws-world';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';
const GEN = 'bot-platform-dr:cache.globalDatastoreGeneration';
const DETACHED = 'bot-platform-dr:cache.detached';
const GEN1 = PRIMARY_OUTPUTS.globalDatastoreId;
const GEN2 = World.globalId(B, 'botdr-redis-g2');

describe('aws failover: the cache after an unplanned failover (issue 12)', () => {
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
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dr-awsfo-cache-'));
  });
  afterEach(async () => {
    w.restore();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const outputs = (name: string) => Object.fromEntries(Object.entries(driver.stacks[name].outputs).map(([k, v]) => [k, v.value]));
  const built = () => buildAwsTopology({ primary: { name: P, outputs: outputs(P) }, secondary: { name: S, outputs: outputs(S) } });
  const ports = (o: { sql?: SqlProbe; stacksUnavailable?: string } = {}) =>
    awsFailoverPorts({
      topology: built().aws, survivor: B, journalDir: path.join(dir, 'journal'), driver, clients: w.clients(), clock, failoverId: 'fo-cache', backupRetentionDays: 14,
      waits: { timeoutMs: 120_000, pollMs: 5_000 }, retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 200 }, stackRetry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 2_000 },
      log: (l) => log.push(l), ...o,
    });
  const run = (mode: 'planned' | 'unplanned', incident: Incident, o: { sql?: SqlProbe; stacksUnavailable?: string; resume?: boolean } = {}) =>
    runFailover({ ports: ports(o), topology: built().topology, mode, incident, from: A, to: B, confirm: true, id: 'fo-cache', log: (l) => log.push(l), ...(o.resume ? { resume: true } : {}) });
  const config = (stack: string) => driver.stacks[stack].config;
  const ups = () => driver.calls.filter((c) => c.startsWith('up '));
  const journal = () => (JSON.parse(w.s3[`${SECONDARY_OUTPUTS.bucketName}/failover/journal/fo-cache.json`] ?? '{}') as { entries: Array<{ step?: string; phase?: string; data?: Record<string, unknown> }> }).entries;

  describe('pure: the config each stack gets', () => {
    it('the survivor (a secondary stack) detaches and leads generation n + 1; the lost stack records it and rejoins as a member', () => {
      assert.deepEqual(retargetChanges({ id: 'x', incident: 'datacenter', survivor: B, lost: A, cacheLeft: GEN1 }, { [A]: P, [B]: S }, { [A]: 'primary', [B]: 'secondary' }), [
        { stack: S, region: B, set: { 'bot-platform-dr:database.promoted': 'true', [GEN]: '2', [DETACHED]: 'true' }, apply: true, applies: 1 },
        { stack: P, region: A, set: { 'bot-platform-dr:role': 'secondary', 'bot-platform-dr:database.promoted': 'false', [GEN]: '2', [DETACHED]: 'false' }, apply: false, applies: 0 },
      ]);
    });
    it('a later cycle counts on from the datastore it left; a primary-role survivor only takes the next suffix (its group is the owner-shaped one)', () => {
      assert.deepEqual(nextGeneration('sgaui-botdr-redis-g2', false), { generation: 3, survivor: { [GEN]: '3', [DETACHED]: 'true' }, lost: { [GEN]: '3', [DETACHED]: 'false' } });
      const [survivor] = retargetChanges({ id: 'x', incident: 'datacenter', survivor: B, lost: A, cacheLeft: 'ldgnf-botdr-redis-g4' }, { [A]: P, [B]: S }, { [A]: 'secondary', [B]: 'primary' });
      assert.deepEqual(survivor.set, { [GEN]: '5' }, 'applied: its own datastore resource is replaced (retained) by generation 5');
      assert.equal(survivor.apply, true);
    });
    it('no cache left: exactly the database keys as before; a cache-only incident changes no stack', () => {
      assert.deepEqual(retargetChanges({ id: 'x', incident: 'datacenter', survivor: B, lost: A }, { [A]: P, [B]: S }, { [A]: 'primary', [B]: 'secondary' }).map((c) => Object.keys(c.set)), [
        ['bot-platform-dr:database.promoted'],
        ['bot-platform-dr:role', 'bot-platform-dr:database.promoted'],
      ]);
      assert.deepEqual(retargetChanges({ id: 'x', incident: 'cache', survivor: B, lost: A, cacheLeft: GEN1 }, { [A]: P, [B]: S }, {}), []);
    });
    it('the topology follows the higher generation while the two stacks name different datastores (between failover and failback)', () => {
      assert.equal(currentGlobalDatastore(GEN1, GEN2), GEN2);
      assert.equal(currentGlobalDatastore(GEN2, GEN1), GEN2);
      assert.equal(currentGlobalDatastore(GEN1, GEN1), GEN1);
      assert.equal(currentGlobalDatastore(GEN1, 'ldgnf-other'), undefined, 'two first generations: a misconfiguration');
      const t = buildAwsTopology({ primary: { name: P, outputs: PRIMARY_OUTPUTS }, secondary: { name: S, outputs: { ...SECONDARY_OUTPUTS, globalDatastoreId: GEN2 } } });
      assert.equal(t.aws.cacheGlobalId, GEN2);
      assert.deepEqual(t.aws.regions.map((r) => r.globalDatastoreId), [GEN1, GEN2]);
    });
  });

  it('unplanned datacenter, us-east-1 down: FailoverGlobalReplicationGroup refused → DisassociateGlobalReplicationGroup (exact parameters), journaled; reconcile: one targeted up creates generation 2 from the survivor; the lost stack records it', async () => {
    w.down.add(A);
    const r = await run('unplanned', 'datacenter');
    assert.equal(r.outcome, 'completed');
    const ec = w.mocks.ec[B];
    assert.deepEqual(ec.commandCalls(FailoverGlobalReplicationGroupCommand).map((c) => c.args[0].input), [{ GlobalReplicationGroupId: GEN1, PrimaryRegion: B, PrimaryReplicationGroupId: SECONDARY_OUTPUTS.cacheReplicationGroupId }]);
    assert.deepEqual(ec.commandCalls(DisassociateGlobalReplicationGroupCommand).map((c) => c.args[0].input), [{ GlobalReplicationGroupId: GEN1, ReplicationGroupId: SECONDARY_OUTPUTS.cacheReplicationGroupId, ReplicationGroupRegion: B }]);
    assert.ok(ec.commandCalls(DescribeGlobalReplicationGroupsCommand).every((c) => c.args[0].input.GlobalReplicationGroupId === GEN1 && c.args[0].input.ShowMemberInfo === true));
    const pc = r.steps.find((s) => s.name === 'promote-cache')!;
    assert.match(pc.detail ?? '', new RegExp(`left the global datastore ${GEN1}.*new global datastore led by ${B}`));
    assert.deepEqual(journal().find((e) => e.step === 'promote-cache' && e.phase === 'done')?.data, { cache_left: GEN1 });
    // Reconcile: the survivor's config and ONE targeted up (with refresh) that creates the new datastore from its group.
    assert.equal(config(S)[DETACHED], 'true');
    assert.equal(config(S)[GEN], '2');
    assert.equal(config(S)['bot-platform-dr:database.promoted'], 'true');
    assert.deepEqual(ups(), [`up ${S} dr failover fo-cache: ${B} serves (datacenter), ${A} lost`]);
    assert.deepEqual(driver.upOptions, [{ refresh: true, target: reconcileTargets() }]);
    assert.ok(reconcileTargets().includes('**aws:elasticache/globalReplicationGroup:GlobalReplicationGroup::**'));
    assert.ok(!reconcileTargets().some((t) => t.includes('replicationGroup:ReplicationGroup')), 'the serving group is not a target');
    assert.equal(w.acts['stack:CreateGlobalReplicationGroup'], 1);
    assert.deepEqual(w.cache[B], { status: 'available', role: 'PRIMARY', global: GEN2 });
    assert.equal(driver.stacks[S].outputs.globalDatastoreId.value, GEN2);
    assert.equal(w.acts['stack:replace-cache-group'], undefined, 'no group was replaced');
    // The lost stack: config only (its region is down), the same generation, a member again at failback.
    assert.equal(config(P)[GEN], '2');
    assert.equal(config(P)[DETACHED], 'false');
    assert.ok(!driver.calls.some((c) => c.startsWith(`up ${P}`)));
    assert.match(r.steps.find((s) => s.name === 'reconcile')!.detail ?? '', new RegExp(`cache moves to a new global datastore led by ${B} \\(its group left ${GEN1}\\)`));
    // The old datastore still exists (its primary's region is down): failback removes it.
    assert.ok(w.globals[GEN1]);
    assert.deepEqual(w.cache[A], { status: 'available', role: 'PRIMARY', global: GEN1 });
  });

  it('planned datacenter switchover: FailoverGlobalReplicationGroup, no cache config, the datastore unchanged', async () => {
    const sql: SqlProbe = { query: async (_region, text) => (text.includes('current_wal') || text.includes('replay_lsn') ? [{ lsn: '0/5000000', delay: 0 }] : [{ ok: 1, n: 3 }]) };
    const r = await run('planned', 'datacenter', { sql });
    assert.equal(r.outcome, 'completed');
    assert.equal(w.acts.FailoverGlobalReplicationGroup, 1);
    assert.equal(w.acts.DisassociateGlobalReplicationGroup, undefined);
    assert.doesNotMatch(r.steps.find((s) => s.name === 'promote-cache')!.detail ?? '', /left the global datastore/);
    assert.equal(journal().find((e) => e.step === 'promote-cache' && e.phase === 'done')?.data, undefined);
    for (const stack of [P, S]) for (const k of [GEN, DETACHED]) assert.equal(config(stack)[k], undefined, `${stack} ${k}`);
    assert.deepEqual(Object.keys(w.globals), [GEN1]);
    assert.deepEqual([w.cache[A], w.cache[B]], [{ status: 'available', role: 'SECONDARY', global: GEN1 }, { status: 'available', role: 'PRIMARY', global: GEN1 }]);
    assert.equal(w.acts['stack:CreateGlobalReplicationGroup'], undefined);
    assert.equal(driver.stacks[S].outputs.globalDatastoreId.value, GEN1);
  });

  it('crash right after the disassociation: the rerun learns from ElastiCache that the cache left, and the stacks move once', async () => {
    w.down.add(A);
    w.crashAfterAct = 'DisassociateGlobalReplicationGroup';
    await assert.rejects(run('unplanned', 'datacenter'), (e: unknown) => (e as Error).name === 'CrashError');
    assert.equal(config(S)[GEN], undefined, 'nothing recorded yet');
    const r = await run('unplanned', 'datacenter');
    assert.equal(r.outcome, 'completed');
    assert.equal(r.steps.find((s) => s.name === 'promote-cache')!.status, 'done-before');
    assert.deepEqual(journal().filter((e) => e.step === 'promote-cache' && e.phase === 'done').map((e) => e.data), [{ cache_left: GEN1 }]);
    assert.equal(w.acts.DisassociateGlobalReplicationGroup, 1);
    assert.equal(config(S)[GEN], '2');
    assert.equal(ups().length, 1);
    assert.equal(w.acts['stack:CreateGlobalReplicationGroup'], 1);
  });

  it('the Pulumi backend is down during the failover: --resume restores cache_left from the journal and moves the stacks then', async () => {
    w.down.add(A);
    driver.backendDown = true;
    const reason = await probeStacks(driver, { survivor: S, lost: P });
    const r = await run('unplanned', 'datacenter', { stacksUnavailable: reason });
    assert.equal(r.outcome, 'serving');
    assert.equal(config(S)[GEN], undefined);
    driver.backendDown = false;
    // The resumed run re-checks promote-cache (the failover is not finished) with what the journal says: it does not
    // ask ElastiCache again.
    const resumed = ports();
    let asked = 0;
    const detachedFrom = resumed.cache.detachedFrom!.bind(resumed.cache);
    resumed.cache.detachedFrom = (region, opts) => (asked++, detachedFrom(region, opts));
    const again = await runFailover({ ports: resumed, topology: built().topology, resume: true, id: 'fo-cache', confirm: true, log: (l) => log.push(l) });
    assert.equal(again.outcome, 'completed');
    assert.equal(asked, 0, 'cache_left restored from the journal');
    assert.equal(config(S)[DETACHED], 'true');
    assert.equal(config(S)[GEN], '2');
    assert.equal(config(P)[GEN], '2');
    assert.equal(w.acts['stack:CreateGlobalReplicationGroup'], 1);
    // A second resume of a finished failover acts on nothing.
    const st = new AwsStacks({ driver, stacks: { [A]: P, [B]: S }, roles: { [A]: 'primary', [B]: 'secondary' }, clock });
    assert.equal(await st.isRetargeted({ id: 'fo-cache', incident: 'datacenter', survivor: B, lost: A, cacheLeft: GEN1 }), true);
  });

  it('a cache-only incident that had to disassociate: no stack is moved, and the log says what is left to do', async () => {
    w.down.add(A);
    const r = await run('unplanned', 'cache');
    assert.equal(r.outcome, 'completed');
    assert.equal(w.acts.DisassociateGlobalReplicationGroup, 1);
    assert.equal(ups().length, 0);
    for (const stack of [P, S]) assert.equal(config(stack)[GEN], undefined);
    assert.ok(log.some((l) => l.includes(`WARNING the cache in ${B} (${S}) left the global datastore ${GEN1}`) && /rebuild the cache pair by hand/.test(l)), log.join('\n'));
  });
});
