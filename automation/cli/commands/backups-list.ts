import { BackupService, BackupTier } from '../../../lib/lifecycle';
import { listBackups, sizeReadable } from '../../backup/index';
import { Command, JSON_FLAG } from '../command';
import { BUCKET_FLAG, bucketName, LOCAL_SOURCE_FLAGS, makeStore, SERVICE_FLAG, TIER_FILTER_FLAG } from './backup-shared';

export const command: Command = {
  name: 'backups list',
  summary: 'list backups in the bucket (newest first), marking incomplete ones',
  flags: { bucket: BUCKET_FLAG, service: SERVICE_FLAG, tier: TIER_FILTER_FLAG, ...LOCAL_SOURCE_FLAGS, ...JSON_FLAG },
  async run(ctx) {
    const bucket = bucketName(ctx);
    const entries = (
      await listBackups(makeStore(ctx, bucket), {
        service: ctx.flags.string('service') as BackupService | undefined,
        tier: ctx.flags.string('tier') as BackupTier | undefined,
      })
    ).reverse();
    const rows = entries.map((e) => ({
      service: e.service,
      tier: e.tier,
      backup_id: e.id,
      timestamp: e.date.toISOString(),
      key: e.dataKey,
      size_bytes: e.size ?? null,
      complete: e.complete,
    }));
    const lines = rows.map((r) => `${r.timestamp}  ${r.service.padEnd(10)} ${r.tier.padEnd(7)} ${(r.size_bytes === null ? '-' : sizeReadable(r.size_bytes)).padStart(7)}  ${r.key}${r.complete ? '' : '  (INCOMPLETE: not restorable)'}`);
    ctx.out.result({ ok: true, bucket, backups: rows }, rows.length ? lines.join('\n') : `no backups in s3://${bucket}`);
    return 0;
  },
};
