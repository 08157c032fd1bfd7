import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { buildStack } from '../../components/regional-dr';
import { mapConfigSource } from '../../lib/config';
import { loadStackFile, runProgram, runProgramExpectingError, serializeDeep } from '../helpers/pulumi';
import { P, PRIMARY_OUTPUTS, ROOT, runStack, STACK_REFS } from '../helpers/stacks';

describe('program: the whole stack under mocks, per role', () => {
  it('primary: declares the full region and exports names/ARNs for the peer', async () => {
    const run = await runStack('primary');
    for (const t of ['bot-dr:keys:Keys', 'bot-dr:network:Network', 'bot-dr:database:Database', 'bot-dr:cache:Cache', 'bot-dr:backup:BackupBucket', 'bot-dr:secrets:BotTokens', 'bot-dr:dns:FailoverDns']) {
      assert.equal(run.byType(t).length, 1, `${t}\n${run.summary()}`);
    }
    const o = run.outputs;
    assert.equal(o.role, 'primary');
    assert.equal(o.region, 'us-east-1');
    for (const k of ['dbEndpoint', 'dbArn', 'dbSecretArn', 'dbIdentifier', 'cacheEndpoint', 'globalDatastoreId', 'bucketName', 'bucketArn', 'kmsKeyArn', 'topicArn', 'healthCheckId', 'recordName', 'hostedZoneId', 'dbSecurityGroupId', 'dbFenceSecurityGroupId', 'appSecurityGroupId']) {
      assert.ok(typeof o[k] === 'string' && o[k].length > 0, `output ${k} missing: ${JSON.stringify(o[k])}`);
    }
    assert.deepEqual(Object.keys(o.botTokenSecretArns).sort(), ['community', 'moderation']);
    assert.match(o.dbArn, /^arn:aws:rds:us-east-1:/);
    // The security-group fence restores the DB's group (the one the instance declares) and swaps in the fence group.
    assert.deepEqual(run.one('aws:rds/instance:Instance').inputs.vpcSecurityGroupIds, [o.dbSecurityGroupId]);
    assert.notEqual(o.dbFenceSecurityGroupId, o.dbSecurityGroupId);
    assert.ok(
      run.byType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').some((r) => r.inputs.securityGroupId === o.dbSecurityGroupId && r.inputs.referencedSecurityGroupId === o.appSecurityGroupId),
    );
    assert.match(o.kmsKeyArn, /^arn:aws:kms:us-east-1:/);
    // Bucket replication points at the peer's bucket (from the StackReference).
    const repl = run.one('aws:s3/bucketReplicationConfig:BucketReplicationConfig');
    assert.ok(serializeDeep(repl.inputs).includes(STACK_REFS['acme/bot-platform-dr/secondary'].bucketArn));
  });

  it('secondary: replica of the primary DB ARN from the StackReference, member of its global datastore', async () => {
    const run = await runStack('secondary');
    const db = run.one('aws:rds/instance:Instance');
    assert.equal(db.inputs.replicateSourceDb, PRIMARY_OUTPUTS.dbArn);
    assert.equal(db.region, 'us-west-2');
    const rg = run.one('aws:elasticache/replicationGroup:ReplicationGroup');
    assert.equal(rg.inputs.globalReplicationGroupId, PRIMARY_OUTPUTS.globalDatastoreId);
    assert.equal(run.byType('aws:elasticache/globalReplicationGroup:GlobalReplicationGroup').length, 0);
    assert.equal(run.one('aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication').inputs.sourceDbInstanceArn, PRIMARY_OUTPUTS.dbArn);
    assert.equal(run.outputs.role, 'secondary');
    assert.equal(run.outputs.globalDatastoreId, PRIMARY_OUTPUTS.globalDatastoreId);
    assert.equal(run.outputs.cacheAuthSecretArn, PRIMARY_OUTPUTS.cacheAuthSecretArn.replace('us-east-1', 'us-west-2'));
    assert.equal(run.outputs.dbSecretArn, PRIMARY_OUTPUTS.dbSecretArn.replace('us-east-1', 'us-west-2'), "the replica of the primary's DB secret in this region");
    assert.equal(run.one('aws:route53/record:Record').inputs.failoverRoutingPolicies[0].type, 'SECONDARY');
  });

  it('secondary fed with the outputs of an actual primary run', async () => {
    const primary = await runStack('primary');
    const file = loadStackFile(path.join(ROOT, 'Pulumi.secondary.yaml'));
    const run = await runProgram(() => ({ ...buildStack(mapConfigSource(file.config)) }), {
      config: file.config,
      secretKeys: file.secretKeys,
      stackRefs: { 'acme/bot-platform-dr/primary': primary.outputs },
    });
    assert.equal(run.one('aws:rds/instance:Instance').inputs.replicateSourceDb, primary.outputs.dbArn);
    assert.equal(run.one('aws:elasticache/replicationGroup:ReplicationGroup').inputs.globalReplicationGroupId, primary.outputs.globalDatastoreId);
  });

  it('scratch: restored DB, no replica, no DNS, no global datastore, no peer replication or peer key', async () => {
    const run = await runStack('scratch');
    const db = run.one('aws:rds/instance:Instance');
    assert.match(String(db.inputs.snapshotIdentifier), /^arn:aws:rds:us-east-1:\d+:snapshot:/);
    assert.equal(db.inputs.deletionProtection, false);
    assert.equal(db.inputs.replicateSourceDb, undefined);
    for (const t of [
      'aws:route53/record:Record',
      'aws:route53/healthCheck:HealthCheck',
      'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup',
      'aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication',
      'aws:s3/bucketReplicationConfig:BucketReplicationConfig',
      'pulumi:pulumi:StackReference',
      'aws:scheduler/schedule:Schedule',
    ]) {
      assert.equal(run.byType(t).length, 0, `scratch must not declare ${t}`);
    }
    assert.equal(run.byType('pulumi:providers:aws').length, 1, 'scratch needs only its own region');
    assert.equal(run.one('aws:elasticache/replicationGroup:ReplicationGroup').inputs.globalReplicationGroupId, undefined);
    assert.equal(run.outputs.role, 'scratch');
  });

  for (const stack of ['primary', 'secondary', 'scratch'] as const) {
    it(`${stack}: no stack output carries a secret value (bot tokens, generated auth token)`, async () => {
      // A secondary without a global datastore generates its own Redis auth token: check that one too.
      const run = await runStack(stack, stack === 'secondary' ? { [`${P}:cache`]: { nodeType: 'cache.t4g.small', globalDatastore: false } } : {});
      const serialized = serializeDeep(run.outputs);
      if (stack !== 'secondary') assert.ok(run.secretValues.length >= 3, 'the stack file carries bot tokens');
      for (const v of run.secretValues) assert.ok(!serialized.includes(v), `output leaks a bot token`);
      const passwords = run.byType('random:index/randomPassword:RandomPassword');
      // The Redis auth token everywhere; the DB master password on the primary only (the secondary reads the replica).
      assert.equal(passwords.length, stack === 'primary' ? 2 : 1, 'generated Redis auth token (+ DB master password on the primary)');
      for (const pw of passwords) assert.ok(!serialized.includes(pw.state.result), `output leaks the generated ${pw.name}`);
      assert.deepEqual(run.secretOutputs, [], 'no output is even marked secret');
    });
  }

  describe('bad config fails naming the key and declares no resource', () => {
    const cases: [string, 'primary' | 'secondary', Record<string, unknown>, string, RegExp][] = [
      ['peer region equal to region', 'primary', { [`${P}:peerRegion`]: 'us-east-1' }, `${P}:peerRegion`, /must differ/],
      ['unknown role', 'primary', { [`${P}:role`]: 'tertiary' }, `${P}:role`, /primary \| secondary \| scratch/],
      ['retention below 1', 'primary', { [`${P}:backup`]: { postgresql: { daily: 0 } } }, `${P}:backup.postgresql.daily`, /from 1/],
      ['DNS without a hosted zone', 'primary', { [`${P}:dns`]: { recordName: 'bot.example.com', endpoint: 'a.example.com' } }, `${P}:dns.hostedZoneId`, /required/],
      ['secondary without peerStack', 'secondary', { [`${P}:peerStack`]: undefined }, `${P}:peerStack`, /required/],
      ['a bot with no token', 'primary', { [`${P}:bots`]: ['community', 'moderation', 'newbot'] }, `${P}:botTokens.newbot`, /no token/],
    ];
    for (const [title, stack, over, key, re] of cases) {
      it(title, async () => {
        const file = loadStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`));
        const config = { ...file.config };
        for (const [k, v] of Object.entries(over)) {
          if (v === undefined) delete config[k];
          else config[k] = v;
        }
        const { error, resources } = await runProgramExpectingError(() => ({ ...buildStack(mapConfigSource(config)) }), { config, secretKeys: file.secretKeys, stackRefs: STACK_REFS });
        assert.ok(error.message.includes(key), `error names ${key}: ${error.message}`);
        assert.match(error.message, re);
        assert.deepEqual(resources.map((r) => `${r.type} ${r.name}`), [], 'no resource may be declared');
      });
    }
  });

  it('index.ts runs the same program with Pulumi config (no explicit source)', async () => {
    const file = loadStackFile(path.join(ROOT, 'Pulumi.primary.yaml'));
    const indexPath = require.resolve('../../index');
    const run = await runProgram(
      () => {
        delete require.cache[indexPath];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return { ...(require(indexPath) as Record<string, unknown>) };
      },
      { config: file.config, secretKeys: file.secretKeys, stackRefs: STACK_REFS },
    );
    assert.equal(run.outputs.role, 'primary');
    assert.equal(run.byType('bot-dr:index:RegionalDr').length, 1);
    for (const v of file.secretValues) assert.ok(!serializeDeep(run.outputs).includes(v));
    // The tokens did reach the secret values (so the check above is meaningful).
    const versions = run.byType('aws:secretsmanager/secretVersion:SecretVersion').map((r) => serializeDeep(r.inputs)).join();
    for (const v of file.secretValues) assert.ok(versions.includes(v), 'token stored in its secret');
  });
});
