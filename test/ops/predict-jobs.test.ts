import assert from 'node:assert/strict';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetHealthCheckStatusCommand, Route53Client } from '@aws-sdk/client-route-53';
import { buildAwsTopology } from '../../automation/adapters/aws/topology';
import { awsStatusProbes } from '../../automation/adapters/aws/status-probes';
import { Manifest } from '../../automation/backup/manifest';
import { JobSample, nextBackupBytes, predictJobs } from '../../automation/ops/predict';
import { awsStatus, formatAwsStatus } from '../../automation/ops/status';
import { FARGATE_RECOMMENDED_ABOVE_GB } from '../../lib/backup-runner';
import { MemoryStore } from '../helpers/memory-store';
import { primaryOutputs, secondaryOutputs } from '../helpers/aws-fixtures';

const GiB = 1024 ** 3;
const lambda = { kind: 'lambda' as const, timeout_seconds: 900, storage_mb: 4096 };
/** A daily backup `daysAgo` days before 2026-05-01 03:00 of `gib` GiB that took `seconds`. */
const sample = (daysAgo: number, gib: number, seconds: number, extra: Partial<JobSample> = {}): JobSample => ({
  key: `postgresql/daily/backup_2026050${1 - daysAgo}_030000.dump`,
  at: new Date(Date.parse('2026-05-01T03:00:00Z') - daysAgo * 86400_000).toISOString(),
  sizeBytes: Math.round(gib * GiB),
  durationSeconds: seconds,
  runner: lambda,
  ...extra,
});

describe('predicted backup and restore-test durations (pure)', () => {
  it('the next size follows the growth of the newest backups (least squares, one day ahead)', () => {
    assert.equal(nextBackupBytes([]), undefined);
    assert.equal(nextBackupBytes([{ at: '2026-05-01T03:00:00Z', sizeBytes: 100 }]), 100);
    const growing = [0, 1, 2, 3].map((d) => ({ at: new Date(Date.parse('2026-05-01T03:00:00Z') - d * 86400_000).toISOString(), sizeBytes: 1000 - d * 100 }));
    assert.equal(nextBackupBytes(growing), 1100);
    const shrinking = [0, 1].map((d) => ({ at: new Date(Date.parse('2026-05-01T03:00:00Z') - d * 86400_000).toISOString(), sizeBytes: 100 + d * 300 }));
    assert.equal(nextBackupBytes(shrinking), 0, 'never below zero');
  });

  it('backup and restore test: next size × the median seconds per byte, against the runner’s limit; quiet when far from it', () => {
    const samples = [
      sample(0, 2, 120, { restoreTest: { ok: true, durationSeconds: 200, mode: 'streamed', jobs: 1, runner: lambda } }),
      sample(1, 2, 100),
      sample(2, 2, 140),
    ];
    const p = predictJobs(samples);
    assert.deepEqual(p.runner, lambda);
    assert.equal(p.next_size_bytes, 2 * GiB);
    assert.equal(p.backup.seconds, 120, 'median 60 s per GiB × 2 GiB');
    assert.equal(p.backup.limit_seconds, 900);
    assert.equal(p.backup.share, 0.13);
    assert.equal(p.restore_test.seconds, 200);
    assert.match(p.restore_test.detail, /median 100 s per GiB of dump \(streamed, 1 job\(s\)\)/);
    assert.deepEqual(p.warnings, []);
  });

  it('warns from 80 % of the Lambda’s 15 minutes, and when it would not finish — naming fargate and its threshold', () => {
    const near = predictJobs([sample(0, 10, 760), sample(1, 10, 740)]);
    assert.equal(near.backup.seconds, 750);
    assert.match(near.warnings.join('\n'), new RegExp(`next backup \\(~12 min 30 s\\) uses 83 % of the lambda limit of 15 min: set backup.runner fargate \\(recommended above ${FARGATE_RECOMMENDED_ABOVE_GB} GB\\)`));
    const over = predictJobs([sample(0, 10, 700, { restoreTest: { ok: true, durationSeconds: 1200, mode: 'streamed', jobs: 1 } }), sample(1, 9, 640)]);
    assert.match(over.warnings.join('\n'), /next restore test \(~\d+ min( \d+ s)?\) would not finish within the lambda limit of 15 min/);
  });

  it('fargate: the task’s deadline is the limit, and a downloading restore test must fit its ephemeral storage', () => {
    const task = { kind: 'fargate' as const, timeout_seconds: 21600, storage_mb: 21 * 1024 };
    const p = predictJobs([sample(0, 20, 1800, { runner: task, restoreTest: { ok: true, durationSeconds: 2400, mode: 'downloaded', jobs: 4, runner: task } })]);
    assert.equal(p.backup.limit_seconds, 21600);
    assert.match(p.warnings.join('\n'), /next restore test downloads ~20.00 GiB to the fargate's 21 GB of local storage \(95 %\): set backup.restoreTestJobs 1 \(streamed, no local copy\) or raise backup.ephemeralStorageGb/);
    const slow = predictJobs([sample(0, 20, 20000, { runner: task })]);
    assert.match(slow.warnings.join('\n'), /uses 93 % of the fargate limit of 6 h: raise backup.timeoutSeconds/);
  });

  it('no manifests, no runner, no passed restore test: unknown, said plainly', () => {
    const none = predictJobs([]);
    assert.deepEqual([none.backup.seconds, none.backup.source, none.restore_test.seconds], [null, 'unknown', null]);
    const shell = predictJobs([sample(0, 1, 30, { runner: undefined, restoreTest: { ok: false, durationSeconds: 5 } })]);
    assert.equal(shell.backup.seconds, 30);
    assert.equal(shell.backup.limit_seconds, undefined);
    assert.equal(shell.restore_test.seconds, null);
    assert.match(shell.warnings.join('\n'), /record no runner .* the runner limits are not checked/);
  });
});

describe('dr status: the next jobs from the primary bucket’s newest manifests', () => {
  let r53: AwsClientStub<Route53Client>;
  let cw: AwsClientStub<CloudWatchClient>;
  before(() => {
    r53 = mockClient(Route53Client);
    cw = mockClient(CloudWatchClient);
    r53.on(GetHealthCheckStatusCommand).resolves({ HealthCheckObservations: [] });
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [], Timestamps: [] }] });
  });
  after(() => {
    r53.restore();
    cw.restore();
  });

  const now = new Date('2026-05-01T12:00:00Z');
  const manifest = (day: number, gib: number, seconds: number, extra: Partial<Manifest> = {}): Manifest => ({
    format: 1,
    backup_id: `backup_202604${String(day).padStart(2, '0')}_030000`,
    type: 'full',
    service: 'postgresql',
    tier: 'daily',
    timestamp: `2026-04-${String(day).padStart(2, '0')}T03:00:00.000Z`,
    key: `postgresql/daily/backup_202604${String(day).padStart(2, '0')}_030000.dump`,
    size_bytes: Math.round(gib * GiB),
    size_readable: `${gib}GB`,
    duration_seconds: seconds,
    files: [],
    checksum: `sha256:${'a'.repeat(64)}`,
    database: 'bot',
    server_version: '16.4',
    source: 'db:5432',
    tool_versions: {},
    verified: true,
    retention: '7_daily',
    restorability: 'UNVERIFIED',
    runner: lambda,
    ...extra,
  });

  it('predicts from the manifests (unreadable ones skipped) and prints the warning near the Lambda limit', async () => {
    const store = new MemoryStore('s3://botdr-use1-backups-20260101');
    const put = (m: Manifest) => {
      store.objects.set(m.key, Buffer.alloc(4));
      store.objects.set(`${m.key}.metadata.json`, Buffer.from(JSON.stringify(m)));
    };
    put(manifest(28, 11, 700));
    put(manifest(29, 11.5, 720, { restore_test: { at: '2026-04-29T06:00:00Z', ok: true, target: 'db/x', duration_seconds: 810, mode: 'streamed', jobs: 1, runner: lambda } }));
    put(manifest(30, 12, 760));
    store.objects.set('postgresql/daily/backup_20260427_030000.dump', Buffer.alloc(4));
    store.objects.set('postgresql/daily/backup_20260427_030000.dump.metadata.json', Buffer.from('{not json'));
    const probes = awsStatusProbes({ env: {}, clock: { now: () => now, sleep: async () => undefined }, route53: new Route53Client({ region: 'us-east-1' }), cloudwatch: (region) => new CloudWatchClient({ region }), store: (_r, bucket) => (bucket === 'botdr-use1-backups-20260101' ? store : new MemoryStore(`s3://${bucket}`)), retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const topology = buildAwsTopology({ primary: { name: 'acme/bot-platform-dr/primary', outputs: primaryOutputs() }, secondary: { name: 'acme/bot-platform-dr/secondary', outputs: secondaryOutputs() } });
    const s = await awsStatus({ topology, probes, now });
    const jobs = s.predicted.jobs!;
    assert.ok(jobs, 'a jobs prediction');
    assert.equal(jobs.runner?.kind, 'lambda');
    assert.ok(jobs.backup.seconds! > 760 && jobs.backup.seconds! < 900, `backup ${jobs.backup.seconds}`);
    assert.ok(jobs.restore_test.seconds! > 810, `restore test ${jobs.restore_test.seconds}`);
    assert.match(jobs.warnings.join('\n'), /next backup .* uses \d+ % of the lambda limit of 15 min: set backup.runner fargate/);
    assert.ok(s.regions.every((r) => !('job_samples' in r)), 'samples are not part of the output');
    const text = formatAwsStatus(s);
    assert.match(text, /Next scheduled jobs \(runner lambda\):/);
    assert.match(text, /backup {15}~1\d min( \d+ s)? of 15 min \(\d+ %\)/);
    assert.match(text, /warning: the next restore test .* lambda limit of 15 min/);
  });
});
