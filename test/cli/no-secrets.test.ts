/**
 * Nothing leaked: planted secret values (a secret stack output, database passwords given on the command line and
 * echoed back by a failing SQL probe and by `pulumi up` output, a password in an AWS error text) appear in no line
 * of output, no plan, no JSON result, no journal (local or S3), no notification and no cached outputs file.
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
import { A, B, FakeClock, FakeDriver, SECRET_TOKEN, World } from '../helpers/aws-world';
import { MemoryStore } from '../helpers/memory-store';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';
const DB_PASSWORD_A = 'PlantedDbPassA-7f3k';
const DB_PASSWORD_B = 'PlantedDbPassB-9q2z';
const KV_SECRET = 'PlantedKvSecret-x81';

function readAll(dir: string): string {
  if (!fs.existsSync(dir)) return '';
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name), 'utf8'))
    .join('\n');
}

describe('no secret value in any AWS command output, plan, report or journal', () => {
  let w: World;
  let driver: FakeDriver;
  let work: string;
  beforeEach(() => {
    w = new World();
    driver = new FakeDriver(w); // its secondary stack has a secret output apiToken = SECRET_TOKEN
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-nosecret-'));
    fs.writeFileSync(path.join(work, 'Pulumi.yaml'), 'name: bot-platform-dr\nruntime: nodejs\n');
    const clock = new FakeClock();
    awsDeps.driver = () => driver;
    awsDeps.clients = () => w.clients();
    awsDeps.clock = clock;
    awsDeps.waits = { timeoutMs: 120_000, pollMs: 5_000 };
    awsDeps.retry = { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 };
    awsDeps.stackRetry = { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 };
    // A SQL probe that fails the way pg can: echoing the connection URL (with its password) in the error.
    awsDeps.sqlProbe = (urls) => ({
      query: async (region: string, text: string) => {
        if (region === B && !/wal|replay|lsn/i.test(text)) return [{ ok: 1, n: 3 }];
        throw new Error(`connect ECONNREFUSED for ${urls[region]} (password=${region === A ? DB_PASSWORD_A : DB_PASSWORD_B})`);
      },
    });
    awsDeps.statusProbes = () =>
      awsStatusProbes({
        env: {},
        clock,
        route53: w.r53,
        cloudwatch: (r) => w.cw[r],
        rds: (r) => w.rds[r],
        store: (_r, bucket) =>
          Object.assign(new MemoryStore(`s3://${bucket}`), {
            list: async () => {
              throw new Error(`AccessDenied: request signed with secret=${KV_SECRET}`);
            },
          }),
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      });
    w.mocks.r53.on(GetHealthCheckStatusCommand).rejects(Object.assign(new Error(`Throttled; token: ${KV_SECRET}`), { name: 'InternalFailure' }));
    w.mocks.cw[B].on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [3], Timestamps: [new Date('2026-11-22T09:59:30Z')] }] });
  });
  afterEach(() => {
    w.restore();
    resetAwsDeps();
    fs.rmSync(work, { recursive: true, force: true });
  });
  const base = () => ['--primary-stack', P, '--secondary-stack', S, '--work-dir', work];
  const urls = ['--primary-db-url', `postgresql://dr:${DB_PASSWORD_A}@db-a.internal:5432/bot`, '--secondary-db-url', `postgresql://dr:${DB_PASSWORD_B}@db-b.internal:5432/bot`];
  const assertClean = (label: string, text: string) => {
    for (const s of [SECRET_TOKEN, DB_PASSWORD_A, DB_PASSWORD_B, KV_SECRET]) assert.ok(!text.includes(s), `${label} contains a planted secret (${s.slice(0, 6)}…)`);
  };

  it('failover: dry-run plan, human and --json runs, step log with `pulumi up` output, journals, notifications, cached outputs', async () => {
    driver.upOutput = [`Updating with db password ${DB_PASSWORD_B} echoed by a provider`, `authorization: ${KV_SECRET}`];
    w.down.add(A);
    const plan = await dr(['failover', '--unplanned', '--dry-run', '--json', ...urls, ...base()]);
    assert.equal(plan.code, 0, plan.stderr);
    const human = await dr(['failover', '--unplanned', '--incident', 'database', '--yes', ...urls, ...base()]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stderr + human.stdout, /\*\*\*/, 'the echoed values were there, redacted');
    assert.ok((human.stdout + human.stderr).includes('Updating with db password *** echoed'), 'pulumi up output reached the step log, redacted');
    w.down.delete(A);
    const json = await dr(['failover', '--unplanned', '--incident', 'cache', '--yes', '--json', ...urls, ...base()]);
    assert.equal(json.code, 0, json.stderr);
    for (const [label, r] of [['plan', plan], ['human', human], ['json', json]] as const) {
      assertClean(`${label} stdout`, r.stdout);
      assertClean(`${label} stderr`, r.stderr);
    }
    assertClean('S3 journal and objects', JSON.stringify(w.s3));
    assertClean('notifications', JSON.stringify(w.published));
    assertClean('local journal, cached outputs', readAll(path.join(work, '.dr')));
    assert.ok(fs.existsSync(path.join(work, '.dr', 'outputs', 'secondary.json')));
  });

  it('status: secret outputs never read, secrets in AWS error texts redacted in the table and the JSON', async () => {
    const human = await dr(['status', ...base()]);
    const json = await dr(['status', '--json', ...base()]);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(json.code, 0, json.stderr);
    assert.match(human.stdout, /ERROR {6}backups in s3:\/\/.*secret=\*\*\*/);
    assert.match(human.stdout, /token: \*\*\*/);
    for (const r of [human, json]) {
      assertClean('status stdout', r.stdout);
      assertClean('status stderr', r.stderr);
    }
    assertClean('cached outputs', readAll(path.join(work, '.dr')));
  });
});
