import { verifyRestore } from '../../backup/index';
import { Command, JSON_FLAG } from '../command';
import { FlagError } from '../../core/errors';
import { BUCKET_FLAG, bucketName, FROM_FLAG, LOCAL_SOURCE_FLAGS, makeStore, pgTools, requiredUrl } from './backup-shared';
import { systemClock } from '../../core/clock';
import { localTempFiles } from '../../adapters/tools/temp-files';

export const command: Command = {
  name: 'backups verify-restore',
  summary: 'restore test: restore a backup into a throw-away scratch database, compare row counts, mark its manifest VERIFIED (or FAILED)',
  flags: {
    bucket: BUCKET_FLAG,
    from: FROM_FLAG,
    file: { type: 'string', description: 'test this backup key instead of --from' },
    'scratch-url': {
      type: 'string',
      description: 'PostgreSQL URL of the server to test on; a database dr_restore_test_<stamp> is created there and dropped afterwards (needs CREATEDB)',
      env: 'DR_SCRATCH_DATABASE_URL',
    },
    jobs: { type: 'number', description: 'parallel pg_restore jobs; 1 streams the backup through sha256 straight into pg_restore (no local copy; the scratch database counts only if the hash matches)', default: 2 },
    ...LOCAL_SOURCE_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    const bucket = bucketName(ctx);
    const scratchUrl = requiredUrl(ctx, 'scratch-url', 'DR_SCRATCH_DATABASE_URL');
    const jobs = ctx.flags.number('jobs') ?? 2;
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new FlagError(`--jobs must be a whole number between 1 and 64, got ${jobs}`);
    const tools = pgTools(ctx);
    const t0 = Date.now();
    const res = await verifyRestore({
      temp: localTempFiles(),
store: makeStore(ctx, bucket),
      tools,
      scratch: tools,
      scratchServerUrl: scratchUrl,
      from: ctx.flags.string('from'),
      file: ctx.flags.string('file'),
      jobs,
      clock: systemClock,
      log: (l) => ctx.out.info(l),
      signal: ctx.signal,
    });
    for (const t of res.tables) ctx.out.step(`rows ${t.table}`, t.ok ? 'ok' : 'failed', undefined, `${t.actual} (manifest ${t.expected ?? 'n/a'})`);
    ctx.out.step('restore test', 'ok', Date.now() - t0, res.manifest.key);
    const m = res.manifest;
    ctx.out.result(
      {
        ok: true,
        bucket,
        backup: m.key,
        manifest_key: res.manifestKey,
        restorability: m.restorability,
        restore_verified_at: m.restore_verified_at,
        scratch_database: res.scratchDatabase,
        swept_databases: res.sweptDatabases,
        tables: res.tables,
        duration_seconds: res.durationSeconds,
      },
      `${m.key}: restorability ${m.restorability} at ${m.restore_verified_at} (${res.tables.length} table(s) match; scratch ${res.scratchDatabase} dropped)`,
    );
    return 0;
  },
};
