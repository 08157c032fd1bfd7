/**
 * `npm run bench:backup` — `dr backup postgres` / `dr restore postgres` against the plain tools, fairly.
 *
 *   backup : node bin/dr.js backup postgres  (pg_dump -Fc -Z6 → sha256 → multipart upload to s3rver, row counts,
 *            manifest, prune)                                  vs  pg_dump -Fc -Z6 -f <local file>
 *   restore: node bin/dr.js restore postgres (download + sha256 BEFORE touching the target → pg_restore -j N →
 *            row counts)                                       vs  pg_restore -j N <that local file>
 *   restore test: node bin/dr.js backups verify-restore --jobs 1 (what the scheduled job runs: a scratch database,
 *            the backup streamed through sha256 into pg_restore, no local copy, row counts, manifest VERIFIED)
 *                                                              vs  pg_restore -j1 <that local file>
 *
 * Fairness (a ratio measured in a fixed order is biased: whoever runs second pays for the first one's
 * checkpoint, writeback and autovacuum):
 * - pairs in ABBA order: odd pairs run dr first, even pairs the plain tool first;
 * - before EVERY operation the server settles (bench/backup-measure.ts: sync, CHECKPOINT, no autovacuum worker
 *   and nothing due for autovacuum);
 * - restores go into a fresh, empty database created before the settle, dropped right after.
 *
 * Reported per pair: both times and the ratio (the wall time of the `dr` process, CLI start-up included, and
 * the engine's own time from its `--json`); then the median and the spread (min–max) of the ratios; the `dr`
 * process's peak RSS and the bytes it wrote to local disk (bench/rss-probe.cjs); seconds per GB of database.
 *
 * Environment:
 *   BENCH_SCALES    pgbench scales, comma-separated (default 70, ~1 GB; the full series is BENCH_SCALES=70,280,
 *                   ~4 GB, about 2 h on 2 cores). The realistic dataset is sized to match each scale.
 *   BENCH_DATASETS  pgbench,realistic (default both)
 *   BENCH_PAIRS     pairs per (dataset, scale), at least 5 (default 5)
 *   BENCH_JOBS      pg_restore -j on both sides (default 2)
 *   BENCH_KEEP      small (default: keep databases up to scale 70 under bench/.work/ for the next run, drop bigger
 *                   ones at the end) | all | none
 *   BENCH_QUIET     before each operation, wait until other users keep at most this share of the CPUs busy
 *                   (default 0.25, measured over 1 s while the benchmark's own processes are idle) …
 *   BENCH_QUIET_WAIT … but at most this many seconds (default 300); the busy share seen is printed per pair
 * The work directory bench/.work/ is git-ignored. Free disk is checked before a database is generated.
 * Check `uptime` first: on a shared 2-core machine other load makes both sides slower; the ABBA order and the
 * ratios keep the comparison fair, the absolute seconds are only as good as the machine was quiet.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { findBinary } from '../automation/adapters/tools/binaries';
import { PgCluster } from '../automation/adapters/rehearsal/pg-cluster';
import { pgEnv } from '../automation/adapters/tools/pg-env';
import { S3RVER_PROCESS_TAG, startS3Server, S3Server } from '../automation/adapters/rehearsal/s3-server';
import { Dataset, DATASETS, databaseName, ensureDatabase } from './backup-data';
import { DrRun, findProcess, median, settle, timeDr, timeTool, waitForQuiet } from './backup-measure';

const WORK = path.join(__dirname, '.work');
const SCALES = (process.env.BENCH_SCALES ?? '70').split(',').map((s) => Number(s.trim()));
const DATASET_LIST = (process.env.BENCH_DATASETS ?? DATASETS.join(',')).split(',').map((s) => s.trim()) as Dataset[];
const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const JOBS = Number(process.env.BENCH_JOBS ?? 2);
const KEEP = process.env.BENCH_KEEP ?? 'small';
const QUIET = Number(process.env.BENCH_QUIET ?? 0.25);
const QUIET_WAIT_MS = Number(process.env.BENCH_QUIET_WAIT ?? 300) * 1000;
const GB = 1024 ** 3;

/** One measured pair: the plain tool and dr, in the order they ran. */
interface Pair {
  drFirst: boolean;
  tool: number;
  /** CPU seconds of the plain tool (client side; the server's work is the same on both sides, but for dr's counts). */
  toolCpu: number;
  dr: DrRun;
  load: number;
  /** Busy share of the CPUs just before each side started (other users' load: our processes were idle). */
  busy: number[];
}

interface Series {
  dataset: Dataset;
  scale: number;
  dbBytes: number;
  dumpBytes: number;
  backup: Pair[];
  restore: Pair[];
  /** The restore test as the scheduled job runs it: one job, streamed (vs pg_restore -j1 from the local file). */
  restoreTest: Pair[];
}

type Op = 'backup' | 'restore' | 'restoreTest';
const OPS: readonly Op[] = ['backup', 'restore', 'restoreTest'];
const OP_LABEL: Record<Op, string> = { backup: 'backup', restore: `restore -j${JOBS}`, restoreTest: 'restore test (streamed)' };

function validateEnv(): void {
  for (const s of SCALES) if (!Number.isInteger(s) || s < 1) throw new Error(`BENCH_SCALES: ${JSON.stringify(process.env.BENCH_SCALES)} is not a list of whole numbers`);
  for (const d of DATASET_LIST) if (!(DATASETS as readonly string[]).includes(d)) throw new Error(`BENCH_DATASETS: unknown dataset ${d}; allowed: ${DATASETS.join(', ')}`);
  if (!Number.isInteger(PAIRS) || PAIRS < 1) throw new Error('BENCH_PAIRS must be a whole number ≥ 1');
  if (PAIRS < 5) console.log(`note: BENCH_PAIRS=${PAIRS} is below the 5 pairs a published figure needs`);
  if (!Number.isInteger(JOBS) || JOBS < 1) throw new Error('BENCH_JOBS must be a whole number ≥ 1');
}

async function cluster(): Promise<PgCluster> {
  fs.mkdirSync(WORK, { recursive: true, mode: 0o711 });
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

/** Refuse to generate a database the disk cannot hold: source + two restored copies + dumps + s3rver objects. */
function checkDisk(scale: number): void {
  const need = (scale / 70) * 1.1 * GB * 5;
  const st = fs.statfsSync(WORK);
  const free = st.bavail * st.bsize;
  if (free < need) throw new Error(`scale ${scale} needs about ${(need / GB).toFixed(1)} GB free under ${WORK}, only ${(free / GB).toFixed(1)} GB are (df -h ${WORK})`);
}

const load = () => os.loadavg()[0];
const others = (p: Pair) => `others busy ${p.busy.map((b) => `${Math.round(b * 100)}%`).join('/')}, load ${p.load.toFixed(2)}`;
const fmt = (s: number) => `${s.toFixed(2)} s`;
const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

const cpu = (r: DrRun) => `CPU s: dr ${r.cpuSeconds.toFixed(1)}, its tools ${r.childCpuSeconds.toFixed(1)}, s3rver ${r.s3CpuSeconds.toFixed(1)}`;
/** Client-side CPU seconds of the dr side (node, its tools, the S3 server) — load-independent, unlike wall time. */
const drCpu = (r: DrRun) => r.cpuSeconds + r.childCpuSeconds + r.s3CpuSeconds;

/** The backup pairs of one database. The last pg_dump file stays for the restore baseline. */
async function backupPairs(pg: PgCluster, db: string, env: Record<string, string>, dumpFile: string, probe: string): Promise<Pair[]> {
  const pairs: Pair[] = [];
  const url = pg.url(db);
  const toolCpu = { seconds: 0 };
  const pgDump = () => timeTool(findBinary('pg_dump'), ['--format=custom', '--compress=6', '-f', dumpFile], { ...process.env, ...pgEnv(url) }, toolCpu);
  const drBackup = () => timeDr(['backup', 'postgres', '--database-url', url, '--compress', '6'], env, probe, findProcess(S3RVER_PROCESS_TAG));
  for (let i = 1; i <= PAIRS; i++) {
    const drFirst = i % 2 === 1;
    let tool = 0;
    let dr: DrRun | undefined;
    const busy: number[] = [];
    for (const side of drFirst ? ['dr', 'tool'] : ['tool', 'dr']) {
      await settle(pg, [db]);
      busy.push(await waitForQuiet(QUIET, QUIET_WAIT_MS));
      if (side === 'dr') dr = await drBackup();
      else tool = await pgDump();
    }
    const p: Pair = { drFirst, tool, toolCpu: toolCpu.seconds, dr: dr!, load: load(), busy };
    pairs.push(p);
    const ph = p.dr.json.phases_ms ?? {};
    console.log(
      `  backup  pair ${i}/${PAIRS} (${drFirst ? 'dr first' : 'pg_dump first'}, ${others(p)}): dr ${fmt(p.dr.seconds)} (engine ${fmt((ph.total ?? 0) / 1000)}) vs pg_dump ${fmt(tool)} → ${(p.dr.seconds / tool).toFixed(3)} (engine ${((ph.total ?? 0) / 1000 / tool).toFixed(3)}); ` +
        `peak RSS ${(p.dr.peakRssKb / 1024).toFixed(0)} MiB, disk writes ${mib(p.dr.writeBytes)}; ${cpu(p.dr)} (plain tool ${p.toolCpu.toFixed(1)}); phases ms ${Object.entries(ph).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
  }
  return pairs;
}

/**
 * The restore-test pairs: `dr backups verify-restore --jobs 1` (a scratch database it creates, the backup streamed
 * through sha256 into pg_restore, row counts, the manifest rewritten, the scratch dropped) vs `pg_restore -j1` from
 * the local file into a fresh database.
 */
async function restoreTestPairs(pg: PgCluster, db: string, env: Record<string, string>, dumpFile: string, probe: string): Promise<Pair[]> {
  const pairs: Pair[] = [];
  const target = `${db}_r`;
  const toolCpu = { seconds: 0 };
  const pgRestore = () => timeTool(findBinary('pg_restore'), ['--no-owner', '--exit-on-error', `--dbname=${target}`, dumpFile], { ...process.env, ...pgEnv(pg.url(target)) }, toolCpu);
  const drTest = () => timeDr(['backups', 'verify-restore', '--from', 'latest', '--scratch-url', pg.url('postgres'), '--jobs', '1'], env, probe, findProcess(S3RVER_PROCESS_TAG));
  for (let i = 1; i <= PAIRS; i++) {
    const drFirst = i % 2 === 1;
    let tool = 0;
    let dr: DrRun | undefined;
    const busy: number[] = [];
    for (const side of drFirst ? ['dr', 'tool'] : ['tool', 'dr']) {
      await pg.dropDatabase(target);
      if (side === 'tool') await pg.createDatabase(target);
      await settle(pg, [db]);
      busy.push(await waitForQuiet(QUIET, QUIET_WAIT_MS));
      if (side === 'dr') dr = await drTest();
      else tool = await pgRestore();
      await pg.dropDatabase(target);
    }
    const p: Pair = { drFirst, tool, toolCpu: toolCpu.seconds, dr: dr!, load: load(), busy };
    pairs.push(p);
    const engine = Number(p.dr.json.duration_seconds ?? 0);
    console.log(
      `  restore test pair ${i}/${PAIRS} (${drFirst ? 'dr first' : 'pg_restore first'}, ${others(p)}): dr verify-restore --jobs 1 ${fmt(p.dr.seconds)} (engine ${fmt(engine)}) vs pg_restore -j1 ${fmt(tool)} → ${(p.dr.seconds / tool).toFixed(3)} (engine ${(engine / tool).toFixed(3)}); ` +
        `peak RSS ${(p.dr.peakRssKb / 1024).toFixed(0)} MiB, disk writes ${mib(p.dr.writeBytes)}; ${cpu(p.dr)} (plain tool ${p.toolCpu.toFixed(1)})`,
    );
  }
  return pairs;
}

/** The restore pairs: each side into a fresh empty database, dropped right after. */
async function restorePairs(pg: PgCluster, db: string, env: Record<string, string>, dumpFile: string, probe: string): Promise<Pair[]> {
  const pairs: Pair[] = [];
  const target = `${db}_r`;
  const fresh = async () => {
    await pg.dropDatabase(target);
    await pg.createDatabase(target);
    await settle(pg, [db]);
  };
  const toolCpu = { seconds: 0 };
  const pgRestore = () => timeTool(findBinary('pg_restore'), ['--no-owner', '--exit-on-error', `--jobs=${JOBS}`, `--dbname=${target}`, dumpFile], { ...process.env, ...pgEnv(pg.url(target)) }, toolCpu);
  const drRestore = () => timeDr(['restore', 'postgres', '--from', 'latest', '--target-url', pg.url(target), '--jobs', String(JOBS)], env, probe, findProcess(S3RVER_PROCESS_TAG));
  for (let i = 1; i <= PAIRS; i++) {
    const drFirst = i % 2 === 1;
    let tool = 0;
    let dr: DrRun | undefined;
    const busy: number[] = [];
    for (const side of drFirst ? ['dr', 'tool'] : ['tool', 'dr']) {
      await fresh();
      busy.push(await waitForQuiet(QUIET, QUIET_WAIT_MS));
      if (side === 'dr') dr = await drRestore();
      else tool = await pgRestore();
      await pg.dropDatabase(target);
    }
    const p: Pair = { drFirst, tool, toolCpu: toolCpu.seconds, dr: dr!, load: load(), busy };
    pairs.push(p);
    const ph = p.dr.json.phases_ms ?? {};
    const engine = Number(p.dr.json.duration_seconds ?? 0);
    console.log(
      `  restore pair ${i}/${PAIRS} (${drFirst ? 'dr first' : 'pg_restore first'}, ${others(p)}): dr ${fmt(p.dr.seconds)} (engine ${fmt(engine)}) vs pg_restore -j${JOBS} ${fmt(tool)} → ${(p.dr.seconds / tool).toFixed(3)} (engine ${(engine / tool).toFixed(3)}); ` +
        `peak RSS ${(p.dr.peakRssKb / 1024).toFixed(0)} MiB, disk writes ${mib(p.dr.writeBytes)}; ${cpu(p.dr)} (plain tool ${p.toolCpu.toFixed(1)}); phases ms ${Object.entries(ph).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
  }
  return pairs;
}

async function measure(pg: PgCluster, s3: S3Server, dataset: Dataset, scale: number): Promise<Series> {
  if (!(await pg.query<{ n: string }>('SELECT count(*) AS n FROM pg_database WHERE datname = $1', 'postgres', [databaseName(dataset, scale)]))[0].n.startsWith('1')) checkDisk(scale);
  const db = await ensureDatabase(pg, dataset, scale, console.log);
  const dbBytes = Number((await pg.query<{ s: string }>('SELECT pg_database_size($1) AS s', 'postgres', [db]))[0].s);
  const bucket = `bench-${dataset}-${scale}`;
  const env = { ...process.env, ...s3.env, DR_BACKUP_BUCKET: bucket } as Record<string, string>;
  const dumpFile = path.join(WORK, `${db}.dump`);
  const probe = path.join(WORK, 'probe.json');
  console.log(`\n${dataset}, scale ${scale}: database ${(dbBytes / GB).toFixed(2)} GB, pg_restore -j${JOBS}, ${PAIRS} pairs, load average ${load().toFixed(2)}`);
  // Warm the page cache and the tools equally for both sides (not measured).
  await timeTool(findBinary('pg_dump'), ['--format=custom', '--compress=6', '-f', dumpFile], { ...process.env, ...pgEnv(pg.url(db)) });
  try {
    const backup = await backupPairs(pg, db, env, dumpFile, probe);
    const dumpBytes = fs.statSync(dumpFile).size;
    const restore = await restorePairs(pg, db, env, dumpFile, probe);
    const restoreTest = await restoreTestPairs(pg, db, env, dumpFile, probe);
    return { dataset, scale, dbBytes, dumpBytes, backup, restore, restoreTest };
  } finally {
    fs.rmSync(dumpFile, { force: true });
  }
}

const ratio = (p: Pair) => p.dr.seconds / p.tool;
const engineRatio = (p: Pair, kind: Op) => (kind === 'backup' ? (p.dr.json.phases_ms?.total ?? 0) / 1000 : Number(p.dr.json.duration_seconds ?? 0)) / p.tool;

/** The markdown tables of the run: per pair, the median and the spread, per GB, peak RSS. */
function report(all: Series[]): void {
  const lines: string[] = ['', '## Results', ''];
  const pairs = all.flatMap((s) => OPS.flatMap((op) => s[op]));
  const busy = pairs.flatMap((p) => p.busy).map((b) => b * 100);
  lines.push(
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / GB).toFixed(0)} GB RAM; pg_restore -j${JOBS}; ABBA pairs; ` +
      `other users' load when an operation started: ${Math.min(...busy).toFixed(0)}–${Math.max(...busy).toFixed(0)} % of the CPUs busy (median ${median(busy).toFixed(0)} %); ` +
      `load average ${Math.min(...pairs.map((p) => p.load)).toFixed(2)}–${Math.max(...pairs.map((p) => p.load)).toFixed(2)}.`,
    '',
  );
  lines.push('| dataset | scale | DB GB | dump MiB | op | per-pair ratio (dr process / tool) | median | spread | engine median | tool median s | dr median s | dr s/GB | client CPU s dr / tool | peak RSS MiB | disk writes MiB |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of all) {
    for (const kind of OPS) {
      const pairs = s[kind];
      const rs = pairs.map(ratio);
      const drMedian = median(pairs.map((p) => p.dr.seconds));
      lines.push(
        `| ${s.dataset} | ${s.scale} | ${(s.dbBytes / GB).toFixed(2)} | ${(s.dumpBytes / 1048576).toFixed(0)} | ${OP_LABEL[kind]} | ${rs.map((r) => r.toFixed(3)).join(', ')} | **${median(rs).toFixed(3)}** | ${Math.min(...rs).toFixed(3)}–${Math.max(...rs).toFixed(3)} | ${median(pairs.map((p) => engineRatio(p, kind))).toFixed(3)} | ${median(pairs.map((p) => p.tool)).toFixed(2)} | ${drMedian.toFixed(2)} | ${(drMedian / (s.dbBytes / GB)).toFixed(1)} | ${median(pairs.map((p) => drCpu(p.dr))).toFixed(1)} / ${median(pairs.map((p) => p.toolCpu)).toFixed(1)} | ${Math.max(...pairs.map((p) => p.dr.peakRssKb / 1024)).toFixed(0)} | ${median(pairs.map((p) => p.dr.writeBytes / 1048576)).toFixed(1)} |`,
      );
    }
  }
  lines.push('', 'Goals: backup ≤ 1.10 × pg_dump -Fc to a local file, restore ≤ 1.10 × pg_restore -j N from a local file (medians). The restore test (streamed, one job) is compared with pg_restore -j1 from a local file.');
  lines.push(...growth(all));
  console.log(lines.join('\n'));
}

/** Time per GB and peak RSS as the database grows: each dataset's smallest and largest scale side by side. */
function growth(all: Series[]): string[] {
  const lines: string[] = [];
  for (const dataset of DATASETS) {
    const s = all.filter((x) => x.dataset === dataset).sort((a, b) => a.dbBytes - b.dbBytes);
    if (s.length < 2) continue;
    const [a, b] = [s[0], s[s.length - 1]];
    lines.push('', `Growth, ${dataset} (${(a.dbBytes / GB).toFixed(2)} → ${(b.dbBytes / GB).toFixed(2)} GB):`);
    for (const op of OPS) {
      const perGb = (x: Series) => median(x[op].map((p) => p.dr.seconds)) / (x.dbBytes / GB);
      const rss = (x: Series) => Math.max(...x[op].map((p) => p.dr.peakRssKb / 1024));
      lines.push(`  ${OP_LABEL[op]}: ${perGb(a).toFixed(1)} → ${perGb(b).toFixed(1)} s/GB; peak RSS ${rss(a).toFixed(0)} → ${rss(b).toFixed(0)} MiB`);
    }
  }
  return lines;
}

async function main(): Promise<void> {
  validateEnv();
  const pg = await cluster();
  const s3dir = path.join(WORK, 's3');
  fs.rmSync(s3dir, { recursive: true, force: true });
  const s3 = await startS3Server({ buckets: DATASET_LIST.flatMap((d) => SCALES.map((s) => `bench-${d}-${s}`)), dir: s3dir, inProcess: false, env: process.env });
  const all: Series[] = [];
  try {
    for (const scale of SCALES) {
      for (const dataset of DATASET_LIST) {
        all.push(await measure(pg, s3, dataset, scale));
        if (KEEP === 'none' || (KEEP === 'small' && scale > 70)) await pg.dropDatabase(databaseName(dataset, scale));
      }
    }
    report(all);
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
