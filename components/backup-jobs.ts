import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as aws from '@pulumi/aws';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { BACKUP_METRICS_NAMESPACE } from '../lib/backup-metrics';
import { BACKUP_JOB_ENV, BackupJobEnvName } from '../lib/backup-job-env';
import { BACKUP_SERVICES, BACKUP_TIERS, DEFAULT_RETENTION, RESTORE_TEST_SCHEDULE, RetentionPolicy, backupSchedules, retentionCounts, validateRetention } from '../lib/lifecycle';
import { arnAccount, arnPartition, backupJobPolicy, backupTaskPolicy, ecrLambdaPullPolicy, ecrLifecyclePolicy, schedulerEcsPolicy, schedulerPolicy, serviceTrustPolicy } from '../lib/policies';
import { BackupRunner, FARGATE_SIZES, RUNNER_DEFAULTS, RUNNER_LIMITS } from '../lib/backup-runner';
import { createExecutionRole, createTaskCluster, createTaskDefinition, createTaskFailureRule, ecsScheduleTarget, taskScheduleInput } from './backup-task';

/** Path of the job's handler inside the image (engineer C's `automation/lambda/handler.ts`, compiled). */
export const BACKUP_JOB_HANDLER = 'automation/lambda/handler.handler';
/** Dockerfile of the backup-job image, relative to the build context (the repo root). */
export const BACKUP_JOB_DOCKERFILE = 'docker/backup-job/Dockerfile';
/** Prefix of the manual RDS/ElastiCache snapshots the job creates (its IAM scope). */
export const BACKUP_SNAPSHOT_PREFIX = 'bot-dr-';

/** CloudWatch Logs' accepted retention values. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Arguments of {@link BackupJobs}. */
export interface BackupJobsArgs {
  /** Provider of this stack's region; every AWS child is created through it. */
  provider: aws.Provider;
  /** This region, e.g. `us-east-1`. */
  region: string;
  /** Stack role. Schedules are ENABLED only on `primary`; on other roles they exist but are DISABLED. */
  role: 'primary' | 'secondary' | 'scratch';
  /** Naming prefix for physical names (function, repository, queue, schedules); ≤ 40 chars. */
  namePrefix: string;
  /** ARN of the region's KMS key (ECR, logs, DLQ, Lambda environment). */
  kmsKeyArn: pulumi.Input<string>;
  /** The backup bucket's name (passed to the job). */
  bucketName: pulumi.Input<string>;
  /** The backup bucket's ARN (IAM scope). */
  bucketArn: pulumi.Input<string>;
  /** Private subnets the function runs in (reaching the DB and the cache). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security groups of the function — the backup-job SG the DB and cache admit. */
  securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Secrets Manager ARN of the DB master credentials (the job reads it; its value is never passed). */
  dbSecretArn: pulumi.Input<string>;
  /** ARN of the RDS instance the job may snapshot. Omit to grant no RDS snapshot permissions. */
  dbInstanceArn?: pulumi.Input<string>;
  /**
   * The database in THIS region the job dumps (DB_HOST/DB_PORT/DB_NAME/DB_INSTANCE_ID). The secret's `host` is the
   * primary's at the time it was written, so the job is always given its own region's address.
   */
  database?: { host: pulumi.Input<string>; port: number; name: string; instanceId: pulumi.Input<string> };
  /** The cache in this region (CACHE_HOST/CACHE_PORT/CACHE_TLS). */
  cache?: { host: pulumi.Input<string>; port: number; tls: boolean };
  /** Cross-region copy of the weekly/monthly RDS snapshots: the peer region and the key there (PEER_REGION/PEER_KMS_KEY_ARN). */
  peer?: { region: string; kmsKeyArn: pulumi.Input<string> };
  /** Secrets Manager ARN of the Redis auth token, if the cache has one. */
  cacheAuthSecretArn?: pulumi.Input<string>;
  /** ElastiCache replication group id the job may snapshot. Omit to grant no ElastiCache permissions. */
  cacheReplicationGroupId?: pulumi.Input<string>;
  /**
   * Where ElastiCache exports land before the job copies them into `redis/<tier>/` (CACHE_EXPORT_PREFIX). Default
   * `redis/exports/`. The BackupBucket must let ElastiCache write there (`elastiCacheExportPrefix`).
   */
  cacheExportPrefix?: string;
  /** SNS topic the job notifies on failure/success. */
  alertsTopicArn: pulumi.Input<string>;
  /** Tier retention (days); the job gets the derived counts. Default: the seeds' policy. */
  retention?: RetentionPolicy;
  /**
   * Where the job runs (lib/backup-runner.ts): `lambda` (default; the function) or `fargate` (the same image as an ECS
   * Fargate task on the same schedules, for databases past the Lambda's 15 minutes / 10 GB).
   */
  runner?: BackupRunner;
  /** Function memory in MB (also buys CPU for compression), default 2048; fargate: task memory in MiB, default 4096. */
  memoryMb?: number;
  /** Function timeout in seconds, at most 900 (Lambda's limit), default 900; fargate: the task's own deadline (≤ 86400), default 21600. */
  timeoutSeconds?: number;
  /** /tmp size in MB (512–10240) for dumps that cannot be streamed. Default 4096. Lambda only. */
  ephemeralStorageMb?: number;
  /** fargate: task CPU units (256–16384, a Fargate size with `memoryMb`). Default 1024. */
  cpu?: number;
  /** fargate: ephemeral storage in GiB (21–200), for a restore test with more than one pg_restore job. Default 21. */
  ephemeralStorageGb?: number;
  /** pg_restore jobs of the weekly restore test (RESTORE_TEST_JOBS): 1 streams with no local copy. Default 1. */
  restoreTestJobs?: number;
  /** Log retention in days (a CloudWatch Logs value). Default 30. */
  logRetentionDays?: number;
  /** Images kept in ECR. Default 10. */
  keepImages?: number;
  /** Docker build context: the repo root. Default: the directory above `components/`. */
  buildContext?: string;
  /** PostgreSQL client major version in the image; must be ≥ the server's major. Default 16. */
  postgresMajorVersion?: number;
  /** Image tag. Default: a hash of the build inputs, so the IMMUTABLE repository gets a new tag per change. */
  imageTag?: string;
  /** Tags applied to taggable children. */
  tags?: Record<string, string>;
}

/** Files whose content determines the image (walked under the build context). */
const IMAGE_INPUTS = ['docker/backup-job', 'package.json', 'package-lock.json', 'tsconfig.json', 'automation', 'lib'];

/** sha256 (first 16 hex chars) over the image's build inputs, stable across machines (sorted, relative paths). */
export function buildContextHash(root: string, inputs: string[] = IMAGE_INPUTS): string {
  const h = crypto.createHash('sha256');
  const visit = (rel: string): void => {
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) return;
    const st = fs.statSync(abs);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(abs).sort()) visit(path.join(rel, e));
    } else if (st.isFile()) {
      h.update(rel.split(path.sep).join('/')).update('\0').update(fs.readFileSync(abs)).update('\0');
    }
  };
  for (const i of inputs) visit(i);
  return h.digest('hex').slice(0, 16);
}

/** Validates BackupJobs args that are known at construction; errors name the key and the allowed range. */
export function validateBackupJobsArgs(args: BackupJobsArgs): void {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(args.namePrefix)) throw new Error(`namePrefix: must be 1-40 lowercase letters, digits or hyphens, got ${JSON.stringify(args.namePrefix)}`);
  const int = (key: string, v: number | undefined, min: number, max: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new Error(`${key}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  };
  const runner = args.runner ?? 'lambda';
  if (runner !== 'lambda' && runner !== 'fargate') throw new Error(`backupJob.runner: must be lambda or fargate, got ${JSON.stringify(runner)}`);
  if (runner === 'lambda') {
    int('backupJob.memoryMb', args.memoryMb, 512, 10240);
    int('backupJob.timeoutSeconds', args.timeoutSeconds, 60, 900);
    int('backupJob.ephemeralStorageMb', args.ephemeralStorageMb, 512, 10240);
    if (args.cpu !== undefined || args.ephemeralStorageGb !== undefined) throw new Error('backupJob.cpu, backupJob.ephemeralStorageGb: apply only to runner fargate');
  } else {
    validateTaskSize(args);
  }
  int('backupJob.restoreTestJobs', args.restoreTestJobs, 1, 16);
  int('backupJob.keepImages', args.keepImages, 1, 1000);
  int('backupJob.postgresMajorVersion', args.postgresMajorVersion, 15, 99);
  if (args.logRetentionDays !== undefined && !LOG_RETENTION_DAYS.includes(args.logRetentionDays)) {
    throw new Error(`backupJob.logRetentionDays: must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${JSON.stringify(args.logRetentionDays)}`);
  }
  if (args.imageTag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(args.imageTag)) throw new Error(`backupJob.imageTag: not a valid Docker tag: ${JSON.stringify(args.imageTag)}`);
}

/** fargate: a valid Fargate CPU/memory pair, ephemeral storage 21–200 GiB, a deadline of at most a day. */
function validateTaskSize(args: BackupJobsArgs): void {
  const cpu = args.cpu ?? RUNNER_DEFAULTS.fargate.cpu;
  const size = FARGATE_SIZES[cpu];
  if (!size) throw new Error(`backupJob.cpu: must be one of ${Object.keys(FARGATE_SIZES).join(', ')} (Fargate CPU units), got ${JSON.stringify(args.cpu)}`);
  const mem = args.memoryMb ?? Math.max(size.min, RUNNER_DEFAULTS.fargate.memoryMb);
  if (!Number.isInteger(mem) || mem < size.min || mem > size.max || (mem - size.min) % size.step !== 0) {
    throw new Error(`backupJob.memoryMb: ${JSON.stringify(mem)} MiB is not a Fargate size for ${cpu} CPU units (${size.min}–${size.max} in steps of ${size.step})`);
  }
  const gb = args.ephemeralStorageGb ?? RUNNER_DEFAULTS.fargate.ephemeralStorageGb;
  const lim = RUNNER_LIMITS.fargate;
  if (!Number.isInteger(gb) || gb < lim.minStorageGb || gb > lim.maxStorageGb) throw new Error(`backupJob.ephemeralStorageGb: must be a whole number from ${lim.minStorageGb} to ${lim.maxStorageGb}, got ${JSON.stringify(gb)}`);
  const t = args.timeoutSeconds ?? RUNNER_DEFAULTS.fargate.timeoutSeconds;
  if (!Number.isInteger(t) || t < lim.minTimeoutSeconds || t > lim.maxTimeoutSeconds) throw new Error(`backupJob.timeoutSeconds: must be a whole number from ${lim.minTimeoutSeconds} to ${lim.maxTimeoutSeconds}, got ${JSON.stringify(t)}`);
  if (args.ephemeralStorageMb !== undefined) throw new Error('backupJob.ephemeralStorageMb: applies only to runner lambda (fargate: backupJob.ephemeralStorageGb)');
}

/**
 * The scheduled backup job of one region: a Lambda container image (pg_dump/pg_restore + redis-cli)
 * built from docker/backup-job/Dockerfile and pushed to an ECR repository in the region; the function
 * in the VPC with its own KMS-encrypted log group, an SQS on-failure destination, one reserved
 * concurrent execution, and a least-privilege role; EventBridge Scheduler schedules per service and
 * tier (UTC), ENABLED only on the primary.
 *
 * With `runner: 'fargate'` the same image runs as an ECS Fargate task instead of the function (components/backup-task.ts):
 * a cluster, a task definition (CPU, memory, ephemeral storage from config), a task role with the function's data
 * scope, an execution role, the task's log group, and the same schedules targeting ECS RunTask in the same subnets
 * with the same security group; a task that stops with a failure reaches the same dead-letter queue.
 *
 * Why the secondary has the schedules DISABLED rather than absent: promotion then only flips `state`
 * (one in-place update — or one UpdateSchedule call if Pulumi cannot run), the function, image, role
 * and permissions are already deployed and exercised by drills in that region, and a failover never has
 * to create IAM or pull an image in the middle of an incident.
 */
export class BackupJobs extends pulumi.ComponentResource {
  /** Where the job runs. */
  readonly runner: BackupRunner;
  /** The function (runner lambda; undefined with runner fargate). */
  readonly functionName: pulumi.Output<string | undefined>;
  readonly functionArn: pulumi.Output<string | undefined>;
  /** The cluster, task definition and task-failure rule (runner fargate). */
  readonly clusterArn?: pulumi.Output<string>;
  readonly taskDefinitionArn?: pulumi.Output<string>;
  readonly taskFailureRuleName?: pulumi.Output<string>;
  readonly dlqArn: pulumi.Output<string>;
  readonly dlqName: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  readonly repositoryUrl: pulumi.Output<string>;
  /** The job's image by digest (the token monitor runs the same image with another handler). */
  readonly imageUri: pulumi.Output<string>;
  /** The job's IAM role name (the backup audit expects its deletes: components/backup-audit.ts). */
  readonly roleName: pulumi.Output<string>;
  /** Schedule names, `<prefix>-<service>-<tier>`. */
  readonly scheduleNames: string[];
  /** ENABLED or DISABLED (all schedules share it). */
  readonly scheduleState: 'ENABLED' | 'DISABLED';

  constructor(name: string, args: BackupJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('bot-dr:backup:BackupJobs', name, {}, opts);
    validateBackupJobsArgs(args);
    const retention = validateRetention(args.retention ?? DEFAULT_RETENTION);
    const counts = retentionCounts(retention);
    const base = jobBase(args);

    const { repo, repoPolicy, image } = createImage(name, args, this, base);
    this.runner = args.runner ?? 'lambda';
    this.scheduleState = args.role === 'primary' ? 'ENABLED' : 'DISABLED';
    const env = backupJobEnvironment(args, counts, base.exportPrefix);
    let logGroup: aws.cloudwatch.LogGroup;
    let dlq: aws.sqs.Queue;
    if (this.runner === 'lambda') {
      logGroup = createLogGroup(name, args, this, base);
      dlq = createDeadLetterQueue(name, args, this, base);
      const { role, rolePolicy } = createJobRole(name, args, this, base, { logGroup, dlq, kind: 'lambda' });
      const fn = createFunction(name, args, this, base, { image, role, dependsOn: [rolePolicy, repoPolicy, logGroup], logGroup, dlq, env });
      this.scheduleNames = createSchedules(name, args, this, base, { dlq, state: this.scheduleState, ...lambdaScheduling(args, fn, dlq) });
      this.functionName = fn.name;
      this.functionArn = fn.arn;
      this.roleName = role.name;
    } else {
      const task = createTask(name, args, this, base, { repo, image, env });
      ({ logGroup, dlq } = task);
      this.scheduleNames = createSchedules(name, args, this, base, { dlq, state: this.scheduleState, ...task.scheduling });
      this.functionName = pulumi.output(undefined);
      this.functionArn = pulumi.output(undefined);
      this.clusterArn = task.cluster.arn;
      this.taskDefinitionArn = task.taskDefinition.arn;
      this.taskFailureRuleName = task.failureRule.name;
      // The task role deletes what the job prunes (the backup audit expects its deletes).
      this.roleName = task.taskRole.name;
    }

    this.dlqArn = dlq.arn;
    this.dlqName = dlq.name;
    this.logGroupName = logGroup.name;
    this.repositoryUrl = repo.repositoryUrl;
    this.imageUri = image.repoDigest;
    this.registerOutputs({
      runner: this.runner,
      functionName: this.functionName,
      functionArn: this.functionArn,
      clusterArn: this.clusterArn,
      taskDefinitionArn: this.taskDefinitionArn,
      dlqArn: this.dlqArn,
      logGroupName: this.logGroupName,
      repositoryUrl: this.repositoryUrl,
      scheduleNames: this.scheduleNames,
      roleName: this.roleName,
    });
  }
}

/** What every part of the job is named, tagged and scoped with. */
interface JobBase {
  /** Tags of taggable children. */
  tags: Record<string, string>;
  /** The function's name (also the repository's, the log group's and the queue's stem). */
  fnName: string;
  /** The account of the region's key (the job's IAM scope). */
  account: pulumi.Output<string>;
  /** The partition of the region's key. */
  partition: pulumi.Output<string>;
  /** Where ElastiCache exports land (the role's, the bucket policy's and the job's CACHE_EXPORT_PREFIX). */
  exportPrefix: string;
}

/** The names, tags and IAM scope shared by the job's parts. */
function jobBase(args: BackupJobsArgs): JobBase {
  return {
    tags: { ...args.tags, 'bot-dr:component': 'backup-jobs' },
    fnName: `${args.namePrefix}-backup-job`,
    account: pulumi.output(args.kmsKeyArn).apply(arnAccount),
    partition: pulumi.output(args.kmsKeyArn).apply(arnPartition),
    exportPrefix: args.cacheExportPrefix ?? BACKUP_JOB_ENV.CACHE_EXPORT_PREFIX.default,
  };
}

/** The job's image: an IMMUTABLE, scanned, KMS-encrypted ECR repository Lambda may pull from, and the image built into it. */
function createImage(name: string, args: BackupJobsArgs, parent: pulumi.Resource, { tags, fnName, account, partition }: JobBase) {
  const child = { parent, provider: args.provider };
  const repo = new aws.ecr.Repository(
    `${name}-repo`,
    {
      name: fnName,
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: 'KMS', kmsKey: args.kmsKeyArn }],
      tags,
    },
    child,
  );
  new aws.ecr.LifecyclePolicy(`${name}-repo-lifecycle`, { repository: repo.name, policy: JSON.stringify(ecrLifecyclePolicy(args.keepImages ?? 10)) }, child);
  const repoPolicy = new aws.ecr.RepositoryPolicy(
    `${name}-repo-policy`,
    { repository: repo.name, policy: pulumi.all([account, partition]).apply(([a, p]) => JSON.stringify(ecrLambdaPullPolicy({ account: a, region: args.region, partition: p }))) },
    child,
  );

  const context = args.buildContext ?? path.resolve(__dirname, '..');
  const tag = args.imageTag ?? buildContextHash(context);
  const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, child);
  const image = new docker.Image(
    `${name}-image`,
    {
      imageName: pulumi.interpolate`${repo.repositoryUrl}:${tag}`,
      build: {
        context,
        dockerfile: path.join(context, BACKUP_JOB_DOCKERFILE),
        platform: 'linux/amd64',
        args: { PG_MAJOR: String(args.postgresMajorVersion ?? 16) },
      },
      registry: { server: repo.repositoryUrl, username: auth.userName, password: pulumi.secret(auth.password) },
    },
    // A docker resource: no AWS provider.
    { parent },
  );
  return { repo, repoPolicy, image };
}

/** The function's KMS-encrypted log group. */
function createLogGroup(name: string, args: BackupJobsArgs, parent: pulumi.Resource, { tags, fnName }: JobBase): aws.cloudwatch.LogGroup {
  return new aws.cloudwatch.LogGroup(
    `${name}-logs`,
    { name: `/aws/lambda/${fnName}`, retentionInDays: args.logRetentionDays ?? 30, kmsKeyId: args.kmsKeyArn, tags },
    { parent, provider: args.provider },
  );
}

/** The job's KMS-encrypted dead-letter queue (failed invocations, undeliverable schedules, failed tasks). */
function createDeadLetterQueue(name: string, args: BackupJobsArgs, parent: pulumi.Resource, { tags, fnName }: JobBase): aws.sqs.Queue {
  return new aws.sqs.Queue(
    `${name}-dlq`,
    { name: `${fnName}-dlq`, kmsMasterKeyId: args.kmsKeyArn, kmsDataKeyReusePeriodSeconds: 300, messageRetentionSeconds: 14 * 86400, tags },
    { parent, provider: args.provider },
  );
}

/**
 * runner fargate: the dead-letter queue, the cluster and log group, the task role (the function's data scope) and
 * execution role, the task definition, the failure rule; and how the schedules start the task.
 */
function createTask(name: string, args: BackupJobsArgs, parent: pulumi.Resource, base: JobBase, deps: { repo: aws.ecr.Repository; image: docker.Image; env: Record<string, pulumi.Input<string>> }) {
  const d = RUNNER_DEFAULTS.fargate;
  const cpu = args.cpu ?? d.cpu;
  const taskArgs = {
    provider: args.provider,
    region: args.region,
    fnName: base.fnName,
    kmsKeyArn: args.kmsKeyArn,
    account: base.account,
    tags: base.tags,
    logRetentionDays: args.logRetentionDays ?? 30,
    cpu,
    memoryMb: args.memoryMb ?? Math.max(FARGATE_SIZES[cpu].min, d.memoryMb),
    ephemeralStorageGb: args.ephemeralStorageGb ?? d.ephemeralStorageGb,
    env: deps.env,
  };
  const dlq = createDeadLetterQueue(name, args, parent, base);
  const { cluster, logGroup } = createTaskCluster(name, taskArgs, parent);
  const { role: taskRole, rolePolicy } = createJobRole(name, args, parent, base, { logGroup, dlq, kind: 'task' });
  const execution = createExecutionRole(name, taskArgs, parent, { repo: deps.repo, logGroup });
  const taskDefinition = createTaskDefinition(name, taskArgs, parent, { image: deps.image, taskRole, executionRole: execution.role, logGroup, dependsOn: [rolePolicy, execution.policy] });
  const failureRule = createTaskFailureRule(name, taskArgs, parent, { cluster, dlq });
  const scheduling: Scheduling = {
    target: { arn: cluster.arn, input: taskScheduleInput, ecsParameters: ecsScheduleTarget({ taskDefinition, subnetIds: args.subnetIds, securityGroupIds: args.securityGroupIds }) },
    policy: pulumi
      .all([taskDefinition.arn, cluster.arn, taskRole.arn, execution.role.arn, dlq.arn, args.kmsKeyArn])
      .apply(([taskDefinitionArn, clusterArn, t, e, dlqArn, kmsKeyArn]) => JSON.stringify(schedulerEcsPolicy({ taskDefinitionArn, clusterArn, roleArns: [t, e], dlqArn, kmsKeyArn, region: args.region }))),
    description: 'EventBridge Scheduler: run the backup task',
  };
  return { dlq, cluster, logGroup, taskDefinition, failureRule, scheduling, taskRole };
}

/**
 * The job's least-privilege role (lib/policies.ts `backupJobPolicy`): the function's (`kind: 'lambda'`), or the
 * Fargate task role (`kind: 'task'`: the same data scope without the Lambda platform's statements, `backupTaskPolicy`).
 */
function createJobRole(
  name: string,
  args: BackupJobsArgs,
  parent: pulumi.Resource,
  { tags, account, partition, exportPrefix }: JobBase,
  { logGroup, dlq, kind }: { logGroup: aws.cloudwatch.LogGroup; dlq: aws.sqs.Queue; kind: 'lambda' | 'task' },
) {
  const child = { parent, provider: args.provider };
  const stem = kind === 'lambda' ? `${name}-role` : `${name}-task-role`;
  const principal = kind === 'lambda' ? 'lambda.amazonaws.com' : 'ecs-tasks.amazonaws.com';
  const policyOf = kind === 'lambda' ? backupJobPolicy : backupTaskPolicy;
  const role = new aws.iam.Role(
    stem,
    { description: 'Backup job: dump PostgreSQL/Redis to the backup bucket', assumeRolePolicy: account.apply((a) => JSON.stringify(serviceTrustPolicy(principal, a))), tags },
    child,
  );
  const secretArns = pulumi.all([args.dbSecretArn, args.cacheAuthSecretArn]).apply(([db, cache]) => (cache ? [db, cache] : [db]));
  const rolePolicy = new aws.iam.RolePolicy(
    `${stem}-policy`,
    {
      role: role.id,
      policy: pulumi
        .all([
          pulumi.all([account, partition, args.bucketArn, args.kmsKeyArn, secretArns]),
          pulumi.all([args.alertsTopicArn, logGroup.arn, dlq.arn, args.dbInstanceArn, args.cacheReplicationGroupId, args.peer?.kmsKeyArn]),
        ])
        .apply(([[acct, part, bucketArn, kmsKeyArn, secrets], [topicArn, logGroupArn, dlqArn, dbInstanceArn, cacheId, peerKmsKeyArn]]) =>
          JSON.stringify(
            policyOf({
              region: args.region,
              account: acct,
              partition: part,
              bucketArn,
              prefixes: BACKUP_SERVICES.map((s) => `${s}/`),
              kmsKeyArn,
              secretArns: secrets,
              metricsNamespace: BACKUP_METRICS_NAMESPACE,
              topicArn,
              logGroupArn,
              dlqArn,
              dbInstanceArn,
              snapshotPrefix: BACKUP_SNAPSHOT_PREFIX,
              cacheReplicationGroupId: cacheId,
              peer: args.peer && peerKmsKeyArn ? { region: args.peer.region, kmsKeyArn: peerKmsKeyArn } : undefined,
              cacheExportPrefix: exportPrefix,
            }),
          ),
        ),
    },
    child,
  );
  return { role, rolePolicy };
}

/**
 * The function's environment. The handler's environment contract is lib/backup-job-env.ts
 * (test/components/backup-jobs.test.ts derives the required names from it, so this list and the handler cannot drift).
 */
function backupJobEnvironment(
  args: BackupJobsArgs,
  counts: ReturnType<typeof retentionCounts>,
  exportPrefix: string,
): Partial<Record<BackupJobEnvName, pulumi.Input<string>>> & Record<string, pulumi.Input<string>> {
  const env: Partial<Record<BackupJobEnvName, pulumi.Input<string>>> & Record<string, pulumi.Input<string>> = {
    DR_REGION: args.region,
    BACKUP_BUCKET: args.bucketName,
    DB_SECRET_ARN: args.dbSecretArn,
    METRICS_NAMESPACE: BACKUP_METRICS_NAMESPACE,
    ALERTS_TOPIC_ARN: args.alertsTopicArn,
    SNAPSHOT_PREFIX: BACKUP_SNAPSHOT_PREFIX,
    NODE_OPTIONS: '--enable-source-maps',
  };
  if (args.database) {
    env.DB_HOST = args.database.host;
    env.DB_PORT = String(args.database.port);
    env.DB_NAME = args.database.name;
    env.DB_INSTANCE_ID = args.database.instanceId;
  }
  if (args.peer) {
    env.PEER_REGION = args.peer.region;
    env.PEER_KMS_KEY_ARN = args.peer.kmsKeyArn;
  }
  if (args.cache) {
    env.CACHE_HOST = args.cache.host;
    env.CACHE_PORT = String(args.cache.port);
    env.CACHE_TLS = String(args.cache.tls);
  }
  if (args.cacheAuthSecretArn !== undefined) env.CACHE_SECRET_ARN = args.cacheAuthSecretArn;
  if (args.cacheReplicationGroupId !== undefined) {
    env.CACHE_REPLICATION_GROUP_ID = args.cacheReplicationGroupId;
    // Stated, not defaulted: the same value scopes the role's and the bucket policy's export permissions.
    env.CACHE_EXPORT_PREFIX = exportPrefix;
  }
  for (const s of BACKUP_SERVICES) for (const t of BACKUP_TIERS) env[`RETAIN_${s.toUpperCase()}_${t.toUpperCase()}`] = String(counts[s][t]);
  // The runner's limits, recorded in every manifest (`dr status` warns as the jobs near them); the task enforces its deadline.
  const runner = args.runner ?? 'lambda';
  const d = RUNNER_DEFAULTS[runner];
  env.DR_RUNNER = runner;
  env.DR_RUNNER_TIMEOUT_SECONDS = String(args.timeoutSeconds ?? d.timeoutSeconds);
  env.DR_RUNNER_STORAGE_MB = String(runner === 'lambda' ? (args.ephemeralStorageMb ?? d.ephemeralStorageGb * 1024) : (args.ephemeralStorageGb ?? d.ephemeralStorageGb) * 1024);
  env.RESTORE_TEST_JOBS = String(args.restoreTestJobs ?? 1);
  return env;
}

/** The function (in the VPC, one reserved execution) and its async config: one retry, failures to the DLQ. */
function createFunction(
  name: string,
  args: BackupJobsArgs,
  parent: pulumi.Resource,
  { tags, fnName }: JobBase,
  deps: { image: docker.Image; role: aws.iam.Role; dependsOn: pulumi.Resource[]; logGroup: aws.cloudwatch.LogGroup; dlq: aws.sqs.Queue; env: Record<string, pulumi.Input<string>> },
): aws.lambda.Function {
  const child = { parent, provider: args.provider };
  const { image, role, logGroup, dlq, env } = deps;
  const fn = new aws.lambda.Function(
    `${name}-function`,
    {
      name: fnName,
      description: 'bot-platform-dr scheduled backup job (pg_dump / redis RDB → S3)',
      packageType: 'Image',
      imageUri: image.repoDigest,
      imageConfig: { commands: [BACKUP_JOB_HANDLER] },
      architectures: ['x86_64'],
      role: role.arn,
      memorySize: args.memoryMb ?? 2048,
      timeout: args.timeoutSeconds ?? 900,
      ephemeralStorage: { size: args.ephemeralStorageMb ?? 4096 },
      // One dump at a time: two concurrent dumps would double the load on the DB for no gain.
      reservedConcurrentExecutions: 1,
      vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: args.securityGroupIds },
      environment: { variables: env },
      kmsKeyArn: args.kmsKeyArn,
      loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
      tags,
    },
    { ...child, dependsOn: deps.dependsOn },
  );

  new aws.lambda.FunctionEventInvokeConfig(
    `${name}-async`,
    {
      functionName: fn.name,
      // One retry of a failed dump; events may wait up to 6 h (throttled behind the single slot).
      maximumRetryAttempts: 1,
      maximumEventAgeInSeconds: 21600,
      destinationConfig: { onFailure: { destination: dlq.arn } },
    },
    child,
  );
  return fn;
}

/** What the schedules invoke: the target (its ARN, how an event becomes its input, ECS parameters) and the scheduler role's policy. */
interface Scheduling {
  target: { arn: pulumi.Input<string>; input: (event: object) => string; ecsParameters?: aws.types.input.scheduler.ScheduleTargetEcsParameters };
  policy: pulumi.Input<string>;
  description: string;
}

/** runner lambda: the schedules invoke the function with the event as its payload. */
function lambdaScheduling(args: BackupJobsArgs, fn: aws.lambda.Function, dlq: aws.sqs.Queue): Scheduling {
  return {
    target: { arn: fn.arn, input: (event) => JSON.stringify(event) },
    policy: pulumi.all([fn.arn, dlq.arn, args.kmsKeyArn]).apply(([functionArn, dlqArn, kmsKeyArn]) => JSON.stringify(schedulerPolicy({ functionArn, dlqArn, kmsKeyArn, region: args.region }))),
    description: 'EventBridge Scheduler: invoke the backup job',
  };
}

/**
 * The scheduler's role and one EventBridge Scheduler schedule per service and tier, plus the weekly restore test, all
 * in `state`. Returns the schedule names, `<prefix>-<service>-<tier>` and the restore test's.
 */
function createSchedules(
  name: string,
  args: BackupJobsArgs,
  parent: pulumi.Resource,
  { tags, account }: JobBase,
  { dlq, state, target, policy, description }: { dlq: aws.sqs.Queue; state: 'ENABLED' | 'DISABLED' } & Scheduling,
): string[] {
  const child = { parent, provider: args.provider };
  const schedulerRole = new aws.iam.Role(
    `${name}-scheduler-role`,
    { description, assumeRolePolicy: account.apply((a) => JSON.stringify(serviceTrustPolicy('scheduler.amazonaws.com', a))), tags },
    child,
  );
  const schedulerRolePolicy = new aws.iam.RolePolicy(`${name}-scheduler-policy`, { role: schedulerRole.id, policy }, child);

  const names: string[] = [];
  /** One EventBridge Scheduler schedule invoking the job with `input`, in UTC, dead letters to the DLQ. */
  const schedule = (key: string, description: string, expression: string, input: object, maximumRetryAttempts: number) => {
    const scheduleName = `${args.namePrefix}-${key}`;
    names.push(scheduleName);
    new aws.scheduler.Schedule(
      `${name}-${key}`,
      {
        name: scheduleName,
        description,
        scheduleExpression: expression,
        scheduleExpressionTimezone: 'UTC',
        state,
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: target.arn,
          roleArn: schedulerRole.arn,
          input: target.input(input),
          ...(target.ecsParameters ? { ecsParameters: target.ecsParameters } : {}),
          retryPolicy: { maximumRetryAttempts, maximumEventAgeInSeconds: 3600 },
          deadLetterConfig: { arn: dlq.arn },
        },
      },
      { ...child, dependsOn: [schedulerRolePolicy] },
    );
  };
  for (const s of backupSchedules()) {
    schedule(`${s.service}-${s.tier}`, `${s.tier} ${s.service} backup (${s.expression} UTC)`, s.expression, { tier: s.tier, service: s.service }, 3);
  }
  // The weekly restore test (C2's handler, `action: restore-test`): restores the newest PostgreSQL backup into a
  // scratch database dr_restore_test_<stamp> on the same server, compares row counts, marks the manifest
  // VERIFIED or FAILED (+ SNS alert), then drops it. Enabled exactly where the backups are. The job's DB user
  // needs CREATEDB (the RDS master user has it; see docs/infra-notes.md).
  schedule(RESTORE_TEST_SCHEDULE.name, `weekly PostgreSQL restore test (${RESTORE_TEST_SCHEDULE.expression} UTC)`, RESTORE_TEST_SCHEDULE.expression, RESTORE_TEST_SCHEDULE.input, 1);
  return names;
}
