/**
 * `dr failback` in AWS mode: fake Automation API workspace + aws-sdk-client-mock (test/helpers/aws-world.ts). After an
 * unplanned failover to us-west-2, the failback fences the old primary, snapshots it, retargets its stack as a
 * replica of the survivor, rebuilds it (`up`), waits for the replica and its lag, then switches back (planned).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, ModifyDBInstanceCommand } from '@aws-sdk/client-rds';
import type { StackDriver, StackLike } from '../../automation/adapters/aws/stacks';
import { awsStatusProbes } from '../../automation/adapters/aws/status-probes';
import { awsDeps, resetAwsDeps } from '../../automation/cli/aws';
import { dr } from '../helpers/cli';
import { A, B, FakeClock, FakeDriver, SECONDARY_OUTPUTS, World } from '../helpers/aws-world';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';

describe('dr failback (AWS mode, fake workspace + mocked AWS)', () => {
  let w: World;
  let driver: FakeDriver;
  let work: string;
  let order: string[];
  let lagSeconds: number;
  let snapshots: Record<string, string>;
  let sqlUrls: Array<Record<string, string>>;
  beforeEach(async () => {
    w = new World();
    driver = new FakeDriver(w);
    order = [];
    lagSeconds = 2;
    snapshots = {};
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-fb-cli-'));
    fs.writeFileSync(path.join(work, 'Pulumi.yaml'), 'name: bot-platform-dr\nruntime: nodejs\n');
    // The home stack's `up` with role=secondary, promoted=false rebuilds its database as a replica of the survivor.
    const wrapped: StackDriver = {
      async select(name: string): Promise<StackLike> {
        const s = await driver.select(name);
        if (name !== P) return s;
        return {
          ...s,
          async up(opts) {
            const cfg = driver.stacks[P].config;
            if (cfg['bot-platform-dr:role'] === 'secondary' && cfg['bot-platform-dr:database.promoted'] === 'false') {
              order.push(`up ${P} rebuild (peerStack=${cfg['bot-platform-dr:peerStack']})`);
              w.db[A] = { status: 'available', replicaOf: SECONDARY_OUTPUTS.dbArn, retention: 0, paramGroup: 'botdr-use1-pg16' };
              driver.stacks[P].outputs.role = { value: 'secondary', secret: false };
              return { result: 'succeeded' };
            }
            order.push(`up ${P}`);
            return s.up(opts);
          },
        };
      },
    };
    const clock = new FakeClock();
    awsDeps.driver = () => wrapped;
    awsDeps.clients = () => w.clients();
    awsDeps.bots = () => w.botsOptions();
    awsDeps.clock = clock;
    awsDeps.waits = { timeoutMs: 120_000, pollMs: 5_000 };
    awsDeps.retry = { attempts: 3, baseDelayMs: 100, maxDelayMs: 200 };
    awsDeps.stackRetry = { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 2_000 };
    sqlUrls = [];
    awsDeps.sqlProbe = (urls) => {
      sqlUrls.push(urls);
      return { query: async (_region: string, text: string) => (text.includes('current_wal') || text.includes('replay_lsn') ? [{ lsn: '0/5000000', delay: 0 }] : [{ ok: 1, n: 3 }]) };
    };
    awsDeps.statusProbes = () => awsStatusProbes({ env: {}, clock, route53: w.r53, cloudwatch: (r) => w.cw[r], rds: (r) => w.rds[r], retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    const rdsA = w.mocks.rds[A];
    rdsA.on(CreateDBSnapshotCommand).callsFake((input: { DBSnapshotIdentifier?: string }) => {
      order.push(`CreateDBSnapshot ${input.DBSnapshotIdentifier}`);
      snapshots[input.DBSnapshotIdentifier!] = 'creating';
      return {};
    });
    rdsA.on(DescribeDBSnapshotsCommand).callsFake((input: { DBSnapshotIdentifier?: string; DBInstanceIdentifier?: string }) => {
      const ids = input.DBSnapshotIdentifier ? [input.DBSnapshotIdentifier] : Object.keys(snapshots);
      const out = ids.filter((id) => id in snapshots).map((id) => ({ DBSnapshotIdentifier: id, Status: snapshots[id] }));
      for (const id of ids) if (snapshots[id] === 'creating') snapshots[id] = 'available';
      return { DBSnapshots: out };
    });
    rdsA.on(ModifyDBInstanceCommand).callsFake((input: { BackupRetentionPeriod?: number; MultiAZ?: boolean }) => {
      order.push(`ModifyDBInstance${input.MultiAZ ? ' MultiAZ' : ''}${input.BackupRetentionPeriod !== undefined ? ` retention ${input.BackupRetentionPeriod}` : ''}`);
      if (input.BackupRetentionPeriod !== undefined) w.db[A].retention = input.BackupRetentionPeriod;
      if (input.MultiAZ) w.db[A].pendingMultiAz = true;
      return {};
    });
    w.mocks.cw[A].on(GetMetricDataCommand).callsFake(() => ({ MetricDataResults: [{ Id: 'lag', Values: [lagSeconds], Timestamps: [clock.now()] }] }));

    // The failover this failback undoes: us-east-1 lost, us-west-2 promoted through its stack.
    w.down.add(A);
    const fo = await dr(['failover', '--unplanned', '--yes', ...base()]);
    assert.equal(fo.code, 0, fo.stderr);
    w.down.delete(A);
    driver.calls.length = 0;
  });
  afterEach(() => {
    w.restore();
    resetAwsDeps();
    fs.rmSync(work, { recursive: true, force: true });
  });
  const base = () => ['--primary-stack', P, '--secondary-stack', S, '--work-dir', work];
  const sql = ['--primary-db-url', 'postgresql://dr:Pa55-word-A@db-a.example:5432/bot', '--secondary-db-url', 'postgresql://dr:Pa55-word-B@db-b.example:5432/bot'];

  it('order: fence → snapshot → retarget → rebuild up → replica available → lag → planned switchover back', async () => {
    // Both stacks declare the (non-secret) bot list, as the example stack files do: no reason to refuse (issue 10).
    driver.stacks[P].config['bot-platform-dr:bots'] = '["community"]';
    driver.stacks[S].config['bot-platform-dr:bots'] = '["community"]';
    const r = await dr(['failback', '--yes', '--json', '--max-lag', '10', ...sql, ...base()]);
    assert.equal(r.code, 0, r.stderr);
    const res = r.json();
    assert.deepEqual(res.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`), ['fence:ok', 'preserve:ok', 'retarget:ok', 'rebuild:ok', 'wait-replica:ok', 'lag:ok', 'switchover:ok']);
    assert.match(res.steps[0].detail, new RegExp(`database in ${A}: fenced`));
    assert.equal(w.acts[`fence:${A}`], 1, 'the old primary was fenced before anything else');
    // The snapshot is requested and available before the rebuild replaces the instance.
    assert.match(order[0], new RegExp(`^CreateDBSnapshot ${w.idOf(A)}-pre-failback-`));
    assert.equal(order[1], `up ${P} rebuild (peerStack=${S})`);
    assert.equal(res.snapshot, order[0].split(' ')[1]);
    // Home stack config as lib/config.ts wants a replica.
    assert.equal(driver.stacks[P].config['bot-platform-dr:peerStack'], S);
    // Switchover back, traffic first: RDS promotes home directly, DNS moves, then home gets its backups and Multi-AZ
    // in one modification and its stack records the promotion in one up; the survivor is recorded as secondary.
    assert.equal(res.switchover.outcome, 'completed');
    assert.deepEqual(order.slice(2), ['ModifyDBInstance MultiAZ retention 14', `up ${P}`]);
    assert.equal(driver.stacks[P].config['bot-platform-dr:database.promoted'], 'true');
    assert.equal(driver.stacks[S].config['bot-platform-dr:database.promoted'], 'false');
    assert.equal(w.db[A].replicaOf, undefined, 'home is writable again');
    assert.equal(res.replica_lag_seconds, 2);
    assert.deepEqual(sqlUrls[0], { [A]: sql[1], [B]: sql[3] }, 'SQL reach per region from the flags');
    assert.ok(!r.stdout.includes('Pa55-word-A') && !r.stderr.includes('Pa55-word-B'));
  });

  it('the rebuilt replica lags over the limit: refused (exit 2), no switchover, and a rerun resumes without redoing the rebuild', async () => {
    lagSeconds = 90;
    const r = await dr(['failback', '--yes', '--max-lag', '30', ...sql, ...base()]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /lags 90 s \(limit 30 s\): no switchover was started/);
    assert.deepEqual(order.filter((o) => o.startsWith('up')), [`up ${P} rebuild (peerStack=${S})`]);
    assert.ok(w.db[A].replicaOf, 'home is still a replica');
    assert.equal(driver.stacks[S].config['bot-platform-dr:database.promoted'], 'true', 'the survivor still serves');
    lagSeconds = 1;
    const again = await dr(['failback', '--yes', '--json', ...sql, ...base()]);
    assert.equal(again.code, 0, again.stderr);
    const steps = again.json().steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`);
    assert.deepEqual(steps.slice(1, 4), ['preserve:done-before', 'retarget:done-before', 'rebuild:done-before']);
    assert.equal(order.filter((o) => o.startsWith('CreateDBSnapshot')).length, 1, 'one snapshot');
    assert.equal(order.filter((o) => o.includes('rebuild')).length, 1, 'one rebuild');
  });

  it('refusals before any change: bot tokens still declared on the home stack; no --yes; nothing to fail back', async () => {
    driver.stacks[P].config['bot-platform-dr:botTokens'] = '{"community":["[secret]"]}';
    const noSql = await dr(['failback', '--yes', ...base()]);
    assert.equal(noSql.code, 2);
    assert.match(noSql.stderr, /needs SQL reach into both databases: pass --primary-db-url and --secondary-db-url/);
    // Issue 10: only the token seeds are refused at home (the bot list stays on both stacks), and nothing has to move
    // to the survivor first: it adopted its copies by name in its promotion apply.
    const tokens = await dr(['failback', '--yes', ...sql, ...base()]);
    assert.equal(tokens.code, 2);
    assert.match(tokens.stderr, new RegExp(`stack ${P} still declares bot-platform-dr:botTokens, which a non-promoted secondary may not`));
    assert.match(tokens.stderr, new RegExp(`Remove them: pulumi config rm -s ${P} botTokens .*retainOnDelete.*keep the bots list.*Nothing was changed`));
    assert.ok(!/config cp/.test(tokens.stderr), 'no copy between stacks is asked for');
    delete driver.stacks[P].config['bot-platform-dr:botTokens'];
    const noYes = await dr(['failback', ...sql, ...base()]);
    assert.equal(noYes.code, 2);
    assert.match(noYes.stderr, /--yes/);
    const wrongHome = await dr(['failback', '--yes', '--home-region', B, ...sql, ...base()]);
    assert.equal(wrongHome.code, 2);
    assert.match(wrongHome.stderr, /does not serve/);
    assert.deepEqual(order, []);
    assert.equal(w.acts[`fence:${A}`], undefined);
  });
});
