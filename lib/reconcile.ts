/**
 * What the failover's `reconcile` step updates: the resource types whose inputs differ between a secondary stack
 * and the same stack with `database.promoted = true` (the database drops its replica relationship and takes the
 * primary's posture; the backup schedules are enabled; the alarms and the token monitor act as the active region's;
 * the bot-token secrets are adopted; the replica-lag alarm goes). The reconcile `up` targets exactly these — so the
 * backup job's container image (a Docker build) is never on the failover's path — and their dependents.
 *
 * After an unplanned failover whose cache left the global datastore, the survivor also gets `cache.detached` and the
 * next `cache.globalDatastoreGeneration`: that adds the new `GlobalReplicationGroup` created from its group. The group
 * itself is NOT a target: the only input it loses (`globalReplicationGroupId`) is optional and computed, so the
 * provider plans no change for it (components/cache.ts) — the reconcile never touches the cluster that serves.
 *
 * test/components/reconcile-targets.test.ts runs the program both ways and fails when a resource of another type
 * changes, so this list cannot fall behind the program.
 */
export const RECONCILE_TARGET_TYPES = [
  'aws:rds/instance:Instance',
  'aws:scheduler/schedule:Schedule',
  'aws:cloudwatch/metricAlarm:MetricAlarm',
  'aws:lambda/function:Function',
  'bot-dr:secrets:BotTokens',
  'aws:secretsmanager/secret:Secret',
  'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup',
] as const;

/** Never in a reconcile: the image build needs Docker and the source tree on the operator's machine. */
export const RECONCILE_NEVER_TYPES = ['docker:index/image:Image'] as const;

/** The `--target` URN patterns for {@link RECONCILE_TARGET_TYPES} (any parent chain, any name). */
export function reconcileTargets(): string[] {
  return RECONCILE_TARGET_TYPES.map((t) => `**${t}::**`);
}
