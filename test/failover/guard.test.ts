import assert from 'node:assert/strict';
import { guardOldPrimary, runFailover, summarize } from '../../automation/failover';
import { FakeWorld, fakePorts, fakeTopology } from '../helpers/failover-fakes';

async function unplannedWithADead(world: FakeWorld) {
  world.kill('a');
  const ports = fakePorts(world);
  const res = await runFailover({ ports, topology: fakeTopology(), mode: 'unplanned', incident: 'datacenter', from: 'a', to: 'b', confirm: true, id: 'fo-1' });
  return { ports, res };
}

describe('split-brain guard', () => {
  it('does nothing when no failover happened', async () => {
    const world = new FakeWorld();
    const report = await guardOldPrimary(fakePorts(world));
    assert.deepEqual(report, { actions: [], dnsWarnings: [] });
    assert.equal(world.actCount(), 0);
  });

  it('waits while the old primary is unreachable, fences it as soon as it answers, then leaves it alone', async () => {
    const world = new FakeWorld();
    const { ports, res } = await unplannedWithADead(world);
    assert.deepEqual(res.pending_fences, [{ region: 'a', tiers: ['database', 'cache'] }]);
    const dnsPoints = world.callCount('dns.point');

    const r1 = await guardOldPrimary(ports);
    assert.deepEqual(r1.actions.map((a) => [a.tier, a.region, a.outcome]), [['database', 'a', 'pending'], ['cache', 'a', 'pending']]);
    assert.equal(world.actCount('database.fence'), 0);

    world.revive('a'); // region a comes back as a writable primary: split-brain risk
    assert.equal(world.db.a.role, 'primary');
    const r2 = await guardOldPrimary(ports);
    assert.deepEqual(r2.actions.map((a) => [a.tier, a.region, a.outcome, a.failover]), [['database', 'a', 'fenced', 'fo-1'], ['cache', 'a', 'fenced', 'fo-1']]);
    assert.equal(world.db.a.fenced, true);
    assert.equal(world.cache.a.fenced, true);
    assert.deepEqual(summarize('fo-1', world.journalEntries.get('fo-1')!).pendingFences, [], 'the pending fence is closed in the journal');

    const r3 = await guardOldPrimary(ports);
    assert.deepEqual(r3.actions.map((a) => a.outcome), ['already-fenced', 'already-fenced']);
    assert.equal(world.actCount('database.fence'), 1);
    assert.equal(world.actCount('cache.fence'), 1);
    assert.equal(world.callCount('dns.point'), dnsPoints, 'the guard never changes DNS');
    assert.equal(world.dns.get('platform'), 'b');
  });

  it('re-fences an old primary that lost its fence when restarted', async () => {
    const world = new FakeWorld();
    const ports = fakePorts(world);
    await runFailover({ ports, topology: fakeTopology(), mode: 'planned', incident: 'database', from: 'a', to: 'b', confirm: true, id: 'fo-p' });
    assert.equal(world.db.a.fenced, true);
    world.db.a.fenced = false; // e.g. restarted from a config without the fence
    const r = await guardOldPrimary(ports);
    assert.deepEqual(r.actions.map((a) => [a.tier, a.outcome]), [['database', 'fenced']]);
    assert.equal(world.db.a.fenced, true);
  });

  it('reports, but never re-points, a DNS record that points back at the lost region', async () => {
    const world = new FakeWorld();
    const { ports } = await unplannedWithADead(world);
    world.dns.set('platform', 'a'); // someone flipped it by hand
    const before = world.callCount('dns.point');
    const r = await guardOldPrimary(ports);
    assert.equal(r.dnsWarnings.length, 1);
    assert.match(r.dnsWarnings[0], /platform points at a, a lost region \(serving: b\)/);
    assert.equal(world.callCount('dns.point'), before);
    assert.equal(world.dns.get('platform'), 'a');
  });

  it('after a failback, guards the region lost last and leaves the rebuilt one alone', async () => {
    const world = new FakeWorld();
    const { ports } = await unplannedWithADead(world);
    world.revive('a');
    await guardOldPrimary(ports);
    // failback: a is rebuilt as a standby of b (pg_rewind), then a planned switchover b → a
    world.db.a = { up: true, role: 'standby', fenced: false, lsn: 0n, replay: world.db.b.lsn };
    world.cache.a = { up: true, role: 'standby', fenced: false };
    const back = await runFailover({ ports, topology: fakeTopology(), mode: 'planned', incident: 'datacenter', from: 'b', to: 'a', confirm: true, id: 'fo-back' });
    assert.equal(back.outcome, 'completed');
    assert.equal(world.dns.get('platform'), 'a');
    const fencesBefore = world.actCount('database.fence');
    const r = await guardOldPrimary(ports);
    assert.deepEqual(r.actions.map((a) => [a.tier, a.region, a.outcome]), [['database', 'b', 'already-fenced'], ['cache', 'b', 'already-fenced']]);
    assert.equal(world.db.a.fenced, false, 'the serving region is never fenced');
    assert.equal(world.actCount('database.fence'), fencesBefore);
    assert.deepEqual(r.dnsWarnings, []);
  });

  it('reports a fence that fails without throwing, so the monitor keeps running', async () => {
    const world = new FakeWorld();
    const { ports } = await unplannedWithADead(world);
    world.revive('a');
    ports.database.fence = async () => {
      throw new Error('connection reset');
    };
    const r = await guardOldPrimary(ports);
    assert.equal(r.actions[0].outcome, 'failed');
    assert.match(r.actions[0].error!, /connection reset/);
    assert.equal(summarize('fo-1', world.journalEntries.get('fo-1')!).pendingFences.length, 1, 'still pending for the database');
  });
});
