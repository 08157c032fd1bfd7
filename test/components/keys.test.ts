import { strict as assert } from 'node:assert';
import * as aws from '@pulumi/aws';
import { Keys } from '../../components/keys';
import { KEY_VIA_SERVICES, regionalKeyPolicy } from '../../lib/key-policy';
import { runProgram } from '../helpers/pulumi';
import { policyOf, runStack } from '../helpers/stacks';

describe('Keys', () => {
  it('key policy (pure): root administers, services via this account+region, logs with encryption context', () => {
    const doc = regionalKeyPolicy({ accountId: '123456789012', region: 'eu-west-1' });
    const sid = (s: string) => doc.Statement.find((x) => x.Sid === s)!;
    assert.deepEqual(sid('AccountRootAdministers').Principal, { AWS: 'arn:aws:iam::123456789012:root' });
    const via = sid('ServicesUseViaThisAccount').Condition!.StringEquals['kms:ViaService'];
    for (const svc of ['rds', 's3', 'secretsmanager', 'elasticache', 'sns']) assert.ok((via as string[]).includes(`${svc}.eu-west-1.amazonaws.com`), svc);
    assert.equal(sid('ServicesUseViaThisAccount').Condition!.StringEquals['kms:CallerAccount'], '123456789012');
    assert.equal(sid('ServicesCreateGrantsForAwsResources').Condition!.Bool['kms:GrantIsForAWSResource'], 'true');
    const logs = sid('CloudWatchLogsOfThisAccountAndRegion');
    assert.deepEqual(logs.Principal, { Service: 'logs.eu-west-1.amazonaws.com' });
    assert.equal(logs.Condition!.ArnLike['kms:EncryptionContext:aws:logs:arn'], 'arn:aws:logs:eu-west-1:123456789012:*');
    assert.ok(!doc.Statement.some((s) => s.Principal.AWS === '*' && !s.Condition), 'no unconditioned wildcard principal');
    assert.ok(KEY_VIA_SERVICES.length >= 5);
    assert.throws(() => regionalKeyPolicy({ accountId: 'x', region: 'us-east-1' }), /12 digits/);
  });

  it('creates a rotating key with that policy and an alias, in the provider region', async () => {
    const run = await runProgram(() => {
      const provider = new aws.Provider('p', { region: 'eu-west-1' });
      const k = new Keys('k', { provider, region: 'eu-west-1', namePrefix: 'botdr' });
      return { arn: k.keyArn };
    });
    const key = run.one('aws:kms/key:Key');
    assert.equal(key.inputs.enableKeyRotation, true);
    assert.equal(key.region, 'eu-west-1');
    assert.equal(key.inputs.deletionWindowInDays, 30);
    assert.deepEqual(policyOf(key.inputs.policy), JSON.parse(JSON.stringify(regionalKeyPolicy({ accountId: '123456789012', region: 'eu-west-1' }))));
    const alias = run.one('aws:kms/alias:Alias');
    assert.equal(alias.inputs.name, 'alias/botdr-euw1');
    assert.equal(alias.inputs.targetKeyId, key.state.keyId);
    assert.equal(key.parentUrn, run.one('bot-dr:keys:Keys').urn);
    assert.match(run.outputs.arn, /^arn:aws:kms:eu-west-1:/);
  });

  it('with a peer, also creates a replica key in the peer region (its policy names the peer region)', async () => {
    const run = await runStack('primary');
    const keys = run.byType('aws:kms/key:Key');
    assert.deepEqual(keys.map((k) => k.region).sort(), ['us-east-1', 'us-west-2']);
    for (const k of keys) {
      assert.equal(k.inputs.enableKeyRotation, true);
      const logs = policyOf(k.inputs.policy).Statement.find((s: any) => s.Sid === 'CloudWatchLogsOfThisAccountAndRegion');
      assert.equal(logs.Principal.Service, `logs.${k.region}.amazonaws.com`);
    }
  });

  it('the region key encrypts RDS, S3, Secrets Manager, ElastiCache, SNS and logs (and nothing uses another key)', async () => {
    const run = await runStack('primary');
    const own = run.byType('aws:kms/key:Key').find((k) => k.region === 'us-east-1' && !k.name.endsWith('-replicas'))!;
    const peer = run.byType('aws:kms/key:Key').find((k) => k.region === 'us-west-2')!;
    const uses: { type: string; value: unknown }[] = [];
    for (const r of run.resources.filter((x) => x.custom && x.region === 'us-east-1')) {
      const i = r.plainInputs;
      for (const k of ['kmsKeyId', 'kmsMasterKeyId', 'kmsKeyArn', 'masterUserSecretKmsKeyId', 'performanceInsightsKmsKeyId']) {
        if (i[k] !== undefined) uses.push({ type: r.type, value: i[k] });
      }
      for (const e of i.encryptionConfigurations ?? []) uses.push({ type: r.type, value: e.kmsKey });
      for (const rule of r.type.includes('ServerSideEncryption') ? i.rules : []) {
        // The audit log bucket is SSE-S3 by design: S3 server access logging supports no default SSE-KMS on its target.
        if (r.name === 'bot-dr-backup-audit-logs-encryption' && rule.applyServerSideEncryptionByDefault.sseAlgorithm === 'AES256') continue;
        uses.push({ type: r.type, value: rule.applyServerSideEncryptionByDefault.kmsMasterKeyId });
      }
    }
    for (const u of uses) assert.equal(u.value, own.state.arn, `${u.type} uses ${String(u.value)}`);
    const types = new Set(uses.map((u) => u.type));
    for (const t of [
      'aws:rds/instance:Instance',
      'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
      'aws:secretsmanager/secret:Secret',
      'aws:elasticache/replicationGroup:ReplicationGroup',
      'aws:sns/topic:Topic',
      'aws:cloudwatch/logGroup:LogGroup',
    ]) {
      assert.ok(types.has(t), `${t} is encrypted with the region key`);
    }
    // Replicas placed in the peer region use the peer-region key, never this region's.
    const replicaKeys = run.byType('aws:secretsmanager/secret:Secret').flatMap((x) => (x.plainInputs.replicas ?? []).map((rep: any) => rep.kmsKeyId));
    assert.ok(replicaKeys.length >= 2);
    for (const k of replicaKeys) assert.equal(k, peer.state.arn);
  });

  it('rejects a deletion window outside 7–30 days', async () => {
    await assert.rejects(
      runProgram(() => {
        new Keys('k', { provider: new aws.Provider('p', { region: 'us-east-1' }), region: 'us-east-1', namePrefix: 'botdr', deletionWindowInDays: 3 });
      }),
      /deletionWindowInDays/,
    );
  });
});
