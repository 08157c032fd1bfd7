import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { RedisServer } from '../../automation/adapters/tools/redis-server';
import { LocalRedisTools } from '../../automation/adapters/tools/redis-tools';
import { dr } from '../helpers/cli';
import { useRedis, useS3, useTempDir } from '../helpers/services';

describe('backup & restore: Redis @integration', function () {
  this.timeout(120_000);
  const source = useRedis({ password: 'redis-Secret-77' });
  const s3 = useS3(['dr-backups']);
  const tmp = useTempDir();
  let env: Record<string, string>;
  let target: RedisServer;

  before(async () => {
    env = { ...s3.server.env, DR_BACKUP_BUCKET: 'dr-backups' };
    const c = source.server.client();
    await c.connect();
    const p = c.pipeline();
    for (let i = 0; i < 2000; i++) p.set(`user:${i}`, `value-${i}-ü`);
    p.hset('hash:1', { a: '1', b: 'два', c: '' });
    p.rpush('list:1', 'x', 'y', 'z', 'x');
    p.sadd('set:1', 'm1', 'm2', 'm3');
    p.zadd('zset:1', 1.5, 'one', 2, 'two', -3, 'neg');
    p.set('ttl:1', 'expires', 'EX', 3600);
    p.set(Buffer.from([0xff, 0x00, 0x41]), Buffer.from([0x00, 0x01, 0xfe]));
    await p.exec();
    c.disconnect();
    target = await RedisServer.start({ dir: path.join(tmp.dir, 'target'), password: 'target-Pass-88' });
  });
  after(async () => {
    if (target) await target.stop();
  });

  it('round trip: key count, typed values and TTLs match after restore', async () => {
    const b = await dr(['backup', 'redis', '--redis-url', source.server.url(), '--tier', 'weekly', '--json'], env);
    assert.equal(b.code, 0, b.stderr);
    const m = b.json().manifest;
    assert.match(m.key, /^redis\/weekly\/backup_\d{8}_\d{6}\.rdb$/);
    assert.equal(m.keys, 2006);
    assert.equal(m.key_sample.length, 50);
    assert.match(m.server_version, /^7\./);
    const r = await dr(['restore', 'redis', '--from', 'weekly', '--target-url', target.url(), '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.deepEqual(out.keys, { backup: 2006, restored: 2006, target: 2006 });
    assert.deepEqual(out.sample.mismatched, []);
    // Independent check of every non-string type and the TTL on the target.
    const tools = new LocalRedisTools();
    const keys = ['hash:1', 'list:1', 'set:1', 'zset:1', 'ttl:1', 'user:1999'];
    assert.deepEqual(await tools.fingerprint(target.url(), keys), await tools.fingerprint(source.server.url(), keys));
    const t = target.client();
    await t.connect();
    const ttl = await t.ttl('ttl:1');
    assert.ok(ttl > 3000 && ttl <= 3600, `ttl ${ttl}`);
    assert.equal(await t.hget('hash:1', 'b'), 'два');
    assert.deepEqual(await t.getBuffer(Buffer.from([0xff, 0x00, 0x41])), Buffer.from([0x00, 0x01, 0xfe]));
    t.disconnect();
  });

  it('refuses a non-empty target without --force (exit 2); --force replaces', async () => {
    const t = target.client();
    await t.connect();
    await t.set('user:1', 'changed');
    const refused = await dr(['restore', 'redis', '--target-url', target.url()], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already holds \d+ key\(s\); refusing/);
    assert.equal(await t.get('user:1'), 'changed');
    const forced = await dr(['restore', 'redis', '--target-url', target.url(), '--force'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await t.get('user:1'), 'value-1-ü');
    t.disconnect();
  });

  it('--force into a non-empty Redis takes a verified safety backup under safety/redis/ first, restorable; --no-safety-backup records the skip', async () => {
    const t = target.client();
    await t.connect();
    await t.set('only-in-target', 'keep me');
    const forced = await dr(['restore', 'redis', '--target-url', target.url(), '--force', '--json'], env);
    assert.equal(forced.code, 0, forced.stderr);
    const sb = forced.json().safety_backup;
    assert.equal(sb.taken, true);
    assert.equal(sb.verified, true);
    assert.match(sb.key, /^safety\/redis\/backup_\d{8}_\d{6}\.rdb$/);
    assert.equal(sb.keys, 2007);
    // The safety backup restores like any backup: into an empty server it gives back the overwritten target.
    const empty = await RedisServer.start({ dir: path.join(tmp.dir, 'from-safety') });
    try {
      const back = await dr(['restore', 'redis', '--file', sb.key, '--target-url', empty.url(), '--json'], env);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(back.json().keys.restored, 2007);
      const c = empty.client();
      await c.connect();
      assert.equal(await c.get('only-in-target'), 'keep me');
      c.disconnect();
    } finally {
      await empty.stop();
    }
    const skipped = await dr(['restore', 'redis', '--target-url', target.url(), '--force', '--no-safety-backup', '--json'], env);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.equal(skipped.json().safety_backup.skipped, '--no-safety-backup');
    await t.del('only-in-target');
    t.disconnect();
  });

  it('never prints the Redis passwords', async () => {
    const runs = [
      await dr(['backup', 'redis', '--redis-url', source.server.url()], env),
      await dr(['verify', '--quick', '--redis-url', source.server.url(), '--json'], env),
      await dr(['restore', 'redis', '--target-url', target.url(), '--json'], env),
    ];
    for (const r of runs) {
      const all = r.stdout + r.stderr;
      assert.ok(!all.includes('redis-Secret-77') && !all.includes('target-Pass-88'), all);
    }
    assert.equal(runs[0].code, 0);
    assert.equal(runs[1].code, 0);
    assert.equal(runs[2].code, 2);
  });

  it('an unreachable Redis exits 1 (an operational failure)', async () => {
    const r = await dr(['backup', 'redis', '--redis-url', 'redis://:pw123456@127.0.0.1:1'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /redis redis:\/\/:\*\*\*@127\.0\.0\.1:1 is unreachable/);
  });
});
