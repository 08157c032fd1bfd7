import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { S3Client, GetObjectCommand, PutObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { findBinary } from '../../automation/adapters/tools/binaries';
import { run } from '../../automation/adapters/tools/proc';
import { pgEnv } from '../../automation/adapters/tools/pg-env';
import { LocalPgTools } from '../../automation/adapters/tools/pg-tools';
import { S3Store } from '../../automation/adapters/aws/s3-store';
import { backupPostgres } from '../../automation/backup/postgres';
import { OperationError } from '../../automation/core/errors';
import { dr } from '../helpers/cli';
import { usePostgres, useS3, useTempDir } from '../helpers/services';
import { fixedClock } from '../../automation/core/clock';

const SCHEMA = `
  CREATE TYPE mood AS ENUM ('happy', 'sad', 'ünïcode');
  CREATE SEQUENCE ticket_seq START 1000;
  CREATE TABLE users (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    bio text,
    prefs jsonb,
    avatar bytea,
    tags text[],
    scores int[],
    feeling mood,
    created timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00'
  );
  CREATE TABLE events (id int NOT NULL, at date NOT NULL, payload jsonb) PARTITION BY RANGE (at);
  CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  INSERT INTO users (name, bio, prefs, avatar, tags, scores, feeling) VALUES
    ('Ада', 'Привет, мир 🌍', '{"lang":"ru","nested":{"a":[1,2,3]}}', '\\x00ff10', ARRAY['a','b c'], ARRAY[1,2,3], 'happy'),
    ('José', NULL, NULL, NULL, NULL, NULL, NULL),
    ('李雷', E'tab\\tnewline\\n', '[]', '\\x', '{}', '{}', 'ünïcode');
  INSERT INTO users (name) SELECT 'user' || g FROM generate_series(1, 500) g;
  INSERT INTO events SELECT g, DATE '2024-06-01' + (g % 400), jsonb_build_object('n', g) FROM generate_series(1, 1000) g;
  SELECT nextval('ticket_seq'), nextval('ticket_seq'), nextval('ticket_seq');
`;

/** A deterministic plain-text dump (no owner, no ACL noise) for comparing two databases. */
async function plainDump(url: string): Promise<string> {
  const res = await run(findBinary('pg_dump'), ['--no-owner', '--no-privileges', '--format=plain', '--no-comments'], { env: pgEnv(url) });
  return res.stdout.replace(/^\\(un)?restrict .*$/gm, '');
}

describe('backup & restore: PostgreSQL @integration', function () {
  this.timeout(180_000);
  const pg = usePostgres();
  const s3 = useS3(['dr-backups']);
  const tmp = useTempDir();
  let env: Record<string, string>;
  let sourceUrl: string;

  before(async () => {
    await pg.cluster.createDatabase('app');
    sourceUrl = pg.cluster.url('app');
    await pg.cluster.query(SCHEMA, 'app');
    env = { ...s3.server.env, DR_BACKUP_BUCKET: 'dr-backups' };
  });

  it('round trip: backup → restore into an empty database gives an identical pg_dump, sequences included', async () => {
    const b = await dr(['backup', 'postgres', '--database-url', sourceUrl, '--json'], env);
    assert.equal(b.code, 0, b.stderr);
    const m = b.json().manifest;
    assert.match(m.key, /^postgresql\/daily\/backup_\d{8}_\d{6}\.dump$/);
    assert.match(m.checksum, /^sha256:[0-9a-f]{64}$/);
    assert.equal(m.database, 'app');
    assert.equal(m.tables['public.users'], 503);
    assert.equal(m.tables['public.events'], 1000);
    assert.equal(m.tables['public.events_2024'] + m.tables['public.events_2025'], 1000);
    assert.equal(m.restorability, 'UNVERIFIED');
    assert.equal(m.source, `127.0.0.1:${pg.cluster.port}`);
    assert.match(m.tool_versions.pg_dump, /pg_dump \(PostgreSQL\) 15/);
    assert.equal(m.retention, '7_daily');

    await pg.cluster.createDatabase('restored');
    const r = await dr(['restore', 'postgres', '--from', 'latest', '--target-url', pg.cluster.url('restored'), '--jobs', '2', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.ok(out.tables.every((t: { ok: boolean }) => t.ok));
    assert.equal(out.tables.length, Object.keys(m.tables).length);
    assert.equal(await plainDump(pg.cluster.url('restored')), await plainDump(sourceUrl));
    const seq = await pg.cluster.query<{ v: string }>("SELECT nextval('ticket_seq')::text AS v", 'restored');
    assert.equal(seq[0].v, '1003');
    const u = await pg.cluster.query<{ bio: string; avatar: Buffer; feeling: string }>("SELECT bio, avatar, feeling::text FROM users WHERE name = 'Ада'", 'restored');
    assert.equal(u[0].bio, 'Привет, мир 🌍');
    assert.deepEqual([...u[0].avatar], [0x00, 0xff, 0x10]);
  });

  it('refuses a non-empty target without --force (exit 2) and restores over it with --force', async () => {
    await pg.cluster.createDatabase('busy');
    await pg.cluster.query('CREATE TABLE users (id int); INSERT INTO users VALUES (1)', 'busy');
    const refused = await dr(['restore', 'postgres', '--target-url', pg.cluster.url('busy')], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already has 1 table\(s\); refusing.*--force/);
    assert.equal((await pg.cluster.query<{ n: string }>('SELECT count(*)::text AS n FROM users', 'busy'))[0].n, '1');
    const forced = await dr(['restore', 'postgres', '--target-url', pg.cluster.url('busy'), '--force'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await pg.cluster.query<{ n: string }>('SELECT count(*)::text AS n FROM users', 'busy'))[0].n, '503');
  });

  it('corruption: one flipped byte → exit 1 with a checksum message, target untouched', async () => {
    const client = new S3Client({ endpoint: s3.server.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const list = await client.send(new ListObjectsV2Command({ Bucket: 'dr-backups', Prefix: 'postgresql/daily/' }));
    const key = (list.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k.endsWith('.dump')).sort().at(-1) ?? '';
    const body = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: 'dr-backups', Key: key }))).Body!.transformToByteArray());
    const original = Buffer.from(body);
    body[Math.floor(body.length / 2)] ^= 0x01;
    await client.send(new PutObjectCommand({ Bucket: 'dr-backups', Key: key, Body: body }));
    try {
      await pg.cluster.createDatabase('victim');
      const r = await dr(['restore', 'postgres', '--file', key, '--target-url', pg.cluster.url('victim'), '--json'], env);
      assert.equal(r.code, 1);
      assert.equal(r.json().error, 'VerificationError');
      assert.match(r.stderr, /checksum mismatch.*nothing was restored/);
      const tables = await pg.cluster.query("SELECT 1 FROM pg_tables WHERE schemaname = 'public'", 'victim');
      assert.equal(tables.length, 0);
    } finally {
      await client.send(new PutObjectCommand({ Bucket: 'dr-backups', Key: key, Body: original }));
      client.destroy();
    }
  });

  it('a dump that dies midway leaves neither manifest nor object', async () => {
    const wrapper = path.join(tmp.dir, 'pg_dump_dies');
    fs.writeFileSync(wrapper, `#!/bin/sh\n"${findBinary('pg_dump')}" "$@" | head -c 20000\necho "pg_dump: simulated crash" >&2\nexit 3\n`, { mode: 0o755 });
    const store = new S3Store({ bucket: 'dr-backups', env: s3.server.env });
    const before = await store.list('postgresql/weekly/');
    await assert.rejects(
      () => backupPostgres({ url: sourceUrl, tier: 'weekly', store, tools: new LocalPgTools({ pgDump: wrapper }), clock: fixedClock(() => new Date()) }),
      (e: unknown) => e instanceof OperationError && /no backup was recorded.*simulated crash/s.test(e.message),
    );
    assert.deepEqual(await store.list('postgresql/weekly/'), before);
    assert.equal(before.length, 0);
  });

  it('a server killed mid-dump leaves no manifest; the CLI exits 1', async () => {
    const { PgCluster } = await import('../../automation/adapters/rehearsal/pg-cluster');
    const victim = await PgCluster.create({ dir: path.join(tmp.dir, 'victim') });
    await victim.start();
    try {
      await victim.createDatabase('big');
      await victim.query("CREATE TABLE t AS SELECT g, md5(g::text) || repeat('x', 200) AS s FROM generate_series(1, 400000) g", 'big');
      const p = dr(['backup', 'postgres', '--database-url', victim.url('big'), '--tier', 'monthly', '--compress', '0'], env);
      // Kill the server once the dump is under way (the snapshot session exists as soon as the dump starts).
      for (let i = 0; i < 400; i++) {
        const active = await victim.query<{ n: string }>("SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = 'pg_dump'").catch(() => [{ n: '0' }]);
        if (active[0].n !== '0') break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await victim.kill();
      const r = await p;
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /no backup was recorded/);
      const store = new S3Store({ bucket: 'dr-backups', env: s3.server.env });
      assert.deepEqual(await store.list('postgresql/monthly/'), []);
    } finally {
      await victim.destroy();
    }
  });

  it('--from resolution through the CLI: bad forms and empty days exit 2 naming what is allowed', async () => {
    const target = pg.cluster.url('postgres');
    const bad = await dr(['restore', 'postgres', '--from', '2024-01-01', '--target-url', target], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /allowed: latest\|daily\|weekly\|monthly\|YYYYMMDD/);
    const notReal = await dr(['restore', 'postgres', '--from', '20240230', '--target-url', target], env);
    assert.equal(notReal.code, 2);
    assert.match(notReal.stderr, /not a real calendar date/);
    const empty = await dr(['restore', 'postgres', '--from', '20000101', '--target-url', target], env);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /no backup on that day.*days with backups: \d{8}/);
    const tier = await dr(['restore', 'postgres', '--from', 'monthly', '--target-url', target], env);
    assert.equal(tier.code, 2);
    assert.match(tier.stderr, /no complete monthly backup/);
  });

  it('an unreachable target exits 1 (an operational failure, not bad usage) naming the URL without its password', async () => {
    const url = `postgresql://bot:Sup3rS3cretPw@127.0.0.1:1/app`;
    const r = await dr(['restore', 'postgres', '--target-url', url], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /target database postgresql:\/\/bot:\*\*\*@127\.0\.0\.1:1\/app is unreachable/);
    assert.doesNotMatch(r.stderr, /--help/, 'not a flag problem: no pointer at --help');
    assert.ok(!(r.stdout + r.stderr).includes('Sup3rS3cretPw'));
  });

  it('a wrong password is a refused login (exit 1), not "unreachable"', async () => {
    const u = new URL(sourceUrl);
    u.password = 'WrongPassw0rdHere';
    const r = await dr(['backup', 'postgres', '--database-url', u.toString()], env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /refused the login: .*password authentication failed for user/);
    assert.doesNotMatch(r.stderr, /unreachable/);
    assert.ok(!(r.stdout + r.stderr).includes('WrongPassw0rdHere'));
  });

  it('a missing bucket is blamed on the upload, not on pg_dump (exit 1)', async () => {
    const r = await dr(['backup', 'postgres', '--database-url', sourceUrl, '--bucket', 'no-such-bucket-here'], env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no backup was recorded: the upload to s3:\/\/no-such-bucket-here\/postgresql\/daily\/backup_\d{8}_\d{6}\.dump failed: .*bucket does not exist/i);
    assert.doesNotMatch(r.stderr, /pg_dump (of|exited)/);
  });

  it('never prints the database password, in human or JSON output', async () => {
    const secret = pg.cluster.secret;
    const runs = [
      await dr(['backup', 'postgres', '--database-url', sourceUrl, '--tier', 'weekly'], env),
      await dr(['backup', 'postgres', '--database-url', sourceUrl, '--tier', 'weekly', '--json'], env),
      await dr(['backups', 'list', '--json'], env),
      await dr(['verify', '--full', '--database-url', sourceUrl], env),
      await dr(['restore', 'postgres', '--target-url', sourceUrl], env),
    ];
    for (const r of runs) assert.ok(!(r.stdout + r.stderr).includes(secret), `password leaked in: ${r.stdout}${r.stderr}`);
    assert.equal(runs[0].code, 0, runs[0].stderr);
    assert.equal(runs[4].code, 2);
  });
});
