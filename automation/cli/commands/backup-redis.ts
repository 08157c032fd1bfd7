import { BackupTier } from '../../../lib/lifecycle';
import { backupRedis } from '../../backup/index';
import { Command, JSON_FLAG } from '../command';
import { BUCKET_FLAG, bucketName, keepCounts, LOCAL_SOURCE_FLAGS, localSources, makeStore, replicateLocally, REDIS_URL_FLAG, redisTools, requiredUrl, TIER_FLAG } from './backup-shared';
import { systemClock } from '../../core/clock';

export const command: Command = {
  name: 'backup redis',
  summary: 'stream an RDB snapshot (redis-cli --rdb) to the backup bucket with a sha256 manifest, prune the tier',
  flags: { 'redis-url': REDIS_URL_FLAG, bucket: BUCKET_FLAG, tier: TIER_FLAG, ...LOCAL_SOURCE_FLAGS, ...JSON_FLAG },
  async run(ctx) {
    const url = requiredUrl(ctx, 'redis-url', 'REDIS_URL');
    const bucket = bucketName(ctx);
    const tier = ctx.flags.required('tier') as BackupTier;
    const t0 = Date.now();
    const res = await backupRedis({
      url,
      tier,
      store: makeStore(ctx, bucket),
      tools: redisTools(ctx),
      clock: systemClock,
      keep: keepCounts(ctx.env),
      log: (l) => ctx.out.info(l),
      signal: ctx.signal,
    });
    const m = res.manifest;
    ctx.out.step('backup redis', 'ok', Date.now() - t0, `${m.size_readable} ${m.key}`);
    const copied = await replicateLocally(ctx, { dataKey: m.key, manifestKey: res.manifestKey });
    ctx.out.result(
      { ok: true, bucket, manifest_key: res.manifestKey, ...(copied ? { replicated_to: localSources(ctx)?.peerBucket } : {}), manifest: m, pruned: res.pruned.deleteKeys },
      `backup ${m.backup_id} (${m.tier}): ${m.keys} keys, ${m.size_readable}, ${m.checksum}\npruned: ${res.pruned.deleteKeys.length ? res.pruned.deleteKeys.join(', ') : 'nothing'}${copied ? `\n${copied}` : ''}`,
    );
    return 0;
  },
};
