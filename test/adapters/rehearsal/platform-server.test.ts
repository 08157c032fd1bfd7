/**
 * The platform server: both fakes plus the control API on 127.0.0.1, driven through PlatformControl over real HTTP
 * while the adapters talk to the fakes — push an update and poll it, change a chat membership or a Discord overwrite
 * and see the rights check change, read consumers, conflicts, webhook registrations and queued updates. The control
 * API needs its key, refuses malformed ops with 400, and never returns a token.
 */
import assert from 'node:assert/strict';
import { PermissionFlagsBits as P } from 'discord-api-types/v10';
import { DiscordPermissions, TelegramPermissions, TelegramPoller, TelegramWebhooks } from '../../../automation/adapters/bots';
import { CONTROL_KEY_HEADER, parsePlatformReadyLine, PlatformControl, platformReadyLine, PlatformServer } from '../../../automation/adapters/rehearsal/platform-server';
import { UsageError } from '../../../automation/core/errors';
import { newWebhookSecret } from '../../../automation/tokens';
import { discordToken, telegramToken } from '../../helpers/token-fakes';

const TG = telegramToken('platform-server-tg');
const DC = discordToken('platform-server-dc');
const CHAT = '-1001300000001';
const G = '500000000000000001';
const CH = '500000000000000101';
const ROLE = '500000000000000201';

describe('rehearsal: the platform server (both fakes + the control API)', () => {
  let server: PlatformServer;
  let control: PlatformControl;
  const results: unknown[] = [];
  const op = async <T>(o: Parameters<PlatformControl['op']>[0]): Promise<T> => {
    const r = await control.op<T>(o);
    results.push(r);
    return r;
  };

  beforeEach(async () => {
    server = await new PlatformServer({ discord: { verifyInteractions: false } }).start();
    const ready = parsePlatformReadyLine(platformReadyLine(server));
    control = new PlatformControl(ready.control, ready.control_key);
    await op({ op: 'addToken', platform: 'telegram', token: TG, id: '7300000001', username: 'chess_bot' });
    await op({ op: 'addToken', platform: 'discord', token: DC, id: '1100000000000000300', username: 'chess-discord' });
  });
  afterEach(async () => {
    await server.stop();
    await server.stop();
    const text = JSON.stringify(results);
    for (const t of [TG, DC, server.controlKey]) assert.ok(!text.includes(t), 'a secret in a control result');
  });

  it('three listeners on 127.0.0.1; the ready line carries the URLs and the key', () => {
    const u = server.urls;
    assert.ok([u.telegram, u.discord_api, u.control].every((x) => /^http:\/\/127\.0\.0\.1:\d+/.test(x)));
    assert.equal(new Set([u.telegram, u.discord_api.replace(/\/api$/, ''), u.control]).size, 3);
    assert.deepEqual(parsePlatformReadyLine(platformReadyLine(server)), { ...u, control_key: server.controlKey });
    assert.throws(() => parsePlatformReadyLine('listening'), UsageError);
  });

  it('the control API: 401 without the key, 404 elsewhere, 400 for non-JSON, unknown and malformed ops', async () => {
    const post = (body: string, headers: Record<string, string> = { [CONTROL_KEY_HEADER]: server.controlKey }, path = '/control') => fetch(`${server.urls.control}${path}`, { method: 'POST', headers, body });
    assert.equal((await post('{"op":"urls"}', {})).status, 401);
    assert.equal((await post('{"op":"urls"}', { [CONTROL_KEY_HEADER]: 'wrong' })).status, 401);
    assert.equal((await post('{"op":"urls"}', undefined, '/other')).status, 404);
    assert.equal((await post('not json')).status, 400);
    await assert.rejects(control.op({ op: 'nope' } as never), /control op 'nope': unknown op/);
    await assert.rejects(control.op({ op: 'pushUpdate', update: {} } as never), /'token' must be a non-empty string/);
    await assert.rejects(control.op({ op: 'revoke', platform: 'slack', token: TG } as never), /'platform' must be telegram or discord/);
    await assert.rejects(control.op({ op: 'consumers', token: telegramToken('never-added') }), (e: Error) => e instanceof UsageError && /unknown token/.test(e.message) && !e.message.includes(telegramToken('never-added')));
    assert.deepEqual(await op({ op: 'urls' }), { telegram: server.urls.telegram, discord_api: server.urls.discord_api });
  });

  it('Telegram: push updates, poll them as region-b, read consumers / conflicts / queue / webhook registrations', async () => {
    const id = await control.pushUpdate(TG, { message: { text: 'hello from a user' } });
    assert.equal(typeof id, 'number');
    assert.deepEqual((await op<Array<{ update_id: number }>>({ op: 'queuedUpdates', token: TG })).map((u) => u.update_id), [id]);
    const poller = new TelegramPoller(TG, { apiRoot: server.urls.telegram, consumer: 'region-b', timeoutSeconds: 0 });
    const got = await poller.poll();
    assert.deepEqual(got.kind === 'updates' && got.updates.map((u) => u.update_id), [id]);
    await poller.poll();
    assert.deepEqual(await op({ op: 'queuedUpdates', token: TG }), []);
    const consumers = await op<Array<{ consumer: string; updates_received: number; conflicts: number }>>({ op: 'consumers', token: TG });
    assert.deepEqual(consumers.map((c) => [c.consumer, c.updates_received, c.conflicts]), [['region-b', 1, 0]]);
    assert.deepEqual(await op({ op: 'conflicts', token: TG }), []);
    await new TelegramWebhooks({ apiRoot: server.urls.telegram }).set(TG, { url: 'https://b.bots.example.org/telegram/community', secretToken: newWebhookSecret() });
    const regs = await op<Array<Record<string, unknown>>>({ op: 'webhookRegistrations', token: TG });
    assert.deepEqual(regs.map((r) => [r.url, r.secret_token_set, r.ip_address, r.drop_pending_updates]), [['https://b.bots.example.org/telegram/community', true, undefined, false]]);
    assert.equal((await poller.poll()).kind, 'conflict');
    assert.deepEqual((await op<Array<{ kind: string }>>({ op: 'conflicts', token: TG })).map((c) => c.kind), ['webhook-active']);
    assert.equal((await op<{ conflicts: number }>({ op: 'updateStats', token: TG })).conflicts, 1);
    assert.equal((await op<{ url: string }>({ op: 'webhookInfo', token: TG })).url, 'https://b.bots.example.org/telegram/community');
  });

  it('Telegram: a membership changed through the control API changes the rights check', async () => {
    await op({ op: 'setChat', chat: { id: Number(CHAT), type: 'channel', title: 'Course files' } });
    await control.setChatMember(CHAT, { token: TG }, { status: 'administrator', can_post_messages: true, can_delete_messages: true });
    const check = () => new TelegramPermissions({ apiRoot: server.urls.telegram }).check(TG, [CHAT]);
    assert.equal((await check()).channels[0].state, 'ok');
    await control.setChatMember(CHAT, { token: TG }, { status: 'administrator', can_post_messages: true });
    assert.deepEqual((await check()).channels[0].missing, ['can_delete_messages']);
    await op({ op: 'removeChatMember', chat: CHAT, who: { token: TG } });
    assert.equal((await check()).channels[0].status, 'not-found');
  });

  it('Discord: roles and overwrites changed through the control API change the rights check; the endpoint is readable', async () => {
    await op({ op: 'setGuild', guild: { id: G, everyone: String(P.ViewChannel | P.SendMessages | P.ReadMessageHistory), roles: [] } });
    await op({ op: 'setMember', guildId: G, who: { token: DC }, member: { roles: [ROLE] } });
    await op({ op: 'setChannel', channel: { id: CH, guild_id: G, name: 'course-files' } });
    const check = async () => (await new DiscordPermissions({ api: server.urls.discord_api }).check(DC, [`${G}/${CH}`])).channels[0];
    assert.deepEqual((await check()).missing, ['AttachFiles']);
    await control.setRoles(G, [{ id: ROLE, name: 'Files', permissions: String(P.AttachFiles) }]);
    assert.equal((await check()).state, 'ok');
    await control.setOverwrites(CH, [{ id: ROLE, type: 0, deny: String(P.AttachFiles) }]);
    assert.match((await check()).action ?? '', /Attach Files is denied by the channel's overwrite for role "Files"/);
    await op({ op: 'setInteractionsEndpoint', token: DC, url: 'https://a.bots.example.org/discord/interactions' });
    const app = await op<{ interactions_endpoint_url: string; verify_key: string }>({ op: 'application', token: DC });
    assert.equal(app.interactions_endpoint_url, 'https://a.bots.example.org/discord/interactions');
    assert.deepEqual(await op({ op: 'applicationPatches', token: DC }), []);
  });

  it('token controls for both platforms: revoke, rate limit, faults, calls', async () => {
    await op({ op: 'revoke', platform: 'telegram', token: TG });
    assert.equal((await fetch(`${server.urls.telegram}/bot${TG}/getMe`)).status, 401);
    await op({ op: 'restore', platform: 'telegram', token: TG });
    await op({ op: 'rateLimit', platform: 'discord', token: DC, seconds: 30 });
    assert.equal((await fetch(`${server.urls.discord_api}/v10/users/@me`, { headers: { authorization: `Bot ${DC}` } })).status, 429);
    await op({ op: 'clearRateLimit', platform: 'discord', token: DC });
    await op({ op: 'fail', platform: 'telegram', token: TG, fault: { status: 500 } });
    assert.equal((await fetch(`${server.urls.telegram}/bot${TG}/getMe`)).status, 500);
    await op({ op: 'heal', platform: 'telegram', token: TG });
    await op({ op: 'outage', platform: 'discord', fault: true });
    assert.equal((await fetch(`${server.urls.discord_api}/v10/users/@me`, { headers: { authorization: `Bot ${DC}` } })).status, 502);
    await op({ op: 'outage', platform: 'discord', fault: false });
    assert.deepEqual(await op({ op: 'calls', platform: 'telegram', token: TG }), { getMe: 2 });
  });
});
