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

/**
 * Restore-test metrics (Service = postgresql; no Tier dimension).
 *
 * Publishing contract (the backup engine's side; see docs/infra-notes.md):
 *  - `RestoreTestAgeSeconds`: every run of the backup job for PostgreSQL — daily — publishes the age in seconds
 *    of the newest SUCCESSFUL restore test (the newest manifest with `restore_test.ok === true`, measured from its
 *    `restore_verified_at`). The restore-test run publishes it too (0 after a success). No successful restore
 *    test at all ⇒ publish nothing; the alarm's missing-data-breaching then fires on the primary.
 *  - `RestoreTestSuccess`: each restore-test run publishes 1 (restored, row counts matched) or 0 (backup failed
 *    the test, or the test could not run).
 * The age alarm fires when the newest successful restore test is older than
 * {@link RESTORE_TEST_MAX_AGE_SECONDS} (8 days: one weekly run may slip by a day before anyone is paged).
 */
export const RESTORE_TEST_AGE_METRIC = 'RestoreTestAgeSeconds';
export const RESTORE_TEST_SUCCESS_METRIC = 'RestoreTestSuccess';
/** The only service the restore test covers today (the value of the Service dimension). */
export const RESTORE_TEST_SERVICE = 'postgresql';
/** Age threshold of the newest successful restore test: 8 days. */
export const RESTORE_TEST_MAX_AGE_SECONDS = 8 * 86400;
