/**
 * runTokenCheck end to end: the real probers against the fake Telegram and Discord servers over HTTP on 127.0.0.1,
 * the file store in a temp dir (and the Secrets Manager store through its stateful mock for two monitors in two
 * regions), a recording notifier. Plus the manual override against a store.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { botTokenProber } from '../../automation/adapters/bots';
import { SecretsTokenStore } from '../../automation/adapters/aws/token-store';
import { TokenFileStore } from '../../automation/adapters/tools/token-file-store';
import { FakeDiscord } from '../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../automation/adapters/rehearsal/fake-telegram';
import { applyManualChange, checkJson, runTokenCheck, type TokenCheckOptions, type TokenCheckReport, type TokenStore } from '../../automation/tokens';
import { FakeClock } from '../helpers/aws-world';
import { TokenSecrets } from '../helpers/token-secrets';
import { discordToken, RecordingNotifier, telegramToken } from '../helpers/token-fakes';

const TG = [telegramToken('check-tg-0'), telegramToken('check-tg-1'), telegramToken('check-tg-2')];
const DC = [discordToken('check-dc-0'), discordToken('check-dc-1')];
const ALL = [...TG, ...DC];

/** A store whose writes wait until `reads` reads have happened (so two monitors surely read the same version). */
function barrierStore(inner: TokenStore, gate: { reads: number; open: Promise<void>; release: () => void }): TokenStore {
  return {
    location: inner.location,
    read: async (bot, o) => {
      const r = await inner.read(bot, o);
      if (--gate.reads === 0) gate.release();
      return r;
    },
    currentVersion: (bot, o) => inner.currentVersion(bot, o),
    write: async (bot, rec, o) => {
      await gate.open;
      return inner.write(bot, rec, o);
    },
  };
}

function gate(reads: number): { reads: number; open: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  const open = new Promise<void>((r) => (release = r));
  return { reads, open, release };
}

describe('tokens: runTokenCheck end to end (fake platforms, file store)', () => {
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let clock: FakeClock;
  let dir: string;
  let file: string;
  let notifier: RecordingNotifier;
  let logs: string[];
  let reports: TokenCheckReport[];

  const opts = (extra: Partial<TokenCheckOptions> = {}): TokenCheckOptions => ({
    bots: ['community', 'mod'],
    store: new TokenFileStore({ file }),
    prober: botTokenProber({ telegram: { apiRoot: tg.url, timeoutMs: 2_000 }, discord: { api: dc.api, timeoutMs: 2_000 }, clock }),
    notifier,
    clock,
    apply: true,
    actor: 'monitor@us-east-1',
    log: (l) => logs.push(l),
    ...extra,
  });
  const check = async (extra: Partial<TokenCheckOptions> = {}) => {
    const r = await runTokenCheck(opts(extra));
    reports.push(r);
    clock.t += 60_000;
    return r;
  };
  const onFile = () => JSON.parse(fs.readFileSync(file, 'utf8')) as { bots: Record<string, { active: number; history?: Array<{ what: string; by: string }>; health?: unknown[] }> };

  beforeEach(async () => {
    clock = new FakeClock();
    tg = await new FakeTelegram({ now: () => clock.t }).start();
    dc = await new FakeDiscord({ now: () => clock.t }).start();
    TG.forEach((t) => tg.addToken(t));
    DC.forEach((t) => dc.addToken(t));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-token-check-'));
    file = path.join(dir, 'tokens.json');
    fs.writeFileSync(file, JSON.stringify({ bots: { community: { platform: 'telegram', active: 0, tokens: TG }, mod: { platform: 'discord', active: 0, tokens: DC } } }), { mode: 0o600 });
    notifier = new RecordingNotifier();
    logs = [];
    reports = [];
  });
  afterEach(async () => {
    await Promise.all([tg.stop(), dc.stop()]);
    // Planted-token grep over everything the runs produced: results, JSON, history, notices, log lines.
    const produced = JSON.stringify({ reports, json: reports.map(checkJson), notices: notifier.notices, logs, history: Object.values(onFile().bots).map((b) => [b.history, b.health]) });
    for (const t of ALL) assert.ok(!produced.includes(t), 'a token value leaked into a result, the history, a notice or a log line');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('all healthy: keep; the JSON contract per bot, exactly; a steady world stops writing', async () => {
    const r = await check();
    assert.deepEqual(checkJson(r), [
      { bot: 'community', platform: 'telegram', active_before: 0, active_after: 0, action: 'keep', reason: 'healthy', tokens: [0, 1, 2].map((index) => ({ index, state: 'healthy', latency_ms: 0 })) },
      { bot: 'mod', platform: 'discord', active_before: 0, active_after: 0, action: 'keep', reason: 'healthy', tokens: [0, 1].map((index) => ({ index, state: 'healthy', latency_ms: 0 })) },
    ]);
    assert.deepEqual(r.bots.map((b) => b.write), ['written', 'written'], 'first run records the health counters');
    assert.deepEqual(r.errors, []);
    await check();
    await check();
    const steady = await check();
    assert.deepEqual(steady.bots.map((b) => b.write), ['unchanged', 'unchanged']);
    assert.equal(notifier.notices.length, 0);
    assert.equal(tg.callCount(TG[2], 'getMe'), 4, 'every token probed once per run');
    assert.equal(dc.callCount(DC[1], 'GET /users/@me'), 4);
  });

  it('a revoked active token: one run switches to the next healthy token, writes it, notifies once', async () => {
    tg.revoke(TG[0]);
    const r = await check();
    const c = r.bots[0];
    assert.deepEqual([c.result.action, c.result.reason, c.result.active_before, c.result.active_after, c.write], ['switch', 'revoked', 0, 1, 'written']);
    assert.deepEqual(c.result.tokens.map((t) => t.state), ['revoked', 'healthy', 'healthy']);
    assert.equal(onFile().bots.community.active, 1);
    assert.deepEqual(onFile().bots.community.history?.map((h) => [h.what, h.by]), [['switch', 'monitor@us-east-1']]);
    assert.equal(notifier.notices.length, 1);
    assert.deepEqual([notifier.notices[0].kind, notifier.notices[0].bot, notifier.notices[0].from, notifier.notices[0].to, notifier.notices[0].id], ['switch', 'community', 0, 1, c.decision_id]);
    assert.match(notifier.notices[0].message, /community \(telegram\): token 0 is revoked \(revoked: 401: Unauthorized\); switched to token 1/);
    const next = await check();
    assert.deepEqual([next.bots[0].result.action, next.bots[0].result.active_before], ['keep', 1]);
    assert.equal(notifier.notices.length, 1);
    assert.ok(logs.some((l) => /tokens community: switch \(revoked\), active 0 → 1, written, notified/.test(l)));
  });

  it('without apply: reports what it would do, writes and notifies nothing', async () => {
    dc.revoke(DC[0]);
    const before = fs.readFileSync(file, 'utf8');
    const r = await check({ apply: false });
    assert.deepEqual([r.bots[1].result.action, r.bots[1].result.active_after, r.bots[1].write], ['switch', 1, 'not-applied']);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    assert.equal(notifier.notices.length, 0);
  });

  it('a Telegram outage: platform-degraded alert, never a switch, one notice; Discord unaffected', async () => {
    tg.outage(true);
    const runs = [await check(), await check(), await check(), await check()];
    for (const r of runs) {
      assert.deepEqual([r.bots[0].result.action, r.bots[0].result.reason, r.bots[0].result.active_after], ['alert', 'platform-degraded', 0]);
      assert.deepEqual(r.bots[0].result.tokens.map((t) => t.state), ['unreachable', 'unreachable', 'unreachable']);
      assert.deepEqual([r.bots[1].result.action, r.bots[1].result.reason], ['keep', 'healthy']);
      assert.deepEqual(r.degraded, ['telegram']);
    }
    assert.deepEqual(notifier.notices.map((n) => [n.kind, n.bot]), [['platform-degraded', 'community']]);
    tg.outage(false);
    assert.equal((await check()).bots[0].result.action, 'keep');
    assert.equal(onFile().bots.community.active, 0);
  });

  it('429: honours retry_after — the token is not asked again until it has passed', async () => {
    tg.rateLimit(TG[0], 150);
    const r1 = await check();
    assert.deepEqual([r1.bots[0].result.action, r1.bots[0].result.reason], ['keep', 'rate-limited']);
    assert.equal(r1.bots[0].details[0].retry_after_s, 150);
    assert.equal(r1.bots[0].next_probe_at[0].index, 0);
    assert.equal(tg.callCount(TG[0]), 1);
    await check(); // +60 s: skipped
    await check(); // +120 s: skipped
    assert.equal(tg.callCount(TG[0]), 1, 'not asked while its retry_after runs');
    assert.equal(tg.callCount(TG[1]), 3);
    const r4 = await check(); // +180 s: asked again, healthy
    assert.equal(tg.callCount(TG[0]), 2);
    assert.deepEqual([r4.bots[0].result.reason, r4.bots[0].result.tokens[0].state], ['healthy', 'healthy']);
    assert.equal(notifier.notices.length, 0);
  });

  it('a rights map makes the target the token with all channel rights', async () => {
    tg.revoke(TG[0]);
    const r = await check({ rights: { community: { 1: false, 2: true } } });
    assert.equal(r.bots[0].result.active_after, 2);
  });

  it('two monitors deciding the same switch at once: one writes and notifies, the other reports decided-by-another-monitor', async () => {
    tg.revoke(TG[0]);
    const g = gate(4);
    const shared = new TokenFileStore({ file });
    const [a, b] = await Promise.all([
      runTokenCheck(opts({ store: barrierStore(shared, g), actor: 'monitor@us-east-1' })),
      runTokenCheck(opts({ store: barrierStore(new TokenFileStore({ file }), g), actor: 'monitor@us-west-2' })),
    ]);
    reports.push(a, b);
    const writes = [a.bots[0], b.bots[0]].map((c) => c.write).sort();
    assert.deepEqual(writes, ['conflict', 'written']);
    const loser = a.bots[0].write === 'conflict' ? a.bots[0] : b.bots[0];
    assert.deepEqual([loser.result.action, loser.result.reason, loser.result.active_after], ['switch', 'decided-by-another-monitor', 1]);
    assert.equal(loser.notified, false);
    assert.equal(loser.decided_by?.what, 'switch');
    assert.equal(notifier.notices.length, 1);
    assert.equal(onFile().bots.community.history?.length, 1, 'one switch, not two');
    assert.equal(onFile().bots.community.active, 1);
  });

  it('a notifier failure is reported, never fatal; an unreadable bot is an error, the others are checked', async () => {
    tg.revoke(TG[0]);
    notifier.failWith = new Error('SNS down');
    const r = await check({ bots: ['community', 'ghost', 'mod'] });
    assert.deepEqual([r.bots[0].write, r.bots[0].notified, r.bots[0].notify_error], ['written', false, 'SNS down']);
    assert.deepEqual(r.errors.map((e) => e.bot), ['ghost']);
    assert.match(r.errors[0].error, /object not found: bot ghost/);
    assert.deepEqual(r.bots.map((b) => b.result.bot), ['community', 'mod']);
  });

  it('manual override: use (pin) then unpin through the store, notified; the monitor then alerts instead of switching', async () => {
    const store = new TokenFileStore({ file });
    const pinned = await applyManualChange({ store, bot: 'community', change: { kind: 'pin', index: 2, reason: 'drill: token 2 only' }, actor: 'operator:alice', clock, notifier });
    assert.deepEqual([pinned.record.active, pinned.record.pin?.by, pinned.notified], [2, 'operator:alice', true]);
    tg.revoke(TG[2]);
    const r = await check();
    assert.deepEqual([r.bots[0].result.action, r.bots[0].result.reason, r.bots[0].result.active_after], ['alert', 'pinned-token-failing', 2]);
    await applyManualChange({ store, bot: 'community', change: { kind: 'unpin' }, actor: 'operator:alice', clock, notifier });
    const after = await check();
    assert.deepEqual([after.bots[0].result.action, after.bots[0].result.active_after], ['switch', 0]);
    assert.deepEqual(notifier.notices.map((n) => n.kind), ['pin', 'alert', 'unpin', 'switch']);
    assert.deepEqual(onFile().bots.community.history?.map((h) => h.what), ['pin', 'alert', 'unpin', 'switch']);
  });

  it('manual override retries past a monitor that wrote between its read and its write', async () => {
    const inner = new TokenFileStore({ file });
    let slipped = false;
    const store: TokenStore = {
      location: inner.location,
      read: (b, o) => inner.read(b, o),
      currentVersion: (b, o) => inner.currentVersion(b, o),
      write: async (b, rec, o) => {
        if (!slipped) {
          slipped = true;
          const cur = await inner.read(b);
          await inner.write(b, { ...cur.record, health: [] }, { expectVersion: cur.version, requestId: 'monitor-write' });
        }
        return inner.write(b, rec, o);
      },
    };
    const res = await applyManualChange({ store, bot: 'community', change: { kind: 'pin', index: 1, reason: 'x' }, actor: 'operator:bob', clock });
    assert.equal(res.record.active, 1);
    assert.equal(onFile().bots.community.active, 1);
    await assert.rejects(applyManualChange({ store: inner, bot: 'community', change: { kind: 'pin', index: 7, reason: 'x' }, actor: 'operator:bob', clock }), /0\.\.2/);
  });
});

describe('tokens: two monitors in two regions on Secrets Manager (mock), same outage', () => {
  let tg: FakeTelegram;
  let sm: TokenSecrets;
  afterEach(async () => {
    await tg.stop();
    sm.restore();
  });

  it('exactly one new secret version; the second monitor reports decided-by-another-monitor and does not notify', async () => {
    const clock = new FakeClock();
    tg = await new FakeTelegram().start();
    TG.forEach((t) => tg.addToken(t));
    tg.revoke(TG[0]);
    sm = new TokenSecrets().create('botdr/bot-tokens/community', { active: 0, tokens: TG, platform: 'telegram' });
    const notifier = new RecordingNotifier();
    const g = gate(2);
    const mk = (actor: string) =>
      runTokenCheck({
        bots: ['community'],
        store: barrierStore(new SecretsTokenStore({ client: sm.client, region: 'us-east-1', secretId: (b) => `botdr/bot-tokens/${b}`, clock }), g),
        prober: botTokenProber({ telegram: { apiRoot: tg.url }, clock }),
        notifier,
        clock,
        apply: true,
        actor,
      });
    const [a, b] = await Promise.all([mk('monitor@us-east-1'), mk('monitor@us-west-2')]);
    assert.equal(a.bots[0].decision_id, b.bots[0].decision_id, 'same world, same decision id');
    assert.deepEqual([a.bots[0].write, b.bots[0].write].sort(), ['conflict', 'written']);
    assert.equal(sm.versionCount('botdr/bot-tokens/community'), 2, 'the initial version and one switch');
    assert.equal(sm.current('botdr/bot-tokens/community').active, 1);
    const puts = sm.mock.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input.ClientRequestToken);
    assert.ok(puts.every((t) => t === a.bots[0].decision_id));
    const loser = a.bots[0].write === 'conflict' ? a.bots[0] : b.bots[0];
    assert.deepEqual([loser.result.reason, loser.result.active_after, loser.notified], ['decided-by-another-monitor', 1, false]);
    assert.equal(notifier.notices.length, 1);
    const produced = JSON.stringify({ a, b, n: notifier.notices, h: sm.current('botdr/bot-tokens/community').history });
    for (const t of TG) assert.ok(!produced.includes(t));
  });
});
