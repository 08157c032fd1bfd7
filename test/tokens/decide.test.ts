/**
 * The token rules as a decision table: each rule of automation/tokens/decide.ts with the input that triggers it and
 * the decision and record it must produce.
 */
import assert from 'node:assert/strict';
import { UsageError } from '../../automation/core/errors';
import { decide, type DecideOptions, type ParsedTokenRecord, type ProbeState, type TokenDecision, type TokenProbe } from '../../automation/tokens';

const T0 = new Date('2026-11-22T10:00:00Z');
const TOKENS = ['111111:AAtokenZero-aaaaaaaaaa', '222222:AAtokenOne-bbbbbbbbbb', '333333:AAtokenTwo-cccccccccc', '444444:AAtokenThree-dddddddd'];

function rec(active = 0, n = 4, extra: Partial<ParsedTokenRecord> = {}): ParsedTokenRecord {
  return { active, tokens: TOKENS.slice(0, n), platform: 'telegram', ...extra };
}

function probe(index: number, state: ProbeState, extra: Partial<TokenProbe> = {}): TokenProbe {
  return { index, state, latency_ms: 12, ...extra };
}

/** One probe per token from a compact list of states ('skip' = rate-limited and not probed this run). */
function probes(...states: Array<ProbeState | 'skip'>): TokenProbe[] {
  return states.map((s, i) => (s === 'skip' ? probe(i, 'rate-limited', { skipped: true, latency_ms: 0 }) : probe(i, s)));
}

function minutes(k: number): Date {
  return new Date(T0.getTime() + k * 60_000);
}

function opts(k = 0, extra: Partial<DecideOptions> = {}): DecideOptions {
  return { bot: 'community', version: `v${k}`, now: minutes(k), by: 'monitor@us-east-1', ...extra };
}

/** Run decisions one minute apart, feeding each new record to the next; returns every decision. */
function run(start: ParsedTokenRecord, rounds: TokenProbe[][], extra: Partial<DecideOptions> = {}): TokenDecision[] {
  const out: TokenDecision[] = [];
  let r = start;
  rounds.forEach((ps, k) => {
    const d = decide(r, ps, opts(k, extra));
    out.push(d);
    r = d.record;
  });
  return out;
}

describe('tokens: decide (decision table)', () => {
  it('healthy active: keep; counters saturate so a steady world stops changing the record', () => {
    const ds = run(rec(), [probes('healthy', 'healthy', 'healthy', 'healthy'), probes('healthy', 'healthy', 'healthy', 'healthy'), probes('healthy', 'healthy', 'healthy', 'healthy'), probes('healthy', 'healthy', 'healthy', 'healthy')]);
    assert.deepEqual(ds.map((d) => [d.action, d.reason]), Array(4).fill(['keep', 'healthy']));
    assert.deepEqual(ds.map((d) => d.changed), [true, true, true, false], 'passes 1, 2, 3 (= M) then saturated');
    assert.deepEqual(ds[3].record.health?.map((h) => [h.consecutive_passes, h.consecutive_failures, h.last_state]), Array(4).fill([3, 0, 'healthy']));
    assert.equal(ds[3].record.history, undefined, 'keep is not history');
    assert.equal(ds[3].entry, undefined);
  });

  it('401/403 (revoked): the active token fails at once and the monitor switches to the next healthy token', () => {
    const [d] = run(rec(), [probes('revoked', 'healthy', 'healthy', 'healthy')]);
    assert.equal(d.action, 'switch');
    assert.equal(d.reason, 'revoked');
    assert.deepEqual([d.from, d.to, d.record.active], [0, 1, 1]);
    assert.equal(d.record.health?.[0].consecutive_failures, 3);
    assert.equal(d.record.health?.[0].switched_away_at, T0.toISOString());
    assert.equal(d.entry?.what, 'switch');
    assert.equal(d.record.history?.length, 1);
    assert.deepEqual(d.record.history?.[0], { id: d.id, at: T0.toISOString(), by: 'monitor@us-east-1', what: 'switch', from: 0, to: 1, reason: 'revoked', why: d.why });
    assert.match(d.why, /token 0 is revoked.*switched to token 1/);
  });

  it('other failures switch only after N (3) failed probes in a row; a healthy probe resets the count', () => {
    const f = probes('failing', 'healthy', 'healthy', 'healthy');
    const ok = probes('healthy', 'healthy', 'healthy', 'healthy');
    const ds = run(rec(), [f, f, ok, f, f, f]);
    assert.deepEqual(ds.map((d) => d.action), ['keep', 'keep', 'keep', 'keep', 'keep', 'switch']);
    assert.deepEqual(ds.map((d) => d.reason), ['failing-below-threshold', 'failing-below-threshold', 'healthy', 'failing-below-threshold', 'failing-below-threshold', 'failing']);
    assert.match(ds[4].why, /failed 2 of 3 probes in a row/);
    assert.equal(ds[5].to, 1);
    const n2 = run(rec(), [f, f, f, f], { failuresToSwitch: 2 });
    assert.deepEqual(n2.map((d) => d.action), ['keep', 'switch', 'keep', 'keep'], 'N is an option');
  });

  it('a timeout on the active token alone (others answer) counts toward N like any failure', () => {
    const u = probes('unreachable', 'healthy', 'healthy', 'healthy');
    const ds = run(rec(), [u, u, u]);
    assert.deepEqual(ds.map((d) => d.action), ['keep', 'keep', 'switch']);
    assert.equal(ds[2].platformDegraded, false);
  });

  it('429 (rate-limited) is never a reason to switch: counters stay and next_probe_at honours retry_after', () => {
    const f = probes('failing', 'healthy', 'healthy', 'healthy');
    const limited = [probe(0, 'rate-limited', { retry_after_s: 30 }), probe(1, 'healthy'), probe(2, 'healthy'), probe(3, 'healthy')];
    const ds = run(rec(), [f, f, limited, limited, f]);
    assert.deepEqual(ds.map((d) => [d.action, d.reason]), [
      ['keep', 'failing-below-threshold'],
      ['keep', 'failing-below-threshold'],
      ['keep', 'rate-limited'],
      ['keep', 'rate-limited'],
      ['switch', 'failing'],
    ]);
    assert.equal(ds[2].record.health?.[0].consecutive_failures, 2, 'a 429 neither counts nor resets');
    assert.equal(ds[2].record.health?.[0].next_probe_at, new Date(minutes(2).getTime() + 30_000).toISOString());
    assert.deepEqual(ds[2].nextProbeAt, [{ index: 0, at: new Date(minutes(2).getTime() + 30_000).toISOString() }]);
    assert.equal(ds[4].record.health?.[1].next_probe_at, undefined);
    const skipped = decide(ds[2].record, probes('skip', 'healthy', 'healthy', 'healthy'), opts(3));
    assert.deepEqual([skipped.action, skipped.reason], ['keep', 'rate-limited']);
    assert.equal(skipped.record.health?.[0].next_probe_at, ds[2].record.health?.[0].next_probe_at, 'a skipped token keeps its next_probe_at');
  });

  it('every token unreachable (timeouts, 5xx): platform-degraded alert, never a switch, counters frozen', () => {
    const down = probes('unreachable', 'unreachable', 'unreachable', 'unreachable');
    const ds = run(rec(), [down, down, down, down, down]);
    assert.ok(ds.every((d) => d.action === 'alert' && d.reason === 'platform-degraded' && d.record.active === 0 && d.platformDegraded));
    assert.deepEqual(ds[4].record.health?.map((h) => h.consecutive_failures), [0, 0, 0, 0]);
    assert.equal(ds[0].entry?.reason, 'platform-degraded');
    assert.equal(ds[1].entry, undefined, 'the standing outage is not appended again within realertAfterMs');
    // Skipped (rate-limited) tokens do not count against "every token unreachable".
    const d = decide(rec(), [probe(0, 'unreachable'), probe(1, 'unreachable'), probe(2, 'rate-limited', { skipped: true }), probe(3, 'unreachable')], opts());
    assert.equal(d.reason, 'platform-degraded');
    // The caller's cross-bot view wins: another bot on the platform answered, so this is no platform outage.
    const own = decide(rec(), down, opts(0, { platformDegraded: false }));
    assert.deepEqual([own.action, own.reason, own.record.health?.[0].consecutive_failures], ['keep', 'failing-below-threshold', 1]);
    // A 429 proves the platform answers.
    const limited = decide(rec(), [probe(0, 'unreachable'), probe(1, 'rate-limited'), probe(2, 'unreachable'), probe(3, 'unreachable')], opts());
    assert.equal(limited.platformDegraded, false);
  });

  it('switch target: the next token in rotation order whose probe passed this run, wrapping around', () => {
    const d = decide(rec(1), [probe(0, 'healthy'), probe(1, 'revoked'), probe(2, 'rate-limited', { skipped: true }), probe(3, 'healthy')], opts());
    assert.deepEqual([d.action, d.to], ['switch', 3], 'token 2 is unproven this run (not probed)');
    const wrap = decide(rec(3), probes('healthy', 'failing', 'unreachable', 'revoked'), opts());
    assert.deepEqual([wrap.action, wrap.to], ['switch', 0]);
    const unproven = decide(rec(0), [probe(0, 'revoked'), probe(1, 'rate-limited'), probe(2, 'failing'), probe(3, 'unreachable')], opts());
    assert.deepEqual([unproven.action, unproven.reason, unproven.record.active], ['alert', 'no-healthy-token', 0]);
  });

  it('prefers a token with all channel rights when a rights map is given (then unknown rights, then the rest)', () => {
    const ps = probes('revoked', 'healthy', 'healthy', 'healthy');
    assert.equal(decide(rec(), ps, opts()).to, 1, 'no rights map: rotation order');
    assert.equal(decide(rec(), ps, opts(0, { rights: { 1: false, 2: false, 3: true } })).to, 3);
    assert.equal(decide(rec(), ps, opts(0, { rights: { 1: false, 3: false } })).to, 2, 'unknown rights before missing rights');
    assert.equal(decide(rec(), ps, opts(0, { rights: { 1: false, 2: false, 3: false } })).to, 1, 'nobody has full rights: rotation order');
    assert.match(decide(rec(), ps, opts(0, { rights: { 3: true, 1: false, 2: false } })).why, /all channel rights/);
    assert.equal(decide(rec(), probes('revoked', 'healthy', 'failing', 'healthy'), opts(0, { rights: { 2: true } })).to, 1, 'rights never make a failing token a target');
  });

  it('no flapping: a token switched away from is not a target again until it has passed M (3) probes in a row', () => {
    const first = decide(rec(0, 3), probes('revoked', 'healthy', 'failing'), opts(0));
    assert.equal(first.record.active, 1);
    // Token 0 comes back (one pass), then token 1 fails at once: token 0 is not proven enough, token 2 is failing.
    const back1 = decide(first.record, probes('healthy', 'revoked', 'failing'), opts(1));
    assert.deepEqual([back1.action, back1.reason], ['alert', 'no-healthy-token']);
    assert.deepEqual([back1.record.active, back1.record.health?.[0].consecutive_passes], [1, 1]);
    const back2 = decide(back1.record, probes('healthy', 'revoked', 'failing'), opts(2, { realertAfterMs: 0 }));
    assert.equal(back2.action, 'alert');
    const back3 = decide(back2.record, probes('healthy', 'revoked', 'failing'), opts(3));
    assert.deepEqual([back3.action, back3.to], ['switch', 0], 'third pass in a row: eligible again');
    assert.equal(back3.record.health?.[0].switched_away_at, undefined, 'cleared once it is active again');
    assert.equal(back3.record.health?.[1].switched_away_at, minutes(3).toISOString());
    const m1 = decide(back1.record, probes('healthy', 'revoked', 'failing'), opts(2, { passesToReturn: 2 }));
    assert.equal(m1.to, 0, 'M is an option');
  });

  it('every token failed: alert, the active token is kept', () => {
    const d = decide(rec(2), probes('revoked', 'revoked', 'revoked', 'revoked'), opts());
    assert.deepEqual([d.action, d.reason, d.from, d.to, d.record.active], ['alert', 'no-healthy-token', 2, 2, 2]);
    assert.equal(d.entry?.what, 'alert');
    assert.match(d.why, /no other token is proven healthy/);
  });

  it('a pin: the engine never switches away from the pinned token but still alerts', () => {
    const pinned = rec(2, 4, { pin: { index: 2, reason: 'incident 42', by: 'operator:alice', at: T0.toISOString() } });
    const d = decide(pinned, probes('healthy', 'healthy', 'revoked', 'healthy'), opts());
    assert.deepEqual([d.action, d.reason, d.record.active], ['alert', 'pinned-token-failing', 2]);
    assert.match(d.why, /pinned by operator:alice \(incident 42\)/);
    assert.deepEqual(d.record.pin, pinned.pin);
    const fine = decide(pinned, probes('healthy', 'healthy', 'healthy', 'healthy'), opts());
    assert.deepEqual([fine.action, fine.reason], ['keep', 'healthy']);
  });

  it('a standing alert is appended once, then again after realertAfterMs; a different reason is new', () => {
    const dead = probes('revoked', 'revoked');
    const ds = run(rec(0, 2), [dead, dead, dead], { realertAfterMs: 90_000 });
    assert.deepEqual(ds.map((d) => d.entry !== undefined), [true, false, true], 'minute 2 is 120 s after the first alert > 90 s');
    assert.equal(ds[2].record.history?.length, 2);
    const degraded = decide(ds[0].record, probes('unreachable', 'unreachable'), opts(1));
    assert.equal(degraded.entry?.reason, 'platform-degraded');
  });

  it('decision ids are deterministic from bot, version read, action and target (not from who or when)', () => {
    const ps = probes('revoked', 'healthy');
    const a = decide(rec(0, 2), ps, opts(0));
    const b = decide(rec(0, 2), ps, { ...opts(0), by: 'monitor@us-west-2', now: minutes(7) });
    assert.equal(a.id, b.id);
    assert.match(a.id, /^[0-9a-f]{40}$/);
    assert.notEqual(decide(rec(0, 2), ps, { ...opts(0), version: 'other' }).id, a.id);
    assert.notEqual(decide(rec(0, 2), probes('healthy', 'healthy'), opts(0)).id, a.id, 'keep vs switch');
    assert.notEqual(decide(rec(0, 2), ps, { ...opts(0), bot: 'other' }).id, a.id);
  });

  it('history is bounded (oldest dropped) and never holds a token value', () => {
    let r = rec(0, 2);
    for (let k = 0; k < 6; k++) r = decide(r, probes(r.active === 0 ? 'revoked' : 'healthy', r.active === 1 ? 'revoked' : 'healthy'), opts(k * 10, { historyLimit: 4, passesToReturn: 1 })).record;
    assert.equal(r.history?.length, 4);
    const text = JSON.stringify(r.history);
    for (const t of TOKENS) assert.ok(!text.includes(t));
  });

  it('Discord: a token with no session starts left is no target; a low count is a warning', () => {
    const low = { total: 1000, remaining: 50, reset_after_ms: 1000, warning: true };
    const none = { total: 1000, remaining: 0, reset_after_ms: 1000, warning: true };
    const d = decide({ ...rec(0, 3), platform: 'discord' }, [probe(0, 'revoked'), probe(1, 'healthy', { session_start: none }), probe(2, 'healthy', { session_start: low })], opts());
    assert.equal(d.to, 2);
    assert.ok(d.warnings.some((w) => /token 2: Discord session starts low \(50 of 1000 left\)/.test(w)));
  });

  it('warns when the active token is fine but no standby token is proven', () => {
    const d = decide(rec(0, 2), probes('healthy', 'revoked'), opts());
    assert.deepEqual(d.warnings, ['no standby: no other token is proven healthy']);
  });

  it('never mutates its input, and validates the probes and the rules', () => {
    const r = rec(0, 2);
    const before = JSON.stringify(r);
    decide(r, probes('revoked', 'healthy'), opts());
    assert.equal(JSON.stringify(r), before);
    assert.throws(() => decide(r, [probe(5, 'healthy')], opts()), UsageError);
    assert.throws(() => decide(r, [probe(0, 'healthy'), probe(0, 'healthy')], opts()), UsageError);
    assert.throws(() => decide(r, probes('healthy', 'healthy'), opts(0, { failuresToSwitch: 0 })), UsageError);
  });
});
