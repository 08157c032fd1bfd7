/**
 * The backup bucket's deletes are audited (issue 12 item 7, lib/audit.ts): a CloudTrail trail records them (S3 data
 * events — DeleteObject under the audited prefixes, DeleteObjects on the bucket) into a CloudWatch Logs group, a
 * metric filter on that group counts the ones made by someone other than the backup job, and an alarm watches the
 * metric. Not applicable to a scratch drill (it runs no backup job, and its bucket is thrown away).
 */
import type { PolicyResource, ReportViolation, StackValidationArgs } from '@pulumi/policy';
import { AUDITED_PREFIXES, BACKUP_DELETES_ALARM_ID } from '../../lib/audit';
import { ALARM_ID_TAG } from '../../lib/runbook';
import { dependenciesOf, inferRole, isBackupBucket, label, list, read, tagsOf, TYPES, UNKNOWN } from './model';

/** Whether the trail's selectors cover DeleteObject on every audited prefix and DeleteObjects on the bucket. */
function selectsDeletes(trail: PolicyResource, bucket: PolicyResource): boolean | typeof UNKNOWN {
  const selectors = list(trail.props, 'advancedEventSelectors');
  const arn = read(bucket.props, 'arn');
  if (selectors === UNKNOWN || typeof arn !== 'string') return dependenciesOf(trail, 'advancedEventSelectors').includes(bucket) ? UNKNOWN : false;
  const field = (s: unknown, name: string, kind: 'equals' | 'startsWiths'): string[] => {
    const fs = list(s, 'fieldSelectors');
    if (fs === UNKNOWN) return [];
    return fs.filter((f) => read(f, 'field') === name).flatMap((f) => {
      const v = list(f, kind);
      return v === UNKNOWN ? [] : v.filter((x): x is string => typeof x === 'string');
    });
  };
  const covers = (event: string, prefixes: string[]) =>
    selectors.some(
      (s) =>
        field(s, 'eventCategory', 'equals').includes('Data') &&
        (field(s, 'eventName', 'equals').length === 0 || field(s, 'eventName', 'equals').includes(event)) &&
        prefixes.every((p) => field(s, 'resources.ARN', 'startsWiths').some((start) => `${arn}/${p}`.startsWith(start) && start.startsWith(`${arn}/`))),
    );
  return covers('DeleteObject', [...AUDITED_PREFIXES]) && covers('DeleteObjects', ['']);
}

/** dr-backup-delete-audit: a trail of each backup bucket's deletes, a metric filter excluding the job, the alarm. */
export function drBackupDeleteAudit(args: StackValidationArgs, report: ReportViolation): void {
  if (inferRole(args.resources) === 'scratch') return args.notApplicable('a scratch drill runs no backup job');
  const trails = args.resources.filter((r) => r.type === TYPES.trail && read(r.props, 'enableLogging') !== false);
  const groups = args.resources.filter((r) => r.type === TYPES.logGroup);
  for (const bucket of args.resources.filter(isBackupBucket)) {
    const trail = trails.find((t) => selectsDeletes(t, bucket) !== false);
    if (!trail) {
      report(`${label(bucket)}: no CloudTrail trail records its deletes (S3 data events: DeleteObject under ${AUDITED_PREFIXES.join(', ')}, DeleteObjects on the bucket).`, bucket.urn);
      continue;
    }
    const group = groups.find((g) => dependenciesOf(trail, 'cloudWatchLogsGroupArn').includes(g));
    const role = read(trail.props, 'cloudWatchLogsRoleArn');
    if (!group || role === undefined || role === '') {
      report(`${label(trail)}: must deliver to a CloudWatch Logs group of the stack (cloudWatchLogsGroupArn, cloudWatchLogsRoleArn): a metric filter cannot read S3.`, trail.urn);
      continue;
    }
    const filters = args.resources.filter((r) => r.type === TYPES.metricFilter && dependenciesOf(r, 'logGroupName').includes(group));
    const filter = filters.find((f) => {
      const p = read(f.props, 'pattern');
      return p === UNKNOWN || (typeof p === 'string' && p.includes('"DeleteObject"') && p.includes('"DeleteObjects"') && /\$\.userIdentity\.arn\s*!=/.test(p));
    });
    if (!filter) {
      report(`${label(group)}: no metric filter counts the deletes of backups made by anyone but the backup job ($.userIdentity.arn != the job role's sessions).`, group.urn);
      continue;
    }
    const metric = read(filter.props, 'metricTransformation', 'name');
    const alarm = args.resources.find((r) => r.type === TYPES.alarm && tagsOf(r)[ALARM_ID_TAG] === BACKUP_DELETES_ALARM_ID && (metric === UNKNOWN || read(r.props, 'metricName') === metric));
    if (!alarm) report(`${label(filter)}: no ${BACKUP_DELETES_ALARM_ID} alarm watches its metric ${String(metric)}.`, filter.urn);
  }
}
