import { restoreRedis } from '../../backup/index';
import { Command, JSON_FLAG } from '../command';
import { BUCKET_FLAG, bucketName, FROM_FLAG, LOCAL_SOURCE_FLAGS, localSources, makeStore, redisTools, requiredUrl, safetyLine } from './backup-shared';
import { localTempFiles } from '../../adapters/tools/temp-files';

export const command: Command = {
  name: 'restore redis',
  summary: 'verified restore: checksum first, load the RDB in a temporary server, copy keys (DUMP/RESTORE), compare',
  flags: {
    bucket: BUCKET_FLAG,
    from: FROM_FLAG,
    file: { type: 'string', description: 'restore this object key instead of --from' },
    'target-url': { type: 'string', description: 'Redis to restore into (must be empty unless --force; --local: the serving cache by default)' },
    force: { type: 'boolean', description: 'restore into a non-empty Redis, replacing keys present in the backup, after a safety backup of it under safety/' },
    'no-safety-backup': { type: 'boolean', description: 'with --force: skip the safety backup of the keys the restore overwrites (recorded in the result)' },
    ...LOCAL_SOURCE_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    const local = localSources(ctx);
    const targetUrl = local && !ctx.flags.has('target-url') ? local.urls['redis-url'] : requiredUrl(ctx, 'target-url', 'a Redis URL');
    const bucket = bucketName(ctx);
    const res = await restoreRedis({
      temp: localTempFiles(),
store: makeStore(ctx, bucket),
      tools: redisTools(ctx),
      targetUrl,
      from: ctx.flags.string('from'),
      file: ctx.flags.string('file'),
      force: ctx.flags.bool('force'),
      log: (l) => ctx.out.info(l),
      signal: ctx.signal,
      safetyBackup: !ctx.flags.bool('no-safety-backup'),
    });
    ctx.out.result(
      { ok: true, backup: res.manifest.key, checksum: res.manifest.checksum, target: res.target, forced: res.forced, ...(res.safetyBackup ? { safety_backup: res.safetyBackup } : {}), keys: res.keys, sample: res.sample, duration_seconds: res.durationSeconds },
      `restored ${res.manifest.key} into ${res.target}: checksum verified, ${res.keys.restored} keys, ${res.sample.compared} sampled values match${safetyLine(res.safetyBackup)}`,
    );
    return 0;
  },
};
