import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import {
  BACKUP_AGE_METRIC,
  BACKUP_METRICS_NAMESPACE,
  BACKUP_METRIC_DIMENSIONS,
  RESTORE_TEST_AGE_METRIC,
  RESTORE_TEST_MAX_AGE_SECONDS,
  RESTORE_TEST_SERVICE,
  RESTORE_TEST_SUCCESS_METRIC,
} from '../lib/backup-metrics';
import { BACKUP_AGE_THRESHOLD_SECONDS, BACKUP_SERVICES, BACKUP_TIERS } from '../lib/lifecycle';
import { alertsKeyPolicy, alertsTopicPolicy, arnAccount, arnPartition } from '../lib/policies';
import { ROUTE53_METRICS_REGION } from '../lib/roles';
import { ALARM_ID_TAG, alarmRunbookSuffix } from '../lib/runbook';
import { isEmailAddress, isHttpsUrl } from '../lib/validators';

/** Arguments of {@link Alerts}. */
export interface AlertsArgs {
  /** Provider of this stack's region (topic and regional alarms). */
  provider: aws.Provider;
  /** This region, e.g. `us-west-2`. */
  region: string;
  /** Stack role. Backup-age alarms treat missing data as breaching only on `primary` (where jobs run). */
  role: 'primary' | 'secondary' | 'scratch';
  /** Naming prefix for the topics. */
  namePrefix: string;
  /**
   * ARN of the region's KMS key encrypting the topic. Its key policy must let CloudWatch use it
   * (`cloudWatchAlarmsKeyStatements` in lib/policies.ts) or alarms cannot publish.
   */
  kmsKeyArn: pulumi.Input<string>;
  /** Email addresses subscribed to the topic (each must confirm the subscription). */
  emails: string[];
  /** Optional HTTPS webhook subscribed to the topic (treated as a secret: webhook URLs embed tokens). */
  webhookUrl?: pulumi.Input<string>;
  /** Route 53 health check to alarm on. Its metric lives in us-east-1 (see `usEast1Provider`). */
  healthCheckId?: pulumi.Input<string>;
  /**
   * A us-east-1 provider, required with `healthCheckId` when `region` is not us-east-1: the health-check
   * alarm and a small KMS-encrypted topic (with the same subscribers) are created there, because an
   * alarm can only notify a topic in its own region.
   */
  usEast1Provider?: aws.Provider;
  /** Identifier of this region's read replica (secondary); adds the replica-lag alarm. */
  replicaDbIdentifier?: pulumi.Input<string>;
  /** Replica-lag threshold in seconds — the RPO budget. Default 900 (15 minutes). */
  replicaLagSeconds?: number;
  /** Identifier of this region's DB instance; adds free-storage and CPU alarms. */
  dbInstanceIdentifier?: pulumi.Input<string>;
  /** Allocated storage in GB; the free-storage alarm fires below 10 % of it (at least 1 GiB). Default 20. */
  dbAllocatedStorageGb?: number;
  /** CPU utilisation alarm threshold in percent. Default 80. */
  dbCpuPercent?: number;
  /** Backup-job function name; adds the Lambda errors alarm. */
  backupFunctionName?: pulumi.Input<string>;
  /**
   * Backup task-failure rule name (runner fargate: EventBridge rule matching the job's ECS tasks that stopped with a
   * failure); adds the task-failed alarm on its TriggeredRules.
   */
  backupTaskFailureRuleName?: pulumi.Input<string>;
  /** Backup-job dead-letter queue name; adds an alarm on messages in it. */
  backupDlqName?: pulumi.Input<string>;
  /** Add the backup-age alarms (BackupAgeSeconds per service and tier) and the restore-test alarms. Default true. */
  backupAgeAlarms?: boolean;
  /** Tags on taggable children. */
  tags?: Record<string, string>;
}

/** Validates Alerts args; errors name the key and what is allowed. */
export function validateAlertsArgs(args: AlertsArgs): void {
  for (const [i, e] of args.emails.entries()) {
    if (!isEmailAddress(e)) throw new Error(`alerts.emails[${i}]: not an email address: ${JSON.stringify(e)}`);
  }
  if (typeof args.webhookUrl === 'string' && !isHttpsUrl(args.webhookUrl)) {
    throw new Error('alerts.webhookUrl: must be an https:// URL');
  }
  const lag = args.replicaLagSeconds ?? 900;
  if (!Number.isInteger(lag) || lag < 1) throw new Error(`alerts.replicaLagSeconds: must be a whole number of seconds ≥ 1, got ${JSON.stringify(lag)}`);
  const cpu = args.dbCpuPercent ?? 80;
  if (!(cpu > 0 && cpu <= 100)) throw new Error(`alerts.dbCpuPercent: must be in (0, 100], got ${JSON.stringify(cpu)}`);
  const gb = args.dbAllocatedStorageGb ?? 20;
  if (!(gb > 0)) throw new Error(`alerts.dbAllocatedStorageGb: must be > 0, got ${JSON.stringify(gb)}`);
  if (args.healthCheckId !== undefined && args.region !== ROUTE53_METRICS_REGION && !args.usEast1Provider) {
    throw new Error(`usEast1Provider: required with healthCheckId when the region (${args.region}) is not ${ROUTE53_METRICS_REGION} — Route 53 metrics exist only there`);
  }
}

/** Free-storage threshold in bytes: 10 % of allocated storage, at least 1 GiB. */
export function freeStorageThresholdBytes(allocatedGb: number): number {
  return Math.max(1024 ** 3, Math.floor(allocatedGb * 1024 ** 3 * 0.1));
}

/**
 * Alerting for one region: a KMS-encrypted SNS topic (email and optional HTTPS webhook subscribers, a
 * policy letting CloudWatch alarms publish) and CloudWatch alarms — replica lag above the RPO budget,
 * backup age above each tier's period, the Route 53 health check failing, backup-job errors and
 * dead letters, DB free storage and CPU. Every alarm notifies on ALARM and on OK.
 */
export class Alerts extends pulumi.ComponentResource {
  /** The region's alerts topic. */
  readonly topicArn: pulumi.Output<string>;
  /** The topic the health-check alarm notifies (the regional one in us-east-1, else a us-east-1 topic). */
  readonly healthCheckTopicArn?: pulumi.Output<string>;
  /** Names of the alarms, by purpose. */
  readonly alarmNames: pulumi.Output<string>[];

  constructor(name: string, args: AlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:alerts:Alerts', name, {}, opts);
    validateAlertsArgs(args);
    const base: AlertsBase = { tags: { ...args.tags, 'bot-dr:component': 'alerts' }, account: pulumi.output(args.kmsKeyArn).apply(arnAccount) };
    this.alarmNames = [];

    const topic = createTopic(name, args, this, base, { suffix: '', kmsKeyArn: args.kmsKeyArn, provider: args.provider });
    this.topicArn = topic.arn;
    const alarm = alarmFactory(name, args, this, base, topic, this.alarmNames);

    if (args.replicaDbIdentifier !== undefined) replicaLagAlarm(args, args.replicaDbIdentifier, alarm);
    if (args.backupAgeAlarms ?? true) {
      backupAgeAlarms(args, alarm);
      restoreTestAlarms(args, alarm);
    }
    // The health check failing — in us-east-1, where Route 53 publishes its metrics.
    if (args.healthCheckId !== undefined) this.healthCheckTopicArn = createHealthCheckAlarm(name, args, this, base, { healthCheckId: args.healthCheckId, topic, alarm }).arn;
    backupJobAlarms(args, alarm);
    if (args.dbInstanceIdentifier !== undefined) databaseAlarms(args, args.dbInstanceIdentifier, alarm);

    this.registerOutputs({ topicArn: this.topicArn, healthCheckTopicArn: this.healthCheckTopicArn });
  }
}

/** Tags and the account shared by the alerts' parts. */
interface AlertsBase {
  /** Tags of taggable children. */
  tags: Record<string, string>;
  /** The account of the region's key (the topic policy's scope). */
  account: pulumi.Output<string>;
}

/** Declares one alarm `<prefix>-<region>-<id>` notifying `to` (default: the region's topic) on ALARM and on OK. */
type AlarmFn = (id: string, spec: Omit<aws.cloudwatch.MetricAlarmArgs, 'alarmActions' | 'okActions' | 'name' | 'alarmDescription'> & { alarmDescription: string }, to?: aws.sns.Topic, provider?: aws.Provider) => void;

/** A KMS-encrypted topic `<prefix>-alerts<suffix>` that CloudWatch alarms may publish to, with the e-mail and webhook subscribers. */
function createTopic(
  name: string,
  args: AlertsArgs,
  parent: pulumi.Resource,
  { tags, account }: AlertsBase,
  { suffix, kmsKeyArn, provider }: { suffix: string; kmsKeyArn: pulumi.Input<string>; provider: aws.Provider },
): aws.sns.Topic {
  const o = { parent, provider };
  const topic = new aws.sns.Topic(`${name}${suffix}-topic`, { name: `${args.namePrefix}-alerts${suffix}`, kmsMasterKeyId: kmsKeyArn, tags }, o);
  new aws.sns.TopicPolicy(
    `${name}${suffix}-topic-policy`,
    { arn: topic.arn, policy: pulumi.all([topic.arn, account]).apply(([topicArn, a]) => JSON.stringify(alertsTopicPolicy({ topicArn, account: a }))) },
    o,
  );
  args.emails.forEach((email, i) => {
    new aws.sns.TopicSubscription(`${name}${suffix}-email-${i}`, { topic: topic.arn, protocol: 'email', endpoint: email }, o);
  });
  if (args.webhookUrl !== undefined) {
    new aws.sns.TopicSubscription(
      `${name}${suffix}-webhook`,
      { topic: topic.arn, protocol: 'https', endpoint: pulumi.secret(args.webhookUrl), endpointAutoConfirms: false },
      o,
    );
  }
  return topic;
}

/**
 * The {@link AlarmFn} of this component: alarms are its children, their names collected in `names`. Every alarm's
 * description ends with its runbook incident (lib/runbook.ts `incidentForAlarm`, runbook.yaml): an alarm id without
 * an incident fails the program before anything is declared.
 */
function alarmFactory(name: string, args: AlertsArgs, parent: pulumi.Resource, { tags }: AlertsBase, topic: aws.sns.Topic, names: pulumi.Output<string>[]): AlarmFn {
  return (id, spec, to = topic, provider = args.provider) => {
    const alarmDescription = `${spec.alarmDescription}${alarmRunbookSuffix(id)}`;
    const a = new aws.cloudwatch.MetricAlarm(
      `${name}-${id}`,
      { ...spec, alarmDescription, name: `${args.namePrefix}-${args.region}-${id}`, alarmActions: [to.arn], okActions: [to.arn], tags: { ...tags, [ALARM_ID_TAG]: id } },
      { parent, provider },
    );
    names.push(a.name);
  };
}

/** Replica lag above the RPO budget (secondary, while it is a replica). */
function replicaLagAlarm(args: AlertsArgs, replicaDbIdentifier: pulumi.Input<string>, alarm: AlarmFn): void {
  alarm('replica-lag', {
    alarmDescription: `Read replica lag above the RPO budget (${args.replicaLagSeconds ?? 900} s)`,
    namespace: 'AWS/RDS',
    metricName: 'ReplicaLag',
    dimensions: { DBInstanceIdentifier: replicaDbIdentifier },
    statistic: 'Maximum',
    period: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    threshold: args.replicaLagSeconds ?? 900,
    comparisonOperator: 'GreaterThanThreshold',
    // A replica that stops reporting lag has an unknown RPO: treat it as breaching.
    treatMissingData: 'breaching',
  });
}

/**
 * Backup age above each tier's period. One-day period: the job publishes every (service, tier) at
 * least daily (lib/backup-metrics.ts), so a missing datapoint on the primary means it did not run.
 */
function backupAgeAlarms(args: AlertsArgs, alarm: AlarmFn): void {
  for (const service of BACKUP_SERVICES) {
    for (const tier of BACKUP_TIERS) {
      alarm(`backup-age-${service}-${tier}`, {
        alarmDescription: `Newest ${tier} ${service} backup older than ${BACKUP_AGE_THRESHOLD_SECONDS[tier]} s`,
        namespace: BACKUP_METRICS_NAMESPACE,
        metricName: BACKUP_AGE_METRIC,
        dimensions: { [BACKUP_METRIC_DIMENSIONS.service]: service, [BACKUP_METRIC_DIMENSIONS.tier]: tier },
        statistic: 'Maximum',
        period: 86400,
        evaluationPeriods: 1,
        threshold: BACKUP_AGE_THRESHOLD_SECONDS[tier],
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: args.role === 'primary' ? 'breaching' : 'notBreaching',
      });
    }
  }
}

/**
 * Restore tests: the newest SUCCESSFUL restore test older than 8 days (RestoreTestAgeSeconds, published daily
 * by the PostgreSQL backup run — lib/backup-metrics.ts), and a restore test that failed (RestoreTestSuccess 0).
 * Same missing-data rule as the backup-age alarms: on the primary, no datapoint means nothing proves the
 * backups restore, which is breaching.
 */
function restoreTestAlarms(args: AlertsArgs, alarm: AlarmFn): void {
  const dimensions = { [BACKUP_METRIC_DIMENSIONS.service]: RESTORE_TEST_SERVICE };
  alarm(`restore-test-age-${RESTORE_TEST_SERVICE}`, {
    alarmDescription: `Newest successful ${RESTORE_TEST_SERVICE} restore test older than ${RESTORE_TEST_MAX_AGE_SECONDS} s (8 days), or none published`,
    namespace: BACKUP_METRICS_NAMESPACE,
    metricName: RESTORE_TEST_AGE_METRIC,
    dimensions,
    statistic: 'Maximum',
    period: 86400,
    evaluationPeriods: 1,
    threshold: RESTORE_TEST_MAX_AGE_SECONDS,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: args.role === 'primary' ? 'breaching' : 'notBreaching',
  });
  alarm(`restore-test-failed-${RESTORE_TEST_SERVICE}`, {
    alarmDescription: `A ${RESTORE_TEST_SERVICE} restore test failed or could not run`,
    namespace: BACKUP_METRICS_NAMESPACE,
    metricName: RESTORE_TEST_SUCCESS_METRIC,
    dimensions,
    statistic: 'Minimum',
    period: 86400,
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: 'LessThanThreshold',
    // Published only on restore-test runs (weekly): silence between runs is normal, the age alarm covers it.
    treatMissingData: 'notBreaching',
  });
}

/**
 * The health-check alarm, in us-east-1 where Route 53 publishes its metrics: on the region's topic in us-east-1,
 * elsewhere on a small topic there under its own key (an alarm can only notify a topic in its own region).
 * Returns the topic the alarm notifies.
 */
function createHealthCheckAlarm(
  name: string,
  args: AlertsArgs,
  parent: pulumi.Resource,
  base: AlertsBase,
  { healthCheckId, topic, alarm }: { healthCheckId: pulumi.Input<string>; topic: aws.sns.Topic; alarm: AlarmFn },
): aws.sns.Topic {
  let hcTopic = topic;
  let hcProvider = args.provider;
  if (args.region !== ROUTE53_METRICS_REGION) {
    hcProvider = args.usEast1Provider!;
    const key = new aws.kms.Key(
      `${name}-use1-key`,
      {
        description: `${args.namePrefix} health-check alerts topic (${ROUTE53_METRICS_REGION})`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.all([base.account, pulumi.output(args.kmsKeyArn).apply(arnPartition)]).apply(([a, p]) => JSON.stringify(alertsKeyPolicy({ account: a, partition: p }))),
        tags: base.tags,
      },
      { parent, provider: hcProvider },
    );
    hcTopic = createTopic(name, args, parent, base, { suffix: `-${args.region}-hc`, kmsKeyArn: key.arn, provider: hcProvider });
  }
  alarm(
    'health-check',
    {
      alarmDescription: `Route 53 health check of the ${args.region} endpoint is failing`,
      namespace: 'AWS/Route53',
      metricName: 'HealthCheckStatus',
      dimensions: { HealthCheckId: healthCheckId },
      statistic: 'Minimum',
      period: 60,
      evaluationPeriods: 2,
      threshold: 1,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'breaching',
    },
    hcTopic,
    hcProvider,
  );
  return hcTopic;
}

/** The backup job failing (Lambda errors, or a failed Fargate task) and backup invocations dead-lettered, for the names given. */
function backupJobAlarms(args: AlertsArgs, alarm: AlarmFn): void {
  if (args.backupFunctionName !== undefined) {
    alarm('backup-job-errors', {
      alarmDescription: 'The backup job failed',
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: args.backupFunctionName },
      statistic: 'Sum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });
  }
  if (args.backupTaskFailureRuleName !== undefined) {
    alarm('backup-task-failed', {
      alarmDescription: 'The backup task (ECS Fargate) stopped with a failure: non-zero exit, or it never started',
      namespace: 'AWS/Events',
      metricName: 'TriggeredRules',
      dimensions: { RuleName: args.backupTaskFailureRuleName },
      statistic: 'Sum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });
  }
  if (args.backupDlqName !== undefined) {
    alarm('backup-job-dead-letters', {
      alarmDescription: 'Backup invocations were dead-lettered (failed after retries or never delivered)',
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: args.backupDlqName },
      statistic: 'Maximum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });
  }
}

/** DB free storage below 10 % of allocated, and CPU above the threshold for 15 minutes. */
function databaseAlarms(args: AlertsArgs, dbInstanceIdentifier: pulumi.Input<string>, alarm: AlarmFn): void {
  alarm('db-free-storage', {
    alarmDescription: 'Database free storage below 10 % of allocated',
    namespace: 'AWS/RDS',
    metricName: 'FreeStorageSpace',
    dimensions: { DBInstanceIdentifier: dbInstanceIdentifier },
    statistic: 'Minimum',
    period: 300,
    evaluationPeriods: 2,
    threshold: freeStorageThresholdBytes(args.dbAllocatedStorageGb ?? 20),
    comparisonOperator: 'LessThanThreshold',
    treatMissingData: 'missing',
  });
  alarm('db-cpu', {
    alarmDescription: `Database CPU above ${args.dbCpuPercent ?? 80} % for 15 minutes`,
    namespace: 'AWS/RDS',
    metricName: 'CPUUtilization',
    dimensions: { DBInstanceIdentifier: dbInstanceIdentifier },
    statistic: 'Average',
    period: 300,
    evaluationPeriods: 3,
    threshold: args.dbCpuPercent ?? 80,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'missing',
  });
}
