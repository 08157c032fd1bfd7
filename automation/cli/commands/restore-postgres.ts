import { LocalPgTableTools } from '../../adapters/tools/pg-table-tools';
import { withDatabase } from '../../adapters/tools/pg-tools';
import { restorePostgres, SELECTIVE_MODES, type SelectiveMode, type SelectivePlan, type SelectiveRestoreResult, selectiveRestore, type SelectiveSource, stampOf } from '../../backup/index';
import { systemClock } from '../../core/clock';
import { Command, type CommandContext, JSON_FLAG } from '../command';
import { FlagError } from '../../core/errors';
import { registerUrlSecret } from '../../core/redact';
import { BUCKET_FLAG, bucketName, FROM_FLAG, LOCAL_SOURCE_FLAGS, localSources, makeStore, pgTools, requiredUrl, safetyLine } from './backup-shared';
import { localTempFiles } from '../../adapters/tools/temp-files';

export const command: Command = {
  name: 'restore postgres',
  summary:
    'verified restore: checksum first, refuse non-empty targets, pg_restore -j N, compare row counts (or --until: RDS point-in-time restore into a scratch instance; or --table: some tables\' rows, in one transaction, after a safety backup)',
  flags: {
    bucket: BUCKET_FLAG,
    from: FROM_FLAG,
    file: { type: 'string', description: 'restore this object key instead of --from' },
    'target-url': { type: 'string', description: 'database to restore into (must be empty unless --force)' },
    'target-db': { type: 'string', description: '--local: restore into this database of the serving primary (created when missing; must be empty unless --force)' },
    force: { type: 'boolean', description: 'restore over a database that already has tables (pg_restore --clean --if-exists), after a safety backup of it under safety/' },
    'skip-verify': { type: 'boolean', description: 'skip the post-restore row-count comparison (the checksum is always verified)' },
    jobs: { type: 'number', description: 'parallel pg_restore jobs', default: 2 },
    until: { type: 'string', description: 'AWS: point in time "YYYY-MM-DD HH:MM:SS" (UTC) for an RDS point-in-time restore' },
    'source-instance': { type: 'string', description: 'AWS --until: the RDS instance identifier to restore from', env: 'DR_DB_INSTANCE' },
    'target-instance': { type: 'string', description: 'AWS --until: name of the new scratch instance (with --table: default dr-sel-<time>, deleted afterwards)' },
    region: { type: 'string', description: 'AWS --until: region to restore in (the secondary uses replicated automated backups)', env: 'AWS_REGION' },
    table: { type: 'string', multiple: true, description: 'selective restore: the rows of this SCHEMA.TABLE (repeat for several); needs --into-url' },
    'into-url': { type: 'string', description: '--table: the database whose tables get the rows (--local: the serving primary\'s application database)' },
    mode: { type: 'string', choices: SELECTIVE_MODES, description: '--table: replace the rows with the backup\'s (the default), or insert only rows whose primary key is missing' },
    'scratch-url': { type: 'string', description: '--table with a backup: a server for the scratch database (default: the --into-url server)' },
    'dry-run': { type: 'boolean', description: '--table: show the counts and foreign-key checks, change nothing' },
    yes: { type: 'boolean', description: '--table: do not ask for confirmation' },
    'no-safety-backup': { type: 'boolean', description: 'skip the safety backup of the data the restore overwrites (recorded in the result)' },
    ...LOCAL_SOURCE_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    if (ctx.flags.list('table').length) return runSelective(ctx);
    for (const f of ['into-url', 'scratch-url', 'mode', 'dry-run', 'yes'] as const) if (ctx.flags.bool(f) || (ctx.flags.has(f) && ctx.flags.string(f) !== 'false')) throw new FlagError(`--${f} goes with --table (the selective restore)`);
    const until = ctx.flags.string('until');
    if (until !== undefined) {
      // Loaded only here: the AWS composition root and the RDS client cost ~0.4 s of start-up that every other
      // restore (the common case: a dump from the bucket) would pay for nothing.
      const [{ restorePointInTime, parseUntil }, { awsDeps }] = await Promise.all([import('../../adapters/aws/pitr'), import('../aws')]);
      const at = parseUntil(until);
      const source = ctx.flags.required('source-instance', 'the RDS instance to restore from, or set DR_DB_INSTANCE');
      const target = ctx.flags.required('target-instance', 'a new instance name for the scratch restore');
      const region = ctx.flags.required('region', 'or set AWS_REGION');
      for (const f of ['file', 'target-url', 'force'] as const) if (ctx.flags.has(f) && ctx.flags.string(f) !== 'false') throw new FlagError(`--${f} cannot be combined with --until`);
      const rds = awsDeps.clients(ctx.env).rds(region);
      const res = await restorePointInTime(rds, { sourceInstance: source, targetInstance: target, region, restoreTime: at, log: (l) => ctx.out.info(l), signal: ctx.signal });
      ctx.out.result({ ok: true, ...res }, `restored ${source} to ${at.toISOString()} into ${target} (${res.mode}); endpoint ${res.endpoint}`);
      return 0;
    }
    const targetUrl = await restoreTarget(ctx);
    const bucket = bucketName(ctx);
    const jobs = ctx.flags.number('jobs') ?? 2;
    const res = await restorePostgres({
      temp: localTempFiles(),
store: makeStore(ctx, bucket),
      tools: pgTools(ctx),
      targetUrl,
      from: ctx.flags.string('from'),
      file: ctx.flags.string('file'),
      force: ctx.flags.bool('force'),
      skipVerify: ctx.flags.bool('skip-verify'),
      jobs,
      log: (l) => ctx.out.info(l),
      signal: ctx.signal,
      safetyBackup: !ctx.flags.bool('no-safety-backup'),
      tableTools: tableTools(ctx),
    });
    if (res.tables !== 'skipped') for (const t of res.tables) ctx.out.step(`rows ${t.table}`, t.ok ? 'ok' : 'failed', undefined, `${t.actual} (manifest ${t.expected ?? 'n/a'})`);
    ctx.out.result(
      { ok: true, backup: res.manifest.key, checksum: res.manifest.checksum, target: res.target, forced: res.forced, ...(res.safetyBackup ? { safety_backup: res.safetyBackup } : {}), tables: res.tables, duration_seconds: res.durationSeconds, phases_ms: res.phases },
      `restored ${res.manifest.key} into ${res.target}: checksum verified, ${res.tables === 'skipped' ? 'row counts not compared (--skip-verify)' : `${res.tables.length} table(s) match the manifest`}${safetyLine(res.safetyBackup)}`,
    );
    return 0;
  },
};

/** The table-level tools, from the command's environment (the same binaries as {@link pgTools}). */
function tableTools(ctx: CommandContext): LocalPgTableTools {
  return new LocalPgTableTools({ pgDump: ctx.env.DR_PG_DUMP, pgRestore: ctx.env.DR_PG_RESTORE, env: ctx.env });
}

/** The restore's target: --target-url, or with --local a database of the serving primary (--target-db). */
async function restoreTarget(ctx: CommandContext): Promise<string> {
  const local = localSources(ctx);
  const name = ctx.flags.string('target-db');
  if (!local) {
    if (name !== undefined) throw new FlagError('--target-db goes with --local (a database of the local environment\'s serving primary); elsewhere pass --target-url');
    return requiredUrl(ctx, 'target-url', 'a database URL');
  }
  if (ctx.flags.has('target-url')) return requiredUrl(ctx, 'target-url', 'a database URL');
  if (name === undefined) throw new FlagError(`--local restores into a database of the serving primary (${local.region}): pass --target-db NAME (created when missing), or --target-url`);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new FlagError(`--target-db '${name}' must be 1-63 of a-z 0-9 _ (not starting with a digit)`);
  const exists = await local.env.superQuery(local.region, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (!exists.length) await local.env.superQuery(local.region, `CREATE DATABASE ${name}`);
  return local.env.superUrl(local.region, name);
}

/** A URL flag of the selective restore, checked and registered with the redactor. */
function urlFlag(ctx: CommandContext, flag: string): string | undefined {
  const url = ctx.flags.string(flag);
  if (url === undefined) return undefined;
  registerUrlSecret(url);
  try {
    new URL(url);
  } catch {
    throw new FlagError(`--${flag} is not a URL; expected e.g. postgresql://user:password@host:5432/db`);
  }
  return url;
}

/**
 * --table's target and scratch server: --into-url, or with --local the serving primary's application database as
 * its superuser (the restore sets session_replication_role), with scratch databases on that server.
 */
function selectiveTarget(ctx: CommandContext): { into: string; scratch?: string } {
  if (ctx.flags.has('target-url') || ctx.flags.has('target-db')) throw new FlagError('--table restores into --into-url (not --target-url/--target-db)');
  const local = localSources(ctx);
  const into = urlFlag(ctx, 'into-url');
  const scratch = urlFlag(ctx, 'scratch-url');
  if (into) return { into, scratch };
  if (!local) throw new FlagError('--into-url is required with --table (the database whose tables get the rows)');
  const appDb = decodeURIComponent(new URL(local.urls['database-url']).pathname.slice(1));
  return { into: withDatabase(local.urls['scratch-url'], appDb), scratch: scratch ?? local.urls['scratch-url'] };
}

/** Where --table reads the rows: a backup (--from/--file) or, on AWS, a point in time (--until). */
async function selectiveSource(ctx: CommandContext, into: string, scratch: string | undefined): Promise<SelectiveSource> {
  const until = ctx.flags.string('until');
  if (until === undefined) return { kind: 'backup', from: ctx.flags.string('from'), file: ctx.flags.string('file'), scratchServerUrl: scratch, jobs: ctx.flags.number('jobs') ?? 2 };
  if (ctx.flags.has('file')) throw new FlagError('--file cannot be combined with --until');
  if (scratch) throw new FlagError('--scratch-url goes with a backup source; --until reads the point-in-time scratch instance');
  if (localSources(ctx)) throw new FlagError('--until is an RDS point-in-time restore (AWS); --local restores from a backup (--from/--file)');
  const [{ parseUntil, rdsPointInTimeScratch }, { awsDeps }] = await Promise.all([import('../../adapters/aws/pitr'), import('../aws')]);
  const at = parseUntil(until);
  const sourceInstance = ctx.flags.required('source-instance', 'the RDS instance to restore from, or set DR_DB_INSTANCE');
  const region = ctx.flags.required('region', 'or set AWS_REGION');
  const targetInstance = ctx.flags.string('target-instance') ?? `dr-sel-${stampOf(systemClock.now()).replace('_', '-')}`;
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(targetInstance) || /--|-$/.test(targetInstance)) throw new FlagError(`--target-instance '${targetInstance}' is not an RDS identifier (a letter, then a-z 0-9 -, ≤ 63, no -- or trailing -)`);
  const rds = awsDeps.clients(ctx.env).rds(region);
  return { kind: 'point-in-time', scratch: rdsPointInTimeScratch(rds, { sourceInstance, targetInstance, region, restoreTime: at, targetUrl: into, pollMs: awsDeps.waits?.pollMs, timeoutMs: awsDeps.waits?.timeoutMs }) };
}

/** `dr restore postgres --table …`: the selective restore (automation/backup/selective.ts). */
async function runSelective(ctx: CommandContext): Promise<number> {
  if (ctx.flags.bool('force') || ctx.flags.bool('skip-verify')) throw new FlagError('--force and --skip-verify are for the full restore; --table always checks counts and replaces only the rows of its tables');
  const mode = (ctx.flags.string('mode') ?? 'replace') as SelectiveMode;
  const { into, scratch } = selectiveTarget(ctx);
  const dryRun = ctx.flags.bool('dry-run');
  const safetyBackup = !ctx.flags.bool('no-safety-backup');
  const source = await selectiveSource(ctx, into, scratch);
  const needsBucket = source.kind === 'backup' || (safetyBackup && !dryRun);
  // A point-in-time dry run (or one without a safety backup) never touches the bucket: a placeholder is never contacted.
  const store = makeStore(ctx, needsBucket ? bucketName(ctx) : (ctx.flags.string('bucket') ?? 'no-bucket-needed'));
  const yes = ctx.flags.bool('yes');
  const res = await selectiveRestore({
    targetUrl: into,
    tables: ctx.flags.list('table'),
    mode,
    source,
    dryRun,
    safetyBackup,
    confirm: yes ? undefined : (plan) => ctx.out.confirm(`${planText(plan)}\nApply this to ${plan.target}?`),
    store,
    tools: pgTools(ctx),
    tableTools: tableTools(ctx),
    scratch: pgTools(ctx),
    temp: localTempFiles(),
    clock: systemClock,
    log: (l) => ctx.out.info(l),
    signal: ctx.signal,
  });
  for (const t of res.tables) ctx.out.step(t.table, res.dry_run ? 'planned' : 'ok', undefined, tableText(res, t));
  for (const f of res.foreign_keys) ctx.out.step(`foreign key ${f.name}`, f.checked ? 'ok' : 'skipped', undefined, `${f.table} → ${f.references}${f.checked ? `: ${f.violations} violation(s)` : ': NOT VALID, not checked'}`);
  ctx.out.result(res, summary(res));
  return 0;
}

function tableText(res: SelectivePlan & { dry_run?: boolean }, t: SelectivePlan['tables'][number]): string {
  const key = t.by_key ? `; by primary key ${t.by_key.missing} missing, ${t.by_key.changed} changed, ${t.by_key.extra} only in the target` : '';
  const seq = t.sequences.filter((s) => s.set_to !== null).map((s) => `${s.sequence} → ${s.set_to}`);
  return `${t.rows_before} → ${t.rows_after} rows (${res.mode}: ${t.deleted} deleted, ${t.inserted} inserted${key})${seq.length ? `; sequences ${seq.join(', ')}` : ''}`;
}

/** The plan as the confirmation shows it. */
function planText(plan: SelectivePlan): string {
  const from = plan.source.kind === 'backup' ? plan.source.key : `the point in time ${plan.source.restore_time}`;
  return [`selective restore (${plan.mode}) from ${from}:`, ...plan.tables.map((t) => `  ${t.table}: ${tableText(plan, t)}`)].join('\n');
}

function summary(res: SelectiveRestoreResult): string {
  const head = res.dry_run ? `dry run: nothing was changed in ${res.target}` : `restored ${res.tables.length} table(s) into ${res.target} in one transaction`;
  const from = res.source.kind === 'backup' ? `${res.source.key} (checksum verified)` : `the point in time ${res.source.restore_time} (${res.source.instance}, deleted)`;
  return `${head}\n${planText(res).split('\n').slice(1).join('\n')}\nsource: ${from}${safetyLine(res.safety_backup)}`;
}
