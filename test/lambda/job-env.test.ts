import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { BACKUP_JOB_ENV, BackupJobEnvError, parseBackupJobEnv, retainVar } from '../../lib/backup-job-env';
import { cacheUrl, databaseUrl, parseAnyEvent, runEvent } from '../../automation/lambda/handler';
import { lambdaClients } from '../helpers/lambda-clients';

const COMPLETE = {
  DR_REGION: 'eu-west-1',
  BACKUP_BUCKET: 'bot-dr-backups-eu-west-1',
  METRICS_NAMESPACE: 'BotDR/Backups',
  ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:bot-dr-alerts',
  SNAPSHOT_PREFIX: 'bot-dr-',
  RETAIN_POSTGRESQL_DAILY: '7',
  RETAIN_POSTGRESQL_WEEKLY: '4',
  RETAIN_POSTGRESQL_MONTHLY: '12',
  RETAIN_REDIS_DAILY: '3',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1',
  DB_HOST: 'db.abc.eu-west-1.rds.amazonaws.com',
  DB_PORT: '5432',
  DB_NAME: 'bot',
  DB_SSLMODE: 'verify-full',
  DB_INSTANCE_ID: 'bot-dr-db',
  PEER_REGION: 'eu-central-1',
  PEER_KMS_KEY_ARN: 'arn:aws:kms:eu-central-1:111122223333:key/peer',
  RESTORE_TEST_DB_HOST: 'scratch.abc.eu-west-1.rds.amazonaws.com',
  CACHE_HOST: 'master.cache.euw1.cache.amazonaws.com',
  CACHE_PORT: '6380',
  CACHE_TLS: 'true',
  CACHE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:cache-auth',
  CACHE_REPLICATION_GROUP_ID: 'bot-dr-cache',
};

describe('backup job: environment contract (lib/backup-job-env.ts)', () => {
  it('parses a complete environment for both services', () => {
    const pg = parseBackupJobEnv(COMPLETE, 'postgresql');
    assert.equal(pg.region, 'eu-west-1');
    assert.equal(pg.snapshotPrefix, 'bot-dr');
    assert.deepEqual(pg.retain, { daily: 7, weekly: 4, monthly: 12 });
    assert.deepEqual(pg.postgres, {
      secretArn: COMPLETE.DB_SECRET_ARN,
      host: COMPLETE.DB_HOST,
      port: 5432,
      dbName: 'bot',
      sslmode: 'verify-full',
      instanceId: 'bot-dr-db',
      peer: { region: 'eu-central-1', kmsKeyArn: COMPLETE.PEER_KMS_KEY_ARN },
      restoreTestHost: COMPLETE.RESTORE_TEST_DB_HOST,
    });
    assert.equal(pg.redis, undefined);
    const redis = parseBackupJobEnv(COMPLETE, 'redis');
    assert.deepEqual(redis.retain, { daily: 3 });
    assert.deepEqual(redis.redis, {
      host: COMPLETE.CACHE_HOST,
      port: 6380,
      tls: true,
      secretArn: COMPLETE.CACHE_SECRET_ARN,
      replicationGroupId: 'bot-dr-cache',
      mode: 'export',
      exportPrefix: 'redis/exports/',
    });
    assert.equal(parseBackupJobEnv({ ...COMPLETE, CACHE_REPLICATION_GROUP_ID: '' }, 'redis').redis?.mode, 'sync');
  });

  it('names every missing required variable and every malformed one, in one error', () => {
    assert.throws(
      () => parseBackupJobEnv({}, 'postgresql'),
      (e: unknown) => e instanceof BackupJobEnvError && e.problems.length === 3 && ['DR_REGION', 'BACKUP_BUCKET', 'DB_SECRET_ARN'].every((v, i) => e.problems[i].startsWith(`${v} is required`)),
    );
    assert.throws(() => parseBackupJobEnv({ DR_REGION: 'x', BACKUP_BUCKET: 'b' }, 'redis'), /CACHE_HOST is required: ElastiCache primary endpoint/);
    const bad = { ...COMPLETE, DB_PORT: '99999', DB_SSLMODE: 'sometimes', PEER_KMS_KEY_ARN: '', RETAIN_POSTGRESQL_WEEKLY: '0' };
    assert.throws(
      () => parseBackupJobEnv(bad, 'postgresql'),
      (e: unknown) =>
        e instanceof BackupJobEnvError &&
        e.problems.length === 4 &&
        /RETAIN_POSTGRESQL_WEEKLY must be a whole number ≥ 1, got '0'/.test(e.message) &&
        /DB_SSLMODE must be one of/.test(e.message) &&
        /PEER_REGION and PEER_KMS_KEY_ARN must be set together/.test(e.message) &&
        /DB_PORT must be a port number 1-65535, got '99999'/.test(e.message),
    );
    assert.throws(() => parseBackupJobEnv({ ...COMPLETE, CACHE_TLS: 'yes', CACHE_BACKUP_MODE: 'export', CACHE_REPLICATION_GROUP_ID: '' }, 'redis'), /CACHE_TLS must be true or false[\s\S]*CACHE_BACKUP_MODE=export needs CACHE_REPLICATION_GROUP_ID/);
  });

  it('every variable the handler reads is documented in the contract', () => {
    const src = fs.readFileSync(path.join(__dirname, '../../automation/lambda/handler.ts'), 'utf8');
    const read = new Set([...src.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]));
    const sdkOwn = new Set(['AWS_REGION']);
    const undocumented = [...read].filter((v) => !(v in BACKUP_JOB_ENV) && !sdkOwn.has(v));
    assert.deepEqual(undocumented, []);
    assert.ok(read.size >= 3, 'the scan found the handler’s env reads');
    for (const [name, spec] of Object.entries(BACKUP_JOB_ENV)) assert.ok(spec.doc.length > 20, `${name} has a doc`);
    assert.equal(retainVar('redis', 'monthly'), 'RETAIN_REDIS_MONTHLY');
  });

  it('TLS to the database defaults to verify-full (the RDS CA bundle in the image); PGSSLROOTCERT is part of the contract', async () => {
    const { DB_SSLMODE: _given, ...noMode } = COMPLETE;
    assert.equal(parseBackupJobEnv(noMode, 'postgresql').postgres?.sslmode, 'verify-full');
    assert.equal(BACKUP_JOB_ENV.PGSSLROOTCERT.required, 'optional');
    const sm = mockClient(SecretsManagerClient);
    try {
      sm.on(GetSecretValueCommand, { SecretId: COMPLETE.DB_SECRET_ARN }).resolves({ SecretString: JSON.stringify({ username: 'bot', password: 'pw' }) });
      assert.match(await databaseUrl(noMode, new SecretsManagerClient({ region: 'eu-west-1' })), /\?sslmode=verify-full$/);
    } finally {
      sm.restore();
    }
  });

  it('the handler builds connection URLs from the parsed env and the secrets', async () => {
    const sm = mockClient(SecretsManagerClient);
    try {
      sm.on(GetSecretValueCommand, { SecretId: COMPLETE.DB_SECRET_ARN }).resolves({ SecretString: JSON.stringify({ username: 'bot admin', password: 'p@ss/word' }) });
      sm.on(GetSecretValueCommand, { SecretId: COMPLETE.CACHE_SECRET_ARN }).resolves({ SecretString: 'tok en' });
      const client = new SecretsManagerClient({ region: 'eu-west-1' });
      assert.equal(await databaseUrl(COMPLETE, client), 'postgresql://bot%20admin:p%40ss%2Fword@db.abc.eu-west-1.rds.amazonaws.com:5432/bot?sslmode=verify-full');
      assert.equal(await cacheUrl(COMPLETE, client), 'rediss://:tok%20en@master.cache.euw1.cache.amazonaws.com:6380');
    } finally {
      sm.restore();
    }
  });

  it('events: backup (default) and restore-test, each validated', () => {
    const sunday = new Date('2025-01-05T04:00:00Z');
    assert.deepEqual(parseAnyEvent({ service: 'redis' }, sunday), { action: 'backup', service: 'redis', tier: 'weekly' });
    assert.deepEqual(parseAnyEvent({ service: 'postgresql', action: 'restore-test' }, sunday), { action: 'restore-test', service: 'postgresql', from: 'latest' });
    assert.deepEqual(parseAnyEvent({ service: 'postgresql', action: 'restore-test', from: 'weekly' }, sunday), { action: 'restore-test', service: 'postgresql', from: 'weekly' });
    assert.throws(() => parseAnyEvent({ service: 'redis', action: 'restore-test' }, sunday), /restore-test supports service postgresql only/);
    assert.throws(() => parseAnyEvent({ service: 'postgresql', action: 'restore-test', from: '2025-01-01' }, sunday), /event.from must be latest\|daily\|weekly\|monthly\|YYYYMMDD/);
    assert.throws(() => parseAnyEvent({ service: 'postgresql', action: 'vacuum' }, sunday), /event.action must be backup\|restore-test/);
  });

  it('a misconfigured job alerts SNS and publishes BackupSuccess=0 naming the missing variables, then fails', async () => {
    const sns = mockClient(SNSClient);
    const cw = mockClient(CloudWatchClient);
    try {
      sns.on(PublishCommand).resolves({});
      cw.on(PutMetricDataCommand).resolves({});
      const env = { DR_REGION: 'eu-west-1', ALERTS_TOPIC_ARN: 'arn:topic' };
      const clients = lambdaClients();
      await assert.rejects(() => runEvent({ service: 'postgresql', tier: 'daily' }, env, clients, undefined, () => undefined), /BACKUP_BUCKET is required[\s\S]*DB_SECRET_ARN is required/);
      const pub = sns.commandCalls(PublishCommand);
      assert.equal(pub.length, 1);
      assert.equal(pub[0].args[0].input.Subject, '[bot-dr] postgresql daily job misconfigured (eu-west-1)');
      assert.match(pub[0].args[0].input.Message ?? '', /BACKUP_BUCKET is required/);
      const metric = cw.commandCalls(PutMetricDataCommand)[0].args[0].input.MetricData?.[0];
      assert.deepEqual([metric?.MetricName, metric?.Value], ['BackupSuccess', 0]);
      await assert.rejects(() => runEvent({ service: 'postgresql', action: 'restore-test' }, env, clients, undefined, () => undefined), /BACKUP_BUCKET is required/);
      assert.equal(sns.commandCalls(PublishCommand).length, 2);
      const calls = cw.commandCalls(PutMetricDataCommand);
      assert.equal(calls.length, 2);
      assert.deepEqual(calls[1].args[0].input.MetricData?.map((d) => [d.MetricName, d.Value]), [['RestoreTestSuccess', 0]], 'no backup metric for a restore test');
    } finally {
      sns.restore();
      cw.restore();
    }
  });
});
