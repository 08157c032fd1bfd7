import assert from 'node:assert/strict';
import { DB_PASSWORD_SPECIAL, RDS_FORBIDDEN_PASSWORD_CHARS, dbSecretName, dbSecretString } from '../../components/db-credentials';
import { registration } from '../helpers/registrations';
import { P, PRIMARY_OUTPUTS, runStack } from '../helpers/stacks';

const SECRET = 'aws:secretsmanager/secret:Secret';
const VERSION = 'aws:secretsmanager/secretVersion:SecretVersion';
const PASSWORD = 'random:index/randomPassword:RandomPassword';
const GET_SECRET = 'aws:secretsmanager/getSecret:getSecret';

describe('DB credentials that survive the loss of the primary region', () => {
  it('(pure) the password alphabet has none of the characters RDS rejects; the secret follows the RDS convention', () => {
    for (const c of RDS_FORBIDDEN_PASSWORD_CHARS) assert.ok(!DB_PASSWORD_SPECIAL.includes(c), `RDS rejects ${JSON.stringify(c)}`);
    assert.equal(dbSecretName('botdr'), 'botdr/db/master');
    assert.deepEqual(JSON.parse(dbSecretString({ username: 'u', password: 'p', host: 'h', port: 5432, dbname: 'bot' })), {
      username: 'u',
      password: 'p',
      engine: 'postgres',
      host: 'h',
      port: 5432,
      dbname: 'bot',
    });
  });

  it('primary: generated password in a KMS-encrypted secret replicated to the peer region under the peer key; the instance uses it', async () => {
    const run = await runStack('primary');
    const key = run.byType('aws:kms/key:Key').find((k) => k.region === 'us-east-1' && !k.name.endsWith('-replicas'))!;
    const peerKey = run.byType('aws:kms/key:Key').find((k) => k.region === 'us-west-2')!;
    const pw = run.one(PASSWORD, /db-credentials/);
    assert.equal(pw.inputs.special, true);
    assert.equal(pw.inputs.overrideSpecial, DB_PASSWORD_SPECIAL);
    assert.ok(pw.inputs.length >= 32);
    const secret = run.byType(SECRET).find((s) => s.inputs.name === 'botdr/db/master');
    assert.ok(secret, run.summary());
    assert.equal(secret.region, 'us-east-1');
    assert.equal(secret.inputs.kmsKeyId, key.state.arn);
    assert.deepEqual(secret.inputs.replicas, [{ region: 'us-west-2', kmsKeyId: peerKey.state.arn }]);
    assert.equal(secret.inputs.recoveryWindowInDays, 30);
    // Kept in AWS when the stack stops declaring it (it becomes a secondary after a failover).
    assert.equal(registration(run.regs, secret.name).retainOnDelete, true);

    const version = run.byType(VERSION).find((v) => v.inputs.secretId === secret.id)!;
    assert.ok(version.secretInputs.includes('secretString'), 'the value is a Pulumi secret');
    const db = run.one('aws:rds/instance:Instance');
    const value = JSON.parse(version.plainInputs.secretString);
    assert.deepEqual(value, { username: 'botadmin', password: pw.state.result, engine: 'postgres', host: db.state.address, port: 5432, dbname: 'bot' });
    for (const c of RDS_FORBIDDEN_PASSWORD_CHARS) assert.ok(!value.password.includes(c));
    assert.equal(db.plainInputs.password, pw.state.result);
    assert.equal(db.inputs.manageMasterUserPassword, undefined);

    assert.equal(run.outputs.dbSecretArn, secret.state.arn);
    assert.ok(!JSON.stringify(run.outputs).includes(pw.state.result), 'no output carries the password');
    assert.equal(run.one('aws:lambda/function:Function', /backup-jobs-function$/).plainInputs.environment.variables.DB_SECRET_ARN, secret.state.arn);
  });

  for (const promoted of [false, true]) {
    it(`secondary${promoted ? ' (promoted)' : ''}: declares no DB secret or password; reads the replica by name in its own region`, async () => {
      const run = await runStack('secondary', promoted ? { [`${P}:database`]: { promoted: true } } : {});
      assert.equal(run.byType(SECRET).filter((s) => s.inputs.name === 'botdr/db/master').length, 0);
      assert.equal(run.byType(PASSWORD).filter((p) => /db-credentials/.test(p.name)).length, 0);
      // The promoted stack also looks up the bot-token secrets it adopts (issue 10): only the DB secret's lookup here.
      const lookup = run.calls.filter((c) => c.token === GET_SECRET && !/\/bot-tokens\//.test(String(c.inputs.name)));
      assert.equal(lookup.length, 1);
      assert.equal(lookup[0].inputs.name, 'botdr/db/master');
      assert.equal(lookup[0].region, 'us-west-2');
      const replicaArn = PRIMARY_OUTPUTS.dbSecretArn.replace(':us-east-1:', ':us-west-2:');
      assert.equal(run.outputs.dbSecretArn, replicaArn);
      const env = run.one('aws:lambda/function:Function', /backup-jobs-function$/).plainInputs.environment.variables;
      assert.equal(env.DB_SECRET_ARN, replicaArn, "the job reads the secret in its own region, not the primary's");
      const policy = JSON.parse(run.one('aws:iam/rolePolicy:RolePolicy', /backup-jobs-role-policy/).inputs.policy);
      const read = policy.Statement.find((s: { Sid?: string }) => s.Sid === 'ReadDatabaseSecrets');
      assert.ok(read.Resource.includes(replicaArn));
      assert.ok(!read.Resource.some((r: string) => r.includes(':us-east-1:')), 'no grant on the other region');
    });
  }

  it('scratch: a drill instance keeps an RDS-managed (region-local) secret and reads nothing of production', async () => {
    const run = await runStack('scratch');
    assert.equal(run.one('aws:rds/instance:Instance').inputs.manageMasterUserPassword, true);
    assert.equal(run.calls.filter((c) => c.token === GET_SECRET).length, 0);
    assert.equal(run.byType(SECRET).filter((s) => s.inputs.name === 'botdr/db/master').length, 0);
    assert.match(run.outputs.dbSecretArn, /^arn:aws:secretsmanager:us-east-1:.*rds!db-/);
  });
});
