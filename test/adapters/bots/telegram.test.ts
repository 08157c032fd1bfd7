/**
 * TelegramProber (grammY `getMe`) against the fake Bot API over real HTTP on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { TelegramProber } from '../../../automation/adapters/bots';
import { FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import type { TokenProbe } from '../../../automation/tokens';
import { refusedUrl, steppingClock, telegramToken } from '../../helpers/token-fakes';

const GOOD = telegramToken('tg-good');
const OTHER = telegramToken('tg-other');
const UNKNOWN = telegramToken('tg-unknown');

describe('adapters/bots: TelegramProber against the fake Bot API', () => {
  let fake: FakeTelegram;
  let probes: TokenProbe[];
  const prober = (timeoutMs = 2_000) => new TelegramProber({ apiRoot: fake.url, timeoutMs, clock: steppingClock(7) });
  const probe = async (token: string, p = prober()) => {
    const r = await p.probe({ platform: 'telegram', token, index: 3 });
    probes.push(r);
    return r;
  };

  beforeEach(async () => {
    fake = await new FakeTelegram().start();
    fake.addToken(GOOD, { username: 'chess_bot' }).addToken(OTHER);
    probes = [];
  });
  afterEach(async () => {
    await fake.stop();
    // Whatever happened, no probe result carries a token.
    const text = JSON.stringify(probes);
    for (const t of [GOOD, OTHER, UNKNOWN]) assert.ok(!text.includes(t), 'a token leaked into a probe result');
  });

  it('healthy: one getMe on /bot<token>/getMe, latency from the injected clock', async () => {
    const r = await probe(GOOD);
    assert.deepEqual(r, { index: 3, state: 'healthy', latency_ms: 7, detail: '@chess_bot' });
    assert.deepEqual(fake.calls(GOOD), { getMe: 1 });
    assert.equal(fake.callCount(OTHER), 0);
  });

  it('401 for a revoked or unknown token → revoked', async () => {
    fake.revoke(GOOD);
    assert.deepEqual(await probe(GOOD), { index: 3, state: 'revoked', latency_ms: 7, detail: '401: Unauthorized' });
    assert.equal((await probe(UNKNOWN)).state, 'revoked');
    assert.equal(fake.callCount(UNKNOWN, 'getMe'), 1);
  });

  it('403 → revoked', async () => {
    fake.method('getMe', () => ({ ok: false, error_code: 403, description: 'Forbidden: bot was deactivated' }));
    assert.deepEqual(await probe(GOOD), { index: 3, state: 'revoked', latency_ms: 7, detail: '403: Forbidden: bot was deactivated' });
  });

  it('429 → rate-limited with parameters.retry_after', async () => {
    fake.rateLimit(GOOD, 30);
    const r = await probe(GOOD);
    assert.equal(r.state, 'rate-limited');
    assert.equal(r.retry_after_s, 30);
    assert.equal(r.detail, '429: Too Many Requests: retry after 30');
    assert.equal(fake.callCount(GOOD), 1, 'no retry inside the probe');
  });

  it('5xx (JSON envelope or a proxy HTML page) → unreachable', async () => {
    fake.fail(GOOD, { status: 500 });
    assert.deepEqual(await probe(GOOD), { index: 3, state: 'unreachable', latency_ms: 7, detail: '500: Internal Server Error' });
    fake.outage(true);
    const r = await probe(OTHER);
    assert.equal(r.state, 'unreachable');
    assert.match(r.detail ?? '', /not the Bot API JSON/);
  });

  it('a hanging server → unreachable after the timeout; a reset or refused connection → unreachable', async () => {
    fake.fail(GOOD, 'hang');
    const t0 = Date.now();
    const r = await probe(GOOD, prober(300));
    assert.deepEqual([r.state, r.detail], ['unreachable', 'timeout after 300 ms']);
    assert.ok(Date.now() - t0 < 2_000);
    fake.fail(OTHER, 'reset');
    const reset = await probe(OTHER);
    assert.deepEqual([reset.state, reset.detail], ['unreachable', 'connection error (ECONNRESET)']);
    const refused = await new TelegramProber({ apiRoot: await refusedUrl(), timeoutMs: 2_000 }).probe({ platform: 'telegram', token: GOOD, index: 0 });
    probes.push(refused);
    assert.deepEqual([refused.state, refused.detail], ['unreachable', 'connection error (ECONNREFUSED)']);
  });

  it('a token that is not <digits>:<chars> gets 404 from the Bot API → failing (after N probes, not at once)', async () => {
    const r = await probe('not-a-telegram-token-at-all');
    assert.deepEqual([r.state, r.detail], ['failing', '404: Not Found']);
  });

  it('refuses a token of another platform', async () => {
    await assert.rejects(prober().probe({ platform: 'discord', token: GOOD, index: 0 }), /cannot probe a discord token/);
    assert.equal(fake.callCount(GOOD), 0);
  });
});
