/**
 * `dr restore postgres --table` against real PostgreSQL and an S3-protocol server: an accidental DELETE (with its
 * ON DELETE CASCADE) and an accidental UPDATE undone, the other tables untouched, foreign keys across tables, a
 * failure mid-way rolled back, --dry-run changing nothing, missing-rows refusing a table without a primary key,
 * sequences moved forward, triggers not firing twice, and the safety backup under safety/ verified and restorable.
 */
import * as assert from 'node:assert/strict';
import { findBinary } from '../../automation/adapters/tools/binaries';
import { run } from '../../automation/adapters/tools/proc';
import { pgEnv } from '../../automation/adapters/tools/pg-env';
import { S3Store } from '../../automation/adapters/aws/s3-store';
import { readManifest } from '../../automation/backup/index';
import { dr } from '../helpers/cli';
import { usePostgres, useS3 } from '../helpers/services';

const SCHEMA = `
  CREATE TYPE mood AS ENUM ('happy', 'sad');
  CREATE SEQUENCE ticket_seq START 1000;
  CREATE TABLE users (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    email text UNIQUE,
    feeling mood,
    prefs jsonb,
    avatar bytea,
    tags text[],
    ticket int DEFAULT nextval('ticket_seq'),
    name_len int GENERATED ALWAYS AS (length(name)) STORED
  );
  CREATE TABLE sessions (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE, token text);
  CREATE TABLE audit (at timestamptz NOT NULL DEFAULT now(), what text);
  CREATE TABLE untouched (id int PRIMARY KEY, v text, meta json NOT NULL DEFAULT '{"a": [1, 2]}');
  CREATE TABLE events (id int NOT NULL, at date NOT NULL, payload jsonb, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
  CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE FUNCTION log_users() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO audit (what) VALUES (TG_OP || ' ' || COALESCE(NEW.name, OLD.name)); RETURN NULL; END $$;
  CREATE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION log_users();
  INSERT INTO users (name, email, feeling, prefs, avatar, tags)
    SELECT 'user ' || g, 'u' || g || '@example.com', CASE WHEN g % 2 = 0 THEN 'happy'::mood ELSE 'sad'::mood END,
           jsonb_build_object('n', g, 'nested', jsonb_build_array(g, 'ü')), decode(lpad(to_hex(g), 4, '0'), 'hex'), ARRAY['a', 'b c', E'tab\\there']
    FROM generate_series(1, 200) g;
  INSERT INTO sessions (user_id, token) SELECT 1 + (g % 200), md5(g::text) FROM generate_series(1, 300) g;
  INSERT INTO untouched SELECT g, 'v' || g FROM generate_series(1, 50) g;
  INSERT INTO events SELECT g, DATE '2024-06-01' + (g % 400), jsonb_build_object('g', g) FROM generate_series(1, 100) g;
`;

/** The table's rows as text, in key order (a deterministic fingerprint of its contents). */
async function rowsOf(pg: ReturnType<typeof usePostgres>, table: string, order = 'id'): Promise<string> {
  const r = await pg.cluster.query<{ t: string }>(`SELECT string_agg(x::text, E'\\n' ORDER BY x.${order}) AS t FROM ${table} x`, 'app');
  return r[0].t ?? '';
}

async function count(pg: ReturnType<typeof usePostgres>, table: string): Promise<number> {
  return Number((await pg.cluster.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`, 'app'))[0].n);
}

async function plainDump(url: string): Promise<string> {
  const res = await run(findBinary('pg_dump'), ['--no-owner', '--no-privileges', '--format=plain', '--no-comments'], { env: pgEnv(url) });
  return res.stdout.replace(/^\\(un)?restrict .*$/gm, '');
}

describe('selective restore: dr restore postgres --table @integration', function () {
  this.timeout(180_000);
  const pg = usePostgres();
  const s3 = useS3(['dr-backups']);
  let env: Record<string, string>;
  let url: string;
  /** The rows at backup time. */
  const original: Record<string, string> = {};

  const restore = (args: string[]) => dr(['restore', 'postgres', '--into-url', url, '--from', 'latest', ...args, '--json'], env);

  before(async () => {
    await pg.cluster.createDatabase('app');
    url = pg.cluster.url('app');
    await pg.cluster.query(SCHEMA, 'app');
    env = { ...s3.server.env, DR_BACKUP_BUCKET: 'dr-backups' };
    const b = await dr(['backup', 'postgres', '--database-url', url, '--json'], env);
    assert.equal(b.code, 0, b.stderr);
    for (const t of ['users', 'sessions', 'untouched']) original[t] = await rowsOf(pg, t);
    original.events = await rowsOf(pg, 'events', 'id');
  });

  afterEach(async () => {
    const left = await pg.cluster.query("SELECT datname FROM pg_database WHERE datname LIKE 'dr_selective_%'");
    assert.deepEqual(left, [], 'the scratch database is always dropped');
  });

  it('--dry-run shows the counts and changes nothing', async () => {
    await pg.cluster.query('DELETE FROM sessions WHERE id > 250', 'app');
    const before = await plainDump(url);
    const r = await restore(['--table', 'public.sessions', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.dry_run, true);
    assert.equal(out.safety_backup, undefined, 'a dry run takes no safety backup');
    const [t] = out.tables;
    assert.deepEqual([t.table, t.rows_before, t.backup_rows, t.rows_after], ['public.sessions', 250, 300, 300]);
    assert.deepEqual(t.by_key, { missing: 50, extra: 0, changed: 0 });
    assert.equal(await plainDump(url), before, 'nothing changed');
    const safety = await new S3Store({ bucket: 'dr-backups', env: s3.server.env }).list('safety/');
    assert.deepEqual(safety, []);
  });

  it('undoes an accidental DELETE whose ON DELETE CASCADE emptied another table: both restored, FKs valid, triggers silent, other tables untouched', async () => {
    const auditBefore = await count(pg, 'audit');
    await pg.cluster.query('DELETE FROM users', 'app');
    assert.equal(await count(pg, 'sessions'), 0, 'the cascade took the sessions too');
    const auditAfterDelete = await count(pg, 'audit');
    assert.equal(auditAfterDelete, auditBefore + 200, 'the accident itself fired the audit trigger');
    const untouched = await plainDump(url).then((d) => d.split('\n').filter((l) => /untouched|events/.test(l)).join('\n'));

    const r = await restore(['--table', 'public.users', '--table', 'public.sessions', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.dry_run, false);
    assert.deepEqual(out.tables.map((t: any) => [t.table, t.rows_before, t.rows_after]), [['public.users', 0, 200], ['public.sessions', 0, 300]]);
    assert.ok(out.foreign_keys.some((f: any) => f.name === 'sessions_user_id_fkey' && f.checked && f.violations === 0));
    assert.equal(await rowsOf(pg, 'users'), original.users, 'every column restored exactly (enum, jsonb, bytea, arrays, generated)');
    assert.equal(await rowsOf(pg, 'sessions'), original.sessions);
    assert.equal(await count(pg, 'audit'), auditAfterDelete, 'the audit trigger did not fire for the copied rows');
    assert.equal(await plainDump(url).then((d) => d.split('\n').filter((l) => /untouched|events/.test(l)).join('\n')), untouched);
    assert.equal(await rowsOf(pg, 'untouched'), original.untouched);
    // The FK really holds: the database itself accepts no orphan and cascades as before.
    await assert.rejects(pg.cluster.query('INSERT INTO sessions (user_id, token) VALUES (99999, $1)', 'app', ['x']), /foreign key/);
    // Sequences were moved forward to the restored maximum: new rows get fresh keys.
    const seqs = out.tables[0].sequences.map((s: any) => [s.sequence, s.column]);
    assert.deepEqual(seqs.sort(), [['public.ticket_seq', 'ticket'], ['public.users_id_seq', 'id']]);
    const fresh = await pg.cluster.query<{ id: string }>("INSERT INTO users (name) VALUES ('after') RETURNING id::text AS id", 'app');
    assert.equal(fresh[0].id, '201');
    await pg.cluster.query("DELETE FROM users WHERE name = 'after'", 'app');
    // The identity sequence too (the rejected orphan above used up 301).
    const s = await pg.cluster.query<{ id: number }>('INSERT INTO sessions (user_id, token) VALUES (1, $1) RETURNING id', 'app', ['t']);
    assert.ok(s[0].id > 300, `identity sequence past the restored maximum, got ${s[0].id}`);
    await pg.cluster.query('DELETE FROM sessions WHERE id = $1', 'app', [s[0].id]);
  });

  it('undoes an accidental UPDATE with replace, and keeps rows added since with missing-rows', async () => {
    await pg.cluster.query("UPDATE users SET name = 'oops', email = NULL WHERE id <= 100", 'app');
    const r = await restore(['--table', 'public.users', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const t = r.json().tables[0];
    assert.deepEqual(t.by_key, { missing: 0, extra: 0, changed: 100 });
    assert.deepEqual([t.deleted, t.updated, t.inserted], [0, 100, 0], 'by difference: only the changed rows are written');
    assert.equal(await rowsOf(pg, 'users'), original.users);
    assert.equal(await rowsOf(pg, 'sessions'), original.sessions, 'same keys: the sessions keep their users');

    // missing-rows: deleted rows come back, a row created since the backup stays.
    await pg.cluster.query("DELETE FROM users WHERE id % 10 = 0; INSERT INTO users (id, name) VALUES (500, 'new since')", 'app');
    const m = await restore(['--table', 'public.users', '--table', 'public.sessions', '--mode', 'missing-rows', '--yes']);
    assert.equal(m.code, 0, m.stderr);
    const [u, sess] = m.json().tables;
    assert.deepEqual([u.rows_before, u.inserted, u.deleted, u.rows_after], [181, 20, 0, 201]);
    assert.equal(sess.inserted, 30, 'the cascaded sessions of the deleted users');
    assert.equal(await rowsOf(pg, 'sessions'), original.sessions);
    assert.equal((await pg.cluster.query('SELECT 1 FROM users WHERE id = 500', 'app')).length, 1);
    await pg.cluster.query('DELETE FROM users WHERE id = 500', 'app');
    assert.equal(await rowsOf(pg, 'users'), original.users);
  });

  it('restores a partitioned table', async () => {
    await pg.cluster.query("DELETE FROM events WHERE at >= '2025-01-01'", 'app');
    const r = await restore(['--table', 'public.events', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await rowsOf(pg, 'events'), original.events);
  });

  it('refuses --mode missing-rows for a table without a primary key (exit 2, nothing created)', async () => {
    const r = await restore(['--table', 'public.audit', '--mode', 'missing-rows', '--yes']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /missing-rows finds missing rows by primary key, and public\.audit has none/);
  });

  it('refuses a replace that would orphan rows of another table (exit 2, unchanged)', async () => {
    await pg.cluster.query("INSERT INTO users (id, name) VALUES (600, 'since'); INSERT INTO sessions (user_id, token) VALUES (600, 'since')", 'app');
    const before = await plainDump(url);
    const r = await restore(['--table', 'public.users', '--yes']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /would break foreign keys.*public\.sessions \(sessions_user_id_fkey → public\.users\): 1 row/);
    assert.equal(await plainDump(url), before);
    await pg.cluster.query('DELETE FROM users WHERE id = 600', 'app');
  });

  it('a failure mid-way (the second table breaks a constraint added since) leaves both tables unchanged', async () => {
    await pg.cluster.query("UPDATE users SET name = 'broken'; DELETE FROM sessions WHERE id > 290", 'app');
    await pg.cluster.query('ALTER TABLE sessions ADD CONSTRAINT token_short CHECK (length(token) < 3) NOT VALID', 'app');
    try {
      const before = await plainDump(url);
      const r = await restore(['--table', 'public.users', '--table', 'public.sessions', '--yes']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /token_short/);
      assert.equal(await plainDump(url), before, 'the users replaced first were rolled back with the rest');
    } finally {
      await pg.cluster.query('ALTER TABLE sessions DROP CONSTRAINT token_short', 'app');
    }
    const fix = await restore(['--table', 'public.users', '--table', 'public.sessions', '--yes']);
    assert.equal(fix.code, 0, fix.stderr);
    assert.equal(await rowsOf(pg, 'users'), original.users);
  });

  it('takes a verified safety backup under safety/ first, and that backup restores the replaced rows', async () => {
    await pg.cluster.query("UPDATE untouched SET v = 'corrupted' WHERE id <= 5", 'app');
    const corrupted = await rowsOf(pg, 'untouched');
    const r = await restore(['--table', 'public.untouched', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    // json has no equality operator: the rows are compared through their text, and only the 5 changed ones are written.
    assert.deepEqual(r.json().tables[0].by_key, { missing: 0, extra: 0, changed: 5 });
    const sb = r.json().safety_backup;
    assert.equal(sb.taken, true);
    assert.equal(sb.verified, true);
    assert.match(sb.key, /^safety\/postgresql\/backup_\d{8}_\d{6}\.dump$/);
    assert.deepEqual(sb.tables, { 'public.untouched': 50 });
    const store = new S3Store({ bucket: 'dr-backups', env: s3.server.env });
    const m = await readManifest(store, sb.key);
    assert.equal(m.tier, 'safety');
    assert.equal(m.checksum, sb.checksum);
    assert.match(m.safety?.before ?? '', /restore postgres --table public\.untouched --mode replace from postgresql\/daily\//);
    assert.equal(await rowsOf(pg, 'untouched'), original.untouched);
    // The safety backup is a backup like any other: restore the replaced rows from it.
    const back = await dr(['restore', 'postgres', '--into-url', url, '--file', sb.key, '--table', 'public.untouched', '--no-safety-backup', '--yes', '--json'], env);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(back.json().safety_backup, { taken: false, skipped: '--no-safety-backup', reason: back.json().safety_backup.reason });
    assert.equal(await rowsOf(pg, 'untouched'), corrupted);
    const again = await restore(['--table', 'public.untouched', '--yes']);
    assert.equal(again.code, 0, again.stderr);
  });

  it('a full restore with --force into a non-empty database takes a safety backup of it first; --no-safety-backup records the skip', async () => {
    await pg.cluster.createDatabase('forced');
    await pg.cluster.query('CREATE TABLE keepme (id int); INSERT INTO keepme VALUES (1), (2)', 'forced');
    const r = await dr(['restore', 'postgres', '--target-url', pg.cluster.url('forced'), '--force', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const sb = r.json().safety_backup;
    assert.equal(sb.taken, true);
    assert.equal(sb.tables['public.keepme'], 2);
    const m = await readManifest(new S3Store({ bucket: 'dr-backups', env: s3.server.env }), sb.key);
    assert.match(m.safety?.before ?? '', /restore postgres --force of postgresql\/daily\//);
    // (A second --force over the restored partitioned table would trip pg_restore --clean on the partitions' keys.)
    await pg.cluster.createDatabase('forced2');
    await pg.cluster.query('CREATE TABLE keepme (id int)', 'forced2');
    const skip = await dr(['restore', 'postgres', '--target-url', pg.cluster.url('forced2'), '--force', '--no-safety-backup', '--json'], env);
    assert.equal(skip.code, 0, skip.stderr);
    assert.equal(skip.json().safety_backup.skipped, '--no-safety-backup');
  });

  it('never prints the password; an unknown table and a bad name are usage errors', async () => {
    const bad = await restore(['--table', 'users', '--dry-run']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /must be SCHEMA\.TABLE/);
    const missing = await restore(['--table', 'public.nope', '--dry-run']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /table public\.nope does not exist in database app/);
    const human = await dr(['restore', 'postgres', '--into-url', url, '--table', 'public.users', '--dry-run'], env);
    assert.equal(human.code, 0, human.stderr);
    for (const x of [bad, missing, human]) assert.ok(!(x.stdout + x.stderr).includes(pg.cluster.secret));
  });
});
