import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { PgCluster } from '../../automation/adapters/rehearsal/pg-cluster';
import { dr } from '../helpers/cli';
import { usePostgres, useRedis, useS3, useTempDir } from '../helpers/services';

describe('dr backups list/check and verify end to end @integration', function () {
  this.timeout(180_000);
  const pg = usePostgres();
  const redis = useRedis();
  const s3 = useS3(['cli-bucket']);
  const tmp = useTempDir();
  let env: Record<string, string>;
  let health: http.Server;
  let healthStatus = 200;
  let healthUrl: string;

  before(async () => {
    env = { ...s3.server.env, DR_BACKUP_BUCKET: 'cli-bucket' };
    await pg.cluster.createDatabase('app');
    await pg.cluster.query('CREATE TABLE msgs(id serial primary key, body text); INSERT INTO msgs(body) SELECT md5(g::text) FROM generate_series(1, 3000) g', 'app');
    health = http.createServer((_req, res) => {
      res.statusCode = healthStatus;
      res.end('ok');
    });
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', () => r()));
    const addr = health.address();
    healthUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/health`;
  });
  after(() => new Promise<void>((r) => (health ? health.close(() => r()) : r())));

  it('flags: missing bucket, bad tier and missing URL are exit 2 naming the flag', async () => {
    const noBucket = await dr(['backups', 'list']);
    assert.equal(noBucket.code, 2);
    assert.match(noBucket.stderr, /--bucket is required \(or set DR_BACKUP_BUCKET\)/);
    const badTier = await dr(['backup', 'postgres', '--tier', 'hourly', '--database-url', pg.cluster.url('app')], env);
    assert.equal(badTier.code, 2);
    assert.match(badTier.stderr, /--tier must be one of daily\|weekly\|monthly/);
    const noUrl = await dr(['backup', 'redis'], env);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /--redis-url is required \(or set REDIS_URL\)/);
    const both = await dr(['verify', '--quick', '--full', '--database-url', pg.cluster.url('app')], env);
    assert.equal(both.code, 2);
  });

  it('backups check fails with nothing today, passes after a backup; list shows it', async () => {
    const empty = await dr(['backups', 'check', '--service', 'postgresql', '--json'], env);
    assert.equal(empty.code, 1);
    assert.match(JSON.stringify(empty.json().findings), /no postgresql backup today/);
    const b = await dr(['backup', 'postgres'], { ...env, DATABASE_URL: pg.cluster.url('app') });
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /\[ok\] backup postgres/);
    const ok = await dr(['backups', 'check', '--service', 'postgresql'], env);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const list = await dr(['backups', 'list', '--service', 'postgresql', '--json'], env);
    assert.equal(list.code, 0);
    assert.equal(list.json().backups.length, 1);
    assert.equal(list.json().backups[0].complete, true);
  });

  it('backups check flags a backup more than 50% smaller than the previous of its tier', async () => {
    await pg.cluster.query('DELETE FROM msgs WHERE id > 100', 'app');
    await new Promise((r) => setTimeout(r, 1100)); // keys have one-second resolution
    const b = await dr(['backup', 'postgres', '--database-url', pg.cluster.url('app')], env);
    assert.equal(b.code, 0, b.stderr);
    const r = await dr(['backups', 'check', '--service', 'postgresql', '--json'], env);
    assert.equal(r.code, 1);
    assert.match(JSON.stringify(r.json().findings), /more than 50% smaller than the previous daily backup/);
  });

  it('verify --quick passes on healthy services and fails (exit 1) when the health endpoint fails', async () => {
    const ok = await dr(['verify', '--quick', '--database-url', pg.cluster.url('app'), '--redis-url', redis.server.url(), '--health-url', healthUrl], env);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /PASS {2}database connection and query/);
    assert.match(ok.stdout, /PASS {2}redis PING/);
    assert.match(ok.stdout, /PASS: 3\/3 checks passed/);
    healthStatus = 503;
    const bad = await dr(['verify', '--quick', '--redis-url', redis.server.url(), '--health-url', healthUrl, '--json'], env);
    healthStatus = 200;
    assert.equal(bad.code, 1);
    assert.deepEqual(bad.json().checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]), [['redis PING', true], ['health endpoint', false]]);
  });

  it('verify --full: backup age, re-hash, rows vs manifest, replica lag; data loss since the backup fails it', async () => {
    const standby = await PgCluster.standbyOf(pg.cluster, path.join(tmp.dir, 'standby'));
    await standby.start();
    try {
      const args = ['verify', '--full', '--database-url', pg.cluster.url('app'), '--replica-url', standby.url('app'), '--json'];
      const ok = await dr(args, env);
      const names = ok.json().checks.map((c: { name: string }) => c.name);
      assert.deepEqual(names, ['database connection and query', 'replica lag', 'backup age postgresql/daily', 'checksum postgresql latest', 'schema and rows vs latest manifest']);
      assert.equal(ok.code, 0, JSON.stringify(ok.json().checks));
      await pg.cluster.query('DROP TABLE msgs', 'app');
      const lost = await dr(args, env);
      assert.equal(lost.code, 1);
      const failed = lost.json().checks.filter((c: { ok: boolean }) => !c.ok);
      assert.equal(failed.length, 1, JSON.stringify(failed));
      assert.match(failed[0].detail, /public\.msgs is missing/);
      await standby.stop('immediate');
      const down = await dr(args, env);
      assert.equal(down.code, 1);
      assert.ok(down.json().checks.some((c: { name: string; ok: boolean }) => c.name === 'replica lag' && !c.ok));
    } finally {
      await standby.destroy();
    }
  });
});
