import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ElastiCacheSnapshots, pollUntil, RdsSnapshots, WaitTimeoutError } from '../../automation/adapters/aws/snapshots';
import { S3Store } from '../../automation/adapters/aws/s3-store';
import { RedisServer } from '../../automation/adapters/tools/redis-server';
import { LocalRedisTools } from '../../automation/adapters/tools/redis-tools';
import { readManifest } from '../../automation/backup/index';
import { runEvent } from '../../automation/lambda/handler';
import { dr } from '../helpers/cli';
import { MemoryStore } from '../helpers/memory-store';
import { useRedis, useS3, useTempDir } from '../helpers/services';
import { lambdaClients } from '../helpers/lambda-clients';

/** A fake clock whose sleep advances time instantly, recording each sleep. */
function fakeTime(start = 0) {
  let t = start;
  const slept: number[] = [];
  return { slept, now: () => t, sleep: async (ms: number) => void (slept.push(ms), (t += ms)) };
}

describe('backup: snapshot waits and ElastiCache export (aws-sdk-client-mock, fake clock)', () => {
  const install = () => ({ cache: mockClient(ElastiCacheClient), rds: mockClient(RDSClient) });
  let cache: ReturnType<typeof install>['cache'];
  let rds: ReturnType<typeof install>['rds'];
  before(() => {
    ({ cache, rds } = install());
  });
  beforeEach(() => {
    cache.reset();
    rds.reset();
  });
  after(() => {
    cache.restore();
    rds.restore();
  });

  const NAME = 'bot-dr-daily-20250102-030000';

  it('pollUntil: bounded by the injected clock, sleeps pollMs between probes, never oversleeps the deadline', async () => {
    const time = fakeTime();
    let probes = 0;
    await assert.rejects(
      () => pollUntil('thing', { ...time, pollMs: 15_000, timeoutMs: 60_000 }, { pollMs: 1, timeoutMs: 1 }, async () => (probes++, { done: false, status: 'creating' })),
      (e: unknown) => e instanceof WaitTimeoutError && /thing: still creating after 60 s; giving up/.test(e.message),
    );
    // Sleeps up to the deadline, not past it, then one last probe.
    assert.deepEqual(time.slept, [15_000, 15_000, 15_000, 15_000]);
    assert.equal(probes, 5);
    const t2 = fakeTime();
    let n = 0;
    assert.equal(await pollUntil('x', { ...t2, pollMs: 10 }, { pollMs: 5, timeoutMs: 1000 }, async () => (++n < 3 ? { done: false, status: 's' } : { done: true, value: 'v' })), 'v');
    assert.deepEqual(t2.slept, [10, 10]);
  });

  it('export: waits for the snapshot, CopySnapshot with TargetBucket and the prefixed name, waits for the export, finds the one RDB', async () => {
    const time = fakeTime();
    const store = new MemoryStore();
    cache
      .on(DescribeSnapshotsCommand, { SnapshotName: NAME })
      .resolvesOnce({ Snapshots: [{ SnapshotName: NAME, SnapshotStatus: 'creating' }] })
      .resolvesOnce({ Snapshots: [{ SnapshotName: NAME, SnapshotStatus: 'available', NodeSnapshots: [{ NodeGroupId: '0001' }] }] })
      .resolvesOnce({ Snapshots: [{ SnapshotName: NAME, SnapshotStatus: 'exporting' }] })
      .resolves({ Snapshots: [{ SnapshotName: NAME, SnapshotStatus: 'available' }] });
    cache.on(CopySnapshotCommand).callsFake(async () => {
      await store.put(`redis/exports/${NAME}-0001.rdb`, Buffer.from('REDIS0011'), 'application/octet-stream');
      return {};
    });
    const snaps = new ElastiCacheSnapshots({ client: new ElastiCacheClient({ region: 'eu-west-1' }), replicationGroupId: 'rg', prefix: 'bot-dr', exportBucket: { name: 'bkt', store }, timing: time });
    const logs: string[] = [];
    const out = await snaps.exportSnapshot(NAME, 'redis/exports/', (l) => logs.push(l));
    assert.deepEqual(out, { key: `redis/exports/${NAME}-0001.rdb` });
    const copies = cache.commandCalls(CopySnapshotCommand);
    assert.equal(copies.length, 1);
    assert.deepEqual(copies[0].args[0].input, { SourceSnapshotName: NAME, TargetSnapshotName: `redis/exports/${NAME}`, TargetBucket: 'bkt' });
    assert.equal(cache.commandCalls(DescribeSnapshotsCommand).length, 4);
    assert.deepEqual(time.slept, [15_000, 15_000]);
    assert.ok(logs.some((l) => /waiting for export of ElastiCache snapshot .*: exporting/.test(l)));
  });

  it('export refuses multi-shard snapshots and failed snapshots, and gives up after the bounded wait', async () => {
    const store = new MemoryStore();
    const mk = (timing = fakeTime()) => new ElastiCacheSnapshots({ client: new ElastiCacheClient({ region: 'eu-west-1' }), replicationGroupId: 'rg', prefix: 'bot-dr', exportBucket: { name: 'bkt', store }, timing });
    cache.on(DescribeSnapshotsCommand, { SnapshotName: 'multi' }).resolves({ Snapshots: [{ SnapshotStatus: 'available', NodeSnapshots: [{ NodeGroupId: '0001' }, { NodeGroupId: '0002' }] }] });
    await assert.rejects(() => mk().exportSnapshot('multi', 'redis/exports/'), /has 2 shards; the portable copy supports one shard/);
    cache.on(DescribeSnapshotsCommand, { SnapshotName: 'broken' }).resolves({ Snapshots: [{ SnapshotStatus: 'failed' }] });
    await assert.rejects(() => mk().exportSnapshot('broken', 'redis/exports/'), /ElastiCache snapshot broken is failed/);
    cache.on(DescribeSnapshotsCommand, { SnapshotName: 'slow' }).resolves({ Snapshots: [{ SnapshotStatus: 'creating' }] });
    const t = fakeTime();
    await assert.rejects(() => mk(t).exportSnapshot('slow', 'redis/exports/'), (e: unknown) => e instanceof WaitTimeoutError && /ElastiCache snapshot slow: still creating/.test(e.message));
    assert.ok(t.slept.reduce((a, b) => a + b, 0) <= 45 * 60_000, 'never waits past the 45 min default');
    assert.equal(t.slept.length, 180);
    assert.equal(cache.commandCalls(CopySnapshotCommand).length, 0, 'nothing exported when the snapshot never became available');
    // Two RDB files under the export name (a sharded export) are refused too.
    cache.on(DescribeSnapshotsCommand, { SnapshotName: 'two' }).resolves({ Snapshots: [{ SnapshotStatus: 'available' }] });
    cache.on(CopySnapshotCommand, { SourceSnapshotName: 'two' }).callsFake(async () => {
      await store.put('redis/exports/two-0001.rdb', 'a', 'x');
      await store.put('redis/exports/two-0002.rdb', 'b', 'x');
      return {};
    });
    await assert.rejects(() => mk().exportSnapshot('two', 'redis/exports/'), /produced 2 RDB files/);
  });

  it('RDS: snapshot wait polls on the injected clock and times out bounded', async () => {
    const time = fakeTime();
    rds.on(CreateDBSnapshotCommand).resolves({});
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({ DBSnapshots: [{ Status: 'creating', PercentProgress: 10 }] })
      .resolvesOnce({ DBSnapshots: [{ Status: 'creating', PercentProgress: 80 }] })
      .resolves({ DBSnapshots: [{ Status: 'available', DBSnapshotArn: 'arn:s' }] });
    const s = new RdsSnapshots({ rds: new RDSClient({ region: 'eu-west-1' }), region: 'eu-west-1', instanceId: 'db', prefix: 'bot-dr', timing: time });
    const logs: string[] = [];
    assert.deepEqual(await s.createAndCopy('weekly', '20250105_040000', (l) => logs.push(l)), { snapshotId: 'bot-dr-weekly-20250105-040000' });
    assert.deepEqual(time.slept, [20_000, 20_000]);
    assert.deepEqual(logs, ['waiting for RDS snapshot bot-dr-weekly-20250105-040000: creating (10%)', 'waiting for RDS snapshot bot-dr-weekly-20250105-040000: creating (80%)']);
    rds.reset();
    rds.on(CreateDBSnapshotCommand).resolves({});
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ Status: 'creating' }] });
    const t2 = fakeTime();
    const slow = new RdsSnapshots({ rds: new RDSClient({ region: 'eu-west-1' }), region: 'eu-west-1', instanceId: 'db', prefix: 'bot-dr', timing: { ...t2, pollMs: 60_000, timeoutMs: 10 * 60_000 } });
    await assert.rejects(() => slow.createAndCopy('monthly', '20250101_050000'), /RDS snapshot bot-dr-monthly-20250101-050000: still creating \(0%\) after 600 s/);
    assert.equal(t2.slept.length, 10);
  });
});

describe('backup: Redis on ElastiCache via snapshot export, restorable with dr restore redis @integration', function () {
  this.timeout(120_000);
  const source = useRedis({ password: 'cache-Tok-31' });
  const s3 = useS3(['ec-bucket']);
  const tmp = useTempDir();
  const install = () => ({ cache: mockClient(ElastiCacheClient), cw: mockClient(CloudWatchClient) });
  let cache: ReturnType<typeof install>['cache'];
  let cw: ReturnType<typeof install>['cw'];
  let target: RedisServer | undefined;
  before(() => {
    ({ cache, cw } = install());
  });
  after(async () => {
    cache.restore();
    cw.restore();
    if (target) await target.stop();
  });

  it('weekly redis job: snapshot → export → copy with sha256 → manifest; export object removed; dr restore redis restores it', async () => {
    const c = source.server.client();
    await c.connect();
    const p = c.pipeline();
    for (let i = 0; i < 500; i++) p.set(`chat:${i}`, `state-${i}-ß`);
    p.hset('bot:cfg', { lang: 'uk', tz: 'Europe/Kyiv' });
    await p.exec();
    c.disconnect();
    // What ElastiCache would export: a real RDB of the source (made here with redis-cli --rdb).
    const proc = new LocalRedisTools().rdb(source.server.url());
    const chunks: Buffer[] = [];
    for await (const ch of proc.stdout) chunks.push(ch as Buffer);
    await proc.done;
    const rdb = Buffer.concat(chunks);

    const store = new S3Store({ bucket: 'ec-bucket', env: s3.server.env });
    let snapName = '';
    cache.on(CreateSnapshotCommand).callsFake(async (input: { SnapshotName?: string }) => ((snapName = input.SnapshotName ?? ''), {}));
    cache.on(DescribeSnapshotsCommand).callsFake(async (input: { SnapshotName?: string }) =>
      input.SnapshotName ? { Snapshots: [{ SnapshotName: input.SnapshotName, SnapshotStatus: 'available', NodeSnapshots: [{ NodeGroupId: '0001' }] }] } : { Snapshots: [] },
    );
    cache.on(CopySnapshotCommand).callsFake(async (input: { TargetSnapshotName?: string }) => {
      await store.put(`${input.TargetSnapshotName}-0001.rdb`, rdb, 'application/octet-stream');
      return {};
    });
    cache.on(DeleteSnapshotCommand).resolves({});
    cw.on(PutMetricDataCommand).resolves({});
    const env = {
      ...s3.server.env,
      DR_REGION: 'eu-west-1',
      BACKUP_BUCKET: 'ec-bucket',
      CACHE_HOST: '127.0.0.1',
      CACHE_PORT: String(source.server.port),
      CACHE_TLS: 'false',
      CACHE_REPLICATION_GROUP_ID: 'bot-dr-cache',
      SNAPSHOT_PREFIX: 'bot-dr',
    };
    // The auth token normally comes from CACHE_SECRET_ARN; here the mocked secret carries it.
    const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ authToken: 'cache-Tok-31' }) });
    const logs: string[] = [];
    try {
      const clients = lambdaClients();
      const res = await runEvent({ service: 'redis', tier: 'weekly' }, { ...env, CACHE_SECRET_ARN: 'arn:cache-secret' }, clients, undefined, (l) => logs.push(l));
      assert.ok('key' in res);
      assert.match(res.key, /^redis\/weekly\/backup_\d{8}_\d{6}\.rdb$/);
      assert.deepEqual(res.snapshots, [snapName]);
      assert.match(snapName, /^bot-dr-weekly-\d{8}-\d{6}$/);
      assert.deepEqual(cache.commandCalls(CopySnapshotCommand)[0].args[0].input, { SourceSnapshotName: snapName, TargetSnapshotName: `redis/exports/${snapName}`, TargetBucket: 'ec-bucket' });
      // Prune came after the export (a failed export never shrinks the tier).
      const calls = cache.calls().map((call) => call.args[0] as { constructor: { name: string }; input: { ReplicationGroupId?: string } });
      const copyAt = calls.findIndex((c) => c.constructor.name === 'CopySnapshotCommand');
      const pruneListAt = calls.findIndex((c) => c.constructor.name === 'DescribeSnapshotsCommand' && c.input.ReplicationGroupId === 'bot-dr-cache');
      assert.ok(copyAt >= 0 && pruneListAt > copyAt, `prune listing (${pruneListAt}) after the export (${copyAt})`);
      const m = await readManifest(store, res.key);
      assert.equal(m.snapshot, snapName);
      assert.equal(m.keys, 501);
      assert.equal(m.size_bytes, rdb.length);
      assert.equal(res.checksum, m.checksum);
      assert.deepEqual(await store.list('redis/exports/'), [], 'the export object is removed after the copy');
      assert.ok(logs.every((l) => !l.includes('cache-Tok-31')));
    } finally {
      sm.restore();
    }

    target = await RedisServer.start({ dir: path.join(tmp.dir, 'target') });
    const r = await dr(['restore', 'redis', '--bucket', 'ec-bucket', '--from', 'weekly', '--target-url', target.url(), '--json'], s3.server.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json().keys, { backup: 501, restored: 501, target: 501 });
    assert.deepEqual(r.json().sample.mismatched, []);
  });
});
