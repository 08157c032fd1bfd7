/**
 * Channel rights for every token (issue 11, seed 000 AC3/IV3) against the fake Telegram and Discord over real HTTP on
 * 127.0.0.1: TelegramPermissions (getMe, getChat, getChatMember; kicked / not found / left / restricted), and
 * DiscordPermissions (users/@me, channels, guild roles, guild member; overwrites, Missing Access with and without the
 * guild named, threads, unknown channels, a configurable required set), then checkPermissions' bot × token × channel
 * matrix and its RightsMap making `decide` prefer the token with every right.
 */
import assert from 'node:assert/strict';
import { PermissionFlagsBits as P } from 'discord-api-types/v10';
import { checkPermissions, DiscordPermissions, parseDiscordChannelRef, TelegramPermissions, telegramChatId } from '../../../automation/adapters/bots';
import { FakeDiscord } from '../../../automation/adapters/rehearsal/fake-discord';
import { everyoneOverwrite } from '../../../automation/adapters/rehearsal/fake-discord-guilds';
import { FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import { UsageError } from '../../../automation/core/errors';
import { decide, matrixCounts, rightsMaps, type ChannelVerdict, type TokenProbe } from '../../../automation/tokens';
import { discordToken, telegramToken } from '../../helpers/token-fakes';

const TG = [telegramToken('perm-tg-0'), telegramToken('perm-tg-1'), telegramToken('perm-tg-2')];
const DC = [discordToken('perm-dc-0'), discordToken('perm-dc-1'), discordToken('perm-dc-2')];
const CHANNEL = '-1001100000001';
const SUPER = '-1001100000002';
const GROUP = '-400000003';
const G = '400000000000000001';
const CH1 = '400000000000000101';
const CH2 = '400000000000000102';
const THREAD = '400000000000000103';
const R_FILES = '400000000000000201';
const DC_IDS = ['1100000000000000100', '1100000000000000101', '1100000000000000102'];

const cells = (channels: ChannelVerdict[]) => channels.map((c) => [c.channel, c.state, c.missing]);

describe('adapters/bots: channel rights for every token against the fakes', () => {
  let tg: FakeTelegram;
  let dc: FakeDiscord;

  beforeEach(async () => {
    tg = await new FakeTelegram().start();
    dc = await new FakeDiscord().start();
    TG.forEach((t, i) => tg.addToken(t, { id: String(7200000000 + i), username: `chess_bot_${i}` }));
    DC.forEach((t, i) => dc.addToken(t, { id: DC_IDS[i], username: `chess-${i}` }));
    tg.setChat({ id: Number(CHANNEL), type: 'channel', title: 'Course files' })
      .setChat({ id: Number(SUPER), type: 'supergroup', title: 'Volunteers', username: 'chess_volunteers' })
      .setChat({ id: Number(GROUP), type: 'group', title: 'Reviewers' })
      .setChatMember(CHANNEL, { token: TG[0] }, { status: 'administrator', can_post_messages: true, can_delete_messages: true })
      .setChatMember(SUPER, { token: TG[0] }, { status: 'administrator', can_delete_messages: true })
      .setChatMember(GROUP, { token: TG[0] }, { status: 'creator' })
      .setChatMember(CHANNEL, { token: TG[1] }, { status: 'administrator', can_post_messages: true })
      .setChatMember(SUPER, { token: TG[1] }, { status: 'administrator', can_delete_messages: true })
      .setChatMember(GROUP, { token: TG[1] }, { status: 'administrator', can_delete_messages: true });
    dc.setGuild({ id: G, everyone: P.ViewChannel | P.SendMessages | P.ReadMessageHistory, roles: [{ id: R_FILES, name: 'Files', permissions: P.AttachFiles }] })
      .setMember(G, { token: DC[0] }, { roles: [R_FILES] })
      .setMember(G, { token: DC[1] }, { roles: [] })
      .setChannel({ id: CH1, guild_id: G, name: 'course-files' })
      .setChannel({ id: CH2, guild_id: G, name: 'staff', permission_overwrites: [everyoneOverwrite(G, 0n, P.ViewChannel), { id: R_FILES, type: 0, allow: P.ViewChannel }] })
      .setChannel({ id: THREAD, guild_id: G, type: 11 });
  });
  afterEach(async () => {
    await Promise.all([tg.stop(), dc.stop()]);
  });

  it('references: Telegram ids and @usernames; Discord channelId or guildId/channelId', () => {
    assert.deepEqual([telegramChatId('-1001100000001'), telegramChatId('@chess_volunteers'), telegramChatId('chess'), telegramChatId('-100 1')], [-1001100000001, '@chess_volunteers', undefined, undefined]);
    assert.deepEqual([parseDiscordChannelRef(CH1), parseDiscordChannelRef(`${G}/${CH1}`), parseDiscordChannelRef('general'), parseDiscordChannelRef(`${G}/${CH1}/x`)], [{ channelId: CH1 }, { guildId: G, channelId: CH1 }, undefined, undefined]);
  });

  it('Telegram: channel vs group vs creator; the backup token lacks Delete messages in the channel', async () => {
    const t = new TelegramPermissions({ apiRoot: tg.url, timeoutMs: 2000 });
    const full = await t.check(TG[0], [CHANNEL, SUPER, GROUP]);
    assert.deepEqual([full.state, full.account], ['checked', '@chess_bot_0']);
    assert.deepEqual(cells(full.channels), [[CHANNEL, 'ok', []], [SUPER, 'ok', []], [GROUP, 'ok', []]]);
    assert.deepEqual(full.channels.map((c) => [c.status, c.where?.type]), [['administrator', 'channel'], ['administrator', 'supergroup'], ['creator', 'group']]);
    const backup = await t.check(TG[1], [CHANNEL, SUPER, GROUP]);
    assert.deepEqual(cells(backup.channels), [[CHANNEL, 'missing', ['can_delete_messages']], [SUPER, 'ok', []], [GROUP, 'ok', []]]);
    assert.equal(backup.channels[0].action, `give @chess_bot_1 the administrator right Delete messages in ${CHANNEL} ("Course files")`);
  });

  it('Telegram: kicked (403), not found (400), left in a public chat, restricted, a private chat, a bad reference, an outage', async () => {
    tg.setChatMember(SUPER, { token: TG[2] }, { status: 'kicked' }).setChatMember(GROUP, { token: TG[2] }, { status: 'restricted', is_member: true, can_send_messages: false });
    tg.setChat({ id: 4242, type: 'private' }).setChatMember(4242, { token: TG[2] }, { status: 'member' });
    const t = new TelegramPermissions({ apiRoot: tg.url, timeoutMs: 2000 });
    const r = await t.check(TG[2], [SUPER, CHANNEL, '@chess_volunteers', GROUP, '4242', 'not-a-chat']);
    assert.deepEqual(r.channels.map((c) => [c.state, c.status, c.missing]), [
      ['missing', 'kicked', ['member', 'administrator', 'can_delete_messages']],
      ['missing', 'not-found', ['member']],
      ['missing', 'kicked', ['member', 'administrator', 'can_delete_messages']],
      ['missing', 'restricted', ['administrator', 'can_delete_messages', 'can_send_messages']],
      ['error', undefined, []],
      ['error', undefined, []],
    ]);
    assert.match(r.channels[0].action ?? '', /^unban @chess_bot_2 in -1001100000002, add it back and make it an administrator with Delete messages$/);
    assert.match(r.channels[1].action ?? '', /cannot see -1001100000001 \(chat not found\): add @chess_bot_2/);
    assert.match(r.channels[4].detail ?? '', /not a channel or a group/);
    tg.removeChatMember(SUPER, { token: TG[2] });
    assert.deepEqual((await t.check(TG[2], ['@chess_volunteers'])).channels.map((c) => [c.status, c.missing]), [['left', ['member', 'administrator', 'can_delete_messages']]]);
    tg.fail(TG[0], { status: 502, body: 'html' });
    const down = await t.check(TG[0], [CHANNEL]);
    assert.deepEqual([down.state, down.channels[0].state], ['error', 'error']);
    tg.heal(TG[0]);
    tg.method('getChat', () => ({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 3', parameters: { retry_after: 3 } }));
    assert.deepEqual((await t.check(TG[0], [CHANNEL])).channels.map((c) => [c.state, c.detail]), [['error', 'Telegram getChat: 429: Too Many Requests: retry after 3']]);
  });

  it('Discord: a role grants Attach Files to token 0 only; a hidden channel is Missing Access; threads and unknown channels are errors', async () => {
    const d = new DiscordPermissions({ api: dc.api, timeoutMs: 2000 });
    const refs = [`${G}/${CH1}`, CH2, THREAD, '400000000000000999'];
    const full = await d.check(DC[0], refs);
    assert.deepEqual(cells(full.channels), [[refs[0], 'ok', []], [CH2, 'ok', []], [THREAD, 'error', []], [refs[3], 'error', []]]);
    assert.match(full.channels[2].detail ?? '', /is a thread: configure its parent channel/);
    assert.match(full.channels[3].detail ?? '', /Unknown Channel/);
    const backup = await d.check(DC[1], refs.slice(0, 2));
    assert.deepEqual(cells(backup.channels), [[refs[0], 'missing', ['AttachFiles']], [CH2, 'missing', ['ViewChannel', 'SendMessages', 'AttachFiles', 'ReadMessageHistory']]]);
    assert.equal(backup.channels[0].action, `grant @chess-1 Attach Files in channel ${CH1} of guild ${G} (a role or a channel overwrite): Attach Files: no role of the bot grants it and no overwrite of the channel allows it`);
    assert.equal(backup.channels[1].status, 'no-access');
    assert.match(backup.channels[1].action ?? '', /cannot see channel 400000000000000102 \(Discord: Missing Access\)/);
    assert.equal(dc.callCount(DC[1], 'GET /guilds/:guild/roles'), 1, 'roles read once per guild');
  });

  it('Discord: with the guild named, a hidden channel and a bot outside the guild are told apart; overwrites and the required set', async () => {
    const d = new DiscordPermissions({ api: dc.api, timeoutMs: 2000 });
    const hidden = await d.check(DC[1], [`${G}/${CH2}`]);
    assert.deepEqual([hidden.channels[0].status, hidden.channels[0].where], ['member', { guild: G, channel: CH2 }]);
    assert.match(hidden.channels[0].action ?? '', /^grant @chess-1 View Channel in channel 400000000000000102 of guild 400000000000000001/);
    const outside = await d.check(DC[2], [`${G}/${CH1}`]);
    assert.deepEqual([outside.channels[0].status, outside.channels[0].missing.length], ['not-in-guild', 4]);
    assert.match(outside.channels[0].action ?? '', /^invite @chess-2 to guild 400000000000000001/);
    dc.setOverwrites(CH1, [{ id: R_FILES, type: 0, deny: P.AttachFiles }, { id: DC_IDS[0], type: 1, allow: P.AttachFiles, deny: P.ReadMessageHistory }]);
    const over = await d.check(DC[0], [CH1], ['ViewChannel', 'SendMessages', 'AttachFiles', 'ReadMessageHistory', 'ManageMessages']);
    assert.deepEqual(cells(over.channels), [[CH1, 'missing', ['ManageMessages', 'ReadMessageHistory']]]);
    assert.match(over.channels[0].action ?? '', /Read Message History is denied by the channel's overwrite for the bot itself/);
    const mismatch = await d.check(DC[0], [`400000000000000002/${CH1}`]);
    assert.match(mismatch.channels[0].detail ?? '', /belongs to guild 400000000000000001, not 400000000000000002/);
    await assert.rejects(d.check(DC[0], [CH1], ['SendMesages']), UsageError);
  });

  it('Discord: a timed-out bot keeps only View Channel and Read Message History; a revoked token is an error row', async () => {
    dc.setMember(G, { token: DC[0] }, { roles: [R_FILES], communication_disabled_until: new Date(Date.now() + 3_600_000).toISOString() });
    const d = new DiscordPermissions({ api: dc.api, timeoutMs: 2000 });
    const r = await d.check(DC[0], [CH1]);
    assert.deepEqual([r.channels[0].status, r.channels[0].missing], ['timed-out', ['SendMessages', 'AttachFiles']]);
    dc.revoke(DC[1]);
    const revoked = await d.check(DC[1], [CH1, CH2]);
    assert.deepEqual([revoked.state, revoked.detail, revoked.channels.map((c) => c.state)], ['error', 'Discord GET /users/@me: 401: Unauthorized (code 0)', ['error', 'error']]);
  });

  it('checkPermissions: the bot × token × channel matrix, its counts and the RightsMap that makes decide prefer the full-rights token', async () => {
    tg.revoke(TG[2]);
    const matrix = await checkPermissions(
      [
        { bot: 'community', platform: 'telegram', channels: [CHANNEL, SUPER, GROUP] },
        { bot: 'mod', platform: 'discord', channels: [`${G}/${CH1}`, CH2] },
      ],
      { community: TG, mod: DC },
      { telegram: { apiRoot: tg.url, timeoutMs: 2000 }, discord: { api: dc.api, timeoutMs: 2000 } },
    );
    assert.match(matrix.checked_at, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(matrix.bots.map((b) => [b.bot, b.platform, b.tokens.map((t) => [t.index, t.state, t.channels.map((c) => c.state)])]), [
      ['community', 'telegram', [[0, 'checked', ['ok', 'ok', 'ok']], [1, 'checked', ['missing', 'ok', 'ok']], [2, 'error', ['error', 'error', 'error']]]],
      ['mod', 'discord', [[0, 'checked', ['ok', 'ok']], [1, 'checked', ['missing', 'missing']], [2, 'checked', ['missing', 'missing']]]],
    ]);
    assert.deepEqual(rightsMaps(matrix), { community: { 0: true, 1: false }, mod: { 0: true, 1: false, 2: false } });
    assert.deepEqual(matrixCounts(matrix), { cells: 15, ok: 7, missing: 5, errors: 3, missingRights: 1 + 1 + 4 + 4 + 4 });
    const text = JSON.stringify(matrix);
    for (const t of [...TG, ...DC]) assert.ok(!text.includes(t), 'a token in the matrix');

    // The switch: token 0 revoked, tokens 1 and 2 healthy; token 1 is next in rotation but lacks a right.
    tg.restore(TG[2]);
    const again = await checkPermissions([{ bot: 'community', platform: 'telegram', channels: [CHANNEL] }], { community: TG }, { telegram: { apiRoot: tg.url } });
    tg.setChatMember(CHANNEL, { token: TG[2] }, { status: 'administrator', can_post_messages: true, can_delete_messages: true });
    const fixed = await checkPermissions([{ bot: 'community', platform: 'telegram', channels: [CHANNEL] }], { community: TG }, { telegram: { apiRoot: tg.url } });
    assert.deepEqual([rightsMaps(again).community, rightsMaps(fixed).community], [{ 0: true, 1: false, 2: false }, { 0: true, 1: false, 2: true }]);
    const probes: TokenProbe[] = [
      { index: 0, state: 'revoked', latency_ms: 1, detail: '401: Unauthorized' },
      { index: 1, state: 'healthy', latency_ms: 1 },
      { index: 2, state: 'healthy', latency_ms: 1 },
    ];
    const record = { active: 0, tokens: TG, platform: 'telegram' as const };
    const opts = { bot: 'community', version: 'v1', now: new Date('2026-11-22T10:00:00Z'), by: 'monitor@eu-west-1' };
    assert.equal(decide(record, probes, opts).to, 1, 'without rights: the next in rotation');
    const d = decide(record, probes, { ...opts, rights: rightsMaps(fixed).community });
    assert.deepEqual([d.action, d.to], ['switch', 2]);
    assert.match(d.why, /switched to token 2 \(healthy, all channel rights\)/);
  });

  it('checkPermissions refuses before any call: a bot without tokens, a Telegram required set, an unknown Discord permission', async () => {
    await assert.rejects(checkPermissions([{ bot: 'x', platform: 'telegram', channels: [] }], {}), UsageError);
    await assert.rejects(checkPermissions([{ bot: 'x', platform: 'telegram', channels: [], required: ['ViewChannel'] }], { x: TG }), UsageError);
    await assert.rejects(checkPermissions([{ bot: 'y', platform: 'discord', channels: [CH1], required: ['Nope'] }], { y: DC }, { discord: { api: dc.api } }), UsageError);
    assert.equal(tg.callCount(TG[0]) + dc.callCount(DC[0]), 0);
  });
});
