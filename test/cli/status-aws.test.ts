/**
 * `dr status` in AWS mode through the CLI: outputs from the fake workspace (or saved files), Route 53 health and
 * CloudWatch ReplicaLag from aws-sdk-client-mock, backups from an in-memory bucket.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetHealthCheckStatusCommand } from '@aws-sdk/client-route-53';
import { awsStatusProbes } from '../../automation/adapters/aws/status-probes';
import { awsDeps, resetAwsDeps } from '../../automation/cli/aws';
import { dr } from '../helpers/cli';
import { fixtureReport } from '../readiness/fixtures';
import { A, B, FakeClock, FakeDriver, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS, World } from '../helpers/aws-world';
import { MemoryStore } from '../helpers/memory-store';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';

class DownStore extends MemoryStore {
  override async list(): Promise<never> {
    throw new Error(`getaddrinfo ENOTFOUND s3.${A}.amazonaws.com`);
  }
}

describe('dr status (AWS mode, fake workspace + mocked AWS)', () => {
  let w: World;
  let driver: FakeDriver;
  let work: string;
  let stores: Record<string, MemoryStore>;
  beforeEach(() => {
    w = new World();
    driver = new FakeDriver(w);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-status-cli-'));
    fs.writeFileSync(path.join(work, 'Pulumi.yaml'), 'name: bot-platform-dr\nruntime: nodejs\n');
    const clock = new FakeClock(); // 2026-11-22T10:00:00Z
    const backups = new MemoryStore(`s3://${SECONDARY_OUTPUTS.bucketName}`);
    for (const k of ['postgresql/daily/backup_20261122_030000.dump', 'redis/daily/backup_20261122_040000.rdb']) {
      backups.objects.set(k, Buffer.from('data'));
      backups.objects.set(`${k}.metadata.json`, Buffer.from('{}'));
    }
    stores = { [SECONDARY_OUTPUTS.bucketName]: backups, [PRIMARY_OUTPUTS.bucketName]: new MemoryStore(`s3://${PRIMARY_OUTPUTS.bucketName}`) };
    w.mocks.r53.on(GetHealthCheckStatusCommand).callsFake((input: { HealthCheckId?: string }) => ({
      HealthCheckObservations: Array.from({ length: 6 }, () => ({ StatusReport: { Status: input.HealthCheckId === PRIMARY_OUTPUTS.healthCheckId ? 'Success: HTTP Status Code 200, OK' : 'Failure: Connection timed out' } })),
    }));
    w.mocks.cw[B].on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [7], Timestamps: [new Date('2026-11-22T09:59:00Z')] }] });
    awsDeps.driver = () => driver;
    awsDeps.clock = clock;
    awsDeps.readiness = () => fixtureReport('not-ready');
    awsDeps.statusProbes = () =>
      awsStatusProbes({ env: {}, clock, route53: w.r53, cloudwatch: (r) => w.cw[r], rds: (r) => w.rds[r], store: (_r, bucket) => stores[bucket], retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
  });
  afterEach(() => {
    w.restore();
    resetAwsDeps();
    fs.rmSync(work, { recursive: true, force: true });
  });
  const base = () => ['--primary-stack', P, '--secondary-stack', S, '--work-dir', work];

  it('--json: both regions with role, endpoints, health, lag, newest backups and the predicted RTO/RPO with parts', async () => {
    const r = await dr(['status', '--json', ...base()]);
    assert.equal(r.code, 0, r.stderr);
    const s = r.json();
    assert.deepEqual(s.regions.map((x: { region: string; role: string; stack: string }) => [x.region, x.role, x.stack]), [[A, 'primary', P], [B, 'secondary', S]]);
    assert.equal(s.regions[0].endpoints.database, PRIMARY_OUTPUTS.dbEndpoint);
    assert.equal(s.regions[0].health_check.status, 'healthy');
    assert.equal(s.regions[1].health_check.status, 'unhealthy');
    assert.deepEqual(s.regions[1].replica_lag, { seconds: 7, observed_at: '2026-11-22T09:59:00.000Z' });
    assert.equal(s.regions[1].backups.postgresql.daily.age_seconds, 7 * 3600);
    assert.equal(s.predicted.rpo.seconds, 7);
    assert.equal(s.predicted.rpo.meets_target, true);
    assert.equal(s.predicted.rto.target_seconds, 3600);
    assert.equal(s.readiness.verdict, 'not-ready');
    assert.ok(s.readiness.failed.length > 0 && s.readiness.failed.every((f: { name: string; fix: string }) => f.name.startsWith('backups.') && f.fix), JSON.stringify(s.readiness.failed));
    assert.ok(s.predicted.rto.parts.length >= 3);
    assert.equal(driver.calls.filter((c) => c.startsWith('refresh')).length, 0, 'no refresh unless asked');
    // The exact CloudWatch query: the replica's ReplicaLag in its own region.
    const q = w.mocks.cw[B].commandCalls(GetMetricDataCommand)[0].args[0].input;
    assert.deepEqual(q.MetricDataQueries?.[0].MetricStat?.Metric?.Dimensions, [{ Name: 'DBInstanceIdentifier', Value: SECONDARY_OUTPUTS.dbIdentifier }]);
  });

  it('human table; a region whose bucket does not answer is reported, not fatal; --promotion-seconds feeds the RTO', async () => {
    stores[PRIMARY_OUTPUTS.bucketName] = new DownStore('down');
    const r = await dr(['status', '--promotion-seconds', '120', ...base()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${A}  PRIMARY  stack ${P}`, 'm'));
    assert.match(r.stdout, /health {5}UNHEALTHY \(hc-usw2-0002/);
    assert.match(r.stdout, /lag {8}7 s/);
    assert.match(r.stdout, /ERROR {6}backups in s3:\/\/botdr-use1-backups-0a1b2c: getaddrinfo ENOTFOUND/);
    assert.match(r.stdout, /^Predicted RTO: .* MEETS/m);
    assert.match(r.stdout, /^  database-promotion +2 min .*\[measured\]$/m);
    // The readiness verdict and each failed check with its fix.
    assert.match(r.stdout, /^  readiness  NOT-READY \(from us-west-2 at 2026-11-22T10:00:00\.000Z\)/m);
    assert.match(r.stdout, /^    FAIL backups\.newest backups: .*AccessDenied\n {9}fix: dr backups list/m);
  });

  it('--outputs-dir reads saved outputs without the Pulumi backend; bad flags exit 2', async () => {
    driver.backendDown = true;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-status-out-'));
    try {
      fs.writeFileSync(path.join(dir, 'primary.json'), JSON.stringify(PRIMARY_OUTPUTS));
      fs.writeFileSync(path.join(dir, 'secondary.json'), JSON.stringify(SECONDARY_OUTPUTS));
      const r = await dr(['status', '--json', '--outputs-dir', dir, '--primary-stack', P, '--secondary-stack', S]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json().regions.length, 2);
      const online = await dr(['status', ...base()]);
      assert.equal(online.code, 1);
      assert.match(online.stderr, /--outputs-dir/);
      const bad = await dr(['status', '--promotion-seconds', '-5', '--outputs-dir', dir]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--promotion-seconds must be between 0 and 86400/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
