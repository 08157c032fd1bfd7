/**
 * Backup readiness: the newest backup of each service and tier is in BOTH regions' buckets (cross-region
 * replication works) and within its tier's period; (AWS) the newest restore test is VERIFIED and under 8 days old,
 * and S3 replication reports no failed operations.
 */
import { BACKUP_AGE_THRESHOLD_SECONDS, BACKUP_SERVICES, type BackupService, type BackupTier } from '../../../lib/lifecycle';
import { READINESS_LIMITS } from '../../../lib/readiness';
import { isUnobserved, type BackupsObservation, type BackupView } from '../ports';
import { ageSeconds, byEnv, define, duration, fail, notObserved, observed, outcome, pass, warn, type CheckContext, type Outcome } from './common';

function backupFix(ctx: CheckContext, service: BackupService, tier: BackupTier): string {
  return byEnv(ctx, {
    aws: `dr backups check (the scheduled job's last runs and alarms); take one now: aws lambda invoke --function-name <prefix>-<region>-backup-job --payload '{"service":"${service}","tier":"${tier}"}'`,
    local: `dr backup ${service === 'postgresql' ? 'postgres' : 'redis'} --local --tier ${tier}`,
  });
}

function copyFix(ctx: CheckContext, from: string, to: string): string {
  return byEnv(ctx, {
    aws: `check the replication of s3://${from} (S3 console → Replication: metrics, failed operations; the role's kms:Encrypt on the peer key); copy the missing objects: aws s3 cp s3://${from}/<key> s3://${to}/<key> (data first, then its .metadata.json)`,
    local: `the rehearsal has no S3 replication (dr drill --local copies ${from} to ${to}); copy the backup and its .metadata.json from s3://${from} to s3://${to} on the environment's S3 server`,
  });
}

/** One service and tier across both buckets. */
function tierOutcomes(o: BackupsObservation, ctx: CheckContext, service: BackupService, tier: BackupTier): Outcome[] {
  const res = `${service}/${tier}`;
  const listed = o.buckets.map((b) => ({ ...b, list: isUnobserved(b.entries) ? undefined : (b.entries as BackupView[]).filter((e) => e.service === service && e.tier === tier && e.complete) }));
  const out: Outcome[] = [];
  for (const b of listed) if (isUnobserved(b.entries)) out.push(notObserved(`s3://${b.bucket}/${res}`, b.entries, byEnv(ctx, { aws: `check s3:ListBucket on ${b.bucket} and that ${b.region} answers`, local: 'dr status --local (is the S3 server running?)' })));
  const seen = listed.filter((b) => b.list);
  if (!seen.length) return out;
  const newest = seen.flatMap((b) => b.list!).sort((x, y) => Date.parse(y.date) - Date.parse(x.date) || y.dataKey.localeCompare(x.dataKey))[0];
  const serious = tier === 'daily' ? 'fail' : 'warn';
  if (!newest) return [...out, outcome(serious, res, `no complete ${tier} ${service} backup in ${seen.map((b) => `s3://${b.bucket}`).join(' or ')}`, backupFix(ctx, service, tier))];
  const age = ageSeconds(newest.date, ctx.now);
  const limit = BACKUP_AGE_THRESHOLD_SECONDS[tier];
  if (age > limit) out.push(outcome(serious, res, `the newest ${tier} ${service} backup (${newest.dataKey}) is ${duration(age)} old, over the tier's ${duration(limit)}`, backupFix(ctx, service, tier)));
  const holder = seen.find((b) => b.list!.some((e) => e.dataKey === newest.dataKey))!;
  for (const b of seen) {
    if (b.list!.some((e) => e.dataKey === newest.dataKey)) continue;
    const inFlight = ctx.environment === 'aws' && age < READINESS_LIMITS.replicationGraceSeconds;
    out.push(outcome(inFlight ? 'warn' : 'fail', `s3://${b.bucket}/${res}`, `the newest ${tier} ${service} backup ${newest.dataKey} (${duration(age)} old) is not in s3://${b.bucket}${inFlight ? ' yet (replication takes up to 15 minutes)' : ''}`, copyFix(ctx, holder.bucket, b.bucket)));
  }
  if (!out.length) out.push(pass(res, `${newest.dataKey}, ${duration(age)} old, in ${seen.map((b) => `s3://${b.bucket}`).join(' and ')}`));
  return out;
}

export const newest = define({
  name: 'backups.newest',
  area: 'backups',
  environments: ['aws', 'local'],
  rules: {
    pass: "the newest complete backup of each service and tier is in both regions' buckets and within its tier's period (daily 26 h, weekly 8 d, monthly 32 d)",
    warn: 'a weekly/monthly tier missing or overdue, or the newest backup is under 15 min old and not replicated yet',
    fail: 'the daily tier missing or overdue, a backup missing from a bucket (replication broken), or a bucket that cannot be listed',
  },
  run(o, ctx) {
    return BACKUP_SERVICES.flatMap((s) => o.tiers.flatMap((t) => tierOutcomes(o, ctx, s, t)));
  },
});

export const restoreTest = define({
  name: 'backups.restore-test',
  area: 'backups',
  environments: ['aws'],
  rules: { pass: 'the newest restore test is VERIFIED and under 8 days old', warn: '—', fail: 'it failed, is older, or none ever ran' },
  run(o, ctx) {
    const fix = 'dr backups verify-restore --from latest --scratch-url URL (the weekly schedule postgresql-restore-test runs Sundays 06:00 UTC; its alarm is restore-test-age)';
    const r = observed(o.restoreTest, 'restore test', fix);
    if ('outcome' in r) return [r.outcome];
    const res = `s3://${r.value.bucket}/postgresql`;
    const n = r.value.newest;
    if (!n) return [fail(res, 'no restore test has ever run on these backups', fix)];
    const age = ageSeconds(n.at, ctx.now);
    if (!n.ok) return [fail(res, `the newest restore test (${n.key}, ${duration(age)} ago) FAILED${n.error ? `: ${n.error}` : ''}`, fix)];
    if (age > READINESS_LIMITS.restoreTestMaxAgeDays * 86400) return [fail(res, `the newest successful restore test (${n.key}) is ${duration(age)} old, over ${READINESS_LIMITS.restoreTestMaxAgeDays} days`, fix)];
    return [pass(res, `VERIFIED ${duration(age)} ago (${n.key})`)];
  },
});

export const replication = define({
  name: 'backups.replication',
  area: 'backups',
  environments: ['aws'],
  rules: { pass: 'no failed replication operations in 24 h', warn: 'no replication metrics reported in 24 h', fail: 'failed replication operations' },
  run(o) {
    const fix = 'S3 console → the bucket → Replication: the failed operations\' reasons (usually the replication role\'s KMS permissions or a deleted destination); re-run the copy for the missing objects';
    const r = observed(o.replication, 'bucket replication', fix);
    if ('outcome' in r) return [r.outcome];
    const { source, destination, failed, windowHours } = r.value;
    const res = `s3://${source} → s3://${destination}`;
    if (failed === null) return [warn(res, `no replication metrics (OperationsFailedReplication) in ${windowHours} h: is the rule's metrics setting still Enabled?`, 'pulumi up the primary stack (components/backup-bucket.ts enables replication metrics)')];
    if (failed > 0) return [fail(res, `${failed} replication operation(s) failed in the last ${windowHours} h`, fix)];
    return [pass(res, `no failed replication in ${windowHours} h`)];
  },
});

export const BACKUP_CHECKS = [newest, restoreTest, replication];
