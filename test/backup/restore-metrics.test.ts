/**
 * The restore-test metrics (lib/backup-metrics.ts): RestoreTestAgeSeconds from every PostgreSQL backup run and
 * restore-test run, RestoreTestSuccess from every restore-test run — asserted as the exact PutMetricData input
 * the CloudWatch adapter sends (aws-sdk-client-mock), with the engine on in-memory fakes (no servers).
 */
import * as assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, MetricDatum, PutMetricDataCommand, PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { BACKUP_METRICS_NAMESPACE, RESTORE_TEST_AGE_METRIC, RESTORE_TEST_SERVICE, RESTORE_TEST_SUCCESS_METRIC } from '../../lib/backup-metrics';
import { CloudWatchMetrics } from '../../automation/adapters/aws/metrics';
import { readManifest } from '../../automation/backup/catalog';
import { runBackupJob } from '../../automation/backup/job';
import { Manifest } from '../../automation/backup/manifest';
import { DumpProcess, PgSnapshotSession, PgTools, ScratchDatabases } from '../../automation/backup/ports';
import { newestSuccessfulRestoreTest, restoreTestAgeSeconds } from '../../automation/backup/restore-metrics';
import { verifyRestore, withRestoreOutcome } from '../../automation/backup/restore-test';
import { DEFAULT_KEEP } from '../../automation/backup/retention';
import { VerificationError } from '../../automation/core/errors';
import { runEvent } from '../../automation/lambda/handler';
import { MemoryStore } from '../helpers/memory-store';
import { lambdaClients } from '../helpers/lambda-clients';
import { fixedClock, type Clock } from '../../automation/core/clock';
import { localTempFiles } from '../../automation/adapters/tools/temp-files';

const DAY = 86_400_000;
const SERVICE_ONLY = [{ Name: 'Service', Value: RESTORE_TEST_SERVICE }];

/** PgTools for the engine's control flow: the dump is `bytes` of 7s, restores succeed, counts are `counts()`. */
function fakePg(counts: () => Record<string, number> = () => ({ 'public.t': 1 })): PgTools {
  const session: PgSnapshotSession = { snapshotId: 'snap-1', countTables: async () => ({ 'public.t': 1 }), close: async () => undefined };
  return {
    versions: async () => ({ pg_dump: 'pg_dump (PostgreSQL) 15.0' }),
    inspect: async () => ({ serverVersion: '15.0', serverVersionNum: 150000, database: 'scratch', host: 'db:5432' }),
    openSnapshot: async () => session,
    dump: (): DumpProcess => ({ stdout: Readable.from([Buffer.alloc(1000, 7)]), done: Promise.resolve(), kill: () => undefined }),
    restore: async () => undefined,
    tableCounts: async () => counts(),
    userTableCount: async () => 0,
    ping: async () => 1,
    replicaLag: async () => ({ inRecovery: true, lagBytes: 0, lagSeconds: 0 }),
  };
}

function fakeScratch(): ScratchDatabases & { created: string[]; dropped: string[] } {
  const created: string[] = [];
  const dropped: string[] = [];
  return {
    created,
    dropped,
    createDatabase: async (_url, name) => (created.push(name), `postgresql://u:p@db:5432/${name}`),
    dropDatabase: async (_url, name) => void dropped.push(name),
    listDatabases: async () => [],
  };
}

/** Every PutMetricData input sent so far. */
function sent(cw: ReturnType<typeof mockClient>): PutMetricDataCommandInput[] {
  return cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input as PutMetricDataCommandInput);
}

/** The restore-test datums of one PutMetricData input. */
function restoreDatums(input: PutMetricDataCommandInput): MetricDatum[] {
  return (input.MetricData ?? []).filter((d) => d.MetricName === RESTORE_TEST_AGE_METRIC || d.MetricName === RESTORE_TEST_SUCCESS_METRIC);
}

describe('restore-test metrics: pure parts', () => {
  const m = (over: Partial<Manifest>): Manifest =>
    ({ service: 'postgresql', key: 'postgresql/daily/backup_20250101_030000.dump', restorability: 'UNVERIFIED', ...over }) as Manifest;

  it('the newest successful test is the latest restore_verified_at among manifests whose last test passed', () => {
    const ok = (at: string) => ({ restorability: 'VERIFIED' as const, restore_verified_at: at, restore_test: { at, ok: true, target: 'db/x', duration_seconds: 1 } });
    assert.equal(newestSuccessfulRestoreTest([]), undefined);
    assert.equal(newestSuccessfulRestoreTest([m({})]), undefined, 'never tested');
    assert.deepEqual(newestSuccessfulRestoreTest([m(ok('2025-01-03T06:00:00.000Z')), m(ok('2025-01-05T06:00:00.000Z')), m(ok('2025-01-04T06:00:00.000Z'))]), new Date('2025-01-05T06:00:00.000Z'));
    // Passed on the 5th, failed on the 12th: that manifest no longer counts although it keeps restore_verified_at.
    const failedLater = m({ restorability: 'FAILED', restore_verified_at: '2025-01-05T06:00:00.000Z', restore_test: { at: '2025-01-12T06:00:00.000Z', ok: false, target: 'db/x', duration_seconds: 1, error: 'checksum mismatch' } });
    assert.deepEqual(newestSuccessfulRestoreTest([failedLater, m(ok('2025-01-01T06:00:00.000Z'))]), new Date('2025-01-01T06:00:00.000Z'));
    assert.equal(newestSuccessfulRestoreTest([failedLater]), undefined);
    assert.equal(newestSuccessfulRestoreTest([m({ ...ok('2025-01-05T06:00:00.000Z'), service: 'redis' })]), undefined, 'PostgreSQL only');
    assert.equal(newestSuccessfulRestoreTest([m(ok('not a date'))]), undefined);
  });

  it('ages are whole seconds and never negative', () => {
    assert.equal(restoreTestAgeSeconds(new Date('2025-01-01T00:00:00Z'), new Date('2025-01-02T00:00:01.4Z')), 86_401);
    assert.equal(restoreTestAgeSeconds(new Date('2025-01-02T00:00:00Z'), new Date('2025-01-01T00:00:00Z')), 0);
  });
});

describe('restore-test metrics: what the engine sends to CloudWatch', () => {
  let cw: ReturnType<typeof mockClient>;
  beforeEach(() => {
    cw = mockClient(CloudWatchClient);
    cw.on(PutMetricDataCommand).resolves({});
  });
  afterEach(() => cw.restore());

  /** A store with one daily PostgreSQL backup taken at `t0` by the real job (manifest, data, row counts). */
  async function seeded(t0: number): Promise<{ store: MemoryStore; key: string; clock: Clock; set: (t: number) => void }> {
    const store = new MemoryStore();
    let t = t0;
    const clock = fixedClock(() => new Date(t));
    store.now = clock.now;
    const metrics = new CloudWatchMetrics(new CloudWatchClient({ region: 'eu-west-1' }), undefined, clock.now);
    const res = await runBackupJob({ service: 'postgresql', tier: 'daily' }, { store, clock, keep: DEFAULT_KEEP, metrics, log: () => undefined, pg: { url: 'postgresql://u:p@db/bot', tools: fakePg() }, where: 'eu-west-1' });
    cw.resetHistory();
    return { store, key: res.key, clock, set: (n) => (t = n) };
  }

  it('a PostgreSQL backup run publishes RestoreTestAgeSeconds (Service only) for a previously restore-tested manifest', async () => {
    const t0 = Date.parse('2025-01-05T03:00:00Z');
    const { store, key, clock, set } = await seeded(t0);
    // Restore-tested on the 5th at 06:00; the next daily backup runs on the 8th at 03:00.
    const testedAt = new Date(t0 + 3 * 3600_000);
    const m = await readManifest(store, key);
    await store.put(`${key}.metadata.json`, JSON.stringify(withRestoreOutcome(m, { at: testedAt, ok: true, target: 'db:5432/dr_restore_test_x', durationSeconds: 2, tablesCompared: 1 })), 'application/json');
    const runAt = t0 + 3 * DAY;
    set(runAt);
    const metrics = new CloudWatchMetrics(new CloudWatchClient({ region: 'eu-west-1' }), undefined, clock.now);
    await runBackupJob({ service: 'postgresql', tier: 'daily' }, { store, clock, keep: DEFAULT_KEEP, metrics, log: () => undefined, pg: { url: 'postgresql://u:p@db/bot', tools: fakePg() }, where: 'eu-west-1' });
    const at = new Date(runAt);
    const daily = [{ Name: 'Service', Value: 'postgresql' }, { Name: 'Tier', Value: 'daily' }];
    assert.deepEqual(sent(cw), [
      {
        Namespace: BACKUP_METRICS_NAMESPACE,
        MetricData: [
          { MetricName: 'BackupSuccess', Dimensions: daily, Value: 1, Unit: 'Count', Timestamp: at },
          { MetricName: 'BackupAgeSeconds', Dimensions: daily, Value: 0, Unit: 'Seconds', Timestamp: at },
          { MetricName: 'BackupSizeBytes', Dimensions: daily, Value: 1000, Unit: 'Bytes', Timestamp: at },
          { MetricName: RESTORE_TEST_AGE_METRIC, Dimensions: SERVICE_ONLY, Value: (runAt - testedAt.getTime()) / 1000, Unit: 'Seconds', Timestamp: at },
        ],
      },
    ]);
    assert.equal((runAt - testedAt.getTime()) / 1000, 2 * 86400 + 21 * 3600);
  });

  it('a failed PostgreSQL backup run still publishes the restore-test age next to BackupSuccess=0', async () => {
    const t0 = Date.parse('2025-01-05T03:00:00Z');
    const { store, key, clock, set } = await seeded(t0);
    const m = await readManifest(store, key);
    await store.put(`${key}.metadata.json`, JSON.stringify(withRestoreOutcome(m, { at: new Date(t0), ok: true, target: 'db/x', durationSeconds: 1, tablesCompared: 1 })), 'application/json');
    set(t0 + DAY);
    const tools: PgTools = { ...fakePg(), inspect: async () => Promise.reject(new Error('connection refused')) };
    const metrics = new CloudWatchMetrics(new CloudWatchClient({ region: 'eu-west-1' }), undefined, clock.now);
    await assert.rejects(() => runBackupJob({ service: 'postgresql', tier: 'daily' }, { store, clock, keep: DEFAULT_KEEP, metrics, log: () => undefined, pg: { url: 'postgresql://u:p@db/bot', tools }, where: 'eu-west-1' }));
    const [input] = sent(cw);
    assert.equal(sent(cw).length, 1);
    assert.deepEqual(input.MetricData?.find((d) => d.MetricName === 'BackupSuccess')?.Value, 0);
    assert.deepEqual(restoreDatums(input), [{ MetricName: RESTORE_TEST_AGE_METRIC, Dimensions: SERVICE_ONLY, Value: 86400, Unit: 'Seconds', Timestamp: new Date(t0 + DAY) }]);
  });

  it('a backup run when no backup was ever restore-tested successfully publishes no restore-test metric', async () => {
    const t0 = Date.parse('2025-01-05T03:00:00Z');
    const { store, key, clock, set } = await seeded(t0);
    // A failed test does not count either.
    const m = await readManifest(store, key);
    await store.put(`${key}.metadata.json`, JSON.stringify(withRestoreOutcome(m, { at: new Date(t0), ok: false, target: 'db/x', durationSeconds: 1, error: 'checksum mismatch' })), 'application/json');
    set(t0 + DAY);
    const metrics = new CloudWatchMetrics(new CloudWatchClient({ region: 'eu-west-1' }), undefined, clock.now);
    await runBackupJob({ service: 'postgresql', tier: 'daily' }, { store, clock, keep: DEFAULT_KEEP, metrics, log: () => undefined, pg: { url: 'postgresql://u:p@db/bot', tools: fakePg() }, where: 'eu-west-1' });
    const at = new Date(t0 + DAY);
    const daily = [{ Name: 'Service', Value: 'postgresql' }, { Name: 'Tier', Value: 'daily' }];
    assert.deepEqual(sent(cw), [
      {
        Namespace: BACKUP_METRICS_NAMESPACE,
        MetricData: [
          { MetricName: 'BackupSuccess', Dimensions: daily, Value: 1, Unit: 'Count', Timestamp: at },
          { MetricName: 'BackupAgeSeconds', Dimensions: daily, Value: 0, Unit: 'Seconds', Timestamp: at },
          { MetricName: 'BackupSizeBytes', Dimensions: daily, Value: 1000, Unit: 'Bytes', Timestamp: at },
        ],
      },
    ]);
  });

  it('a restore-test success publishes RestoreTestSuccess=1 and RestoreTestAgeSeconds=0', async () => {
    const t0 = Date.parse('2025-01-05T03:00:00Z');
    const { store, key, clock, set } = await seeded(t0);
    const runAt = t0 + 3 * 3600_000;
    set(runAt);
    const scratch = fakeScratch();
    const metrics = new CloudWatchMetrics(new CloudWatchClient({ region: 'eu-west-1' }), undefined, clock.now);
    const res = await verifyRestore({ temp: localTempFiles(), store, tools: fakePg(), scratch, scratchServerUrl: 'postgresql://u:p@db:5432/postgres', clock, metrics, where: 'eu-west-1' });
    assert.equal(res.manifest.key, key);
    assert.equal((await readManifest(store, key)).restorability, 'VERIFIED');
    assert.deepEqual(scratch.dropped, scratch.created);
    const at = new Date(runAt);
    assert.deepEqual(sent(cw), [
      {
        Namespace: BACKUP_METRICS_NAMESPACE,
        MetricData: [
          { MetricName: RESTORE_TEST_SUCCESS_METRIC, Dimensions: SERVICE_ONLY, Value: 1, Unit: 'Count', Timestamp: at },
          { MetricName: RESTORE_TEST_AGE_METRIC, Dimensions: SERVICE_ONLY, Value: 0, Unit: 'Seconds', Timestamp: at },
        ],
      },
    ]);
  });

  it('a restore-test failure publishes RestoreTestSuccess=0 (and the age of the last good test, if any)', async () => {
    const t0 = Date.parse('2025-01-05T03:00:00Z');
    const { store, key, clock, set } = await seeded(t0);
    const metrics = new CloudWatchMetrics(new CloudWatchClient({ region: 'eu-west-1' }), undefined, clock.now);
    const scratchServerUrl = 'postgresql://u:p@db:5432/postgres';
    // The first test passes (06:00 on the 5th)…
    set(t0 + 3 * 3600_000);
    await verifyRestore({ temp: localTempFiles(), store, tools: fakePg(), scratch: fakeScratch(), scratchServerUrl, clock, metrics });
    // …a week later a newer backup restores with a row missing: FAILED; the first one is still the newest good test.
    set(t0 + 7 * DAY);
    await runBackupJob({ service: 'postgresql', tier: 'daily' }, { store, clock, keep: DEFAULT_KEEP, metrics, log: () => undefined, pg: { url: 'postgresql://u:p@db/bot', tools: fakePg() }, where: 'eu-west-1' });
    const runAt = t0 + 7 * DAY + 3 * 3600_000;
    set(runAt);
    cw.resetHistory();
    const alerts: string[] = [];
    await assert.rejects(
      () => verifyRestore({ temp: localTempFiles(), store, tools: fakePg(() => ({ 'public.t': 0 })), scratch: fakeScratch(), scratchServerUrl, clock, metrics, notifier: { notify: async (s) => void alerts.push(s) } }),
      (e: unknown) => e instanceof VerificationError && /public\.t expected 1 rows, found 0/.test(e.message),
    );
    assert.equal(alerts.length, 1);
    assert.equal((await readManifest(store, key)).restorability, 'VERIFIED', 'the first backup keeps its pass');
    const at = new Date(runAt);
    assert.deepEqual(sent(cw), [
      {
        Namespace: BACKUP_METRICS_NAMESPACE,
        MetricData: [
          { MetricName: RESTORE_TEST_SUCCESS_METRIC, Dimensions: SERVICE_ONLY, Value: 0, Unit: 'Count', Timestamp: at },
          { MetricName: RESTORE_TEST_AGE_METRIC, Dimensions: SERVICE_ONLY, Value: 7 * 86400, Unit: 'Seconds', Timestamp: at },
        ],
      },
    ]);
  });

  it('a restore test that fails with no good test ever publishes RestoreTestSuccess=0 only', async () => {
    const t0 = Date.parse('2025-01-05T03:00:00Z');
    const { store, clock } = await seeded(t0);
    const metrics = new CloudWatchMetrics(new CloudWatchClient({ region: 'eu-west-1' }), undefined, clock.now);
    await assert.rejects(() => verifyRestore({ temp: localTempFiles(), store, tools: fakePg(() => ({})), scratch: fakeScratch(), scratchServerUrl: 'postgresql://u:p@db:5432/postgres', clock, metrics }), VerificationError);
    assert.deepEqual(sent(cw), [{ Namespace: BACKUP_METRICS_NAMESPACE, MetricData: [{ MetricName: RESTORE_TEST_SUCCESS_METRIC, Dimensions: SERVICE_ONLY, Value: 0, Unit: 'Count', Timestamp: new Date(t0) }] }]);
  });

  it('a restore test that cannot start (scratch server unreachable, no backup) publishes RestoreTestSuccess=0', async () => {
    const t0 = Date.parse('2025-01-05T03:00:00Z');
    const { store, clock } = await seeded(t0);
    const metrics = new CloudWatchMetrics(new CloudWatchClient({ region: 'eu-west-1' }), undefined, clock.now);
    const down: ScratchDatabases = { ...fakeScratch(), listDatabases: async () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.9:5432')) };
    await assert.rejects(() => verifyRestore({ temp: localTempFiles(), store, tools: fakePg(), scratch: down, scratchServerUrl: 'postgresql://u:p@10.0.0.9:5432/postgres', clock, metrics }));
    await assert.rejects(() => verifyRestore({ temp: localTempFiles(), store: new MemoryStore(), tools: fakePg(), scratch: fakeScratch(), scratchServerUrl: 'postgresql://u:p@db:5432/postgres', clock, metrics }));
    const zero = { Namespace: BACKUP_METRICS_NAMESPACE, MetricData: [{ MetricName: RESTORE_TEST_SUCCESS_METRIC, Dimensions: SERVICE_ONLY, Value: 0, Unit: 'Count', Timestamp: new Date(t0) }] };
    assert.deepEqual(sent(cw), [zero, zero]);
  });

  it('a failing PutMetricData does not mask the restore-test outcome', async () => {
    const t0 = Date.parse('2025-01-05T03:00:00Z');
    const { store, clock } = await seeded(t0);
    cw.on(PutMetricDataCommand).rejects(new Error('AccessDenied'));
    const logs: string[] = [];
    const metrics = new CloudWatchMetrics(new CloudWatchClient({ region: 'eu-west-1' }), undefined, clock.now);
    const res = await verifyRestore({ temp: localTempFiles(), store, tools: fakePg(), scratch: fakeScratch(), scratchServerUrl: 'postgresql://u:p@db:5432/postgres', clock, metrics, log: (l) => logs.push(l) });
    assert.equal(res.ok, true);
    assert.equal(sent(cw).length, 1);
    assert.ok(logs.some((l) => /could not publish restore-test metrics: AccessDenied/.test(l)), logs.join('\n'));
  });
});

describe('restore-test metrics: the Lambda restore-test event when the test cannot run', () => {
  let cw: ReturnType<typeof mockClient>;
  let sns: ReturnType<typeof mockClient>;
  beforeEach(() => {
    cw = mockClient(CloudWatchClient);
    cw.on(PutMetricDataCommand).resolves({});
    sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({});
  });
  afterEach(() => {
    cw.restore();
    sns.restore();
  });

  /** The input minus the adapter's wall-clock Timestamp (the handler builds its own clock-less adapter). */
  const withoutTime = (i: PutMetricDataCommandInput) => ({ ...i, MetricData: i.MetricData?.map(({ Timestamp, ...d }) => (assert.ok(Timestamp instanceof Date), d)) });

  it('a misconfigured environment publishes RestoreTestSuccess=0 (no BackupSuccess), alerts, and fails', async () => {
    const env = { DR_REGION: 'eu-west-1', ALERTS_TOPIC_ARN: 'arn:topic' };
    await assert.rejects(() => runEvent({ service: 'postgresql', action: 'restore-test' }, env, lambdaClients(), undefined, () => undefined), /BACKUP_BUCKET is required/);
    assert.deepEqual(sent(cw).map(withoutTime), [{ Namespace: BACKUP_METRICS_NAMESPACE, MetricData: [{ MetricName: RESTORE_TEST_SUCCESS_METRIC, Dimensions: SERVICE_ONLY, Value: 0, Unit: 'Count' }] }]);
    assert.equal(sns.commandCalls(PublishCommand)[0].args[0].input.Subject, '[bot-dr] postgresql restore-test job misconfigured (eu-west-1)');
  });

  it('a PostgreSQL backup event that cannot start (bad secret) still publishes the restore-test age from the bucket', async () => {
    const sm = mockClient(SecretsManagerClient);
    const s3 = mockClient(S3Client);
    try {
      sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'bot' }) });
      const key = 'postgresql/weekly/backup_20250105_030000.dump';
      const verifiedAt = new Date(Date.now() - 2 * DAY);
      const manifest = { format: 1, backup_id: 'backup_20250105_030000', type: 'full', service: 'postgresql', tier: 'weekly', timestamp: '2025-01-05T03:00:00.000Z', key, size_bytes: 10, size_readable: '10B', duration_seconds: 1, files: ['backup_20250105_030000.dump'], checksum: `sha256:${'a'.repeat(64)}`, tool_versions: {}, verified: true, retention: '4_weekly', restorability: 'VERIFIED', restore_verified_at: verifiedAt.toISOString(), restore_test: { at: verifiedAt.toISOString(), ok: true, target: 'db/x', duration_seconds: 1 } };
      s3.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: false });
      s3.on(ListObjectsV2Command, { Prefix: 'postgresql/weekly/' }).resolves({ Contents: [{ Key: key, Size: 10 }, { Key: `${key}.metadata.json`, Size: 500 }], IsTruncated: false });
      // S3Store reads a Node Readable body as is.
      s3.on(GetObjectCommand, { Key: `${key}.metadata.json` }).callsFake(() => ({ Body: Readable.from([Buffer.from(JSON.stringify(manifest))]) }));
      const env = { DR_REGION: 'eu-west-1', BACKUP_BUCKET: 'b', DB_SECRET_ARN: 'arn:db', DB_HOST: 'db.internal' };
      await assert.rejects(() => runEvent({ service: 'postgresql', tier: 'daily' }, env, lambdaClients(), undefined, () => undefined), /username and password/);
      const inputs = sent(cw).map(withoutTime);
      assert.equal(inputs.length, 2);
      assert.deepEqual(inputs[0].MetricData?.map((d) => [d.MetricName, d.Value]), [['BackupSuccess', 0]]);
      const age = inputs[1].MetricData ?? [];
      assert.deepEqual(age.map((d) => [d.MetricName, d.Dimensions, d.Unit]), [[RESTORE_TEST_AGE_METRIC, SERVICE_ONLY, 'Seconds']]);
      assert.ok(Math.abs((age[0].Value ?? 0) - 2 * 86400) <= 60, `age ${age[0].Value}`);
    } finally {
      sm.restore();
      s3.restore();
    }
  });

  it('a database secret without a password publishes RestoreTestSuccess=0 in the configured namespace', async () => {
    const sm = mockClient(SecretsManagerClient);
    const s3 = mockClient(S3Client);
    try {
      sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'bot' }) });
      s3.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: false });
      const env = { DR_REGION: 'eu-west-1', BACKUP_BUCKET: 'b', DB_SECRET_ARN: 'arn:db', DB_HOST: 'db.internal', METRICS_NAMESPACE: 'Custom/Backups', ALERTS_TOPIC_ARN: 'arn:topic' };
      await assert.rejects(() => runEvent({ service: 'postgresql', action: 'restore-test' }, env, lambdaClients(), undefined, () => undefined), /username and password/);
      assert.deepEqual(sent(cw).map(withoutTime), [{ Namespace: 'Custom/Backups', MetricData: [{ MetricName: RESTORE_TEST_SUCCESS_METRIC, Dimensions: SERVICE_ONLY, Value: 0, Unit: 'Count' }] }]);
      assert.equal(sns.commandCalls(PublishCommand)[0].args[0].input.Subject, '[bot-dr] postgresql restore test could not run (eu-west-1)');
    } finally {
      sm.restore();
      s3.restore();
    }
  });
});
