/**
 * The backup job as an ECS Fargate task (`backup.runner: fargate`): the parts BackupJobs declares instead of the
 * Lambda function — a cluster, the task's log group, a task role with the Lambda job's data scope
 * (lib/policies.ts `backupTaskPolicy`), an execution role (image pull, logs), the task definition running the SAME
 * image with automation/lambda/ecs-task.js as its entry, and an EventBridge rule that sends a task that stopped
 * with a failure to the job's dead-letter queue (and is alarmed on by Alerts: `backup-task-failed`).
 *
 * The schedules stay EventBridge Scheduler schedules (same names, expressions and inputs); their target becomes ECS
 * RunTask ({@link ecsScheduleTarget}) in the private subnets with the backup security group, the event travelling
 * as the container's `DR_JOB_EVENT` environment override.
 *
 * Helpers of the BackupJobs component (its children, created with its provider); not a component of their own.
 */
import * as aws from '@pulumi/aws';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { backupTaskExecutionPolicy, serviceTrustPolicy, taskFailureQueuePolicy } from '../lib/policies';

/** The container's name in the task definition (and in the schedules' overrides). */
export const BACKUP_TASK_CONTAINER = 'backup-job';
/** The task's entry inside the image: node runs the compiled automation/lambda/ecs-task.ts from the Lambda task root. */
export const BACKUP_TASK_ENTRY = ['/var/lang/bin/node', '/var/task/automation/lambda/ecs-task.js'];
/** The environment variable carrying the schedule's event to the task. */
export const BACKUP_TASK_EVENT_VAR = 'DR_JOB_EVENT';

/** What the task parts are declared with. */
export interface BackupTaskArgs {
  provider: aws.Provider;
  region: string;
  /** The job's name stem (`<prefix>-backup-job`): cluster, family, log group. */
  fnName: string;
  kmsKeyArn: pulumi.Input<string>;
  account: pulumi.Output<string>;
  tags: Record<string, string>;
  logRetentionDays: number;
  /** Task CPU units and memory (MiB), validated by lib/config.ts / BackupJobs. */
  cpu: number;
  memoryMb: number;
  /** Ephemeral storage (GiB, 21–200): the restore test's dump when it runs with more than one pg_restore job. */
  ephemeralStorageGb: number;
  /** The container's environment (the Lambda's, lib/backup-job-env.ts). */
  env: Record<string, pulumi.Input<string>>;
}

/** The cluster and the task's KMS-encrypted log group. */
export function createTaskCluster(name: string, a: BackupTaskArgs, parent: pulumi.Resource) {
  const child = { parent, provider: a.provider };
  const cluster = new aws.ecs.Cluster(`${name}-cluster`, { name: a.fnName, settings: [{ name: 'containerInsights', value: 'enabled' }], tags: a.tags }, child);
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-task-logs`, { name: `/ecs/${a.fnName}`, retentionInDays: a.logRetentionDays, kmsKeyId: a.kmsKeyArn, tags: a.tags }, child);
  return { cluster, logGroup };
}

/** The execution role (ECS pulls the image and writes the log group with it) and its policy. */
export function createExecutionRole(name: string, a: BackupTaskArgs, parent: pulumi.Resource, deps: { repo: aws.ecr.Repository; logGroup: aws.cloudwatch.LogGroup }) {
  const child = { parent, provider: a.provider };
  const role = new aws.iam.Role(
    `${name}-execution-role`,
    { description: 'Backup task: ECS pulls the job image and writes its logs', assumeRolePolicy: a.account.apply((acct) => JSON.stringify(serviceTrustPolicy('ecs-tasks.amazonaws.com', acct))), tags: a.tags },
    child,
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-execution-role-policy`,
    {
      role: role.id,
      policy: pulumi.all([deps.repo.arn, deps.logGroup.arn]).apply(([repositoryArn, logGroupArn]) => JSON.stringify(backupTaskExecutionPolicy({ repositoryArn, logGroupArn }))),
    },
    child,
  );
  return { role, policy };
}

/**
 * The task definition: FARGATE, awsvpc, x86_64 (the image is linux/amd64), the job's CPU, memory and ephemeral
 * storage; one essential container running {@link BACKUP_TASK_ENTRY} from the image digest, its environment, logs
 * to the task's log group, up to 120 s to stop cleanly.
 */
export function createTaskDefinition(
  name: string,
  a: BackupTaskArgs,
  parent: pulumi.Resource,
  deps: { image: docker.Image; taskRole: aws.iam.Role; executionRole: aws.iam.Role; logGroup: aws.cloudwatch.LogGroup; dependsOn: pulumi.Resource[] },
): aws.ecs.TaskDefinition {
  const envList = pulumi.all(a.env).apply((env) => Object.entries(env).map(([k, v]) => ({ name: k, value: v })));
  const containerDefinitions = pulumi.all([deps.image.repoDigest, deps.logGroup.name, envList]).apply(([image, logGroup, environment]) =>
    JSON.stringify([
      {
        name: BACKUP_TASK_CONTAINER,
        image,
        essential: true,
        entryPoint: BACKUP_TASK_ENTRY.slice(0, 1),
        command: BACKUP_TASK_ENTRY.slice(1),
        workingDirectory: '/var/task',
        environment,
        stopTimeout: 120,
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': logGroup, 'awslogs-region': a.region, 'awslogs-stream-prefix': 'job' } },
      },
    ]),
  );
  return new aws.ecs.TaskDefinition(
    `${name}-task`,
    {
      family: a.fnName,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: String(a.cpu),
      memory: String(a.memoryMb),
      ephemeralStorage: { sizeInGib: a.ephemeralStorageGb },
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
      executionRoleArn: deps.executionRole.arn,
      taskRoleArn: deps.taskRole.arn,
      containerDefinitions,
      tags: a.tags,
    },
    { parent, provider: a.provider, dependsOn: deps.dependsOn },
  );
}

/**
 * A task of this cluster that stopped with a failure — its container exited non-zero, or it never started (image
 * pull, ENI, capacity) — goes to the job's dead-letter queue as an EventBridge event (the DLQ alarm fires and the
 * message names the task), and the rule's TriggeredRules metric feeds the `backup-task-failed` alarm. Returns the
 * rule (Alerts alarms on its name).
 */
export function createTaskFailureRule(name: string, a: BackupTaskArgs, parent: pulumi.Resource, deps: { cluster: aws.ecs.Cluster; dlq: aws.sqs.Queue }): aws.cloudwatch.EventRule {
  const child = { parent, provider: a.provider };
  const rule = new aws.cloudwatch.EventRule(
    `${name}-task-failed`,
    {
      name: `${a.fnName}-task-failed`,
      description: 'Backup task stopped with a failure (non-zero exit or failed to start)',
      eventPattern: deps.cluster.arn.apply((clusterArn) => JSON.stringify(taskFailurePattern(clusterArn))),
      tags: a.tags,
    },
    child,
  );
  const queuePolicy = new aws.sqs.QueuePolicy(
    `${name}-dlq-policy`,
    { queueUrl: deps.dlq.url, policy: pulumi.all([deps.dlq.arn, rule.arn]).apply(([queueArn, ruleArn]) => JSON.stringify(taskFailureQueuePolicy({ queueArn, ruleArn }))) },
    child,
  );
  new aws.cloudwatch.EventTarget(`${name}-task-failed-dlq`, { rule: rule.name, arn: deps.dlq.arn }, { ...child, dependsOn: [queuePolicy] });
  return rule;
}

/** The ECS "Task State Change" events of a failed task on `clusterArn` (pure). */
export function taskFailurePattern(clusterArn: string): object {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: {
      clusterArn: [clusterArn],
      lastStatus: ['STOPPED'],
      $or: [{ containers: { exitCode: [{ 'anything-but': 0 }] } }, { stopCode: ['TaskFailedToStart'] }],
    },
  };
}

/** The `input` of a schedule whose target is the task: the event as the container's {@link BACKUP_TASK_EVENT_VAR}. */
export function taskScheduleInput(event: object): string {
  return JSON.stringify({ containerOverrides: [{ name: BACKUP_TASK_CONTAINER, environment: [{ name: BACKUP_TASK_EVENT_VAR, value: JSON.stringify(event) }] }] });
}

/** The ECS RunTask parameters of every schedule: one Fargate task in the private subnets, backup SG, no public IP. */
export function ecsScheduleTarget(deps: { taskDefinition: aws.ecs.TaskDefinition; subnetIds: pulumi.Input<pulumi.Input<string>[]>; securityGroupIds: pulumi.Input<pulumi.Input<string>[]> }) {
  return {
    taskDefinitionArn: deps.taskDefinition.arn,
    launchType: 'FARGATE',
    platformVersion: 'LATEST',
    taskCount: 1,
    networkConfiguration: { subnets: deps.subnetIds, securityGroups: deps.securityGroupIds, assignPublicIp: false },
    enableEcsManagedTags: true,
    propagateTags: 'TASK_DEFINITION',
  };
}
