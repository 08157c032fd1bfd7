import { BACKUP_SERVICES, BackupService } from '../../../lib/lifecycle';
import { listBackups } from '../../backup/catalog';
import { checkBackups, CheckFinding } from '../../backup/check';
import { systemClock } from '../../backup/ports';
import { Command, JSON_FLAG } from '../command';
import { BUCKET_FLAG, bucketName, makeStore, SERVICE_FLAG } from './backup-shared';

export const command: Command = {
  name: 'backups check',
  summary: "fail (exit 1) when today's backup is missing or more than 50% smaller than the previous of its tier",
  flags: { bucket: BUCKET_FLAG, service: SERVICE_FLAG, ...JSON_FLAG },
  async run(ctx) {
    const bucket = bucketName(ctx);
    const only = ctx.flags.string('service') as BackupService | undefined;
    const services = only ? [only] : [...BACKUP_SERVICES];
    const entries = await listBackups(makeStore(ctx, bucket), { service: only });
    const now = systemClock.now();
    const findings: CheckFinding[] = services.flatMap((s) => checkBackups(s, entries, now));
    for (const f of findings) ctx.out.step(`${f.service} ${f.check}`, f.ok ? 'ok' : 'failed', undefined, f.message);
    const failed = findings.filter((f) => !f.ok).length;
    ctx.out.result({ ok: failed === 0, bucket, findings }, `${findings.length - failed}/${findings.length} checks passed`);
    return failed === 0 ? 0 : 1;
  },
};
