import { registration } from '../helpers/registrations';
import { strict as assert } from 'node:assert';
import { P, PRIMARY_OUTPUTS, runStack } from '../helpers/stacks';

const RG = 'aws:elasticache/replicationGroup:ReplicationGroup';
const GLOBAL = 'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup';

describe('Cache', () => {
  it('primary: encrypted at rest with the region key and in transit, generated auth token kept secret in a KMS-encrypted secret', async () => {
    const run = await runStack('primary');
    const rg = run.one(RG);
    const key = run.byType('aws:kms/key:Key').find((k) => k.region === 'us-east-1')!;
    assert.equal(rg.inputs.atRestEncryptionEnabled, true);
    assert.equal(rg.inputs.kmsKeyId, key.state.arn);
    assert.equal(rg.inputs.transitEncryptionEnabled, true);
    assert.equal(rg.inputs.transitEncryptionMode, 'required');
    const token = run.one('random:index/randomPassword:RandomPassword', /cache-auth-token/);
    assert.equal(rg.plainInputs.authToken, token.state.result);
    assert.notEqual(rg.inputs.authToken, token.state.result);
    assert.ok(rg.secretInputs.includes('authToken'), 'auth token passed as a secret');
    assert.ok(token.inputs.length >= 32);
    const secret = run.byType('aws:secretsmanager/secret:Secret').find((s) => /redis/.test(s.inputs.name))!;
    assert.equal(secret.inputs.kmsKeyId, key.state.arn);
    const version = run.byType('aws:secretsmanager/secretVersion:SecretVersion').find((v) => v.inputs.secretId === secret.id)!;
    assert.equal(JSON.parse(version.plainInputs.secretString).authToken, token.state.result);
    assert.ok(version.secretInputs.includes('secretString'));
    assert.equal(run.outputs.cacheAuthSecretArn, secret.state.arn);
    assert.ok(!JSON.stringify(run.outputs).includes(token.state.result));
  });

  it('replicas ≥ 1 → automatic failover + multi-AZ; snapshots retained with a window', async () => {
    const run = await runStack('primary');
    const rg = run.one(RG);
    assert.equal(rg.inputs.numCacheClusters, 2);
    assert.equal(rg.inputs.automaticFailoverEnabled, true);
    assert.equal(rg.inputs.multiAzEnabled, true);
    assert.equal(rg.inputs.snapshotRetentionLimit, 7);
    assert.equal(rg.inputs.snapshotWindow, '04:00-05:00');
    assert.deepEqual(rg.inputs.securityGroupIds, [run.one('aws:ec2/securityGroup:SecurityGroup', /cache-sg/).id]);
    assert.equal(rg.inputs.subnetGroupName, run.one('aws:elasticache/subnetGroup:SubnetGroup').state.name);
  });

  it('replicas 0 → no automatic failover or multi-AZ', async () => {
    const run = await runStack('primary', { [`${P}:cache`]: { replicas: 0, globalDatastore: false } });
    const rg = run.one(RG);
    assert.equal(rg.inputs.numCacheClusters, 1);
    assert.equal(rg.inputs.automaticFailoverEnabled, false);
    assert.equal(rg.inputs.multiAzEnabled, false);
    assert.equal(run.byType(GLOBAL).length, 0);
  });

  it('primary with globalDatastore owns the global datastore; its auth secret is replicated to the peer region', async () => {
    const run = await runStack('primary');
    const g = run.one(GLOBAL);
    assert.equal(g.inputs.primaryReplicationGroupId, run.one(RG).id);
    const secret = run.byType('aws:secretsmanager/secret:Secret').find((s) => /redis/.test(s.inputs.name))!;
    const peerKey = run.byType('aws:kms/key:Key').find((k) => k.region === 'us-west-2')!;
    assert.deepEqual(secret.inputs.replicas, [{ region: 'us-west-2', kmsKeyId: peerKey.state.arn }]);
    assert.equal(run.outputs.globalDatastoreId, g.state.globalReplicationGroupId);
  });

  it('secondary joins as a member and sets none of the inherited settings', async () => {
    const run = await runStack('secondary');
    const rg = run.one(RG);
    assert.equal(rg.region, 'us-west-2');
    assert.equal(rg.inputs.globalReplicationGroupId, PRIMARY_OUTPUTS.globalDatastoreId);
    for (const k of ['authToken', 'transitEncryptionEnabled', 'atRestEncryptionEnabled', 'engine', 'engineVersion', 'nodeType', 'parameterGroupName', 'numNodeGroups']) {
      assert.equal(rg.inputs[k], undefined, `member must not set ${k}`);
    }
    assert.equal(run.byType('random:index/randomPassword:RandomPassword').length, 0);
    assert.equal(run.byType(GLOBAL).length, 0);
  });

  it('secondary without a global datastore owns a standalone encrypted group', async () => {
    const run = await runStack('secondary', { [`${P}:cache`]: { nodeType: 'cache.t4g.small', globalDatastore: false } });
    const rg = run.one(RG);
    assert.equal(rg.inputs.globalReplicationGroupId, undefined);
    assert.equal(rg.inputs.transitEncryptionEnabled, true);
    assert.equal(rg.inputs.atRestEncryptionEnabled, true);
  });

  it('global datastore ignores primaryReplicationGroupId (a cache failover moves the primary; a later up must not replace it)', async () => {
    const run = await runStack('primary');
    const global = run.one(GLOBAL);
    assert.equal(global.inputs.primaryReplicationGroupId, run.one(RG).state.id, 'created from this region');
    assert.deepEqual(registration(run.regs, global.name).ignoreChanges, ['primaryReplicationGroupId']);
    // Nothing else is ignored on the group or the datastore.
    assert.deepEqual(registration(run.regs, run.one(RG).name).ignoreChanges, []);
  });
});
