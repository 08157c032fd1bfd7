/**
 * Issue 11, the engine's pure and port-level pieces: where a bot's updates should go (`expectedEndpoint`), the webhook
 * secret generated once and stored with compare-and-set (`ensureWebhookSecret`, including the race two monitors run),
 * and a saved channel-rights matrix against the live one (`diffPermissionMatrices`, `parsePermissionMatrix`).
 */
import assert from 'node:assert/strict';
import { OperationError } from '../../automation/core/errors';
import { redact } from '../../automation/core/redact';
import { diffPermissionMatrices, ensureWebhookSecret, expectedEndpoint, parsePermissionMatrix, type PermissionMatrix } from '../../automation/tokens';
import { MemoryTokenStore, telegramToken } from '../helpers/token-fakes';

const TG = [telegramToken('engine11-0'), telegramToken('engine11-1')];

describe('tokens (issue 11): endpoints, the webhook secret, matrix differences', () => {
  it('expectedEndpoint: Telegram webhook / polling / unconfigured; Discord interactions only with a URL in webhook mode', () => {
    assert.deepEqual(expectedEndpoint({ bot: 'c', platform: 'telegram', mode: 'webhook', webhookUrl: 'https://bot.example.com/telegram/c' }), { kind: 'telegram-webhook', url: 'https://bot.example.com/telegram/c' });
    assert.deepEqual(expectedEndpoint({ bot: 'c', platform: 'telegram', mode: 'polling' }), { kind: 'telegram-polling' });
    const u = expectedEndpoint({ bot: 'c', platform: 'telegram', mode: 'webhook' });
    assert.equal(u.kind, 'unconfigured');
    assert.match((u as { why: string }).why, /bots\.c\.webhookUrl .*dns\.recordName.*bots\.c\.mode polling/);
    assert.deepEqual(expectedEndpoint({ bot: 'm', platform: 'discord', mode: 'webhook', webhookUrl: 'https://bot.example.com/discord' }), { kind: 'discord-interactions', url: 'https://bot.example.com/discord' });
    assert.deepEqual(expectedEndpoint({ bot: 'm', platform: 'discord', mode: 'webhook' }), { kind: 'discord-gateway' });
    assert.deepEqual(expectedEndpoint({ bot: 'm', platform: 'discord', mode: 'polling' }), { kind: 'discord-gateway' });
  });

  it('ensureWebhookSecret: generated once (compare-and-set), kept afterwards, never without apply, redacted everywhere', async () => {
    const store = new MemoryTokenStore().set('community', { active: 0, tokens: TG, platform: 'telegram' });
    assert.deepEqual(await ensureWebhookSecret({ store, bot: 'community', apply: false }), { secret: undefined, outcome: 'kept' });
    assert.equal(store.writes.length, 0, 'a read-only run writes nothing');
    const first = await ensureWebhookSecret({ store, bot: 'community', apply: true });
    assert.equal(first.outcome, 'generated');
    assert.match(first.secret ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(store.get('community').webhook_secret, first.secret);
    assert.deepEqual(store.get('community').tokens, TG, 'the tokens are kept');
    assert.equal(store.writes[0].opts.expectVersion, 'v1');
    assert.match(store.writes[0].opts.requestId, /^[0-9a-f]{40}$/);
    const again = await ensureWebhookSecret({ store, bot: 'community', apply: true });
    assert.deepEqual(again, { secret: first.secret, outcome: 'kept' });
    assert.equal(store.writes.length, 1, 'generated once');
    assert.equal(redact(`secret_token=${first.secret}`).includes(first.secret!), false, 'registered for redaction');
  });

  it('ensureWebhookSecret: two monitors racing: the loser re-reads and uses the winner\'s secret', async () => {
    const store = new MemoryTokenStore().set('community', { active: 0, tokens: TG, platform: 'telegram' });
    const winner = 'W'.repeat(43);
    store.beforeWrite = () => {
      store.beforeWrite = undefined;
      store.set('community', { active: 0, tokens: TG, platform: 'telegram', webhook_secret: winner });
    };
    const r = await ensureWebhookSecret({ store, bot: 'community', apply: true });
    assert.deepEqual(r, { secret: winner, outcome: 'taken-from-another-writer' });
    // A record changed by someone else who did NOT store a secret: an error for this run, no blind retry.
    const other = new MemoryTokenStore().set('community', { active: 0, tokens: TG, platform: 'telegram' });
    other.beforeWrite = () => {
      other.beforeWrite = undefined;
      other.set('community', { active: 1, tokens: TG, platform: 'telegram' });
    };
    await assert.rejects(ensureWebhookSecret({ store: other, bot: 'community', apply: true }), (e: unknown) => e instanceof OperationError && /could not be stored/.test(e.message));
  });

  const matrix = (at: string, cells: Array<[string, number, string, 'ok' | 'missing' | 'error', string[]]>): PermissionMatrix => {
    const bots = new Map<string, PermissionMatrix['bots'][number]>();
    for (const [bot, index, channel, state, missing] of cells) {
      const b = bots.get(bot) ?? { bot, platform: 'telegram' as const, tokens: [] };
      bots.set(bot, b);
      let t = b.tokens.find((x) => x.index === index);
      if (!t) b.tokens.push((t = { index, state: 'checked', channels: [] }));
      t.channels.push({ channel, state, ok: state === 'ok', missing });
    }
    return { checked_at: at, bots: [...bots.values()] };
  };

  it('diffPermissionMatrices: lost and regained rights, new and removed cells; unchanged cells counted', () => {
    const saved = matrix('2026-11-01T00:00:00.000Z', [
      ['community', 0, '-1001', 'ok', []],
      ['community', 1, '-1001', 'ok', []],
      ['community', 1, '-1002', 'missing', ['can_delete_messages']],
      ['community', 2, '-1001', 'ok', []],
    ]);
    const live = matrix('2026-11-22T00:00:00.000Z', [
      ['community', 0, '-1001', 'ok', []],
      ['community', 1, '-1001', 'missing', ['can_post_messages']],
      ['community', 1, '-1002', 'ok', []],
      ['community', 1, '-1003', 'error', []],
    ]);
    const d = diffPermissionMatrices(saved, live);
    assert.deepEqual([d.saved_at, d.live_at, d.unchanged], ['2026-11-01T00:00:00.000Z', '2026-11-22T00:00:00.000Z', 1]);
    assert.deepEqual(d.changes.map((c) => c.what), [
      'community token 1 in -1001: ok → missing can_post_messages',
      'community token 1 in -1002: missing can_delete_messages → ok',
      'community token 1 in -1003: not checked → error',
      'community token 2 in -1001: ok → not checked',
    ]);
    assert.deepEqual([d.changes[2].before, d.changes[3].after], ['absent', 'absent']);
    assert.deepEqual(diffPermissionMatrices(live, live).changes, []);
  });

  it('parsePermissionMatrix: a saved matrix round-trips; a bad one names its path', () => {
    const m = matrix('2026-11-01T00:00:00.000Z', [['community', 0, '-1001', 'missing', ['administrator']]]);
    assert.deepEqual(parsePermissionMatrix(JSON.parse(JSON.stringify(m)), 'permissions.json'), m);
    assert.throws(() => parsePermissionMatrix({ checked_at: 'x', bots: [{ bot: 'c', platform: 'telegram', tokens: [{ index: 0, state: 'checked', channels: [{ channel: '-1', state: 'maybe', missing: [] }] }] }] }, 'permissions.json'), /permissions\.json\.bots\[0\]\.tokens\[0\]\.channels\[0\]: must be/);
    assert.throws(() => parsePermissionMatrix([], 'permissions.json'), /must be a channel-rights matrix/);
  });
});
