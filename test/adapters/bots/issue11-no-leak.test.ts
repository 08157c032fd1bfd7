/**
 * Planted tokens and a planted webhook secret_token appear in no result and no error of the issue 11 adapters, the
 * pure rules or the fakes' records — on success, on every failure path, and when the platform itself echoes the
 * token or the secret back in an error description (the adapters scrub what they did not write).
 */
import assert from 'node:assert/strict';
import { checkPermissions, DiscordInteractions, DiscordPermissions, TelegramPermissions, TelegramPoller, TelegramWebhooks } from '../../../automation/adapters/bots';
import { FakeDiscord } from '../../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import { PlatformServer } from '../../../automation/adapters/rehearsal/platform-server';
import { webhookDrift } from '../../../automation/tokens';
import { discordToken, refusedUrl, telegramToken } from '../../helpers/token-fakes';

const TG = [telegramToken('leak11-tg-0'), telegramToken('leak11-tg-1')];
const DC = [discordToken('leak11-dc-0'), discordToken('leak11-dc-1')];
const SECRET = 'Planted_secret_token-0123456789_abcdefghijKLMN';
const PLANTED = [...TG, ...DC, SECRET];
const CHAT = '-1001400000001';
const G = '600000000000000001';
const CH = '600000000000000101';

/** Everything an error exposes: message, string form, stack, detail, and its causes. */
function errorText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    if (cur instanceof Error) parts.push(cur.message, String(cur), cur.stack ?? '', JSON.stringify((cur as { detail?: unknown }).detail ?? {}));
    else parts.push(JSON.stringify(cur));
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

describe('issue 11: no token and no webhook secret_token in any result or error (planted grep)', () => {
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  const seen: string[] = [];
  const keep = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      const r = await p;
      seen.push(JSON.stringify(r));
      return r;
    } catch (e) {
      seen.push(errorText(e));
      return undefined;
    }
  };

  beforeEach(async () => {
    tg = await new FakeTelegram({ webhookRetryMs: 60_000 }).start();
    dc = await new FakeDiscord({ verifyInteractions: false }).start();
    TG.forEach((t, i) => tg.addToken(t, { id: String(7400000000 + i), username: `leak_bot_${i}` }));
    DC.forEach((t, i) => dc.addToken(t, { id: `110000000000000040${i}`, username: `leak-${i}` }));
    tg.setChat({ id: Number(CHAT), type: 'channel', title: 'Course files' }).setChatMember(CHAT, { token: TG[0] }, { status: 'administrator', can_post_messages: true });
    dc.setGuild({ id: G }).setMember(G, { token: DC[0] }, { roles: [] }).setChannel({ id: CH, guild_id: G });
  });
  afterEach(async () => {
    await Promise.all([tg.stop(), dc.stop()]);
  });

  it('every adapter, success and failure, with the platforms echoing secrets back', async () => {
    const hooks = new TelegramWebhooks({ apiRoot: tg.url, timeoutMs: 1000 });
    const url = `http://127.0.0.1:1/telegram/${TG[0]}`;
    await keep(hooks.set(TG[0], { url, secretToken: SECRET }));
    await keep(hooks.info(TG[0]));
    await keep(hooks.ensure(TG[0], { expectedUrl: 'https://b.bots.example.org/telegram/community', secretToken: SECRET, resolvedIps: ['203.0.113.1'] }));
    await keep(hooks.ensure(TG[1], { expectedUrl: '' }));
    await keep(hooks.set(TG[1], { url: 'ftp://nope', secretToken: SECRET }));
    await keep(hooks.set(TG[1], { url: `https://x.example.org/${SECRET}`, secretToken: 'bad secret!' }));
    tg.pushUpdate(TG[0], { message: { text: 'a user writes' } });
    await keep(new TelegramPoller(TG[0], { apiRoot: tg.url, consumer: 'region-a', timeoutSeconds: 0 }).poll());
    // The platform echoes the token and the secret in its errors.
    tg.method('setWebhook', ({ params }) => ({ ok: false, error_code: 400, description: `Bad Request: rejected ${String(params.secret_token)} for bot${TG[0]}` }));
    tg.method('getChat', () => ({ ok: false, error_code: 400, description: `Bad Request: chat ${TG[0]} not reachable with ${SECRET}` }));
    await keep(hooks.set(TG[0], { url: 'https://b.bots.example.org/telegram/community', secretToken: SECRET }));
    await keep(new TelegramPermissions({ apiRoot: tg.url }).check(TG[0], [CHAT, '@nope_nope']));
    dc.route('GET /channels/:channel', ({ token }) => ({ status: 403, body: { message: `Missing Access for ${token}`, code: 50013 } }));
    await keep(new DiscordPermissions({ api: dc.api }).check(DC[0], [CH, `${G}/${CH}`]));
    dc.route('PATCH /applications/@me', ({ token }) => ({ status: 400, body: { message: `Invalid Form Body ${token}`, code: 50035 } }));
    await keep(new DiscordInteractions({ api: dc.api }).ensure(DC[0], 'https://b.bots.example.org/discord/interactions'));
    await keep(new DiscordInteractions({ api: dc.api }).endpoint(DC[1]));
    // Revoked, unreachable, rate-limited.
    tg.revoke(TG[1]);
    dc.revoke(DC[1]);
    dc.rateLimit(DC[0], 5);
    const dead = await refusedUrl();
    await keep(hooks.info(TG[1]));
    await keep(new TelegramWebhooks({ apiRoot: dead, timeoutMs: 500 }).set(TG[0], { url: 'https://b.bots.example.org/t', secretToken: SECRET }));
    await keep(new TelegramPoller(TG[1], { apiRoot: dead, timeoutSeconds: 0 }).poll());
    await keep(new DiscordInteractions({ api: `${dead}/api`, timeoutMs: 500 }).endpoint(DC[0]));
    await keep(new DiscordPermissions({ api: dc.api }).check(DC[0], [CH]));
    await keep(
      checkPermissions(
        [
          { bot: 'community', platform: 'telegram', channels: [CHAT] },
          { bot: 'mod', platform: 'discord', channels: [CH] },
        ],
        { community: TG, mod: DC },
        { telegram: { apiRoot: tg.url }, discord: { api: dc.api } },
      ),
    );
    seen.push(JSON.stringify(webhookDrift({ expectedUrl: 'https://b.bots.example.org/telegram/community', info: { url, pending_update_count: 1, last_error_date: 1, last_error_message: `bad ${SECRET}` }, now: new Date() })));
    for (const t of TG) seen.push(JSON.stringify([tg.webhookRegistrations(t), tg.webhookDeliveries(t), tg.consumers(t), tg.conflicts(t), tg.updateStats(t)]));
    seen.push(JSON.stringify(dc.applicationPatches(DC[0])));
    assert.ok(seen.length >= 20, `only ${seen.length} outputs collected`);
    seen.forEach((text, i) => {
      for (const s of PLANTED) assert.ok(!text.includes(s), `output ${i} contains a planted ${s === SECRET ? 'secret_token' : 'token'}: ${text.slice(0, 300)}`);
    });
  });

  it("the control API's answers and errors", async () => {
    const server = await new PlatformServer().start();
    try {
      const outputs: unknown[] = [];
      for (const t of TG) outputs.push(await server.apply({ op: 'addToken', platform: 'telegram', token: t }));
      outputs.push(await server.apply({ op: 'pushUpdate', token: TG[0], update: { message: { text: `the token is ${TG[1]}` } } }));
      outputs.push(await server.apply({ op: 'queuedUpdates', token: TG[0] }));
      outputs.push(await server.apply({ op: 'consumers', token: TG[0] }));
      outputs.push(await server.apply({ op: 'setChatMember', chat: -5, who: { token: TG[0] }, membership: { status: 'member' } }).catch((e: Error) => errorText(e)));
      outputs.push(await server.apply({ op: 'calls', platform: 'telegram', token: DC[0] }).catch((e: Error) => errorText(e)));
      const text = JSON.stringify(outputs);
      for (const s of PLANTED) assert.ok(!text.includes(s), 'a planted secret in a control answer');
    } finally {
      await server.stop();
    }
  });
});
