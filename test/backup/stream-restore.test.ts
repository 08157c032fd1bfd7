import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalPgTools } from '../../automation/adapters/tools/pg-tools';
import { S3Store } from '../../automation/adapters/aws/s3-store';
import { readManifest } from '../../automation/backup/catalog';
import type { TempFiles } from '../../automation/backup/ports';
import { backupPostgres } from '../../automation/backup/postgres';
import { SCRATCH_PREFIX, verifyRestore } from '../../automation/backup/restore-test';
import { OperationError, VerificationError } from '../../automation/core/errors';
import { fixedClock } from '../../automation/core/clock';
import { localTempFiles } from '../../automation/adapters/tools/temp-files';
import { TEST_ENV, usePostgres, useS3, useTempDir } from '../helpers/services';

/** A TempFiles that fails the test if anything asks for local storage: the streamed restore must not. */
const noLocalCopy: TempFiles = {
  dir: async () => {
    throw new Error('the streamed restore test asked for a local temp directory');
  },
};

describe('restore test, streamed (one job, no local copy) on real PostgreSQL + s3rver @integration', function () {
  this.timeout(180_000);
  const pg = usePostgres();
  const s3 = useS3(['dr-stream']);
  const tmp = useTempDir('dr-stream-');
  let store: S3Store;
  let sourceUrl: string;
  const tools = new LocalPgTools({ env: TEST_ENV });
  const clock = fixedClock(() => new Date());

  before(async () => {
    await pg.cluster.createDatabase('app');
    sourceUrl = pg.cluster.url('app');
    await pg.cluster.query(
      `CREATE TABLE msgs (id bigint PRIMARY KEY, body text, meta jsonb);
       INSERT INTO msgs SELECT g, repeat(md5(g::text), 8), jsonb_build_object('g', g) FROM generate_series(1, 20000) g;
       CREATE INDEX msgs_meta ON msgs ((meta->>'g'));
       CREATE TABLE users (id int PRIMARY KEY, name text);
       INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 300) g;`,
      'app',
    );
    store = new S3Store({ bucket: 'dr-stream', env: s3.server.env });
  });

  const scratchDbs = async () => (await pg.cluster.query<{ d: string }>(`SELECT datname AS d FROM pg_database WHERE datname LIKE '${SCRATCH_PREFIX}%'`)).map((r) => r.d);
  const corrupt = async (key: string, at: (size: number) => number) => {
    const raw: Buffer[] = [];
    for await (const c of await store.get(key)) raw.push(c as Buffer);
    const bytes = Buffer.concat(raw);
    bytes[at(bytes.length)] ^= 0x40;
    await store.put(key, bytes, 'application/octet-stream');
  };

  it('streams the backup through sha256 into pg_restore, counts rows, marks VERIFIED (mode streamed) — no temp directory', async () => {
    const b = await backupPostgres({ url: sourceUrl, tier: 'weekly', store, tools, clock, prune: false });
    const logs: string[] = [];
    const res = await verifyRestore({ temp: noLocalCopy, store, tools, scratch: tools, scratchServerUrl: pg.cluster.url('postgres'), file: b.manifest.key, jobs: 1, runner: { kind: 'lambda', timeout_seconds: 900, storage_mb: 4096 }, clock, log: (l) => logs.push(l) });
    assert.deepEqual(res.tables.map((t) => [t.table, t.actual, t.ok]), [['public.msgs', 20000, true], ['public.users', 300, true]]);
    const m = await readManifest(store, b.manifest.key);
    assert.equal(m.restorability, 'VERIFIED');
    assert.equal(m.restore_test?.mode, 'streamed');
    assert.equal(m.restore_test?.jobs, 1);
    assert.deepEqual(m.restore_test?.runner, { kind: 'lambda', timeout_seconds: 900, storage_mb: 4096 });
    assert.ok(logs.some((l) => /checksum verified .* streamed into the scratch database/.test(l)), logs.join('\n'));
    assert.deepEqual(await scratchDbs(), []);
  });

  it('a corrupt object fails on the checksum, whatever pg_restore made of it: FAILED, alert, scratch dropped', async () => {
    for (const at of [(n: number) => Math.floor(n / 2), (n: number) => n - 3]) {
      const b = await backupPostgres({ url: sourceUrl, tier: 'daily', store, tools, clock, prune: false });
      await corrupt(b.manifest.key, at);
      const alerts: string[] = [];
      await assert.rejects(
        () => verifyRestore({ temp: noLocalCopy, store, tools, scratch: tools, scratchServerUrl: pg.cluster.url('postgres'), file: b.manifest.key, jobs: 1, clock, notifier: { notify: async (s) => void alerts.push(s) } }),
        (e: unknown) => e instanceof VerificationError && /checksum mismatch for .*the backup is corrupt \(the scratch database it was streamed into is dropped\)/.test(e.message),
      );
      const m = await readManifest(store, b.manifest.key);
      assert.equal(m.restorability, 'FAILED');
      assert.equal(m.restore_test?.mode, 'streamed');
      assert.equal(alerts.length, 1);
      assert.deepEqual(await scratchDbs(), []);
    }
  });

  it('pg_restore failing on intact bytes is named as such (the rest of the stream is still hashed)', async () => {
    const b = await backupPostgres({ url: sourceUrl, tier: 'monthly', store, tools, clock, prune: false });
    const failing = path.join(tmp.dir, 'pg_restore');
    // Reads a little of the archive, then dies: the engine must still hash the whole object to tell intact from corrupt.
    fs.writeFileSync(failing, '#!/bin/sh\nhead -c 4096 >/dev/null\necho "pg_restore: error: could not execute query: out of shared memory" >&2\nexit 1\n', { mode: 0o755 });
    const broken = new LocalPgTools({ env: TEST_ENV, pgRestore: failing });
    await assert.rejects(
      () => verifyRestore({ temp: noLocalCopy, store, tools: broken, scratch: tools, scratchServerUrl: pg.cluster.url('postgres'), file: b.manifest.key, jobs: 1, clock }),
      (e: unknown) => e instanceof OperationError && /pg_restore into the scratch database failed \(the backup's checksum matches\): pg_restore exited with 1: .*out of shared memory/.test(e.message),
    );
    assert.equal((await readManifest(store, b.manifest.key)).restorability, 'FAILED');
    assert.deepEqual(await scratchDbs(), []);
  });

  it('more than one job downloads to local storage first (mode downloaded), as before', async () => {
    const b = await backupPostgres({ url: sourceUrl, tier: 'weekly', store, tools, clock, prune: false });
    const res = await verifyRestore({ temp: localTempFiles(tmp.dir), store, tools, scratch: tools, scratchServerUrl: pg.cluster.url('postgres'), file: b.manifest.key, jobs: 2, clock });
    assert.equal(res.manifest.restore_test?.mode, 'downloaded');
    assert.equal(res.manifest.restore_test?.jobs, 2);
    assert.deepEqual(fs.readdirSync(tmp.dir).filter((f) => f.startsWith('dr-restore-')), [], 'the download is removed');
  });
});
