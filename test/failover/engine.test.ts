import assert from 'node:assert/strict';
import { OperationError, RefusedError, UsageError, VerificationError } from '../../automation/core/errors';
import { registerSecret } from '../../automation/core/redact';
import { FailoverMode, FailoverRequest, Incident, runFailover, STEP_NAMES, StepEvent, summarize } from '../../automation/failover';
import { FakeWorld, fakePorts, fakeTopology, FakePortsOptions } from '../helpers/failover-fakes';

const LOCAL_LIKE: FakePortsOptions = { unavailable: { secrets: 'no local counterpart: bot tokens live in the environment', stacks: 'no local counterpart: no Pulumi stacks locally' } };

function request(world: FakeWorld, over: Partial<FailoverRequest> = {}, portOpts: FakePortsOptions = {}): FailoverRequest {
  return {
    ports: fakePorts(world, portOpts),
    topology: fakeTopology({ secrets: true, stacks: true }),
    mode: 'planned',
    incident: 'datacenter',
    from: 'a',
    to: 'b',
    confirm: true,
    id: 'fo-test',
    ...over,
  };
}

async function rejects<T extends Error>(p: Promise<unknown>, type: new (...a: any[]) => T, re: RegExp): Promise<T> {
  let caught: unknown;
  await p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => (caught = e),
  );
  assert.ok(caught instanceof type, `expected ${type.name}, got ${String(caught)}`);
  assert.match((caught as Error).message, re);
  return caught as T;
}

describe('failover engine', () => {
  describe('step order and effects for each mode × incident', () => {
    const expectRuns: Record<`${FailoverMode}/${Incident}`, string[]> = {
      'planned/datacenter': [...STEP_NAMES],
      'unplanned/datacenter': [...STEP_NAMES],
      'planned/database': ['preflight', 'fence', 'catch-up', 'promote-database', 'switch-dns', 'verify', 'record', 'reconcile'],
      'unplanned/database': ['preflight', 'fence', 'catch-up', 'promote-database', 'switch-dns', 'verify', 'record', 'reconcile'],
      'planned/cache': ['preflight', 'fence', 'promote-cache', 'switch-dns', 'verify', 'record', 'reconcile'],
      'unplanned/cache': ['preflight', 'fence', 'promote-cache', 'switch-dns', 'verify', 'record', 'reconcile'],
    };
    for (const [key, runs] of Object.entries(expectRuns)) {
      const [mode, incident] = key.split('/') as [FailoverMode, Incident];
      it(`${mode} ${incident}: steps in the fixed order, the right ones acting`, async () => {
        const world = new FakeWorld();
        const events: StepEvent[] = [];
        const res = await runFailover(request(world, { mode, incident, listener: (e) => events.push(e) }));
        assert.equal(res.outcome, 'completed');
        assert.deepEqual(res.steps.map((s) => s.name), [...STEP_NAMES]);
        assert.deepEqual(res.steps.filter((s) => s.status === 'ok').map((s) => s.name), runs);
        for (const s of res.steps) if (!runs.includes(s.name)) assert.equal(s.status, 'skipped', s.name);
        // every acting step emitted running, then its final status
        assert.deepEqual(events.filter((e) => e.status === 'running').map((e) => e.step), runs);
        const db = incident !== 'cache';
        const cache = incident !== 'database';
        assert.equal(world.actCount('database.promote'), db ? 1 : 0);
        assert.equal(world.db.b.role, db ? 'primary' : 'standby');
        assert.equal(world.db.a.fenced, db);
        assert.equal(world.actCount('cache.promote'), cache ? 1 : 0);
        assert.equal(world.cache.b.role, cache ? 'primary' : 'standby');
        assert.equal(world.dns.get('platform'), incident === 'datacenter' ? 'b' : 'a');
        assert.equal(world.dns.get('database'), db ? 'b' : 'a');
        assert.equal(world.dns.get('cache'), cache ? 'b' : 'a');
        assert.equal(world.actCount('secrets.promote:bot-token'), incident === 'datacenter' ? 1 : 0);
        assert.deepEqual(world.retargeted, { id: 'fo-test', incident, survivor: 'b', lost: 'a' });
        assert.equal(world.actCount('database.unfence'), 0);
        if (mode === 'planned' && db) assert.equal(world.db.b.replay, world.db.a.lsn, 'standby replayed the final position before promotion');
        const summary = summarize('fo-test', world.journalEntries.get('fo-test')!);
        assert.equal(summary.end?.outcome, 'completed');
      });
    }
  });

  it('dry-run plans and acts on nothing: no port method called, nothing journaled', async () => {
    for (const mode of ['planned', 'unplanned'] as const)
      for (const incident of ['datacenter', 'database', 'cache'] as const) {
        const world = new FakeWorld();
        const before = JSON.stringify(world.snapshot());
        const res = await runFailover(request(world, { mode, incident, dryRun: true, confirm: false }));
        assert.equal(res.outcome, 'planned');
        assert.equal(res.dry_run, true);
        assert.deepEqual(res.plan.steps.map((s) => s.name), [...STEP_NAMES]);
        assert.equal(world.calls.size, 0, `no calls, got ${[...world.calls.keys()].join(', ')}`);
        assert.equal(world.ops.length, 0);
        assert.equal(world.journalEntries.size, 0);
        assert.equal(JSON.stringify(world.snapshot()), before);
      }
  });

  describe('refusals (exit 2, before acting)', () => {
    it('refuses to execute without confirmation, before touching anything', async () => {
      const world = new FakeWorld();
      await rejects(runFailover(request(world, { confirm: false })), RefusedError, /confirm.*--yes/);
      assert.equal(world.calls.size, 0);
      assert.equal(world.journalEntries.size, 0);
    });

    it('refuses a planned switchover when the primary is unreachable, suggesting --unplanned', async () => {
      const world = new FakeWorld();
      world.kill('a');
      const err = await rejects(runFailover(request(world)), RefusedError, /does not answer.*use --unplanned/);
      assert.equal(err.exitCode, 2);
      assert.equal(world.actCount(), 0);
      assert.equal(summarize('fo-test', world.journalEntries.get('fo-test')!).end?.outcome, 'refused');
      // a refused failover does not block the next one
      const res = await runFailover(request(world, { mode: 'unplanned', id: 'fo-next' }));
      assert.equal(res.outcome, 'completed');
    });

    it('refuses a planned switchover when the standby lags beyond the limit', async () => {
      const world = new FakeWorld();
      world.lagSeconds = 45;
      await rejects(runFailover(request(world, { limits: { maxLagSeconds: 10 } })), RefusedError, /lags 45s.*limit of 10s.*--unplanned/);
      assert.equal(world.actCount(), 0);
      assert.equal(world.notices.at(-1)?.kind, 'failed');
    });

    it('refuses when the target region has nothing to fail over to', async () => {
      const world = new FakeWorld();
      world.db.b.up = false;
      await rejects(runFailover(request(world, { mode: 'unplanned' })), RefusedError, /database in b does not answer/);
      assert.equal(world.actCount(), 0);
    });

    it('refuses to start a second failover while one is unfinished, and resumes the unfinished one', async () => {
      const world = new FakeWorld();
      world.crash = { op: 'database.promote', when: 'before' };
      await assert.rejects(runFailover(request(world, { id: 'fo-1' })));
      world.recover();
      await rejects(runFailover(request(world, { id: 'fo-2', mode: 'unplanned' })), RefusedError, /'fo-1'.*unfinished.*--resume/);
      await rejects(runFailover(request(world, { id: 'fo-1', mode: 'unplanned' })), UsageError, /journaled with mode=planned/);
      const res = await runFailover(request(world, { id: undefined, mode: undefined, incident: undefined, from: undefined, to: undefined, resume: true }));
      assert.equal(res.id, 'fo-1');
      assert.equal(res.outcome, 'completed');
      assert.equal(world.actCount('database.promote'), 1);
    });

    it('rejects bad requests as usage errors', async () => {
      const world = new FakeWorld();
      await rejects(runFailover(request(world, { to: 'a' })), UsageError, /same region/);
      await rejects(runFailover(request(world, { incident: 'power' as Incident })), UsageError, /--incident 'power'/);
      await rejects(runFailover(request(world, { id: '../etc' })), UsageError, /failover id/);
      await rejects(runFailover(request(world, { resume: true })), UsageError, /no unfinished failover/);
      await rejects(runFailover(request(world, { limits: { maxLagSeconds: -1 } })), UsageError, /maxLagSeconds/);
      assert.equal(world.actCount(), 0);
    });
  });

  describe('planned switchover', () => {
    it('fences, waits for the final WAL position, then promotes: nothing lost', async () => {
      const world = new FakeWorld();
      const res = await runFailover(request(world, { incident: 'database' }));
      const cu = res.steps.find((s) => s.name === 'catch-up')!;
      assert.match(cu.detail!, /replayed 0\/3000000.*final WAL position 0\/3000000/);
      const fenceAt = world.ops.indexOf('database.fence');
      const promoteAt = world.ops.indexOf('database.promote');
      assert.ok(fenceAt >= 0 && promoteAt > fenceAt);
      assert.equal(res.estimated_data_loss, undefined);
    });

    it('aborts when the standby does not catch up in time: unfences the primary, promotes nothing', async () => {
      const world = new FakeWorld();
      world.replicationStalled = true;
      const err = await rejects(runFailover(request(world, { limits: { catchUpTimeoutMs: 5000 } })), OperationError, /catch-up timed out.*0\/2FFF000.*0\/3000000.*unfenced.*nothing was promoted/s);
      assert.equal(world.actCount('database.promote'), 0);
      assert.equal(world.actCount('database.unfence'), 1);
      assert.equal(world.db.a.fenced, false);
      assert.equal(world.cache.a.fenced, false, 'the cache fence is lifted too');
      assert.equal(world.dns.get('platform'), 'a');
      assert.equal((err.detail?.result as { outcome: string }).outcome, 'aborted');
      assert.equal(summarize('fo-test', world.journalEntries.get('fo-test')!).end?.outcome, 'aborted');
      // an aborted failover is closed: a new one may start once replication is healthy
      world.replicationStalled = false;
      assert.equal((await runFailover(request(world, { id: 'fo-again' }))).outcome, 'completed');
    });
  });

  describe('unplanned failover', () => {
    it('promotes with the primary gone, reports the estimated loss from the last known lag and records a pending fence', async () => {
      const world = new FakeWorld();
      world.kill('a');
      const res = await runFailover(request(world, { mode: 'unplanned' }));
      assert.equal(res.outcome, 'completed');
      assert.deepEqual(res.estimated_data_loss, { tier: 'database', lag_seconds: 2, lag_bytes: 4096, observed_at: '2025-01-01T00:00:00.000Z', basis: 'last known replication lag before a was lost' });
      assert.deepEqual(res.pending_fences, [{ region: 'a', tiers: ['database', 'cache'] }]);
      const fence = res.steps.find((s) => s.name === 'fence')!;
      assert.equal(fence.status, 'skipped');
      assert.match(fence.detail!, /unreachable: fence pending/);
      assert.doesNotMatch(res.steps.find((s) => s.name === 'preflight')!.detail!, /refresh/, 'preflight reads the world, no stack refresh before traffic moves');
      assert.equal(world.db.b.role, 'primary');
      assert.equal(world.dns.get('platform'), 'b');
      assert.match(world.notices.at(-1)!.message, /estimated data loss: ≤ 2s of writes \/ 4096 bytes/);
    });

    it('uses the caller\'s last sample when it is newer than what the adapter knows', async () => {
      const world = new FakeWorld();
      world.kill('a');
      const lastKnown = { primaryReachable: true, lagSeconds: 0.4, lagBytes: 512, observedAt: '2025-01-01T00:09:59.000Z' };
      const res = await runFailover(request(world, { mode: 'unplanned', lastKnown }));
      assert.equal(res.estimated_data_loss?.lag_seconds, 0.4);
      assert.equal(res.estimated_data_loss?.observed_at, '2025-01-01T00:09:59.000Z');
    });

    it('fences the old primary first when it still answers', async () => {
      const world = new FakeWorld();
      const res = await runFailover(request(world, { mode: 'unplanned', incident: 'database' }));
      assert.equal(world.db.a.fenced, true);
      assert.ok(world.ops.indexOf('database.fence') < world.ops.indexOf('database.promote'));
      assert.deepEqual(res.pending_fences, []);
      // It still answered: fenced, then caught up before the promotion, so the estimate is what is really left.
      assert.equal(world.calls.get('database.waitForReplay'), 1, 'caught up once, between the fence and the promotion');
      assert.match(res.estimated_data_loss!.basis, /caught up/);
      assert.equal(res.estimated_data_loss!.lag_bytes, 0);
      assert.match(res.steps.find((x) => x.name === 'preflight')!.detail ?? '', /WARNING: the primary database in a still answers/);
    });

    it('says the loss is unknown when no lag was ever observed', async () => {
      const world = new FakeWorld();
      world.kill('a');
      world.lastKnown = undefined;
      const res = await runFailover(request(world, { mode: 'unplanned', incident: 'database' }));
      assert.equal(res.estimated_data_loss?.lag_seconds, undefined);
      assert.match(res.estimated_data_loss!.basis, /unknown/);
    });
  });

  describe('capabilities and side channels', () => {
    it('reports steps without a local counterpart as skipped, and never calls those ports', async () => {
      const world = new FakeWorld();
      const res = await runFailover(request(world, {}, LOCAL_LIKE));
      const ps = res.steps.find((s) => s.name === 'promote-secrets')!;
      assert.equal(ps.status, 'skipped');
      assert.equal(ps.detail, 'no local counterpart: bot tokens live in the environment');
      assert.equal(res.steps.find((s) => s.name === 'record')!.status, 'ok');
      assert.equal(res.steps.find((s) => s.name === 'reconcile')!.status, 'skipped');
      assert.match(res.steps.find((s) => s.name === 'reconcile')!.detail!, /no local counterpart/);
      for (const k of world.calls.keys()) assert.ok(!k.startsWith('secrets.') && !k.startsWith('stacks.'), k);
      assert.equal(world.retargeted, undefined);
    });

    it('without a cache fence, relies on promotion and still completes', async () => {
      const world = new FakeWorld();
      const res = await runFailover(request(world, { incident: 'cache' }, { cacheFence: false }));
      assert.equal(res.steps.find((s) => s.name === 'fence')!.status, 'skipped');
      assert.equal(world.cache.b.role, 'primary');
    });

    it('notifies at start and end; a notifier failure is reported, never fatal', async () => {
      const world = new FakeWorld();
      world.notifierMode = 'throw';
      const res = await runFailover(request(world));
      assert.equal(res.outcome, 'completed');
      assert.deepEqual(res.notifications.map((n) => n.kind), ['started', 'finished']);
      assert.match(res.notifications[0].failed[0].error, /region does not answer/);
      const w2 = new FakeWorld();
      w2.notifierMode = 'partial';
      const r2 = await runFailover(request(w2));
      assert.deepEqual(r2.notifications[1], { kind: 'finished', delivered: ['topic-b'], failed: [{ target: 'topic-a', error: 'region does not answer' }] });
      assert.deepEqual(w2.notices.map((n) => n.kind), ['started', 'finished']);
    });

    it('fails verify when DNS did not move, notifies the failure, and resumes once fixed', async () => {
      const world = new FakeWorld();
      const req = request(world);
      const realPoint = req.ports.dns.point.bind(req.ports.dns);
      req.ports.dns.point = async () => undefined; // a DNS API that accepts the change but never applies it
      await rejects(runFailover(req), VerificationError, /platform points at a, not b/);
      assert.equal(world.notices.at(-1)!.kind, 'failed');
      req.ports.dns.point = realPoint;
      const res = await runFailover({ ...req, ports: { ...req.ports } });
      assert.equal(res.outcome, 'completed');
      assert.equal(res.steps.find((s) => s.name === 'promote-database')!.status, 'done-before');
      const dns = res.steps.find((s) => s.name === 'switch-dns')!;
      assert.equal(dns.status, 'ok', 'journaled done, but the world disagreed: re-applied towards b');
      assert.match(dns.detail!, /re-applied/);
      assert.equal(world.dns.get('platform'), 'b');
      assert.equal(world.actCount('database.promote'), 1);
    });

    it('stops between steps when interrupted, leaving a resumable journal', async () => {
      const world = new FakeWorld();
      const ac = new AbortController();
      const req = request(world, { signal: ac.signal, listener: (e) => e.step === 'catch-up' && e.status === 'ok' && ac.abort() });
      await rejects(runFailover(req), OperationError, /interrupted before promote-database.*'fo-test'.*--resume/);
      assert.equal(world.actCount('database.promote'), 0);
      assert.equal(world.notices.at(-1)!.kind, 'failed');
      const res = await runFailover({ ...req, signal: undefined, listener: undefined });
      assert.equal(res.outcome, 'completed');
      assert.equal(res.steps.find((s) => s.name === 'fence')!.status, 'done-before');
      assert.equal(world.actCount('database.promote'), 1);
    });

    it('keeps registered secrets out of step details and notices', async () => {
      registerSecret('s3cr3t-bot-token-123');
      const world = new FakeWorld();
      const req = request(world, { incident: 'database' });
      req.ports.database.promote = async () => {
        throw new Error('promote failed for postgres://bot:s3cr3t-bot-token-123@db:5432/bot');
      };
      const err = await rejects(runFailover(req), OperationError, /promote-database failed/);
      const all = JSON.stringify([err.message, err.detail, world.notices, [...world.journalEntries.values()]]);
      assert.ok(!all.includes('s3cr3t-bot-token-123'), 'secret leaked');
      assert.match(all, /bot:\*\*\*@db/);
    });
  });
});
