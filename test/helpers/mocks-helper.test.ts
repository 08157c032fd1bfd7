import { strict as assert } from 'node:assert';
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { runProgram, runProgramExpectingError, serializeDeep } from './pulumi';

class Holder extends pulumi.ComponentResource {
  readonly keyArn: pulumi.Output<string>;
  constructor(name: string, provider: aws.Provider) {
    super('bot-dr:test:Holder', name, {}, { provider });
    const key = new aws.kms.Key(`${name}-key`, { enableKeyRotation: true }, { parent: this });
    this.keyArn = key.arn;
    this.registerOutputs({ keyArn: key.arn });
  }
}

describe('test helper: runProgram (pulumi mocks)', () => {
  it('records resources with inputs, provider region, parent URN, and resolves outputs', async () => {
    const run = await runProgram(
      () => {
        const cfg = new pulumi.Config();
        const west = new aws.Provider('west', { region: 'us-west-2' });
        const h = new Holder('h', west);
        const region = aws.getRegionOutput({}, { provider: west });
        const peer = new pulumi.StackReference('acme/bot-platform-dr/primary');
        return { keyArn: h.keyArn, region: region.region, peerDb: peer.getOutput('dbArn'), role: cfg.require('role'), token: cfg.requireSecret('token') };
      },
      {
        config: { 'bot-platform-dr:role': 'secondary', 'bot-platform-dr:token': 's3cr3t', 'aws:region': 'us-east-1' },
        secretKeys: ['bot-platform-dr:token'],
        stackRefs: { 'acme/bot-platform-dr/primary': { dbArn: 'arn:aws:rds:us-east-1:123456789012:db:x' } },
      },
    );
    const key = run.one('aws:kms/key:Key');
    assert.equal(key.inputs.enableKeyRotation, true);
    assert.equal(key.region, 'us-west-2');
    const holder = run.one('bot-dr:test:Holder');
    assert.equal(key.parentUrn, holder.urn);
    assert.deepEqual(run.children(holder).map((r) => r.name), ['h-key']);
    assert.match(run.outputs.keyArn, /^arn:aws:kms:us-west-2:123456789012:key\//);
    assert.equal(run.outputs.region, 'us-west-2');
    assert.equal(run.outputs.peerDb, 'arn:aws:rds:us-east-1:123456789012:db:x');
    assert.equal(run.outputs.role, 'secondary');
    assert.deepEqual(run.secretOutputs, ['token']);
    assert.ok(serializeDeep(run.outputs).includes('s3cr3t'));
  });

  it('isolates runs: a second run sees only its own resources and config', async () => {
    const run = await runProgram(() => {
      new aws.sns.Topic('t', {});
      return { role: new pulumi.Config().get('role') ?? 'none' };
    });
    assert.deepEqual(run.resources.map((r) => r.type), ['aws:sns/topic:Topic']);
    assert.equal(run.outputs.role, 'none');
  });

  it('runProgramExpectingError returns the error and what was declared', async () => {
    const { error, resources } = await runProgramExpectingError(() => {
      throw new Error('bad config');
    });
    assert.match(error.message, /bad config/);
    assert.equal(resources.length, 0);
  });

  it('fails loudly for an unmocked StackReference', async () => {
    const { error } = await runProgramExpectingError(() => {
      const ref = new pulumi.StackReference('acme/other/x');
      return { db: ref.getOutput('dbArn') };
    });
    assert.match(error.message, /no outputs given for StackReference acme\/other\/x/);
  });
});
