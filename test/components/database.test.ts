import { strict as assert } from 'node:assert';
import { databaseParameters } from '../../components/database';
import { PRIMARY_OUTPUTS, P, runStack } from '../helpers/stacks';

const INSTANCE = 'aws:rds/instance:Instance';
const BACKUPS_REPL = 'aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication';

describe('Database', () => {
  it('parameters (pure) force TLS', () => {
    assert.ok(databaseParameters().some((p) => p.name === 'rds.force_ssl' && p.value === '1'));
  });

  it('primary: encrypted with the region key, PITR ≥ 7 days, deletion protection, PI with the key, generated password (no RDS-managed secret), logs, final snapshot', async () => {
    const run = await runStack('primary');
    const db = run.one(INSTANCE);
    const key = run.byType('aws:kms/key:Key').find((k) => k.region === 'us-east-1')!;
    assert.equal(db.region, 'us-east-1');
    assert.equal(db.inputs.engine, 'postgres');
    assert.equal(db.inputs.engineVersion, '16.4');
    assert.equal(db.inputs.storageEncrypted, true);
    assert.equal(db.inputs.kmsKeyId, key.state.arn);
    assert.ok(db.inputs.backupRetentionPeriod >= 7);
    assert.equal(db.inputs.backupRetentionPeriod, 14);
    assert.equal(db.inputs.deletionProtection, true);
    assert.equal(db.inputs.performanceInsightsEnabled, true);
    assert.equal(db.inputs.performanceInsightsKmsKeyId, key.state.arn);
    // RDS's managed master secret cannot be replicated: the password is generated and kept in a replicated secret.
    assert.equal(db.inputs.manageMasterUserPassword, undefined);
    const pw = run.one('random:index/randomPassword:RandomPassword', /db-credentials/);
    assert.equal(db.plainInputs.password, pw.state.result);
    assert.ok(db.secretInputs.includes('password'), 'the password reaches RDS as a secret');
    assert.equal(db.inputs.username, 'botadmin');
    assert.deepEqual(db.inputs.enabledCloudwatchLogsExports, ['postgresql', 'upgrade']);
    assert.equal(db.inputs.copyTagsToSnapshot, true);
    assert.equal(db.inputs.skipFinalSnapshot, false);
    assert.equal(db.inputs.finalSnapshotIdentifier, 'botdr-use1-pg-final');
    assert.equal(db.inputs.publiclyAccessible, false);
    assert.equal(db.inputs.multiAz, true);
    assert.deepEqual(db.inputs.vpcSecurityGroupIds, [run.outputs.appSecurityGroupId.replace('app', 'db')]);
    const pg = run.one('aws:rds/parameterGroup:ParameterGroup');
    assert.equal(pg.inputs.family, 'postgres16');
    assert.ok(pg.inputs.parameters.some((p: any) => p.name === 'rds.force_ssl' && p.value === '1'));
    assert.equal(db.inputs.parameterGroupName, pg.state.name);
    assert.equal(db.inputs.dbSubnetGroupName, run.one('aws:rds/subnetGroup:SubnetGroup').state.name);
    assert.equal(run.byType(BACKUPS_REPL).length, 0);
  });

  it('parameter group family follows the engine version', async () => {
    const run = await runStack('primary', { [`${P}:database`]: { engineVersion: '15.7' } });
    assert.equal(run.one('aws:rds/parameterGroup:ParameterGroup').inputs.family, 'postgres15');
  });

  it('secondary: cross-region replica with no credentials, own region key and subnet group, + automated backups replication', async () => {
    const run = await runStack('secondary');
    const db = run.one(INSTANCE);
    const key = run.byType('aws:kms/key:Key').find((k) => k.region === 'us-west-2' && !k.name.endsWith('-replicas'))!;
    assert.equal(db.region, 'us-west-2');
    assert.equal(db.inputs.replicateSourceDb, PRIMARY_OUTPUTS.dbArn);
    for (const k of ['username', 'password', 'dbName', 'manageMasterUserPassword', 'engine', 'engineVersion', 'allocatedStorage']) {
      assert.equal(db.inputs[k], undefined, `replica must not set ${k}`);
    }
    assert.equal(db.inputs.kmsKeyId, key.state.arn);
    assert.equal(db.inputs.storageEncrypted, true);
    assert.equal(db.inputs.performanceInsightsKmsKeyId, key.state.arn);
    const sng = run.one('aws:rds/subnetGroup:SubnetGroup');
    assert.equal(sng.region, 'us-west-2');
    assert.equal(db.inputs.dbSubnetGroupName, sng.state.name);
    const repl = run.one(BACKUPS_REPL);
    assert.equal(repl.region, 'us-west-2');
    assert.equal(repl.inputs.sourceDbInstanceArn, PRIMARY_OUTPUTS.dbArn);
    assert.equal(repl.inputs.kmsKeyId, key.state.arn);
    assert.equal(repl.inputs.retentionPeriod, 14);
    // RDS refuses a final snapshot when a read replica is deleted.
    assert.equal(db.inputs.skipFinalSnapshot, true);
    assert.equal(db.inputs.finalSnapshotIdentifier, undefined);
    assert.equal(db.inputs.backupRetentionPeriod, 0);
  });

  it('promoted secondary drops replicateSourceDb, turns backups on and keeps the replicated credentials (no new password)', async () => {
    const run = await runStack('secondary', { [`${P}:database`]: { promoted: true, backupRetentionDays: 21 } });
    const db = run.one(INSTANCE);
    assert.equal(db.inputs.replicateSourceDb, undefined);
    assert.equal(db.inputs.backupRetentionPeriod, 21);
    for (const k of ['manageMasterUserPassword', 'password', 'username']) assert.equal(db.inputs[k], undefined, `promotion must not change credentials (${k})`);
    assert.equal(db.inputs.deletionProtection, true);
    assert.equal(db.inputs.skipFinalSnapshot, false, 'a standalone instance keeps a final snapshot again');
    assert.equal(db.inputs.finalSnapshotIdentifier, 'botdr-usw2-pg-final');
    assert.equal(run.byType(BACKUPS_REPL).length, 1, 'replicated backups are kept');
    assert.equal(run.outputs.dbSecretArn, PRIMARY_OUTPUTS.dbSecretArn.replace('us-east-1', 'us-west-2'), 'the promoted replica of the primary secret, by name');
  });

  it('scratch from the latest snapshot: looked up for the source DB, deletion protection off, no final snapshot', async () => {
    const run = await runStack('scratch');
    const db = run.one(INSTANCE);
    const lookup = run.calls.find((c) => c.token === 'aws:rds/getSnapshot:getSnapshot');
    assert.ok(lookup);
    assert.equal(lookup.inputs.dbInstanceIdentifier, 'botdr-use1-pg');
    assert.equal(lookup.inputs.mostRecent, true);
    assert.match(db.inputs.snapshotIdentifier, /snapshot:rds:botdr-use1-pg/);
    assert.equal(db.inputs.identifier, 'botdr-use1-pg-scratch');
    assert.equal(db.inputs.deletionProtection, false);
    assert.equal(db.inputs.skipFinalSnapshot, true);
    assert.equal(db.inputs.storageEncrypted, true);
  });

  it('scratch to a point in time', async () => {
    const run = await runStack('scratch', { [`${P}:scratch`]: { restoreFrom: 'point-in-time', restoreTime: '2024-05-01T12:00:00Z', sourceDbIdentifier: 'botdr-use1-pg' } });
    const db = run.one(INSTANCE);
    assert.deepEqual(db.inputs.restoreToPointInTime, { sourceDbInstanceIdentifier: 'botdr-use1-pg', restoreTime: '2024-05-01T12:00:00Z' });
    assert.equal(db.inputs.snapshotIdentifier, undefined);
    const latest = await runStack('scratch', { [`${P}:scratch`]: { restoreFrom: 'point-in-time', sourceDbIdentifier: 'botdr-use1-pg' } });
    assert.equal(latest.one(INSTANCE).inputs.restoreToPointInTime.useLatestRestorableTime, true);
  });
});
