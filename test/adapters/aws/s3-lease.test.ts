/**
 * The failover lease on S3 conditional writes (aws-sdk-client-mock over a bucket that honours If-None-Match /
 * If-Match like S3): the exact conditional headers, the 412 path (held, lost), the 409 retry, takeover of a dead
 * holder on the same host, --break-lock only after expiry, re-entry, and renewals that never race each other.
 */
import assert from 'node:assert/strict';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { LEASE_KEY, LeaseHeldError, LeaseLostError, S3Lease, type LeaseIdentity, type LeaseRecord, type S3LeaseOptions } from '../../../automation/adapters/aws/s3-lease';
import { ConditionalObjects } from '../../helpers/s3-conditional';

const BUCKET = 'botdr-usw2-backups';
const ALICE: LeaseIdentity = { user: 'alice', host: 'laptop-a', pid: 4242, command: 'dr failover --unplanned --incident datacenter' };
const BOB: LeaseIdentity = { user: 'bob', host: 'laptop-b', pid: 777, command: 'dr failover --resume' };

describe('failover lease on S3 (conditional writes)', () => {
  let objects: ConditionalObjects;
  let s3: S3Client;
  let mock: ReturnType<typeof mockClient>;
  let now: Date;
  const clock = () => ({ now: () => now, sleep: async (ms: number) => void (now = new Date(now.getTime() + ms)) });
  const timers: Array<{ ms: number; fn: () => void; stopped: boolean }> = [];
  const lease = (identity: LeaseIdentity, extra: Partial<S3LeaseOptions> = {}) =>
    new S3Lease({
      s3,
      bucket: BUCKET,
      identity,
      clock: clock(),
      every: (ms, fn) => {
        const t = { ms, fn, stopped: false };
        timers.push(t);
        return () => void (t.stopped = true);
      },
      ...extra,
    });
  const stored = (): LeaseRecord => JSON.parse(objects.objects[`${BUCKET}/${LEASE_KEY}`]) as LeaseRecord;
  const puts = () => mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

  beforeEach(() => {
    now = new Date('2026-12-01T10:00:00Z');
    objects = new ConditionalObjects();
    s3 = new S3Client({ region: 'us-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    mock = mockClient(s3);
    mock.on(PutObjectCommand).callsFake((i) => objects.put(`${i.Bucket}/${i.Key}`, String(i.Body), i));
    mock.on(GetObjectCommand).callsFake((i) => {
      const v = objects.get(`${i.Bucket}/${i.Key}`);
      if (!v) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      return { Body: { transformToString: async () => v.body }, ETag: v.ETag };
    });
    mock.on(DeleteObjectCommand).callsFake((i) => {
      objects.delete(`${i.Bucket}/${i.Key}`, i);
      return {};
    });
    timers.length = 0;
  });
  afterEach(() => mock.restore());

  it('takes it with If-None-Match: *, naming the holder, the failover, start and expiry; renews and releases with If-Match on its ETag', async () => {
    const a = lease(ALICE);
    assert.deepEqual(await a.acquire('fo-1'), {});
    const [take] = puts();
    assert.equal(take.Bucket, BUCKET);
    assert.equal(take.Key, 'failover/lock');
    assert.equal(take.IfNoneMatch, '*');
    assert.equal(take.IfMatch, undefined);
    const r = stored();
    assert.deepEqual([r.holder, r.host, r.pid, r.command, r.failover_id, r.started_at, r.expires_at], ['alice@laptop-a', 'laptop-a', 4242, ALICE.command, 'fo-1', '2026-12-01T10:00:00.000Z', '2026-12-01T10:05:00.000Z']);
    assert.equal(timers.length, 1);
    assert.equal(timers[0].ms, 100_000, 'renewed in the background every third of the 5 min TTL');

    now = new Date('2026-12-01T10:01:00Z');
    const etag1 = objects.get(`${BUCKET}/${LEASE_KEY}`)!.ETag;
    await a.renew();
    const renew = puts()[1];
    assert.equal(renew.IfMatch, etag1);
    assert.equal(renew.IfNoneMatch, undefined);
    assert.equal(stored().expires_at, '2026-12-01T10:06:00.000Z');
    assert.equal(stored().started_at, '2026-12-01T10:00:00.000Z');

    const etag2 = objects.get(`${BUCKET}/${LEASE_KEY}`)!.ETag;
    await a.release();
    const del = mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input);
    assert.deepEqual(del, [{ Bucket: BUCKET, Key: LEASE_KEY, IfMatch: etag2 }]);
    assert.equal(objects.objects[`${BUCKET}/${LEASE_KEY}`], undefined);
    assert.equal(timers[0].stopped, true);
  });

  it('a second operator on another machine is refused (exit 2) with the holder and how long they have held it; nothing written', async () => {
    await lease(ALICE).acquire('fo-1');
    now = new Date('2026-12-01T10:02:30Z');
    const before = stored();
    await assert.rejects(lease(BOB).acquire('fo-1'), (e: unknown) => {
      assert.ok(e instanceof LeaseHeldError);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /held by alice@laptop-a \(pid 4242, dr failover --unplanned --incident datacenter, failover fo-1\) since 2026-12-01T10:00:00.000Z \(2 min 30 s\); it expires in 2 min 30 s unless renewed/);
      return true;
    });
    assert.deepEqual(stored(), before);
    assert.equal(puts().at(-1)!.IfNoneMatch, '*', 'the refused attempt was only the conditional create');
  });

  it('409 ConditionalRequestConflict is retried; the create goes through', async () => {
    objects.conflictNext = 2;
    await lease(ALICE).acquire('fo-1');
    assert.equal(puts().length, 3);
    assert.ok(puts().every((p) => p.IfNoneMatch === '*'));
    assert.equal(stored().holder, 'alice@laptop-a');
  });

  it('an expired lease elsewhere: refused without --break-lock (naming it); taken over with it, by If-Match on the old ETag, and reported for the journal', async () => {
    await lease(BOB).acquire('fo-1');
    const oldTag = objects.get(`${BUCKET}/${LEASE_KEY}`)!.ETag;
    now = new Date('2026-12-01T10:07:00Z'); // bob died: no renewal for 7 min, TTL 5
    await assert.rejects(lease(ALICE).acquire('fo-1'), (e: unknown) => e instanceof LeaseHeldError && /since 2026-12-01T10:00:00.000Z \(7 min\) expired at 2026-12-01T10:05:00.000Z \(2 min ago\).*--break-lock/.test(e.message));
    assert.equal(stored().holder, 'bob@laptop-b');
    const took = await lease(ALICE, { breakLock: true }).acquire('fo-1');
    assert.match(took.took_over ?? '', /broke the expired lease of bob@laptop-b \(pid 777, dr failover --resume, failover fo-1\).*with --break-lock/);
    assert.equal(puts().at(-1)!.IfMatch, oldTag);
    assert.equal(stored().holder, 'alice@laptop-a');
  });

  it('--break-lock on a live lease is refused: it is allowed only after expiry', async () => {
    await lease(BOB).acquire('fo-1');
    now = new Date('2026-12-01T10:04:00Z');
    await assert.rejects(lease(ALICE, { breakLock: true }).acquire('fo-1'), (e: unknown) => e instanceof LeaseHeldError && /--break-lock is allowed only after the lease has expired/.test(e.message));
    assert.equal(stored().holder, 'bob@laptop-b');
  });

  it('a dead holder on this same host (its pid is gone) is taken over without --break-lock; a live one is not', async () => {
    const me = { ...ALICE, pid: 5000 };
    await lease({ ...ALICE, pid: 4242 }).acquire('fo-1');
    await assert.rejects(lease(me, { localPidAlive: () => true }).acquire('fo-1'), LeaseHeldError);
    const took = await lease(me, { localPidAlive: (pid) => pid !== 4242 }).acquire('fo-1');
    assert.match(took.took_over ?? '', /took over the lease of alice@laptop-a \(pid 4242.*no longer running on this host/);
    assert.equal(stored().pid, 5000);
  });

  it('lost: after someone broke it, the renewal gets 412 and says who acts now; release leaves their lease alone', async () => {
    const b = lease(BOB);
    await b.acquire('fo-1');
    now = new Date('2026-12-01T10:06:00Z');
    await lease(ALICE, { breakLock: true }).acquire('fo-1');
    await assert.rejects(b.renew(), (e: unknown) => e instanceof LeaseLostError && e.exitCode === 1 && /taken over by alice@laptop-a/.test(e.message));
    await assert.rejects(b.renew(), LeaseLostError);
    await b.release();
    assert.equal(stored().holder, 'alice@laptop-a', "bob's release did not delete alice's lease");
  });

  it('re-entrant for its holder (a failback around its switchover): the inner release keeps it', async () => {
    const a = lease(ALICE);
    await a.acquire('failback-us-east-1');
    await a.acquire('fo-2');
    await a.release();
    assert.equal(stored().holder, 'alice@laptop-a');
    await a.release();
    assert.equal(objects.objects[`${BUCKET}/${LEASE_KEY}`], undefined);
  });

  it('a background renewal and a step-boundary renewal at once make one conditional write, not a 412', async () => {
    const a = lease(ALICE);
    await a.acquire('fo-1');
    await Promise.all([a.renew(), a.renew(), (timers[0].fn(), Promise.resolve())]);
    assert.equal(puts().length, 2, 'one create, one renewal');
    await a.renew();
    assert.equal(stored().holder, 'alice@laptop-a');
  });
});
