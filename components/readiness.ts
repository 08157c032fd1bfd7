import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { createImageFunction, createImageFunctionRole, createSchedule, type ImageFunctionBase, imageFunctionBase } from './image-function';

type ReadinessBase = ImageFunctionBase;
import { regionShortName } from '../lib/naming';
import { parseArn, readinessPolicy, secretNameArnPattern } from '../lib/policies';
import { DEGRADED_ALARM_HOURS, READINESS_METRICS, READINESS_SCHEDULE_EXPRESSION, targetProblems, type ReadinessEnvName, type ReadinessTargets } from '../lib/readiness';
import { ALARM_ID_TAG, alarmRunbookSuffix } from '../lib/runbook';

/** The readiness handler inside the backup job's image (automation/lambda/readiness.ts, compiled). */
export const READINESS_HANDLER = 'automation/lambda/readiness.handler';

/** CloudWatch Logs' accepted retention values. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Arguments of {@link Readiness}. */
export interface ReadinessArgs {
  /** Provider of this stack's region; every AWS child is created through it. */
  provider: aws.Provider;
  /** This region, e.g. `us-east-1`: the function runs, probes the bots, publishes and stores its report here. */
  region: string;
  /** The stack's naming prefix, e.g. `botdr` (function `<prefix>-<region short>-readiness`, alarms `<prefix>-<region>-<id>`); ≤ 30 chars. */
  namePrefix: string;
  /** ARN of the region's KMS key (log group, Lambda environment). */
  kmsKeyArn: pulumi.Input<string>;
  /** The backup job's image (`BackupJobs.imageUri`): the function runs it with {@link READINESS_HANDLER}. */
  imageUri: pulumi.Input<string>;
  /** This region's backup bucket: reports go to `readiness/<region>/`. */
  bucketName: pulumi.Input<string>;
  /**
   * What is observed, in both regions (lib/readiness.ts `ReadinessTargets`: identifiers only). It becomes the
   * function's `READINESS_TARGETS` and scopes its role: both buckets and keys, each job's function, repository and
   * schedules by name, the replicated secrets, the hosted zone.
   */
  targets: pulumi.Input<ReadinessTargets>;
  /** Bot-token secret names `<prefix>/bot-tokens/<bot>` (the same in both regions): read here, their replication read in both. */
  botSecretNames: string[];
  /** This region's alerts topic: both alarms' actions. */
  alertsTopicArn: pulumi.Input<string>;
  /** Telegram Bot API root (default: the real API). */
  telegramApiUrl?: string;
  /** Discord API base (default: the real API). */
  discordApiUrl?: string;
  /** Function memory in MB. Default 256. */
  memoryMb?: number;
  /** Log retention in days (a CloudWatch Logs value). Default 14. */
  logRetentionDays?: number;
  /** Resources the function must wait for (the image's repository policy: `BackupJobs` itself). */
  dependsOn?: pulumi.Resource[];
  /** Tags applied to taggable children. */
  tags?: Record<string, string>;
}

/** Validates the args known at construction; errors name the key and what is allowed. */
export function validateReadinessArgs(args: ReadinessArgs): void {
  if (!/^[a-z0-9][a-z0-9-]{0,29}$/.test(args.namePrefix)) throw new Error(`namePrefix: must be 1-30 lowercase letters, digits or hyphens, got ${JSON.stringify(args.namePrefix)}`);
  if (args.memoryMb !== undefined && !(Number.isInteger(args.memoryMb) && args.memoryMb >= 128 && args.memoryMb <= 10240)) throw new Error(`readiness.memoryMb: must be a whole number from 128 to 10240, got ${JSON.stringify(args.memoryMb)}`);
  if (args.logRetentionDays !== undefined && !LOG_RETENTION_DAYS.includes(args.logRetentionDays)) throw new Error(`readiness.logRetentionDays: must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${JSON.stringify(args.logRetentionDays)}`);
}

/** The alarm ids (ALARM_ID_TAG; runbook INC-008). */
export const READINESS_ALARM_IDS = { notReady: 'readiness-not-ready', degraded: 'readiness-degraded' } as const;

/**
 * The readiness check of one region (issue 14): a Lambda running the backup job's image with the readiness handler,
 * every 30 minutes (an EventBridge rule; no retries: the next run is 30 minutes away), outside the VPC (it calls the
 * AWS APIs of both regions and the bot platforms), with its own KMS-encrypted log group and a least-privilege role
 * (lib/policies.ts `readinessPolicy`: reads only what it checks, writes its metrics and `readiness/<region>/`); and
 * two alarms on its `DrReady` metric, both linking runbook INC-008:
 *  - not ready: a not-ready run within the hour (minimum < 1), or no run at all for an hour (missing = breaching);
 *  - degraded for more than 24 h: no ready run (maximum < 2) in each of 24 consecutive hours.
 * Deployed in both regions from the same image: each probes the bots from its own region.
 */
export class Readiness extends pulumi.ComponentResource {
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  readonly ruleName: pulumi.Output<string>;
  /** Not-ready, then degraded. */
  readonly alarmNames: string[];

  constructor(name: string, args: ReadinessArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:readiness:Readiness', name, {}, opts);
    validateReadinessArgs(args);
    const base = readinessBase(args);
    const child = { parent: this, provider: args.provider };
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: `/aws/lambda/${base.fnName}`, retentionInDays: args.logRetentionDays ?? 14, kmsKeyId: args.kmsKeyArn, tags: base.tags }, child);
    const { role, rolePolicy } = createReadinessRole(name, args, this, base, logGroup);
    const fn = createReadinessFunction(name, args, this, base, { role, logGroup, dependsOn: [rolePolicy, logGroup, ...(args.dependsOn ?? [])] });
    const rule = createReadinessSchedule(name, args, this, base, fn);
    this.alarmNames = createReadinessAlarms(name, args, this, base);

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.logGroupName = logGroup.name;
    this.ruleName = rule.name;
    this.registerOutputs({ functionName: this.functionName, functionArn: this.functionArn, logGroupName: this.logGroupName, ruleName: this.ruleName, alarmNames: this.alarmNames });
  }
}

function readinessBase(args: ReadinessArgs): ReadinessBase {
  return imageFunctionBase({ tags: args.tags, component: 'readiness', fnName: `${args.namePrefix}-${regionShortName(args.region)}-readiness`, kmsKeyArn: args.kmsKeyArn });
}

/** A secret ARN in `region` (the replicated secrets keep their name and suffix in the peer region). */
function inRegion(arn: string, region: string): string {
  const a = parseArn(arn);
  return `arn:${a.partition}:${a.service}:${region}:${a.account}:${a.resource}`;
}

/** The role's document from the resolved targets (exported for the tests' statement-by-statement checks). */
export function readinessRoleDocument(args: Pick<ReadinessArgs, 'region' | 'botSecretNames'>, t: ReadinessTargets, ids: { account: string; partition: string; bucketName: string; logGroupArn: string }) {
  const problems = targetProblems(t);
  if (problems.length) throw new Error(`readiness targets: ${problems.join('; ')}`);
  const regions = t.regions.map((r) => r.region);
  const secretArns = t.secrets.flatMap((s) => (s.secret.startsWith('arn:') ? regions.map((r) => inRegion(s.secret, r)) : regions.map((r) => secretNameArnPattern({ region: r, account: ids.account, partition: ids.partition }, s.secret))));
  return readinessPolicy({
    region: args.region,
    regions,
    account: ids.account,
    partition: ids.partition,
    buckets: t.regions.map((r) => r.bucketName),
    ownBucket: ids.bucketName,
    kmsKeyArns: t.regions.flatMap((r) => (r.kmsKeyArn ? [r.kmsKeyArn] : [])),
    secretArns,
    botSecretNames: args.botSecretNames,
    jobs: t.regions.map((r) => ({ region: r.region, functions: r.jobs.functions, repository: r.jobs.repository, schedules: r.jobs.schedules })),
    ...(t.dns ? { hostedZoneId: t.dns.zoneId } : {}),
    metricsNamespace: READINESS_METRICS.namespace,
    logGroupArn: ids.logGroupArn,
  });
}

function createReadinessRole(name: string, args: ReadinessArgs, parent: pulumi.Resource, base: ReadinessBase, logGroup: aws.cloudwatch.LogGroup) {
  return createImageFunctionRole(name, parent, args.provider, base, {
    description: 'Readiness: read both regions of the DR pair, publish DrReady, store the report',
    policy: pulumi
      .all([base.account, base.partition, pulumi.output(args.targets), pulumi.output(args.bucketName), logGroup.arn])
      .apply(([a, p, t, bucketName, logGroupArn]) => JSON.stringify(readinessRoleDocument(args, t as ReadinessTargets, { account: a, partition: p, bucketName, logGroupArn }))),
  });
}

/** The function's environment: the contract of lib/readiness.ts (`READINESS_ENV`). */
function readinessEnvironment(args: ReadinessArgs): Partial<Record<ReadinessEnvName, pulumi.Input<string>>> & Record<string, pulumi.Input<string>> {
  const env: Partial<Record<ReadinessEnvName, pulumi.Input<string>>> & Record<string, pulumi.Input<string>> = {
    DR_REGION: args.region,
    READINESS_TARGETS: pulumi.output(args.targets).apply((t) => JSON.stringify(t)),
    READINESS_BUCKET: args.bucketName,
    METRICS_NAMESPACE: READINESS_METRICS.namespace,
    NODE_OPTIONS: '--enable-source-maps',
  };
  if (args.telegramApiUrl) env.DR_TELEGRAM_API_URL = args.telegramApiUrl;
  if (args.discordApiUrl) env.DR_DISCORD_API_URL = args.discordApiUrl;
  return env;
}

function createReadinessFunction(name: string, args: ReadinessArgs, parent: pulumi.Resource, { tags, fnName }: ReadinessBase, deps: { role: aws.iam.Role; logGroup: aws.cloudwatch.LogGroup; dependsOn: pulumi.Resource[] }): aws.lambda.Function {
  return createImageFunction(name, parent, args.provider, {
    fnName,
    description: 'bot-platform-dr readiness: is the DR pair ready to fail over? every 30 minutes, DrReady 0/1/2 and DrCheckFailed per check',
    imageUri: args.imageUri,
    handler: READINESS_HANDLER,
    role: deps.role,
    memoryMb: args.memoryMb ?? 256,
    // One run is ~50 AWS calls and the bot probes (seconds); 2 minutes leaves room for retries of a slow region.
    timeoutSeconds: 120,
    environment: readinessEnvironment(args),
    kmsKeyArn: args.kmsKeyArn,
    logGroup: deps.logGroup,
    tags,
    dependsOn: deps.dependsOn,
    // A missed run is not retried: the next one is 30 minutes away and observes afresh.
    maxEventAgeSeconds: 600,
  });
}

function createReadinessSchedule(name: string, args: ReadinessArgs, parent: pulumi.Resource, { tags, fnName }: ReadinessBase, fn: aws.lambda.Function): aws.cloudwatch.EventRule {
  return createSchedule(name, parent, args.provider, fn, { fnName, description: `readiness every 30 minutes (${READINESS_SCHEDULE_EXPRESSION})`, expression: READINESS_SCHEDULE_EXPRESSION, tags, maxEventAgeSeconds: 600 });
}

/** The two alarms on `DrReady` (Region = this region), notifying the alerts topic; returns their names. */
function createReadinessAlarms(name: string, args: ReadinessArgs, parent: pulumi.Resource, { tags }: ReadinessBase): string[] {
  const child = { parent, provider: args.provider };
  const actions = [args.alertsTopicArn];
  const metric = { namespace: READINESS_METRICS.namespace, metricName: READINESS_METRICS.ready, dimensions: { [READINESS_METRICS.regionDimension]: args.region } };
  const alarm = (id: string, description: string, spec: Pick<aws.cloudwatch.MetricAlarmArgs, 'statistic' | 'period' | 'evaluationPeriods' | 'datapointsToAlarm' | 'threshold' | 'treatMissingData'>) => {
    const alarmName = `${args.namePrefix}-${args.region}-${id}`;
    new aws.cloudwatch.MetricAlarm(
      `${name}-${id}`,
      { name: alarmName, alarmDescription: `${description}${alarmRunbookSuffix(id)}`, ...metric, ...spec, comparisonOperator: 'LessThanThreshold', alarmActions: actions, okActions: actions, tags: { ...tags, [ALARM_ID_TAG]: id } },
      child,
    );
    return alarmName;
  };
  return [
    alarm(READINESS_ALARM_IDS.notReady, `the DR pair is NOT READY to fail over as seen from ${args.region} (a not-ready readiness run within the hour, or none ran): dr readiness names every failed check and its fix`, {
      statistic: 'Minimum',
      period: 3600,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: 1,
      treatMissingData: 'breaching',
    }),
    alarm(READINESS_ALARM_IDS.degraded, `the DR pair has been degraded (no ready readiness run) for ${DEGRADED_ALARM_HOURS} h as seen from ${args.region}: dr readiness names the warnings`, {
      statistic: 'Maximum',
      period: 3600,
      evaluationPeriods: DEGRADED_ALARM_HOURS,
      datapointsToAlarm: DEGRADED_ALARM_HOURS,
      threshold: 2,
      treatMissingData: 'missing',
    }),
  ];
}
