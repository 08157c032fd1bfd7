import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { createImageFunction, createImageFunctionRole, createSchedule, type ImageFunctionBase, imageFunctionBase } from './image-function';

/** What every part of the monitor is named, tagged and scoped with. */
type MonitorBase = ImageFunctionBase;
import { tokenMonitorPolicy } from '../lib/policies';
import { ACTIVE_TOKEN_INDEX, ANY_TOKEN_INDEX, BOT_ENDPOINT_ALARM_IDS, BOT_METRIC_DIMENSIONS, BOT_METRICS, TOKEN_METRIC_DIMENSIONS, TOKEN_METRICS, TOKEN_METRICS_NAMESPACE, WEBHOOK_RECENT_ERROR_SECONDS } from '../lib/token-metrics';
import { MONITOR_SCHEDULE_EXPRESSION, type MonitoredBot, monitorTimeoutSeconds, scheduleProblems, type TokenMonitorEnvName } from '../lib/token-monitor';
import { ALARM_ID_TAG, alarmRunbookSuffix } from '../lib/runbook';
import { BOT_NAME_RULE, type BotMode, type BotPlatform, isBotMode, isBotName, isBotPlatform } from '../lib/validators';

/** The monitor's handler inside the backup job's image (automation/lambda/token-monitor.ts, compiled). */
export const TOKEN_MONITOR_HANDLER = 'automation/lambda/token-monitor.handler';

/** CloudWatch Logs' accepted retention values. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** One bot the monitor watches. */
export interface TokenMonitorBot {
  /** Bot name (lib/validators.ts). */
  name: string;
  /** Its platform (the record's, and the one a record without `platform` is read with). */
  platform: BotPlatform;
  /** Its secret's deterministic name, `<prefix>/bot-tokens/<bot>` (the IAM scope: the same in both regions). */
  secretName: string;
  /** The secret the monitor reads: its ARN when this stack owns (or adopted) it, else its name (the replica here). */
  secretId: pulumi.Input<string>;
  /**
   * Issue 11: how the bot receives updates. With it the monitor watches (and, active, sets) the bot's webhook or
   * interactions endpoint, and the webhook alarms are declared; without it neither.
   */
  mode?: BotMode;
  /** Telegram's webhook URL (the config's or the DNS default) / Discord's interactions endpoint. */
  webhookUrl?: string;
  /** The configured channels: every token's rights there are checked, with the missing-rights alarm. */
  channels?: string[];
  /** Discord: the required PermissionFlagsBits names. */
  permissions?: string[];
}

/** Arguments of {@link TokenMonitor}. */
export interface TokenMonitorArgs {
  /** Provider of this stack's region; every AWS child is created through it. */
  provider: aws.Provider;
  /** This region, e.g. `us-east-1`. */
  region: string;
  /**
   * Whether this stack is the active one (role primary, or a secondary promoted by a failover): only then does the
   * monitor write decisions (and only while the secrets here are writable), and only then do its health alarms notify.
   */
  active: boolean;
  /** Naming prefix for physical names (function, log group, rule, alarms), e.g. `botdr-use1`; ≤ 40 chars. */
  namePrefix: string;
  /** ARN of the region's KMS key (log group, Lambda environment). */
  kmsKeyArn: pulumi.Input<string>;
  /** The backup job's image (`BackupJobs.imageUri`): the monitor runs it with {@link TOKEN_MONITOR_HANDLER}. */
  imageUri: pulumi.Input<string>;
  /** The bots (at least one). */
  bots: TokenMonitorBot[];
  /** This region's alerts topic: the monitor's notices and every alarm's actions. */
  alertsTopicArn: pulumi.Input<string>;
  /** Probe rounds per invocation. Default 4 (lib/token-monitor.ts). */
  rounds?: number;
  /** Seconds between the starts of two rounds. Default 15. */
  roundIntervalSeconds?: number;
  /** N: failed probes in a row before a switch. Default 3. */
  failuresToSwitch?: number;
  /** M: healthy probes in a row before a token switched away from may be used again. Default 3. */
  passesToReturn?: number;
  /** One probe's timeout in ms. Default 10000. */
  probeTimeoutMs?: number;
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

/** The schedule figures with their defaults. */
function schedule(args: TokenMonitorArgs) {
  return {
    rounds: args.rounds ?? 4,
    roundIntervalSeconds: args.roundIntervalSeconds ?? 15,
    failuresToSwitch: args.failuresToSwitch ?? 3,
    passesToReturn: args.passesToReturn ?? 3,
    probeTimeoutMs: args.probeTimeoutMs ?? 10_000,
  };
}

/** Validates TokenMonitor args known at construction; errors name the key and what is allowed. */
export function validateTokenMonitorArgs(args: TokenMonitorArgs): void {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(args.namePrefix)) throw new Error(`namePrefix: must be 1-40 lowercase letters, digits or hyphens, got ${JSON.stringify(args.namePrefix)}`);
  if (args.bots.length === 0) throw new Error('bots: at least one bot is required');
  const seen = new Set<string>();
  args.bots.forEach((b, i) => {
    if (!isBotName(b.name)) throw new Error(`bots[${i}].name: must be ${BOT_NAME_RULE}, got ${JSON.stringify(b.name)}`);
    if (seen.has(b.name)) throw new Error(`bots[${i}].name: duplicate bot ${JSON.stringify(b.name)}`);
    if (!isBotPlatform(b.platform)) throw new Error(`bots[${i}].platform: must be telegram | discord, got ${JSON.stringify(b.platform)}`);
    if (b.mode !== undefined && !isBotMode(b.mode)) throw new Error(`bots[${i}].mode: must be webhook | polling, got ${JSON.stringify(b.mode)}`);
    if (b.mode === 'polling' && b.webhookUrl) throw new Error(`bots[${i}].webhookUrl: a polling bot has no webhook`);
    seen.add(b.name);
  });
  const s = schedule(args);
  const int = (key: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`tokenMonitor.${key}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  };
  int('rounds', s.rounds, 1, 12);
  int('roundIntervalSeconds', s.roundIntervalSeconds, 1, 55);
  int('failuresToSwitch', s.failuresToSwitch, 1, 100);
  int('passesToReturn', s.passesToReturn, 1, 100);
  int('probeTimeoutMs', s.probeTimeoutMs, 1000, 20000);
  const problems = scheduleProblems(s);
  if (problems.length) throw new Error(`tokenMonitor: ${problems[0]}`);
  if (args.memoryMb !== undefined) int('memoryMb', args.memoryMb, 128, 10240);
  if (args.logRetentionDays !== undefined && !LOG_RETENTION_DAYS.includes(args.logRetentionDays)) {
    throw new Error(`tokenMonitor.logRetentionDays: must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${JSON.stringify(args.logRetentionDays)}`);
  }
}

/**
 * The token monitor of one region: a Lambda running the backup job's container image with the token-monitor handler,
 * invoked every minute by an EventBridge rule (no retries, events older than a minute dropped, one execution at a
 * time: a run never overlaps the next), outside the VPC (it calls the Telegram and Discord APIs), with its own
 * KMS-encrypted log group and a least-privilege role (lib/policies.ts `tokenMonitorPolicy`); and its alarms, per bot:
 * the active token unhealthy for 2 minutes, every token unhealthy for 2 minutes (critical), plus the monitor not
 * having completed a run for 5 minutes (missing data breaching).
 *
 * Deployed in both regions; it writes decisions only where the stack is active and the secrets are writable
 * (automation/lambda/token-monitor.ts), so the health alarms notify only on the active stack (the standby's are kept,
 * silent, for its dashboards); the not-running alarm notifies in both.
 */
export class TokenMonitor extends pulumi.ComponentResource {
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  readonly ruleName: pulumi.Output<string>;
  /** The alarm names (per bot: active-unhealthy, all-unhealthy; then not-running). */
  readonly alarmNames: string[];

  constructor(name: string, args: TokenMonitorArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:tokens:TokenMonitor', name, {}, opts);
    validateTokenMonitorArgs(args);
    const base = monitorBase(args);
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${base.fnName}`, retentionInDays: args.logRetentionDays ?? 14, kmsKeyId: args.kmsKeyArn, tags: base.tags },
      { parent: this, provider: args.provider },
    );
    const { role, rolePolicy } = createMonitorRole(name, args, this, base, logGroup);
    const fn = createMonitorFunction(name, args, this, base, { role, logGroup, dependsOn: [rolePolicy, logGroup, ...(args.dependsOn ?? [])] });
    const rule = createMonitorSchedule(name, args, this, base, fn);
    this.alarmNames = createMonitorAlarms(name, args, this, base, fn);

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.logGroupName = logGroup.name;
    this.ruleName = rule.name;
    this.registerOutputs({ functionName: this.functionName, functionArn: this.functionArn, logGroupName: this.logGroupName, ruleName: this.ruleName, alarmNames: this.alarmNames });
  }
}

function monitorBase(args: TokenMonitorArgs): MonitorBase {
  return imageFunctionBase({ tags: args.tags, component: 'token-monitor', fnName: `${args.namePrefix}-token-monitor`, kmsKeyArn: args.kmsKeyArn });
}

/** The monitor's least-privilege role (lib/policies.ts `tokenMonitorPolicy`): scoped to the bot-token secrets by name. */
function createMonitorRole(name: string, args: TokenMonitorArgs, parent: pulumi.Resource, base: MonitorBase, logGroup: aws.cloudwatch.LogGroup) {
  return createImageFunctionRole(name, parent, args.provider, base, {
    description: 'Token monitor: probe the bot tokens, switch on failure (active stack only)',
    policy: pulumi
      .all([base.account, base.partition, args.alertsTopicArn, logGroup.arn])
      .apply(([a, p, topicArn, logGroupArn]) =>
        JSON.stringify(tokenMonitorPolicy({ region: args.region, account: a, partition: p, secretNames: args.bots.map((b) => b.secretName), metricsNamespace: TOKEN_METRICS_NAMESPACE, topicArn, logGroupArn })),
      ),
  });
}

/** A bot's issue-11 fields in TOKEN_BOTS (only those that are set). */
function monitoredEndpoint(b: TokenMonitorBot): Pick<MonitoredBot, 'mode' | 'webhook_url' | 'channels' | 'permissions'> {
  return {
    ...(b.mode ? { mode: b.mode } : {}),
    ...(b.webhookUrl ? { webhook_url: b.webhookUrl } : {}),
    ...(b.channels?.length ? { channels: b.channels } : {}),
    ...(b.platform === 'discord' && b.permissions?.length ? { permissions: b.permissions } : {}),
  };
}

/**
 * The function's environment: the contract of lib/token-monitor.ts (`TOKEN_MONITOR_ENV`). The bot list carries names,
 * platforms, secret ids and (issue 11) each bot's mode, webhook URL, channels and Discord permissions — never a token.
 */
function monitorEnvironment(args: TokenMonitorArgs): Partial<Record<TokenMonitorEnvName, pulumi.Input<string>>> & Record<string, pulumi.Input<string>> {
  const s = schedule(args);
  const bots = pulumi.all(args.bots.map((b) => pulumi.output(b.secretId))).apply((ids) => JSON.stringify(args.bots.map((b, i): MonitoredBot => ({ bot: b.name, platform: b.platform, secret: ids[i], ...monitoredEndpoint(b) }))));
  const env: Partial<Record<TokenMonitorEnvName, pulumi.Input<string>>> & Record<string, pulumi.Input<string>> = {
    DR_REGION: args.region,
    TOKEN_BOTS: bots,
    TOKEN_MONITOR_ACTIVE: String(args.active),
    ALERTS_TOPIC_ARN: args.alertsTopicArn,
    METRICS_NAMESPACE: TOKEN_METRICS_NAMESPACE,
    TOKEN_ROUNDS: String(s.rounds),
    TOKEN_ROUND_INTERVAL_SECONDS: String(s.roundIntervalSeconds),
    TOKEN_FAILURES_TO_SWITCH: String(s.failuresToSwitch),
    TOKEN_PASSES_TO_RETURN: String(s.passesToReturn),
    TOKEN_PROBE_TIMEOUT_MS: String(s.probeTimeoutMs),
    NODE_OPTIONS: '--enable-source-maps',
  };
  if (args.telegramApiUrl) env.DR_TELEGRAM_API_URL = args.telegramApiUrl;
  if (args.discordApiUrl) env.DR_DISCORD_API_URL = args.discordApiUrl;
  return env;
}

/** The function: the backup job's image with the monitor's handler, outside the VPC, one execution at a time. */
function createMonitorFunction(
  name: string,
  args: TokenMonitorArgs,
  parent: pulumi.Resource,
  { tags, fnName }: MonitorBase,
  deps: { role: aws.iam.Role; logGroup: aws.cloudwatch.LogGroup; dependsOn: pulumi.Resource[] },
): aws.lambda.Function {
  return createImageFunction(name, parent, args.provider, {
    fnName,
    description: 'bot-platform-dr token monitor: probe every bot token each minute, switch after N failures (active stack only)',
    imageUri: args.imageUri,
    handler: TOKEN_MONITOR_HANDLER,
    role: deps.role,
    memoryMb: args.memoryMb ?? 256,
    timeoutSeconds: monitorTimeoutSeconds(schedule(args)),
    environment: monitorEnvironment(args),
    kmsKeyArn: args.kmsKeyArn,
    logGroup: deps.logGroup,
    tags,
    dependsOn: deps.dependsOn,
    // One run at a time: a run that overlaps the next minute's makes that one wait; a missed minute is not retried,
    // the next invocation probes afresh within the minute.
    maxEventAgeSeconds: 60,
  });
}

/** The EventBridge rule invoking the function every minute, its target and the permission it invokes with. */
function createMonitorSchedule(name: string, args: TokenMonitorArgs, parent: pulumi.Resource, { tags, fnName }: MonitorBase, fn: aws.lambda.Function): aws.cloudwatch.EventRule {
  return createSchedule(name, parent, args.provider, fn, { fnName, description: `token monitor every minute (${MONITOR_SCHEDULE_EXPRESSION})`, expression: MONITOR_SCHEDULE_EXPRESSION, tags, maxEventAgeSeconds: 60 });
}

/**
 * The alarms. Per bot: the active token (`TokenIndex=active`) unhealthy, and no token healthy (`TokenIndex=any`,
 * critical), each for 2 minutes (the monitor switches within ~1 minute when it can, so a standing alarm means it could
 * not); missing data is not breaching there (a rate-limited token publishes no health, a silent monitor has its own
 * alarm). The monitor has not completed a run for 5 minutes: Invocations − Errors of the function < 1, missing data
 * breaching. Returns the alarm names.
 */
function createMonitorAlarms(name: string, args: TokenMonitorArgs, parent: pulumi.Resource, { tags }: MonitorBase, fn: aws.lambda.Function): string[] {
  const child = { parent, provider: args.provider };
  const actions = [args.alertsTopicArn];
  const names: string[] = [];
  const health = (bot: string, key: 'active-unhealthy' | 'all-unhealthy', index: string, description: string) => {
    const alarmName = `${args.namePrefix}-tokens-${bot}-${key}`;
    const alarmId = `token-${key}`;
    names.push(alarmName);
    new aws.cloudwatch.MetricAlarm(
      `${name}-${bot}-${key}`,
      {
        name: alarmName,
        alarmDescription: `${description}${alarmRunbookSuffix(alarmId)}`,
        namespace: TOKEN_METRICS_NAMESPACE,
        metricName: TOKEN_METRICS.healthy,
        dimensions: { [TOKEN_METRIC_DIMENSIONS.bot]: bot, [TOKEN_METRIC_DIMENSIONS.tokenIndex]: index },
        statistic: 'Maximum',
        period: 60,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        comparisonOperator: 'LessThanThreshold',
        threshold: 1,
        treatMissingData: 'notBreaching',
        // The standby region's monitor sees the same tokens: only the active stack's alarms notify.
        actionsEnabled: args.active,
        alarmActions: actions,
        okActions: actions,
        tags: { ...tags, [ALARM_ID_TAG]: alarmId },
      },
      child,
    );
  };
  for (const b of args.bots) {
    health(b.name, 'active-unhealthy', ACTIVE_TOKEN_INDEX, `bot ${b.name} (${b.platform}): its active token has been unhealthy for 2 minutes (no healthy token to switch to, a pin, or a platform outage): dr tokens status`);
    health(b.name, 'all-unhealthy', ANY_TOKEN_INDEX, `CRITICAL: bot ${b.name} (${b.platform}): every token has been unhealthy for 2 minutes — the bot is down: dr tokens status`);
    names.push(...createEndpointAlarms(name, args, parent, tags, b));
  }
  const alarmName = `${args.namePrefix}-token-monitor-not-running`;
  names.push(alarmName);
  const lambdaMetric = (metricName: string) => ({ metric: { namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: fn.name }, period: 60, stat: 'Sum' } });
  new aws.cloudwatch.MetricAlarm(
    `${name}-not-running`,
    {
      name: alarmName,
      alarmDescription: `the token monitor in ${args.region} has not completed a run for 5 minutes (no invocation, or every one failed): bot tokens are not watched${alarmRunbookSuffix('token-monitor-not-running')}`,
      metricQueries: [
        { id: 'invocations', returnData: false, ...lambdaMetric('Invocations') },
        { id: 'errors', returnData: false, ...lambdaMetric('Errors') },
        { id: 'completed', expression: 'invocations - FILL(errors, 0)', label: 'completed runs', returnData: true },
      ],
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparisonOperator: 'LessThanThreshold',
      threshold: 1,
      treatMissingData: 'breaching',
      alarmActions: actions,
      okActions: actions,
      tags: { ...tags, [ALARM_ID_TAG]: 'token-monitor-not-running' },
    },
    child,
  );
  return names;
}

/** The ids of the per-bot alarms of issue 11 (lib/runbook.ts maps each to INC-006). */
export const ENDPOINT_ALARM_IDS = BOT_ENDPOINT_ALARM_IDS;

/**
 * Issue 11's alarms of one bot (per-bot metrics, lib/token-metrics.ts `BOT_METRICS`), notifying on the active stack
 * only like the health alarms (the standby's monitor reads the same bot accounts):
 *  - `webhook-url-drift`: the webhook / interactions endpoint is not the expected one for 3 minutes (the active
 *    monitor re-sets it every round, so a standing drift means it cannot);
 *  - `webhook-pending-growing` (Telegram): `pending_update_count` grew in each of 5 consecutive minutes (metric math
 *    `DIFF` over the published counts) — updates pile up undelivered;
 *  - `webhook-recent-error` (Telegram): a `last_error_date` less than 5 minutes old;
 *  - `channel-rights-missing` (bots with channels): a token lacks a right in a configured channel for 2 checks.
 * Declared only for bots whose `mode` is known (the webhook alarms) or with channels (the rights alarm).
 */
function createEndpointAlarms(name: string, args: TokenMonitorArgs, parent: pulumi.Resource, tags: Record<string, string>, b: TokenMonitorBot): string[] {
  const child = { parent, provider: args.provider };
  const actions = [args.alertsTopicArn];
  const names: string[] = [];
  const dimensions = { [BOT_METRIC_DIMENSIONS.bot]: b.name };
  const alarm = (id: (typeof ENDPOINT_ALARM_IDS)[number], description: string, spec: Partial<aws.cloudwatch.MetricAlarmArgs>) => {
    const alarmName = `${args.namePrefix}-bots-${b.name}-${id}`;
    names.push(alarmName);
    new aws.cloudwatch.MetricAlarm(
      `${name}-${b.name}-${id}`,
      {
        name: alarmName,
        alarmDescription: `bot ${b.name} (${b.platform}): ${description}${alarmRunbookSuffix(id)}`,
        treatMissingData: 'notBreaching',
        actionsEnabled: args.active,
        alarmActions: actions,
        okActions: actions,
        tags: { ...tags, [ALARM_ID_TAG]: id },
        ...spec,
      },
      child,
    );
  };
  const simple = (metricName: string, statistic: 'Maximum' | 'Minimum', comparisonOperator: 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold', threshold: number, periods: number) => ({
    namespace: TOKEN_METRICS_NAMESPACE,
    metricName,
    dimensions,
    statistic,
    period: 60,
    evaluationPeriods: periods,
    datapointsToAlarm: periods,
    comparisonOperator,
    threshold,
  });
  if (b.mode) {
    alarm('webhook-url-drift', `its ${b.platform === 'telegram' ? 'webhook' : 'interactions endpoint'} has not been the expected one for 3 minutes (the monitor could not set it, or it is not the active region's): dr status`, simple(BOT_METRICS.urlDrift, 'Minimum', 'GreaterThanOrEqualToThreshold', 1, 3));
  }
  if (b.mode && b.platform === 'telegram') {
    alarm('webhook-pending-growing', 'its pending updates have grown for 5 minutes in a row (getWebhookInfo pending_update_count): updates are not being delivered or consumed: dr status', {
      metricQueries: [
        { id: 'pending', returnData: false, metric: { namespace: TOKEN_METRICS_NAMESPACE, metricName: BOT_METRICS.pending, dimensions, period: 60, stat: 'Maximum' } },
        { id: 'growing', expression: 'IF(DIFF(pending) > 0, 1, 0)', label: 'pending updates grew', returnData: true },
      ],
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
    });
    alarm('webhook-recent-error', `Telegram reports a webhook delivery error less than ${WEBHOOK_RECENT_ERROR_SECONDS / 60} minutes old (getWebhookInfo last_error_date): dr status`, simple(BOT_METRICS.errorAge, 'Minimum', 'LessThanThreshold', WEBHOOK_RECENT_ERROR_SECONDS, 1));
  }
  if (b.channels?.length) {
    alarm('channel-rights-missing', 'a token lacks a right in a configured channel (the monitor never corrects rights; a switch prefers tokens with every right): dr bots check-permissions names the admin action', simple(BOT_METRICS.missingRights, 'Maximum', 'GreaterThanOrEqualToThreshold', 1, 2));
  }
  return names;
}
