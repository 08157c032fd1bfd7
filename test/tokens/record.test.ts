import assert from 'node:assert/strict';
import { OperationError, UsageError } from '../../automation/core/errors';
import {
  appendHistory,
  checkActor,
  monitorActor,
  operatorActor,
  parseTokenRecord,
  parseTokenRecordText,
  pin,
  serializeTokenRecord,
  unpin,
  type HistoryEntry,
} from '../../automation/tokens';

const TOK = ['555555:AAplantedRecordTokenA', '666666:AAplantedRecordTokenB'];
const AT = new Date('2026-11-22T10:00:00Z');

describe('tokens: the stored record', () => {
  it('accepts the existing secret format plus platform (no health, history or pin yet)', () => {
    const r = parseTokenRecord({ active: 1, tokens: TOK, platform: 'discord' }, 'bot x');
    assert.deepEqual(r, { active: 1, tokens: TOK, platform: 'discord' });
    assert.equal(serializeTokenRecord(r), JSON.stringify({ active: 1, tokens: TOK, platform: 'discord' }));
  });

  it('keeps fields it does not know and writes them back', () => {
    const r = parseTokenRecordText(JSON.stringify({ platform: 'telegram', tokens: TOK, active: 0, activeRegion: 'us-east-1' }), 'bot x');
    assert.deepEqual(r.extra, { activeRegion: 'us-east-1' });
    assert.deepEqual(JSON.parse(serializeTokenRecord(r)), { active: 0, tokens: TOK, platform: 'telegram', activeRegion: 'us-east-1' });
  });

  it('active_region and webhook_secret: kept in canonical order; malformed ones are refused without echoing the secret', () => {
    const secret = 'whSecret_PLANTED-0123456789abcdefghijklmnopqrstu';
    const r = parseTokenRecord({ webhook_secret: secret, active_region: 'us-west-2', platform: 'telegram', tokens: TOK, active: 0 }, 'bot x');
    assert.equal(r.active_region, 'us-west-2');
    assert.equal(r.webhook_secret, secret);
    assert.equal(r.extra, undefined);
    assert.equal(serializeTokenRecord(r), JSON.stringify({ active: 0, tokens: TOK, platform: 'telegram', active_region: 'us-west-2', webhook_secret: secret }));
    assert.throws(() => parseTokenRecord({ active: 0, tokens: TOK, platform: 'telegram', active_region: 'Not A Region!' }, 'bot x'), /bot x\.active_region: must be a region name/);
    assert.throws(
      () => parseTokenRecord({ active: 0, tokens: TOK, platform: 'telegram', webhook_secret: 'has spaces and ' + secret }, 'bot x'),
      (e: unknown) => e instanceof OperationError && /webhook_secret: must be 1-256 characters/.test(e.message) && !e.message.includes(secret),
    );
  });

  it('rejects malformed records naming the field, never echoing a token', () => {
    const cases: unknown[] = [
      { active: 0, tokens: [], platform: 'telegram' },
      { active: 2, tokens: TOK, platform: 'telegram' },
      { active: 0, tokens: TOK },
      { active: 0, tokens: TOK, platform: 'slack' },
      { active: 0, tokens: [TOK[0], ''], platform: 'telegram' },
      { active: 0, tokens: TOK, platform: 'telegram', pin: { index: 9 } },
      { active: 0, tokens: TOK, platform: 'telegram', history: [{ what: 'dance', from: 0, to: 0 }] },
      { active: 0, tokens: TOK, platform: 'telegram', health: [{ index: 0, consecutive_failures: -1 }] },
    ];
    for (const c of cases) {
      assert.throws(() => parseTokenRecord(c, 'bot x'), (e: unknown) => e instanceof OperationError && e.message.startsWith('bot x') && !TOK.some((t) => e.message.includes(t)));
    }
    assert.throws(() => parseTokenRecordText(`{"tokens":["${TOK[0]}"`, 'bot x'), (e: unknown) => e instanceof OperationError && !e.message.includes(TOK[0]));
  });

  it('drops health entries of tokens no longer in the list', () => {
    const r = parseTokenRecord({ active: 0, tokens: TOK, platform: 'telegram', health: [{ index: 5, consecutive_failures: 1, consecutive_passes: 0 }, { index: 1, consecutive_failures: 0, consecutive_passes: 2, last_state: 'healthy' }] }, 'b');
    assert.deepEqual(r.health, [{ index: 1, consecutive_failures: 0, consecutive_passes: 2, last_state: 'healthy' }]);
  });

  it('history keeps the last N entries', () => {
    const e = (i: number): HistoryEntry => ({ id: String(i), at: '', by: 'monitor@a', what: 'alert', from: 0, to: 0, reason: 'x', why: 'y' });
    let h: HistoryEntry[] = [];
    for (let i = 0; i < 7; i++) h = appendHistory(h, e(i), 5);
    assert.deepEqual(h.map((x) => x.id), ['2', '3', '4', '5', '6']);
  });

  it('actor names: monitor@<region> or operator:<user>', () => {
    assert.equal(monitorActor('eu-west-1'), 'monitor@eu-west-1');
    assert.equal(operatorActor('alice'), 'operator:alice');
    assert.throws(() => checkActor('alice'), UsageError);
    assert.throws(() => operatorActor('bob smith'), UsageError);
  });
});

describe('tokens: pin / unpin (manual override)', () => {
  const base = parseTokenRecord({ active: 0, tokens: [...TOK, '777777:AAplantedRecordTokenC'], platform: 'telegram', health: [{ index: 2, consecutive_failures: 0, consecutive_passes: 1, switched_away_at: '2026-11-22T09:00:00.000Z' }] }, 'b');

  it('pin makes the token active, records who, when and why, and appends history', () => {
    const { record, entry } = pin(base, 2, '  incident 42: token 0 leaked  ', 'operator:alice', AT, { bot: 'community', version: 'v1' });
    assert.equal(record.active, 2);
    assert.deepEqual(record.pin, { index: 2, reason: 'incident 42: token 0 leaked', by: 'operator:alice', at: AT.toISOString() });
    assert.equal(record.health?.[0].switched_away_at, undefined, 'an operator choice clears the anti-flap mark');
    assert.deepEqual(record.history, [entry]);
    assert.deepEqual({ ...entry, id: '' }, { id: '', at: AT.toISOString(), by: 'operator:alice', what: 'pin', from: 0, to: 2, reason: 'manual', why: 'token 2 pinned by operator:alice: incident 42: token 0 leaked' });
    assert.equal(base.active, 0, 'input untouched');
    assert.equal(pin(base, 2, 'x', 'operator:bob', new Date(0), { bot: 'community', version: 'v1' }).entry.id, entry.id, 'id from bot, version, action, target');
  });

  it('pin validates the index, the reason and the actor', () => {
    for (const bad of [3, -1, 1.5, Number.NaN]) assert.throws(() => pin(base, bad, 'r', 'operator:alice', AT), (e: unknown) => e instanceof UsageError && /0\.\.2/.test(e.message));
    assert.throws(() => pin(base, 1, '   ', 'operator:alice', AT), UsageError);
    assert.throws(() => pin(base, 1, 'r', 'alice', AT), UsageError);
  });

  it('unpin lifts the pin and keeps the active token; unpin without a pin is refused', () => {
    const pinned = pin(base, 1, 'drill', 'operator:alice', AT).record;
    const { record, entry } = unpin(pinned, 'operator:bob', AT);
    assert.equal(record.pin, undefined);
    assert.equal(record.active, 1);
    assert.deepEqual([entry.what, entry.from, entry.to, entry.by], ['unpin', 1, 1, 'operator:bob']);
    assert.equal(record.history?.length, 2);
    assert.throws(() => unpin(base, 'operator:bob', AT), UsageError);
  });
});
