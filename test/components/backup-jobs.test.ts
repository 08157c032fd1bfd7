import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as aws from '@pulumi/aws';
import { BACKUP_JOB_HANDLER, BackupJobs, BackupJobsArgs, buildContextHash } from '../../components/backup-jobs';
import { BACKUP_METRICS_NAMESPACE } from '../../lib/backup-metrics';
import { BACKUP_JOB_ENV, parseBackupJobEnv, retainVar } from '../../lib/backup-job-env';
import { BACKUP_SERVICES, BACKUP_TIERS, RESTORE_TEST_SCHEDULE } from '../../lib/lifecycle';
import { P, runStack } from '../helpers/stacks';
import { ProgramRun, RecordedResource, runProgram, runProgramExpectingError, serializeDeep } from '../helpers/pulumi';
import { Registration, captureRegistrations, dependsOn, unwrapSecret } from '../helpers/registrations';

const ACCOUNT = '123456789012';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/k-use1`;
const BUCKET_ARN = 'arn:aws:s3:::acme-backups-use1';
const DB_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:rds!db-acme-AbCdEf`;
const CACHE_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:acme-cache-auth-AbCdEf`;
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:acme-alerts`;
const DB_ARN = `arn:aws:rds:us-east-1:${ACCOUNT}:db:acme`;
const REPO_ROOT = path.resolve(__dirname, '..', '..');

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
      bucketArn: BUCKET_ARN,
      subnetIds: ['subnet-a', 'subnet-b'],
      securityGroupIds: ['sg-backup'],
      dbSecretArn: DB_SECRET,
      dbInstanceArn: DB_ARN,
      cacheAuthSecretArn: CACHE_SECRET,
      cacheReplicationGroupId: 'acme-cache',
      alertsTopicArn: TOPIC,
      imageTag: 'test',
      ...extra,
    });
    return { functionName: j.functionName, functionArn: j.functionArn, dlqArn: j.dlqArn, repositoryUrl: j.repositoryUrl };
  };
}
const policy = (r: RecordedResource, key = 'policy') => JSON.parse(r.inputs[key]);
const stmt = (doc: any, sid: string) => {
  const s = doc.Statement.find((x: any) => x.Sid === sid);
  assert.ok(s, `${sid} missing`);
  return s;
};

describe('components/BackupJobs', () => {
  let run: ProgramRun;
  let regs: Registration[] = [];
  before(async () => {
    run = await runProgram(() => {
      regs = captureRegistrations();
      return build()();
    }, { calls: ecrAuth });
  });

  describe('image', () => {
    it('pushes to a scanned, KMS-encrypted, immutable ECR repository that keeps the last N images', () => {
      const repo = run.one('aws:ecr/repository:Repository');
      assert.equal(repo.region, 'us-east-1');
      assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
      assert.deepEqual(repo.inputs.encryptionConfigurations, [{ encryptionType: 'KMS', kmsKey: KEY }]);
      assert.equal(repo.inputs.imageTagMutability, 'IMMUTABLE');
      const lc = JSON.parse(run.one('aws:ecr/lifecyclePolicy:LifecyclePolicy').inputs.policy);
      assert.deepEqual(lc.rules[0].selection, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 });
      const rp = policy(run.one('aws:ecr/repositoryPolicy:RepositoryPolicy'));
      assert.deepEqual(rp.Statement[0].Principal, { Service: 'lambda.amazonaws.com' });
    });

    it('builds docker/backup-job/Dockerfile from the repo root for linux/amd64 with ECR credentials', () => {
      const img = run.one('docker:index/image:Image');
      assert.equal(img.inputs.build.context, REPO_ROOT);
      assert.equal(img.inputs.build.dockerfile, path.join(REPO_ROOT, 'docker/backup-job/Dockerfile'));
      assert.equal(img.inputs.build.platform, 'linux/amd64');
      assert.equal(img.inputs.build.args.PG_MAJOR, '16');
      const repoUrl = run.one('aws:ecr/repository:Repository').state.repositoryUrl;
      assert.equal(img.inputs.imageName, `${repoUrl}:test`);
      // The registry block carries the ECR password, so it is sent as a secret as a whole.
      const registry = unwrapSecret(img.inputs.registry) as Record<string, string>;
      assert.notEqual(registry, img.inputs.registry, 'registry (with the ECR password) must be sent as a secret');
      assert.equal(registry.server, repoUrl);
      assert.equal(registry.username, 'AWS');
      const tokenCall = run.calls.find((c) => c.token === 'aws:ecr/getAuthorizationToken:getAuthorizationToken');
      assert.ok(tokenCall);
      assert.equal(tokenCall.region, 'us-east-1');
    });

    it('the Dockerfile carries pg_dump/pg_restore and redis-cli on the Lambda Node 22 base and runs the handler', () => {
      const df = fs.readFileSync(path.join(REPO_ROOT, 'docker/backup-job/Dockerfile'), 'utf8');
      assert.match(df, /public\.ecr\.aws\/lambda\/nodejs:22/);
      assert.match(df, /postgresql\$\{PG_MAJOR\}/);
      assert.match(df, /pg_dump --version && pg_restore --version && redis-cli --version/);
      assert.match(df, /npm ci --omit=dev/);
      assert.ok(df.includes(`CMD [ "${BACKUP_JOB_HANDLER}" ]`));
      const ignore = fs.readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8');
      assert.match(ignore, /^\*\*$/m, '.dockerignore should start from excluding everything');
    });

    it('tags images by a hash of the build inputs', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctx-'));
      try {
        fs.mkdirSync(path.join(dir, 'lib'));
        fs.writeFileSync(path.join(dir, 'lib', 'a.ts'), 'one');
        const h1 = buildContextHash(dir);
        assert.equal(buildContextHash(dir), h1);
        fs.writeFileSync(path.join(dir, 'lib', 'a.ts'), 'two');
        assert.notEqual(buildContextHash(dir), h1);
        assert.match(h1, /^[0-9a-f]{16}$/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('function', () => {
    it('runs the image handler in the VPC with one reserved execution and dump-sized limits', () => {
      const fn = run.one('aws:lambda/function:Function').inputs;
      assert.equal(fn.packageType, 'Image');
      assert.equal(fn.imageUri, run.one('docker:index/image:Image').state.repoDigest);
      assert.deepEqual(fn.imageConfig, { commands: [BACKUP_JOB_HANDLER] });
      assert.deepEqual(fn.vpcConfig, { subnetIds: ['subnet-a', 'subnet-b'], securityGroupIds: ['sg-backup'] });
      assert.equal(fn.reservedConcurrentExecutions, 1);
      assert.equal(fn.timeout, 900);
      assert.ok(fn.memorySize >= 1024);
      assert.equal(fn.role, run.one('aws:iam/role:Role', /jobs-role$/).state.arn);
      assert.equal(fn.kmsKeyArn, KEY);
    });

    it('gets bucket, secret ARNs, namespace, topic and retention counts — never a secret value', () => {
      const vars = run.one('aws:lambda/function:Function').inputs.environment.variables;
      assert.equal(vars.BACKUP_BUCKET, 'acme-backups-use1');
      assert.equal(vars.DB_SECRET_ARN, DB_SECRET);
      assert.equal(vars.CACHE_SECRET_ARN, CACHE_SECRET);
      assert.equal(vars.METRICS_NAMESPACE, BACKUP_METRICS_NAMESPACE);
      assert.equal(vars.ALERTS_TOPIC_ARN, TOPIC);
      assert.equal(vars.RETAIN_POSTGRESQL_DAILY, '7');
      assert.equal(vars.RETAIN_REDIS_WEEKLY, '4');
      assert.equal(vars.RETAIN_POSTGRESQL_MONTHLY, '12');
      assert.ok(!serializeDeep(vars).includes('ecr-password-SECRET'));
      for (const k of Object.keys(vars)) assert.doesNotMatch(k, /PASSWORD|TOKEN$/);
    });

    it('logs to its own KMS-encrypted log group with retention', () => {
      const lg = run.one('aws:cloudwatch/logGroup:LogGroup').inputs;
      assert.equal(lg.name, '/aws/lambda/acme-backup-job');
      assert.equal(lg.retentionInDays, 30);
      assert.equal(lg.kmsKeyId, KEY);
      assert.deepEqual(run.one('aws:lambda/function:Function').inputs.loggingConfig, { logFormat: 'JSON', logGroup: '/aws/lambda/acme-backup-job' });
    });

    it('sends failed async invocations to a KMS-encrypted SQS dead-letter queue', () => {
      const q = run.one('aws:sqs/queue:Queue');
      assert.equal(q.inputs.kmsMasterKeyId, KEY);
      const cfg = run.one('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig').inputs;
      assert.equal(cfg.destinationConfig.onFailure.destination, q.state.arn);
      assert.equal(cfg.functionName, 'acme-backup-job');
    });

    it('waits for its role policy and log group', () => {
      assert.ok(dependsOn(regs, 'acme-jobs-function', 'acme-jobs-role-policy'));
      assert.ok(dependsOn(regs, 'acme-jobs-function', 'acme-jobs-logs'));
    });
  });

  describe('role (least privilege)', () => {
    const doc = () => policy(run.one('aws:iam/rolePolicy:RolePolicy', /-role-policy$/));
    it('is assumable by Lambda only', () => {
      const trust = policy(run.one('aws:iam/role:Role', /jobs-role$/), 'assumeRolePolicy');
      assert.deepEqual(trust.Statement[0].Principal, { Service: 'lambda.amazonaws.com' });
      assert.equal(trust.Statement[0].Condition.StringEquals['aws:SourceAccount'], ACCOUNT);
    });
    it('touches only postgresql/* and redis/* in the bucket', () => {
      assert.deepEqual(stmt(doc(), 'BackupObjects').Resource, [`${BUCKET_ARN}/postgresql/*`, `${BUCKET_ARN}/redis/*`]);
      assert.ok(stmt(doc(), 'ListBackupPrefixes').Condition.StringLike['s3:prefix'].includes('redis/*'));
    });
    it('uses the key, reads only the DB and cache secrets, publishes metrics only in the namespace', () => {
      assert.equal(stmt(doc(), 'UseRegionKey').Resource, KEY);
      assert.deepEqual(stmt(doc(), 'ReadDatabaseSecrets').Resource, [DB_SECRET, CACHE_SECRET]);
      assert.deepEqual(stmt(doc(), 'PublishBackupMetrics').Condition, { StringEquals: { 'cloudwatch:namespace': BACKUP_METRICS_NAMESPACE } });
    });
    it('publishes to the topic, writes its log group, dead-letters to its queue, snapshots its DB/cache', () => {
      assert.equal(stmt(doc(), 'NotifyAlerts').Resource, TOPIC);
      assert.equal(stmt(doc(), 'WriteOwnLogs').Resource, `${run.one('aws:cloudwatch/logGroup:LogGroup').state.arn}:*`);
      assert.equal(stmt(doc(), 'OnFailureDestination').Resource, run.one('aws:sqs/queue:Queue').state.arn);
      assert.ok(stmt(doc(), 'RdsSnapshotCreate').Resource.includes(DB_ARN));
      assert.ok(stmt(doc(), 'CacheSnapshots').Resource.some((r: string) => r.endsWith(':replicationgroup:acme-cache')));
      assert.ok(stmt(doc(), 'VpcNetworkInterfaces'));
    });
    it('reads only the DB secret when the cache has no auth secret', async () => {
      const r = await runProgram(build({ cacheAuthSecretArn: undefined, cacheReplicationGroupId: undefined }), { calls: ecrAuth });
      const d = policy(r.one('aws:iam/rolePolicy:RolePolicy', /-role-policy$/));
      assert.deepEqual(stmt(d, 'ReadDatabaseSecrets').Resource, [DB_SECRET]);
      assert.equal(r.one('aws:lambda/function:Function').inputs.environment.variables.CACHE_SECRET_ARN, undefined);
    });
  });

  describe('schedules', () => {
    it('has daily, weekly and monthly UTC schedules per service carrying {tier, service}, plus the weekly restore test', () => {
      const s = run.byType('aws:scheduler/schedule:Schedule');
      assert.equal(s.length, 7);
      const payloads = s.map((x) => JSON.parse(x.inputs.target.input));
      assert.deepEqual(
        payloads.filter((p) => p.action !== undefined),
        [{ service: 'postgresql', action: 'restore-test' }],
      );
      const restore = s.find((x) => JSON.parse(x.inputs.target.input).action === 'restore-test')!;
      assert.equal(restore.inputs.name, 'acme-postgresql-restore-test');
      assert.equal(restore.inputs.scheduleExpression, RESTORE_TEST_SCHEDULE.expression);
      assert.match(restore.inputs.scheduleExpression, /SUN/, 'weekly');
      for (const service of ['postgresql', 'redis']) {
        for (const tier of ['daily', 'weekly', 'monthly']) assert.ok(payloads.some((p) => p.service === service && p.tier === tier), `${service}/${tier}`);
      }
      for (const x of s) {
        assert.equal(x.inputs.scheduleExpressionTimezone, 'UTC');
        assert.match(x.inputs.scheduleExpression, /^cron\(/);
        assert.equal(x.inputs.target.arn, run.one('aws:lambda/function:Function').state.arn);
        assert.equal(x.inputs.target.deadLetterConfig.arn, run.one('aws:sqs/queue:Queue').state.arn);
      }
    });
    it('are ENABLED on the primary', () => {
      for (const x of run.byType('aws:scheduler/schedule:Schedule')) assert.equal(x.inputs.state, 'ENABLED');
    });
    it('exist but are DISABLED on the secondary (promotion flips them)', async () => {
      const r = await runProgram(build({ role: 'secondary' }), { calls: ecrAuth });
      const s = r.byType('aws:scheduler/schedule:Schedule');
      assert.equal(s.length, 7, 'the restore test too');
      for (const x of s) assert.equal(x.inputs.state, 'DISABLED');
    });
    it('invoke through a scheduler role limited to this function and the DLQ', () => {
      const d = policy(run.one('aws:iam/rolePolicy:RolePolicy', /scheduler-policy$/));
      const fnArn = run.one('aws:lambda/function:Function').state.arn;
      assert.deepEqual(stmt(d, 'InvokeBackupJob').Resource, [fnArn, `${fnArn}:*`]);
      const trust = policy(run.one('aws:iam/role:Role', /scheduler-role$/), 'assumeRolePolicy');
      assert.deepEqual(trust.Statement[0].Principal, { Service: 'scheduler.amazonaws.com' });
    });
  });

  describe('validation', () => {
    for (const [what, extra, re] of [
      ['a timeout above Lambda’s 900 s', { timeoutSeconds: 1200 }, /backupJob\.timeoutSeconds/],
      ['a log retention CloudWatch does not accept', { logRetentionDays: 10 }, /backupJob\.logRetentionDays/],
      ['a PostgreSQL client older than 15', { postgresMajorVersion: 14 }, /backupJob\.postgresMajorVersion/],
      ['an upper-case name prefix', { namePrefix: 'ACME' }, /namePrefix/],
    ] as const) {
      it(`refuses ${what} before declaring anything`, async () => {
        const { error, resources } = await runProgramExpectingError(build(extra as any), { calls: ecrAuth });
        assert.match(error.message, re);
        assert.equal(resources.filter((r) => r.custom && !r.type.startsWith('pulumi:providers')).length, 0);
      });
    }
  });
});

describe('backup job environment contract (lib/backup-job-env.ts) — the composed stack', () => {
  const envOf = (r: ProgramRun): Record<string, string> => r.one('aws:lambda/function:Function', /backup-jobs-function$/).plainInputs.environment.variables;
  /** Derived from the handler's contract, not listed by hand: a new required variable fails this test. */
  const REQUIRED = Object.entries(BACKUP_JOB_ENV)
    .filter(([, spec]) => spec.required !== 'optional')
    .map(([name]) => name);
  /** Optional variables the stack knows and must therefore set (the handler loses a feature without them). */
  const KNOWN_OPTIONAL = ['METRICS_NAMESPACE', 'ALERTS_TOPIC_ARN', 'SNAPSHOT_PREFIX', 'DB_PORT', 'DB_NAME', 'DB_INSTANCE_ID', 'PEER_REGION', 'PEER_KMS_KEY_ARN', 'CACHE_PORT', 'CACHE_TLS', 'CACHE_SECRET_ARN', 'CACHE_REPLICATION_GROUP_ID', 'DR_RUNNER', 'DR_RUNNER_TIMEOUT_SECONDS', 'DR_RUNNER_STORAGE_MB', 'RESTORE_TEST_JOBS'];
  const RETAIN = BACKUP_SERVICES.flatMap((s) => BACKUP_TIERS.map((t) => retainVar(s, t)));

  it('the required set is derived from the contract and covers always/postgresql/redis', () => {
    for (const must of ['DR_REGION', 'BACKUP_BUCKET', 'DB_SECRET_ARN', 'CACHE_HOST']) assert.ok(REQUIRED.includes(must), must);
    for (const n of KNOWN_OPTIONAL) assert.ok(n in BACKUP_JOB_ENV, `${n} is not in the contract any more`);
  });

  for (const stack of ['primary', 'secondary'] as const) {
    it(`${stack}: sets every required variable and every optional one the stack knows; sets no unknown name`, async () => {
      const r = await runStack(stack);
      const env = envOf(r);
      for (const n of [...REQUIRED, ...KNOWN_OPTIONAL, ...RETAIN]) assert.ok(typeof env[n] === 'string' && env[n] !== '', `${stack}: ${n} is not set`);
      for (const n of Object.keys(env)) assert.ok(n in BACKUP_JOB_ENV || RETAIN.includes(n) || n === 'NODE_OPTIONS', `${stack}: ${n} is not in the handler's contract`);
      // The handler's own parser accepts it for both services (no problem reported).
      for (const svc of BACKUP_SERVICES) parseBackupJobEnv(env, svc);
      const db = r.one('aws:rds/instance:Instance');
      assert.equal(env.DB_HOST, db.state.address, "its own region's DB, not the secret's host");
      assert.equal(env.DB_INSTANCE_ID, db.state.identifier);
      assert.equal(env.DB_PORT, '5432');
      assert.equal(env.DB_NAME, 'bot');
      const rg = r.one('aws:elasticache/replicationGroup:ReplicationGroup');
      assert.equal(env.CACHE_HOST, rg.state.primaryEndpointAddress);
      assert.equal(env.CACHE_TLS, 'true');
      assert.equal(env.CACHE_PORT, '6379');
      assert.equal(env.CACHE_REPLICATION_GROUP_ID, rg.state.id);
      const region = stack === 'primary' ? 'us-east-1' : 'us-west-2';
      const peer = stack === 'primary' ? 'us-west-2' : 'us-east-1';
      assert.equal(env.DR_REGION, region);
      assert.equal(env.PEER_REGION, peer);
      const peerKey = r.byType('aws:kms/key:Key').find((k) => k.region === peer)!;
      assert.equal(env.PEER_KMS_KEY_ARN, peerKey.state.arn);
      const pol = JSON.parse(r.one('aws:iam/rolePolicy:RolePolicy', /backup-jobs-role-policy/).inputs.policy);
      const copy = pol.Statement.find((x: { Sid?: string }) => x.Sid === 'RdsSnapshotCopyKeys');
      assert.ok(copy.Resource.includes(peerKey.state.arn), 'may encrypt the snapshot copy with the peer key');
      assert.deepEqual(copy.Condition.StringEquals['kms:ViaService'].sort(), [`rds.${region}.amazonaws.com`, `rds.${peer}.amazonaws.com`].sort());
    });
  }

  it('the restore-test schedule is enabled exactly where the backups are (primary, promoted secondary)', async () => {
    for (const [stack, overrides, state] of [
      ['primary', {}, 'ENABLED'],
      ['secondary', {}, 'DISABLED'],
      ['secondary', { [`${P}:database`]: { promoted: true } }, 'ENABLED'],
    ] as const) {
      const r = await runStack(stack, overrides);
      const schedules = r.byType('aws:scheduler/schedule:Schedule');
      const restore = schedules.filter((x) => JSON.parse(x.inputs.target.input).action === 'restore-test');
      assert.equal(restore.length, 1, stack);
      for (const x of schedules) assert.equal(x.inputs.state, state, `${stack} ${x.inputs.name}`);
    }
  });
});
