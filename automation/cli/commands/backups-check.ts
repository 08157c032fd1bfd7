import { BACKUP_SERVICES, BackupService } from '../../../lib/lifecycle';
import { checkBackups, CheckFinding, checkRestorability, listBackups, Manifest, readManifest } from '../../backup/index';
import { FlagError } from '../../core/errors';
import { Command, JSON_FLAG } from '../command';
import { BUCKET_FLAG, bucketName, LOCAL_SOURCE_FLAGS, makeStore, SERVICE_FLAG } from './backup-shared';
import { systemClock } from '../../core/clock';

export const command: Command = {
  name: 'backups check',
  summary: "fail (exit 1) when today's backup is missing or more than 50% smaller than the previous of its tier (and, with --verified-within, when no recent restore test passed)",
  flags: {
    bucket: BUCKET_FLAG,
    service: SERVICE_FLAG,
    'verified-within': { type: 'number', description: 'PostgreSQL: also fail unless a restore test proved a backup restorable within this many days (and the newest test passed)' },
    ...LOCAL_SOURCE_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    const bucket = bucketName(ctx);
    const only = ctx.flags.string('service') as BackupService | undefined;
    const services = only ? [only] : [...BACKUP_SERVICES];
    const within = ctx.flags.number('verified-within');
    if (within !== undefined && (!Number.isFinite(within) || within <= 0)) throw new FlagError(`--verified-within must be a positive number of days, got ${within}`);
    if (within !== undefined && only === 'redis') throw new FlagError('--verified-within applies to postgresql (restore tests restore PostgreSQL backups)');
    const store = makeStore(ctx, bucket);
    const entries = await listBackups(store, { service: only });
    const now = systemClock.now();
    const findings: CheckFinding[] = services.flatMap((s) => checkBackups(s, entries, now));
    if (within !== undefined) {
      const manifests: Manifest[] = [];
      for (const e of entries.filter((x) => x.service === 'postgresql' && x.complete)) manifests.push(await readManifest(store, e.dataKey));
      findings.push(...checkRestorability('postgresql', manifests, now, within));
    }
    for (const f of findings) ctx.out.step(`${f.service} ${f.check}`, f.ok ? 'ok' : 'failed', undefined, f.message);
    const failed = findings.filter((f) => !f.ok).length;
    ctx.out.result({ ok: failed === 0, bucket, findings }, `${findings.length - failed}/${findings.length} checks passed`);
    return failed === 0 ? 0 : 1;
  },
};
