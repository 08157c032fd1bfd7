/**
 * The backup job Lambda's TLS to the database, end to end through `runEvent`: with DB_SSLMODE left at its default
 * (verify-full), a REAL PostgreSQL serving a certificate from a throw-away CA, s3rver for the bucket, mocked Secrets
 * Manager and CloudWatch. The job trusts what PGSSLROOTCERT in its environment names (in AWS: the RDS CA bundle the
 * image carries), for pg_dump/pg_restore and the driver alike; a certificate from another CA fails the job.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { runEvent } from '../../automation/lambda/handler';
import { LocalPgTools } from '../../automation/adapters/tools/pg-tools';
import { lambdaClients } from '../helpers/lambda-clients';
import { usePostgres, useS3, useTempDir } from '../helpers/services';
import { issueServerCert, makeCa, serveTls, TestCa } from '../helpers/tls';

const JOB_USER = 'backup_job';
const JOB_PASSWORD = 'J0b-s3cret-Pa55';

describe('backup job Lambda: verified TLS to the database (real PostgreSQL with a test CA) @integration', function () {
  this.timeout(120_000);
  const pg = usePostgres();
  const s3 = useS3(['tls-bucket']);
  const tmp = useTempDir('dr-job-tls-');
  let ca1: TestCa;
  let ca2: TestCa;
  let sm: ReturnType<typeof mockClient>;
  let cw: ReturnType<typeof mockClient>;

  before(async () => {
    ca1 = makeCa(tmp.dir, 'ca-1');
    ca2 = makeCa(tmp.dir, 'ca-2');
    await serveTls(pg.cluster, issueServerCert(ca1, tmp.dir, 'db', ['IP:127.0.0.1']));
    // The job's user may only connect over TLS (as RDS forces it): a passing job proves every session was encrypted.
    const hba = path.join(pg.cluster.dataDir, 'pg_hba.conf');
    fs.writeFileSync(hba, `hostnossl all ${JOB_USER} 127.0.0.1/32 reject\n` + fs.readFileSync(hba, 'utf8'));
    await pg.cluster.query(`CREATE ROLE ${JOB_USER} LOGIN CREATEDB PASSWORD '${JOB_PASSWORD}'; GRANT pg_read_all_data TO ${JOB_USER}`);
    await pg.cluster.query('SELECT pg_reload_conf()');
    await new Promise((r) => setTimeout(r, 300));
    await pg.cluster.createDatabase('bot');
    await pg.cluster.query('CREATE TABLE users(id int primary key); INSERT INTO users SELECT generate_series(1, 25)', 'bot');
    sm = mockClient(SecretsManagerClient);
    cw = mockClient(CloudWatchClient);
    sm.on(GetSecretValueCommand, { SecretId: 'arn:db' }).resolves({ SecretString: JSON.stringify({ username: JOB_USER, password: JOB_PASSWORD }) });
    cw.on(PutMetricDataCommand).resolves({});
  });
  after(() => {
    sm?.restore();
    cw?.restore();
  });

  // No DB_SSLMODE: the contract's default, verify-full.
  const env = (extra: Record<string, string>) => ({ ...s3.server.env, DR_REGION: 'eu-west-1', BACKUP_BUCKET: 'tls-bucket', DB_SECRET_ARN: 'arn:db', DB_HOST: '127.0.0.1', DB_PORT: String(pg.cluster.port), DB_NAME: 'bot', ...extra });

  it('backup and restore test pass with the right CA in PGSSLROOTCERT, every session over TLS', async () => {
    await assert.rejects(new LocalPgTools().ping(`postgresql://${JOB_USER}:${JOB_PASSWORD}@127.0.0.1:${pg.cluster.port}/bot?sslmode=disable`), /no encryption/, 'the job user is refused without TLS');
    const backup = await runEvent({ service: 'postgresql', tier: 'daily' }, env({ PGSSLROOTCERT: ca1.crt }), lambdaClients(), undefined, () => undefined);
    assert.ok('key' in backup && /^postgresql\/daily\//.test(backup.key));
    const rt = await runEvent({ service: 'postgresql', action: 'restore-test', from: 'daily' }, env({ PGSSLROOTCERT: ca1.crt }), lambdaClients(), undefined, () => undefined);
    assert.ok('manifest' in rt);
    assert.equal(rt.manifest.restorability, 'VERIFIED');
    const stats = await pg.cluster.query<{ n: string }>("SELECT count(*) AS n FROM pg_database WHERE datname LIKE 'dr_restore_test_%'");
    assert.equal(stats[0].n, '0', 'the scratch database was dropped');
  });

  it('a server certificate from another CA fails the job with a TLS verification error, and no secret in it', async () => {
    await assert.rejects(runEvent({ service: 'postgresql', tier: 'daily' }, env({ PGSSLROOTCERT: ca2.crt }), lambdaClients(), undefined, () => undefined), (e: unknown) => {
      assert.match((e as Error).message, /TLS verification failed: .*\(sslmode=verify-full, roots: .*ca-2\.crt \(PGSSLROOTCERT\)\)/);
      assert.ok(!(e as Error).message.includes(JOB_PASSWORD));
      return true;
    });
  });

  it('without PGSSLROOTCERT the job trusts the RDS CA bundle only, so this server is refused', async () => {
    await assert.rejects(runEvent({ service: 'postgresql', tier: 'daily' }, env({}), lambdaClients(), undefined, () => undefined), /TLS verification failed: .*roots: the RDS CA bundle/);
  });
});
