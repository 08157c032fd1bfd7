import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import { BackupJobs, BackupJobsArgs } from '../../components/backup-jobs';
import { BACKUP_TASK_CONTAINER, BACKUP_TASK_ENTRY, BACKUP_TASK_EVENT_VAR, taskFailurePattern } from '../../components/backup-task';
import { parseBackupJobEnv } from '../../lib/backup-job-env';
import { P, runStack } from '../helpers/stacks';
import { ProgramRun, RecordedResource, runProgram, runProgramExpectingError, serializeDeep } from '../helpers/pulumi';

const ACCOUNT = '123456789012';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/k-use1`;
const DB_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:rds!db-acme-AbCdEf`;
const ecrAuth = { 'aws:ecr/getAuthorizationToken:getAuthorizationToken': () => ({ authorizationToken: 'QVdTOnNlY3JldA==', userName: 'AWS', password: 'ecr-password-SECRET', proxyEndpoint: 'https://x', expiresAt: '2030-01-01', id: 'x', region: 'us-east-1' }) };

function build(extra: Partial<BackupJobsArgs> = {}) {
  return () => {
    const provider = new aws.Provider('use1', { region: 'us-east-1' });
    const j = new BackupJobs('acme-jobs', {
      provider,
      region: 'us-east-1',
      role: 'primary',
      namePrefix: 'acme',
      kmsKeyArn: KEY,
      bucketName: 'acme-backups-use1',
      bucketArn: 'arn:aws:s3:::acme-backups-use1',
      subnetIds: ['subnet-a', 'subnet-b'],
      securityGroupIds: ['sg-backup'],
      dbSecretArn: DB_SECRET,
      dbInstanceArn: `arn:aws:rds:us-east-1:${ACCOUNT}:db:acme`,
      cacheReplicationGroupId: 'acme-cache',
      alertsTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:acme-alerts`,
      imageTag: 'test',
      ...extra,
    });
    return { dlqArn: j.dlqArn, repositoryUrl: j.repositoryUrl, clusterArn: j.clusterArn, taskDefinitionArn: j.taskDefinitionArn, taskFailureRuleName: j.taskFailureRuleName };
  };
}
const policy = (r: RecordedResource, key = 'policy') => JSON.parse(r.inputs[key]);
const FARGATE: Partial<BackupJobsArgs> = { runner: 'fargate', cpu: 2048, memoryMb: 8192, ephemeralStorageGb: 120, timeoutSeconds: 43200, restoreTestJobs: 4 };

describe('components/BackupJobs, runner fargate (the same image as an ECS Fargate task)', () => {
  let run: ProgramRun;
  let lambda: ProgramRun;
  before(async () => {
    run = await runProgram(build(FARGATE), { calls: ecrAuth });
    lambda = await runProgram(build(), { calls: ecrAuth });
  });
  const taskDef = () => run.one('aws:ecs/taskDefinition:TaskDefinition');
  const container = () => JSON.parse(taskDef().inputs.containerDefinitions)[0];

  it('declares no function; keeps the image, its repository and the dead-letter queue under the same names', () => {
    assert.deepEqual(run.byType('aws:lambda/function:Function'), []);
    assert.deepEqual(run.byType('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig'), []);
    for (const [type, name] of [['docker:index/image:Image', 'acme-jobs-image'], ['aws:ecr/repository:Repository', 'acme-jobs-repo'], ['aws:sqs/queue:Queue', 'acme-jobs-dlq']] as const) {
      assert.equal(run.one(type).name, name);
      assert.equal(lambda.one(type).name, name);
    }
    assert.deepEqual(run.byType('aws:cloudwatch/logGroup:LogGroup').map((l) => l.inputs.name), ['/ecs/acme-backup-job']);
  });

  it('task definition: FARGATE, awsvpc, x86_64, CPU, memory and ephemeral storage from config, both roles', () => {
    const t = taskDef().inputs;
    assert.equal(t.family, 'acme-backup-job');
    assert.deepEqual(t.requiresCompatibilities, ['FARGATE']);
    assert.equal(t.networkMode, 'awsvpc');
    assert.equal(t.cpu, '2048');
    assert.equal(t.memory, '8192');
    assert.deepEqual(t.ephemeralStorage, { sizeInGib: 120 });
    assert.deepEqual(t.runtimePlatform, { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' });
    assert.equal(t.taskRoleArn, run.one('aws:iam/role:Role', /jobs-task-role$/).state.arn);
    assert.equal(t.executionRoleArn, run.one('aws:iam/role:Role', /jobs-execution-role$/).state.arn);
    assert.equal(run.one('aws:ecs/cluster:Cluster').inputs.name, 'acme-backup-job');
  });

  it('the container runs ecs-task.js from the same image digest with the Lambda’s environment plus the runner’s limits; logs to its group', () => {
    const c = container();
    assert.equal(c.name, BACKUP_TASK_CONTAINER);
    assert.equal(c.image, run.one('docker:index/image:Image').state.repoDigest);
    assert.deepEqual([...c.entryPoint, ...c.command], BACKUP_TASK_ENTRY);
    assert.equal(c.essential, true);
    const env = Object.fromEntries(c.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    const fnEnv = lambda.one('aws:lambda/function:Function').inputs.environment.variables;
    for (const [k, v] of Object.entries(fnEnv)) if (!k.startsWith('DR_RUNNER') && k !== 'RESTORE_TEST_JOBS') assert.equal(env[k], v, k);
    assert.equal(env.DR_RUNNER, 'fargate');
    assert.equal(env.DR_RUNNER_TIMEOUT_SECONDS, '43200');
    assert.equal(env.DR_RUNNER_STORAGE_MB, String(120 * 1024));
    assert.equal(env.RESTORE_TEST_JOBS, '4');
    assert.deepEqual(parseBackupJobEnv(env, 'postgresql').runner, { kind: 'fargate', timeoutSeconds: 43200, storageMb: 122880 });
    assert.deepEqual(c.logConfiguration, { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/acme-backup-job', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'job' } });
    assert.ok(!serializeDeep(taskDef().inputs).includes('ecr-password-SECRET'));
    assert.equal(fnEnv.DR_RUNNER, 'lambda');
    assert.equal(fnEnv.DR_RUNNER_TIMEOUT_SECONDS, '900');
    assert.equal(fnEnv.DR_RUNNER_STORAGE_MB, '4096');
  });

  it('the task role has the function’s data scope minus the Lambda platform’s statements, and only ECS tasks assume it', () => {
    const taskRole = run.one('aws:iam/role:Role', /jobs-task-role$/);
    assert.deepEqual(policy(taskRole, 'assumeRolePolicy').Statement.map((s: any) => s.Principal), [{ Service: 'ecs-tasks.amazonaws.com' }]);
    const task = policy(run.one('aws:iam/rolePolicy:RolePolicy', /jobs-task-role-policy$/)).Statement;
    const fn = policy(lambda.one('aws:iam/rolePolicy:RolePolicy', /jobs-role-policy$/)).Statement;
    const lambdaOnly = ['WriteOwnLogs', 'OnFailureDestination', 'VpcNetworkInterfaces'];
    assert.deepEqual(task.map((s: any) => s.Sid), fn.map((s: any) => s.Sid).filter((sid: string) => !lambdaOnly.includes(sid)));
    for (const s of task) {
      const f = fn.find((x: any) => x.Sid === s.Sid);
      assert.deepEqual([s.Action, s.Resource], [f.Action, f.Resource], s.Sid);
    }
    const key = task.find((s: any) => s.Sid === 'UseRegionKey');
    assert.deepEqual(key.Condition.StringEquals['kms:ViaService'], ['s3', 'sqs', 'secretsmanager', 'sns'].map((x) => `${x}.us-east-1.amazonaws.com`));
  });

  it('the execution role pulls only the job’s repository and writes only the task’s log group', () => {
    const exec = policy(run.one('aws:iam/rolePolicy:RolePolicy', /jobs-execution-role-policy$/)).Statement;
    assert.deepEqual(exec.map((s: any) => [s.Action, s.Resource]), [
      ['ecr:GetAuthorizationToken', '*'],
      [['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], run.one('aws:ecr/repository:Repository').state.arn],
      [['logs:CreateLogStream', 'logs:PutLogEvents'], `${run.one('aws:cloudwatch/logGroup:LogGroup').state.arn}:*`],
    ]);
  });

  it('the same schedules (names, expressions, events, retries, DLQ) start one task by ECS RunTask in the private subnets with the backup SG', () => {
    const fargate = run.byType('aws:scheduler/schedule:Schedule');
    const fn = lambda.byType('aws:scheduler/schedule:Schedule');
    assert.deepEqual(fargate.map((s) => [s.name, s.inputs.name, s.inputs.scheduleExpression, s.inputs.state]), fn.map((s) => [s.name, s.inputs.name, s.inputs.scheduleExpression, s.inputs.state]));
    const cluster = run.one('aws:ecs/cluster:Cluster').state.arn;
    for (const [i, s] of fargate.entries()) {
      const t = s.inputs.target;
      assert.equal(t.arn, cluster);
      assert.deepEqual(t.ecsParameters, {
        taskDefinitionArn: taskDef().state.arn,
        launchType: 'FARGATE',
        platformVersion: 'LATEST',
        taskCount: 1,
        networkConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-backup'], assignPublicIp: false },
        enableEcsManagedTags: true,
        propagateTags: 'TASK_DEFINITION',
      });
      const overrides = JSON.parse(t.input).containerOverrides;
      assert.deepEqual(overrides.map((o: any) => [o.name, o.environment.map((e: any) => e.name)]), [[BACKUP_TASK_CONTAINER, [BACKUP_TASK_EVENT_VAR]]]);
      assert.deepEqual(JSON.parse(overrides[0].environment[0].value), JSON.parse(fn[i].inputs.target.input), `${s.inputs.name}: the Lambda's event`);
      assert.deepEqual([t.retryPolicy, t.deadLetterConfig], [fn[i].inputs.target.retryPolicy, { arn: run.one('aws:sqs/queue:Queue').state.arn }]);
    }
  });

  it('the scheduler may run this task family on this cluster and pass exactly its two roles — nothing else', () => {
    const st = policy(run.one('aws:iam/rolePolicy:RolePolicy', /jobs-scheduler-policy$/)).Statement;
    const family = taskDef().state.arn.replace(/:\d+$/, '');
    assert.deepEqual(st.map((s: any) => s.Sid), ['RunBackupTask', 'PassTaskRoles', 'TagStartedTask', 'DeadLetter', 'DeadLetterEncryption']);
    assert.deepEqual(st[0].Resource, [family, `${family}:*`]);
    assert.deepEqual(st[0].Condition, { ArnEquals: { 'ecs:cluster': run.one('aws:ecs/cluster:Cluster').state.arn } });
    assert.deepEqual(st[1].Resource, [run.one('aws:iam/role:Role', /jobs-task-role$/).state.arn, run.one('aws:iam/role:Role', /jobs-execution-role$/).state.arn]);
    assert.deepEqual(st[1].Condition, { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    assert.ok(!JSON.stringify(st).includes('lambda:'), 'no Lambda permission left');
  });

  it('a task that stops with a failure reaches the DLQ through an EventBridge rule the queue admits', () => {
    const rule = run.one('aws:cloudwatch/eventRule:EventRule');
    assert.equal(rule.inputs.name, 'acme-backup-job-task-failed');
    assert.deepEqual(JSON.parse(rule.inputs.eventPattern), taskFailurePattern(run.one('aws:ecs/cluster:Cluster').state.arn));
    const target = run.one('aws:cloudwatch/eventTarget:EventTarget');
    assert.deepEqual([target.inputs.rule, target.inputs.arn], [rule.state.name, run.one('aws:sqs/queue:Queue').state.arn]);
    const qp = policy(run.one('aws:sqs/queuePolicy:QueuePolicy')).Statement;
    assert.deepEqual(qp.map((s: any) => [s.Principal, s.Action, s.Condition]), [[{ Service: 'events.amazonaws.com' }, 'sqs:SendMessage', { ArnEquals: { 'aws:SourceArn': rule.state.arn } }]]);
    const p = taskFailurePattern('arn:c') as any;
    assert.deepEqual(p.detail.$or, [{ containers: { exitCode: [{ 'anything-but': 0 }] } }, { stopCode: ['TaskFailedToStart'] }]);
  });

  for (const [what, args, re] of [
    ['a CPU Fargate does not offer', { runner: 'fargate', cpu: 3000 }, /backupJob\.cpu: must be one of 256, 512/],
    ['memory outside the CPU’s sizes', { runner: 'fargate', cpu: 1024, memoryMb: 1024 }, /backupJob\.memoryMb: 1024 MiB is not a Fargate size for 1024 CPU units \(2048–8192 in steps of 1024\)/],
    ['ephemeral storage above 200 GiB', { runner: 'fargate', ephemeralStorageGb: 300 }, /backupJob\.ephemeralStorageGb: must be a whole number from 21 to 200/],
    ['a deadline above a day', { runner: 'fargate', timeoutSeconds: 90000 }, /backupJob\.timeoutSeconds: must be a whole number from 60 to 86400/],
    ['the Lambda’s /tmp setting on fargate', { runner: 'fargate', ephemeralStorageMb: 4096 }, /backupJob\.ephemeralStorageMb: applies only to runner lambda/],
    ['Fargate settings on lambda', { cpu: 1024 }, /backupJob\.cpu, backupJob\.ephemeralStorageGb: apply only to runner fargate/],
    ['an unknown runner', { runner: 'batch' as 'fargate' }, /backupJob\.runner: must be lambda or fargate/],
    ['17 restore-test jobs', { restoreTestJobs: 17 }, /backupJob\.restoreTestJobs: must be a whole number from 1 to 16/],
  ] as const) {
    it(`refuses ${what} before declaring anything`, async () => {
      const { error, resources } = await runProgramExpectingError(build(args as Partial<BackupJobsArgs>), { calls: ecrAuth });
      assert.match(error.message, re);
      assert.equal(resources.filter((r) => r.custom && !r.type.startsWith('pulumi:providers')).length, 0);
    });
  }
});

describe('backup.runner in the composed stack', () => {
  const backup = (extra: Record<string, unknown>) => ({ [`${P}:backup`]: { postgresql: { daily: 7, weekly: 28, monthly: 365 }, redis: { daily: 7, weekly: 28, monthly: 365 }, configDays: 90, replicateToPeer: true, ...extra } });

  it('lambda (default): the function’s memory and timeout come from backup.memoryMb / backup.timeoutSeconds', async () => {
    const r = await runStack('primary', backup({ memoryMb: 6144, timeoutSeconds: 600, ephemeralStorageGb: 8 }));
    const fn = r.one('aws:lambda/function:Function', /backup-jobs-function$/).inputs;
    assert.deepEqual([fn.memorySize, fn.timeout, fn.ephemeralStorage], [6144, 600, { size: 8192 }]);
    assert.equal(fn.environment.variables.DR_RUNNER_TIMEOUT_SECONDS, '600');
    assert.deepEqual(r.byType('aws:ecs/taskDefinition:TaskDefinition'), []);
  });

  it('fargate: the task instead of the function, the same alarms on the engine’s metrics, a task-failed alarm instead of Lambda errors', async () => {
    const r = await runStack('primary', backup({ runner: 'fargate', cpu: 4096, memoryMb: 16384, ephemeralStorageGb: 200, expectedDatabaseGb: 150, timeoutSeconds: 43200 }));
    assert.deepEqual(r.byType('aws:lambda/function:Function').filter((f) => /backup-jobs/.test(f.name)), []);
    const t = r.one('aws:ecs/taskDefinition:TaskDefinition').inputs;
    assert.deepEqual([t.cpu, t.memory, t.ephemeralStorage], ['4096', '16384', { sizeInGib: 200 }]);
    // The Lambda's network: the same private subnets and the backup security group the DB and cache admit.
    const vpc = (await runStack('primary')).one('aws:lambda/function:Function', /backup-jobs-function$/).inputs.vpcConfig;
    assert.match(vpc.securityGroupIds[0], /backup/);
    for (const s of r.byType('aws:scheduler/schedule:Schedule')) {
      const n = s.inputs.target.ecsParameters.networkConfiguration;
      assert.deepEqual([n.subnets, n.securityGroups, n.assignPublicIp], [vpc.subnetIds, vpc.securityGroupIds, false]);
    }
    const alarms = r.byType('aws:cloudwatch/metricAlarm:MetricAlarm');
    const ids = alarms.map((a) => a.inputs.name.replace(/^botdr-us-east-1-/, ''));
    for (const id of ['backup-task-failed', 'backup-job-dead-letters', 'backup-age-postgresql-daily', 'restore-test-age-postgresql', 'restore-test-failed-postgresql']) assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
    assert.ok(!ids.includes('backup-job-errors'), 'no Lambda errors alarm without a function');
    const failed = alarms.find((a) => a.inputs.name.endsWith('backup-task-failed'))!;
    assert.deepEqual([failed.inputs.namespace, failed.inputs.metricName, failed.inputs.dimensions], ['AWS/Events', 'TriggeredRules', { RuleName: r.one('aws:cloudwatch/eventRule:EventRule', /backup-jobs-task-failed$/).state.name }]);
  });

  it('a database too big for the Lambda is refused before anything is declared, naming the key and fargate', async () => {
    await assert.rejects(() => runStack('primary', backup({ expectedDatabaseGb: 500 })), /bot-platform-dr:backup\.expectedDatabaseGb: 500 GB needs about \d+ min .* use backup.runner fargate/);
  });
});
