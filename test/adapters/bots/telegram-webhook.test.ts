/**
 * TelegramWebhooks and TelegramPoller against the fake Telegram over real HTTP on 127.0.0.1: getWebhookInfo read,
 * setWebhook with the kept secret_token and allowed_updates / max_connections preserved (never ip_address, never
 * drop_pending_updates: checked in the fake's records), deleteWebhook for polling bots with the queue kept, ensure()
 * curing url and IP drift, delivery to the set webhook with the secret header; the poller's offset and its 409s.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TelegramPoller, TelegramWebhooks } from '../../../automation/adapters/bots';
import { CONSUMER_HEADER, FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import { fixedClock } from '../../../automation/core/clock';
import { OperationError, RefusedError, UnreachableError, UsageError } from '../../../automation/core/errors';
import { newWebhookSecret } from '../../../automation/tokens';
import { refusedUrl, telegramToken } from '../../helpers/token-fakes';

const TG = telegramToken('webhook-adapter');
const URL_B = 'https://b.bots.example.org/telegram/community';
const URL_A = 'https://a.bots.example.org/telegram/community';

describe('adapters/bots: TelegramWebhooks against the fake Telegram', () => {
  let now: number;
  let tg: FakeTelegram;
  let secret: string;
  const hooks = () => new TelegramWebhooks({ apiRoot: tg.url, timeoutMs: 2000, clock: fixedClock(() => new Date(now)) });
  const raw = async (method: string, params: Record<string, unknown>) => (await fetch(`${tg.url}/bot${TG}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) })).json();

  beforeEach(async () => {
    now = Date.parse('2026-11-22T10:00:00Z');
    tg = await new FakeTelegram({ now: () => now, webhookRetryMs: 60_000 }).start();
    tg.addToken(TG, { id: '7100000001', username: 'chess_bot' });
    secret = newWebhookSecret();
  });
  afterEach(() => tg.stop());

  it('info(): no webhook yet → url "" and the pending count', async () => {
    tg.pushUpdate(TG, { message: { text: 'x' } });
    assert.deepEqual(await hooks().info(TG), { url: '', pending_update_count: 1, has_custom_certificate: false });
  });

  it('set(): url + secret_token; allowed_updates and max_connections kept from getWebhookInfo; never ip_address or drop_pending_updates', async () => {
    await raw('setWebhook', { url: URL_A, allowed_updates: ['message', 'callback_query'], max_connections: 7, ip_address: '198.51.100.9' });
    tg.pushUpdate(TG, { message: { text: 'queued during the failover' } });
    const r = await hooks().set(TG, { url: URL_B, secretToken: secret });
    assert.deepEqual([r.url, r.secret_token_set, r.allowed_updates, r.max_connections, r.before.url], [URL_B, true, ['message', 'callback_query'], 7, URL_A]);
    const last = tg.webhookRegistrations(TG).at(-1);
    assert.deepEqual(last, { at: last?.at, method: 'setWebhook', url: URL_B, secret_token_set: true, allowed_updates: ['message', 'callback_query'], max_connections: 7, drop_pending_updates: false });
    const info = await hooks().info(TG);
    assert.equal(info.ip_address, undefined, 'the pin is gone: updates follow DNS');
    assert.equal(info.pending_update_count, 1, 'nothing dropped');
    await hooks().set(TG, { url: URL_B, secretToken: secret, allowedUpdates: ['message'] });
    assert.deepEqual(tg.webhookRegistrations(TG).at(-1)?.allowed_updates, ['message'], 'told otherwise: the given list');
  });

  it('ensure(): unchanged when right; set on url drift and on a pinned IP (judged against DNS); force after a token switch', async () => {
    await hooks().set(TG, { url: URL_B, secretToken: secret });
    const same = await hooks().ensure(TG, { expectedUrl: URL_B, secretToken: secret });
    assert.deepEqual([same.action, same.drift.drifted], ['unchanged', false]);
    await raw('setWebhook', { url: URL_A, secret_token: secret });
    const moved = await hooks().ensure(TG, { expectedUrl: URL_B, secretToken: secret });
    assert.deepEqual([moved.action, moved.drift.reasons, moved.before.url, moved.after?.url], ['set', ['url-mismatch'], URL_A, URL_B]);
    await raw('setWebhook', { url: URL_B, secret_token: secret, ip_address: '198.51.100.9' });
    const pinned = await hooks().ensure(TG, { expectedUrl: URL_B, secretToken: secret, resolvedIps: ['203.0.113.20'] });
    assert.deepEqual([pinned.action, pinned.drift.reasons], ['set', ['ip-pinned']]);
    assert.equal((await hooks().info(TG)).ip_address, undefined);
    const forced = await hooks().ensure(TG, { expectedUrl: URL_B, secretToken: secret, force: true });
    assert.equal(forced.action, 'set');
    assert.ok(tg.webhookRegistrations(TG).every((r) => !r.drop_pending_updates), 'never drop_pending_updates');
  });

  it('ensure(): a recent delivery error and a growing backlog are reported, not "fixed"', async () => {
    const dead = `${await refusedUrl()}/telegram/community`;
    await hooks().set(TG, { url: dead, secretToken: secret });
    tg.pushUpdate(TG, { message: { text: 'a' } });
    await tg.flushWebhook(TG);
    now += 60_000;
    tg.pushUpdate(TG, { message: { text: 'b' } });
    const r = await hooks().ensure(TG, { expectedUrl: dead, secretToken: secret, previousPending: 1 });
    assert.deepEqual([r.action, r.drift.reasons, r.before.last_error_message], ['unchanged', ['recent-error', 'pending-growing'], 'Connection refused']);
    assert.equal(r.drift.lastErrorAgeS, 60);
  });

  it('ensure() for a polling bot: a webhook is deleted without drop_pending_updates, the queue waits for the poller', async () => {
    await raw('setWebhook', { url: URL_A });
    tg.pushUpdate(TG, { message: { text: 'keep me' } });
    const r = await hooks().ensure(TG, { expectedUrl: '' });
    assert.deepEqual([r.action, r.drift.reasons, r.after?.url, r.after?.pending_update_count], ['deleted', ['url-mismatch'], '', 1]);
    assert.deepEqual(tg.webhookRegistrations(TG).at(-1)?.drop_pending_updates, false);
    assert.equal((await hooks().ensure(TG, { expectedUrl: '' })).action, 'unchanged');
  });

  it('delivery to the set webhook carries X-Telegram-Bot-Api-Secret-Token = the kept secret', async () => {
    const got: Array<{ secret?: string; id: number }> = [];
    const target = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        got.push({ secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined, id: (JSON.parse(body) as { update_id: number }).update_id });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/telegram/community`;
      await hooks().ensure(TG, { expectedUrl: url, secretToken: secret });
      const id = tg.pushUpdate(TG, { message: { text: 'hi' } });
      await tg.flushWebhook(TG);
      assert.deepEqual(got, [{ secret, id }]);
    } finally {
      await new Promise<void>((r) => {
        target.close(() => r());
        target.closeAllConnections();
      });
    }
  });

  it('refusals before any call: a bad secret, a webhook bot without its secret; a custom certificate is not replaced', async () => {
    await assert.rejects(hooks().set(TG, { url: URL_B, secretToken: 'not valid!' }), UsageError);
    await assert.rejects(hooks().ensure(TG, { expectedUrl: URL_B }), RefusedError);
    assert.equal(tg.callCount(TG), 0);
    tg.method('getWebhookInfo', () => ({ ok: true, result: { url: URL_A, has_custom_certificate: true, pending_update_count: 0 } }));
    await assert.rejects(hooks().set(TG, { url: URL_B, secretToken: secret }), (e: Error) => e instanceof RefusedError && /custom certificate/.test(e.message));
    assert.equal(tg.callCount(TG, 'setWebhook'), 0);
  });

  it('errors: a Bot API refusal is an OperationError with its code; no answer is an UnreachableError; no token or secret in either', async () => {
    await assert.rejects(hooks().set(TG, { url: 'http://bots.example.org/x', secretToken: secret }), (e: Error) => e instanceof OperationError && /^Telegram setWebhook: 400: Bad Request: bad webhook/.test(e.message));
    tg.revoke(TG);
    const revoked = await hooks().info(TG).catch((e: Error) => e);
    assert.ok(revoked instanceof OperationError);
    assert.equal(revoked.message, 'Telegram getWebhookInfo: 401: Unauthorized');
    assert.deepEqual(revoked.detail, { error_code: 401, description: 'Unauthorized' });
    const down = await new TelegramWebhooks({ apiRoot: await refusedUrl(), timeoutMs: 1000 }).info(TG).catch((e: Error) => e);
    assert.ok(down instanceof UnreachableError);
    assert.match(down.message, /cannot reach the Telegram Bot API \(getWebhookInfo\): connection error \(ECONNREFUSED\)/);
    for (const e of [revoked, down]) for (const s of [TG, secret]) assert.ok(!`${e.message} ${JSON.stringify(e.detail)} ${e.stack}`.includes(s));
  });
});

describe('adapters/bots: TelegramPoller against the fake Telegram', () => {
  let tg: FakeTelegram;
  beforeEach(async () => {
    tg = await new FakeTelegram().start();
    tg.addToken(TG, { id: '7100000001', username: 'chess_bot' });
  });
  afterEach(() => tg.stop());

  it('polls, confirms with the next offset, and labels itself with X-Dr-Consumer', async () => {
    assert.equal(CONSUMER_HEADER, 'x-dr-consumer');
    const a = tg.pushUpdate(TG, { message: { text: '1' } }) as number;
    tg.pushUpdate(TG, { message: { text: '2' } });
    const p = new TelegramPoller(TG, { apiRoot: tg.url, consumer: 'region-b', timeoutSeconds: 0 });
    const first = await p.poll();
    assert.equal(first.kind, 'updates');
    assert.deepEqual(first.kind === 'updates' && first.updates.map((u) => u.update_id), [a, a + 1]);
    assert.equal(p.offset, a + 2);
    assert.deepEqual(await p.poll(), { kind: 'updates', updates: [], offset: a + 2 });
    assert.deepEqual(tg.queuedUpdates(TG), [], 'the second poll confirmed them');
    assert.deepEqual(tg.consumers(TG).map((c) => [c.consumer, c.polls, c.updates_received]), [['region-b', 2, 2]]);
  });

  it('two pollers of one token: the older long poll ends with a conflict outcome; a webhook set is one too', async () => {
    const a = new TelegramPoller(TG, { apiRoot: tg.url, consumer: 'region-a', timeoutSeconds: 5 });
    const b = new TelegramPoller(TG, { apiRoot: tg.url, consumer: 'region-b', timeoutSeconds: 5 });
    const pa = a.poll();
    while (!tg.consumers(TG).some((c) => c.waiting)) await new Promise((r) => setTimeout(r, 10));
    const pb = b.poll();
    assert.deepEqual(await pa, { kind: 'conflict', reason: 'other-getUpdates', description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' });
    const id = tg.pushUpdate(TG, { message: { text: 'for b' } });
    const rb = await pb;
    assert.deepEqual(rb.kind === 'updates' && rb.updates.map((u) => u.update_id), [id]);
    await new TelegramWebhooks({ apiRoot: tg.url }).set(TG, { url: URL_B, secretToken: newWebhookSecret() });
    assert.deepEqual((await b.poll()).kind === 'conflict' && 'webhook-active', 'webhook-active');
    assert.deepEqual(tg.conflicts(TG).map((c) => [c.kind, c.consumer]), [['other-getUpdates', 'region-a'], ['webhook-active', 'region-b']]);
  });

  it('other failures throw (revoked: OperationError 401)', async () => {
    tg.revoke(TG);
    await assert.rejects(new TelegramPoller(TG, { apiRoot: tg.url, timeoutSeconds: 0 }).poll(), (e: Error) => e instanceof OperationError && e.message === 'Telegram getUpdates: 401: Unauthorized');
  });
});
