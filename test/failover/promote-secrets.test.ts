/**
 * Issue 10: promote-secrets probes every bot's active token from the survivor after the secrets are writable
 * (the optional BotsPort). Check-then-act is unchanged; the probe is a report: its result is in the step detail and
 * the journal data, and an unhealthy active token is a loud WARNING, never a failed step.
 */
import assert from 'node:assert/strict';
import { registerSecret } from '../../automation/core/redact';
import { type FailoverRequest, runFailover } from '../../automation/failover';
import { FakeWorld, fakePorts, type FakePortsOptions, fakeTopology } from '../helpers/failover-fakes';

function request(world: FakeWorld, portOpts: FakePortsOptions = { bots: true }, over: Partial<FailoverRequest> = {}): FailoverRequest {
  return { ports: fakePorts(world, portOpts), topology: fakeTopology({ secrets: true, stacks: true }), mode: 'unplanned', incident: 'datacenter', from: 'a', to: 'b', confirm: true, id: 'fo-bots', ...over };
}

const step = (world: FakeWorld, id = 'fo-bots') =>
  (world.journalEntries.get(id) ?? []).find((e) => e.kind === 'step' && e.step === 'promote-secrets' && e.phase === 'done') as { detail?: string; data?: Record<string, unknown>; status?: string } | undefined;

describe('failover: promote-secrets probes the bots\' active tokens from the survivor', () => {
  it('after promoting: every bot probed in the survivor region, the result in the detail and the journal data', async () => {
    const world = new FakeWorld();
    const res = await runFailover(request(world));
    assert.equal(res.outcome, 'completed');
    const ps = res.steps.find((s) => s.name === 'promote-secrets')!;
    assert.equal(ps.status, 'ok');
    assert.equal(ps.detail, "2 of 2 secret(s) made writable in b; a's copies: active_region=b written for community, moderation; b's copies: active_region=b written for community, moderation; active bot tokens from b: community token 0 healthy, moderation token 1 healthy");
    assert.deepEqual(world.botProbes, ['b'], 'probed once, from the survivor');
    // The probe comes after the check-then-act, which is unchanged.
    const order = world.ops.filter((o) => o.startsWith('secrets.promote') || o === 'journal:step:promote-secrets:done');
    assert.deepEqual(order, ['secrets.promote:bot-token', 'secrets.promote:db-credentials', 'journal:step:promote-secrets:done']);
    assert.deepEqual(step(world)?.data?.bots, [
      { bot: 'community', platform: 'telegram', active: 0, state: 'healthy', latency_ms: 40 },
      { bot: 'moderation', platform: 'discord', active: 1, state: 'healthy', latency_ms: 55 },
    ]);
  });

  it('an unhealthy active token is a loud warning in the detail, not a failure; a rate limit is no fault', async () => {
    const world = new FakeWorld();
    world.botTokens = [
      { bot: 'community', platform: 'telegram', active: 0, state: 'revoked', latency_ms: 30, detail: '401: Unauthorized' },
      { bot: 'moderation', platform: 'discord', active: 1, state: 'rate-limited', latency_ms: 20 },
      { bot: 'helper', platform: 'unknown', active: -1, state: 'unreadable', detail: 'reading its secret in b: AccessDeniedException' },
    ];
    // An unreadable secret in the survivor is no warning for verify: no worker there could consume that bot.
    const err = await runFailover(request(world)).then(() => assert.fail('verify passed'), (e: Error & { detail?: { result?: { outcome: string; steps: Array<{ name: string; status: string; detail?: string }> } } }) => e);
    assert.match(err.message, /^verify failed: helper: its secret in b cannot be read \(reading its secret in b: AccessDeniedException\), so no worker there can consume it/);
    const res = err.detail!.result!;
    assert.equal(res.outcome, 'failed');
    const ps = res.steps.find((s) => s.name === 'promote-secrets')!;
    assert.equal(ps.status, 'ok');
    assert.match(ps.detail!, /WARNING: 2 of 3 bot\(s\) have no healthy active token seen from b: community token 0 revoked \(401: Unauthorized\); helper unreadable \(reading its secret in b: AccessDeniedException\)/);
    assert.match(ps.detail!, /token monitor in b switches to a healthy token, or pin one with dr tokens use BOT INDEX --reason TEXT/);
    assert.ok(!/moderation/.test(ps.detail!.split('WARNING')[1]!.split('—')[0]!), 'a 429 is not a token fault');
    assert.equal((step(world)?.data?.bots as unknown[]).length, 3);
  });

  it('a probe that fails as a whole is a warning too; the secrets are promoted either way', async () => {
    const world = new FakeWorld();
    world.botTokens = 'throw';
    const res = await runFailover(request(world));
    assert.equal(res.outcome, 'completed');
    const ps = res.steps.find((s) => s.name === 'promote-secrets')!;
    assert.equal(ps.status, 'ok');
    assert.match(ps.detail!, /; WARNING: the bots' active tokens could not be probed from b: Secrets Manager in b does not answer$/);
    assert.equal(world.actCount('secrets.promote:bot-token'), 1);
    assert.equal(step(world)?.data?.bots, undefined);
  });

  it('secrets already writable (done-before): still probes; without a bots port or with it unavailable, says so or nothing', async () => {
    const world = new FakeWorld();
    world.secrets.set('b/bot-token', true);
    world.secrets.set('b/db-credentials', true);
    const res = await runFailover(request(world));
    assert.equal(res.steps.find((s) => s.name === 'promote-secrets')!.detail, "2 secret(s) in b already writable; a's copies: active_region=b written for community, moderation; b's copies: active_region=b written for community, moderation; active bot tokens from b: community token 0 healthy, moderation token 1 healthy");
    const none = new FakeWorld();
    const plain = await runFailover(request(none, {}));
    assert.equal(plain.steps.find((s) => s.name === 'promote-secrets')!.detail, '2 of 2 secret(s) made writable in b', 'no bots port: the detail is as before');
    assert.equal(none.calls.get('bots.probeActive'), undefined);
    const off = new FakeWorld();
    const un = await runFailover(request(off, { bots: { unavailable: 'not wired in the rehearsal yet' } }));
    assert.equal(un.steps.find((s) => s.name === 'promote-secrets')!.detail, '2 of 2 secret(s) made writable in b; bot tokens not probed: not wired in the rehearsal yet');
    assert.equal(off.calls.get('bots.probeActive'), undefined, 'an unavailable port is never called');
  });

  it('not probed when the step does not run (a database incident); a resume re-checks and probes again; a finished failover is not re-run', async () => {
    const world = new FakeWorld();
    await runFailover(request(world, { bots: true }, { incident: 'database' }));
    assert.deepEqual(world.botProbes, []);
    const again = new FakeWorld();
    again.crash = { op: 'journal:step:switch-dns:done', when: 'before' };
    await runFailover(request(again)).catch(() => undefined);
    again.recover();
    const resumed = await runFailover(request(again, { bots: true }, { resume: true, id: undefined }));
    // An unfinished failover re-checks every step against the world: the secrets are found writable (no second act),
    // and the read-only probe runs again, so the resumed report shows the tokens as they are now.
    assert.equal(again.actCount('secrets.promote:bot-token'), 1);
    assert.match(resumed.steps.find((s) => s.name === 'promote-secrets')!.detail!, /^2 secret\(s\) in b already writable; a's copies: active_region=b already for community, moderation; b's copies: active_region=b already for community, moderation; active bot tokens from b: /);
    assert.deepEqual(again.botProbes, ['b', 'b']);
    await runFailover(request(again, { bots: true }, { id: resumed.id }));
    assert.deepEqual(again.botProbes, ['b', 'b'], 'a completed failover is not re-checked');
  });

  it('no token value in the detail or the journal, even when a probe detail carries one', async () => {
    const token = '7012345:AAsecret-token-value-that-must-not-leak';
    registerSecret(token);
    const world = new FakeWorld();
    world.botTokens = [{ bot: 'community', platform: 'telegram', active: 0, state: 'failing', detail: `HTTP 404 for /bot${token}/getMe` }];
    const res = await runFailover(request(world));
    const all = JSON.stringify(res) + JSON.stringify([...world.journalEntries.values()]);
    assert.ok(!all.includes(token), 'the token is redacted');
    assert.match(res.steps.find((s) => s.name === 'promote-secrets')!.detail!, /community token 0 failing/);
  });
});
