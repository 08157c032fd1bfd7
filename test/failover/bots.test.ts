/**
 * Issue 11, one consumer per token, in the failover engine (fake ports): promote-secrets writes `active_region` into
 * the lost region's copy (when it answers) and then the survivor's, both before DNS switches; check-then-act on every
 * rerun; a crash between writing it and switching DNS resumes without writing twice; verify's per-bot checks (what
 * fails, what warns); the split-brain guard sets a returning region's copies.
 */
import assert from 'node:assert/strict';
import { registerSecret } from '../../automation/core/redact';
import { type FailoverRequest, type FailoverResult, guardOldPrimary, runFailover, summarize } from '../../automation/failover';
import { FakeWorld, fakePorts, type FakePortsOptions, fakeTopology } from '../helpers/failover-fakes';

function request(world: FakeWorld, over: Partial<FailoverRequest> = {}, portOpts: FakePortsOptions = { bots: true }): FailoverRequest {
  return { ports: fakePorts(world, portOpts), topology: fakeTopology({ secrets: true, stacks: true }), mode: 'unplanned', incident: 'datacenter', from: 'a', to: 'b', confirm: true, id: 'fo-bots', ...over };
}

type Failed = Error & { detail?: { result?: FailoverResult } };
const failing = (p: Promise<unknown>): Promise<Failed> => p.then(() => assert.fail('the failover did not fail'), (e: Failed) => e);
const regions = (w: FakeWorld, copy: string) => Object.fromEntries(Object.entries(w.botCopies[copy]).map(([bot, c]) => [bot, c.active_region]));

describe('failover: one consumer per token (active_region)', () => {
  it('writes the lost region\'s copy first, then the survivor\'s, after the secrets are writable and before DNS switches', async () => {
    const world = new FakeWorld();
    const res = await runFailover(request(world, { mode: 'planned' }));
    assert.equal(res.outcome, 'completed');
    const order = world.ops.filter((o) => /^(secrets\.promote|bots\.setActiveRegion|dns\.point)/.test(o));
    assert.deepEqual(order, [
      'secrets.promote:bot-token',
      'secrets.promote:db-credentials',
      'bots.setActiveRegion:a/community',
      'bots.setActiveRegion:a/moderation',
      'bots.setActiveRegion:b/community',
      'bots.setActiveRegion:b/moderation',
      'dns.point:platform',
      'dns.point:database',
      'dns.point:cache',
    ]);
    assert.deepEqual([regions(world, 'a'), regions(world, 'b')], [{ community: 'b', moderation: 'b' }, { community: 'b', moderation: 'b' }]);
    const done = world.journalEntries.get('fo-bots')!.find((e) => e.kind === 'step' && e.step === 'promote-secrets' && e.phase === 'done') as { data?: Record<string, unknown> };
    assert.deepEqual(done.data?.active_region, { region: 'b', b: { written: ['community', 'moderation'], already: [], failed: [] }, a: { written: ['community', 'moderation'], already: [], failed: [] } });
    assert.deepEqual(res.pending_fences, []);
  });

  it('a lost region that does not answer: the survivor\'s copies are written, a pending fence `bots` is journaled for the guard', async () => {
    const world = new FakeWorld();
    world.kill('a');
    const res = await runFailover(request(world));
    assert.equal(res.outcome, 'completed');
    assert.deepEqual(res.pending_fences, [{ region: 'a', tiers: ['database', 'cache', 'bots'] }]);
    assert.deepEqual(regions(world, 'b'), { community: 'b', moderation: 'b' });
    assert.deepEqual(regions(world, 'a'), { community: 'a', moderation: 'a' }, 'stale: the guard sets it when a answers');
    const ps = res.steps.find((s) => s.name === 'promote-secrets')!;
    assert.match(ps.detail!, /a's copies of community, moderation not set \(Secrets Manager in a: getaddrinfo ENOTFOUND\): pending fence, the split-brain guard sets them to b as soon as a answers; b's copies: active_region=b written for community, moderation/);
    assert.equal(world.actCount('bots.setActiveRegion:a/community'), 0);
  });

  it('check-then-act: a rerun of a resumed failover finds every copy set and writes nothing', async () => {
    const world = new FakeWorld();
    world.crash = { op: 'journal:step:verify:done', when: 'before' };
    await runFailover(request(world)).catch(() => undefined);
    world.recover();
    const resumed = await runFailover(request(world, { resume: true, id: undefined }));
    assert.equal(resumed.outcome, 'completed');
    assert.equal(resumed.steps.find((s) => s.name === 'promote-secrets')!.status, 'done-before');
    for (const op of ['bots.setActiveRegion:a/community', 'bots.setActiveRegion:b/community', 'bots.setActiveRegion:b/moderation']) assert.equal(world.actCount(op), 1, op);
  });

  for (const crash of [
    { op: 'bots.setActiveRegion:b/moderation', when: 'after' as const },
    { op: 'bots.setActiveRegion:b/community', when: 'after' as const },
    { op: 'dns.point:platform', when: 'before' as const },
  ]) {
    it(`a crash ${crash.when} ${crash.op} (active_region written, DNS not yet switched), then resume: continues, nothing written twice, DNS switched once`, async () => {
      const world = new FakeWorld();
      world.crash = crash;
      await assert.rejects(runFailover(request(world)), /injected crash/);
      assert.equal(world.dns.get('platform'), 'a', 'DNS not switched yet');
      assert.equal(regions(world, 'b').community, 'b', 'the survivor\'s copy already says b');
      world.recover();
      const res = await runFailover(request(world, { resume: true, id: undefined }));
      assert.equal(res.outcome, 'completed');
      for (const copy of ['a', 'b']) for (const bot of ['community', 'moderation']) assert.equal(world.actCount(`bots.setActiveRegion:${copy}/${bot}`), 1, `${copy}/${bot} written once`);
      for (const rec of ['platform', 'database', 'cache']) assert.equal(world.actCount(`dns.point:${rec}`), 1, `${rec} pointed once`);
      assert.equal(world.dns.get('platform'), 'b');
      assert.equal(res.steps.find((s) => s.name === 'verify')!.status, 'ok');
    });
  }

  it('no bots port, or an unavailable one: no active_region is written and verify checks no bot', async () => {
    for (const opts of [{}, { bots: { unavailable: 'not modelled here' } }] as FakePortsOptions[]) {
      const world = new FakeWorld();
      const res = await runFailover(request(world, {}, opts));
      assert.equal(res.outcome, 'completed');
      assert.equal(world.callCount('bots.activeRegions') + world.callCount('bots.serving'), 0);
      assert.deepEqual(regions(world, 'b'), { community: 'a', moderation: 'a' });
    }
  });
});

describe('failover verify: every bot from the survivor', () => {
  it('passes with each bot named: active_region, token, where updates go', async () => {
    const world = new FakeWorld();
    world.botTargets.community = { target: 'shared', webhook_target: 'https://bot.example.com/telegram/community' };
    const res = await runFailover(request(world));
    const v = res.steps.find((s) => s.name === 'verify')!;
    assert.equal(v.status, 'ok');
    assert.match(v.detail!, /community: active_region=b, token 0 healthy, updates to https:\/\/bot\.example\.com\/telegram\/community; moderation: active_region=b, token 1 healthy, updates by gateway$/);
    assert.equal(world.callCount('bots.serving'), 1);
  });

  it('fails (resumable) when the survivor\'s copy could not be set; the resume writes it and verifies', async () => {
    const world = new FakeWorld();
    world.botStoreDown.add('b'); // b's Secrets Manager refuses for a moment
    const err = await failing(runFailover(request(world)));
    assert.match(err.message, /^verify failed: community: its secret in b says active_region=a, so no worker in b consumes it; run dr failover --resume; moderation: its secret in b says active_region=a/);
    const res = err.detail!.result!;
    assert.match(res.steps.find((s) => s.name === 'promote-secrets')!.detail!, /WARNING: b's copy of community \(Secrets Manager in b: getaddrinfo ENOTFOUND\), moderation \(.*\) could not be set, so no worker in b consumes those bots: verify fails until it is/);
    assert.equal(world.dns.get('platform'), 'b', 'traffic moved anyway: the database was already promoted');
    world.botStoreDown.delete('b');
    const again = await runFailover(request(world, { resume: true, id: undefined }));
    assert.equal(again.outcome, 'completed');
    assert.equal(again.steps.find((s) => s.name === 'promote-secrets')!.status, 'ok');
    assert.deepEqual(regions(world, 'b'), { community: 'b', moderation: 'b' });
  });

  it('fails when a bot\'s updates go elsewhere (the lost region\'s endpoint), or when a probe answered 409', async () => {
    const world = new FakeWorld();
    world.botTargets.community = { target: 'elsewhere', webhook_target: 'https://bot-use1.example.com/telegram/community' };
    const err = await failing(runFailover(request(world)));
    assert.match(err.message, /community: its updates go to https:\/\/bot-use1\.example\.com\/telegram\/community, neither the shared record name nor b's endpoint/);
    const w2 = new FakeWorld();
    w2.botTokens = [{ bot: 'community', platform: 'telegram', active: 0, state: 'failing', detail: '409: Conflict: terminated by other getUpdates request' }];
    const e2 = await failing(runFailover(request(w2)));
    assert.match(e2.message, /community: the platform answered 409 \(conflict\) to the verify probe from b/);
  });

  it('warns, and passes, for what heals without the failover: an unhealthy active token, a target that could not be read', async () => {
    const token = '7012345:AAverify-token-that-must-not-leak-anywhere';
    registerSecret(token);
    const world = new FakeWorld();
    world.botTokens = [
      { bot: 'community', platform: 'telegram', active: 0, state: 'revoked', detail: `401: Unauthorized for /bot${token}/getMe` },
      { bot: 'moderation', platform: 'discord', active: 1, state: 'healthy' },
    ];
    world.botTargets.moderation = { target: 'unknown', target_detail: 'GET /applications/@me: 503' };
    const res = await runFailover(request(world));
    assert.equal(res.outcome, 'completed');
    const v = res.steps.find((s) => s.name === 'verify')!;
    assert.match(v.detail!, /WARNING: community token 0 revoked \(401: Unauthorized for \/bot\*\*\*\/getMe\) from b: the token monitor in b switches it, or pin one with dr tokens use; moderation: where its updates go could not be read from b \(GET \/applications\/@me: 503\)/);
    const all = JSON.stringify(res) + JSON.stringify([...world.journalEntries.values()]) + JSON.stringify(world.notices);
    assert.ok(!all.includes(token), 'no token in the result, the journal or the notices');
  });

  it('fails when the bots cannot be checked at all', async () => {
    const world = new FakeWorld();
    world.botServingFails = true;
    const err = await failing(runFailover(request(world)));
    assert.match(err.message, /the bots could not be checked from b: Secrets Manager in b does not answer/);
  });
});

describe('split-brain guard: the bots of a returning region', () => {
  it('pending while the lost region does not answer; sets its copies to the survivor when it does; then leaves them alone', async () => {
    const world = new FakeWorld();
    world.kill('a');
    const ports = fakePorts(world, { bots: true });
    await runFailover({ ...request(world), ports });
    const r1 = await guardOldPrimary(ports);
    assert.deepEqual(r1.actions.find((a) => a.tier === 'bots'), { tier: 'bots', region: 'a', failover: 'fo-bots', outcome: 'pending', detail: 'not yet readable in a: community unreachable, moderation unreachable' });
    world.revive('a');
    const r2 = await guardOldPrimary(ports);
    assert.deepEqual(r2.actions.map((a) => [a.tier, a.outcome]), [['database', 'fenced'], ['cache', 'fenced'], ['bots', 'fenced']]);
    assert.equal(r2.actions.find((a) => a.tier === 'bots')!.detail, "active_region=b written in a's copy of community, moderation");
    assert.deepEqual(regions(world, 'a'), { community: 'b', moderation: 'b' }, "a's workers now read shouldConsume() === false");
    assert.deepEqual(summarize('fo-bots', world.journalEntries.get('fo-bots')!).pendingFences, [], 'the pending fence is closed, bots included');
    const r3 = await guardOldPrimary(ports);
    assert.equal(r3.actions.find((a) => a.tier === 'bots')!.outcome, 'already-fenced');
    assert.equal(world.actCount('bots.setActiveRegion:a/community'), 1);
    assert.equal(world.actCount('bots.setActiveRegion:b/community'), 1, 'never touches the survivor');
  });

  it('re-sets a copy someone turned back (a restored backup of the secret), and follows a later failback', async () => {
    const world = new FakeWorld();
    const ports = fakePorts(world, { bots: true });
    await runFailover({ ...request(world, { mode: 'planned' }), ports });
    world.botCopies.a.community.active_region = 'a';
    const r = await guardOldPrimary(ports);
    assert.deepEqual([r.actions.find((a) => a.tier === 'bots')!.outcome, regions(world, 'a').community], ['fenced', 'b']);
    // The way back: a planned switchover b → a makes a the active region; the guard now watches b's copies.
    world.db.a = { ...world.db.a, role: 'standby', fenced: false, replay: world.db.b.lsn };
    world.cache.a = { ...world.cache.a, role: 'standby', fenced: false };
    await runFailover({ ...request(world, { mode: 'planned', from: 'b', to: 'a', id: 'fo-back' }), ports });
    assert.deepEqual([regions(world, 'a'), regions(world, 'b')], [{ community: 'a', moderation: 'a' }, { community: 'a', moderation: 'a' }]);
    const g = await guardOldPrimary(ports);
    assert.deepEqual(g.actions.find((a) => a.tier === 'bots'), { tier: 'bots', region: 'b', failover: 'fo-back', outcome: 'already-fenced' });
  });

  it('without a failover that moved the consumers, the guard does nothing to the bots', async () => {
    const world = new FakeWorld();
    const ports = fakePorts(world, { bots: true });
    await runFailover({ ...request(world, { incident: 'database' }), ports });
    const g = await guardOldPrimary(ports);
    assert.equal(g.actions.find((a) => a.tier === 'bots'), undefined);
    assert.equal(world.callCount('bots.activeRegions'), 0);
  });
});
