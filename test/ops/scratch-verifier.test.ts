/**
 * The production scratch-drill verifier against a REAL PostgreSQL (TLS on, standing in for the restored RDS
 * instance) and a REAL S3-protocol bucket (s3rver, holding a real `dr backup postgres` backup and its manifest);
 * only Secrets Manager is mocked (aws-sdk-client-mock). Then `dr drill --stack scratch` end to end through the CLI
 * with a fake Pulumi workspace whose scratch stack "restores" to that server.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultClients } from '../../automation/adapters/aws/index';
import { S3Store } from '../../automation/adapters/aws/s3-store';
import { httpHealthProbe } from '../../automation/adapters/tools/http-health';
import { LocalPgTools } from '../../automation/adapters/tools/pg-tools';
import { LocalRedisTools } from '../../automation/adapters/tools/redis-tools';
import { secretStringReader } from '../../automation/adapters/aws/secret-values';
import { productionScratchVerifier, scratchDatabaseUrl } from '../../automation/ops/scratch-verifier';
import { awsDeps, resetAwsDeps } from '../../automation/cli/aws';
import type { CheckResult } from '../../automation/backup/index';
import { dr } from '../helpers/cli';
import { issueServerCert, makeCa, serveTls } from '../helpers/tls';
import { useS3, usePostgres, useTempDir } from '../helpers/services';
import { FakeWorld, Program } from '../helpers/fake-stacks';
import { fixedClock } from '../../automation/core/clock';

const BUCKET = 'drill-source-bucket';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-scratch-AbC123';
const REGION = 'us-east-1';
const READER = 'drill_reader';
const READER_PASSWORD = 'Rdr-s3cret-Pa55word';

describe('scratch drill verifier on a real PostgreSQL + s3rver @integration', function () {
  this.timeout(180_000);
  const pg = usePostgres();
  const s3 = useS3([BUCKET]);
  const tmp = useTempDir('dr-drill-');
  const sm = new SecretsManagerClient({ region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const smMock = mockClient(sm);
  let endpoint: string;
  let env: Record<string, string>;
  let caFile: string;

  before(async () => {
    // TLS on the server, as RDS forces it: a certificate for 127.0.0.1 from a throw-away CA, which the verifier is
    // told to trust through PGSSLROOTCERT (standing in for the RDS CA bundle), then ssl=on (reloadable).
    const ca = makeCa(tmp.dir, 'scratch-ca');
    caFile = ca.crt;
    await serveTls(pg.cluster, issueServerCert(ca, tmp.dir, 'scratch-db', ['IP:127.0.0.1']));
    // The drill's DB user may only connect over TLS: a non-TLS connection is rejected, so a passing check proves TLS.
    const hba = path.join(pg.cluster.dataDir, 'pg_hba.conf');
    fs.writeFileSync(hba, `hostnossl all ${READER} 127.0.0.1/32 reject\n` + fs.readFileSync(hba, 'utf8'));
    await pg.cluster.query(`CREATE ROLE ${READER} LOGIN PASSWORD '${READER_PASSWORD}'; GRANT pg_read_all_data TO ${READER}`);
    await pg.cluster.query('SELECT pg_reload_conf()');
    await new Promise((r) => setTimeout(r, 300));
    await pg.cluster.createDatabase('bot');
    await pg.cluster.query('CREATE TABLE users(id serial primary key, name text); INSERT INTO users(name) SELECT md5(g::text) FROM generate_series(1, 500) g; CREATE TABLE reminders(id serial primary key, at timestamptz); INSERT INTO reminders(at) SELECT now() FROM generate_series(1, 50)', 'bot');
    env = { ...s3.server.env, DR_BACKUP_BUCKET: BUCKET, PGSSLROOTCERT: caFile };
    const b = await dr(['backup', 'postgres', '--database-url', pg.cluster.url('bot')], env);
    assert.equal(b.code, 0, b.stderr);
    endpoint = `127.0.0.1:${pg.cluster.port}`;
    smMock.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: JSON.stringify({ username: READER, password: READER_PASSWORD }) });
  });
  after(() => {
    smMock.restore();
    resetAwsDeps();
  });

  const verifier = (seen: CheckResult[] = []) =>
    productionScratchVerifier({
      secrets: secretStringReader(() => sm),
      store: (region, bucket) => new S3Store({ bucket, region, env }),
      pg: new LocalPgTools({ env: { PGSSLROOTCERT: caFile } }),
      redis: new LocalRedisTools(),
      health: httpHealthProbe,
      clock: fixedClock(() => new Date()),
      onCheck: (c) => seen.push(c),
    });
  const target = () => ({ region: REGION, dbIdentifier: 'botdr-use1-pg-scratch', dbEndpoint: endpoint, dbSecretArn: SECRET_ARN, sourceBucket: BUCKET });

  it('the URL the verifier builds asks for verified TLS (sslmode=verify-full), which this server insists on for the drill user', async () => {
    const url = scratchDatabaseUrl({ endpoint, username: READER, password: READER_PASSWORD, database: 'bot', sslmode: 'verify-full' });
    assert.equal(url, `postgresql://${READER}:${READER_PASSWORD}@${endpoint}/bot?sslmode=verify-full`);
    await new LocalPgTools({ env: { PGSSLROOTCERT: caFile } }).ping(url);
    await assert.rejects(new LocalPgTools({ env: { PGSSLROOTCERT: caFile } }).ping(url.replace('sslmode=verify-full', 'sslmode=disable')), /no encryption|reject/i);
    // Without the CA the certificate is checked against the RDS bundle, and refused.
    await assert.rejects(new LocalPgTools().ping(url), /TLS verification failed: .*roots: the RDS CA bundle/);
  });

  it('runs the dr verify --full checks against the restored endpoint with the secret from Secrets Manager', async () => {
    const seen: CheckResult[] = [];
    const logs: string[] = [];
    const checks = await verifier(seen)(target(), { log: (l) => logs.push(l) });
    assert.deepEqual(checks.map((c) => c.name), ['database connection and query', 'backup age postgresql/daily', 'checksum postgresql latest', 'schema and rows vs latest manifest']);
    assert.ok(checks.every((c) => c.ok), JSON.stringify(checks));
    assert.match(checks[3].detail, /2 table\(s\) of /);
    assert.equal(seen.length, 4);
    // The credentials were read from the scratch stack's secret ARN, in its region.
    assert.deepEqual(smMock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId), [SECRET_ARN]);
    // The database came from the manifest ('bot'), and verified TLS was asked for.
    assert.ok(logs.some((l) => l.includes(`${endpoint}/bot (sslmode=verify-full)`)));
    assert.ok(!JSON.stringify(checks).includes(READER_PASSWORD), 'no password in any check');
  });

  it('data lost on the restored instance fails the schema/rows check', async () => {
    await pg.cluster.query('DROP TABLE reminders', 'bot');
    try {
      const checks = await verifier()(target(), { log: () => undefined });
      const bad = checks.filter((c) => !c.ok);
      assert.deepEqual(bad.map((c) => c.name), ['schema and rows vs latest manifest']);
      assert.match(bad[0].detail, /public\.reminders is missing/);
    } finally {
      await pg.cluster.query('CREATE TABLE reminders(id serial primary key, at timestamptz); INSERT INTO reminders(at) SELECT now() FROM generate_series(1, 50)', 'bot');
    }
  });

  it('no secret ARN output, or an unreadable secret: a FAILED credentials check, never an empty list', async () => {
    const noArn = await verifier()({ ...target(), dbSecretArn: undefined }, { log: () => undefined });
    assert.deepEqual(noArn.map((c) => [c.name, c.ok]), [['database credentials', false]]);
    const missing = await verifier()({ ...target(), dbSecretArn: `${SECRET_ARN}-gone` }, { log: () => undefined });
    assert.deepEqual(missing.map((c) => [c.name, c.ok]), [['database credentials', false]]);
  });

  it('dr drill --stack scratch end to end: scratch stack restored (fake workspace), verified for real, destroyed, report in the bucket and --reports-dir', async () => {
    const scratchProgram: Program = (stack) => ({
      fingerprint: JSON.stringify(stack.config),
      resources: 20,
      outputs: { role: 'scratch', region: REGION, dbIdentifier: 'botdr-use1-pg-scratch', dbEndpoint: endpoint, dbSecretArn: SECRET_ARN },
    });
    const world = new FakeWorld(scratchProgram);
    const src = world.add('acme/bot-platform-dr/primary', { 'bot-platform-dr:namePrefix': 'botdr' });
    src.outs = { region: REGION, peerRegion: 'us-west-2', dbIdentifier: 'botdr-use1-pg', bucketName: BUCKET };
    fs.writeFileSync(path.join(tmp.dir, 'Pulumi.yaml'), 'name: bot-platform-dr\nruntime: nodejs\n');
    awsDeps.adminDriver = () => world;
    awsDeps.clients = () => ({ ...defaultClients(), secretsManager: () => sm });
    const reports = path.join(tmp.dir, 'reports');
    const r = await dr(['drill', '--stack', 'scratch', '--primary-stack', 'acme/bot-platform-dr/primary', '--restore-point', 'latest', '--reports-dir', reports, '--work-dir', tmp.dir, '--json'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rep = r.json();
    assert.equal(rep.ok, true);
    assert.equal(rep.verify.passed, 4);
    assert.equal(rep.destroyed, true);
    assert.deepEqual(world.calls.filter((c) => /^(up|destroy|remove) /.test(c)).map((c) => c.split(' ')[0]), ['up', 'destroy', 'remove']);
    const stored = JSON.parse(await (await new S3Store({ bucket: BUCKET, env }).get(`drills/${rep.id}/report.json`)).toArray().then((b) => Buffer.concat(b as Buffer[]).toString('utf8')));
    assert.equal(stored.ok, true);
    const md = fs.readFileSync(path.join(reports, `${rep.id}.md`), 'utf8');
    assert.match(md, /PASSED/);
    assert.match(md, /\| schema and rows vs latest manifest \| PASS \|/);
    for (const text of [r.stdout, r.stderr, md, fs.readFileSync(path.join(reports, `${rep.id}.json`), 'utf8'), JSON.stringify(stored)]) assert.ok(!text.includes(READER_PASSWORD));
  });
});
