/**
 * components/TokenMonitor under Pulumi mocks (issue 10): the function (the backup job's image with the monitor's
 * handler, outside the VPC, one execution), its every-minute EventBridge schedule, its alarms (dimensions Bot and
 * TokenIndex, missing data), IAM scoped to exactly the bot-token secrets with KMS through Secrets Manager only; and
 * the composed stacks: a monitor in both regions, acting (TOKEN_MONITOR_ACTIVE) only on the active stack.
 */
import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import { TOKEN_MONITOR_HANDLER, TokenMonitor, type TokenMonitorArgs } from '../../components/token-monitor';
import { TOKEN_MONITOR_ENV } from '../../lib/token-monitor';
import { type ProgramRun, runProgram, runProgramExpectingError, serializeDeep } from '../helpers/pulumi';
import { captureRegistrations, dependsOn, type Registration } from '../helpers/registrations';
import { P, policyOf, runStack } from '../helpers/stacks';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/k-use1';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:botdr-use1-alerts';
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/botdr-use1-backup-job@sha256:' + 'a'.repeat(64);
const COMMUNITY_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/bot-tokens/community-Zx98Yv';
const FN = 'aws:lambda/function:Function';
const ALARM = 'aws:cloudwatch/metricAlarm:MetricAlarm';

function build(extra: Partial<TokenMonitorArgs> = {}) {
  return () => {
    const provider = new aws.Provider('use1', { region: 'us-east-1' });
    const m = new TokenMonitor('acme-token-monitor', {
      provider,
      region: 'us-east-1',
      active: true,
      namePrefix: 'acme-use1',
      kmsKeyArn: KEY,
      imageUri: IMAGE,
      bots: [
        { name: 'community', platform: 'telegram', secretName: 'acme/bot-tokens/community', secretId: COMMUNITY_ARN },
        { name: 'moderation', platform: 'discord', secretName: 'acme/bot-tokens/moderation', secretId: 'acme/bot-tokens/moderation' },
      ],
      alertsTopicArn: TOPIC,
      ...extra,
    });
    return { functionName: m.functionName, ruleName: m.ruleName, alarmNames: m.alarmNames };
  };
}

describe('components/TokenMonitor', () => {
  let run: ProgramRun;
  let regs: Registration[] = [];
  before(async () => {
    run = await runProgram(() => {
      regs = captureRegistrations();
      return build()();
    });
  });

  it('the function: the backup job\'s image with the monitor\'s handler, outside the VPC, one execution at a time', () => {
    const fn = run.one(FN).inputs;
    assert.equal(fn.name, 'acme-use1-token-monitor');
    assert.equal(fn.packageType, 'Image');
    assert.equal(fn.imageUri, IMAGE);
    assert.deepEqual(fn.imageConfig, { commands: [TOKEN_MONITOR_HANDLER] });
    assert.equal(TOKEN_MONITOR_HANDLER, 'automation/lambda/token-monitor.handler');
    assert.equal(fn.vpcConfig, undefined, 'it must reach api.telegram.org and discord.com');
    assert.equal(fn.reservedConcurrentExecutions, 1);
    assert.equal(fn.timeout, 80, '(4 − 1) × 15 s + 10 s probe timeout + 25 s margin');
    assert.equal(fn.kmsKeyArn, KEY);
    assert.deepEqual(fn.loggingConfig, { logFormat: 'JSON', logGroup: '/aws/lambda/acme-use1-token-monitor' });
    assert.equal(run.one(FN).inputs.role, run.one('aws:iam/role:Role').state.arn);
    const lg = run.one('aws:cloudwatch/logGroup:LogGroup').inputs;
    assert.deepEqual([lg.name, lg.kmsKeyId, lg.retentionInDays], ['/aws/lambda/acme-use1-token-monitor', KEY, 14]);
    const async = run.one('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig').inputs;
    assert.deepEqual([async.maximumRetryAttempts, async.maximumEventAgeInSeconds], [0, 60]);
  });

  it('its environment is the handler\'s contract: the bots (names, platforms, secret ids), active, the rounds', () => {
    const vars: Record<string, string> = run.one(FN).plainInputs.environment.variables;
    assert.deepEqual(JSON.parse(vars.TOKEN_BOTS), [
      { bot: 'community', platform: 'telegram', secret: COMMUNITY_ARN },
      { bot: 'moderation', platform: 'discord', secret: 'acme/bot-tokens/moderation' },
    ]);
    assert.equal(vars.TOKEN_MONITOR_ACTIVE, 'true');
    assert.equal(vars.DR_REGION, 'us-east-1');
    assert.equal(vars.ALERTS_TOPIC_ARN, TOPIC);
    assert.equal(vars.METRICS_NAMESPACE, 'BotDR/Tokens');
    assert.deepEqual([vars.TOKEN_ROUNDS, vars.TOKEN_ROUND_INTERVAL_SECONDS, vars.TOKEN_FAILURES_TO_SWITCH, vars.TOKEN_PROBE_TIMEOUT_MS], ['4', '15', '3', '10000']);
    const known = new Set([...Object.keys(TOKEN_MONITOR_ENV), 'NODE_OPTIONS']);
    assert.deepEqual(Object.keys(vars).filter((k) => !known.has(k)), [], 'no name the handler does not read');
    for (const [k, spec] of Object.entries(TOKEN_MONITOR_ENV)) if (spec.required) assert.ok(vars[k], `${k} is set`);
  });

  it('an EventBridge schedule every minute: no retries, stale events dropped, invoked with a scoped permission', () => {
    const rule = run.one('aws:cloudwatch/eventRule:EventRule');
    assert.deepEqual([rule.inputs.name, rule.inputs.scheduleExpression, rule.inputs.state], ['acme-use1-token-monitor-schedule', 'rate(1 minute)', 'ENABLED']);
    const target = run.one('aws:cloudwatch/eventTarget:EventTarget').inputs;
    assert.equal(target.arn, run.one(FN).state.arn);
    assert.equal(target.rule, rule.state.name);
    assert.deepEqual(target.retryPolicy, { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 });
    const perm = run.one('aws:lambda/permission:Permission').inputs;
    assert.deepEqual([perm.action, perm.principal, perm.sourceArn, perm.function], ['lambda:InvokeFunction', 'events.amazonaws.com', rule.state.arn, run.one(FN).state.name]);
    assert.ok(dependsOn(regs, 'acme-token-monitor-schedule-target', 'acme-token-monitor-schedule-permission'), 'the target is created after its permission');
  });

  it('alarms per bot on TokenHealthy with dimensions Bot and TokenIndex only (active, any), and the monitor-not-running alarm (missing data breaching)', () => {
    const alarms = run.byType(ALARM);
    assert.deepEqual(alarms.map((a) => a.inputs.name).sort(), [
      'acme-use1-token-monitor-not-running',
      'acme-use1-tokens-community-active-unhealthy',
      'acme-use1-tokens-community-all-unhealthy',
      'acme-use1-tokens-moderation-active-unhealthy',
      'acme-use1-tokens-moderation-all-unhealthy',
    ]);
    for (const bot of ['community', 'moderation']) {
      for (const [key, index] of [['active-unhealthy', 'active'], ['all-unhealthy', 'any']]) {
        const a = alarms.find((x) => x.inputs.name === `acme-use1-tokens-${bot}-${key}`)!.inputs;
        assert.deepEqual([a.namespace, a.metricName, a.statistic, a.comparisonOperator, a.threshold], ['BotDR/Tokens', 'TokenHealthy', 'Maximum', 'LessThanThreshold', 1]);
        assert.deepEqual(a.dimensions, { Bot: bot, TokenIndex: index });
        assert.deepEqual([a.period, a.evaluationPeriods, a.datapointsToAlarm, a.treatMissingData], [60, 2, 2, 'notBreaching']);
        assert.deepEqual(a.alarmActions, [TOPIC]);
        assert.equal(a.actionsEnabled, true);
      }
    }
    assert.match(alarms.find((x) => /community-all-unhealthy/.test(x.inputs.name))!.inputs.alarmDescription, /^CRITICAL/);
    const dead = alarms.find((x) => x.inputs.name === 'acme-use1-token-monitor-not-running')!.inputs;
    assert.equal(dead.treatMissingData, 'breaching');
    assert.deepEqual([dead.evaluationPeriods, dead.datapointsToAlarm, dead.comparisonOperator, dead.threshold], [5, 5, 'LessThanThreshold', 1]);
    const q = dead.metricQueries as Array<{ id: string; expression?: string; metric?: { namespace: string; metricName: string; dimensions: Record<string, string>; stat: string } }>;
    assert.deepEqual(q.map((x) => x.metric ? [x.id, x.metric.namespace, x.metric.metricName, x.metric.dimensions.FunctionName, x.metric.stat] : [x.id, x.expression]), [
      ['invocations', 'AWS/Lambda', 'Invocations', 'acme-use1-token-monitor', 'Sum'],
      ['errors', 'AWS/Lambda', 'Errors', 'acme-use1-token-monitor', 'Sum'],
      ['completed', 'invocations - FILL(errors, 0)'],
    ]);
    assert.deepEqual(dead.alarmActions, [TOPIC]);
  });

  it('IAM: GetSecretValue/PutSecretValue/DescribeSecret (and the stage repair) on exactly the bot-token secrets; KMS only through Secrets Manager, for those secrets', () => {
    const doc = policyOf(run.one('aws:iam/rolePolicy:RolePolicy').inputs.policy);
    const secrets = ['acme/bot-tokens/community', 'acme/bot-tokens/moderation'].map((n) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${n}-??????`);
    const byAction = (prefix: string) => doc.Statement.filter((s) => [s.Action].flat().some((a: string) => a.startsWith(prefix)));
    const sm = byAction('secretsmanager:');
    assert.equal(sm.length, 1);
    assert.deepEqual(sm[0].Action, ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage']);
    assert.deepEqual(sm[0].Resource, secrets);
    const kms = byAction('kms:');
    assert.equal(kms.length, 1);
    assert.deepEqual(kms[0].Action, ['kms:Decrypt', 'kms:GenerateDataKey']);
    assert.deepEqual(kms[0].Condition, {
      StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' },
      StringLike: { 'kms:EncryptionContext:SecretARN': secrets },
    });
    const metrics = doc.Statement.find((s) => s.Sid === 'PublishTokenMetrics')!;
    assert.deepEqual([metrics.Action, metrics.Condition], ['cloudwatch:PutMetricData', { StringEquals: { 'cloudwatch:namespace': 'BotDR/Tokens' } }]);
    assert.equal(doc.Statement.find((s) => s.Sid === 'NotifyAlerts')!.Resource, TOPIC);
    assert.equal(doc.Statement.find((s) => s.Sid === 'WriteOwnLogs')!.Resource, `${run.one('aws:cloudwatch/logGroup:LogGroup').state.arn}:*`);
    assert.ok(!doc.Statement.some((s) => [s.Action].flat().some((a: string) => a.startsWith('ec2:'))), 'no VPC access');
    assert.deepEqual(doc.Statement.map((s) => s.Sid), ['BotTokenSecrets', 'BotTokenSecretsKey', 'PublishTokenMetrics', 'NotifyAlerts', 'WriteOwnLogs']);
    const trust = policyOf(run.one('aws:iam/role:Role').inputs.assumeRolePolicy);
    assert.deepEqual(trust.Statement[0].Principal, { Service: 'lambda.amazonaws.com' });
  });

  it('issue 11: per-bot webhook and rights alarms (dimension Bot only) for bots whose mode and channels are known; TOKEN_BOTS carries them', async () => {
    const r = await runProgram(
      build({
        bots: [
          { name: 'community', platform: 'telegram', secretName: 'acme/bot-tokens/community', secretId: COMMUNITY_ARN, mode: 'webhook', webhookUrl: 'https://bot.example.com/telegram/community', channels: ['-1001234567890'] },
          { name: 'moderation', platform: 'discord', secretName: 'acme/bot-tokens/moderation', secretId: 'acme/bot-tokens/moderation', mode: 'polling', channels: [], permissions: ['ViewChannel'] },
          { name: 'legacy', platform: 'telegram', secretName: 'acme/bot-tokens/legacy', secretId: 'acme/bot-tokens/legacy' },
        ],
      }),
    );
    const env = r.one(FN).plainInputs.environment.variables as Record<string, string>;
    assert.deepEqual(JSON.parse(env.TOKEN_BOTS).map((b: Record<string, unknown>) => [b.bot, b.mode ?? null, b.webhook_url ?? null, b.channels ?? null, b.permissions ?? null]), [
      ['community', 'webhook', 'https://bot.example.com/telegram/community', ['-1001234567890'], null],
      ['moderation', 'polling', null, null, ['ViewChannel']],
      ['legacy', null, null, null, null],
    ]);
    const alarms = r.byType(ALARM).filter((a) => /-bots-/.test(a.inputs.name));
    assert.deepEqual(alarms.map((a) => a.inputs.name).sort(), [
      'acme-use1-bots-community-channel-rights-missing',
      'acme-use1-bots-community-webhook-pending-growing',
      'acme-use1-bots-community-webhook-recent-error',
      'acme-use1-bots-community-webhook-url-drift',
      'acme-use1-bots-moderation-webhook-url-drift',
    ]);
    const by = (n: string) => alarms.find((a) => a.inputs.name === `acme-use1-bots-${n}`)!.inputs;
    const drift = by('community-webhook-url-drift');
    assert.deepEqual([drift.namespace, drift.metricName, drift.dimensions, drift.statistic, drift.comparisonOperator, drift.threshold, drift.evaluationPeriods, drift.treatMissingData], ['BotDR/Tokens', 'WebhookUrlDrift', { Bot: 'community' }, 'Minimum', 'GreaterThanOrEqualToThreshold', 1, 3, 'notBreaching']);
    const growing = by('community-webhook-pending-growing');
    assert.deepEqual((growing.metricQueries as Array<{ id: string; expression?: string; metric?: { metricName: string; dimensions: Record<string, string>; stat: string } }>).map((q) => q.metric ? [q.id, q.metric.metricName, q.metric.dimensions.Bot, q.metric.stat] : [q.id, q.expression]), [
      ['pending', 'WebhookPendingUpdates', 'community', 'Maximum'],
      ['growing', 'IF(DIFF(pending) > 0, 1, 0)'],
    ]);
    assert.deepEqual([growing.evaluationPeriods, growing.datapointsToAlarm, growing.comparisonOperator, growing.threshold], [5, 5, 'GreaterThanOrEqualToThreshold', 1]);
    const err = by('community-webhook-recent-error');
    assert.deepEqual([err.metricName, err.statistic, err.comparisonOperator, err.threshold], ['WebhookErrorAgeSeconds', 'Minimum', 'LessThanThreshold', 300]);
    const rights = by('community-channel-rights-missing');
    assert.deepEqual([rights.metricName, rights.statistic, rights.comparisonOperator, rights.threshold, rights.evaluationPeriods], ['MissingChannelRights', 'Maximum', 'GreaterThanOrEqualToThreshold', 1, 2]);
    assert.match(rights.alarmDescription, /dr bots check-permissions names the admin action \(runbook INC-006: dr runbook INC-006\)$/);
    for (const a of alarms) {
      assert.equal(a.inputs.tags['bot-dr:alarm'], a.inputs.name.replace(/^acme-use1-bots-[a-z]+-/, ''));
      assert.deepEqual([a.inputs.actionsEnabled, a.inputs.alarmActions], [true, [TOPIC]]);
    }
  });

  it('a standby stack\'s health alarms stay silent (the active stack notifies); its not-running alarm does not', async () => {
    const r = await runProgram(build({ active: false }));
    assert.equal(r.one(FN).plainInputs.environment.variables.TOKEN_MONITOR_ACTIVE, 'false');
    for (const a of r.byType(ALARM)) assert.equal(a.inputs.actionsEnabled, /not-running/.test(a.inputs.name) ? undefined : false, a.inputs.name);
  });

  describe('validation', () => {
    for (const [what, extra, re] of [
      ['rounds that overrun the minute', { rounds: 5 }, /last round would end 70 s after the start/],
      ['no bots', { bots: [] }, /bots: at least one/],
      ['a bad bot name', { bots: [{ name: 'Bad', platform: 'telegram', secretName: 'x', secretId: 'x' }] }, /bots\[0\]\.name/],
      ['an unknown platform', { bots: [{ name: 'a', platform: 'irc', secretName: 'x', secretId: 'x' }] }, /bots\[0\]\.platform/],
      ['a bad log retention', { logRetentionDays: 10 }, /logRetentionDays/],
      ['a long prefix', { namePrefix: 'x'.repeat(41) }, /namePrefix/],
    ] as const) {
      it(`refuses ${what} before declaring anything`, async () => {
        const { error, resources } = await runProgramExpectingError(build(extra as Partial<TokenMonitorArgs>));
        assert.match(error.message, re);
        assert.equal(resources.filter((x) => x.custom && !x.type.startsWith('pulumi:providers')).length, 0);
      });
    }
  });
});

describe('the token monitor in the composed stacks', () => {
  const monitorEnv = (r: ProgramRun) => r.one(FN, /token-monitor-function$/).plainInputs.environment.variables as Record<string, string>;

  it('primary: acting, reading its own secrets by ARN, on the backup job\'s image, after the job; output names the function', async () => {
    const run = await runStack('primary');
    const env = monitorEnv(run);
    assert.equal(env.TOKEN_MONITOR_ACTIVE, 'true');
    assert.deepEqual(JSON.parse(env.TOKEN_BOTS), [
      { bot: 'community', platform: 'telegram', secret: run.outputs.botTokenSecretArns.community, mode: 'webhook', webhook_url: 'https://bot.example.com/telegram/community', channels: ['-1001234567890', '@chessmaster_courses'] },
      {
        bot: 'moderation',
        platform: 'discord',
        secret: run.outputs.botTokenSecretArns.moderation,
        mode: 'webhook',
        webhook_url: 'https://bot-use1.example.com/discord/interactions',
        channels: ['123456789012345678'],
        permissions: ['ViewChannel', 'SendMessages', 'AttachFiles', 'ReadMessageHistory'],
      },
    ]);
    const job = run.one(FN, /backup-jobs-function$/).inputs;
    const mon = run.one(FN, /token-monitor-function$/).inputs;
    assert.equal(mon.imageUri, job.imageUri, 'the same image');
    assert.notDeepEqual(mon.imageConfig, job.imageConfig, 'another handler');
    assert.equal(run.outputs.tokenMonitorFunctionName, 'botdr-use1-token-monitor');
    assert.ok(dependsOn(run.regs, 'bot-dr-token-monitor-function', 'bot-dr-backup-jobs-repo-policy'), 'waits for the image\'s repository policy (Lambda\'s pull permission)');
    const policy = policyOf(run.one('aws:iam/rolePolicy:RolePolicy', /token-monitor-role-policy$/).inputs.policy);
    assert.deepEqual(policy.Statement[0].Resource, ['community', 'moderation'].map((b) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:botdr/bot-tokens/${b}-??????`));
    for (const v of run.secretValues) assert.ok(!serializeDeep(run.resources.filter((x) => /token-monitor/.test(x.name)).map((x) => x.inputs)).includes(v), 'no token in the monitor');
  });

  it('secondary: a monitor too (probe and report), reading the replicas by name; promoted: acting on the adopted secrets', async () => {
    const sec = await runStack('secondary');
    const env = monitorEnv(sec);
    assert.equal(env.TOKEN_MONITOR_ACTIVE, 'false');
    assert.deepEqual(JSON.parse(env.TOKEN_BOTS).map((b: { secret: string }) => b.secret), ['botdr/bot-tokens/community', 'botdr/bot-tokens/moderation']);
    assert.equal(sec.one(FN, /token-monitor-function$/).region, 'us-west-2');
    const policy = policyOf(sec.one('aws:iam/rolePolicy:RolePolicy', /token-monitor-role-policy$/).inputs.policy);
    assert.deepEqual(policy.Statement[0].Resource, ['community', 'moderation'].map((b) => `arn:aws:secretsmanager:us-west-2:123456789012:secret:botdr/bot-tokens/${b}-??????`));
    assert.equal(sec.outputs.tokenMonitorFunctionName, 'botdr-usw2-token-monitor');
    const promoted = await runStack('secondary', { [`${P}:database`]: { promoted: true } });
    const penv = monitorEnv(promoted);
    assert.equal(penv.TOKEN_MONITOR_ACTIVE, 'true');
    assert.deepEqual(JSON.parse(penv.TOKEN_BOTS).map((b: { secret: string }) => b.secret), [promoted.outputs.botTokenSecretArns.community, promoted.outputs.botTokenSecretArns.moderation]);
  });

  it('no bots or a scratch drill: no monitor, the output is empty', async () => {
    const none = await runStack('secondary', { [`${P}:bots`]: undefined });
    assert.equal(none.byType('bot-dr:tokens:TokenMonitor').length, 0);
    assert.equal(none.outputs.tokenMonitorFunctionName, undefined);
    const scratch = await runStack('scratch');
    assert.equal(scratch.byType('bot-dr:tokens:TokenMonitor').length, 0);
  });
});
