/**
 * Helpers (not a component) for the scheduled functions that run the backup job's image with another handler: the
 * token monitor and readiness. One shape for the function and its schedule, so the two cannot drift: one run at a
 * time, a missed run never retried (the next one observes afresh), JSON logs into the caller's encrypted log group.
 * Resource names are `${name}-function`, `${name}-async`, `${name}-schedule`, `${name}-schedule-permission` and
 * `${name}-schedule-target`, as the components declared them before.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { arnAccount, arnPartition, serviceTrustPolicy } from '../lib/policies';

/** What every part of such a function is named, tagged and scoped with. */
export interface ImageFunctionBase {
  tags: Record<string, string>;
  fnName: string;
  account: pulumi.Output<string>;
  partition: pulumi.Output<string>;
}

/** The base of a function named `fnName`, tagged as `component`, in the account and partition of `kmsKeyArn`. */
export function imageFunctionBase(o: { tags?: Record<string, string>; component: string; fnName: string; kmsKeyArn: pulumi.Input<string> }): ImageFunctionBase {
  return {
    tags: { ...o.tags, 'bot-dr:component': o.component },
    fnName: o.fnName,
    account: pulumi.output(o.kmsKeyArn).apply(arnAccount),
    partition: pulumi.output(o.kmsKeyArn).apply(arnPartition),
  };
}

/** The function's role (trusting Lambda in this account) and its one inline policy: `${name}-role`, `${name}-role-policy`. */
export function createImageFunctionRole(
  name: string,
  parent: pulumi.Resource,
  provider: aws.Provider,
  { tags, account }: ImageFunctionBase,
  o: { description: string; policy: pulumi.Input<string> },
): { role: aws.iam.Role; rolePolicy: aws.iam.RolePolicy } {
  const child = { parent, provider };
  const role = new aws.iam.Role(`${name}-role`, { description: o.description, assumeRolePolicy: account.apply((a) => JSON.stringify(serviceTrustPolicy('lambda.amazonaws.com', a))), tags }, child);
  const rolePolicy = new aws.iam.RolePolicy(`${name}-role-policy`, { role: role.id, policy: o.policy }, child);
  return { role, rolePolicy };
}

export interface ImageFunctionSpec {
  fnName: string;
  description: string;
  imageUri: pulumi.Input<string>;
  /** The image's handler to run instead of its CMD (the backup job's). */
  handler: string;
  role: aws.iam.Role;
  memoryMb: number;
  timeoutSeconds: pulumi.Input<number>;
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  kmsKeyArn: pulumi.Input<string>;
  logGroup: aws.cloudwatch.LogGroup;
  tags: Record<string, string>;
  dependsOn: pulumi.Resource[];
  /** How long a queued invocation may wait before it is dropped (the schedule's period, or less). */
  maxEventAgeSeconds: number;
}

/** The function (one run at a time) and its async config (no retry, events older than the period dropped). */
export function createImageFunction(name: string, parent: pulumi.Resource, provider: aws.Provider, s: ImageFunctionSpec): aws.lambda.Function {
  const child = { parent, provider };
  const fn = new aws.lambda.Function(
    `${name}-function`,
    {
      name: s.fnName,
      description: s.description,
      packageType: 'Image',
      imageUri: s.imageUri,
      imageConfig: { commands: [s.handler] },
      architectures: ['x86_64'],
      role: s.role.arn,
      memorySize: s.memoryMb,
      timeout: s.timeoutSeconds,
      reservedConcurrentExecutions: 1,
      environment: { variables: s.environment },
      kmsKeyArn: s.kmsKeyArn,
      loggingConfig: { logFormat: 'JSON', logGroup: s.logGroup.name },
      tags: s.tags,
    },
    { ...child, dependsOn: s.dependsOn },
  );
  new aws.lambda.FunctionEventInvokeConfig(`${name}-async`, { functionName: fn.name, maximumRetryAttempts: 0, maximumEventAgeInSeconds: s.maxEventAgeSeconds }, child);
  return fn;
}

export interface ScheduleSpec {
  fnName: string;
  description: string;
  expression: string;
  tags: Record<string, string>;
  maxEventAgeSeconds: number;
}

/** The EventBridge rule invoking `fn` on `expression`, the permission it invokes with, and its target. */
export function createSchedule(name: string, parent: pulumi.Resource, provider: aws.Provider, fn: aws.lambda.Function, s: ScheduleSpec): aws.cloudwatch.EventRule {
  const child = { parent, provider };
  const rule = new aws.cloudwatch.EventRule(`${name}-schedule`, { name: `${s.fnName}-schedule`, description: s.description, scheduleExpression: s.expression, state: 'ENABLED', tags: s.tags }, child);
  const permission = new aws.lambda.Permission(`${name}-schedule-permission`, { action: 'lambda:InvokeFunction', function: fn.name, principal: 'events.amazonaws.com', sourceArn: rule.arn }, child);
  new aws.cloudwatch.EventTarget(
    `${name}-schedule-target`,
    { rule: rule.name, arn: fn.arn, input: JSON.stringify({ source: 'schedule' }), retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: s.maxEventAgeSeconds } },
    { ...child, dependsOn: [permission] },
  );
  return rule;
}
