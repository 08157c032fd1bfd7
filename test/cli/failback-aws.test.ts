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
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { awsDeps, resetAwsDeps } from '../../automation/cli/aws';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { withDatabase } from '../../automation/adapters/tools/pg-tools';
import type { DivergenceProbe, PgTools, RowDigest, ScratchDatabases } from '../../automation/backup/index';
import { UnreachableError } from '../../automation/core/errors';
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
  let pingable: Set<string>;
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
              driver.applyCache(P); // issue 12: its cache group is rebuilt as a member of the survivor's datastore
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
    // The failover's security-group fence leaves the old primary without a network path: no SQL answers there.
    pingable = new Set();
    awsDeps.pgTools = () => fakePgTools(pingable, order);
    awsDeps.divergenceProbe = () => fakeProbe();
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
    // The divergent record lands in the survivor's bucket (order: before the rebuild).
    w.mocks.s3[B].on(PutObjectCommand).callsFake((input: { Bucket?: string; Key?: string; Body?: unknown; IfNoneMatch?: string; IfMatch?: string }) => {
      if (input.Key?.startsWith('divergent/')) order.push(`PutObject ${input.Bucket}/${input.Key}`);
      return w.objects.put(`${input.Bucket}/${input.Key}`, input.Body instanceof Uint8Array ? Buffer.from(input.Body).toString('utf8') : String(input.Body), input);
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

  it('order: fence → snapshot → divergent record → retarget → rebuild up → replica available → lag → planned switchover back', async () => {
    // Both stacks declare the (non-secret) bot list, as the example stack files do: no reason to refuse (issue 10).
    driver.stacks[P].config['bot-platform-dr:bots'] = '["community"]';
    driver.stacks[S].config['bot-platform-dr:bots'] = '["community"]';
    const r = await dr(['failback', '--yes', '--json', '--max-lag', '10', ...sql, ...base()]);
    assert.equal(r.code, 0, r.stderr);
    const res = r.json();
    assert.deepEqual(res.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`), ['fence:ok', 'cache:ok', 'preserve:ok', 'divergent:ok', 'retarget:ok', 'rebuild:ok', 'wait-replica:ok', 'lag:ok', 'switchover:ok']);
    assert.match(res.steps[0].detail, new RegExp(`database in ${A}: fenced`));
    assert.equal(w.acts[`fence:${A}`], 1, 'the old primary was fenced before anything else');
    // The snapshot is requested and available, and recorded as the divergent copy in the survivor's bucket (the old
    // primary answers no SQL behind its fence), all before the rebuild replaces the instance.
    assert.match(order[0], new RegExp(`^CreateDBSnapshot ${w.idOf(A)}-pre-failback-`));
    assert.equal(order[1], `ping ${sql[1]}`);
    assert.match(order[2], new RegExp(`^PutObject ${SECONDARY_OUTPUTS.bucketName}/divergent/backup_\\d{8}_\\d{6}\\.rds-snapshot\\.json$`));
    assert.equal(order[3], `${order[2]}.metadata.json`);
    assert.equal(order[4], `up ${P} rebuild (peerStack=${S})`);
    assert.equal(res.snapshot, order[0].split(' ')[1]);
    const manifest = JSON.parse(w.s3[`${order[3].slice('PutObject '.length)}`]);
    assert.equal(manifest.type, 'divergent');
    assert.equal(manifest.snapshot, res.snapshot);
    assert.equal(manifest.divergence.compared, false);
    assert.match(manifest.divergence.reason, /does not answer SQL/);
    assert.equal(manifest.divergence.split.source, 'journal');
    assert.ok(manifest.divergence.split.promoted_at, 'the promotion time of the failover undone');
    assert.match(manifest.divergence.failover_id, /^fo-/);
    assert.equal(res.divergent.kind, 'rds-snapshot');
    assert.equal(res.divergent.snapshot, res.snapshot);
    assert.equal(res.divergent.location, `s3://${SECONDARY_OUTPUTS.bucketName}`);
    assert.match(res.steps[3].detail, new RegExp(`kept in RDS snapshot ${res.snapshot}`));
    // Home stack config as lib/config.ts wants a replica.
    assert.equal(driver.stacks[P].config['bot-platform-dr:peerStack'], S);
    // Switchover back, traffic first: RDS promotes home directly, DNS moves, then home gets its backups and Multi-AZ
    // in one modification and its stack records the promotion in one up; the survivor is recorded as secondary.
    assert.equal(res.switchover.outcome, 'completed');
    assert.deepEqual(order.slice(5), ['ModifyDBInstance MultiAZ retention 14', `up ${P}`]);
    assert.equal(driver.stacks[P].config['bot-platform-dr:database.promoted'], 'true');
    assert.equal(driver.stacks[S].config['bot-platform-dr:database.promoted'], 'false');
    assert.equal(w.db[A].replicaOf, undefined, 'home is writable again');
    assert.equal(res.replica_lag_seconds, 2);
    assert.deepEqual(sqlUrls[0], { [A]: sql[1], [B]: sql[3] }, 'SQL reach per region from the flags');
    assert.ok(!r.stdout.includes('Pa55-word-A') && !r.stderr.includes('Pa55-word-B'));
  });

  it('the old primary answers SQL: its writes after the split are dumped, compared and verified in the survivor\'s bucket before the rebuild', async () => {
    pingable.add(sql[1]);
    const r = await dr(['failback', '--yes', '--json', ...sql, ...base()]);
    assert.equal(r.code, 0, r.stderr);
    const res = r.json();
    assert.equal(res.steps[3].step, 'divergent');
    assert.equal(res.divergent.kind, 'dump');
    assert.equal(res.divergent.rows_differ, 2);
    assert.deepEqual(res.divergent.tables, [{ table: 'public.users', only_on_old_primary: 1, changed: 1 }]);
    assert.equal(res.divergent.restorability, 'VERIFIED');
    assert.equal(res.divergent.snapshot, res.snapshot, 'the snapshot is recorded beside the dump');
    const key = res.divergent.key as string;
    assert.match(key, /^divergent\/backup_\d{8}_\d{6}\.dump$/);
    const at = (prefix: string) => order.findIndex((o) => o.startsWith(prefix));
    const rebuild = at(`up ${P} rebuild`);
    // Dump → data + manifest → restore check in a scratch database on the survivor → manifest VERIFIED → rebuild.
    assert.ok(at('CreateDBSnapshot') < at('pg_dump db-a.example'));
    assert.ok(at('pg_dump db-a.example') < at(`PutObject ${SECONDARY_OUTPUTS.bucketName}/${key}`));
    assert.ok(at(`PutObject ${SECONDARY_OUTPUTS.bucketName}/${key}.metadata.json`) < at('pg_restore dr_divergent_'));
    assert.ok(at('DROP DATABASE dr_divergent_') < rebuild, order.join('\n'));
    assert.ok(order.lastIndexOf(`PutObject ${SECONDARY_OUTPUTS.bucketName}/${key}.metadata.json`) < rebuild, 'verified before the rebuild');
    const m = JSON.parse(w.s3[`${SECONDARY_OUTPUTS.bucketName}/${key}.metadata.json`]);
    assert.equal(m.restorability, 'VERIFIED');
    assert.deepEqual(m.divergence.tables[0].keys, { only_on_old_primary: ['2'], changed: ['3'], truncated: false });
    assert.deepEqual(m.divergence.transactions, { source: 'xmin', count: 2, listed: [{ xid: '801', rows: 1 }, { xid: '802', rows: 1 }], truncated: false });
    assert.ok(!r.stdout.includes('Pa55-word-A') && !r.stderr.includes('Pa55-word-A') && !JSON.stringify(m).includes('Pa55-word'));
  });

  it('the divergent backup fails: the failback stops before the home stack is changed (exit 1)', async () => {
    pingable.add(sql[1]);
    w.mocks.s3[B].on(PutObjectCommand).callsFake((input: { Bucket?: string; Key?: string; Body?: unknown; IfNoneMatch?: string; IfMatch?: string }) => {
      if (input.Key?.startsWith('divergent/')) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      return w.objects.put(`${input.Bucket}/${input.Key}`, String(input.Body), input);
    });
    const r = await dr(['failback', '--yes', ...sql, ...base()]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\[!!\] divergent .*the upload to s3:\/\/botdr-usw2-backups-3d4e5f\/divergent\/backup_\d{8}_\d{6}\.dump failed: AccessDenied/);
    assert.match(r.stderr, /The failback stopped before the rebuild: botdr-use1-db and the home stack are unchanged \(snapshot botdr-use1-db-pre-failback-\S+ is kept\)/);
    assert.ok(!order.some((o) => o.startsWith('up')), 'no rebuild');
    assert.equal(driver.stacks[P].config['bot-platform-dr:peerStack'], undefined, 'home stack not retargeted');
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
    assert.deepEqual(steps.slice(1, 6), ['cache:done-before', 'preserve:done-before', 'divergent:done-before', 'retarget:done-before', 'rebuild:done-before']);
    assert.equal(order.filter((o) => o.startsWith('PutObject') && o.endsWith('.metadata.json')).length, 1, 'one divergent record');
    assert.equal(order.filter((o) => o.startsWith('CreateDBSnapshot')).length, 1, 'one snapshot');
    assert.equal(order.filter((o) => o.includes('rebuild')).length, 1, 'one rebuild');
  });

  it('no route from this machine into the VPC: the switchover back reads WAL positions through the backup-job Lambdas', async () => {
    driver.stacks[P].outputs.backupFunctionName = { value: 'botdr-use1-backup-job', secret: false };
    driver.stacks[S].outputs.backupFunctionName = { value: 'botdr-usw2-backup-job', secret: false };
    const lambdaClient = new LambdaClient({ region: A, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const lambda = mockClient(lambdaClient);
    const asked: string[] = [];
    lambda.on(InvokeCommand).callsFake((i: { FunctionName: string; Payload: Uint8Array }) => {
      const { probe } = JSON.parse(new TextDecoder().decode(i.Payload)) as { probe: string };
      asked.push(`${i.FunctionName} ${probe}`);
      const rows = probe === 'terminate-sessions' ? [{ n: 2 }] : probe === 'write-probe' ? [{ ok: 1 }] : [{ lsn: '0/6000000', delay: 0 }];
      const text = JSON.stringify({ probe, rows });
      return { StatusCode: 200, Payload: Object.assign(new TextEncoder().encode(text), { transformToString: () => text }) };
    });
    const clients = awsDeps.clients;
    awsDeps.clients = (env) => ({ ...clients(env), lambda: () => lambdaClient });
    try {
      const r = await dr(['failback', '--yes', '--json', '--max-lag', '10', ...base()]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json().switchover.outcome, 'completed');
      assert.ok(asked.includes('botdr-usw2-backup-job current-wal-lsn'), asked.join(', '));
      assert.ok(asked.includes('botdr-use1-backup-job replay-lsn'), asked.join(', '));
      assert.ok(asked.includes('botdr-use1-backup-job write-probe'), asked.join(', '));
      assert.deepEqual(sqlUrls, [], 'no direct SQL from this machine');
    } finally {
      lambda.restore();
    }
  });

  it('refusals before any change: bot tokens still declared on the home stack; no --yes; nothing to fail back', async () => {
    driver.stacks[P].config['bot-platform-dr:botTokens'] = '{"community":["[secret]"]}';
    const noSql = await dr(['failback', '--yes', ...base()]);
    assert.equal(noSql.code, 2);
    assert.match(noSql.stderr, /needs SQL reach into both databases: neither stack outputs its backup job's function .*or pass --primary-db-url and --secondary-db-url/);
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

/** PgTools + scratch databases without a server: `ping` answers only for `pingable` URLs; a dump is a few bytes. */
function fakePgTools(pingable: Set<string>, order: string[]): PgTools & ScratchDatabases {
  const tables = { 'public.users': 3 };
  return {
    versions: async () => ({ pg_dump: 'pg_dump (PostgreSQL) 16.4' }),
    inspect: async (url) => ({ serverVersion: '16.4', serverVersionNum: 160004, database: new URL(url).pathname.slice(1), host: `${new URL(url).hostname}:5432` }),
    openSnapshot: async () => ({ snapshotId: '00000003-00000002-1', countTables: async () => tables, close: async () => undefined }),
    dump: (url) => {
      order.push(`pg_dump ${new URL(url).hostname}`);
      return { stdout: Readable.from([Buffer.from('PGDMP fake custom-format dump')]), done: Promise.resolve(), kill: () => undefined };
    },
    restore: async (url) => void order.push(`pg_restore ${new URL(url).pathname.slice(1)}`),
    tableCounts: async () => tables,
    userTableCount: async () => 0,
    ping: async (url) => {
      order.push(`ping ${url}`);
      if (!pingable.has(url)) throw new UnreachableError(new URL(url).hostname, 'timeout expired');
      return 1;
    },
    replicaLag: async () => ({ inRecovery: true, lagBytes: 0, lagSeconds: 0 }),
    createDatabase: async (server, name) => {
      order.push(`CREATE DATABASE ${name}`);
      return withDatabase(server, name);
    },
    dropDatabase: async (_server, name) => void order.push(`DROP DATABASE ${name}`),
    listDatabases: async () => [],
  };
}

/** The old primary (db-a) has key 2 the survivor (db-b) lacks and its own version of key 3; a scratch restore is db-a's copy. */
function fakeProbe(): DivergenceProbe {
  const old: RowDigest[] = [{ key: '1', digest: 'same', xmin: '700' }, { key: '2', digest: 'lost', xmin: '801' }, { key: '3', digest: 'old', xmin: '802' }];
  const survivor: RowDigest[] = [{ key: '1', digest: 'same', xmin: '700' }, { key: '3', digest: 'new', xmin: '905' }];
  const side = (url: string) => (new URL(url).hostname === 'db-a.example' || new URL(url).pathname.startsWith('/dr_divergent_') ? old : survivor);
  return {
    tables: async () => [{ table: 'public.users', primaryKey: ['id'] }],
    countRows: async (url) => side(url).length,
    bucketDigests: async (url) => ({ '0': { rows: side(url).length, digest: side(url).map((r) => r.digest).join() } }),
    bucketRows: async (url) => side(url),
    rowsByKey: async (url, _t, _pk, keys) => side(url).filter((r) => keys.includes(r.key)),
    walPosition: async () => ({ lsn: '0/5000100', timeline: 1 }),
  };
}
