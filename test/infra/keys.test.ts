import { strict as assert } from 'node:assert';
import * as aws from '@pulumi/aws';
import { Keys } from '../../components/keys';
import { KEY_VIA_SERVICES, regionalKeyPolicy } from '../../lib/key-policy';
import { runProgram } from '../helpers/pulumi';
import { policyOf, runStack } from './stacks';

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

  it('rejects a deletion window outside 7–30 days', async () => {
    await assert.rejects(
      runProgram(() => {
        new Keys('k', { provider: new aws.Provider('p', { region: 'us-east-1' }), region: 'us-east-1', namePrefix: 'botdr', deletionWindowInDays: 3 });
      }),
      /deletionWindowInDays/,
    );
  });
});
