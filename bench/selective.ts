/**
 * `npm run bench:selective` — the selective restore (`dr restore postgres --table`) against a full restore of the
 * same backup, on a pgbench database of about 1 GB (scale 70: pgbench_accounts 7 M rows, tellers 700, branches 70).
 *
 *   full      dr restore postgres --from latest --target-url <empty database> --jobs N
 *   small     dr restore postgres --table public.pgbench_tellers --into-url <bench> --yes   (after an UPDATE blanked it)
 *   large     dr restore postgres --table public.pgbench_accounts --into-url <bench> --yes  (after a DELETE of 10 %)
 *
 * Each selective run includes everything the command does: checksum of the downloaded backup, the scratch database
 * (schema + the table's data), staging by COPY, comparison by key, the lock, the verified safety backup of the
 * table, the transaction, the scratch drop. Its `phases_ms` are printed. The database lives under
 * bench/.work/selective/ (git-ignored; a cluster of its own, not bench:backup's) and is reused across runs.
 * Env: BENCH_SCALE (default 70), BENCH_JOBS (default 2), BENCH_RUNS (default 3).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { findBinary } from '../automation/adapters/tools/binaries';
import { PgCluster } from '../automation/adapters/rehearsal/pg-cluster';
import { pgEnv } from '../automation/adapters/tools/pg-env';
import { run } from '../automation/adapters/tools/proc';
import { startS3Server } from '../automation/adapters/rehearsal/s3-server';
import { runCli } from '../automation/cli/run';
import { redact } from '../automation/core/redact';

const WORK = path.join(__dirname, '.work', 'selective');
const SCALE = Number(process.env.BENCH_SCALE ?? 70);
const JOBS = Number(process.env.BENCH_JOBS ?? 2);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function dr(argv: string[], env: Record<string, string>): Promise<{ seconds: number; json: Record<string, any> }> {
  let out = '';
  let err = '';
  const t0 = process.hrtime.bigint();
  const code = await runCli(argv, { env, cwd: process.cwd(), io: { stdout: (t) => (out += t), stderr: (t) => (err += t), isTTY: false, confirm: async () => false } });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (code !== 0) throw new Error(redact(`dr ${argv.slice(0, 4).join(' ')} exited ${code}: ${out}${err}`));
  return { seconds, json: JSON.parse(out) as Record<string, any> };
}

async function cluster(): Promise<PgCluster> {
  fs.mkdirSync(WORK, { recursive: true, mode: 0o711 });
  fs.chmodSync(path.dirname(WORK), 0o711);
  fs.chmodSync(WORK, 0o711);
  const dir = path.join(WORK, 'pg');
  const pwFile = path.join(WORK, 'pg.password');
  if (fs.existsSync(path.join(dir, 'data', 'PG_VERSION')) && fs.existsSync(pwFile)) {
    const c = PgCluster.open(dir, fs.readFileSync(pwFile, 'utf8').trim());
    if (!c.isRunning()) await c.start();
    return c;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const password = randomBytes(16).toString('hex');
  fs.writeFileSync(pwFile, password, { mode: 0o600 });
  const c = await PgCluster.create({ dir, password, settings: { max_wal_size: '4GB', shared_buffers: '512MB', maintenance_work_mem: '256MB' } });
  await c.start();
  return c;
}

async function main(): Promise<void> {
  const pg = await cluster();
  const s3dir = path.join(WORK, 's3');
  fs.rmSync(s3dir, { recursive: true, force: true });
  const s3 = await startS3Server({ buckets: ['bench'], dir: s3dir, inProcess: false });
  try {
    const dbs = (await pg.query<{ datname: string }>('SELECT datname FROM pg_database')).map((r) => r.datname);
    if (!dbs.includes('bench')) {
      console.log(`creating pgbench database (scale ${SCALE}) — once; reused later`);
      await pg.createDatabase('bench');
      await run(findBinary('pgbench'), ['-i', '-s', String(SCALE), '-q'], { env: pgEnv(pg.url('bench')) });
      await pg.query('VACUUM ANALYZE', 'bench');
    }
    const size = (await pg.query<{ s: string }>("SELECT pg_size_pretty(pg_database_size('bench')) AS s"))[0].s;
    const env = { ...s3.env, DR_BACKUP_BUCKET: 'bench' };
    const backup = await dr(['backup', 'postgres', '--database-url', pg.url('bench'), '--json'], env);
    console.log(`database: ${size}; backup ${backup.json.manifest.key} ${backup.json.manifest.size_readable}; restore jobs ${JOBS}`);
    const times: Record<'full' | 'small' | 'large', number[]> = { full: [], small: [], large: [] };
    for (let i = 1; i <= RUNS; i++) {
      await pg.dropDatabase('r_full');
      await pg.createDatabase('r_full');
      const full = await dr(['restore', 'postgres', '--from', 'latest', '--target-url', pg.url('r_full'), '--jobs', String(JOBS), '--json'], env);
      await pg.dropDatabase('r_full');
      await pg.query('UPDATE pgbench_tellers SET tbalance = 0, filler = NULL', 'bench');
      const small = await dr(['restore', 'postgres', '--from', 'latest', '--into-url', pg.url('bench'), '--table', 'public.pgbench_tellers', '--jobs', String(JOBS), '--yes', '--json'], env);
      await pg.query('DELETE FROM pgbench_accounts WHERE aid % 10 = 0', 'bench');
      const large = await dr(['restore', 'postgres', '--from', 'latest', '--into-url', pg.url('bench'), '--table', 'public.pgbench_accounts', '--jobs', String(JOBS), '--yes', '--json'], env);
      await pg.query('VACUUM pgbench_accounts', 'bench');
      times.full.push(full.seconds);
      times.small.push(small.seconds);
      times.large.push(large.seconds);
      const t = (r: { json: Record<string, any> }) => r.json.tables.map((x: any) => `${x.table} ${x.rows_before} → ${x.rows_after}`).join(', ');
      console.log(`run ${i}/${RUNS} (load average ${os.loadavg()[0].toFixed(2)}):`);
      console.log(`  full restore (empty database)      ${full.seconds.toFixed(2)} s  phases ${JSON.stringify(full.json.phases_ms)}`);
      console.log(`  --table pgbench_tellers (replace)   ${small.seconds.toFixed(2)} s  ${t(small)}  phases ${JSON.stringify(small.json.phases_ms)}`);
      console.log(`  --table pgbench_accounts (replace)  ${large.seconds.toFixed(2)} s  ${t(large)}  phases ${JSON.stringify(large.json.phases_ms)}`);
    }
    const f = median(times.full);
    console.log(`median of ${RUNS}: full ${f.toFixed(2)} s; --table tellers ${median(times.small).toFixed(2)} s (${(median(times.small) / f).toFixed(2)}× full); --table accounts ${median(times.large).toFixed(2)} s (${(median(times.large) / f).toFixed(2)}× full)`);
  } finally {
    await s3.stop();
    fs.rmSync(s3dir, { recursive: true, force: true });
    await pg.stop('fast');
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
