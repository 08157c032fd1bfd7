/**
 * Unplanned RPO against REAL replication lag. The drill holds replication back before it kills region a, so the
 * standby really lags; the test then counts the lost writes on its own — from the servers, not from the drill's
 * client log: it restarts the dead old primary and compares its rows with the new primary's — and checks the
 * drill's `rpo.lost_writes`, `lag_at_failure_*` and the engine's `estimated_data_loss` against that.
 *
 * How the estimate relates to the loss (documented in the README): the engine reports the last known replay lag
 * of the standby (seconds since its last replayed transaction, and bytes of WAL behind). With a write rate R,
 * the writes at risk are about R × lag_seconds. When WAL did not reach the standby (`sender` hold: a congested
 * or cut link), that many writes are really lost. When it reached it but was not replayed yet (`replay` hold),
 * promotion replays it first: the estimate is an upper bound and nothing is lost.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalEnv } from '../../automation/adapters/rehearsal/index';
import { BOT_TABLES, down, restartRegion } from '../../automation/rehearsal/environment';
import { checkDrillOptions, runDrill } from '../../automation/rehearsal/drill';
import { readState } from '../../automation/adapters/rehearsal/state';
import { useLocalRoot } from '../helpers/local-env';

async function ids(env: LocalEnv, region: string): Promise<Set<string>> {
  const out = new Set<string>();
  const c = await env.superClient(region, env.state.app.database, 5000);
  try {
    for (const t of BOT_TABLES) for (const r of (await c.query<{ id: string }>(`SELECT id::text AS id FROM ${t}`)).rows) out.add(r.id);
  } finally {
    await c.end().catch(() => undefined);
  }
  return out;
}

describe('drill with real replication lag @integration', function () {
  this.timeout(180_000);
  const root = useLocalRoot('dr-lag-');
  const TPS = 20;

  it('rejects a replication delay for scenarios where the primary database does not die', () => {
    assert.throws(() => checkDrillOptions({ scenario: 'planned', loadTps: 20, durationSeconds: 1, replicationDelayMs: 1000 }), /datacenter and database scenarios/);
    assert.throws(() => checkDrillOptions({ scenario: 'cache', loadTps: 20, durationSeconds: 1, replicationDelayMs: 1000 }), /datacenter and database scenarios/);
    assert.throws(() => checkDrillOptions({ scenario: 'database', loadTps: 20, durationSeconds: 1, replicationDelayMs: 0 }), /--replication-delay-ms must be between/);
    assert.doesNotThrow(() => checkDrillOptions({ scenario: 'database', loadTps: 20, durationSeconds: 1, replicationDelayMs: 1000 }));
  });

  it('link stalled 2 s, then a dies: lost_writes equals the acknowledged writes missing on b, the estimate matches the lag', async () => {
    const dir = path.join(root.dir, 'sender');
    const r = await runDrill({ scenario: 'database', loadTps: TPS, durationSeconds: 1, replicationDelayMs: 2000, replicationHold: 'sender', dir, keep: true, reportsDir: path.join(root.dir, 'reports') });
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.failover?.outcome, 'completed');
    assert.deepEqual(r.rpo.replication_hold, { how: 'sender', ms: 2000 });
    assert.deepEqual(r.notifications.map((n) => n.kind), ['incident', 'started', 'finished'], 'the monitor alerted, then the engine notified');

    // Lag at failure, measured just before the kill.
    assert.ok(r.rpo.lag_at_failure_seconds !== null && r.rpo.lag_at_failure_seconds > 0, `lag ${r.rpo.lag_at_failure_seconds}`);
    assert.ok(r.rpo.lag_at_failure_bytes !== null && r.rpo.lag_at_failure_bytes > 0, `lag bytes ${r.rpo.lag_at_failure_bytes}`);

    // Independent count, from the servers: restart the dead old primary and diff its rows against the new one's.
    const state = readState(dir)!;
    await restartRegion(state, 'a', { database: true, cache: false });
    const env = new LocalEnv(state);
    const [onA, onB] = [await ids(env, 'a'), await ids(env, 'b')];
    const missingOnB = [...onA].filter((id) => !onB.has(id));
    assert.ok(missingOnB.length > 0, 'the stall really lost committed writes');
    // Every lost write the drill reports was committed on a and is absent on b...
    assert.ok(r.rpo.lost_writes > 0);
    assert.equal(r.rpo.lost_write_ids.length, Math.min(r.rpo.lost_writes, 100));
    for (const id of r.rpo.lost_write_ids) {
      assert.ok(onA.has(id), `${id} reported lost but never committed on a`);
      assert.ok(!onB.has(id), `${id} reported lost but present on b`);
    }
    // ...and the drill misses none: at most one commit can be durable on a without its acknowledgement having
    // reached the client (the write in flight when a was killed).
    assert.ok(missingOnB.length - r.rpo.lost_writes === 0 || missingOnB.length - r.rpo.lost_writes === 1, `server-side ${missingOnB.length}, drill ${r.rpo.lost_writes}`);

    // The engine's estimate: the last known lag before a was lost, at least the lag measured at the kill.
    const est = r.rpo.estimated_data_loss;
    assert.ok(est, 'estimated data loss reported');
    assert.equal(est.tier, 'database');
    assert.match(est.basis, /last known replication lag before a was lost/);
    assert.ok(est.lag_seconds !== undefined && est.lag_seconds >= r.rpo.lag_at_failure_seconds! - 0.001, `estimate ${est.lag_seconds}s vs lag ${r.rpo.lag_at_failure_seconds}s`);
    assert.ok(est.lag_bytes !== undefined && est.lag_bytes >= r.rpo.lag_at_failure_bytes!, `estimate ${est.lag_bytes} bytes vs lag ${r.rpo.lag_at_failure_bytes}`);
    // Same order of magnitude as the real loss: writes at risk ≈ rate × lag.
    const atRisk = TPS * est.lag_seconds;
    assert.ok(r.rpo.lost_writes >= atRisk / 4 && r.rpo.lost_writes <= atRisk * 4, `lost ${r.rpo.lost_writes} vs ${TPS}/s × ${est.lag_seconds}s = ${atRisk}`);

    const report = fs.readFileSync(r.report, 'utf8');
    assert.ok(report.includes(`lost database writes (RPO) | ${r.rpo.lost_writes} |`));
    assert.ok(report.includes('walsender stopped'));
    assert.ok(report.includes(r.rpo.lost_write_ids[0]));
    await down(dir);
  });

  it('replay paused 2 s, then a dies: promotion ends the pause and replays what b received, nothing is lost', async () => {
    const dir = path.join(root.dir, 'replay');
    const r = await runDrill({ scenario: 'database', loadTps: TPS, durationSeconds: 1, replicationDelayMs: 2000, replicationHold: 'replay', dir, keep: true, reportsDir: path.join(root.dir, 'reports') });
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.failover?.outcome, 'completed', 'a paused standby is promoted (the pause does not block pg_promote)');
    assert.ok(r.rpo.lag_at_failure_seconds !== null && r.rpo.lag_at_failure_seconds > 0, `replay lag ${r.rpo.lag_at_failure_seconds}`);
    assert.ok((r.rpo.estimated_data_loss?.lag_seconds ?? 0) > 0, 'the estimate is an upper bound here');
    assert.equal(r.rpo.lost_writes, 0, 'everything received was replayed at promotion');
    assert.ok(r.rpo.acked_writes > TPS, `acked ${r.rpo.acked_writes}`);
    const state = readState(dir)!;
    const env = new LocalEnv(state);
    const rows = await env.superQuery<{ rec: boolean }>('b', 'SELECT pg_is_in_recovery() AS rec');
    assert.equal(rows[0].rec, false, 'b left recovery');
    // Independent count: nothing committed on a is missing on b, except at most the one commit in flight at
    // the kill (durable on a, not yet sent, never acknowledged to the client).
    await restartRegion(state, 'a', { database: true, cache: false });
    const [onA, onB] = [await ids(env, 'a'), await ids(env, 'b')];
    assert.ok(onA.size > 0);
    const missing = [...onA].filter((id) => !onB.has(id));
    assert.ok(missing.length <= 1, `${missing.length} rows of a missing on b`);
    await down(dir);
  });
});
