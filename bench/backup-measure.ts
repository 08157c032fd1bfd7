/**
 * How bench/backup.ts measures one operation fairly:
 *
 * - {@link settle} before every operation: `sync` (the previous operation's dump file or s3rver object must not
 *   be written back during this one), `CHECKPOINT` (its dirty buffers neither), then wait until no autovacuum
 *   worker runs and no table of the named databases is due for autovacuum (ANALYZE / VACUUM / insert-VACUUM
 *   thresholds computed from the server's own settings, as autovacuum does); a due table is vacuumed here,
 *   outside the timing, and the checkpoint repeated.
 * - {@link timeDr}: `node -r bench/rss-probe.cjs bin/dr.js …` as a child (what a user's shell runs): wall time,
 *   the command's `--json` result, and from the probe its exact peak RSS and the bytes it wrote to local disk.
 * - {@link timeTool}: a plain tool (pg_dump, pg_restore) as a child: wall time.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PgCluster } from '../automation/adapters/rehearsal/pg-cluster';

const ROOT = path.join(__dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Tables autovacuum would pick up now (same formulas as autovacuum.c, default per-table settings). */
const DUE_SQL = `
  SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS t
  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
  WHERE s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8 + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(c.reltuples, 0)
     OR s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8 + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
     OR s.n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8 + current_setting('autovacuum_vacuum_insert_scale_factor')::float8 * greatest(c.reltuples, 0)`;

/** Wait until the server is quiet (see the module comment). Returns the ms it took. */
export async function settle(pg: PgCluster, databases: readonly string[]): Promise<number> {
  const t0 = Date.now();
  await run('sync', []);
  await pg.query('CHECKPOINT');
  for (let round = 0; ; round++) {
    const workers = Number((await pg.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"))[0].n);
    let vacuumed = 0;
    if (workers === 0) {
      for (const db of databases) {
        for (const { t } of await pg.query<{ t: string }>(DUE_SQL, db)) {
          await pg.query(`VACUUM (ANALYZE) ${t}`, db);
          vacuumed++;
        }
      }
      if (vacuumed === 0) break;
      await pg.query('CHECKPOINT');
    }
    if (round > 600) throw new Error('the server did not settle within ~5 minutes (autovacuum keeps running)');
    await sleep(500);
  }
  await sleep(300);
  return Date.now() - t0;
}

/** Busy share of all CPUs (0–1) over `ms`, from /proc/stat: everything but idle and iowait. */
export async function machineBusy(ms = 1000): Promise<number> {
  const sample = () => {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + f[4];
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = sample();
  await sleep(ms);
  const b = sample();
  const total = b.total - a.total;
  return total > 0 ? 1 - (b.idle - a.idle) / total : 0;
}

/**
 * Wait (up to `maxMs`) until the machine is quiet: called after {@link settle}, when none of the benchmark's own
 * processes run, so what keeps the CPUs busy is other users' load. Returns the last busy share seen.
 */
export async function waitForQuiet(threshold: number, maxMs: number): Promise<number> {
  const until = Date.now() + maxMs;
  for (;;) {
    const busy = await machineBusy(1000);
    if (busy <= threshold || Date.now() > until) return busy;
    await sleep(2000);
  }
}

/** Run a command to completion; rejects with its stderr when it fails. Resolves with its stdout. */
export function run(cmd: string, args: readonly string[], env: Record<string, string | undefined> = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(cmd)} exited ${code}: ${err.trim()}`))));
  });
}

/** Wall time of a plain tool, in seconds; its CPU seconds (user + system, from this process's reaped children) in `cpu`. */
export async function timeTool(cmd: string, args: readonly string[], env: Record<string, string | undefined>, cpu?: { seconds: number }): Promise<number> {
  const c0 = childCpuSeconds();
  const t0 = process.hrtime.bigint();
  await run(cmd, args, env);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (cpu) cpu.seconds = childCpuSeconds() - c0;
  return wall;
}

/** cutime + cstime of this process: CPU seconds of the children it has waited for (/proc/self/stat). */
function childCpuSeconds(): number {
  const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

export interface DrRun {
  seconds: number;
  /** The command's `--json` result. */
  json: Record<string, unknown> & { phases_ms?: Record<string, number> };
  /** Peak resident set of the dr process (VmHWM), KiB. */
  peakRssKb: number;
  /** Bytes the dr process caused to be written to local storage (/proc/self/io write_bytes). */
  writeBytes: number;
  cancelledWriteBytes: number;
  /** CPU seconds of the dr process itself (node), and of the tools it ran and waited for (pg_dump, pg_restore). */
  cpuSeconds: number;
  childCpuSeconds: number;
  /** CPU seconds the S3-protocol server spent meanwhile (a bench artefact: on AWS, S3 is not on this machine). */
  s3CpuSeconds: number;
}

/** `node -r bench/rss-probe.cjs bin/dr.js <argv> --json` with `env`; wall time, result and probe figures. */
export async function timeDr(argv: readonly string[], env: Record<string, string | undefined>, probeFile: string, s3Pid?: number): Promise<DrRun> {
  fs.rmSync(probeFile, { force: true });
  const s3Before = s3Pid ? cpuSecondsOf(s3Pid) : 0;
  const t0 = process.hrtime.bigint();
  const out = await run(process.execPath, ['-r', path.join(ROOT, 'bench', 'rss-probe.cjs'), path.join(ROOT, 'bin', 'dr.js'), ...argv, '--json'], { ...env, BENCH_PROBE_OUT: probeFile });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const s3CpuSeconds = s3Pid ? cpuSecondsOf(s3Pid) - s3Before : 0;
  const probe = JSON.parse(fs.readFileSync(probeFile, 'utf8')) as Omit<DrRun, 'seconds' | 'json' | 's3CpuSeconds'>;
  return { seconds, json: JSON.parse(out) as DrRun['json'], ...probe, s3CpuSeconds };
}

/** utime + stime of a process, seconds (/proc/<pid>/stat, 100 ticks per second). */
export function cpuSecondsOf(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The pid of this process's child whose command line carries `tag` (our s3rver, not another user's), if any. */
export function findProcess(tag: string): number | undefined {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (ppid === process.pid && fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(tag)) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
