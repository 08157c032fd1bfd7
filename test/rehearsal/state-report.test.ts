/**
 * Pure parts of the local rehearsal, no servers: the state/credentials split on disk, and the drill report's
 * RPO, restore and lost-write sections (rendered and redacted).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registerSecret } from '../../automation/core/redact';
import type { DrillResult } from '../../automation/rehearsal/drill';
import { renderReport } from '../../automation/rehearsal/report';
import { newState, readState, secretsPath, statePath, writeState } from '../../automation/adapters/rehearsal/state';
import { useTempDir } from '../helpers/services';

describe('local state: credentials kept out of state.json', () => {
  const tmp = useTempDir('dr-state-');
  const ports = { pgA: 1, pgB: 2, redisA: 3, redisB: 4, s3: 5 };

  it('writes state.json without secrets and secrets.json with mode 0600; readState joins them', () => {
    const dir = path.join(tmp.dir, 'env');
    const s = newState(dir, ports);
    writeState(s);
    const stateText = fs.readFileSync(statePath(dir), 'utf8');
    for (const pw of Object.values(s.secrets)) assert.ok(!stateText.includes(pw), 'a password in state.json');
    assert.equal('secrets' in (JSON.parse(stateText) as object), false);
    assert.equal(fs.statSync(secretsPath(dir)).mode & 0o777, 0o600);
    assert.equal(fs.statSync(statePath(dir)).mode & 0o777, 0o600);
    const back = readState(dir)!;
    assert.deepEqual(back.secrets, s.secrets);
    assert.equal(back.regions.b.postgres.port, 2);
  });

  it('rewriting the state keeps the credentials file as written first', () => {
    const dir = path.join(tmp.dir, 'rewrite');
    const s = newState(dir, ports);
    writeState(s);
    const first = fs.readFileSync(secretsPath(dir), 'utf8');
    s.complete = true;
    writeState(s);
    assert.equal(fs.readFileSync(secretsPath(dir), 'utf8'), first);
    assert.equal(readState(dir)!.complete, true);
  });

  it('reads a state.json of the first format (credentials inline)', () => {
    const dir = path.join(tmp.dir, 'old');
    fs.mkdirSync(dir);
    const s = newState(dir, ports);
    fs.writeFileSync(statePath(dir), JSON.stringify(s), { mode: 0o600 });
    assert.deepEqual(readState(dir)!.secrets, s.secrets);
  });

  it('a missing or foreign credentials file is a usage error that says how to recover', () => {
    const dir = path.join(tmp.dir, 'lost');
    writeState(newState(dir, ports));
    fs.rmSync(secretsPath(dir));
    assert.throws(() => readState(dir), (e: Error) => e.name === 'UsageError' && /secrets\.json is missing.*dr local down/.test(e.message));
    fs.writeFileSync(secretsPath(dir), JSON.stringify({ format: 'something-else' }));
    assert.throws(() => readState(dir), /not a local environment credentials file/);
  });
});

function drillResult(over: Partial<DrillResult> = {}): DrillResult {
  return {
    ok: true,
    scenario: 'database',
    rto_seconds: 2.5,
    detection_seconds: 2.1,
    detection_checks: [],
    rpo: {
      acked_writes: 110,
      lost_writes: 40,
      lag_at_failure_seconds: 2.04,
      lag_at_failure_bytes: 9464,
      cache_acked_writes: 110,
      cache_lost_writes: 0,
      lost_write_ids: ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'],
      estimated_data_loss: { tier: 'database', lag_seconds: 2.04, lag_bytes: 9464, basis: 'last known replication lag before a was lost' },
      replication_hold: { how: 'sender', ms: 2000 },
    },
    steps: [],
    restore: {
      verified: false,
      duration_seconds: 1.2,
      postgresql: { verified: true, backup: 'postgresql/daily/x.dump', bucket: 'bot-dr-b', checksum: 'verified', duration_seconds: 0.5, target: 'database dr_restore_check on b', tables: [{ table: 'public.users', expected: 5, actual: 5, ok: true }] },
      redis: { verified: false, backup: 'redis/daily/x.rdb', bucket: 'bot-dr-b', checksum: 'verified', duration_seconds: 0.4, target: 'scratch redis-server on 127.0.0.1:9', keys: { backup: 600, restored: 599, target: 599 }, sample: { compared: 50, mismatched: 1 } },
    },
    traffic: { load_tps: 20, ops: 110, db_acked: 110, cache_acked: 110, db_errors: 3, cache_errors: 0, reconnects: 2 },
    timeline: [],
    checks: [],
    notifications: [],
    report: '',
    env_dir: '/tmp/x',
    kept: false,
    started_at: '2025-01-01T00:00:00.000Z',
    finished_at: '2025-01-01T00:00:20.000Z',
    ...over,
  };
}

describe('drill report: RPO, restores, lost writes', () => {
  it('shows the hold, the estimate, both restores and the lost write ids', () => {
    const md = renderReport(drillResult());
    assert.match(md, /\| lost database writes \(RPO\) \| 40 \|/);
    assert.match(md, /replication held back before the failure \| 2000 ms \(walsender stopped/);
    assert.match(md, /engine's estimated data loss \| 2\.04 s \/ 9464 bytes \(last known replication lag before a was lost\)/);
    assert.match(md, /\| PostgreSQL restore \| yes: postgresql\/daily\/x\.dump from bot-dr-b .* 1\/1 tables match/);
    assert.match(md, /\| Redis restore \| no: redis\/daily\/x\.rdb from bot-dr-b .* 599\/600 keys, 49\/50 sampled values match/);
    assert.match(md, /## Lost writes[\s\S]*40 acknowledged database write\(s\) are missing[\s\S]*First 2 ids:[\s\S]*`11111111-1111-4111-8111-111111111111`/);
  });

  it('has no lost-writes section when nothing was lost, and redacts registered secrets', () => {
    const secret = 'local-report-secret-0123456789';
    registerSecret(secret);
    const r = drillResult({ rpo: { ...drillResult().rpo, lost_writes: 0, lost_write_ids: [] }, error: `connection to postgresql://postgres:${secret}@127.0.0.1 failed` });
    const md = renderReport(r);
    assert.ok(!md.includes('## Lost writes'));
    assert.ok(!md.includes(secret));
  });
});
