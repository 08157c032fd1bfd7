import assert from 'node:assert/strict';
import { P, PRIMARY_OUTPUTS, runStack } from './stacks';

const SECRET = 'aws:secretsmanager/secret:Secret';

describe('survivor config after a failover (secondary with database.promoted = true)', () => {
  it('secondary promoted after a failover: program declares no resource that collides with the promoted secrets', async () => {
    const primary = await runStack('primary');
    const promoted = await runStack('secondary', { [`${P}:database`]: { promoted: true } });
    // Every secret the primary replicates into the peer region (and the failover promotes there).
    const replicated = primary.byType(SECRET).filter((s) => (s.plainInputs.replicas ?? []).some((r: { region: string }) => r.region === 'us-west-2'));
    const names = replicated.map((s) => s.inputs.name).sort();
    assert.deepEqual(names, ['botdr/bot-tokens/community', 'botdr/bot-tokens/moderation', 'botdr/db/master', 'botdr/redis/botdr-use1-redis/auth']);
    const declared = promoted.byType(SECRET).filter((s) => s.region === 'us-west-2');
    for (const s of declared) assert.ok(!names.includes(s.inputs.name), `the promoted stack declares ${s.inputs.name}, which is the promoted replica`);
    assert.equal(promoted.byType('bot-dr:secrets:BotTokens').length, 0);
    assert.equal(promoted.byType('aws:secretsmanager/secretVersion:SecretVersion').length, 0, 'writes no value over a promoted secret');
    // It reads the DB secret by name (the promoted replica) and hands it to its job.
    const lookups = promoted.calls.filter((c) => c.token === 'aws:secretsmanager/getSecret:getSecret');
    assert.deepEqual(lookups.map((c) => [c.inputs.name, c.region]), [['botdr/db/master', 'us-west-2']]);
    const replicaArn = PRIMARY_OUTPUTS.dbSecretArn.replace(':us-east-1:', ':us-west-2:');
    assert.equal(promoted.outputs.dbSecretArn, replicaArn);
    assert.equal(promoted.one('aws:lambda/function:Function').plainInputs.environment.variables.DB_SECRET_ARN, replicaArn);
    // The cache auth secret is the primary's replica too (member of the global datastore): output, not declared.
    assert.equal(promoted.outputs.cacheAuthSecretArn, PRIMARY_OUTPUTS.cacheAuthSecretArn.replace(':us-east-1:', ':us-west-2:'));
  });

  it('keeps no replica relationship, runs the backup and restore-test schedules, and alarms as the active region', async () => {
    const promoted = await runStack('secondary', { [`${P}:database`]: { promoted: true } });
    const db = promoted.one('aws:rds/instance:Instance');
    assert.equal(db.inputs.replicateSourceDb, undefined);
    assert.equal(db.inputs.backupRetentionPeriod, 14);
    const schedules = promoted.byType('aws:scheduler/schedule:Schedule');
    assert.equal(schedules.length, 7);
    for (const s of schedules) assert.equal(s.inputs.state, 'ENABLED', s.inputs.name);
    assert.ok(!promoted.byType('aws:cloudwatch/metricAlarm:MetricAlarm').some((a) => a.inputs.metricName === 'ReplicaLag'), 'no replica-lag alarm on a standalone instance');
  });
});
