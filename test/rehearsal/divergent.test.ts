/**
 * Nothing lost on failback (issue 12, item 8), on real PostgreSQL streaming replication: replication a → b is held
 * back for 2 s (the drill's `replicationDelayMs` with the `sender` hold: nothing reaches the standby), N rows with
 * known ids are written and acknowledged on a meanwhile, then region a dies (SIGKILL, datacenter) and the unplanned
 * failover promotes b without them. `dr failback --local` must keep them before pg_rewind discards them: the
 * divergent backup is in b's bucket, verified, its manifest lists every lost id, and restoring it (pg_restore into
 * a fresh scratch database) finds every one of them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { s3ClientConfig, S3Store } from '../../automation/adapters/aws/s3-store';
import { localPorts, localTopology } from '../../automation/adapters/rehearsal/index';
import { LocalPgTools } from '../../automation/adapters/tools/pg-tools';
import { localTempFiles } from '../../automation/adapters/tools/temp-files';
import { DIVERGENT_PREFIX, type Manifest, MANIFEST_SUFFIX, readManifest, restorePostgres } from '../../automation/backup/index';
import { runFailover } from '../../automation/failover/index';
import { killRegion, stallReplication, status } from '../../automation/rehearsal/environment';
import { localS3Env } from '../../automation/rehearsal/failback-divergent';
import { dr } from '../helpers/cli';
import { useLocalRoot, useUpEnvironment } from '../helpers/local-env';

const N = 40;
const DELAY_MS = 2000;

describe('failback keeps the writes the survivor never received @integration', function () {
  this.timeout(240_000);
  const root = useLocalRoot('dr-divergent-');
  const local = useUpEnvironment(root);

  it(`replication held back ${DELAY_MS} ms, ${N} acknowledged writes, a dies: failback backs them up (verified) before pg_rewind, and a restore finds every one`, async () => {
    const { state, env } = local;
    // Steady state: a serves, b streams. Then the link stalls and N writes are acknowledged on a only.
    const stall = await stallReplication(state, 'a', 'b', 'sender');
    const lost: string[] = [];
    const app = new Client({ connectionString: env.appUrl('a') });
    await app.connect();
    const t0 = Date.now();
    try {
      for (let i = 0; i < N; i++) {
        const id = randomUUID();
        await app.query('INSERT INTO users (id, telegram_id, name, region) VALUES ($1, $2, $3, $4)', [id, 9_000_000 + i, `lost-write-${i}`, 'a']);
        lost.push(id);
        await new Promise((r) => setTimeout(r, DELAY_MS / N));
      }
    } finally {
      await app.end();
    }
    assert.ok(Date.now() - t0 >= DELAY_MS, 'the writes span the whole delay');
    await killRegion(state, 'a', { database: true, cache: true });
    await stall.release();

    const fo = await runFailover({ ports: localPorts(state), topology: localTopology(state), mode: 'unplanned', incident: 'datacenter', from: 'a', to: 'b', confirm: true });
    assert.equal(fo.outcome, 'completed');
    const onB = await env.superQuery<{ n: string }>('b', 'SELECT count(*)::text AS n FROM users WHERE id = ANY($1::uuid[])', [lost], state.app.database);
    assert.equal(Number(onB[0].n), 0, 'the acknowledged writes are really missing on the new primary');
    // The survivor serves meanwhile: a write there is not a lost one.
    await env.superQuery('b', "INSERT INTO users (id, telegram_id, name, region) VALUES (gen_random_uuid(), 1, 'after-failover', 'b')", [], state.app.database);

    // No place to keep them (b's bucket is gone): the failback stops before pg_rewind, exit 1, a untouched.
    const s3 = new S3Client(s3ClientConfig(localS3Env(state)));
    await s3.send(new DeleteBucketCommand({ Bucket: state.regions.b.bucket }));
    const refused = await dr(['failback', '--local', '--dir', local.dir, '--yes']);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /failback stopped before pg_rewind: .*divergent backup.*Nothing was rewound: the old primary in a still holds its data/);
    assert.doesNotMatch(refused.stderr, /pg_rewind onto/);
    const stillA = await env.superQuery<{ n: string; f: string }>('a', 'SELECT count(*)::text AS n, pg_walfile_name(pg_current_wal_lsn()) AS f FROM users WHERE id = ANY($1::uuid[])', [lost], state.app.database);
    assert.equal(Number(stillA[0].n), N, 'the old primary still has every lost write');
    assert.match(stillA[0].f, /^00000001/, 'still on its own timeline (not rewound)');
    assert.equal(await localPorts(state).database.isFenced('a'), true, 'and it is fenced');
    await s3.send(new CreateBucketCommand({ Bucket: state.regions.b.bucket }));
    s3.destroy();

    const t1 = Date.now();
    const res = await dr(['failback', '--local', '--dir', local.dir, '--yes']);
    const failbackMs = Date.now() - t1;
    assert.equal(res.code, 0, res.stderr);
    // The output names the count and the key.
    const line = /(\d+) row\(s\) of the old primary differ from the survivor \(([^)]*)\).*?kept in s3:\/\/bot-dr-b\/(divergent\/backup_\d{8}_\d{6}\.dump) \(verified\)/.exec(res.stdout);
    assert.ok(line, res.stdout);
    assert.match(res.stdout, /rebuilt with pg_rewind/);
    assert.equal(Number(line[1]), N);
    assert.match(line[2], new RegExp(`public\\.users ${N}`));
    const key = line[3];

    // The backup in b's bucket: one divergent dump and its manifest, verified, listing every lost id.
    const store = new S3Store({ bucket: state.regions.b.bucket, env: localS3Env(state) });
    const objects = (await store.list(DIVERGENT_PREFIX)).map((o) => o.key).sort();
    assert.deepEqual(objects, [key, key + MANIFEST_SUFFIX]);
    const m: Manifest = await readManifest(store, key);
    assert.equal(m.type, 'divergent');
    assert.equal(m.restorability, 'VERIFIED');
    assert.equal(m.restore_test?.ok, true);
    assert.match(m.checksum, /^sha256:[0-9a-f]{64}$/);
    // No credential in the output, the manifest or the progress lines.
    const manifestText = JSON.stringify(m);
    for (const pw of Object.values(state.secrets)) for (const [name, text] of Object.entries({ stdout: res.stdout, stderr: res.stderr + refused.stderr, manifest: manifestText })) assert.ok(!text.includes(pw), `${name} contains a password`);
    const d = m.divergence!;
    assert.equal(d.failover_id, fo.id);
    assert.equal(d.compared, true);
    assert.equal(d.split.source, 'timeline-history');
    assert.equal(d.split.from_timeline, 1);
    assert.equal(d.split.to_timeline, 2);
    assert.ok(d.split.lsn && d.old_primary.wal_lsn, 'split point and the old primary WAL position');
    assert.ok((d.old_primary.wal_after_split_bytes ?? 0) > 0, `WAL after the split: ${d.old_primary.wal_after_split_bytes}`);
    const users = d.tables.find((t) => t.table === 'public.users')!;
    assert.equal(users.only_on_old_primary, N);
    assert.equal(users.changed, 0);
    assert.equal(users.only_on_survivor, 1, 'the write on the survivor after the failover');
    assert.deepEqual([...users.keys.only_on_old_primary].sort(), [...lost].sort());
    assert.deepEqual(users.found_in, { key, table: 'public.users' });
    assert.equal(d.rows_differ, N);
    // The transactions after the split, from the old primary's WAL: one commit per acknowledged write.
    assert.equal(d.transactions?.source, 'pg_waldump', JSON.stringify(d.transactions));
    assert.ok(d.transactions!.count >= N, `commits after the split: ${d.transactions!.count}`);
    assert.equal(d.transactions!.listed.reduce((n, t) => n + t.rows, 0), N, 'each lost row is attributed to a commit after the split');

    // Restore the backup into a fresh scratch database and find every lost write.
    const tools = new LocalPgTools();
    const scratchUrl = await tools.createDatabase(env.superUrl('a'), 'dr_test_divergent_restore');
    try {
      const r = await restorePostgres({ store, tools, targetUrl: scratchUrl, file: key, temp: localTempFiles(state.dir) });
      assert.equal(r.checksum, 'verified');
      const c = new Client({ connectionString: scratchUrl });
      await c.connect();
      try {
        const found = (await c.query<{ id: string }>('SELECT id::text AS id FROM users WHERE id = ANY($1::uuid[])', [lost])).rows.map((x) => x.id);
        assert.deepEqual(found.sort(), [...lost].sort(), 'every lost write id is in the restored backup');
      } finally {
        await c.end();
      }
    } finally {
      await tools.dropDatabase(env.superUrl('a'), 'dr_test_divergent_restore');
    }
    // And the failback went on: a rewound and serving again, b streaming from it.
    const st = await status(state);
    assert.equal(st.services.find((s) => s.region === 'a' && s.service === 'postgresql')?.role, 'primary');
    assert.equal(st.services.find((s) => s.region === 'b' && s.service === 'postgresql')?.role, 'standby');
    console.log(`      measured: ${N} written during the ${DELAY_MS} ms hold, ${N} lost on b, ${users.keys.only_on_old_primary.length} kept and restored; divergent backup: dump + comparison ${m.duration_seconds} s, restore check ${m.restore_test?.duration_seconds} s; whole failback ${(failbackMs / 1000).toFixed(1)} s`);
  });

  it('dr drill --local --scenario datacenter --replication-delay-ms 2000 --failback: the report says how many rows differ and where, and every lost write is listed', async () => {
    const dir = path.join(root.dir, 'drill');
    const reports = path.join(root.dir, 'reports');
    const res = await dr(['drill', '--local', '--scenario', 'datacenter', '--load-tps', '20', '--duration', '1', '--replication-delay-ms', String(DELAY_MS), '--failback', '--dir', dir, '--reports-dir', reports, '--json']);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const r = res.json();
    assert.ok(r.rpo.lost_writes > 0, 'the held replication really lost writes');
    const f = r.failback;
    assert.equal(f.switchover.outcome, 'completed');
    assert.equal(f.rebuilt.database, 'pg_rewind');
    assert.equal(f.lost_writes_kept, r.rpo.lost_write_ids.length, 'every lost write id is listed in the divergent backup');
    assert.equal(f.divergent.restorability, 'VERIFIED');
    assert.ok(f.divergent.rows_differ >= r.rpo.lost_writes, `rows differ ${f.divergent.rows_differ}, lost ${r.rpo.lost_writes}`);
    assert.match(f.divergent.key, /^divergent\/backup_\d{8}_\d{6}\.dump$/);
    assert.equal(f.divergent.location, 's3://bot-dr-b');
    assert.deepEqual(r.steps.map((s: { name: string }) => s.name), ['env-up', 'seed', 'traffic', 'backup', 'inject-failure', 'detect-failover', 'traffic-resumed', 'region-returns', 'restore-verify', 'failback', 'report', 'teardown']);
    assert.equal(r.checks.find((c: { name: string }) => c.name === 'lost writes kept in the divergent backup')?.ok, true);
    const report = fs.readFileSync(r.report, 'utf8');
    assert.ok(report.includes('## Failback to a'), 'report has the failback section');
    assert.ok(report.includes(`| **total** | **${f.divergent.rows_differ}** rows differ |`));
    assert.ok(report.includes(`s3://bot-dr-b/${f.divergent.key}`));
    assert.ok(report.includes(`They are kept in the divergent backup \`s3://bot-dr-b/${f.divergent.key}\``));
    console.log(`      measured (drill): ${r.rpo.acked_writes} acknowledged, ${r.rpo.lost_writes} lost on b, ${f.divergent.rows_differ} row(s) differ, ${f.lost_writes_kept} lost ids listed; divergent backup ${f.divergent.duration_seconds} s`);
  });
});
