/**
 * `dr failback` on AWS, step `divergent` (after `preserve`, before `retarget` and `rebuild`): what the old primary
 * accepted after the split is recorded as a divergent backup in the SURVIVOR's backup bucket (the one that served
 * during the incident; it replicates back to home) before the home stack replaces the instance with a replica.
 *
 * - The old primary answers SQL (`--primary-db-url` reaches it: no network fence, or `dr` runs inside the VPC):
 *   the backup engine's `backupDivergent` — pg_dump into `divergent/…dump`, the comparison with the survivor by
 *   primary key, a restore check in a scratch database on the survivor — with the pre-failback snapshot recorded
 *   beside it.
 * - It does not (the failover's security-group fence removes the network path: the usual case): the snapshot that
 *   `preserve` took and waited for is the divergent copy; `recordDivergentSnapshot` writes its pointer and manifest,
 *   saying why nothing was compared. Reading it means restoring the snapshot into a scratch instance.
 *
 * The split point comes from the failover journal (the failover that promoted the survivor: when, and the final LSN
 * when its catch-up read one): RDS gives no access to the timeline history or the WAL.
 * Check first: a divergent record of this snapshot already in the bucket → `done-before`.
 */
import { backupDivergent, describeDivergent, type DivergentBackupResult, divergentSummary, type DivergenceProbe, type DivergentSummary, findDivergent, type ObjectStore, type PgTools, recordDivergentSnapshot, type ScratchDatabases, type SplitPoint, type TempFiles } from '../backup/index';
import type { Clock } from '../core/clock';
import { DrError, errorSummary, OperationError } from '../core/errors';

/** Our own errors by their message; anything else (SDK, driver) as `Name: message`. */
const why = (err: unknown): string => (err instanceof DrError ? err.message : errorSummary(err));
import { redact } from '../core/redact';
import { type JournalPort, readAll, stepDone } from '../failover/index';
import { withDatabase } from '../adapters/tools/pg-tools';

export interface AwsDivergentOptions {
  /** The survivor's backup bucket. */
  store: ObjectStore;
  home: { region: string; dbIdentifier: string };
  survivor: { region: string };
  /** The pre-failback snapshot `preserve` took (available). */
  snapshot: string;
  /** SQL reach per side (`--primary-db-url` / `--secondary-db-url`), when given. */
  urls: { home?: string; survivor?: string };
  tools: PgTools & ScratchDatabases;
  probe: DivergenceProbe;
  temp: TempFiles;
  /** The failover journal (the survivor's bucket + the local copy). */
  journal: JournalPort;
  clock: Clock;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface AwsDivergentOutcome {
  status: 'ok' | 'done-before';
  detail: string;
  summary: DivergentSummary;
}

/** The split point from the journal: the latest failover home → survivor whose promotion is done. */
export async function journalSplit(journal: JournalPort, home: string, survivor: string): Promise<{ split: SplitPoint; failoverId?: string }> {
  const all = await readAll(journal).catch(() => []);
  const fo = [...all].reverse().find((s) => s.begin?.from === home && s.begin.to === survivor && stepDone(s, 'promote-database'));
  if (!fo) return { split: { source: 'unknown', detail: `no failover ${home} → ${survivor} with a done promotion in ${journal.location}` } };
  const finalLsn = fo.steps['catch-up']?.data?.final_lsn;
  return {
    failoverId: fo.id,
    split: {
      source: 'journal',
      promoted_at: fo.steps['promote-database']!.at,
      ...(typeof finalLsn === 'string' ? { lsn: finalLsn } : {}),
      detail: `failover ${fo.id}: ${fo.begin!.mode} ${fo.begin!.incident}, ${survivor} promoted at ${fo.steps['promote-database']!.at}`,
    },
  };
}

/** Why the old primary cannot be compared by SQL, or undefined when it answers. */
async function unreachableReason(o: AwsDivergentOptions): Promise<string | undefined> {
  if (!o.urls.home) return 'no SQL reach into the old primary (--primary-db-url not given)';
  if (!o.urls.survivor) return 'no SQL reach into the survivor (--secondary-db-url not given)';
  try {
    await o.tools.ping(o.urls.home);
    return undefined;
  } catch (err) {
    return `the old primary does not answer SQL (${redact(why(err))}; the failover's network fence removes its network path)`;
  }
}

/** Record the old primary's divergent copy (see the header); a failure says that nothing was rebuilt. */
export async function awsDivergent(o: AwsDivergentOptions): Promise<AwsDivergentOutcome> {
  try {
    return await recordOrBackUp(o);
  } catch (err) {
    throw new OperationError(`${redact(why(err))}. The failback stopped before the rebuild: ${o.home.dbIdentifier} and the home stack are unchanged (snapshot ${o.snapshot} is kept); fix the cause and rerun dr failback`, undefined, { cause: err });
  }
}

async function recordOrBackUp(o: AwsDivergentOptions): Promise<AwsDivergentOutcome> {
  const log = o.log ?? (() => undefined);
  const t0 = Date.now();
  const before = await findDivergent(o.store, (m) => m.divergence?.old_primary.snapshot === o.snapshot && m.restorability !== 'FAILED');
  if (before) {
    const summary = divergentSummary({ ...before, durationSeconds: 0 }, o.store.location);
    return { status: 'done-before', detail: `already recorded: ${describeDivergent(summary)}`, summary };
  }
  const { split, failoverId } = await journalSplit(o.journal, o.home.region, o.survivor.region);
  const context = { ...(failoverId ? { failoverId } : {}), oldRegion: o.home.region, survivorRegion: o.survivor.region, split, snapshot: o.snapshot };
  const reason = await unreachableReason(o);
  let r: DivergentBackupResult;
  if (reason) {
    log(`divergent: ${reason}; the pre-failback snapshot ${o.snapshot} is the divergent copy`);
    r = await recordDivergentSnapshot({ store: o.store, clock: o.clock, context, dbIdentifier: o.home.dbIdentifier, reason, log });
  } else {
    r = await backupDivergent({
      oldPrimaryUrl: o.urls.home!,
      survivorUrl: o.urls.survivor!,
      scratchServerUrl: withDatabase(o.urls.survivor!, 'postgres'),
      store: o.store,
      tools: o.tools,
      scratch: o.tools,
      probe: o.probe,
      temp: o.temp,
      clock: o.clock,
      context,
      log,
      signal: o.signal,
    });
  }
  const summary = divergentSummary({ ...r, durationSeconds: (Date.now() - t0) / 1000 }, o.store.location);
  return { status: 'ok', detail: describeDivergent(summary), summary };
}
