/**
 * Where the local survivor left the old primary's history, and what the old primary committed after that (failback's
 * divergent backup):
 *
 * - the split point: the survivor's current timeline (from its WAL file name) and its timeline history file
 *   `pg_wal/0000000N.history`, read through SQL (`pg_read_file`, superuser): the line whose parent is the old
 *   primary's timeline gives the LSN where the survivor left it;
 * - the transactions after it: `pg_waldump -r Transaction` over the old primary's `pg_wal` from the split LSN to
 *   its current position, as the PostgreSQL OS user (the data directory is private to it).
 *
 * RDS has neither file: on AWS the split point comes from the failover journal (ops/divergent.ts).
 */
import * as path from 'node:path';
import { parseTimelineHistory, parseWaldumpCommits, type SplitPoint, splitFromHistory, walBytesBetween, type WalCommit, walFileTimeline } from '../../backup/index';
import { errorSummary } from '../../core/errors';
import { LocalEnv } from './local-env';
import { PgCluster } from './pg-cluster';
import type { RegionName } from './state';

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

/** The split between the old primary (on `oldTimeline`) and the survivor, from the survivor's timeline history. */
export async function localSplitPoint(env: LocalEnv, survivor: RegionName, oldTimeline: number): Promise<SplitPoint> {
  try {
    const f = (await env.superQuery<{ f: string }>(survivor, 'SELECT pg_walfile_name(pg_current_wal_lsn()) AS f'))[0].f;
    const tli = walFileTimeline(f);
    if (!(tli > 1)) return { source: 'unknown', detail: `the survivor ${survivor} is on timeline ${tli}: it has no history of a promotion` };
    const file = `pg_wal/${hex8(tli)}.history`;
    const text = (await env.superQuery<{ h: string }>(survivor, 'SELECT pg_read_file($1) AS h', [file]))[0].h;
    const split = splitFromHistory(parseTimelineHistory(text), tli, oldTimeline);
    if (!split) return { source: 'unknown', detail: `the survivor's ${file} does not pass through the old primary's timeline ${oldTimeline}` };
    return { source: 'timeline-history', ...split, detail: `${survivor}:${file}` };
  } catch (err) {
    return { source: 'unknown', detail: `could not read the survivor's timeline history: ${errorSummary(err)}` };
  }
}

/** Commit records in `region`'s WAL on `timeline` from `fromLsn` to `toLsn` (empty when nothing follows the split). */
export async function waldumpCommits(env: LocalEnv, region: RegionName, timeline: number, fromLsn: string, toLsn: string): Promise<WalCommit[] | { error: string }> {
  const bytes = walBytesBetween(fromLsn, toLsn);
  if (bytes === undefined) return { error: `malformed WAL positions ${fromLsn} .. ${toLsn}` };
  if (bytes <= 0) return [];
  const s = env.state;
  const c = PgCluster.open(s.regions[region].postgres.dir, s.secrets.pg_superuser_password, { osUser: s.pg_os_user });
  try {
    const out = await c.tool('pg_waldump', ['-p', path.join(c.dataDir, 'pg_wal'), '-t', String(timeline), '-s', fromLsn, '-e', toLsn, '-r', 'Transaction']);
    return parseWaldumpCommits(out);
  } catch (err) {
    return { error: `pg_waldump: ${errorSummary(err).split('\n')[0]}` };
  }
}
