/**
 * Issue 11 items 1, 2 and 4 composed (automation/ops/bot-endpoints.ts, bot-permissions.ts) against the fake Telegram
 * and Discord over real HTTP on 127.0.0.1, the tokens in an in-memory store with compare-and-set: the webhook set with
 * the secret generated once and kept in the record, allowed_updates preserved, never ip_address or
 * drop_pending_updates; drift cured, a forced set after a token switch, read-only runs that set nothing, polling bots
 * without a webhook, the interactions endpoint re-pointed; the rights matrix for every token with its admin actions
 * and the difference from a saved one. No token and no secret_token in any report or text.
 */
import assert from 'node:assert/strict';
import { PermissionFlagsBits as P } from 'discord-api-types/v10';
import { FakeDiscord } from '../../automation/adapters/rehearsal/fake-discord';
import { everyoneOverwrite } from '../../automation/adapters/rehearsal/fake-discord-guilds';
import { FakeTelegram } from '../../automation/adapters/rehearsal/fake-telegram';
import { fixedClock } from '../../automation/core/clock';
import { checkBotEndpoints, formatEndpoint, switchedBots, type BotEndpointReport } from '../../automation/ops/bot-endpoints';
import { botChannelsOf, checkBotPermissions, formatMatrixDiff, formatPermissionMatrix, missingCells, missingRightsByBot, permissionsOk } from '../../automation/ops/bot-permissions';
import { diffPermissionMatrices, rightsMaps, type BotEndpointSpec } from '../../automation/tokens';
import { InteractionsEndpoint } from '../helpers/interactions-endpoint';
import { discordToken, MemoryTokenStore, refusedUrl, telegramToken } from '../helpers/token-fakes';

const TG = [0, 1, 2].map((i) => telegramToken(`ops-endpoints-tg-${i}`));
const DC = [0, 1].map((i) => discordToken(`ops-endpoints-dc-${i}`));
const URL = 'https://bot.example.com/telegram/community';
const OLD = 'https://old.example.com/telegram/community';
const CHANNEL = '-1001200000001';
const GROUP = '-1001200000002';
const G = '400000000000000011';
const CH = '400000000000000111';

describe('ops: bot endpoints (webhooks, interactions) and the rights matrix against the fakes', () => {
  let now: number;
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let store: MemoryTokenStore;
  let survivor: InteractionsEndpoint;
  const clock = fixedClock(() => new Date(now));
  const texts: string[] = [];
  const raw = async (token: string, method: string, params: Record<string, unknown>) => (await fetch(`${tg.url}/bot${token}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) })).json();
  const check = async (bots: BotEndpointSpec[], over: Partial<Parameters<typeof checkBotEndpoints>[0]> = {}): Promise<BotEndpointReport[]> => {
    const r = await checkBotEndpoints({ bots, store, apply: true, telegram: { apiRoot: tg.url, timeoutMs: 2000 }, discord: { api: dc.api, timeoutMs: 3000 }, clock, log: (l) => texts.push(l), ...over });
    texts.push(JSON.stringify(r), ...r.map(formatEndpoint));
    return r;
  };
  const community: BotEndpointSpec = { bot: 'community', platform: 'telegram', mode: 'webhook', webhookUrl: URL };

  beforeEach(async () => {
    now = Date.parse('2026-11-22T10:00:00Z');
    tg = await new FakeTelegram({ now: () => now, webhookRetryMs: 60_000 }).start();
    dc = await new FakeDiscord().start();
    TG.forEach((t, i) => tg.addToken(t, { id: String(7300000000 + i), username: `community_${i}_bot` }));
    DC.forEach((t, i) => dc.addToken(t, { id: `110000000000000030${i}`, username: `moderation-${i}` }));
    survivor = await new InteractionsEndpoint(dc.application(DC[0]).verify_key).start();
    store = new MemoryTokenStore().set('community', { active: 0, tokens: TG, platform: 'telegram' }).set('moderation', { active: 0, tokens: DC, platform: 'discord' });
  });
  afterEach(async () => {
    await Promise.all([tg.stop(), dc.stop(), survivor.stop()]);
    const out = texts.splice(0).join('\n');
    const secret = (() => {
      try {
        return store.get('community').webhook_secret;
      } catch {
        return undefined;
      }
    })();
    for (const s of [...TG, ...DC, ...(secret ? [secret] : [])]) assert.ok(!out.includes(s), 'a token or the webhook secret reached a report or a line');
  });

  it('a webhook bot: the secret generated once and stored (compare-and-set), setWebhook with it, allowed_updates kept, never ip_address or drop_pending_updates', async () => {
    await raw(TG[0], 'setWebhook', { url: OLD, allowed_updates: ['message', 'callback_query'], ip_address: '198.51.100.7' });
    tg.pushUpdate(TG[0], { message: { text: 'queued during the failover' } });
    const [r] = await check([community]);
    assert.deepEqual([r.action, r.current, r.after, r.url_drift, r.reasons, r.secret, r.active], ['set', OLD, URL, true, ['url-mismatch'], 'generated', 0]);
    assert.deepEqual(r.allowed_updates, ['message', 'callback_query']);
    const secret = store.get('community').webhook_secret;
    assert.match(secret ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(store.writes.length, 1, 'one compare-and-set: the secret');
    const last = tg.webhookRegistrations(TG[0]).at(-1)!;
    assert.deepEqual([last.url, last.secret_token_set, last.allowed_updates, last.ip_address, last.drop_pending_updates], [URL, true, ['message', 'callback_query'], undefined, false]);
    assert.equal(tg.webhookInfo(TG[0]).pending_update_count, 1, 'nothing dropped');
    const [again] = await check([community]);
    assert.deepEqual([again.action, again.url_drift, again.secret, again.pending_update_count], ['unchanged', false, 'kept', 1]);
    assert.equal(store.writes.length, 1, 'the secret is generated once');
    assert.equal(tg.callCount(TG[0], 'setWebhook'), 2, 'the test\'s own and ours: none when nothing drifted');
  });

  it('after a token switch the new token\'s bot gets the webhook (forced), with the same secret; a read-only run sets nothing', async () => {
    await check([community]);
    const secret = store.get('community').webhook_secret;
    store.set('community', { ...store.get('community'), active: 2 });
    const readOnly = await check([community], { apply: false, force: new Set(['community']) });
    assert.deepEqual([readOnly[0].action, readOnly[0].active, readOnly[0].current, readOnly[0].forced], ['not-applied', 2, null, true]);
    assert.equal(tg.callCount(TG[2], 'setWebhook'), 0, 'read-only: nothing set');
    const [r] = await check([community], { force: switchedBots([{ result: { bot: 'community', action: 'switch' }, write: 'written' }, { result: { bot: 'moderation', action: 'switch' }, write: 'conflict' }]) });
    assert.deepEqual([r.action, r.forced, r.after, r.secret], ['set', true, URL, 'kept']);
    assert.equal(store.get('community').webhook_secret, secret, 'the same secret');
    assert.equal(tg.webhookRegistrations(TG[2]).at(-1)?.secret_token_set, true);
  });

  it('a read-only run without a stored secret generates none; pending growth and a recent delivery error are reported', async () => {
    const dead = `${await refusedUrl()}/telegram/community`;
    const [first] = await check([{ ...community, webhookUrl: dead }], { apply: false });
    assert.deepEqual([first.action, first.secret, first.url_drift], ['not-applied', 'missing', true]);
    assert.equal(store.writes.length, 0);
    await check([{ ...community, webhookUrl: dead }]);
    tg.pushUpdate(TG[0], { message: { text: 'a' } });
    await tg.flushWebhook(TG[0]);
    now += 90_000;
    tg.pushUpdate(TG[0], { message: { text: 'b' } });
    const [r] = await check([{ ...community, webhookUrl: dead }], { previousPending: { community: 1 } });
    assert.deepEqual([r.action, r.url_drift, r.pending_update_count, r.pending_growing, r.recent_error, r.last_error_age_s], ['unchanged', false, 2, true, true, 90]);
    assert.deepEqual(r.reasons, ['recent-error', 'pending-growing']);
    assert.match(formatEndpoint(r), /2 pending update\(s\), last delivery error 90 s ago/);
  });

  it('a polling bot: a webhook set is deleted (queue kept); a webhook bot without a URL is unconfigured, never set', async () => {
    await raw(TG[0], 'setWebhook', { url: OLD });
    tg.pushUpdate(TG[0], { message: { text: 'keep' } });
    const [r] = await check([{ bot: 'community', platform: 'telegram', mode: 'polling' }]);
    assert.deepEqual([r.action, r.expected, r.current, r.after, r.secret], ['deleted', null, OLD, null, undefined]);
    assert.equal(tg.webhookRegistrations(TG[0]).at(-1)?.drop_pending_updates, false);
    assert.equal(tg.webhookInfo(TG[0]).pending_update_count, 1);
    assert.equal(store.writes.length, 0, 'a polling bot needs no secret');
    const [u] = await check([{ bot: 'community', platform: 'telegram', mode: 'webhook' }]);
    assert.deepEqual([u.action, u.url_drift], ['unconfigured', false]);
    assert.match(u.details[0], /set bots\.community\.webhookUrl/);
    assert.equal(tg.callCount(TG[0], 'getWebhookInfo'), 3, 'the check, ensure\'s own read and the read after the delete: none for the unconfigured bot');
  });

  it('Discord: a drifted interactions endpoint is PATCHed to the survivor (it passes the signed PING); a gateway bot\'s endpoint is reported, not cleared', async () => {
    dc.setInteractionsEndpoint(DC[0], 'https://old.example.com/discord');
    const moderation: BotEndpointSpec = { bot: 'moderation', platform: 'discord', mode: 'webhook', webhookUrl: survivor.url };
    const [r] = await check([moderation]);
    assert.deepEqual([r.action, r.current, r.after, r.url_drift, r.reasons], ['set', 'https://old.example.com/discord', survivor.url, true, ['url-mismatch']]);
    assert.deepEqual(dc.applicationPatches(DC[0]).map((p) => p.outcome), ['saved']);
    assert.equal((await check([moderation]))[0].action, 'unchanged');
    const [g] = await check([{ bot: 'moderation', platform: 'discord', mode: 'polling' }]);
    assert.deepEqual([g.action, g.reasons, g.url_drift], ['reported', ['unexpected'], true]);
    assert.equal(dc.applicationPatches(DC[0]).length, 1);
  });

  it('one bot\'s trouble does not stop the others: a revoked token, an unknown bot', async () => {
    tg.revoke(TG[0]);
    const r = await check([community, { bot: 'ghost', platform: 'telegram', mode: 'polling' }, { bot: 'moderation', platform: 'discord', mode: 'polling' }]);
    assert.deepEqual(r.map((x) => [x.bot, x.action]), [['community', 'error'], ['ghost', 'error'], ['moderation', 'unchanged']]);
    assert.match(r[0].error ?? '', /401: Unauthorized/);
  });

  it('the rights matrix: every token, every channel; the backup token lacks a right; actions, verdict, metric, diff, RightsMap', async () => {
    tg.setChat({ id: Number(CHANNEL), type: 'channel', title: 'Courses' }).setChat({ id: Number(GROUP), type: 'supergroup', title: 'Club' });
    for (const t of TG) tg.setChatMember(CHANNEL, { token: t }, { status: 'administrator', can_post_messages: true, can_delete_messages: t !== TG[1] }).setChatMember(GROUP, { token: t }, { status: 'administrator', can_delete_messages: true });
    dc.setGuild({ id: G, everyone: P.ViewChannel | P.SendMessages | P.ReadMessageHistory | P.AttachFiles }).setChannel({ id: CH, guild_id: G, permission_overwrites: [everyoneOverwrite(G, 0n, P.AttachFiles)] });
    for (const t of DC) dc.setMember(G, { token: t }, { roles: [] });
    const bots = botChannelsOf([
      { name: 'community', platform: 'telegram', channels: [CHANNEL, GROUP], permissions: [] },
      { name: 'moderation', platform: 'discord', channels: [`${G}/${CH}`], permissions: ['ViewChannel', 'SendMessages'] },
    ]);
    assert.deepEqual(bots.map((b) => b.required), [undefined, ['ViewChannel', 'SendMessages']], 'Telegram bots carry no required set');
    const rep = await checkBotPermissions({ bots, store, telegram: { apiRoot: tg.url, timeoutMs: 2000 }, discord: { api: dc.api, timeoutMs: 2000 }, clock });
    assert.deepEqual(rep.errors, []);
    assert.equal(permissionsOk(rep), false);
    assert.deepEqual(missingRightsByBot(rep.matrix), { community: 1, moderation: 0 });
    assert.deepEqual(missingCells(rep.matrix.bots[0]).map((c) => [c.token, c.channel, c.missing]), [[1, CHANNEL, ['can_delete_messages']]]);
    assert.deepEqual(rightsMaps(rep.matrix), { community: { 0: true, 1: false, 2: true }, moderation: { 0: true, 1: true } });
    const text = formatPermissionMatrix(rep);
    assert.match(text, /community \(telegram\): 5 of 6 cell\(s\) ok, 1 missing rights/);
    assert.match(text, new RegExp(`token 1 @community_1_bot  ${CHANNEL}  MISSING can_delete_messages\\n      admin action: give @community_1_bot the administrator right Delete messages in ${CHANNEL} \\("Courses"\\)`));
    assert.match(text, /moderation \(discord\): 2 of 2 cell\(s\) ok/);
    texts.push(text, JSON.stringify(rep));
    // The admin fixes it: the diff says what changed since the saved matrix.
    tg.setChatMember(CHANNEL, { token: TG[1] }, { status: 'administrator', can_post_messages: true, can_delete_messages: true });
    now += 60_000;
    const live = await checkBotPermissions({ bots, store, telegram: { apiRoot: tg.url, timeoutMs: 2000 }, discord: { api: dc.api, timeoutMs: 2000 }, clock });
    assert.equal(permissionsOk(live), true);
    const diff = formatMatrixDiff(diffPermissionMatrices(rep.matrix, live.matrix));
    assert.equal(diff, `channel rights: 1 cell(s) differ from the saved matrix (2026-11-22T10:00:00.000Z → live 2026-11-22T10:01:00.000Z; 7 unchanged):\n  community token 1 in ${CHANNEL}: missing can_delete_messages → ok`);
    // A bot whose record cannot be read is an error entry; the others are still checked.
    const partial = await checkBotPermissions({ bots: [...bots, { bot: 'ghost', platform: 'telegram', channels: [CHANNEL] }], store, telegram: { apiRoot: tg.url, timeoutMs: 2000 }, discord: { api: dc.api, timeoutMs: 2000 }, clock });
    assert.deepEqual([partial.matrix.bots.length, partial.errors.map((e) => e.bot), permissionsOk(partial)], [2, ['ghost'], false]);
  });
});
