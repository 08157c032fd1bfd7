/**
 * The CloudWatch metrics contract between the backup job (publisher) and the alarms (consumer).
 *
 * Publishing contract: every run of the backup job — at least once a day, whatever its tier — publishes
 * `BackupAgeSeconds` for every (Service, Tier) pair it knows, valued at the age of the newest complete,
 * verified backup of that pair. The alarms use a one-day period and treat missing data as breaching
 * on the primary, so a job that stops running is detected as surely as a job that fails.
 */

/** Custom metric namespace shared by the backup engine, the Lambda's IAM condition and the alarms. */
export const BACKUP_METRICS_NAMESPACE = 'BotDR/Backups';

/** Age in seconds of the newest good backup of a (Service, Tier). */
export const BACKUP_AGE_METRIC = 'BackupAgeSeconds';

/** Dimension names on the backup metrics. */
export const BACKUP_METRIC_DIMENSIONS = Object.freeze({ service: 'Service', tier: 'Tier' });
