/**
 * The fake Telegram's updates and chats over raw HTTP on 127.0.0.1: one queue per bot with offset semantics, the 409s
 * (a second concurrent getUpdates ends the first, getUpdates with a webhook set, setWebhook ending a long poll),
 * updates nobody takes kept for the next consumer (24 h), webhook delivery with the secret header and Telegram's
 * error bookkeeping, and getChat / getChatMember over configured chats. Every server is stopped.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONSUMER_HEADER, FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import { CONFLICT_OTHER, CONFLICT_SETWEBHOOK, CONFLICT_WEBHOOK } from '../../../automation/adapters/rehearsal/fake-telegram-updates';
import { refusedUrl, telegramToken } from '../../helpers/token-fakes';

const TG = telegramToken('updates-tg');
const OTHER = telegramToken('updates-tg-other');
const SECRET = 'planted_Webhook-Secret_0123456789abcdef';

type Answer = { ok: boolean; result?: unknown; error_code?: number; description?: string };

/** A webhook target on 127.0.0.1 that records what it receives and answers `status`. */
class Target {
  readonly got: Array<{ body: { update_id: number }; secret?: string }> = [];
  status = 200;
  private server?: http.Server;
  url = '';
  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const h = req.headers['x-telegram-bot-api-secret-token'];
        this.got.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')), ...(typeof h === 'string' ? { secret: h } : {}) });
        res.writeHead(this.status).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/telegram/community`;
    return this;
  }
  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
  }
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('rehearsal: fake Telegram — getUpdates, one consumer per token, webhooks', () => {
  let now: number;
  let tg: FakeTelegram;
  let target: Target;
  const call = async (method: string, params: Record<string, unknown> = {}, o: { consumer?: string; signal?: AbortSignal; token?: string } = {}): Promise<Answer> => {
    const res = await fetch(`${tg.url}/bot${o.token ?? TG}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(o.consumer ? { [CONSUMER_HEADER]: o.consumer } : {}) },
      body: JSON.stringify(params),
      signal: o.signal,
    });
    const a = (await res.json()) as Answer;
    assert.equal(res.status, a.ok ? 200 : a.error_code);
    return a;
  };
  const ids = (a: Answer): number[] => (a.result as Array<{ update_id: number }>).map((u) => u.update_id);
  const msg = (text: string) => ({ message: { message_id: 1, date: 0, chat: { id: 42, type: 'private' }, text } });

  beforeEach(async () => {
    now = Date.parse('2026-11-22T10:00:00Z');
    tg = await new FakeTelegram({ now: () => now, webhookRetryMs: 60_000, webhookTimeoutMs: 500 }).start();
    tg.addToken(TG, { id: '7000000001', username: 'chess_bot' }).addToken(OTHER, { id: '7000000002', username: 'chess_backup_bot' });
    target = await new Target().start();
  });
  afterEach(async () => {
    await Promise.all([tg.stop(), target.stop()]);
  });

  it('offset confirms: updates stay queued until a later offset, then are gone', async () => {
    const [a, b, c] = [tg.pushUpdate(TG, msg('a')), tg.pushUpdate(TG, msg('b')), tg.pushUpdate(TG, msg('c'))] as number[];
    assert.deepEqual([b - a, c - b], [1, 1]);
    assert.deepEqual(ids(await call('getUpdates')), [a, b, c]);
    assert.deepEqual(ids(await call('getUpdates', { limit: 2 })), [a, b], 'not confirmed yet: returned again');
    assert.deepEqual(ids(await call('getUpdates', { offset: b })), [b, c]);
    assert.deepEqual(ids(await call('getUpdates', { offset: c + 1 })), []);
    assert.deepEqual(tg.queuedUpdates(TG), []);
    assert.deepEqual(tg.queuedUpdates(OTHER), [], 'queues are per bot');
    const st = tg.updateStats(TG);
    assert.deepEqual([st.pushed, st.confirmed, st.pending, st.conflicts], [3, 3, 0, 0]);
  });

  it('updates nobody takes are kept for the next consumer (a consumer that never confirmed leaves them); 24 h then expire', async () => {
    const first = tg.pushUpdate(TG, msg('while region a was down')) as number;
    tg.pushUpdate(TG, msg('second'));
    assert.equal(ids(await call('getUpdates', {}, { consumer: 'region-a' })).length, 2);
    const b = await call('getUpdates', { offset: 0 }, { consumer: 'region-b' });
    assert.deepEqual(ids(b), [first, first + 1]);
    await call('getUpdates', { offset: first + 2 }, { consumer: 'region-b' });
    assert.deepEqual(tg.consumers(TG).map((c) => [c.consumer, c.polls, c.updates_received, c.conflicts]), [['region-a', 1, 2, 0], ['region-b', 2, 2, 0]]);
    tg.pushUpdate(TG, msg('old'));
    now += 24 * 3_600_000 + 1;
    assert.equal(tg.webhookInfo(TG).pending_update_count, 0);
    assert.equal(tg.updateStats(TG).expired, 1);
  });

  it('a negative offset keeps only the last |offset| updates', async () => {
    for (const t of ['1', '2', '3', '4']) tg.pushUpdate(TG, msg(t));
    const last = ids(await call('getUpdates', { offset: -2 }));
    assert.equal(last.length, 2);
    assert.deepEqual(ids(await call('getUpdates')), last);
  });

  it('a long poll waits and is woken by a pushed update; an empty timeout answers []', async () => {
    const t0 = Date.now();
    assert.deepEqual((await call('getUpdates', { timeout: 1 })).result, []);
    assert.ok(Date.now() - t0 >= 900, 'the long poll waited about its timeout');
    const poll = call('getUpdates', { timeout: 5 }, { consumer: 'region-b' });
    await until(() => tg.consumers(TG).some((c) => c.waiting));
    const id = tg.pushUpdate(TG, msg('hello'));
    assert.deepEqual(ids(await poll), [id]);
  });

  it('409 for two concurrent consumers: the newer getUpdates ends the waiting one, as Telegram does', async () => {
    const a = call('getUpdates', { timeout: 5 }, { consumer: 'region-a' });
    await until(() => tg.consumers(TG).some((c) => c.consumer === 'region-a' && c.waiting));
    const b = call('getUpdates', { timeout: 5 }, { consumer: 'region-b' });
    const ended = await a;
    assert.deepEqual(ended, { ok: false, error_code: 409, description: CONFLICT_OTHER });
    assert.equal(CONFLICT_OTHER, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
    const id = tg.pushUpdate(TG, msg('to b'));
    assert.deepEqual(ids(await b), [id]);
    assert.deepEqual(tg.conflicts(TG).map((c) => [c.kind, c.consumer, c.by]), [['other-getUpdates', 'region-a', 'region-b']]);
    const stats = Object.fromEntries(tg.consumers(TG).map((c) => [c.consumer, c.conflicts]));
    assert.deepEqual(stats, { 'region-a': 1, 'region-b': 0 });
    assert.equal(tg.updateStats(TG).conflicts, 1);
  });

  it('a poll whose client hangs up stops waiting without a conflict', async () => {
    const ac = new AbortController();
    const gone = call('getUpdates', { timeout: 5 }, { consumer: 'region-a', signal: ac.signal }).catch(() => 'aborted');
    await until(() => tg.consumers(TG).some((c) => c.waiting));
    ac.abort();
    assert.equal(await gone, 'aborted');
    await until(() => !tg.consumers(TG).some((c) => c.waiting));
    assert.deepEqual((await call('getUpdates', {}, { consumer: 'region-b' })).result, []);
    assert.deepEqual(tg.conflicts(TG), []);
  });

  it('getUpdates with a webhook set answers 409; setWebhook ends a waiting poll with 409', async () => {
    const waiting = call('getUpdates', { timeout: 5 }, { consumer: 'region-a' });
    await until(() => tg.consumers(TG).some((c) => c.waiting));
    assert.deepEqual(await call('setWebhook', { url: target.url, secret_token: SECRET }), { ok: true, result: true, description: 'Webhook was set' });
    assert.deepEqual(await waiting, { ok: false, error_code: 409, description: CONFLICT_SETWEBHOOK });
    assert.deepEqual(await call('getUpdates', {}, { consumer: 'region-a' }), { ok: false, error_code: 409, description: CONFLICT_WEBHOOK });
    const a = tg.consumers(TG).find((c) => c.consumer === 'region-a');
    assert.deepEqual([a?.terminated_by_setwebhook, a?.webhook_conflicts], [1, 1]);
    assert.deepEqual(tg.conflicts(TG).map((c) => c.kind), ['setWebhook', 'webhook-active']);
    assert.deepEqual(await call('deleteWebhook'), { ok: true, result: true, description: 'Webhook was deleted' });
    assert.deepEqual((await call('getUpdates')).result, []);
  });

  it('webhook delivery: in order, with X-Telegram-Bot-Api-Secret-Token, confirmed by a 2xx; recorded', async () => {
    assert.ok((await call('setWebhook', { url: target.url, secret_token: SECRET, allowed_updates: ['message'] })).ok);
    const a = tg.pushUpdate(TG, msg('one')) as number;
    const b = tg.pushUpdate(TG, msg('two')) as number;
    await until(() => target.got.length === 2);
    assert.deepEqual(target.got.map((g) => [g.body.update_id, g.secret]), [[a, SECRET], [b, SECRET]]);
    await until(() => tg.updateStats(TG).delivered_webhook === 2);
    const info = tg.webhookInfo(TG);
    assert.deepEqual(info, { url: target.url, has_custom_certificate: false, pending_update_count: 0, ip_address: '127.0.0.1', max_connections: 40, allowed_updates: ['message'] });
    assert.deepEqual(tg.webhookDeliveries(TG).map((d) => [d.update_id, d.ok, d.status]), [[a, true, 200], [b, true, 200]]);
    const regs = tg.webhookRegistrations(TG);
    assert.deepEqual(regs.map((r) => [r.method, r.url, r.secret_token_set, r.drop_pending_updates, r.ip_address]), [['setWebhook', target.url, true, false, undefined]]);
    assert.ok(!JSON.stringify({ regs, d: tg.webhookDeliveries(TG), info, c: tg.consumers(TG) }).includes(SECRET), 'the secret is never in a record');
    assert.equal(tg.pushUpdate(TG, { callback_query: { id: 'x' } }), undefined, 'outside allowed_updates: not queued');
    assert.equal(tg.updateStats(TG).filtered, 1);
  });

  it('a failing webhook keeps the update pending with last_error_date / last_error_message, as Telegram reports them', async () => {
    target.status = 500;
    await call('setWebhook', { url: target.url, secret_token: SECRET });
    tg.pushUpdate(TG, msg('lost?'));
    await until(() => tg.updateStats(TG).webhook_failures === 1);
    let info = (await call('getWebhookInfo')).result as Record<string, unknown>;
    assert.deepEqual([info.pending_update_count, info.last_error_date, info.last_error_message], [1, Math.floor(now / 1000), 'Wrong response from the webhook: 500 Internal Server Error']);
    target.status = 200;
    now += 60_000;
    await tg.flushWebhook(TG);
    info = (await call('getWebhookInfo')).result as Record<string, unknown>;
    assert.equal(info.pending_update_count, 0);
    assert.equal(info.last_error_message, 'Wrong response from the webhook: 500 Internal Server Error', 'the last error stays reported');
    assert.deepEqual(tg.webhookDeliveries(TG).map((d) => d.ok), [false, true]);
  });

  it('an unreachable webhook: "Connection refused"; the update waits for the next consumer after deleteWebhook', async () => {
    const dead = `${await refusedUrl()}/telegram/community`;
    await call('setWebhook', { url: dead });
    const id = tg.pushUpdate(TG, msg('stays'));
    await until(() => tg.updateStats(TG).webhook_failures === 1);
    assert.equal(tg.webhookInfo(TG).last_error_message, 'Connection refused');
    await call('deleteWebhook');
    assert.deepEqual(ids(await call('getUpdates', {}, { consumer: 'region-b' })), [id], 'deleteWebhook without drop_pending_updates keeps the queue');
  });

  it('setWebhook refuses what Telegram refuses; drop_pending_updates and ip_address are honoured and recorded', async () => {
    assert.deepEqual(await call('setWebhook', { url: 'http://bots.example.org/telegram/community' }), { ok: false, error_code: 400, description: 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook' });
    assert.deepEqual(await call('setWebhook', { url: target.url, secret_token: 'has space' }), { ok: false, error_code: 400, description: 'Bad Request: secret token contains unallowed characters' });
    assert.equal((await call('setWebhook', { url: target.url, secret_token: 'x'.repeat(257) })).ok, false);
    assert.equal((await call('setWebhook', { url: target.url, max_connections: 101 })).ok, false);
    await call('setWebhook', { url: 'https://bots.example.org/telegram/community', ip_address: '198.51.100.7' });
    assert.equal(tg.webhookInfo(TG).ip_address, '198.51.100.7');
    assert.equal((await call('setWebhook', { url: 'https://bots.example.org/telegram/community', ip_address: '198.51.100.7' })).description, 'Webhook is already set');
    tg.pushUpdate(TG, msg('dropped'));
    await call('deleteWebhook', { drop_pending_updates: true });
    assert.deepEqual([tg.updateStats(TG).dropped, tg.updateStats(TG).pending], [1, 0]);
    assert.deepEqual(tg.webhookRegistrations(TG).map((r) => [r.method, r.ip_address, r.drop_pending_updates]), [
      ['setWebhook', '198.51.100.7', false],
      ['setWebhook', '198.51.100.7', false],
      ['deleteWebhook', undefined, true],
    ]);
    assert.equal((await call('deleteWebhook')).description, 'Webhook is already deleted');
  });

  it('allowed_updates: the default leaves out chat_member; getUpdates sets it for later updates', async () => {
    assert.equal(tg.pushUpdate(TG, { chat_member: {} }), undefined);
    assert.notEqual(tg.pushUpdate(TG, { my_chat_member: {} }), undefined);
    await call('getUpdates', { allowed_updates: JSON.stringify(['chat_member']) });
    assert.notEqual(tg.pushUpdate(TG, { chat_member: {} }), undefined);
    assert.equal(tg.pushUpdate(TG, msg('now filtered')), undefined);
  });

  it('stop() ends a waiting long poll and is safe with a delivery retry pending', async () => {
    target.status = 503;
    const poll = call('getUpdates', { timeout: 30 }, { token: OTHER }).then(
      () => 'answered',
      () => 'failed',
    );
    await until(() => tg.consumers(OTHER).some((c) => c.waiting));
    await call('setWebhook', { url: target.url });
    tg.pushUpdate(TG, msg('x'));
    await until(() => tg.updateStats(TG).webhook_failures === 1);
    await tg.stop();
    assert.ok(['answered', 'failed'].includes(await poll));
  });
});

describe('rehearsal: fake Telegram — getChat / getChatMember over configured chats', () => {
  let tg: FakeTelegram;
  const get = async (method: string, params: Record<string, unknown>, token = TG): Promise<Answer> => (await fetch(`${tg.url}/bot${token}/${method}?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`)).json() as Promise<Answer>;
  beforeEach(async () => {
    tg = await new FakeTelegram().start();
    tg.addToken(TG, { id: '7000000001', username: 'chess_bot' }).addToken(OTHER, { id: '7000000002', username: 'chess_backup_bot' });
    tg.setChat({ id: -1001000000001, type: 'channel', title: 'Course files' })
      .setChat({ id: -1001000000002, type: 'supergroup', title: 'Volunteers', username: 'chess_volunteers' })
      .setChatMember(-1001000000001, { token: TG }, { status: 'administrator', can_post_messages: true, can_delete_messages: true })
      .setChatMember(-1001000000002, { token: OTHER }, { status: 'kicked' });
  });
  afterEach(() => tg.stop());

  it('getChat: the type; chat not found for unknown and private-and-not-a-member; 403 when kicked', async () => {
    assert.deepEqual(await get('getChat', { chat_id: -1001000000001 }), { ok: true, result: { id: -1001000000001, type: 'channel', title: 'Course files', accent_color_id: 0, max_reaction_count: 11 } });
    assert.deepEqual(await get('getChat', { chat_id: -1009 }), { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
    assert.deepEqual(await get('getChat', { chat_id: -1001000000001 }, OTHER), { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
    assert.deepEqual(await get('getChat', { chat_id: '@chess_volunteers' }, OTHER), { ok: false, error_code: 403, description: 'Forbidden: bot was kicked from the supergroup chat' });
    assert.equal(((await get('getChat', { chat_id: '@chess_volunteers' })).result as { type: string }).type, 'supergroup', 'a public chat is visible to a non-member');
  });

  it('getChatMember: every right of an administrator, left for a non-member, rights changed by the control methods', async () => {
    const m = (await get('getChatMember', { chat_id: -1001000000001, user_id: 7000000001 })).result as Record<string, unknown>;
    assert.equal(m.status, 'administrator');
    assert.deepEqual([m.can_post_messages, m.can_delete_messages, m.can_edit_messages, m.can_invite_users], [true, true, false, false]);
    assert.deepEqual(m.user, { id: 7000000001, is_bot: true, first_name: 'chess_bot', username: 'chess_bot' });
    assert.equal(((await get('getChatMember', { chat_id: '@chess_volunteers', user_id: 7000000001 })).result as { status: string }).status, 'left');
    tg.setChatMember(-1001000000001, { token: TG }, { status: 'administrator', can_post_messages: true });
    assert.equal(((await get('getChatMember', { chat_id: -1001000000001, user_id: 7000000001 })).result as Record<string, unknown>).can_delete_messages, false);
    tg.setChatMember('@chess_volunteers', { userId: '7000000001' }, { status: 'restricted', is_member: true, can_send_messages: false });
    const r = (await get('getChatMember', { chat_id: -1001000000002, user_id: 7000000001 })).result as Record<string, unknown>;
    assert.deepEqual([r.status, r.is_member, r.can_send_messages, r.until_date], ['restricted', true, false, 0]);
    assert.throws(() => tg.setChatMember(-5, { token: TG }, { status: 'member' }), /no chat -5/);
  });
});
