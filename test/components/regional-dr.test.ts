import { strict as assert } from 'node:assert';
import { secretReplicaArn } from '../../components/regional-dr';
import { serializeDeep } from '../helpers/pulumi';
import { P, PRIMARY_OUTPUTS, runStack } from '../helpers/stacks';

const SCHEDULE = 'aws:scheduler/schedule:Schedule';

describe('RegionalDr composition', () => {
  it('secretReplicaArn (pure) swaps only the region', () => {
    assert.equal(secretReplicaArn('arn:aws:secretsmanager:us-east-1:123456789012:secret:a/b-XyZ123', 'us-west-2'), 'arn:aws:secretsmanager:us-west-2:123456789012:secret:a/b-XyZ123');
    assert.throws(() => secretReplicaArn('arn:aws:s3:::bucket', 'us-west-2'), /Secrets Manager/);
  });

  it('one provider per region; every resource is created inside the RegionalDr tree', async () => {
    const run = await runStack('primary');
    assert.deepEqual(run.byType('pulumi:providers:aws').map((p) => p.inputs.region).sort(), ['us-east-1', 'us-west-2']);
    const root = run.one('bot-dr:index:RegionalDr');
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    for (const r of run.resources) {
      let cur = r;
      while (cur.parentUrn && cur !== root) {
        const parent = byUrn.get(cur.parentUrn);
        if (!parent) break;
        cur = parent;
      }
      assert.equal(cur, root, `${r.type} ${r.name} is not parented under RegionalDr`);
    }
    // Resources in the peer region are only the replica key and its alias.
    const peerSide = run.resources.filter((r) => r.custom && r.region === 'us-west-2' && !r.type.startsWith('pulumi:'));
    assert.deepEqual(peerSide.map((r) => r.type).sort(), ['aws:kms/alias:Alias', 'aws:kms/key:Key']);
  });

  it('backup schedules are enabled only on the primary (and a promoted secondary), absent on scratch', async () => {
    const primary = await runStack('primary');
    const secondary = await runStack('secondary');
    const promoted = await runStack('secondary', { [`${P}:database`]: { promoted: true } });
    const scratch = await runStack('scratch');
    const states = (r: typeof primary) => [...new Set(r.byType(SCHEDULE).map((s) => s.inputs.state))];
    assert.ok(primary.byType(SCHEDULE).length >= 3);
    assert.deepEqual(states(primary), ['ENABLED']);
    assert.deepEqual(states(secondary), ['DISABLED']);
    assert.deepEqual(states(promoted), ['ENABLED']);
    assert.equal(scratch.byType(SCHEDULE).length, 0);
    assert.equal(scratch.byType('bot-dr:backup:BackupJobs').length, 0);
  });

  it('wires the backup job to the bucket, the backup SG, the DB secret and the alerts topic', async () => {
    const run = await runStack('primary');
    const fn = run.one('aws:lambda/function:Function', /backup-jobs-function$/);
    const env = fn.plainInputs.environment.variables;
    assert.equal(env.DB_SECRET_ARN, run.outputs.dbSecretArn);
    assert.deepEqual(fn.inputs.vpcConfig.securityGroupIds, [run.outputs.backupSecurityGroupId]);
    assert.deepEqual(fn.inputs.vpcConfig.subnetIds, run.outputs.subnetIds);
    assert.ok(serializeDeep(fn.plainInputs).includes(run.outputs.bucketName));
    assert.ok(run.outputs.topicArn);
    assert.equal(run.outputs.backupFunctionName, fn.state.name);
    // The alerts alarm on the job (deferred output resolved to the real name).
    const alarms = run.byType('aws:cloudwatch/metricAlarm:MetricAlarm');
    assert.ok(alarms.some((a) => serializeDeep(a.inputs.dimensions ?? {}).includes(fn.state.name)), 'a Lambda errors alarm names the function');
  });

  it('secondary: replica-lag alarm on its replica; health-check alarm via a us-east-1 provider; job reads the replica of the source credentials in its own region', async () => {
    const run = await runStack('secondary');
    const alarms = run.byType('aws:cloudwatch/metricAlarm:MetricAlarm');
    const lag = alarms.find((a) => a.inputs.metricName === 'ReplicaLag');
    assert.ok(lag, 'replica lag alarm');
    assert.equal(lag.inputs.threshold, 900);
    assert.ok(alarms.some((a) => a.region === 'us-east-1' && a.inputs.namespace === 'AWS/Route53'), 'health-check alarm in us-east-1');
    assert.equal(run.one('aws:lambda/function:Function', /backup-jobs-function$/).plainInputs.environment.variables.DB_SECRET_ARN, PRIMARY_OUTPUTS.dbSecretArn.replace('us-east-1', 'us-west-2'));
  });

  it('bot tokens are replicated to the peer region under the peer-region key', async () => {
    const run = await runStack('primary');
    const peerKey = run.byType('aws:kms/key:Key').find((k) => k.region === 'us-west-2')!;
    const botSecrets = run.byType('aws:secretsmanager/secret:Secret').filter((s) => /bot-tokens/.test(s.inputs.name));
    assert.equal(botSecrets.length, 2);
    for (const s of botSecrets) assert.deepEqual(s.inputs.replicas, [{ region: 'us-west-2', kmsKeyId: peerKey.state.arn }]);
  });

  it('secondary declares no bot-token secrets (it holds the primary\'s replicas) and owns none in its outputs', async () => {
    const run = await runStack('secondary');
    assert.equal(run.byType('bot-dr:secrets:BotTokens').length, 0);
    const names = run.byType('aws:secretsmanager/secret:Secret').map((s) => String(s.inputs.name));
    assert.deepEqual(names.filter((n) => n.includes('/bot-tokens/')), [], 'a secondary secret would collide with the primary\'s replica of that name');
    assert.deepEqual(run.outputs.botTokenSecretArns, {});
  });

  it('no two resources of the primary and the secondary claim the same physical name in the same region', async () => {
    const primary = await runStack('primary');
    const secondary = await runStack('secondary');
    const claims = (r: typeof primary) =>
      r.resources
        .filter((x) => x.custom && !x.type.startsWith('pulumi:'))
        .flatMap((x) => {
          const out: string[] = [];
          for (const k of ['name', 'identifier', 'replicationGroupId', 'bucket']) {
            if (typeof x.inputs[k] === 'string' && x.type !== 'aws:route53/record:Record') out.push(`${x.region} ${x.type} ${x.inputs[k]}`);
          }
          for (const rep of (x.inputs.replicas ?? []) as { region: string }[]) out.push(`${rep.region} ${x.type} ${x.inputs.name}`);
          return out;
        });
    const p = new Set(claims(primary));
    assert.deepEqual(claims(secondary).filter((c) => p.has(c)), []);
  });

  it('primary with replicateToPeer false needs no peer stack and declares no bucket replication', async () => {
    const run = await runStack('primary', { [`${P}:peerStack`]: undefined, [`${P}:backup`]: { replicateToPeer: false }, [`${P}:cache`]: { nodeType: 'cache.r7g.large', globalDatastore: true } });
    assert.equal(run.byType('aws:s3/bucketReplicationConfig:BucketReplicationConfig').length, 0);
    assert.equal(run.byType('pulumi:pulumi:StackReference').length, 0);
    assert.equal(run.byType('aws:elasticache/globalReplicationGroup:GlobalReplicationGroup').length, 1, 'the global datastore does not need the peer');
  });

  it('backup retention and object lock from config reach the bucket lifecycle, the bucket and the job', async () => {
    const run = await runStack('primary', {
      [`${P}:backup`]: { postgresql: { daily: 10, weekly: 35, monthly: 400 }, redis: { daily: 3 }, configDays: 120, objectLock: { mode: 'GOVERNANCE', days: 3 } },
    });
    const rules: any[] = run.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration', /-backups-lifecycle$/).inputs.rules;
    const days = (prefix: string) => rules.find((r) => r.filter.prefix === prefix)?.expiration.days;
    assert.equal(days('postgresql/daily/'), 10);
    assert.equal(days('postgresql/weekly/'), 35);
    assert.equal(days('postgresql/monthly/'), 400);
    assert.equal(days('redis/daily/'), 3);
    assert.equal(days('redis/weekly/'), 28, 'unset tiers keep the default');
    assert.equal(days('config/'), 120);
    assert.deepEqual(run.one('aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration').inputs.rule, { defaultRetention: { mode: 'GOVERNANCE', days: 3 } });
    assert.equal(run.one('aws:s3/bucket:Bucket', /-backups-bucket$/).inputs.objectLockEnabled, true);
    const env = run.one('aws:lambda/function:Function', /backup-jobs-function$/).plainInputs.environment.variables;
    assert.equal(env.RETAIN_POSTGRESQL_DAILY, '10');
    assert.equal(env.RETAIN_POSTGRESQL_WEEKLY, '5');
    assert.equal(env.RETAIN_REDIS_DAILY, '3');
  });

  it('secondary replicates its bucket back to the primary (ready for failback)', async () => {
    const run = await runStack('secondary');
    const repl = run.one('aws:s3/bucketReplicationConfig:BucketReplicationConfig');
    const s = serializeDeep(repl.inputs);
    assert.ok(s.includes(PRIMARY_OUTPUTS.bucketArn));
    assert.ok(s.includes(PRIMARY_OUTPUTS.kmsKeyArn));
  });
});
