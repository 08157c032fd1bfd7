/**
 * The fake platform servers answer like the real APIs (paths, envelopes, error bodies, rate-limit headers), count
 * calls per token, and stop cleanly even with a request hanging. Raw HTTP on 127.0.0.1 (Node's fetch).
 */
import assert from 'node:assert/strict';
import { FakeDiscord } from '../../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import { discordToken, telegramToken } from '../../helpers/token-fakes';

const TG = telegramToken('fake-tg');
const DC = discordToken('fake-dc');

async function json(res: Response): Promise<unknown> {
  return JSON.parse(await res.text());
}

describe('rehearsal: fake Telegram Bot API', () => {
  let tg: FakeTelegram;
  beforeEach(async () => {
    tg = await new FakeTelegram().start();
    tg.addToken(TG, { id: '4242', username: 'fake_chess_bot' });
  });
  afterEach(() => tg.stop());

  it('listens on 127.0.0.1 and answers getMe with the {ok, result} envelope (GET or POST)', async () => {
    assert.match(tg.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${tg.url}/bot${TG}/getMe`);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { ok: true, result: { id: 4242, is_bot: true, first_name: 'fake_chess_bot', username: 'fake_chess_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } });
    await fetch(`${tg.url}/bot${TG}/getMe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.deepEqual(tg.calls(TG), { getMe: 2 });
  });

  it('error envelopes: 401 unknown/revoked, 429 with parameters.retry_after, 404 for a bad path or method', async () => {
    const other = telegramToken('fake-tg-unknown');
    assert.deepEqual(await json(await fetch(`${tg.url}/bot${other}/getMe`)), { ok: false, error_code: 401, description: 'Unauthorized' });
    tg.rateLimit(TG, 17);
    const limited = await fetch(`${tg.url}/bot${TG}/getMe`);
    assert.equal(limited.status, 429);
    assert.deepEqual(await json(limited), { ok: false, error_code: 429, description: 'Too Many Requests: retry after 17', parameters: { retry_after: 17 } });
    tg.clearRateLimit(TG).revoke(TG);
    assert.equal((await fetch(`${tg.url}/bot${TG}/getMe`)).status, 401);
    tg.restore(TG);
    assert.deepEqual(await json(await fetch(`${tg.url}/bot${TG}/noSuchMethod`)), { ok: false, error_code: 404, description: 'Not Found: method not found' });
    assert.equal((await fetch(`${tg.url}/getMe`)).status, 404);
    assert.equal(tg.callCount(TG), 3);
    assert.equal(tg.callCount(TG, 'noSuchMethod'), 1);
  });

  it('faults per token and platform-wide; a rate limit expires on the fake clock', async () => {
    let now = 1_000_000;
    const timed = await new FakeTelegram({ now: () => now }).start();
    try {
      timed.addToken(TG).rateLimit(TG, 5);
      assert.equal((await fetch(`${timed.url}/bot${TG}/getMe`)).status, 429);
      now += 5_001;
      assert.equal((await fetch(`${timed.url}/bot${TG}/getMe`)).status, 200);
      timed.fail(TG, { status: 500 });
      assert.deepEqual(await json(await fetch(`${timed.url}/bot${TG}/getMe`)), { ok: false, error_code: 500, description: 'Internal Server Error' });
      timed.heal(TG).outage(true);
      const page = await fetch(`${timed.url}/bot${TG}/getMe`);
      assert.equal(page.status, 502);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await page.text(), /502 Bad Gateway/);
    } finally {
      await timed.stop();
    }
  });

  it('methods are a table: issue 11 adds its own (form parameters reach the handler)', async () => {
    tg.method('getChatMember', ({ params }) => ({ ok: true, result: { status: 'administrator', user: { id: Number(params.user_id) }, can_post_messages: true } }));
    const res = await fetch(`${tg.url}/bot${TG}/getChatMember`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'chat_id=-100&user_id=4242' });
    assert.deepEqual(await json(res), { ok: true, result: { status: 'administrator', user: { id: 4242 }, can_post_messages: true } });
  });

  it('stop() ends hanging requests and is safe twice', async () => {
    tg.fail(TG, 'hang');
    const pending = fetch(`${tg.url}/bot${TG}/getMe`).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((r) => setTimeout(r, 50));
    await tg.stop();
    assert.equal(await pending, 'failed');
    await tg.stop();
    assert.throws(() => tg.url, /not started/);
  });
});

describe('rehearsal: fake Discord API', () => {
  let dc: FakeDiscord;
  const get = (path: string, token?: string) => fetch(`${dc.api}/v10${path}`, { headers: token ? { authorization: `Bot ${token}` } : {} });
  beforeEach(async () => {
    dc = await new FakeDiscord().start();
    dc.addToken(DC, { id: '1100000000000000042', username: 'fake-chess' });
  });
  afterEach(() => dc.stop());

  it('users/@me and gateway/bot under /api/v10 with Authorization: Bot <token>', async () => {
    const me = (await json(await get('/users/@me', DC))) as Record<string, unknown>;
    assert.deepEqual([me.id, me.username, me.bot], ['1100000000000000042', 'fake-chess', true]);
    dc.setSessionStartLimit(DC, { remaining: 7 });
    assert.deepEqual(await json(await get('/gateway/bot', DC)), { url: 'wss://gateway.discord.gg', shards: 1, session_start_limit: { total: 1000, remaining: 7, reset_after: 86_400_000, max_concurrency: 1 } });
    assert.deepEqual(dc.calls(DC), { 'GET /users/@me': 1, 'GET /gateway/bot': 1 });
  });

  it("Discord's error bodies: 401 without/with a bad token, 404 off the route table or the version prefix", async () => {
    assert.deepEqual(await json(await get('/users/@me')), { message: '401: Unauthorized', code: 0 });
    assert.equal((await get('/users/@me', discordToken('nobody'))).status, 401);
    assert.equal((await fetch(`${dc.api}/v10/users/@me`, { headers: { authorization: DC } })).status, 401, 'the Bot prefix is required');
    assert.deepEqual(await json(await get('/nothing/here', DC)), { message: '404: Not Found', code: 0 });
    assert.equal((await fetch(`${dc.url}/v10/users/@me`, { headers: { authorization: `Bot ${DC}` } })).status, 404, 'the API lives under /api');
  });

  it('429: body { message, retry_after, global } and the Retry-After / X-RateLimit-Scope / -Global headers', async () => {
    dc.rateLimit(DC, 1.25);
    const res = await get('/users/@me', DC);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '2');
    assert.equal(res.headers.get('x-ratelimit-scope'), 'user');
    assert.equal(res.headers.get('x-ratelimit-global'), null);
    const body = (await json(res)) as { message: string; retry_after: number; global: boolean };
    assert.equal(body.message, 'You are being rate limited.');
    assert.equal(body.global, false);
    assert.ok(body.retry_after > 1 && body.retry_after <= 1.25);
    dc.rateLimit(DC, 3, { global: true });
    const g = await get('/users/@me', DC);
    assert.equal(g.headers.get('x-ratelimit-global'), 'true');
    assert.equal(g.headers.get('x-ratelimit-scope'), 'global');
    assert.equal(((await json(g)) as { global: boolean }).global, true);
  });

  it('routes are a table with :params (issue 11: guild roles, channel overwrites, applications/@me)', async () => {
    dc.route('GET /guilds/:guild/roles', ({ params }) => ({ status: 200, body: [{ id: params.guild, name: '@everyone', permissions: '1024' }] }));
    assert.deepEqual(await json(await get('/guilds/555/roles', DC)), [{ id: '555', name: '@everyone', permissions: '1024' }]);
    assert.equal(dc.callCount(DC, 'GET /guilds/:guild/roles'), 1);
    dc.fail(DC, { status: 500 });
    assert.deepEqual(await json(await get('/guilds/555/roles', DC)), { message: '500: Internal Server Error', code: 0 });
  });
});
