import * as assert from 'node:assert/strict';
import { LocalPgTools } from '../../automation/adapters/tools/pg-tools';
import { S3Store } from '../../automation/adapters/aws/s3-store';
import { readManifest } from '../../automation/backup/catalog';
import { Manifest } from '../../automation/backup/manifest';
import { PgSnapshotSession } from '../../automation/backup/ports';
import { backupPostgres } from '../../automation/backup/postgres';
import { scratchName, SCRATCH_PREFIX, staleScratch, verifyRestore, withRestoreOutcome } from '../../automation/backup/restore-test';
import { checkRestorability } from '../../automation/backup/check';
import { OperationError, VerificationError } from '../../automation/core/errors';
import { dr } from '../helpers/cli';
import { usePostgres, useS3 } from '../helpers/services';
import { fixedClock } from '../../automation/core/clock';
import { localTempFiles } from '../../automation/adapters/tools/temp-files';

const base: Manifest = {
  format: 1,
  backup_id: 'backup_20250102_030000',
  type: 'full',
  service: 'postgresql',
  tier: 'daily',
  timestamp: '2025-01-02T03:00:00.000Z',
  key: 'postgresql/daily/backup_20250102_030000.dump',
  size_bytes: 10,
  size_readable: '10B',
  duration_seconds: 1,
  files: ['backup_20250102_030000.dump'],
  checksum: `sha256:${'a'.repeat(64)}`,
  database: 'app',
  server_version: '15.8',
  tables: { 'public.t': 3 },
  source: '127.0.0.1:5432',
  tool_versions: {},
  verified: true,
  retention: '7_daily',
  restorability: 'UNVERIFIED',
};

describe('restore test: pure parts', () => {
  it('names scratch databases by UTC stamp and finds only stale leftovers of ours', () => {
    const now = new Date('2025-03-04T05:06:07Z');
    assert.equal(scratchName(now), 'dr_restore_test_20250304_050607');
    const names = ['dr_restore_test_20250304_050000', 'dr_restore_test_20250303_050000', 'dr_restore_test_garbage', 'app', 'dr_restore_test_20250230_000000'];
    assert.deepEqual(staleScratch(names, now, 6 * 3600_000), ['dr_restore_test_20250303_050000']);
    assert.deepEqual(staleScratch(names, now, 60_000), ['dr_restore_test_20250304_050000', 'dr_restore_test_20250303_050000']);
  });

  it('records VERIFIED with restore_verified_at, or FAILED keeping the last verified time', () => {
    const at = new Date('2025-01-03T04:00:00Z');
    const ok = withRestoreOutcome(base, { at, ok: true, target: 'h:5432/dr_restore_test_x', durationSeconds: 12.345, tablesCompared: 1 });
    assert.equal(ok.restorability, 'VERIFIED');
    assert.equal(ok.verified, true);
    assert.equal(ok.restore_verified_at, '2025-01-03T04:00:00.000Z');
    assert.deepEqual(ok.restore_test, { at: '2025-01-03T04:00:00.000Z', ok: true, target: 'h:5432/dr_restore_test_x', duration_seconds: 12.35, tables_compared: 1 });
    const bad = withRestoreOutcome(ok, { at: new Date('2025-01-04T04:00:00Z'), ok: false, target: 't', durationSeconds: 1, error: 'checksum mismatch' });
    assert.equal(bad.restorability, 'FAILED');
    assert.equal(bad.restore_verified_at, '2025-01-03T04:00:00.000Z');
    assert.equal(bad.restore_test?.error, 'checksum mismatch');
    assert.equal(base.restorability, 'UNVERIFIED', 'input not mutated');
  });

  it('backups check --verified-within: recent VERIFIED passes; stale, never tested, or a failed newest test fails', () => {
    const now = new Date('2025-01-10T00:00:00Z');
    const verifiedAt = (iso: string) => withRestoreOutcome(base, { at: new Date(iso), ok: true, target: 't', durationSeconds: 1 });
    assert.deepEqual(checkRestorability('postgresql', [verifiedAt('2025-01-06T00:00:00Z')], now, 7).map((f) => f.ok), [true]);
    const stale = checkRestorability('postgresql', [verifiedAt('2025-01-01T00:00:00Z')], now, 7);
    assert.deepEqual(stale.map((f) => f.ok), [false]);
    assert.match(stale[0].message, /no postgresql backup restore-tested in the last 7 day\(s\); the newest verified is .* at 2025-01-01T00:00:00.000Z/);
    assert.match(checkRestorability('postgresql', [base], now, 7)[0].message, /has ever been restore-tested/);
    const failedLater = withRestoreOutcome({ ...base, key: 'postgresql/daily/backup_20250109_030000.dump' }, { at: new Date('2025-01-09T05:00:00Z'), ok: false, target: 't', durationSeconds: 1, error: 'checksum mismatch' });
    const f = checkRestorability('postgresql', [verifiedAt('2025-01-08T00:00:00Z'), failedLater], now, 7);
    assert.deepEqual(f.map((x) => x.ok), [false, true]);
    assert.match(f[0].message, /newest restore test \(2025-01-09T05:00:00.000Z\) of postgresql\/daily\/backup_20250109_030000.dump FAILED: checksum mismatch/);
  });
});

describe('restore test and overlapped counting on real PostgreSQL + s3rver @integration', function () {
  this.timeout(180_000);
  const pg = usePostgres();
  const s3 = useS3(['dr-rt']);
  let store: S3Store;
  let env: Record<string, string>;
  let sourceUrl: string;
  const tools = new LocalPgTools();
  const clock = fixedClock(() => new Date());

  before(async () => {
    await pg.cluster.createDatabase('app');
    sourceUrl = pg.cluster.url('app');
    await pg.cluster.query(
      `CREATE TABLE users (id serial PRIMARY KEY, name text, prefs jsonb);
       INSERT INTO users (name, prefs) SELECT 'u' || g, jsonb_build_object('g', g) FROM generate_series(1, 2000) g;
       CREATE TABLE ev (id int, at date) PARTITION BY RANGE (at);
       CREATE TABLE ev_a PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
       INSERT INTO ev SELECT g, DATE '2024-02-01' + (g % 200) FROM generate_series(1, 700) g;`,
      'app',
    );
    store = new S3Store({ bucket: 'dr-rt', env: s3.server.env });
    env = { ...s3.server.env, DR_BACKUP_BUCKET: 'dr-rt' };
  });

  async function scratchDbs(): Promise<string[]> {
    return (await pg.cluster.query<{ d: string }>(`SELECT datname AS d FROM pg_database WHERE datname LIKE '${SCRATCH_PREFIX}%' ORDER BY 1`)).map((r) => r.d);
  }

  it('row counts taken alongside the dump match the data; a counting failure kills the dump and records nothing', async () => {
    const scans = async () => Number((await pg.cluster.query<{ n: string }>("SELECT seq_scan::text AS n FROM pg_stat_user_tables WHERE relname = 'ev_a'", 'app'))[0].n);
    const before = await scans();
    const ok = await backupPostgres({ url: sourceUrl, tier: 'daily', store, tools, clock, prune: false });
    assert.deepEqual(ok.manifest.tables, { 'public.ev': 700, 'public.ev_a': 700, 'public.users': 2000 });
    // The partition is scanned twice — once by the count, once by pg_dump's COPY — not a third time for the
    // partitioned parent's count (statistics arrive asynchronously: wait until they settle).
    let after = before;
    for (let i = 0; i < 40 && after - before < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await scans();
    }
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await scans()) - before, 2);
    assert.ok(ok.phases && ok.phases.total >= ok.phases.dump, 'phases are reported');

    class CountingFails extends LocalPgTools {
      override async openSnapshot(url: string): Promise<PgSnapshotSession> {
        const s = await super.openSnapshot(url);
        return { ...s, countTables: async () => Promise.reject(new Error('canceling statement due to statement timeout')) };
      }
    }
    await assert.rejects(
      () => backupPostgres({ url: sourceUrl, tier: 'monthly', store, tools: new CountingFails(), clock, prune: false }),
      (e: unknown) => e instanceof OperationError && /no backup was recorded.*counting rows.*statement timeout/s.test(e.message),
    );
    assert.deepEqual(await store.list('postgresql/monthly/'), []);
  });

  it('cancel() stops a count that is still running (pg_cancel_backend on the snapshot session)', async () => {
    const { Client } = await import('pg');
    const u = new URL(sourceUrl);
    const locker = new Client({ host: u.hostname, port: Number(u.port), user: 'postgres', password: pg.cluster.secret, database: 'app' });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE'); // the count blocks behind this lock
      const session = await tools.openSnapshot(sourceUrl);
      try {
        const counting = session.countTables();
        counting.catch(() => undefined);
        for (let i = 0; i < 200; i++) {
          const waiting = await locker.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT count(*)%'");
          if (waiting.rowCount) break;
          await new Promise((r) => setTimeout(r, 25));
        }
        assert.ok(session.cancel, 'the local adapter can cancel');
        await session.cancel();
        await assert.rejects(counting, /canceling statement due to user request/);
      } finally {
        await session.close();
      }
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  it('dr backups verify-restore: restores into a scratch database, marks the manifest VERIFIED, drops the scratch and stale leftovers', async () => {
    await pg.cluster.createDatabase('dr_restore_test_20000101_000000');
    const b = await dr(['backup', 'postgres', '--database-url', sourceUrl, '--tier', 'weekly', '--json'], env);
    assert.equal(b.code, 0, b.stderr);
    const key: string = b.json().manifest.key;
    assert.equal((await readManifest(store, key)).restorability, 'UNVERIFIED');

    const r = await dr(['backups', 'verify-restore', '--from', 'weekly', '--scratch-url', pg.cluster.url('postgres'), '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.backup, key);
    assert.equal(out.restorability, 'VERIFIED');
    assert.deepEqual(out.swept_databases, ['dr_restore_test_20000101_000000']);
    assert.match(out.scratch_database, /^dr_restore_test_\d{8}_\d{6}$/);
    assert.deepEqual(
      out.tables.map((t: { table: string; actual: number; ok: boolean }) => [t.table, t.actual, t.ok]),
      [['public.ev', 700, true], ['public.ev_a', 700, true], ['public.users', 2000, true]],
    );
    const m = await readManifest(store, key);
    assert.equal(m.restorability, 'VERIFIED');
    assert.equal(m.verified, true);
    assert.ok(m.restore_verified_at && Date.now() - Date.parse(m.restore_verified_at) < 600_000);
    assert.equal(m.restore_test?.ok, true);
    assert.equal(m.restore_test?.tables_compared, 3);
    assert.equal(m.checksum, b.json().manifest.checksum, 'the rest of the manifest is unchanged');
    assert.deepEqual(await scratchDbs(), []);
    assert.ok(!(r.stdout + r.stderr).includes(pg.cluster.secret));
    const check = await dr(['backups', 'check', '--service', 'postgresql', '--verified-within', '7', '--json'], env);
    const restorability = check.json().findings.filter((f: { check: string }) => f.check === 'restorability');
    assert.deepEqual(restorability.map((f: { ok: boolean }) => f.ok), [true]);
  });

  it('the Lambda restore-test event: credentials from the secret, scratch on the DB server, manifest re-VERIFIED', async () => {
    const { mockClient } = await import('aws-sdk-client-mock');
    const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    const { lambdaClients } = await import('../helpers/lambda-clients');
    const { runEvent } = await import('../../automation/lambda/handler');
    const { CloudWatchClient, PutMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
    const sm = mockClient(SecretsManagerClient);
    const cw = mockClient(CloudWatchClient);
    try {
      cw.on(PutMetricDataCommand).resolves({});
      sm.on(GetSecretValueCommand, { SecretId: 'arn:db' }).resolves({ SecretString: JSON.stringify({ username: 'postgres', password: pg.cluster.secret }) });
      const weekly = (await store.list('postgresql/weekly/')).map((o) => o.key).filter((k) => k.endsWith('.dump')).sort().at(-1) ?? '';
      const before = (await readManifest(store, weekly)).restore_verified_at ?? '';
      await new Promise((r) => setTimeout(r, 1100)); // a distinct scratch stamp and verification time
      const env = { ...s3.server.env, DR_REGION: 'eu-west-1', BACKUP_BUCKET: 'dr-rt', DB_SECRET_ARN: 'arn:db', DB_HOST: '127.0.0.1', DB_PORT: String(pg.cluster.port), DB_NAME: 'app', DB_SSLMODE: 'disable' };
      const logs: string[] = [];
      const clients = lambdaClients();
      const res = await runEvent({ service: 'postgresql', action: 'restore-test', from: 'weekly' }, env, clients, undefined, (l) => logs.push(l));
      assert.ok('manifest' in res);
      assert.equal(res.manifest.key, weekly);
      assert.equal(res.manifest.restorability, 'VERIFIED');
      assert.ok((res.manifest.restore_verified_at ?? '') > before, 'verification time moved forward');
      assert.deepEqual(await scratchDbs(), []);
      assert.ok(logs.every((l) => !l.includes(pg.cluster.secret)));
      // The restore-test metrics: a pass, and the newest successful test is this one (age ≈ 0).
      const published = cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input);
      assert.equal(published.length, 1);
      assert.equal(published[0].Namespace, 'BotDR/Backups');
      const data = published[0].MetricData ?? [];
      assert.deepEqual(data.map((d) => [d.MetricName, d.Dimensions, d.Unit]), [
        ['RestoreTestSuccess', [{ Name: 'Service', Value: 'postgresql' }], 'Count'],
        ['RestoreTestAgeSeconds', [{ Name: 'Service', Value: 'postgresql' }], 'Seconds'],
      ]);
      assert.equal(data[0].Value, 1);
      assert.ok((data[1].Value ?? -1) >= 0 && (data[1].Value ?? Infinity) <= 60, `age ${data[1].Value}`);
    } finally {
      sm.restore();
      cw.restore();
    }
  });

  it('a corrupt backup: FAILED in the manifest, an alert, the error rethrown, the scratch dropped', async () => {
    const b = await backupPostgres({ url: sourceUrl, tier: 'daily', store, tools, clock, prune: false });
    // Re-upload the object with one byte flipped.
    const raw: Buffer[] = [];
    for await (const c of await store.get(b.manifest.key)) raw.push(c as Buffer);
    const bytes = Buffer.concat(raw);
    assert.equal(bytes.length, b.manifest.size_bytes);
    bytes[Math.floor(bytes.length / 2)] ^= 0x40;
    await store.put(b.manifest.key, bytes, 'application/octet-stream');
    const alerts: Array<[string, string]> = [];
    await assert.rejects(
      () =>
        verifyRestore({ temp: localTempFiles(), store, tools, scratch: tools, scratchServerUrl: pg.cluster.url('postgres'), file: b.manifest.key, clock, where: 'test', notifier: { notify: async (s, m) => void alerts.push([s, m]) } }),
      (e: unknown) => e instanceof VerificationError && /checksum mismatch/.test(e.message),
    );
    const m = await readManifest(store, b.manifest.key);
    assert.equal(m.restorability, 'FAILED');
    assert.equal(m.restore_verified_at, undefined);
    assert.match(m.restore_test?.error ?? '', /checksum mismatch/);
    assert.equal(alerts.length, 1);
    assert.match(alerts[0][0], /backup_\d{8}_\d{6} FAILED its restore test \(test\)/);
    assert.ok(!alerts[0][1].includes(pg.cluster.secret));
    assert.deepEqual(await scratchDbs(), []);
  });

  it('row counts that differ from the manifest mark it FAILED; the CLI exits 1', async () => {
    const b = await backupPostgres({ url: sourceUrl, tier: 'daily', store, tools, clock, prune: false });
    const lying = { ...b.manifest, tables: { ...b.manifest.tables, 'public.users': 1999 } };
    await store.put(b.manifestKey, JSON.stringify(lying), 'application/json');
    const r = await dr(['backups', 'verify-restore', '--file', b.manifest.key, '--scratch-url', pg.cluster.url('postgres'), '--json'], env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /public\.users expected 1999 rows, found 2000/);
    assert.equal((await readManifest(store, b.manifest.key)).restorability, 'FAILED');
    assert.deepEqual(await scratchDbs(), []);
    const check = await dr(['backups', 'check', '--service', 'postgresql', '--verified-within', '7', '--json'], env);
    assert.equal(check.code, 1);
    assert.match(JSON.stringify(check.json().findings), /newest restore test .* FAILED: restored data does not match the manifest/);
    const bad = await dr(['backups', 'check', '--service', 'redis', '--verified-within', '7'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--verified-within applies to postgresql/);
  });

  it('an unreachable scratch server is an operational failure (exit 1) and an alert, and leaves the manifest alone', async () => {
    const latest = await backupPostgres({ url: sourceUrl, tier: 'monthly', store, tools, clock, prune: false });
    const alerts: string[] = [];
    await assert.rejects(
      () => verifyRestore({ temp: localTempFiles(), store, tools, scratch: tools, scratchServerUrl: 'postgresql://u:Hush1234@127.0.0.1:1/postgres', from: 'monthly', clock, notifier: { notify: async (s) => void alerts.push(s) } }),
      (e: unknown) => e instanceof OperationError && /scratch server postgresql:\/\/u:\*\*\*@127\.0\.0\.1:1\/postgres is unreachable/.test(e.message),
    );
    assert.deepEqual(alerts, ['[bot-dr] postgresql restore test could not run (local)']);
    assert.equal((await readManifest(store, latest.manifest.key)).restorability, 'UNVERIFIED');
    const r = await dr(['backups', 'verify-restore', '--scratch-url', 'not a url'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--scratch-url is not a URL/);
  });
});
