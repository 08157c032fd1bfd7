/**
 * Readiness in the local rehearsal: `dr readiness --local` (one run of the engine over the environment's real
 * services) and the drill's `--scenario readiness`: break one thing at a time, show that the right named check
 * catches it in ONE run, repair it, and run until the verdict is ready again.
 *
 *   wal-receiver   stop the standby's WAL receiver (primary_conninfo emptied, reloaded)   → database.replicating
 *   backup-b       delete the newest backup from b's bucket (data and manifest)           → backups.newest
 *   backup-token   revoke a backup (not active) token of the Discord bot on its fake API   → bots.tokens
 *   redis-b        SIGKILL b's Redis                                                       → cache.replica-link
 */
import { killRegion, platformControl, restartRegion } from './environment';
import { LocalEnv } from '../adapters/rehearsal/local-env';
import { localReadinessObserver } from '../adapters/rehearsal/readiness-observer';
import type { LocalState } from '../adapters/rehearsal/state';
import { S3Store } from '../adapters/aws/s3-store';
import { TokenFileStore } from '../adapters/tools/token-file-store';
import { listBackups, type ObjectStore } from '../backup/index';
import { sleep } from '../core/clock';
import { OperationError } from '../core/errors';
import { runReadiness, type ReadinessReport, type Verdict } from '../readiness/index';

/** One readiness run over the rehearsal. */
export function localReadiness(state: LocalState): Promise<ReadinessReport> {
  return runReadiness(localReadinessObserver(state, { store: (bucket) => new S3Store({ bucket, env: s3Env(state) }) }));
}

export const READINESS_BREAKS = [
  { name: 'wal-receiver', check: 'database.replicating', what: "stop the standby's WAL receiver (b)" },
  { name: 'backup-b', check: 'backups.newest', what: "delete the newest backup from b's bucket" },
  { name: 'backup-token', check: 'bots.tokens', what: 'revoke a backup token (moderation, token 1)' },
  { name: 'redis-b', check: 'cache.replica-link', what: "kill b's Redis" },
] as const;
export type ReadinessBreak = (typeof READINESS_BREAKS)[number]['name'];

export interface ReadinessBreakResult {
  break: ReadinessBreak;
  what: string;
  /** The check that must catch it. */
  check: string;
  /** That check failed in the first run after the break. */
  caught: boolean;
  /** Its reason in that run (or what the run said instead). */
  reason: string;
  /** The verdict of that run. */
  verdict: Verdict;
  /** From the break to the end of the run that caught it. */
  detect_seconds: number;
  /** From the repair to the end of the first run that was ready again (null: not ready within the timeout). */
  repair_seconds: number | null;
  /** Readiness runs until ready again. */
  runs_to_ready: number;
}

export interface ReadinessDrillResult {
  baseline: Verdict;
  /** Failed or warned checks of the baseline run (empty when ready). */
  baseline_problems: string[];
  breaks: ReadinessBreakResult[];
  final: Verdict;
  /** Duration of each readiness run (ms) and its local/platform calls. */
  runs: Array<{ ms: number; local: number; platform: number }>;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** What a break changes and how it is undone. */
interface Breaker {
  inject(): Promise<void>;
  repair(): Promise<void>;
}

/** The environment's S3 server (fixed local credentials). */
function s3Env(st: LocalState): Record<string, string> {
  return { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${st.s3.port}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
}

function s3Store(st: LocalState, region: 'a' | 'b'): ObjectStore {
  return new S3Store({ bucket: st.regions[region].bucket, env: s3Env(st) });
}

function breaker(st: LocalState, name: ReadinessBreak): Breaker {
  const env = new LocalEnv(st);
  switch (name) {
    case 'wal-receiver': {
      let conninfo = '';
      return {
        inject: async () => {
          conninfo = (await env.superQuery<{ primary_conninfo: string }>('b', 'SHOW primary_conninfo'))[0].primary_conninfo;
          await env.superQuery('b', "ALTER SYSTEM SET primary_conninfo = ''");
          await env.superQuery('b', 'SELECT pg_reload_conf()');
          await until(async () => (await env.superQuery('b', 'SELECT 1 FROM pg_stat_wal_receiver')).length === 0, 10_000, "b's WAL receiver did not stop");
        },
        repair: async () => {
          await env.superQuery('b', `ALTER SYSTEM SET primary_conninfo = '${conninfo.replace(/'/g, "''")}'`);
          await env.superQuery('b', 'SELECT pg_reload_conf()');
        },
      };
    }
    case 'backup-b': {
      const removed: string[] = [];
      return {
        inject: async () => {
          const newest = (await listBackups(s3Store(st, 'b'), { service: 'postgresql', tier: 'daily' })).filter((e) => e.complete).at(-1);
          if (!newest) throw new OperationError("b's bucket holds no daily PostgreSQL backup to delete");
          removed.push(newest.dataKey, newest.manifestKey);
          await s3Store(st, 'b').delete(removed);
        },
        repair: async () => {
          // The rehearsal's stand-in for S3 replication: copy them back from a (data first, then the manifest).
          for (const key of removed) await s3Store(st, 'b').upload(key, await s3Store(st, 'a').get(key));
        },
      };
    }
    case 'backup-token': {
      let token = '';
      return {
        inject: async () => {
          token = (await new TokenFileStore({ file: st.tokens_file! }).read('moderation')).record.tokens[1];
          await platformControl(st).revoke(token);
        },
        repair: async () => void (await platformControl(st).restore(token)),
      };
    }
    case 'redis-b':
      return {
        inject: () => killRegion(st, 'b', { database: false, cache: true }),
        repair: () => restartRegion(st, 'b', { database: false, cache: true }),
      };
  }
}

async function until(fn: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new OperationError(message);
    await sleep(50);
  }
}

/**
 * The readiness scenario on a running environment whose newest backups are in both buckets: a ready baseline, then
 * each break caught by its check within one run, repaired, and ready again (runs every 250 ms, up to
 * `repairTimeoutMs`). Throws when the baseline is not ready (nothing would be shown by breaking it further).
 */
export async function readinessDrill(st: LocalState, o: { log?: (l: string) => void; repairTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<ReadinessDrillResult> {
  const runs: ReadinessDrillResult['runs'] = [];
  const run = async () => {
    const r = await localReadiness(st);
    runs.push({ ms: r.duration_ms, local: r.calls.local, platform: r.calls.platform });
    return r;
  };
  const base = await run();
  const problems = base.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name} ${c.status}: ${c.resource}: ${c.reason}`);
  if (base.verdict !== 'ready') throw new OperationError(`the environment is not ready before the breaks (${base.verdict}): ${problems.join('; ')}`);
  o.log?.(`readiness before the breaks: ready (${base.checks.length} results in ${base.duration_ms} ms)`);
  const breaks: ReadinessBreakResult[] = [];
  for (const b of READINESS_BREAKS) {
    if (o.signal?.aborted) break;
    const k = breaker(st, b.name);
    const t0 = Date.now();
    await k.inject();
    const caughtBy = await run();
    const detect = (Date.now() - t0) / 1000;
    const hit = caughtBy.checks.find((c) => c.name === b.check && c.status === 'fail');
    o.log?.(`${b.what}: ${hit ? `caught by ${b.check}` : `NOT caught by ${b.check}`} (${caughtBy.verdict}) in ${round2(detect)} s${hit ? `: ${hit.reason}` : ''}`);
    const t1 = Date.now();
    await k.repair();
    let ready: ReadinessReport | undefined;
    let n = 0;
    const deadline = t1 + (o.repairTimeoutMs ?? 20_000);
    while (Date.now() < deadline && !o.signal?.aborted) {
      n++;
      const r = await run();
      if (r.verdict === 'ready') {
        ready = r;
        break;
      }
      await sleep(250);
    }
    const repair = ready ? (Date.now() - t1) / 1000 : null;
    o.log?.(`  repaired: ${ready ? `ready again after ${round2(repair!)} s (${n} run${n === 1 ? '' : 's'})` : `not ready within ${(o.repairTimeoutMs ?? 20_000) / 1000} s`}`);
    breaks.push({ break: b.name, what: b.what, check: b.check, caught: !!hit, reason: hit?.reason ?? (caughtBy.checks.filter((c) => c.status === 'fail').map((c) => `${c.name}: ${c.reason}`).join('; ') || 'nothing failed'), verdict: caughtBy.verdict, detect_seconds: round2(detect), repair_seconds: repair === null ? null : round2(repair), runs_to_ready: n });
  }
  const final = await run();
  return { baseline: base.verdict, baseline_problems: problems, breaks, final: final.verdict, runs };
}
