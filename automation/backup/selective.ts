/**
 * Selective restore (`dr restore postgres --table SCHEMA.TABLE …`): undo a bad change to some tables — a `DELETE`
 * without `WHERE`, a script that blanked a column — from a backup or from a point in time, without touching the
 * rest of the database. Seeds 001/003 call it the data-corruption incident (INC-005).
 *
 * 1. The target's tables are described first (they must exist; `missing-rows` needs a primary key; triggers that
 *    would fire anyway and legacy inheritance are refused), and the login must be allowed to set
 *    `session_replication_role` — all before anything is downloaded or created.
 * 2. The source: a backup (checksum verified before anything else, then a scratch database on the target's server
 *    or `--scratch-url` gets the archive's schema and the data of only the selected tables — `pg_restore
 *    --section=pre-data`, then `-L` with their TABLE DATA entries; indexes, constraints and triggers are not
 *    restored there), or an RDS point-in-time copy ({@link PointInTimeScratch}). Either is dropped at the end,
 *    success or not.
 * 3. One transaction on the target: each table's backup rows are COPYed into a temporary staging table, counted
 *    (a backup's must match its manifest) and compared by primary key; the foreign keys are checked against what
 *    the tables would hold. `--dry-run` stops here and rolls back: counts, nothing changed. Otherwise (after the
 *    caller's confirmation) the tables are locked `IN EXCLUSIVE MODE` (reads go on, writes wait), counted again,
 *    the verified safety backup of their current data is taken (safety.ts), and with `session_replication_role =
 *    replica` — so no user trigger and no foreign-key action fires for copied rows, which already carry those
 *    triggers' effects, and an `ON DELETE CASCADE` cannot reach other tables — `replace` deletes the rows and
 *    inserts the backup's, `missing-rows` inserts the backup rows whose key is missing. Every foreign key in which
 *    a restored table takes part is then checked explicitly (replica mode skips the RI triggers): a violation
 *    rolls everything back. Sequences feeding restored columns are moved forward to at least the largest
 *    restored value (never backwards), last, because `setval` is not transactional. Then COMMIT.
 *
 * Any failure rolls the transaction back, so the target is as it was.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Clock } from '../core/clock';
import { FlagError, OperationError, RefusedError, VerificationError } from '../core/errors';
import { redact } from '../core/redact';
import { stampOf } from './keys';
import type { Manifest } from './manifest';
import type { ForeignKeyInfo, ObjectStore, PgTableTools, PgTools, PointInTimeScratch, RelationView, ScratchDatabases, SelectiveSession, TableInfo, TempFiles } from './ports';
import type { Log } from './commit';
import { downloadVerified, selectBackup, unreachable } from './transfer';
import { safetyBackupPostgres, type SafetyOutcome, skippedSafety } from './safety';

const noop: Log = () => undefined;

export const SELECTIVE_MODES = ['replace', 'missing-rows'] as const;
export type SelectiveMode = (typeof SELECTIVE_MODES)[number];

/** Column types whose values a sequence can feed (the only ones whose maximum moves a sequence). */
const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint', 'numeric']);

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;

/** `SCHEMA.TABLE` (either part may be double-quoted; unquoted parts fold to lower case, as in SQL). */
export function parseTableName(value: string): { schema: string; table: string } {
  const m = new RegExp(`^(${IDENT})\\.(${IDENT})$`).exec(value.trim());
  if (!m) throw new FlagError(`--table '${value}' must be SCHEMA.TABLE, e.g. public.users (quote a part with capitals: public."Users")`);
  const part = (p: string) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p.toLowerCase());
  return { schema: part(m[1]), table: part(m[2]) };
}

/** Where the rows come from. */
export type SelectiveSource =
  /** A backup in the bucket (`--from` / `--file`), restored into a scratch database on `scratchServerUrl` (default: the target's server). */
  | { kind: 'backup'; from?: string; file?: string; scratchServerUrl?: string; jobs?: number }
  /** A point in time (`--until`): an RDS point-in-time copy of the database. */
  | { kind: 'point-in-time'; scratch: PointInTimeScratch };

export interface SelectiveRestoreOptions {
  targetUrl: string;
  /** `SCHEMA.TABLE` values (the `--table` flags). */
  tables: readonly string[];
  mode: SelectiveMode;
  source: SelectiveSource;
  dryRun?: boolean;
  /** false: `--no-safety-backup` (recorded in the result). */
  safetyBackup?: boolean;
  /** Asked with the predicted counts before anything is locked or written; resolving false refuses (nothing changed). */
  confirm?: (plan: SelectivePlan) => Promise<boolean>;
  /** The bucket: the backup (source kind `backup`) and the safety backup. */
  store: ObjectStore;
  tools: PgTools;
  tableTools: PgTableTools;
  scratch: ScratchDatabases;
  temp: TempFiles;
  clock: Clock;
  log?: Log;
  signal?: AbortSignal;
}

/** A sequence feeding a restored column: where it was, the largest restored value, where it was set. */
export interface SequenceReport {
  sequence: string;
  column: string;
  last_value: string;
  max_restored: string | null;
  /** The value `setval` moved it to (dry run: would move it to); null when it was already past the maximum. */
  set_to: string | null;
}

/** One restored table (dry run: the predicted figures). */
export interface TableReport {
  table: string;
  rows_before: number;
  backup_rows: number;
  rows_after: number;
  inserted: number;
  /** Rows present in both whose values were put back (replace, by primary key). */
  updated: number;
  deleted: number;
  /** By primary key: backup rows the target lacked, target rows the backup lacks, rows present in both that differ. */
  by_key?: { missing: number; extra: number; changed: number };
  columns: { copied: string[]; only_in_target: string[]; only_in_backup: string[] };
  sequences: SequenceReport[];
}

export interface ForeignKeyReport {
  name: string;
  table: string;
  references: string;
  /** False for a NOT VALID constraint (its existing rows were never valid to begin with). */
  checked: boolean;
  violations: number;
}

/** What the dry run shows and the confirmation is asked with. */
export interface SelectivePlan {
  mode: SelectiveMode;
  target: string;
  source: SourceReport;
  tables: TableReport[];
  foreign_keys: ForeignKeyReport[];
}

export type SourceReport =
  | { kind: 'backup'; key: string; timestamp: string; checksum: 'verified'; scratch_database: string }
  | { kind: 'point-in-time'; restore_time: string; instance: string };

export interface SelectiveRestoreResult extends SelectivePlan {
  ok: true;
  dry_run: boolean;
  /** Absent on a dry run (nothing is overwritten, so nothing is backed up). */
  safety_backup?: SafetyOutcome;
  /** How triggers were kept from firing for the copied rows. */
  triggers: 'session_replication_role = replica (user triggers and FK actions off for the copy; foreign keys checked explicitly)';
  scratch_dropped: boolean;
  duration_seconds: number;
  phases_ms: Record<'prepare' | 'source' | 'stage' | 'safety' | 'apply', number>;
}

/** A source ready to read the tables from, and how to get rid of it. */
interface OpenSource {
  url: string;
  report: SourceReport;
  manifest?: Manifest;
  drop(): Promise<void>;
}

/** The target's tables, checked for what the selective restore refuses. */
function checkTargetTables(tables: readonly TableInfo[], mode: SelectiveMode): void {
  for (const t of tables) {
    if (mode === 'missing-rows' && !t.primaryKey.length) {
      throw new RefusedError(`--mode missing-rows finds missing rows by primary key, and ${t.name} has none; use --mode replace for it (nothing was changed)`);
    }
    if (t.hasInheritanceChildren) throw new RefusedError(`${t.name} has tables inheriting from it (legacy inheritance); restore those tables' rows another way (nothing was changed)`);
    if (t.alwaysTriggers.length) {
      throw new RefusedError(`${t.name} has trigger(s) ${t.alwaysTriggers.join(', ')} enabled ALWAYS or REPLICA, which would fire for the copied rows even with session_replication_role = replica; disable them for the restore (ALTER TABLE … DISABLE TRIGGER) or restore another way (nothing was changed)`);
    }
  }
}

/**
 * Restore the rows of some tables from a backup or a point in time into the target, in one transaction (see the
 * module comment). Returns the per-table counts (predicted with `dryRun`), the foreign keys checked, the sequences
 * moved and the safety backup.
 */
export async function selectiveRestore(o: SelectiveRestoreOptions): Promise<SelectiveRestoreResult> {
  const log = o.log ?? noop;
  const t0 = Date.now();
  if (!o.tables.length) throw new FlagError('--table SCHEMA.TABLE is required (repeat it for several tables)');
  const names = o.tables.map(parseTableName);
  const seen = new Set<string>();
  for (const n of names) {
    const k = `${n.schema}.${n.table}`;
    if (seen.has(k)) throw new FlagError(`--table ${k} is given twice`);
    seen.add(k);
  }
  const info = await o.tools.inspect(o.targetUrl).catch((e: unknown) => unreachable(e, 'target database'));
  const target = `${info.host}/${info.database}`;
  const tables = await o.tableTools.describeTables(o.targetUrl, names);
  checkTargetTables(tables, o.mode);
  if (!(await o.tableTools.canDisableTriggers(o.targetUrl))) {
    throw new RefusedError(
      `the login of ${target} may not SET session_replication_role, which the restore needs so that triggers and foreign-key actions do not fire twice; use a superuser (on RDS the master user, rds_superuser) or GRANT SET ON PARAMETER session_replication_role TO <role> (nothing was changed)`,
    );
  }
  const tPrepared = Date.now();
  const source = await openSource(o, tables, log);
  let dropped = false;
  try {
    const tSource = Date.now();
    const result = await restoreFromSource(o, { target, tables, source, log });
    await source.drop();
    dropped = true;
    const t = result.times;
    return {
      ...result.value,
      scratch_dropped: true,
      duration_seconds: (Date.now() - t0) / 1000,
      phases_ms: { prepare: tPrepared - t0, source: tSource - tPrepared, stage: t.staged - tSource, safety: t.safety, apply: t.applied - t.staged - t.safety },
    };
  } finally {
    if (!dropped) await source.drop().catch((e: unknown) => log(`warning: could not drop the scratch copy: ${redact(String(e))}`));
  }
}

/** The backup's tables in a scratch database, or the point-in-time copy. */
async function openSource(o: SelectiveRestoreOptions, tables: readonly TableInfo[], log: Log): Promise<OpenSource> {
  if (o.source.kind === 'point-in-time') {
    const pitr = o.source.scratch;
    let made: { url: string; instance: string } | undefined;
    try {
      made = await pitr.create(log, o.signal);
    } catch (err) {
      await pitr.drop(log).catch(() => undefined);
      throw err;
    }
    return { url: made.url, report: { kind: 'point-in-time', restore_time: pitr.restoreTime, instance: made.instance }, drop: () => pitr.drop(log) };
  }
  return openBackupSource(o, o.source, tables, log);
}

/** Verify the backup's checksum, then restore its schema and the selected tables' data into a new scratch database. */
async function openBackupSource(o: SelectiveRestoreOptions, src: Extract<SelectiveSource, { kind: 'backup' }>, tables: readonly TableInfo[], log: Log): Promise<OpenSource> {
  const manifest = await selectBackup(o.store, 'postgresql', src.from, src.file);
  const absent = tables.filter((t) => manifest.tables && !(t.name in manifest.tables)).map((t) => t.name);
  if (absent.length) throw new RefusedError(`${manifest.key} has no table ${absent.join(', ')} (it has ${Object.keys(manifest.tables ?? {}).join(', ') || 'none'}); nothing was changed`);
  const dir = await o.temp.dir('dr-selective-');
  const server = src.scratchServerUrl ?? o.targetUrl;
  const name = `dr_selective_${stampOf(o.clock.now())}_${randomBytes(3).toString('hex')}`;
  let created = false;
  const drop = async () => {
    try {
      if (created) await o.scratch.dropDatabase(server, name);
    } finally {
      await dir.remove();
    }
  };
  try {
    const file = path.posix.basename(manifest.key);
    await downloadVerified(o.store, manifest, { dir, name: file }, o.signal);
    log(`checksum verified: ${manifest.key} (${manifest.checksum})`);
    const entries = await o.tableTools.archiveEntries(dir.path(file), o.signal);
    const ids = tables.flatMap((t) => (t.partitioned ? t.partitions : [t])).map((t) => {
      const e = entries.find((x) => x.desc === 'TABLE DATA' && x.schema === t.schema && x.name === t.table);
      if (!e) throw new VerificationError(`${manifest.key} holds no data for ${t.name}`);
      return e.id;
    });
    const url = await o.scratch.createDatabase(server, name).catch((e: unknown) => {
      throw new OperationError(`could not create the scratch database ${name} (the login needs CREATEDB, or pass --scratch-url of a server where it may): ${redact(e instanceof Error ? e.message : String(e))}`);
    });
    created = true;
    log(`scratch database ${name}: the archive's schema, then the data of ${tables.map((t) => t.name).join(', ')}`);
    await o.tableTools.restoreSchema(url, dir.path(file), o.signal);
    await o.tableTools.restoreEntries(url, dir.path(file), ids, { jobs: src.jobs ?? 2, signal: o.signal });
    return { url, manifest, report: { kind: 'backup', key: manifest.key, timestamp: manifest.timestamp, checksum: 'verified', scratch_database: name }, drop };
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
}

/** Per table: the columns copied (the target's non-generated columns the backup also has). */
interface TablePlan {
  info: TableInfo;
  columns: TableReport['columns'];
}

function planColumns(target: TableInfo, source: TableInfo): TablePlan {
  const have = new Set(source.columns.map((c) => c.name));
  const insertable = target.columns.filter((c) => !c.generated).map((c) => c.name);
  const copied = insertable.filter((c) => have.has(c));
  const mine = new Set(target.columns.map((c) => c.name));
  const columns = { copied, only_in_target: insertable.filter((c) => !have.has(c)), only_in_backup: source.columns.filter((c) => !c.generated && !mine.has(c.name)).map((c) => c.name) };
  const lost = target.primaryKey.filter((k) => !have.has(k));
  if (!copied.length || lost.length) throw new RefusedError(`${target.name} in the backup lacks ${lost.length ? `its primary-key column(s) ${lost.join(', ')}` : 'every column the target has'}: its schema changed too much to restore rows into it (nothing was changed)`);
  return { info: target, columns };
}

interface RunContext {
  target: string;
  tables: readonly TableInfo[];
  source: OpenSource;
  log: Log;
}

/** Stage, analyse, and (unless a dry run) apply in one transaction; rolled back on any failure. */
async function restoreFromSource(o: SelectiveRestoreOptions, r: RunContext): Promise<{ value: Omit<SelectiveRestoreResult, 'scratch_dropped' | 'duration_seconds' | 'phases_ms'>; times: { staged: number; safety: number; applied: number } }> {
  const sourceTables = await o.tableTools.describeTables(r.source.url, r.tables.map((t) => ({ schema: t.schema, table: t.table })));
  const plans = r.tables.map((t, i) => planColumns(t, sourceTables[i]));
  const session = await o.tableTools.beginSelective(o.targetUrl);
  let open = true;
  try {
    const staged = await stageAll(o, session, plans, r);
    // Analysed before the lock only for people (a dry run, a confirmation): with --yes, once, under the lock.
    let plan = o.dryRun || o.confirm ? await analyse(o, session, plans, staged, r) : undefined;
    const tStaged = Date.now();
    if (o.dryRun && plan) {
      await session.rollback();
      open = false;
      r.log('dry run: nothing was changed');
      return { value: { ok: true, dry_run: true, ...plan, triggers: TRIGGERS }, times: { staged: tStaged, safety: 0, applied: Date.now() } };
    }
    if (plan) refuseViolations(plan.foreign_keys, 'would');
    if (plan && o.confirm && !(await o.confirm(plan))) throw new RefusedError('not confirmed (pass --yes to run without asking); nothing was changed');
    await session.lock(plans.map((p) => p.info));
    // Counted (again) under the lock: what the report and the safety backup show is exactly what is replaced.
    plan = await analyse(o, session, plans, staged, r, false);
    refuseViolations(plan.foreign_keys, 'would');
    const tSafety = Date.now();
    const safety = o.safetyBackup === false ? skippedSafety() : await safetyBackupPostgres({ url: o.targetUrl, store: o.store, tools: o.tools, tableTools: o.tableTools, temp: o.temp, clock: o.clock, tables: r.tables, before: `restore postgres ${r.tables.map((t) => `--table ${t.name}`).join(' ')} --mode ${o.mode} from ${describeSource(r.source.report)}`, log: r.log, signal: o.signal });
    const safetyMs = Date.now() - tSafety;
    const applied = await apply(o, session, plans, plan, r.log);
    await session.commit();
    open = false;
    r.log(`committed: ${applied.tables.map((t) => `${t.table} ${t.rows_before} → ${t.rows_after} rows`).join(', ')}`);
    return { value: { ok: true, dry_run: false, ...applied, safety_backup: safety, triggers: TRIGGERS }, times: { staged: tStaged, safety: safetyMs, applied: Date.now() } };
  } finally {
    if (open) await session.rollback().catch((e: unknown) => r.log(`warning: rollback failed (the server rolls back on disconnect): ${redact(String(e))}`));
  }
}

const TRIGGERS = 'session_replication_role = replica (user triggers and FK actions off for the copy; foreign keys checked explicitly)' as const;

function describeSource(s: SourceReport): string {
  return s.kind === 'backup' ? s.key : `point in time ${s.restore_time}`;
}

/** COPY every table's rows from the source into its staging table; a backup's counts must match its manifest. */
async function stageAll(o: SelectiveRestoreOptions, session: SelectiveSession, plans: readonly TablePlan[], r: RunContext): Promise<Map<string, number>> {
  const staged = new Map<string, number>();
  for (const p of plans) {
    const rows = await session.stage(p.info, p.columns.copied, r.source.url, o.signal);
    const expected = r.source.manifest?.tables?.[p.info.name];
    if (expected !== undefined && expected !== rows) throw new VerificationError(`${p.info.name}: the scratch copy holds ${rows} rows, the manifest of ${r.source.manifest?.key} says ${expected}; nothing was changed`);
    staged.set(p.info.name, rows);
    r.log(`staged ${rows} row(s) of ${p.info.name} from ${describeSource(r.source.report)}`);
  }
  return staged;
}

/** How each restored table is read when predicting: replace → the backup rows; missing-rows → both. */
function views(plans: readonly TablePlan[], mode: SelectiveMode): Record<string, RelationView> {
  return Object.fromEntries(plans.map((p) => [p.info.name, mode === 'replace' ? 'staged' : 'merged']));
}

/** Every foreign key in which a restored table takes part, once. */
function foreignKeysOf(plans: readonly TablePlan[]): ForeignKeyInfo[] {
  const out = new Map<string, ForeignKeyInfo>();
  for (const p of plans) for (const fk of p.info.foreignKeys) out.set(`${fk.table}\u0000${fk.name}`, fk);
  return [...out.values()];
}

/**
 * Predicted counts, foreign-key violations and sequence moves (the dry run's report and the confirmation's plan).
 * `byKey: false` (the run itself, under the lock) skips the comparison by key: the writes report the same numbers.
 */
async function analyse(o: SelectiveRestoreOptions, s: SelectiveSession, plans: readonly TablePlan[], staged: ReadonlyMap<string, number>, r: RunContext, byKeys = true): Promise<SelectivePlan> {
  const tables: TableReport[] = [];
  const v = views(plans, o.mode);
  for (const p of plans) {
    const before = await s.count(p.info);
    const backupRows = staged.get(p.info.name) ?? 0;
    const byKey = byKeys && p.info.primaryKey.length ? await s.compare(p.info, p.columns.copied) : undefined;
    // Replace with a key works by difference (see SelectiveSession.replace); without one it rewrites every row.
    const replace = o.mode === 'replace';
    const inserted = replace && !byKey ? backupRows : (byKey?.missing ?? 0);
    const deleted = replace ? (byKey ? byKey.extra : before) : 0;
    const updated = replace && byKey ? byKey.changed : 0;
    const sequences = await sequencePlan(s, p.info, v[p.info.name], false);
    tables.push({ table: p.info.name, rows_before: before, backup_rows: backupRows, rows_after: before - deleted + inserted, inserted, updated, deleted, ...(byKey ? { by_key: byKey } : {}), columns: p.columns, sequences });
  }
  const foreign_keys = await checkForeignKeys(s, plans, v);
  return { mode: o.mode, target: r.target, source: r.source.report, tables, foreign_keys };
}

async function checkForeignKeys(s: SelectiveSession, plans: readonly TablePlan[], v: Readonly<Record<string, RelationView>>): Promise<ForeignKeyReport[]> {
  const out: ForeignKeyReport[] = [];
  for (const fk of foreignKeysOf(plans)) {
    const violations = fk.validated ? await s.foreignKeyViolations(fk, v) : 0;
    out.push({ name: fk.name, table: fk.table, references: fk.references, checked: fk.validated, violations });
  }
  return out;
}

function refuseViolations(fks: readonly ForeignKeyReport[], tense: 'would' | 'did'): void {
  const bad = fks.filter((f) => f.violations > 0);
  if (!bad.length) return;
  const lines = bad.map((f) => `${f.table} (${f.name} → ${f.references}): ${f.violations} row(s) ${tense === 'would' ? 'would' : 'did'} reference rows that are not there`);
  throw new RefusedError(
    `the restore would break foreign keys, so nothing was changed: ${lines.join('; ')}. Restore the related tables together (repeat --table), or use --mode missing-rows to keep the rows they reference`,
    { foreign_keys: bad },
  );
}

/** Each sequence feeding an integer column of the table: moved (or, predicting, to be moved) to at least the column's maximum. */
async function sequencePlan(s: SelectiveSession, t: TableInfo, view: RelationView, set: boolean): Promise<SequenceReport[]> {
  const out: SequenceReport[] = [];
  for (const { sequence, column } of t.sequences) {
    const col = t.columns.find((c) => c.name === column);
    if (!col || !INTEGER_TYPES.has(col.type.replace(/\(.*\)$/, ''))) continue;
    const state = await s.sequence(sequence);
    const max = await s.maxValue(t, column, view);
    const next = state.isCalled ? state.lastValue + state.increment : state.lastValue;
    // Only ever forward (and not for descending sequences): an id handed out once is never handed out again.
    const move = state.increment > 0n && max !== null && max >= next;
    if (move && set) await s.setSequence(sequence, max);
    out.push({ sequence, column, last_value: String(state.lastValue), max_restored: max === null ? null : String(max), set_to: move ? String(max) : null });
  }
  return out;
}

/** Write: triggers off for the copy, replace / insert-missing, foreign keys checked, sequences moved, counted. */
async function apply(o: SelectiveRestoreOptions, s: SelectiveSession, plans: readonly TablePlan[], plan: SelectivePlan, log: Log): Promise<SelectivePlan> {
  await s.disableTriggers();
  const done = new Map<string, { inserted: number; updated: number; deleted: number }>();
  for (const p of plans) {
    const d = o.mode === 'replace' ? await s.replace(p.info, p.columns.copied) : { inserted: await s.insertMissing(p.info, p.columns.copied), updated: 0, deleted: 0 };
    done.set(p.info.name, d);
    log(`${p.info.name}: ${d.deleted} row(s) deleted, ${d.updated} put back, ${d.inserted} inserted`);
  }
  const none = Object.fromEntries(plans.map((p) => [p.info.name, 'table' as RelationView]));
  const foreign_keys = await checkForeignKeys(s, plans, none);
  refuseViolations(foreign_keys, 'did');
  const tables: TableReport[] = [];
  for (const [i, p] of plans.entries()) {
    const d = done.get(p.info.name) ?? { inserted: 0, updated: 0, deleted: 0 };
    // By key, as written: replace deletes the extra rows, puts back the changed ones, inserts the missing ones.
    const byKey = o.mode === 'replace' && p.info.primaryKey.length ? { by_key: { missing: d.inserted, extra: d.deleted, changed: d.updated } } : {};
    tables.push({ ...plan.tables[i], inserted: d.inserted, updated: d.updated, deleted: d.deleted, ...byKey, rows_after: await s.count(p.info) });
  }
  // Last, after every check: setval is not rolled back, and it only ever moves a sequence forward.
  for (const [i, p] of plans.entries()) tables[i].sequences = await sequencePlan(s, p.info, 'table', true);
  return { ...plan, tables, foreign_keys };
}
