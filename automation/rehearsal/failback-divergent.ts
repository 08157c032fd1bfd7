/**
 * `dr failback --local`, before `pg_rewind`: the old primary's current state becomes a verified divergent backup in
 * the SURVIVOR's bucket (the region that served during the incident, whose bucket is the one that was up; on AWS
 * the same choice: the survivor's backup bucket, replicated back to home).
 *
 *   1. the old primary is started if it is down (crash recovery on its own timeline: nothing is lost by that) and
 *      fenced through the split-brain guard (read-only, application refused) before anything reads it;
 *   2. the split point from the survivor's timeline history, the old primary's WAL position, and pg_waldump's
 *      commits after the split (adapters/rehearsal/pg-timeline.ts);
 *   3. the backup engine's {@link backupDivergent}: dump, comparison by primary key, manifest, restore check.
 *
 * Any failure throws: the caller rewinds nothing.
 */
import { S3Store } from '../adapters/aws/s3-store';
import { localPorts } from '../adapters/rehearsal/index';
import { LocalEnv } from '../adapters/rehearsal/local-env';
import { localSplitPoint, waldumpCommits } from '../adapters/rehearsal/pg-timeline';
import type { LocalState, RegionName } from '../adapters/rehearsal/state';
import { PgDivergenceProbe } from '../adapters/tools/pg-divergence';
import { LocalPgTools } from '../adapters/tools/pg-tools';
import { localTempFiles } from '../adapters/tools/temp-files';
import { backupDivergent, describeDivergent, divergentSummary, type DivergentSummary } from '../backup/index';
import { systemClock } from '../core/clock';
import { redact } from '../core/redact';
import { DrError, errorSummary, OperationError } from '../core/errors';

/** Our own errors by their message; anything else (SDK, driver) as `Name: message`. */
const why = (err: unknown): string => (err instanceof DrError ? err.message : errorSummary(err));
import { guardOldPrimary, readAll, stepDone } from '../failover/index';
import { restartRegion } from './environment';

export type { DivergentSummary };

/** The environment's S3 endpoint and its fixed local credentials. */
export function localS3Env(st: LocalState): Record<string, string> {
  return { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${st.s3.port}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
}

/** Start the old primary if it is down, and make sure it is fenced before anything reads it. */
async function readyOldPrimary(state: LocalState, home: RegionName, log: (l: string) => void): Promise<'primary' | 'standby'> {
  const ports = localPorts(state);
  if ((await ports.database.role(home)) === 'unreachable') {
    try {
      await restartRegion(state, home, { database: true, cache: false });
    } catch (err) {
      throw new OperationError(`the old primary in ${home} does not start (${why(err)}): its writes after the split cannot be backed up, so nothing was rewound; start it by hand (its data directory is untouched) and rerun dr failback`);
    }
    log(`database ${home}: old primary started for the divergent backup (crash recovery on its own timeline)`);
  }
  const role = await ports.database.role(home);
  if (role === 'unreachable') throw new OperationError(`the old primary in ${home} does not answer: nothing was rewound`);
  if (role === 'standby') return role;
  await guardOldPrimary(ports, ports.journal, { log });
  if (!(await ports.database.isFenced(home))) await ports.database.fence(home, { log });
  return role;
}

/**
 * Back the old primary in `home` up as a verified divergent backup in `survivor`'s bucket; undefined when `home`
 * is already a standby (a previous failback rebuilt it: nothing of its own is left to keep).
 */
export async function preserveDivergent(state: LocalState, home: RegionName, survivor: RegionName, o: { log?: (line: string) => void; signal?: AbortSignal } = {}): Promise<DivergentSummary | undefined> {
  const log = o.log ?? (() => undefined);
  const t0 = Date.now();
  if ((await readyOldPrimary(state, home, log)) === 'standby') {
    log(`database ${home}: already a standby, nothing of its own to keep`);
    return undefined;
  }
  try {
    return await backUp(state, home, survivor, log, t0, o.signal);
  } catch (err) {
    throw new OperationError(`failback stopped before pg_rewind: ${redact(why(err))}. Nothing was rewound: the old primary in ${home} still holds its data (fenced); fix the cause and rerun dr failback`, undefined, { cause: err });
  }
}

async function backUp(state: LocalState, home: RegionName, survivor: RegionName, log: (line: string) => void, t0: number, signal: AbortSignal | undefined): Promise<DivergentSummary> {
  const env = new LocalEnv(state);
  const probe = new PgDivergenceProbe();
  const db = state.app.database;
  const oldUrl = env.superUrl(home, db);
  const position = await probe.walPosition(oldUrl);
  const split = await localSplitPoint(env, survivor, position.timeline);
  const commits = split.lsn ? await waldumpCommits(env, home, position.timeline, split.lsn, position.lsn) : { error: `no split LSN (${split.detail ?? split.source})` };
  const failover = [...(await readAll(localPorts(state).journal))].reverse().find((s) => s.begin?.from === home && stepDone(s, 'promote-database'));
  const store = new S3Store({ bucket: state.regions[survivor].bucket, env: localS3Env(state) });
  const tools = new LocalPgTools();
  const r = await backupDivergent({
    oldPrimaryUrl: oldUrl,
    survivorUrl: env.superUrl(survivor, db),
    scratchServerUrl: env.superUrl(survivor),
    store,
    tools,
    scratch: tools,
    probe,
    temp: localTempFiles(state.dir),
    clock: systemClock,
    context: { ...(failover ? { failoverId: failover.id } : {}), oldRegion: home, survivorRegion: survivor, split, commits },
    log,
    signal,
  });
  const summary = divergentSummary({ ...r, durationSeconds: (Date.now() - t0) / 1000 }, store.location);
  log(`database ${home}: ${describeDivergent(summary)}`);
  return summary;
}
