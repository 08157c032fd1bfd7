/**
 * Alarm shapes the components share. Plain data (no Pulumi): spread into `aws.cloudwatch.MetricAlarmArgs`, whose
 * types check every field where it is used.
 */

/** Any event counted in five minutes (job errors, failed tasks, dead letters, deletes); no datapoint is the normal state. */
export const ANY_IN_FIVE_MINUTES = {
  statistic: 'Sum',
  period: 300,
  evaluationPeriods: 1,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'notBreaching',
} as const;
