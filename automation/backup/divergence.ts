/**
 * What an old primary holds that the survivor does not — the pure half of failback's divergent backup:
 *
 * - the split point: where the survivor left the old primary's timeline, from the survivor's timeline history
 *   file (`0000000N.history`: `<parent timeline> <switch LSN> <reason>` per line);
 * - pg_waldump's commit records on the old primary after that point (the transactions the survivor never saw);
 * - the comparison of the two databases by primary key: rows are bucketed by a hash of their key, only buckets
 *   whose digests differ are fetched, and the fetched rows are diffed by key and row digest;
 * - the manifest's `divergence` section built from those (counts, bounded key lists, where the rows are kept).
 *
 * No I/O here: the SQL lives in adapters/tools/pg-divergence.ts, pg_waldump in the rehearsal adapters.
 */

/** Primary-key values listed per table (the counts are always complete). */
export const KEYS_LISTED = 1000;
/** Transactions listed in the manifest (the count is always complete). */
export const TRANSACTIONS_LISTED = 1000;

/** Where the survivor's history left the old primary's. */
export interface SplitPoint {
  /**
   * `timeline-history`: the survivor's timeline history file (the LSN where it left the old primary's timeline).
   * `journal`: the failover journal (the promotion time, and the final LSN when a catch-up read one): AWS, where
   * RDS gives no access to WAL or history files. `unknown`: neither answered (`detail` says why).
   */
  source: 'timeline-history' | 'journal' | 'unknown';
  /** The LSN where the timelines split (writes of the old primary after it never reached the survivor). */
  lsn?: string;
  /** The old primary's timeline, and the one the survivor started at promotion. */
  from_timeline?: number;
  to_timeline?: number;
  /** When the survivor was promoted (journal, ISO 8601). */
  promoted_at?: string;
  detail?: string;
}

/** One line of a timeline history file: `parent` ended at `lsn` (the next timeline began there). */
export interface TimelineSwitch {
  parent: number;
  lsn: string;
  reason: string;
}

/** Parse a timeline history file (`pg_wal/0000000N.history`); blank and `#` lines are skipped. */
export function parseTimelineHistory(text: string): TimelineSwitch[] {
  const out: TimelineSwitch[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\d+)\s+([0-9A-Fa-f]+\/[0-9A-Fa-f]+)\s*(.*)$/.exec(line);
    if (m) out.push({ parent: Number(m[1]), lsn: m[2].toUpperCase(), reason: m[3].trim() });
  }
  return out;
}

/**
 * The split between the old primary's timeline and a survivor now on `currentTimeline`, from the survivor's history:
 * the line whose parent is the old primary's timeline. Undefined when the survivor's history never passed through
 * it (the two servers share no timeline: nothing to compare by WAL position).
 */
export function splitFromHistory(history: readonly TimelineSwitch[], currentTimeline: number, oldTimeline: number): Required<Pick<SplitPoint, 'lsn' | 'from_timeline' | 'to_timeline'>> | undefined {
  const i = history.findIndex((h) => h.parent === oldTimeline);
  if (i < 0) return undefined;
  return { lsn: history[i].lsn, from_timeline: oldTimeline, to_timeline: i + 1 < history.length ? history[i + 1].parent : currentTimeline };
}

/** The timeline of a WAL file name (`000000020000000000000003` → 2). */
export function walFileTimeline(walFile: string): number {
  if (!/^[0-9A-Fa-f]{24}$/.test(walFile)) return Number.NaN;
  return parseInt(walFile.slice(0, 8), 16);
}

function lsnValue(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn.trim());
  if (!m) return -1n;
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

/** Bytes of WAL from `from` to `to` (negative when `to` is before `from`); undefined for a malformed LSN. */
export function walBytesBetween(from: string, to: string): number | undefined {
  const a = lsnValue(from);
  const b = lsnValue(to);
  if (a < 0n || b < 0n) return undefined;
  return Number(b - a);
}

/** A transaction's commit record in the old primary's WAL. */
export interface WalCommit {
  xid: string;
  lsn: string;
  /** The commit timestamp pg_waldump prints (the server's time zone). */
  committed_at?: string;
}

/** Commit records from `pg_waldump -r Transaction` output (aborts and other records are ignored). */
export function parseWaldumpCommits(text: string): WalCommit[] {
  const out: WalCommit[] = [];
  for (const line of text.split('\n')) {
    const m = /rmgr: Transaction\b.*?\btx:\s*(\d+),\s*lsn:\s*([0-9A-Fa-f]+\/[0-9A-Fa-f]+),.*?desc: COMMIT(?:_PREPARED)?\s+(\d{4}-\d{2}-\d{2} [0-9:.]+(?: [A-Z+\-0-9]+)?)?/.exec(line);
    if (!m || m[1] === '0') continue;
    out.push({ xid: m[1], lsn: m[2].toUpperCase(), ...(m[3] ? { committed_at: m[3].trim() } : {}) });
  }
  return out;
}

// --- comparison by primary key ----------------------------------------------------------------------------------

/** One row as the comparison sees it: its primary key as text, a digest of the whole row, and its xmin. */
export interface RowDigest {
  key: string;
  digest: string;
  /** The transaction that wrote this version of the row (old primary side). */
  xmin?: string;
}

/** A bucket of a table's rows (hash of the key text modulo the bucket count). */
export interface BucketDigest {
  rows: number;
  digest: string;
}

/** About 64 rows per bucket, between 1 and 16384 buckets: a few differing rows fetch a few buckets. */
export function bucketCount(rowsA: number, rowsB: number): number {
  return Math.min(16384, Math.max(1, Math.ceil(Math.max(rowsA, rowsB, 0) / 64)));
}

/** Buckets whose row count or digest differ between the two sides (a bucket on one side only differs). */
export function differingBuckets(a: Readonly<Record<string, BucketDigest>>, b: Readonly<Record<string, BucketDigest>>): number[] {
  const out: number[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k];
    const y = b[k];
    if (!x || !y || x.rows !== y.rows || x.digest !== y.digest) out.push(Number(k));
  }
  return out.sort((p, q) => p - q);
}

export interface TableDiff {
  /** Rows whose key the survivor does not have: written on the old primary after the split (lost writes). */
  onlyOld: RowDigest[];
  /** Rows both have with different content (the old primary's version). */
  changed: RowDigest[];
  /** Keys only the survivor has (written there after the failover, or deleted on the old primary): counted only. */
  onlySurvivor: number;
}

const byKey = (x: RowDigest, y: RowDigest) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);

/** Diff two sets of rows by primary key (the old primary's rows first). Results are sorted by key. */
export function diffRows(oldRows: readonly RowDigest[], survivorRows: readonly RowDigest[]): TableDiff {
  const survivor = new Map(survivorRows.map((r) => [r.key, r.digest]));
  const old = new Set(oldRows.map((r) => r.key));
  const onlyOld: RowDigest[] = [];
  const changed: RowDigest[] = [];
  for (const r of oldRows) {
    const d = survivor.get(r.key);
    if (d === undefined) onlyOld.push(r);
    else if (d !== r.digest) changed.push(r);
  }
  let onlySurvivor = 0;
  for (const k of survivor.keys()) if (!old.has(k)) onlySurvivor++;
  return { onlyOld: onlyOld.sort(byKey), changed: changed.sort(byKey), onlySurvivor };
}

/** Where a table's divergent rows can be found: the dump object (and its table), or the RDS snapshot. */
export interface FoundIn {
  key?: string;
  snapshot?: string;
  table: string;
}

/** One table of the `divergence` section. */
export interface DivergentTable {
  table: string;
  /** Primary-key columns in key order; empty: the table has none and was compared by row count only. */
  primary_key: string[];
  rows_old_primary: number;
  rows_survivor: number | null;
  /** Keys only the old primary has: the writes the survivor never received. */
  only_on_old_primary: number;
  /** Keys on both with different rows (the old primary's version is in the backup). */
  changed: number;
  /** Keys only the survivor has (not lost: written there after the failover, or deleted on the old primary). */
  only_on_survivor: number;
  /** The primary-key values (as text) of the differing rows, at most {@link KEYS_LISTED} in all. */
  keys: { only_on_old_primary: string[]; changed: string[]; truncated: boolean };
  found_in: FoundIn;
  note?: string;
}

/** The table's section entry from a diff (`undefined` diff: not compared by key, `note` says why). */
export function divergentTable(
  t: { table: string; primaryKey: string[]; rowsOld: number; rowsSurvivor: number | null; diff?: TableDiff; note?: string },
  foundIn: FoundIn,
  limit = KEYS_LISTED,
): DivergentTable {
  const d = t.diff ?? { onlyOld: [], changed: [], onlySurvivor: 0 };
  const old = d.onlyOld.slice(0, limit).map((r) => r.key);
  const changed = d.changed.slice(0, Math.max(0, limit - old.length)).map((r) => r.key);
  return {
    table: t.table,
    primary_key: t.primaryKey,
    rows_old_primary: t.rowsOld,
    rows_survivor: t.rowsSurvivor,
    only_on_old_primary: d.onlyOld.length,
    changed: d.changed.length,
    only_on_survivor: d.onlySurvivor,
    keys: { only_on_old_primary: old, changed, truncated: old.length + changed.length < d.onlyOld.length + d.changed.length },
    found_in: foundIn,
    ...(t.note ? { note: t.note } : {}),
  };
}

/** The keys a restore of the divergent backup must hold for this table (the listed ones). */
export function listedKeys(t: Pick<DivergentTable, 'keys'>): string[] {
  return [...t.keys.only_on_old_primary, ...t.keys.changed];
}

/** The transactions after the split, as the manifest lists them. */
export interface DivergentTransactions {
  /** `pg_waldump`: commit records in the old primary's WAL after the split LSN. `xmin`: the writing transactions of the differing rows (SQL only). */
  source: 'pg_waldump' | 'xmin';
  count: number;
  /** `rows`: differing rows whose current version that transaction wrote. */
  listed: Array<{ xid: string; lsn?: string; committed_at?: string; rows: number }>;
  truncated: boolean;
  /** Why pg_waldump could not list them (the xmin list is given instead). */
  error?: string;
}

/** Transactions from pg_waldump's commits when there are any, else from the differing rows' xmins. */
export function divergentTransactions(xminRows: ReadonlyMap<string, number>, commits?: readonly WalCommit[] | { error: string }, limit = TRANSACTIONS_LISTED): DivergentTransactions | undefined {
  if (Array.isArray(commits)) {
    return { source: 'pg_waldump', count: commits.length, listed: commits.slice(0, limit).map((c) => ({ ...c, rows: xminRows.get(c.xid) ?? 0 })), truncated: commits.length > limit };
  }
  const error = commits && 'error' in commits ? commits.error : undefined;
  if (!xminRows.size && !error) return undefined;
  const xids = [...xminRows.keys()].sort((a, b) => Number(a) - Number(b));
  return { source: 'xmin', count: xids.length, listed: xids.slice(0, limit).map((xid) => ({ xid, rows: xminRows.get(xid) ?? 0 })), truncated: xids.length > limit, ...(error ? { error } : {}) };
}

/** The manifest's `divergence` section. */
export interface Divergence {
  failover_id?: string;
  split: SplitPoint;
  old_primary: {
    region: string;
    /** `host:port/database` or `rds:<region>/<instance>`, never credentials. */
    source: string;
    /** WAL position when the backup was taken, and its timeline. */
    wal_lsn?: string;
    timeline?: number;
    /** WAL the old primary wrote after the split (its restart's end-of-recovery checkpoint included; `transactions` says what it committed). */
    wal_after_split_bytes?: number;
    /** The RDS snapshot failback took of it (AWS). */
    snapshot?: string;
  };
  survivor: { region: string; source: string };
  /** False when the old primary could not be compared (`reason`); its data is then kept in `old_primary.snapshot`. */
  compared: boolean;
  reason?: string;
  compared_at?: string;
  /** Rows of the old primary that differ from the survivor (only on the old primary + changed), all tables. */
  rows_differ: number | null;
  rows_only_on_survivor: number | null;
  tables: DivergentTable[];
  transactions?: DivergentTransactions;
}

/** Totals over the compared tables. */
export function divergenceTotals(tables: readonly DivergentTable[]): { rows_differ: number; rows_only_on_survivor: number } {
  let differ = 0;
  let survivor = 0;
  for (const t of tables) {
    differ += t.only_on_old_primary + t.changed;
    survivor += t.only_on_survivor;
  }
  return { rows_differ: differ, rows_only_on_survivor: survivor };
}
