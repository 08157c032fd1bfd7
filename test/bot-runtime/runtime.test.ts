/**
 * The bot runtime follows the store: a switch is picked up by the version poll, and at once on reportUnauthorized;
 * onTokenChange fires once per change of the active token (not per version); close() stops the polling.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { botTokenProber } from '../../automation/adapters/bots';
import { FakeTelegram } from '../../automation/adapters/rehearsal/fake-telegram';
import { TokenFileStore } from '../../automation/adapters/tools/token-file-store';
import { runTokenCheck } from '../../automation/tokens';
import { createTokenRuntime, type TokenChange, type TokenRuntime } from '../../automation/bot-runtime';
import type { TokenRecord, TokenStore } from '../../automation/tokens';
import { ManualClock, MemoryTokenStore, settle, telegramToken } from '../helpers/token-fakes';

const T = [telegramToken('rt-0'), telegramToken('rt-1'), telegramToken('rt-2')];
const REC: TokenRecord = { active: 0, tokens: T, platform: 'telegram' };

/** The store plus a count of version polls. */
function counting(inner: MemoryTokenStore): TokenStore & { polls: number; failPolls: boolean } {
  const s = {
    location: inner.location,
    polls: 0,
    failPolls: false,
    read: inner.read.bind(inner),
    write: inner.write.bind(inner),
    async currentVersion(bot: string) {
      s.polls++;
      if (s.failPolls) throw new Error(`store down (token ${T[0]})`);
      return inner.currentVersion(bot);
    },
  };
  return s;
}

describe('bot-runtime: createTokenRuntime', () => {
  let clock: ManualClock;
  let mem: MemoryTokenStore;
  let store: ReturnType<typeof counting>;
  let rt: TokenRuntime;
  let changes: TokenChange[];
  let errors: string[];

  beforeEach(async () => {
    clock = new ManualClock();
    mem = new MemoryTokenStore().set('community', REC);
    store = counting(mem);
    errors = [];
    rt = await createTokenRuntime({ store, bot: 'community', pollMs: 30_000, clock, onError: (m) => errors.push(m) });
    changes = [];
    rt.onTokenChange((c) => changes.push(c));
  });
  afterEach(() => rt.close());

  it('starts with the active token, cached (no store call per use)', async () => {
    assert.equal(rt.activeToken(), T[0]);
    assert.equal(rt.activeIndex(), 0);
    const reads = mem.reads;
    for (let i = 0; i < 5; i++) rt.activeToken();
    assert.equal(mem.reads, reads);
    assert.equal(store.polls, 0);
  });

  it('a switch is picked up by the poll once the version changes; the listener fires once', async () => {
    await clock.advance(30_000);
    assert.equal(store.polls, 1);
    assert.equal(changes.length, 0, 'nothing changed');
    mem.set('community', { ...REC, active: 2 });
    await clock.advance(29_000);
    assert.equal(rt.activeToken(), T[0], 'not before the next poll');
    await clock.advance(1_000);
    assert.equal(rt.activeToken(), T[2]);
    assert.deepEqual(changes, [{ bot: 'community', index: 2, token: T[2], previousIndex: 0, version: 'v2' }]);
    await clock.advance(30_000);
    await clock.advance(30_000);
    assert.equal(changes.length, 1, 'once per change');
  });

  it('a new version that keeps the active token (health, history) fires nothing', async () => {
    mem.set('community', { ...REC, health: [{ index: 0, consecutive_failures: 1, consecutive_passes: 0 }] });
    await clock.advance(30_000);
    assert.equal(rt.version(), 'v2');
    assert.equal(changes.length, 0);
  });

  it('reportUnauthorized re-reads at once; concurrent reports share one read and fire once', async () => {
    mem.set('community', { ...REC, active: 1 });
    const reads = mem.reads;
    const [a, b] = await Promise.all([rt.reportUnauthorized(), rt.reportUnauthorized()]);
    assert.deepEqual([a, b], [true, true]);
    assert.equal(mem.reads, reads + 1);
    assert.equal(rt.activeToken(), T[1]);
    assert.equal(changes.length, 1);
    assert.equal(store.polls, 0, 'no clock advance was needed');
  });

  it('a 401 before the monitor switched: false, then polling every 5 s picks the switch up', async () => {
    assert.equal(await rt.reportUnauthorized(), false);
    await settle();
    await clock.advance(5_000);
    assert.equal(store.polls, 1, 'woken from the 30 s sleep to the 5 s interval');
    mem.set('community', { ...REC, active: 1 });
    await clock.advance(5_000);
    assert.equal(rt.activeToken(), T[1]);
    await clock.advance(5_000);
    assert.equal(store.polls, 2, 'back to 30 s after the change');
    await clock.advance(25_000);
    assert.equal(store.polls, 3);
  });

  it('unsubscribe; a failing poll keeps the cached token and reports (redacted)', async () => {
    const other: TokenChange[] = [];
    const off = rt.onTokenChange((c) => other.push(c));
    off();
    store.failPolls = true;
    await clock.advance(30_000);
    assert.equal(rt.activeToken(), T[0]);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /poll failed \(keeping the cached token\): store down/);
    assert.ok(!errors[0].includes(T[0]), 'the token is registered, so redacted');
    store.failPolls = false;
    mem.set('community', { ...REC, active: 2 });
    await clock.advance(30_000);
    assert.deepEqual([changes.length, other.length], [1, 0]);
  });

  it('close() stops polling', async () => {
    await rt.close();
    assert.equal(clock.sleepers, 0);
    mem.set('community', { ...REC, active: 1 });
    await clock.advance(120_000);
    assert.equal(store.polls, 0);
    assert.equal(rt.activeToken(), T[0]);
  });
});

describe('bot-runtime: shouldConsume (one consumer per token)', () => {
  let clock: ManualClock;
  let mem: MemoryTokenStore;
  const runtimes: TokenRuntime[] = [];
  const start = async (region: string | undefined) => {
    const rt = await createTokenRuntime({ store: mem, bot: 'community', pollMs: 1_000, clock, ...(region !== undefined ? { region } : {}) });
    runtimes.push(rt);
    return rt;
  };
  beforeEach(() => {
    clock = new ManualClock();
    mem = new MemoryTokenStore().set('community', REC);
  });
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((r) => r.close()));
  });

  it('a record without active_region: every region consumes (records from before the field)', async () => {
    const [a, b, none] = [await start('a'), await start('b'), await start(undefined)];
    assert.deepEqual([a.shouldConsume(), b.shouldConsume(), none.shouldConsume()], [true, true, true]);
    assert.equal(a.activeRegion(), undefined);
  });

  it('only the active region consumes; a runtime without a region consumes nothing once a region is named', async () => {
    mem.set('community', { ...REC, active_region: 'a' });
    const [a, b, none] = [await start('a'), await start('b'), await start(undefined)];
    assert.deepEqual([a.shouldConsume(), b.shouldConsume(), none.shouldConsume()], [true, false, false]);
    assert.equal(b.activeRegion(), 'a');
  });

  it('the failover writes active_region=b: on the next poll a stops and b starts, each told once; the token stays', async () => {
    mem.set('community', { ...REC, active_region: 'a' });
    const [a, b] = [await start('a'), await start('b')];
    const seen: Array<[string, boolean, string | undefined]> = [];
    a.onConsumeChange((c) => seen.push(['a', c.consume, c.activeRegion]));
    const off = b.onConsumeChange((c) => seen.push(['b', c.consume, c.activeRegion]));
    const tokens: number[] = [];
    a.onTokenChange((c) => tokens.push(c.index));
    mem.set('community', { ...REC, active_region: 'b' });
    assert.deepEqual([a.shouldConsume(), b.shouldConsume()], [true, false], 'cached until the poll');
    await clock.advance(1_000);
    assert.deepEqual([a.shouldConsume(), b.shouldConsume()], [false, true]);
    assert.deepEqual(seen.sort(), [['a', false, 'b'], ['b', true, 'b']]);
    assert.deepEqual(tokens, [], 'a change of region is not a change of token');
    off();
    mem.set('community', { ...REC, active: 1, active_region: 'b' });
    await clock.advance(1_000);
    assert.equal(seen.length, 2, 'a token switch in the same region does not flip shouldConsume');
    assert.deepEqual(tokens, [1]);
    assert.equal(a.activeToken(), T[1]);
  });

  it('a listener that throws is reported and does not stop the others', async () => {
    const errors: string[] = [];
    mem.set('community', { ...REC, active_region: 'a' });
    const rt = await createTokenRuntime({ store: mem, bot: 'community', region: 'b', pollMs: 1_000, clock, onError: (m) => errors.push(m) });
    runtimes.push(rt);
    const seen: boolean[] = [];
    rt.onConsumeChange(() => {
      throw new Error('boom');
    });
    rt.onConsumeChange((c) => seen.push(c.consume));
    await rt.refresh();
    mem.set('community', { ...REC, active_region: 'b' });
    await rt.refresh();
    assert.deepEqual(seen, [true]);
    assert.match(errors[0], /an onConsumeChange listener threw: boom/);
  });
});

describe('bot-runtime: follows a monitor switch on the file store (fake Telegram)', () => {
  it('a revoked token: the bot gets 401, reports it, the monitor switches, the runtime hands over the new token', async () => {
    const tg = await new FakeTelegram().start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-token-rt-'));
    const file = path.join(dir, 'tokens.json');
    const clock = new ManualClock();
    let rt: TokenRuntime | undefined;
    try {
      T.forEach((t) => tg.addToken(t));
      fs.writeFileSync(file, JSON.stringify({ bots: { community: { platform: 'telegram', active: 0, tokens: T } } }));
      rt = await createTokenRuntime({ store: new TokenFileStore({ file }), bot: 'community', pollMs: 30_000, clock });
      const seen: number[] = [];
      rt.onTokenChange((c) => seen.push(c.index));
      tg.revoke(T[0]);
      const answer = await fetch(`${tg.url}/bot${rt.activeToken()}/getMe`);
      assert.equal(answer.status, 401);
      assert.equal(await rt.reportUnauthorized(), false, 'the monitor has not run yet');
      const report = await runTokenCheck({ bots: ['community'], store: new TokenFileStore({ file }), prober: botTokenProber({ telegram: { apiRoot: tg.url }, clock }), clock, apply: true, actor: 'monitor@us-east-1' });
      assert.equal(report.bots[0].result.action, 'switch');
      assert.equal(clock.sleepers, 1, 'the runtime waits on the 5 s interval');
      await clock.advance(5_000);
      const deadline = Date.now() + 5_000;
      while (rt.activeIndex() !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(rt.activeIndex(), 1);
      assert.deepEqual(seen, [1]);
      assert.equal((await fetch(`${tg.url}/bot${rt.activeToken()}/getMe`)).status, 200);
    } finally {
      await rt?.close();
      await tg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
