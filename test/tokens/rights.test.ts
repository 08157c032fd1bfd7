/**
 * Channel rights, pure. The Discord computation as a table of roles and overwrites (expected bits worked out by hand
 * from the documented order: base from @everyone and roles, Administrator, then the channel's @everyone overwrite,
 * the roles' overwrites aggregated, the member's overwrite; the timeout rule; the implicit rules), the Telegram rules
 * for channel / group / creator / restricted / left / kicked, and the matrix → RightsMap for `decide`.
 */
import assert from 'node:assert/strict';
import { PermissionFlagsBits as P } from 'discord-api-types/v10';
import { OperationError, UsageError } from '../../automation/core/errors';
import {
  ALL_DISCORD_PERMISSIONS,
  channelPermissions,
  DEFAULT_DISCORD_REQUIRED,
  discordChannelVerdict,
  implicitPermissions,
  matrixCounts,
  parseBits,
  permissionBits,
  permissionLabel,
  permissionNames,
  rightsMapOf,
  telegramChatVerdict,
  type BotRights,
  type DiscordOverwriteView,
  type DiscordRoleView,
  type TelegramMemberView,
} from '../../automation/tokens';

const G = '100000000000000001';
const BOT = '900000000000000009';
const R1 = '200000000000000201';
const R2 = '200000000000000202';
const R3 = '200000000000000203';
const V = P.ViewChannel;
const S = P.SendMessages;
const A = P.AttachFiles;
const H = P.ReadMessageHistory;
const M = P.ManageMessages;
const E = P.EmbedLinks;
const BASIC = V | S | A | H;

const s = (b: bigint): string => b.toString();
const role = (id: string, bits: bigint, name?: string): DiscordRoleView => ({ id, permissions: s(bits), ...(name ? { name } : {}) });
const ow = (id: string, type: 0 | 1, allow: bigint, deny: bigint): DiscordOverwriteView => ({ id, type, allow: s(allow), deny: s(deny) });

interface Row {
  name: string;
  everyone: bigint;
  roles?: Array<[string, bigint]>;
  has?: string[];
  overwrites?: DiscordOverwriteView[];
  owner?: boolean;
  timeoutUntil?: string;
  /** The explicit result of the documented algorithm. */
  want: bigint;
  /** Missing of the default required set after the implicit rules. */
  missing: string[];
  why?: RegExp;
}

const NOW = new Date('2026-11-22T10:00:00Z');

const TABLE: Row[] = [
  { name: '@everyone alone grants the basic set', everyone: BASIC, want: BASIC, missing: [] },
  { name: 'a role grants what @everyone lacks', everyone: 0n, roles: [[R1, BASIC]], has: [R1], want: BASIC, missing: [] },
  { name: 'a role the member does not have grants nothing', everyone: V, roles: [[R1, BASIC]], want: V, missing: ['SendMessages', 'AttachFiles', 'ReadMessageHistory'], why: /no role of the bot grants it/ },
  { name: '@everyone overwrite denies Send Messages (Attach Files then implicitly gone)', everyone: BASIC, overwrites: [ow(G, 0, 0n, S)], want: V | A | H, missing: ['SendMessages', 'AttachFiles'], why: /Send Messages is denied by the channel's @everyone overwrite.*Attach Files needs Send Messages/ },
  { name: '@everyone overwrite allows what no role grants', everyone: V | S | H, overwrites: [ow(G, 0, A, 0n)], want: BASIC, missing: [] },
  { name: 'a deny on @everyone undone by a role allow', everyone: BASIC, roles: [[R1, 0n]], has: [R1], overwrites: [ow(G, 0, 0n, V | A), ow(R1, 0, V | A, 0n)], want: BASIC, missing: [] },
  { name: 'an allow on @everyone undone by a role deny (roles come after @everyone)', everyone: V | H, roles: [[R1, 0n]], has: [R1], overwrites: [ow(G, 0, S | A, 0n), ow(R1, 0, 0n, S)], want: V | H | A, missing: ['SendMessages', 'AttachFiles'], why: /denied by the channel's overwrite for role "Bots"/ },
  { name: 'role overwrites aggregate: one role denies, another allows → allowed', everyone: BASIC, roles: [[R1, 0n], [R2, 0n]], has: [R1, R2], overwrites: [ow(R1, 0, 0n, A), ow(R2, 0, A, 0n)], want: BASIC, missing: [] },
  { name: 'role overwrites aggregate whatever their order: the allow listed first still beats a later deny', everyone: BASIC, roles: [[R1, 0n], [R2, 0n]], has: [R1, R2], overwrites: [ow(R2, 0, A, 0n), ow(R1, 0, 0n, A)], want: BASIC, missing: [] },
  { name: 'role overwrites aggregate: two roles deny different bits', everyone: BASIC | M, roles: [[R1, 0n], [R2, 0n]], has: [R1, R2], overwrites: [ow(R1, 0, 0n, A), ow(R2, 0, 0n, M)], want: V | S | H, missing: ['AttachFiles'], why: /Attach Files is denied by the channel's overwrite for role "Bots"/ },
  { name: 'the overwrite of a role the member lacks is ignored', everyone: BASIC, roles: [[R1, 0n], [R3, 0n]], has: [R1], overwrites: [ow(R3, 0, 0n, BASIC)], want: BASIC, missing: [] },
  { name: 'the member overwrite denies what a role allows', everyone: V | H, roles: [[R1, 0n]], has: [R1], overwrites: [ow(R1, 0, S | A, 0n), ow(BOT, 1, 0n, A)], want: V | H | S, missing: ['AttachFiles'], why: /denied by the channel's overwrite for the bot itself/ },
  { name: 'the member overwrite allows what a role denies', everyone: BASIC, roles: [[R1, 0n]], has: [R1], overwrites: [ow(R1, 0, 0n, A | S), ow(BOT, 1, A | S, 0n)], want: BASIC, missing: [] },
  { name: 'another member\'s overwrite is ignored', everyone: BASIC, overwrites: [ow('900000000000000077', 1, 0n, BASIC)], want: BASIC, missing: [] },
  { name: 'an overwrite with the bot\'s id but type role is not the member\'s', everyone: BASIC, overwrites: [ow(BOT, 0, 0n, S)], want: BASIC, missing: [] },
  { name: 'Administrator from a role: every overwrite is ignored', everyone: 0n, roles: [[R2, P.Administrator]], has: [R2], overwrites: [ow(G, 0, 0n, BASIC), ow(R2, 0, 0n, BASIC), ow(BOT, 1, 0n, BASIC)], want: ALL_DISCORD_PERMISSIONS, missing: [] },
  { name: 'Administrator on @everyone', everyone: P.Administrator, overwrites: [ow(BOT, 1, 0n, V)], want: ALL_DISCORD_PERMISSIONS, missing: [] },
  { name: 'the guild owner has everything', everyone: 0n, owner: true, overwrites: [ow(BOT, 1, 0n, BASIC)], want: ALL_DISCORD_PERMISSIONS, missing: [] },
  { name: 'no View Channel: nothing else applies (implicit)', everyone: S | A | H | E, want: S | A | H | E, missing: ['ViewChannel', 'SendMessages', 'AttachFiles', 'ReadMessageHistory'], why: /Send Messages needs View Channel/ },
  { name: 'timed out: only View Channel and Read Message History stay', everyone: BASIC, timeoutUntil: '2026-11-22T11:00:00Z', want: V | H, missing: ['SendMessages', 'AttachFiles'], why: /the bot is timed out/ },
  { name: 'a timeout in the past does not count', everyone: BASIC, timeoutUntil: '2026-11-22T09:00:00Z', want: BASIC, missing: [] },
  { name: 'an administrator is exempt from a timeout', everyone: P.Administrator, timeoutUntil: '2026-11-22T11:00:00Z', want: ALL_DISCORD_PERMISSIONS, missing: [] },
];

describe('tokens: Discord channel permissions (the documented computation, as a table)', () => {
  for (const row of TABLE) {
    it(row.name, () => {
      const roles = [role(G, row.everyone, '@everyone'), ...(row.roles ?? []).map(([id, b]) => role(id, b, id === R1 ? 'Bots' : id === R2 ? 'Mods' : undefined))];
      const input = {
        guildId: G,
        ownerId: row.owner ? BOT : '100000000000000555',
        roles,
        member: { userId: BOT, roles: row.has ?? [], communication_disabled_until: row.timeoutUntil ?? null },
        overwrites: row.overwrites ?? [],
        now: NOW,
      };
      const got = channelPermissions(input);
      assert.equal(got.toString(2), row.want.toString(2), `bits: ${permissionNames(got).join(',')} vs ${permissionNames(row.want).join(',')}`);
      const v = discordChannelVerdict({ ...input, channel: `${G}/300`, channelId: '300', required: DEFAULT_DISCORD_REQUIRED, account: '@chess' });
      assert.deepEqual(v.missing, row.missing);
      assert.equal(v.ok, row.missing.length === 0);
      assert.equal(v.state, row.missing.length ? 'missing' : 'ok');
      if (row.missing.length) {
        assert.match(v.action ?? '', new RegExp(`^grant @chess .* in channel 300 of guild ${G}`));
        if (row.why) assert.match(v.action ?? '', row.why);
      } else assert.equal(v.action, undefined);
    });
  }

  it('the required set is configurable per bot (Manage Messages on top); unknown names are a UsageError', () => {
    const input = { guildId: G, roles: [role(G, BASIC)], member: { userId: BOT, roles: [] }, overwrites: [], channel: '300', channelId: '300', account: '@chess' };
    assert.deepEqual(discordChannelVerdict({ ...input, required: [...DEFAULT_DISCORD_REQUIRED, 'ManageMessages'] }).missing, ['ManageMessages']);
    assert.ok(discordChannelVerdict({ ...input, required: ['ViewChannel'] }).ok);
    assert.throws(() => discordChannelVerdict({ ...input, required: ['SendMesages'] }), UsageError);
  });

  it('names, labels, bits: aliases are not repeated, bad bitsets are refused', () => {
    assert.deepEqual(permissionNames(V | S | P.ManageGuildExpressions), ['ViewChannel', 'SendMessages', 'ManageGuildExpressions']);
    assert.equal(permissionBits(['ViewChannel', 'AttachFiles']), V | A);
    assert.equal(permissionLabel('SendTTSMessages'), 'Send TTS Messages');
    assert.equal(permissionLabel('ViewChannel'), 'View Channel');
    assert.equal(parseBits('1024', 'x'), 1024n);
    assert.throws(() => parseBits('-1', 'role 5'), OperationError);
    assert.equal(implicitPermissions(S | A | E), 0n);
    assert.equal(implicitPermissions(V | A | E | H), V | H);
  });
});

describe('tokens: Telegram chat rights', () => {
  const chat = '-1001234567890';
  const verdict = (type: 'channel' | 'group' | 'supergroup' | 'private', member: TelegramMemberView) => telegramChatVerdict({ channel: chat, type, member, account: '@chess_bot', title: 'Course files' });
  const admin = (o: Partial<TelegramMemberView> = {}): TelegramMemberView => ({ status: 'administrator', can_post_messages: true, can_delete_messages: true, ...o });

  const cases: Array<[string, 'channel' | 'group' | 'supergroup', TelegramMemberView, string[], RegExp?]> = [
    ['channel: administrator with post and delete', 'channel', admin(), []],
    ['channel: the creator counts as all rights', 'channel', { status: 'creator' }, []],
    ['channel: administrator without delete', 'channel', admin({ can_delete_messages: false }), ['can_delete_messages'], /^give @chess_bot the administrator right Delete messages in -1001234567890 \("Course files"\)$/],
    ['channel: administrator without post (field absent)', 'channel', admin({ can_post_messages: undefined }), ['can_post_messages']],
    ['channel: a subscriber', 'channel', { status: 'member' }, ['administrator', 'can_post_messages', 'can_delete_messages'], /^make @chess_bot an administrator of -1001234567890 \("Course files"\) with Post messages and Delete messages$/],
    ['channel: left', 'channel', { status: 'left' }, ['member', 'administrator', 'can_post_messages', 'can_delete_messages'], /^add @chess_bot to .* and make it an administrator with Post messages and Delete messages/],
    ['channel: kicked', 'channel', { status: 'kicked' }, ['member', 'administrator', 'can_post_messages', 'can_delete_messages'], /^unban @chess_bot in /],
    ['group: administrator with delete (post is a channel right)', 'group', admin({ can_post_messages: undefined }), []],
    ['supergroup: administrator without delete', 'supergroup', admin({ can_delete_messages: false }), ['can_delete_messages']],
    ['supergroup: the creator', 'supergroup', { status: 'creator' }, []],
    ['group: a plain member', 'group', { status: 'member' }, ['administrator', 'can_delete_messages'], /^make @chess_bot an administrator of .* with Delete messages$/],
    ['supergroup: restricted from sending', 'supergroup', { status: 'restricted', is_member: true, can_send_messages: false }, ['administrator', 'can_delete_messages', 'can_send_messages'], /^lift the restrictions on @chess_bot/],
    ['supergroup: restricted, sending allowed', 'supergroup', { status: 'restricted', is_member: true, can_send_messages: true }, ['administrator', 'can_delete_messages']],
    ['supergroup: restricted and no longer in the chat', 'supergroup', { status: 'restricted', is_member: false, can_send_messages: true }, ['member', 'administrator', 'can_delete_messages'], /^add @chess_bot to/],
    ['group: kicked', 'group', { status: 'kicked' }, ['member', 'administrator', 'can_delete_messages'], /^unban/],
  ];
  for (const [name, type, member, missing, action] of cases) {
    it(name, () => {
      const v = verdict(type, member);
      assert.deepEqual(v.missing, missing);
      assert.equal(v.ok, missing.length === 0);
      assert.equal(v.status, member.status);
      assert.deepEqual(v.where, { type });
      if (action) assert.match(v.action ?? '', action);
      if (!missing.length) assert.equal(v.action, undefined);
    });
  }

  it('a private chat is a configuration error, not a missing right', () => {
    const v = verdict('private', { status: 'member' });
    assert.deepEqual([v.state, v.ok, v.missing], ['error', false, []]);
    assert.match(v.detail ?? '', /not a channel or a group/);
  });
});

describe('tokens: the rights matrix → RightsMap for decide', () => {
  const ok = { channel: 'c', state: 'ok' as const, ok: true, missing: [] };
  const missing = { channel: 'd', state: 'missing' as const, ok: false, missing: ['can_delete_messages'], action: 'x' };
  const err = { channel: 'e', state: 'error' as const, ok: false, missing: [], detail: 'timeout' };
  const bot: BotRights = {
    bot: 'community',
    platform: 'telegram',
    tokens: [
      { index: 0, state: 'checked', channels: [ok, ok] },
      { index: 1, state: 'checked', channels: [ok, missing] },
      { index: 2, state: 'error', detail: '401: Unauthorized', channels: [err] },
      { index: 3, state: 'checked', channels: [ok, err] },
      { index: 4, state: 'checked', channels: [err, missing] },
      { index: 5, state: 'checked', channels: [] },
    ],
  };
  it('all ok → true, any missing → false, unreadable without a missing one → unknown (absent); no channels → true', () => {
    assert.deepEqual(rightsMapOf(bot), { 0: true, 1: false, 4: false, 5: true });
    assert.deepEqual(matrixCounts(bot), { cells: 9, ok: 4, missing: 2, errors: 3, missingRights: 2 });
  });
});
