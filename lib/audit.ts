/**
 * The audit of the backup bucket (issue 12 item 7), as plain data: where its traces go, which CloudTrail events are
 * recorded, and the CloudWatch Logs filter pattern that counts the deletes made by anyone but the backup job.
 * components/backup-audit.ts declares the resources; no Pulumi, no AWS SDK here.
 *
 * Two traces, because they answer different questions:
 * - S3 server access logs (into the region's audit log bucket, under {@link ACCESS_LOG_PREFIX}): one record per
 *   request — every read (GET/HEAD), write and delete of every object, with the requester, the key and the result,
 *   DeleteObjects included key by key. Delivered within hours, best effort; for investigations.
 * - A CloudTrail trail with S3 data events of the bucket's deletes (into the same log bucket under
 *   {@link TRAIL_LOG_PREFIX}, and into a KMS-encrypted CloudWatch Logs group): minutes, and a metric filter can
 *   read it, so an alarm fires. S3 access logs land in S3, which a metric filter cannot read.
 *
 * CloudTrail and DeleteObjects: a multi-object delete (`DeleteObjects`, what the console and the backup job's
 * pruning use) is logged only for a selector on the bucket with an EMPTY prefix, and without the deleted keys (S3
 * user guide, "Amazon S3 CloudTrail events"). So the trail selects `DeleteObject` on the audited prefixes and
 * `DeleteObjects` on the whole bucket, and the filter counts every `DeleteObjects` by another principal — it cannot
 * tell which prefixes one touched (the access logs can).
 */
import { BACKUP_SERVICES } from './lifecycle';

/** How long the audit traces are kept, in days (the log bucket's lifecycle, the trail's log group). */
export const AUDIT_RETENTION_DAYS = 365;
/** Key prefix of the backup bucket's server access logs in the audit log bucket. */
export const ACCESS_LOG_PREFIX = 'access-logs/';
/** The trail's S3 key prefix in the audit log bucket (CloudTrail appends `/AWSLogs/<account>/…`). */
export const TRAIL_LOG_PREFIX = 'cloudtrail';
/** The backup prefixes whose deletes are audited: `postgresql/`, `redis/`. */
export const AUDITED_PREFIXES: readonly string[] = Object.freeze(BACKUP_SERVICES.map((s) => `${s}/`));

/** The metric the delete filter publishes (one per matching event) and the alarm watches. */
export const BACKUP_DELETES_METRIC = Object.freeze({ namespace: 'BotDR/Audit', name: 'BackupDeletesByOthers' });
/** The alarm's id (lib/runbook.ts `incidentForAlarm`, runbook.yaml). */
export const BACKUP_DELETES_ALARM_ID = 'backup-deletes';

/** An advanced event selector, in the shape of `aws.cloudtrail.Trail`'s `advancedEventSelectors[]`. */
export interface AdvancedEventSelector {
  name: string;
  fieldSelectors: { field: string; equals?: string[]; startsWiths?: string[] }[];
}

/** `arn:aws:s3:::bucket` → the bucket name (throws on anything else). */
export function s3BucketNameOfArn(bucketArn: string): string {
  const m = /^arn:aws[a-z-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/.exec(bucketArn);
  if (!m) throw new Error(`not an S3 bucket ARN: ${JSON.stringify(bucketArn)}`);
  return m[1];
}

/**
 * The trail's selectors: data events of S3 objects only (no management events, no reads), `DeleteObject` under each
 * audited prefix, `DeleteObjects` on the bucket (see the module doc).
 */
export function backupAuditEventSelectors(bucketArn: string, prefixes: readonly string[] = AUDITED_PREFIXES): AdvancedEventSelector[] {
  s3BucketNameOfArn(bucketArn);
  if (prefixes.length === 0 || prefixes.some((p) => !/^[a-z0-9][a-z0-9-]*\/$/.test(p))) throw new Error(`audited prefixes must be like postgresql/, got ${JSON.stringify(prefixes)}`);
  const objects = [
    { field: 'eventCategory', equals: ['Data'] },
    { field: 'resources.type', equals: ['AWS::S3::Object'] },
  ];
  return [
    { name: 'backup-object-deletes', fieldSelectors: [...objects, { field: 'eventName', equals: ['DeleteObject'] }, { field: 'resources.ARN', startsWiths: prefixes.map((p) => `${bucketArn}/${p}`) }] },
    { name: 'backup-batch-deletes', fieldSelectors: [...objects, { field: 'eventName', equals: ['DeleteObjects'] }, { field: 'resources.ARN', startsWiths: [`${bucketArn}/`] }] },
  ];
}

/**
 * The ARN pattern of every session of a role: a Lambda function's calls are made as
 * `arn:aws:sts::<account>:assumed-role/<role name>/<function name>` (CloudTrail's `userIdentity.arn`).
 */
export function assumedRoleArnPattern({ partition = 'aws', account, roleName }: { partition?: string; account: string; roleName: string }): string {
  if (!/^\d{12}$/.test(account)) throw new Error(`account must be 12 digits, got ${JSON.stringify(account)}`);
  if (!/^[\w+=,.@-]{1,64}$/.test(roleName)) throw new Error(`not an IAM role name: ${JSON.stringify(roleName)}`);
  return `arn:${partition}:sts::${account}:assumed-role/${roleName}/*`;
}

/**
 * The CloudWatch Logs filter pattern of the deletes to alarm on: in `bucketName`, a `DeleteObject` of a key under an
 * audited prefix or any `DeleteObjects`, whoever made it unless it is a session of the backup job's role. Attempts
 * count too (a denied delete is no `errorCode` filter away from a successful one).
 */
export function backupDeletesFilterPattern(p: { bucketName: string; partition?: string; account: string; jobRoleName: string; prefixes?: readonly string[] }): string {
  const prefixes = p.prefixes ?? AUDITED_PREFIXES;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(p.bucketName)) throw new Error(`not a bucket name: ${JSON.stringify(p.bucketName)}`);
  const keys = prefixes.map((prefix) => `($.requestParameters.key = "${prefix}*")`).join(' || ');
  const job = assumedRoleArnPattern({ partition: p.partition, account: p.account, roleName: p.jobRoleName });
  return (
    `{ ($.eventSource = "s3.amazonaws.com") && ($.requestParameters.bucketName = "${p.bucketName}")` +
    ` && ((($.eventName = "DeleteObject") && (${keys})) || ($.eventName = "DeleteObjects"))` +
    ` && ($.userIdentity.arn != "${job}") }`
  );
}
