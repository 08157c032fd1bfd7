import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { S3Store } from '../../automation/adapters/aws/s3-store';
import { readManifest } from '../../automation/backup/catalog';
import { TASK_EXIT, runTask, taskDeadlineMs, taskEvent } from '../../automation/lambda/ecs-task';
import { lambdaClients } from '../helpers/lambda-clients';
import { usePostgres, useS3 } from '../helpers/services';

const ROOT = path.resolve(__dirname, '..', '..');

describe('ECS task entry (automation/lambda/ecs-task.ts): event and deadline', () => {
  it('reads the event from the first argument, else DR_JOB_EVENT; names what is missing or not JSON', () => {
    assert.deepEqual(taskEvent(['{"service":"redis"}'], { DR_JOB_EVENT: '{"service":"postgresql"}' }), { service: 'redis' });
    assert.deepEqual(taskEvent([], { DR_JOB_EVENT: '{"service":"postgresql","tier":"weekly"}' }), { service: 'postgresql', tier: 'weekly' });
    assert.throws(() => taskEvent([], {}), /no job event: pass it as the first argument or in DR_JOB_EVENT/);
    assert.throws(() => taskEvent(['{service: postgresql'], {}), /the job event is not JSON: "\{service: postgresql"/);
  });

  it('the deadline is DR_RUNNER_TIMEOUT_SECONDS when it is a whole number of seconds', () => {
    assert.equal(taskDeadlineMs({ DR_RUNNER_TIMEOUT_SECONDS: '21600' }), 21_600_000);
    assert.equal(taskDeadlineMs({}), undefined);
    assert.equal(taskDeadlineMs({ DR_RUNNER_TIMEOUT_SECONDS: 'soon' }), undefined);
  });

  it('as a process: no event exits 2 with the reason (what ECS shows as the stopped container’s exit code)', () => {
    const r = spawnSync(process.execPath, ['-r', 'ts-node/register', path.join(ROOT, 'automation/lambda/ecs-task.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, TS_NODE_TRANSPILE_ONLY: 'true', DR_REGION: 'eu-west-1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, TASK_EXIT.badEvent, r.stdout + r.stderr);
    assert.match(r.stdout, /backup task could not start: no job event/);
  });
});

describe('ECS task entry: the same engine as the Lambda (real PostgreSQL + s3rver, mocked AWS control plane) @integration', function () {
  this.timeout(180_000);
  const pg = usePostgres();
  const s3 = useS3(['task-bucket']);
  const install = () => ({ secrets: mockClient(SecretsManagerClient), rds: mockClient(RDSClient), cw: mockClient(CloudWatchClient), sns: mockClient(SNSClient) });
  let m: ReturnType<typeof install>;
  before(async () => {
    m = install();
    await pg.cluster.createDatabase('bot');
    await pg.cluster.query('CREATE TABLE chats(id int PRIMARY KEY, title text); INSERT INTO chats SELECT g, md5(g::text) FROM generate_series(1, 500) g', 'bot');
  });
  beforeEach(() => {
    for (const x of Object.values(m)) x.reset();
    m.cw.on(PutMetricDataCommand).resolves({});
    m.sns.on(PublishCommand).resolves({});
    m.secrets.on(GetSecretValueCommand, { SecretId: 'arn:db-secret' }).resolves({ SecretString: JSON.stringify({ username: 'postgres', password: pg.cluster.secret }) });
  });
  after(() => {
    for (const x of Object.values(m)) x.restore();
  });

  /** The task definition's environment (components/backup-task.ts), pointed at the local servers. */
  const env = () => ({
    ...s3.server.env,
    DR_REGION: 'eu-west-1',
    BACKUP_BUCKET: 'task-bucket',
    DB_SECRET_ARN: 'arn:db-secret',
    DB_HOST: '127.0.0.1',
    DB_PORT: String(pg.cluster.port),
    DB_NAME: 'bot',
    DB_SSLMODE: 'disable',
    ALERTS_TOPIC_ARN: 'arn:topic',
    DR_RUNNER: 'fargate',
    DR_RUNNER_TIMEOUT_SECONDS: '21600',
    DR_RUNNER_STORAGE_MB: '21504',
  });
  const metric = (name: string) =>
    m.cw
      .commandCalls(PutMetricDataCommand)
      .flatMap((c) => c.args[0].input.MetricData ?? [])
      .filter((d) => d.MetricName === name)
      .map((d) => d.Value);

  it('a scheduled backup (event in DR_JOB_EVENT): exit 0, the manifest records the fargate runner, BackupSuccess 1, no secret logged', async () => {
    const logs: string[] = [];
    const code = await runTask([], { ...env(), DR_JOB_EVENT: JSON.stringify({ service: 'postgresql', tier: 'daily' }) }, lambdaClients(), { log: (l) => logs.push(l) });
    assert.equal(code, TASK_EXIT.ok, logs.join('\n'));
    const summary = JSON.parse(logs.at(-1) ?? '{}');
    assert.equal(summary.msg, 'backup job done');
    assert.match(summary.key, /^postgresql\/daily\/backup_\d{8}_\d{6}\.dump$/);
    const manifest = await readManifest(new S3Store({ bucket: 'task-bucket', env: s3.server.env }), summary.key);
    assert.deepEqual(manifest.runner, { kind: 'fargate', timeout_seconds: 21600, storage_mb: 21504 });
    assert.deepEqual(manifest.tables, { 'public.chats': 500 });
    assert.deepEqual(metric('BackupSuccess'), [1]);
    assert.ok(logs.every((l) => !l.includes(pg.cluster.secret)));
  });

  it('the weekly restore test (event as argument): exit 0, streamed into a scratch database, VERIFIED, RestoreTestSuccess 1', async () => {
    const logs: string[] = [];
    const code = await runTask([JSON.stringify({ service: 'postgresql', action: 'restore-test' })], env(), lambdaClients(), { log: (l) => logs.push(l) });
    assert.equal(code, TASK_EXIT.ok, logs.join('\n'));
    const summary = JSON.parse(logs.at(-1) ?? '{}');
    assert.deepEqual([summary.msg, summary.restorability, summary.tables], ['restore test done', 'VERIFIED', 1]);
    const manifest = await readManifest(new S3Store({ bucket: 'task-bucket', env: s3.server.env }), summary.backup);
    assert.equal(manifest.restore_test?.mode, 'streamed');
    assert.deepEqual(manifest.restore_test?.runner, { kind: 'fargate', timeout_seconds: 21600, storage_mb: 21504 });
    assert.deepEqual(metric('RestoreTestSuccess'), [1]);
  });

  it('a failing job exits 1 after the same alert and BackupSuccess 0 as the Lambda', async () => {
    m.secrets.on(GetSecretValueCommand, { SecretId: 'arn:db-secret' }).resolves({ SecretString: JSON.stringify({ username: 'postgres', password: 'wrong-password-123' }) });
    const logs: string[] = [];
    const code = await runTask(['{"service":"postgresql","tier":"weekly"}'], env(), lambdaClients(), { log: (l) => logs.push(l) });
    assert.equal(code, TASK_EXIT.failed);
    assert.match(logs.at(-1) ?? '', /^backup task failed: .*(refused the login|password authentication failed)/);
    assert.deepEqual(metric('BackupSuccess'), [0]);
    const alerts = m.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    assert.equal(alerts.length, 1);
    assert.match(alerts[0].Subject ?? '', /postgresql weekly backup FAILED \(eu-west-1\)/);
    assert.ok(logs.every((l) => !l.includes('wrong-password-123')) && !(alerts[0].Message ?? '').includes('wrong-password-123'));
  });

  it('an event naming no job exits 2; the task’s deadline exits 124 (ECS never stops a task itself)', async () => {
    const logs: string[] = [];
    assert.equal(await runTask(['{"service":"mysql"}'], env(), lambdaClients(), { log: (l) => logs.push(l) }), TASK_EXIT.badEvent);
    assert.match(logs.at(-1) ?? '', /event.service must be postgresql\|redis/);
    m.secrets.on(GetSecretValueCommand, { SecretId: 'arn:db-secret' }).callsFake(() => new Promise((_, reject) => setTimeout(() => reject(new Error('too late')), 300)));
    const code = await runTask(['{"service":"postgresql","tier":"daily"}'], env(), lambdaClients(), { log: (l) => logs.push(l), deadlineMs: 50 });
    assert.equal(code, TASK_EXIT.deadline);
    assert.match(logs.at(-1) ?? '', /backup task stopped at its deadline \(0 s, DR_RUNNER_TIMEOUT_SECONDS\)/);
    await new Promise((r) => setTimeout(r, 500)); // the abandoned run fails on its own, unobserved
  });
});
