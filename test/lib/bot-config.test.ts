/**
 * Issue 10, stack config of the bots: the plain list of names and the object form (platform, channels, webhookUrl),
 * token shapes per platform (Telegram `<digits>:<35>`, Discord three base64url parts) checked with errors that name
 * the token's key and index and never echo a value, and which stack may declare what.
 */
import { strict as assert } from 'node:assert';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError, loadConfig, mapConfigSource, readBotsSettings, StackConfig } from '../../lib/config';
import { isChannelId, isPlatformToken } from '../../lib/validators';
import { discordToken, telegramToken } from '../helpers/token-fakes';

const P = 'bot-platform-dr';
const TG = [0, 1, 2].map((i) => telegramToken(`bot-config-tg-${i}`));
const DC = [0, 1].map((i) => discordToken(`bot-config-dc-${i}`));
const BASE = {
  [`${P}:role`]: 'primary',
  'aws:region': 'us-east-1',
  [`${P}:peerRegion`]: 'us-west-2',
  [`${P}:peerStack`]: 'acme/bot-platform-dr/secondary',
};
const SECONDARY = { ...BASE, [`${P}:role`]: 'secondary', 'aws:region': 'us-west-2', [`${P}:peerRegion`]: 'us-east-1', [`${P}:peerStack`]: 'acme/bot-platform-dr/primary' };

const load = (over: Record<string, unknown>, base: Record<string, unknown> = BASE): StackConfig => loadConfig(mapConfigSource({ ...base, ...over }));
function problems(over: Record<string, unknown>, base: Record<string, unknown> = BASE): ConfigError {
  try {
    load(over, base);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('expected a ConfigError');
}
const keysOf = (e: ConfigError) => e.problems.map((p) => p.key);
const secretValue = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((res) => o.apply((v) => res(v)));

describe('config: bots (plain list and object form) and token shapes', () => {
  it('the plain list of names keeps working: every bot on telegram, no channels, no webhook', async () => {
    const c = load({ [`${P}:bots`]: ['community', 'moderation'], [`${P}:botTokens`]: { community: [TG[0], TG[1]], moderation: TG[2] } });
    assert.deepEqual(c.bots.map((b) => [b.name, b.platform, b.channels, b.webhookUrl, b.tokenCount]), [
      ['community', 'telegram', [], undefined, 2],
      ['moderation', 'telegram', [], undefined, 1],
    ]);
    assert.deepEqual(await secretValue(c.bots[1].tokens), [TG[2]]);
    // `bots: community, moderation` (a plain comma-separated string) too.
    assert.deepEqual(load({ [`${P}:bots`]: 'community,moderation', [`${P}:botTokens`]: { community: [TG[0]], moderation: [TG[1]] } }).bots.map((b) => b.name), ['community', 'moderation']);
  });

  it('the object form: platform, channels (numbers kept exact, as strings) and an https webhook, in declaration order', () => {
    const c = load({
      [`${P}:bots`]: {
        community: { platform: 'telegram', channels: [-1001234567890, '@chessmaster_courses'] },
        moderation: { platform: 'discord', channels: ['123456789012345678'], webhookUrl: 'https://bot.example.com/discord' },
        helper: null,
      },
      [`${P}:botTokens`]: { community: [TG[0]], moderation: DC, helper: [TG[1]] },
    });
    assert.deepEqual(c.bots.map((b) => [b.name, b.platform, b.channels, b.webhookUrl ?? null, b.tokenCount]), [
      ['community', 'telegram', ['-1001234567890', '@chessmaster_courses'], null, 1],
      ['moderation', 'discord', ['123456789012345678'], 'https://bot.example.com/discord', 2],
      ['helper', 'telegram', [], null, 1],
    ]);
  });

  it('a token that does not look like its platform\'s fails naming its key with the index, and never echoes a value', () => {
    const wrong = `${TG[0].slice(0, -1)}`; // 34 characters after the colon
    const e = problems({
      [`${P}:bots`]: { community: {}, moderation: { platform: 'discord' } },
      [`${P}:botTokens`]: { community: [TG[0], wrong, DC[0]], moderation: [DC[0], TG[1]] },
    });
    assert.deepEqual(keysOf(e).sort(), [`${P}:botTokens.community[1]`, `${P}:botTokens.community[2]`, `${P}:botTokens.moderation[1]`]);
    assert.match(e.problems.find((p) => p.key === `${P}:botTokens.community[1]`)!.message, /Telegram bot token: <digits>:<35 characters/);
    assert.match(e.problems.find((p) => p.key === `${P}:botTokens.moderation[1]`)!.message, /Discord bot token: three dot-separated base64url parts/);
    assert.ok(e.message.includes(`${P}:botTokens.community[1]`), 'the thrown message names the key');
    for (const t of [...TG, ...DC, wrong]) assert.ok(!e.message.includes(t), 'no token value in the error');
    // A single token (not a list) is named by its key.
    assert.deepEqual(keysOf(problems({ [`${P}:bots`]: ['community'], [`${P}:botTokens`]: { community: 'not-a-token' } })), [`${P}:botTokens.community`]);
  });

  it('shape rules: Telegram <digits>:<35 of [A-Za-z0-9_-]>, Discord three dot-separated base64url parts', () => {
    for (const t of TG) assert.equal(isPlatformToken('telegram', t), true, t);
    for (const t of DC) assert.equal(isPlatformToken('discord', t), true, t);
    for (const bad of ['123:abc', `abc:${'a'.repeat(35)}`, `123:${'a'.repeat(34)}`, `123:${'a'.repeat(35)}!`, `123:${'a'.repeat(36)}`, DC[0]]) assert.equal(isPlatformToken('telegram', bad), false, bad);
    for (const bad of ['a.b', 'abc.def.g!h', 'abc.def.ghi.jkl', 'abc..ghi', TG[0]]) assert.equal(isPlatformToken('discord', bad), false, bad);
    assert.equal(isChannelId('telegram', '-1001234567890'), true);
    assert.equal(isChannelId('telegram', '@chess_club'), true);
    assert.equal(isChannelId('telegram', '@ab'), false);
    assert.equal(isChannelId('discord', '123456789012345678'), true);
    assert.equal(isChannelId('discord', '@chess_club'), false);
  });

  it('bad settings name their key and say what is allowed (the webhook URL is never echoed)', () => {
    const e = problems({
      [`${P}:bots`]: {
        community: { platform: 'whatsapp', colour: 'blue' },
        moderation: { platform: 'discord', channels: ['@mods', 123456789012345678], webhookUrl: 'http://hooks.example.com/s3cr3t-path' },
        helper: 'telegram',
      },
      [`${P}:botTokens`]: { community: [TG[0]], moderation: [DC[0]], helper: [TG[1]] },
    });
    const msg = (k: string) => e.problems.find((p) => p.key === `${P}:${k}`)?.message ?? `no problem for ${k}: ${e.message}`;
    assert.match(msg('bots.community.platform'), /telegram \| discord, got "whatsapp"/);
    assert.match(msg('bots.community.colour'), /unknown key; allowed: platform, channels, webhookUrl/);
    assert.match(msg('bots.moderation.channels[0]'), /Discord channel snowflake/);
    assert.match(msg('bots.moderation.channels[1]'), /not an exact integer.*quoted as strings/);
    assert.match(msg('bots.moderation.webhookUrl'), /must be an https:\/\/ URL/);
    assert.match(msg('bots.helper'), /must be an object \{ platform, channels, webhookUrl, mode, permissions \}/);
    assert.ok(!e.message.includes('s3cr3t-path'), 'the webhook URL is not echoed');
    assert.deepEqual(keysOf(problems({ [`${P}:bots`]: ['community', { name: 'x' }], [`${P}:botTokens`]: { community: [TG[0]] } })), [`${P}:bots[1]`]);
    assert.deepEqual(keysOf(problems({ [`${P}:bots`]: 42 })), [`${P}:bots`]);
  });

  it('issue 11: mode (webhook by default, or polling), the Telegram webhook URL defaulting to the failover record, Discord permissions', () => {
    const dns = { [`${P}:dns`]: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'Bot.Example.com', endpoint: 'bot-use1.example.com' } };
    const c = load({
      ...dns,
      [`${P}:bots`]: {
        community: { channels: ['-1001234567890'] },
        polls: { mode: 'polling' },
        courses: { webhookUrl: 'https://hooks.example.com/courses' },
        moderation: { platform: 'discord', channels: ['123456789012345678/223456789012345678'], permissions: ['ViewChannel', 'ManageMessages'], webhookUrl: 'https://bot.example.com/discord' },
        gateway: { platform: 'discord', mode: 'polling' },
      },
      [`${P}:botTokens`]: { community: [TG[0]], polls: [TG[1]], courses: [TG[2]], moderation: [DC[0]], gateway: [DC[1]] },
    });
    assert.deepEqual(c.bots.map((b) => [b.name, b.mode, b.webhookUrl ?? null, b.webhookUrlDefaulted ?? false, b.permissions]), [
      ['community', 'webhook', 'https://bot.example.com/telegram/community', true, []],
      ['polls', 'polling', null, false, []],
      ['courses', 'webhook', 'https://hooks.example.com/courses', false, []],
      ['moderation', 'webhook', 'https://bot.example.com/discord', false, ['ViewChannel', 'ManageMessages']],
      ['gateway', 'polling', null, false, ['ViewChannel', 'SendMessages', 'AttachFiles', 'ReadMessageHistory']],
    ]);
    assert.deepEqual(c.bots[3].channels, ['123456789012345678/223456789012345678'], 'a Discord channel may name its guild');
    // Without DNS a Telegram webhook bot has no default URL (the monitor reports it as not configured).
    assert.equal(load({ [`${P}:bots`]: ['community'], [`${P}:botTokens`]: { community: [TG[0]] } }).bots[0].webhookUrl, undefined);
    const e = problems({
      [`${P}:bots`]: {
        community: { mode: 'push', permissions: ['ViewChannel'] },
        polls: { mode: 'polling', webhookUrl: 'https://hooks.example.com/s3cr3t-path' },
        moderation: { platform: 'discord', permissions: ['ViewChannel', 'SendMesages', 'ViewChannel'] },
        empty: { platform: 'discord', permissions: [] },
      },
      [`${P}:botTokens`]: { community: [TG[0]], polls: [TG[1]], moderation: [DC[0]], empty: [DC[1]] },
    });
    const msg = (k: string) => e.problems.find((p) => p.key === `${P}:${k}`)?.message ?? `no problem for ${k}: ${e.message}`;
    assert.deepEqual(keysOf(e).sort(), [`${P}:bots.community.mode`, `${P}:bots.community.permissions`, `${P}:bots.empty.permissions`, `${P}:bots.moderation.permissions[1]`, `${P}:bots.moderation.permissions[2]`, `${P}:bots.polls.webhookUrl`].sort());
    assert.match(msg('bots.community.mode'), /must be webhook \| polling, got "push"/);
    assert.match(msg('bots.community.permissions'), /applies to Discord bots only/);
    assert.match(msg('bots.polls.webhookUrl'), /a polling bot has no webhook .*409/);
    assert.match(msg('bots.moderation.permissions[1]'), /PermissionFlagsBits.*got "SendMesages"/);
    assert.match(msg('bots.moderation.permissions[2]'), /listed twice/);
    assert.ok(!e.message.includes('s3cr3t-path'), 'the webhook URL is not echoed');
  });

  it('readBotsSettings: the bots of a settings file without touching botTokens (ciphertext there is fine)', () => {
    const r = readBotsSettings(mapConfigSource({
      [`${P}:bots`]: { community: { channels: ['@chess_club'] }, moderation: { platform: 'discord', mode: 'polling', permissions: ['Bogus'] } },
      [`${P}:botTokens`]: { community: [{ secure: 'v1:abc' }] },
      [`${P}:dns`]: { recordName: 'bot.example.com' },
    }));
    assert.deepEqual(r.bots.map((b) => [b.name, b.platform, b.mode, b.webhookUrl ?? null, b.channels]), [
      ['community', 'telegram', 'webhook', 'https://bot.example.com/telegram/community', ['@chess_club']],
      ['moderation', 'discord', 'polling', null, []],
    ]);
    assert.deepEqual(r.problems.map((p) => p.key), [`${P}:bots.moderation.permissions[0]`]);
  });

  it('which stack declares what: tokens required on the primary, refused on a secondary, optional when promoted', () => {
    const bots = { [`${P}:bots`]: { community: {}, moderation: { platform: 'discord' } } };
    assert.deepEqual(keysOf(problems({ ...bots, [`${P}:botTokens`]: { community: [TG[0]] } })), [`${P}:botTokens.moderation`]);
    const sec = load(bots, SECONDARY);
    assert.deepEqual(sec.bots.map((b) => [b.name, b.platform, b.tokenCount]), [['community', 'telegram', 0], ['moderation', 'discord', 0]]);
    assert.deepEqual(keysOf(problems({ ...bots, [`${P}:botTokens`]: { community: [TG[0]] } }, SECONDARY)), [`${P}:botTokens`]);
    const promoted = { ...SECONDARY, [`${P}:database`]: { promoted: true } };
    assert.deepEqual(load(bots, promoted).bots.map((b) => b.tokenCount), [0, 0]);
    // A secondary finds each secret by name (its monitor; its adoption once promoted): an ARN-suffix-like name is refused.
    assert.match(problems({ [`${P}:bots`]: ['chess-helper'] }, SECONDARY).problems[0].message, /ARN suffix/);
  });
});
