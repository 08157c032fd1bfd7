import { restorePostgres } from '../../backup/index';
import { Command, type CommandContext, JSON_FLAG } from '../command';
import { FlagError } from '../../core/errors';
import { BUCKET_FLAG, bucketName, FROM_FLAG, LOCAL_SOURCE_FLAGS, localSources, makeStore, pgTools, requiredUrl } from './backup-shared';
import { localTempFiles } from '../../adapters/tools/temp-files';

export const command: Command = {
  name: 'restore postgres',
  summary: 'verified restore: checksum first, refuse non-empty targets, pg_restore -j N, compare row counts (or --until: RDS point-in-time restore into a scratch instance)',
  flags: {
    bucket: BUCKET_FLAG,
    from: FROM_FLAG,
    file: { type: 'string', description: 'restore this object key instead of --from' },
    'target-url': { type: 'string', description: 'database to restore into (must be empty unless --force)' },
    'target-db': { type: 'string', description: '--local: restore into this database of the serving primary (created when missing; must be empty unless --force)' },
    force: { type: 'boolean', description: 'restore over a database that already has tables (pg_restore --clean --if-exists)' },
    'skip-verify': { type: 'boolean', description: 'skip the post-restore row-count comparison (the checksum is always verified)' },
    jobs: { type: 'number', description: 'parallel pg_restore jobs', default: 2 },
    until: { type: 'string', description: 'AWS: point in time "YYYY-MM-DD HH:MM:SS" (UTC) for an RDS point-in-time restore' },
    'source-instance': { type: 'string', description: 'AWS --until: the RDS instance identifier to restore from', env: 'DR_DB_INSTANCE' },
    'target-instance': { type: 'string', description: 'AWS --until: name of the new scratch instance' },
    region: { type: 'string', description: 'AWS --until: region to restore in (the secondary uses replicated automated backups)', env: 'AWS_REGION' },
    ...LOCAL_SOURCE_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
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
    });
    if (res.tables !== 'skipped') for (const t of res.tables) ctx.out.step(`rows ${t.table}`, t.ok ? 'ok' : 'failed', undefined, `${t.actual} (manifest ${t.expected ?? 'n/a'})`);
    ctx.out.result(
      { ok: true, backup: res.manifest.key, checksum: res.manifest.checksum, target: res.target, forced: res.forced, tables: res.tables, duration_seconds: res.durationSeconds, phases_ms: res.phases },
      `restored ${res.manifest.key} into ${res.target}: checksum verified, ${res.tables === 'skipped' ? 'row counts not compared (--skip-verify)' : `${res.tables.length} table(s) match the manifest`}`,
    );
    return 0;
  },
};

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
