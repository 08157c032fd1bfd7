/**
 * `dr failover` in AWS mode end to end through the CLI: a fake Automation API workspace and aws-sdk-client-mock
 * clients (test/helpers/aws-world.ts) stand in for Pulumi and AWS; the command wires E1's adapters and D1's engine.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { awsDeps, resetAwsDeps } from '../../automation/cli/aws';
import { dr } from '../helpers/cli';
import { fixtureReport } from '../readiness/fixtures';
import { A, B, FakeClock, FakeDriver, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS, World } from '../helpers/aws-world';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';

describe('dr failover (AWS mode, fake workspace + mocked AWS)', () => {
  let w: World;
  let driver: FakeDriver;
  let work: string;
  beforeEach(() => {
    w = new World();
    driver = new FakeDriver(w);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-fo-cli-'));
    fs.writeFileSync(path.join(work, 'Pulumi.yaml'), 'name: bot-platform-dr\nruntime: nodejs\n');
    awsDeps.driver = () => driver;
    awsDeps.clients = () => w.clients();
    awsDeps.bots = () => w.botsOptions();
    awsDeps.clock = new FakeClock();
    awsDeps.waits = { timeoutMs: 120_000, pollMs: 5_000 };
    awsDeps.retry = { attempts: 3, baseDelayMs: 100, maxDelayMs: 200 };
    awsDeps.stackRetry = { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 2_000 };
    // Readiness is its own module (test/adapters/aws/readiness-observer.test.ts); here it is ready unless a test says.
    awsDeps.readiness = () => fixtureReport('ready');
  });
  afterEach(() => {
    w.restore();
    resetAwsDeps();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const base = () => ['--primary-stack', P, '--secondary-stack', S, '--work-dir', work];
  const ups = () => driver.calls.filter((c) => c.startsWith('up '));

  it('unplanned datacenter with us-east-1 down: refresh, every step through the AWS adapters, journal in S3 + locally, --json result', async () => {
    w.down.add(A);
    const r = await dr(['failover', '--unplanned', '--incident', 'datacenter', '--yes', '--json', ...base()]);
    assert.equal(r.code, 0, r.stderr);
    const res = r.json();
    assert.equal(res.outcome, 'completed');
    assert.equal(res.from, A);
    assert.equal(res.to, B);
    assert.deepEqual(res.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`), [
      'preflight:ok', 'fence:skipped', 'catch-up:skipped', 'promote-database:ok', 'promote-cache:ok', 'promote-secrets:ok', 'switch-dns:ok', 'verify:ok', 'record:ok', 'reconcile:ok',
    ]);
    // Traffic first: no stack refresh before traffic moved (the reconcile up refreshes, after verify).
    assert.ok(!driver.calls.some((c) => c.startsWith('refresh ')), driver.calls.join('\n'));
    assert.deepEqual(driver.upOptions.map((u) => u.refresh), [true]);
    // Promotion straight through RDS (retention from the stack's config default), then one reconcile up.
    assert.equal(w.acts.PromoteReadReplica, 1);
    assert.equal(w.acts['ModifyDBInstance:MultiAZ'], 1, 'after traffic moved: Multi-AZ and backups in one modification');
    assert.equal(w.acts['stack:promote'], undefined);
    assert.equal(ups().length, 1);
    assert.equal(driver.stacks[P].config['bot-platform-dr:role'], 'secondary');
    assert.equal(w.acts.ChangeResourceRecordSets, 1);
    assert.equal(w.acts.DisassociateGlobalReplicationGroup, 1);
    assert.deepEqual(res.estimated_data_loss.lag_seconds, 4);
    assert.deepEqual(res.pending_fences, [{ region: A, tiers: ['database', 'bots'] }]);
    assert.equal(w.botRecord('community', B).active_region, B, 'the survivor\'s copy names it before DNS switched');
    assert.ok(w.s3[`${SECONDARY_OUTPUTS.bucketName}/failover/journal/${res.id}.json`], 'journal in the survivor bucket');
    assert.ok(fs.readdirSync(path.join(work, '.dr', 'failover-journal')).length > 0, 'local journal copy');
    // The outputs read online are cached for an offline plan later.
    const cached = JSON.parse(fs.readFileSync(path.join(work, '.dr', 'outputs', 'secondary.json'), 'utf8'));
    assert.equal(cached.dbIdentifier, SECONDARY_OUTPUTS.dbIdentifier);
    assert.equal(cached.apiToken, undefined, 'secret outputs are not cached');
  });

  it('human output: one line per step as it finishes, then the summary naming the pending fence', async () => {
    w.down.add(A);
    const r = await dr(['failover', '--unplanned', '--yes', ...base()]);
    assert.equal(r.code, 0, r.stderr);
    for (const step of ['preflight', 'promote-database', 'switch-dns', 'record']) assert.match(r.stdout, new RegExp(`^\\[ok\\] ${step} \\(`, 'm'));
    assert.match(r.stdout, /^\[--\] fence/m);
    assert.match(r.stdout, new RegExp(`unplanned datacenter ${A} → ${B}: completed`));
    assert.match(r.stdout, /fence pending .*dr failback/);
  });

  it('--planned while the primary region is unreachable: exit 2, suggests --unplanned, nothing changed', async () => {
    w.down.add(A);
    const r = await dr(['failover', '--planned', '--yes', ...base()]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--unplanned/);
    assert.equal(ups().length, 0);
    assert.deepEqual(Object.keys(w.acts), []);
  });

  it('--planned while readiness is not-ready: exit 2 naming the failed checks, nothing acted; --force switches over', async () => {
    awsDeps.readiness = () => fixtureReport('not-ready');
    const r = await dr(['failover', '--planned', '--incident', 'cache', '--yes', ...base()]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /readiness is not-ready, so a planned switchover is refused \(nothing was changed\)\. Failed checks: backups\.newest .*AccessDenied.*--force/);
    assert.deepEqual(Object.keys(w.acts), []);
    const forced = await dr(['failover', '--planned', '--incident', 'cache', '--force', '--yes', '--json', ...base()]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.json().outcome, 'completed');
    assert.match(forced.json().steps[0].detail, /^readiness: not-ready; failed: backups\.newest.*\(forced\)/);
    assert.equal(w.acts.FailoverGlobalReplicationGroup, 1);
    const bad = await dr(['failover', '--unplanned', '--force', '--yes', ...base()]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--force goes with a planned switchover/);
  });

  it('planned datacenter switchover with no route from this machine into the VPC: WAL positions, the fence and the write probe go through each region\'s backup-job Lambda', async () => {
    driver.stacks[P].outputs.backupFunctionName = { value: 'botdr-use1-backup-job', secret: false };
    driver.stacks[S].outputs.backupFunctionName = { value: 'botdr-usw2-backup-job', secret: false };
    const lambdaClient = new LambdaClient({ region: A, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const lambda = mockClient(lambdaClient);
    const asked: string[] = [];
    const answers: Record<string, Array<Record<string, unknown>>> = {
      'current-wal-lsn': [{ lsn: '0/5000000' }],
      'replay-lsn': [{ lsn: '0/5000000' }],
      'replay-position': [{ lsn: '0/5000000', delay: 0 }],
      'terminate-sessions': [{ n: 3 }],
      'write-probe': [{ ok: 1 }],
    };
    lambda.on(InvokeCommand).callsFake((i: { FunctionName: string; Payload: Uint8Array }) => {
      const { probe } = JSON.parse(new TextDecoder().decode(i.Payload)) as { probe: string };
      asked.push(`${i.FunctionName} ${probe}`);
      const text = JSON.stringify({ probe, rows: answers[probe] ?? [] });
      return { StatusCode: 200, Payload: Object.assign(new TextEncoder().encode(text), { transformToString: () => text }) };
    });
    try {
      awsDeps.clients = () => ({ ...w.clients(), lambda: () => lambdaClient });
      const r = await dr(['failover', '--planned', '--incident', 'datacenter', '--yes', '--json', ...base()]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json().outcome, 'completed');
      assert.equal(r.json().steps.find((x: { name: string }) => x.name === 'catch-up').status, 'ok');
      for (const want of ['botdr-use1-backup-job current-wal-lsn', 'botdr-usw2-backup-job replay-position', 'botdr-use1-backup-job terminate-sessions', 'botdr-usw2-backup-job replay-lsn', 'botdr-usw2-backup-job write-probe']) assert.ok(asked.includes(want), `${want} in ${asked.join(', ')}`);
      assert.match(r.stderr, /SQL in us-east-1 through the backup-job Lambda \(no --primary-db-url\/--secondary-db-url for it\)/);
    } finally {
      lambda.restore();
    }
  });

  it('planned cache switchover: FailoverGlobalReplicationGroup only, no stack update', async () => {
    const r = await dr(['failover', '--planned', '--incident', 'cache', '--yes', '--json', ...base()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().outcome, 'completed');
    assert.equal(w.acts.FailoverGlobalReplicationGroup, 1);
    assert.equal(ups().length, 0, 'a cache incident changes no stack');
  });

  it('without --yes and without a terminal it refuses (exit 2) and changes nothing', async () => {
    const r = await dr(['failover', '--unplanned', ...base()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--yes/);
    assert.deepEqual(Object.keys(w.acts), []);
  });

  it('--dry-run online: the plan with real identifiers, nothing acted, nothing journaled', async () => {
    const r = await dr(['failover', '--unplanned', '--dry-run', '--json', ...base()]);
    assert.equal(r.code, 0, r.stderr);
    const plan = r.json();
    assert.equal(plan.dry_run, true);
    assert.equal(plan.steps.find((s: { name: string }) => s.name === 'promote-database').target.database, SECONDARY_OUTPUTS.dbIdentifier);
    assert.deepEqual(Object.keys(w.acts), []);
    assert.equal(fs.existsSync(path.join(work, '.dr', 'failover-journal')), false);
    assert.equal(driver.calls.filter((c) => c.startsWith('refresh')).length, 0, 'a dry-run does not refresh');
  });

  it('bad input: unknown incident, --planned with --unplanned, no Pulumi project, --from outside the pair → exit 2 naming it', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--incident', 'meteor'], /--incident must be one of datacenter\|database\|cache, got 'meteor'/],
      [['--planned', '--unplanned'], /exclude each other/],
      [['--from', 'eu-west-1'], /--from eu-west-1 is not one of the stacks' regions/],
    ];
    for (const [argv, re] of cases) {
      const r = await dr(['failover', '--yes', ...base(), ...argv]);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    const r = await dr(['failover', '--yes', '--work-dir', os.tmpdir()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a Pulumi project \(no Pulumi.yaml\)/);
    const same = await dr(['failover', '--yes', '--primary-stack', P, '--secondary-stack', P, '--work-dir', work]);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /same stack/);
    assert.deepEqual(Object.keys(w.acts), []);
  });

  it('--dry-run offline (Pulumi backend down, saved outputs): every step in the traffic-first order, with its targets, nothing acted', async () => {
    assert.equal((await dr(['failover', '--unplanned', '--dry-run', ...base()])).code, 0);
    driver.backendDown = true;
    const r = await dr(['failover', '--unplanned', '--dry-run', '--json', '--outputs-dir', path.join(work, '.dr', 'outputs'), ...base()]);
    assert.equal(r.code, 0, r.stderr);
    const plan = r.json();
    type PlanStep = { name: string; target: Record<string, unknown>; runs: boolean };
    const steps = plan.steps as PlanStep[];
    assert.deepEqual(steps.map((s) => s.name), ['preflight', 'fence', 'catch-up', 'promote-database', 'promote-cache', 'promote-secrets', 'switch-dns', 'verify', 'record', 'reconcile']);
    assert.ok(steps.every((s) => s.runs));
    const step = (n: string) => steps.find((s) => s.name === n)!;
    assert.deepEqual(step('promote-database').target, { region: B, database: SECONDARY_OUTPUTS.dbIdentifier });
    assert.equal(step('promote-secrets').target.active_region, B, 'the bots\' active region is written before DNS');
    assert.deepEqual(step('switch-dns').target.records, ['bot.example.com']);
    assert.deepEqual(step('reconcile').target.stacks, [P, S]);
    assert.match(JSON.stringify(step('reconcile')), /after traffic moved.*without rebuilding the job image/);
    assert.ok(!JSON.stringify(step('promote-secrets')).match(/secret:[A-Za-z0-9-]{4,}/), 'secret ARNs are redacted in the plan');
    assert.deepEqual(Object.keys(w.acts), []);
    assert.equal(fs.existsSync(path.join(work, '.dr', 'failover-journal')), false);
  });

  it('Pulumi backend down: without saved outputs it says to use --outputs-dir; with them traffic moves, reconcile stays pending, and --resume finishes it once the backend answers', async () => {
    // A first (dry) run online caches the outputs.
    assert.equal((await dr(['failover', '--unplanned', '--dry-run', ...base()])).code, 0);
    driver.backendDown = true;
    w.down.add(A);
    const none = await dr(['failover', '--unplanned', '--incident', 'database', '--yes', ...base()]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /Pulumi backend does not answer.*--outputs-dir/);
    const r = await dr(['failover', '--unplanned', '--incident', 'database', '--yes', '--json', '--outputs-dir', path.join(work, '.dr', 'outputs'), ...base()]);
    assert.equal(r.code, 0, r.stderr);
    const res = r.json();
    assert.equal(res.outcome, 'serving');
    assert.equal(w.acts.PromoteReadReplica, 1);
    assert.equal(w.db[B].retention, 14);
    assert.equal(ups().length, 0);
    assert.match(res.stacks_unavailable, /traffic moves anyway.*database.promoted=true/);
    assert.equal(res.steps.find((s: { name: string }) => s.name === 'reconcile').status, 'pending');
    const human = await dr(['failover', '--resume', '--yes', '--outputs-dir', path.join(work, '.dr', 'outputs'), ...base()]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /PENDING reconcile: .*stacks not re-targeted/);
    assert.match(human.stdout, /stays open until 'dr failover --resume' finishes reconcile/);
    driver.backendDown = false;
    const done = await dr(['failover', '--resume', '--yes', '--json', ...base()]);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.json().outcome, 'completed');
    assert.equal(ups().length, 1);
    assert.equal(w.acts.PromoteReadReplica, 1);
    assert.equal(driver.stacks[S].config['bot-platform-dr:database.promoted'], 'true');
  });

  it('another operator holds the failover lease: dr failover and dr failback exit 2 naming them, touching nothing; --break-lock only after expiry', async () => {
    w.down.add(A);
    const lockKey = `${SECONDARY_OUTPUTS.bucketName}/failover/lock`;
    const holder = { holder: 'bob@laptop-b', host: 'laptop-b', pid: 777, command: 'dr failover --unplanned --incident datacenter', failover_id: 'fo-bob', started_at: '2026-11-22T09:58:00.000Z', renewed_at: '2026-11-22T09:59:30.000Z', expires_at: '2026-11-22T10:04:30.000Z', token: 'bob' };
    w.objects.put(lockKey, JSON.stringify(holder), {});
    const sql = ['--primary-db-url', 'postgresql://dr:pw-a@db-a.example:5432/bot', '--secondary-db-url', 'postgresql://dr:pw-b@db-b.example:5432/bot'];
    for (const argv of [['failover', '--unplanned', '--yes'], ['failover', '--unplanned', '--yes', '--break-lock'], ['failback', '--yes', ...sql]]) {
      const r = await dr([...argv, ...base()]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /held by bob@laptop-b \(pid 777, dr failover --unplanned --incident datacenter, failover fo-bob\) since 2026-11-22T09:58:00.000Z \(2 min\)/);
    }
    assert.deepEqual(Object.keys(w.acts), [], 'nothing acted');
    assert.equal(ups().length, 0);
    // Bob's machine died: 10 minutes without a renewal. Without --break-lock still refused; with it, taken over.
    (awsDeps.clock as FakeClock).t += 10 * 60_000;
    const refused = await dr(['failover', '--unplanned', '--yes', ...base()]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /expired at 2026-11-22T10:04:30.000Z.*--break-lock/);
    const r = await dr(['failover', '--unplanned', '--yes', '--json', '--break-lock', ...base()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().outcome, 'completed');
    const journal = (JSON.parse(w.s3[`${SECONDARY_OUTPUTS.bucketName}/failover/journal/${r.json().id}.json`]) as { entries: Array<{ kind: string; took_over?: string }> }).entries;
    assert.match(journal.find((e) => e.kind === 'lease')?.took_over ?? '', /broke the expired lease of bob@laptop-b/);
    assert.equal(w.s3[lockKey], undefined, 'released');
  });

  it('dr killed right after the DNS change, then --resume (also from another machine): completes, every action once', async () => {
    w.down.add(A);
    w.crashAfterAct = 'ChangeResourceRecordSets';
    const first = await dr(['failover', '--unplanned', '--yes', '--json', '--id', 'fo-crash', ...base()]);
    assert.equal(first.code, 1);
    // Another operator's machine: no local journal; the journal is found in the survivor's bucket.
    const other = path.join(work, 'other-machine-journal');
    const r = await dr(['failover', '--resume', '--yes', '--json', '--journal-dir', other, ...base()]);
    assert.equal(r.code, 0, r.stderr);
    const res = r.json();
    assert.equal(res.id, 'fo-crash');
    assert.equal(res.outcome, 'completed');
    assert.equal(w.acts.ChangeResourceRecordSets, 1);
    assert.equal(w.acts.PromoteReadReplica, 1);
    assert.equal(ups().length, 1);
    assert.ok(res.steps.some((s: { status: string }) => s.status === 'done-before'));
    const again = await dr(['failover', '--resume', '--yes', ...base()]);
    assert.equal(again.code, 2, 'nothing left to resume');
    assert.match(again.stderr, /no unfinished failover/);
  });

  it('after a failover both stacks say secondary: the promoted stack is found from the config, so a rerun plans the way back', async () => {
    w.down.add(A);
    assert.equal((await dr(['failover', '--unplanned', '--yes', ...base()])).code, 0);
    driver.stacks[P].outputs.role = { value: 'secondary', secret: false };
    const r = await dr(['failover', '--planned', '--dry-run', '--json', ...base()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().from, B);
    assert.equal(r.json().to, A);
    assert.equal(PRIMARY_OUTPUTS.region, A);
  });
});
