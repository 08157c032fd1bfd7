/**
 * DiscordProber (@discordjs/rest `GET /users/@me` + `GET /gateway/bot`) against the fake Discord API over real HTTP
 * on 127.0.0.1. The client's own retries and rate-limit waits are off: every failure is one request, reported.
 */
import assert from 'node:assert/strict';
import { botTokenProber, DiscordProber } from '../../../automation/adapters/bots';
import { FakeDiscord } from '../../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import type { TokenProbe } from '../../../automation/tokens';
import { discordToken, refusedUrl, steppingClock, telegramToken } from '../../helpers/token-fakes';

const GOOD = discordToken('dc-good');
const OTHER = discordToken('dc-other');
const UNKNOWN = discordToken('dc-unknown');
const ME = 'GET /users/@me';
const GW = 'GET /gateway/bot';

describe('adapters/bots: DiscordProber against the fake Discord API', () => {
  let fake: FakeDiscord;
  let probes: TokenProbe[];
  const prober = (o: { timeoutMs?: number; sessionStart?: boolean } = {}) => new DiscordProber({ api: fake.api, timeoutMs: o.timeoutMs ?? 2_000, sessionStart: o.sessionStart, clock: steppingClock(5) });
  const probe = async (token: string, p = prober()) => {
    const r = await p.probe({ platform: 'discord', token, index: 1 });
    probes.push(r);
    return r;
  };

  beforeEach(async () => {
    fake = await new FakeDiscord().start();
    fake.addToken(GOOD, { username: 'chess-discord' }).addToken(OTHER);
    probes = [];
  });
  afterEach(async () => {
    await fake.stop();
    const text = JSON.stringify(probes);
    for (const t of [GOOD, OTHER, UNKNOWN]) assert.ok(!text.includes(t), 'a token leaked into a probe result');
  });

  it('healthy: users/@me then gateway/bot with Authorization: Bot <token>; session starts reported', async () => {
    const r = await probe(GOOD);
    assert.deepEqual(r, { index: 1, state: 'healthy', latency_ms: 5, detail: '@chess-discord', session_start: { total: 1000, remaining: 1000, reset_after_ms: 86_400_000, max_concurrency: 1, warning: false } });
    assert.deepEqual(fake.calls(GOOD), { [ME]: 1, [GW]: 1 });
    assert.deepEqual(fake.calls(''), {}, 'no call without the Bot authorization');
  });

  it('session_start_limit below 10 % of total raises the warning flag (at 10 % it does not)', async () => {
    fake.setSessionStartLimit(GOOD, { remaining: 99, reset_after: 3_600_000 });
    const low = await probe(GOOD);
    assert.deepEqual(low.session_start, { total: 1000, remaining: 99, reset_after_ms: 3_600_000, max_concurrency: 1, warning: true });
    assert.match(low.detail ?? '', /session starts low: 99 of 1000 left/);
    fake.setSessionStartLimit(GOOD, { remaining: 100 });
    assert.equal((await probe(GOOD)).session_start?.warning, false);
    assert.equal((await probe(GOOD, prober({ sessionStart: false }))).session_start, undefined);
  });

  it('401 for a revoked or unknown token → revoked; 403 → revoked', async () => {
    fake.revoke(GOOD);
    assert.deepEqual(await probe(GOOD), { index: 1, state: 'revoked', latency_ms: 5, detail: '401: Unauthorized' });
    assert.deepEqual(fake.calls(GOOD), { [ME]: 1 }, 'no gateway/bot after a failed users/@me');
    assert.equal((await probe(UNKNOWN)).state, 'revoked');
    fake.route(ME, () => ({ status: 403, body: { message: 'Missing Access', code: 50001 } }));
    assert.deepEqual([(await probe(OTHER)).state, probes.at(-1)?.detail], ['revoked', '403: Missing Access']);
  });

  it('429 → rate-limited with the body retry_after (fractional), one request, no wait', async () => {
    fake.rateLimit(GOOD, 2.5);
    const t0 = Date.now();
    const r = await probe(GOOD);
    assert.equal(r.state, 'rate-limited');
    assert.ok(r.retry_after_s !== undefined && r.retry_after_s > 2 && r.retry_after_s <= 2.5, `retry_after_s ${r.retry_after_s}`);
    assert.equal(r.detail, '429: rate limited');
    assert.equal(fake.callCount(GOOD, ME), 1);
    assert.ok(Date.now() - t0 < 1_500, 'the client did not sleep out the rate limit');
    fake.rateLimit(OTHER, 60, { global: true });
    const g = await probe(OTHER);
    assert.deepEqual([g.state, g.detail], ['rate-limited', '429: rate limited (global)']);
    assert.ok(g.retry_after_s !== undefined && g.retry_after_s > 59);
  });

  it('5xx, a proxy HTML page, a hang or a refused connection → unreachable, each one request', async () => {
    fake.fail(GOOD, { status: 502 });
    assert.deepEqual(await probe(GOOD), { index: 1, state: 'unreachable', latency_ms: 5, detail: '502: Bad Gateway' });
    assert.equal(fake.callCount(GOOD, ME), 1, 'retries: 0');
    fake.outage({ status: 503, body: 'html' });
    assert.equal((await probe(OTHER)).state, 'unreachable');
    fake.outage(false);
    fake.fail(OTHER, 'hang');
    const hung = await probe(OTHER, prober({ timeoutMs: 300 }));
    assert.deepEqual([hung.state, hung.detail], ['unreachable', 'timeout after 300 ms']);
    assert.equal(fake.callCount(OTHER, ME), 2, 'the hang was asked once (plus the 503 before)');
    // A port nobody listens on (not the stopped fake's: a pooled keep-alive socket there may be reported as closed).
    const refused = await new DiscordProber({ api: `${await refusedUrl()}/api`, timeoutMs: 2_000 }).probe({ platform: 'discord', token: GOOD, index: 0 });
    probes.push(refused);
    assert.deepEqual([refused.state, refused.detail], ['unreachable', 'connection error (ECONNREFUSED)']);
  });

  it('a failing gateway/bot does not fail a healthy token (noted in the detail)', async () => {
    fake.route(GW, () => ({ status: 500, body: { message: '500: Internal Server Error', code: 0 } }));
    const r = await probe(GOOD);
    assert.equal(r.state, 'healthy');
    assert.equal(r.session_start, undefined);
    assert.equal(r.detail, '@chess-discord; gateway/bot: 500: Internal Server Error');
  });

  it('botTokenProber dispatches per platform', async () => {
    const tg = await new FakeTelegram().start();
    try {
      const tok = telegramToken('dispatch');
      tg.addToken(tok);
      const p = botTokenProber({ telegram: { apiRoot: tg.url }, discord: { api: fake.api } });
      assert.equal((await p.probe({ platform: 'telegram', token: tok, index: 0 })).state, 'healthy');
      assert.equal((await p.probe({ platform: 'discord', token: GOOD, index: 0 })).state, 'healthy');
      assert.equal(tg.callCount(tok, 'getMe'), 1);
      assert.equal(fake.callCount(GOOD, ME), 1);
    } finally {
      await tg.stop();
    }
  });
});
