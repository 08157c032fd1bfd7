/**
 * One consumer per token: shouldConsume's three cases, and setActiveRegion's check-then-act compare-and-set over a
 * store (already → no write; written once; a racing writer's change kept; a retried decision idempotent; no token in
 * an error).
 */
import assert from 'node:assert/strict';
import { setActiveRegion, shouldConsume, type TokenRecord } from '../../automation/tokens';
import { MemoryTokenStore, telegramToken } from '../helpers/token-fakes';

const T = [telegramToken('ar-0'), telegramToken('ar-1')];
const REC: TokenRecord = { active: 0, tokens: T, platform: 'telegram' };

describe('tokens: active_region (one consumer per token)', () => {
  it('shouldConsume: no active_region → every region (old records); its own region → true; any other, or no region → false', () => {
    assert.equal(shouldConsume(REC, 'b'), true);
    assert.equal(shouldConsume(REC, undefined), true);
    assert.equal(shouldConsume({ ...REC, active_region: 'b' }, 'b'), true);
    assert.equal(shouldConsume({ ...REC, active_region: 'b' }, 'a'), false);
    assert.equal(shouldConsume({ ...REC, active_region: 'b' }, undefined), false, 'fail closed: a runtime that does not know its region consumes nothing');
  });

  it('writes only active_region, once; a record that already says so is left alone (no write)', async () => {
    const store = new MemoryTokenStore().set('community', { ...REC, active: 1, health: [{ index: 0, consecutive_failures: 2, consecutive_passes: 0 }] });
    const w = await setActiveRegion(store, 'community', 'b', { key: 'fo-1' });
    assert.equal(w.outcome, 'written');
    assert.equal(w.before, undefined);
    const after = store.get('community');
    assert.deepEqual(after, { ...REC, active: 1, health: [{ index: 0, consecutive_failures: 2, consecutive_passes: 0 }], active_region: 'b' }, 'nothing else changed');
    const again = await setActiveRegion(store, 'community', 'b', { key: 'fo-1' });
    assert.equal(again.outcome, 'already');
    assert.equal(store.writes.length, 1, 'checked, not written twice');
    const back = await setActiveRegion(store, 'community', 'a', { key: 'fo-2' });
    assert.deepEqual([back.outcome, back.before], ['written', 'b']);
  });

  it('a writer in between (the token monitor switching) is re-read and kept; the retry is a new decision', async () => {
    const store = new MemoryTokenStore().set('community', REC);
    let raced = false;
    store.beforeWrite = () => {
      if (raced) return;
      raced = true;
      store.set('community', { ...REC, active: 1 });
    };
    const w = await setActiveRegion(store, 'community', 'b', { key: 'fo-1' });
    assert.equal(w.outcome, 'written');
    assert.deepEqual(store.writes.map((x) => x.outcome), ['conflict', 'written']);
    assert.notEqual(store.writes[0].opts.requestId, store.writes[1].opts.requestId, 'the request id covers the version read');
    assert.deepEqual([store.get('community').active, store.get('community').active_region], [1, 'b'], "the monitor's switch survives");
  });

  it('gives up after the attempts with an error that names the bot and never a token', async () => {
    const store = new MemoryTokenStore().set('community', REC);
    store.beforeWrite = () => store.set('community', { ...REC, active: (store.get('community').active + 1) % 2 });
    await assert.rejects(setActiveRegion(store, 'community', 'b', { key: 'fo-1', attempts: 3 }), (err: Error) => {
      assert.match(err.message, /bot community: could not set active_region=b in memory after 3 attempts/);
      for (const t of T) assert.ok(!err.message.includes(t));
      return true;
    });
  });
});
