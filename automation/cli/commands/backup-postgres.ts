import { BackupTier } from '../../../lib/lifecycle';
import { backupPostgres } from '../../backup/index';
import { Command, JSON_FLAG } from '../command';
import { FlagError } from '../../core/errors';
import { BUCKET_FLAG, bucketName, DATABASE_URL_FLAG, keepCounts, LOCAL_SOURCE_FLAGS, localSources, makeStore, replicateLocally, pgTools, requiredUrl, TIER_FLAG } from './backup-shared';
import { systemClock } from '../../core/clock';

export const command: Command = {
  name: 'backup postgres',
  summary: 'pg_dump the database, stream it to the backup bucket with a sha256 manifest, prune the tier',
  flags: {
    'database-url': DATABASE_URL_FLAG,
    bucket: BUCKET_FLAG,
    tier: TIER_FLAG,
    compress: { type: 'number', description: 'pg_dump compression level 0-9', default: 6 },
    ...LOCAL_SOURCE_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    const url = requiredUrl(ctx, 'database-url', 'DATABASE_URL');
    const bucket = bucketName(ctx);
    const tier = ctx.flags.required('tier') as BackupTier;
    const level = ctx.flags.number('compress') ?? 6;
    if (!Number.isInteger(level) || level < 0 || level > 9) throw new FlagError(`--compress must be a whole number 0-9, got ${level}`);
    const keep = keepCounts(ctx.env);
    const t0 = Date.now();
    const res = await backupPostgres({
      url,
      tier,
      store: makeStore(ctx, bucket),
      tools: pgTools(ctx),
      clock: systemClock,
      compressLevel: level,
      keep,
      log: (l) => ctx.out.info(l),
      signal: ctx.signal,
    });
    ctx.out.step('backup postgres', 'ok', Date.now() - t0, `${res.manifest.size_readable} ${res.manifest.key}`);
    const m = res.manifest;
    const copied = await replicateLocally(ctx, { dataKey: res.manifest.key, manifestKey: res.manifestKey });
    ctx.out.result(
      { ok: true, bucket, manifest_key: res.manifestKey, ...(copied ? { replicated_to: localSources(ctx)?.peerBucket } : {}), manifest: m, pruned: res.pruned.deleteKeys, phases_ms: res.phases },
      [
        `backup ${m.backup_id} (${m.tier}) of ${m.database}: ${m.size_readable}, ${m.checksum}`,
        `tables: ${Object.keys(m.tables ?? {}).length}, rows: ${Object.values(m.tables ?? {}).reduce((a, b) => a + b, 0)}`,
        `pruned: ${res.pruned.deleteKeys.length ? res.pruned.deleteKeys.join(', ') : 'nothing'}`,
        ...(copied ? [copied] : []),
      ].join('\n'),
    );
    return 0;
  },
};
