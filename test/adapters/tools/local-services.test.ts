import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { findBinary, MissingToolError } from '../../../automation/adapters/tools/binaries';
import { PgCluster } from '../../../automation/adapters/rehearsal/pg-cluster';
import { RedisServer } from '../../../automation/adapters/tools/redis-server';
import { useTempDir, usePostgres, useRedis, useS3 } from '../../helpers/services';

describe('local adapters: binaries', () => {
  it('finds PostgreSQL tools under /usr/lib/postgresql/<major>/bin and redis tools on PATH', () => {
    assert.match(findBinary('pg_dump'), /\/pg_dump$/);
    assert.match(findBinary('redis-cli'), /\/redis-cli$/);
  });

  it('names the Debian package when a tool is missing', () => {
    assert.throws(
      () => findBinary('pg_restore', { env: { PATH: '/nonexistent' }, pgRoot: '/nonexistent' }),
      (e: unknown) => e instanceof MissingToolError && /apt-get install postgresql/.test(e.message),
    );
    assert.throws(() => findBinary('redis-server', { env: { PATH: '/nonexistent' } }), /apt-get install redis-server/);
  });
});

describe('local adapters: PostgreSQL, Redis, S3 @integration', () => {
  const tmp = useTempDir();
  const pg = usePostgres();
  const redis = useRedis({ password: 'redis-pass-123' });
  const s3 = useS3(['bkt']);

  it('runs PostgreSQL on 127.0.0.1 with a password, replication-ready settings and a unix socket in its dir', async () => {
    const c = pg.cluster;
    await c.createDatabase('app');
    const rows = await c.query<{ wal_level: string; hints: string }>("SELECT current_setting('wal_level') AS wal_level, current_setting('wal_log_hints') AS hints", 'app');
    assert.deepEqual(rows, [{ wal_level: 'replica', hints: 'on' }]);
    assert.ok(fs.readdirSync(c.socketDir).some((f) => f.startsWith('.s.PGSQL.')));
    const bad = c.url('app').replace(c.secret, 'wrong-password');
    await assert.rejects(() => new (require('pg').Client)({ connectionString: bad }).connect(), /password authentication failed/);
  });

  it('builds a streaming standby, promotes it, and kills a postmaster', async function () {
    this.timeout(120_000);
    const c = pg.cluster;
    await c.query('CREATE TABLE IF NOT EXISTS t(x int)', 'postgres');
    await c.query('INSERT INTO t VALUES (1),(2)', 'postgres');
    const standby = await PgCluster.standbyOf(c, path.join(tmp.dir, 'standby'));
    try {
      await standby.start();
      const rec = await standby.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      assert.equal(rec[0].r, true);
      await standby.promote();
      assert.equal((await standby.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r'))[0].r, false);
      assert.equal((await standby.query<{ n: string }>('SELECT count(*) AS n FROM t'))[0].n, '2');
      await standby.kill();
      assert.equal(standby.isRunning(), false);
    } finally {
      await standby.destroy();
    }
  });

  it('runs redis-server with requirepass and a replica', async () => {
    const client = redis.server.client();
    await client.connect();
    await client.set('k', 'v');
    client.disconnect();
    const replica = await RedisServer.start({ dir: path.join(tmp.dir, 'replica'), password: 'redis-pass-123', replicaof: { host: '127.0.0.1', port: redis.server.port } });
    try {
      const rc = replica.client();
      await rc.connect();
      let v: string | null = null;
      for (let i = 0; i < 100 && v === null; i++) {
        v = await rc.get('k');
        if (v === null) await new Promise((r) => setTimeout(r, 50));
      }
      rc.disconnect();
      assert.equal(v, 'v');
    } finally {
      await replica.destroy();
    }
    assert.equal(replica.isRunning(), false);
  });

  it('serves S3 path-style on a free port with the configured bucket', async () => {
    const client = new S3Client({ endpoint: s3.server.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: s3.server.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.server.env.AWS_SECRET_ACCESS_KEY } });
    await client.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'a/b.txt', Body: 'hello' }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'a/b.txt' }));
    assert.equal(await got.Body?.transformToString(), 'hello');
    client.destroy();
  });
});
