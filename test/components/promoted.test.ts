import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadStackFile } from '../helpers/pulumi';
import { P, PRIMARY_OUTPUTS, ROOT, runStack } from '../helpers/stacks';
import { telegramToken } from '../helpers/token-fakes';

const SECRET = 'aws:secretsmanager/secret:Secret';

describe('survivor config after a failover (secondary with database.promoted = true)', () => {
  it('secondary promoted after a failover: program declares no resource that collides with the promoted secrets', async () => {
    const primary = await runStack('primary');
    // Without bots (the adoption of the bot-token secrets, with bots declared, is the next describe's subject).
    const promoted = await runStack('secondary', { [`${P}:database`]: { promoted: true }, [`${P}:bots`]: undefined });
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
    assert.equal(promoted.one('aws:lambda/function:Function', /backup-jobs-function$/).plainInputs.environment.variables.DB_SECRET_ARN, replicaArn);
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

describe('the survivor posture (database.promotedMultiAz)', () => {
  it('the replica stays single-AZ as its stack file says; promoted it is Multi-AZ unless promotedMultiAz is false', async () => {
    const replica = await runStack('secondary');
    assert.equal(replica.one('aws:rds/instance:Instance').inputs.multiAz, false);
    const fileDb = loadStackFile(path.join(ROOT, 'Pulumi.secondary.yaml')).config[`${P}:database`] as Record<string, unknown>;
    assert.equal(fileDb.multiAz, false);
    const promoted = await runStack('secondary', { [`${P}:database`]: { ...fileDb, promoted: true } });
    assert.equal(promoted.one('aws:rds/instance:Instance').inputs.multiAz, true);
    const kept = await runStack('secondary', { [`${P}:database`]: { ...fileDb, promoted: true, promotedMultiAz: false } });
    assert.equal(kept.one('aws:rds/instance:Instance').inputs.multiAz, false);
  });
});

describe('bot-token ownership across failover and failback', () => {
  const TOKEN_VALUES = [telegramToken('promoted-community-a'), telegramToken('promoted-community-b'), telegramToken('promoted-moderation')];
  // The bot list (both stacks) and, on the stack that creates the secrets, their seed tokens.
  const BOTS = { [`${P}:bots`]: ['community', 'moderation'], [`${P}:botTokens`]: undefined };
  const TOKENS = { [`${P}:botTokens`]: { community: TOKEN_VALUES.slice(0, 2), moderation: [TOKEN_VALUES[2]] } };
  // What Secrets Manager shows for a promoted replica in us-west-2: the creator's description and tags, the
  // primary stack's replica key in that region.
  const REPLICA_KEY = 'arn:aws:kms:us-west-2:123456789012:key/primary-owned-replicas';
  const existingSecret = (inputs: { name: string }, region: string) => ({
    id: `arn:aws:secretsmanager:${region}:123456789012:secret:${inputs.name}-Zx98Yv`,
    arn: `arn:aws:secretsmanager:${region}:123456789012:secret:${inputs.name}-Zx98Yv`,
    name: inputs.name,
    description: `Telegram/Discord tokens of bot ${inputs.name.split('/').pop()}: {"active": <index>, "tokens": [...]}`,
    kmsKeyId: REPLICA_KEY,
    tags: { project: 'bot-platform-dr', 'dr:region': 'us-east-1', 'dr:stack': 'primary', 'bot-dr:bot': inputs.name.split('/').pop() },
    policy: '',
    region,
    type: '',
    createdDate: '',
    lastChangedDate: '',
  });

  for (const withTokens of [false, true]) {
    it(`promoted secondary with bots${withTokens ? ' (and seed tokens in its config)' : ''}: adopts each promoted secret with import (id = its name) + retainOnDelete, inputs read from the existing secret in its region, writes no value; no token value in outputs`, async () => {
      const run = await runStack('secondary', { [`${P}:database`]: { promoted: true }, ...BOTS, ...(withTokens ? TOKENS : {}) }, { calls: { 'aws:secretsmanager/getSecret:getSecret': existingSecret } });
      const secrets = run.byType(SECRET).filter((s) => /bot-tokens/.test(s.inputs.name));
      assert.deepEqual(secrets.map((s) => s.inputs.name).sort(), ['botdr/bot-tokens/community', 'botdr/bot-tokens/moderation']);
      for (const s of secrets) {
        const reg = run.regs.find((r) => r.type === SECRET && r.name === s.name)!;
        assert.equal(reg.importId, s.inputs.name, `${s.name} is adopted by its deterministic name`);
        assert.equal(reg.retainOnDelete, true, `${s.name} survives this stack giving it up`);
        assert.equal(s.region, 'us-west-2');
        assert.deepEqual(s.inputs.replicas, [], 'a promoted replica is standalone: declaring a replica would fail the import');
        const found = existingSecret({ name: s.inputs.name }, 'us-west-2');
        assert.equal(s.inputs.kmsKeyId, found.kmsKeyId);
        assert.equal(s.inputs.description, found.description);
        assert.deepEqual(s.inputs.tags, found.tags);
      }
      const lookups = run.calls.filter((c) => c.token === 'aws:secretsmanager/getSecret:getSecret' && /bot-tokens/.test(c.inputs.name));
      assert.deepEqual(lookups.map((c) => [c.inputs.name, c.region]).sort(), [['botdr/bot-tokens/community', 'us-west-2'], ['botdr/bot-tokens/moderation', 'us-west-2']]);
      // Issue 10: the adopted secret's value is the token engine's (switches, pins, history): the adopting stack declares
      // no SecretVersion, so neither the adoption nor any later `pulumi up` writes over it (and it needs no token value).
      assert.deepEqual(run.byType('aws:secretsmanager/secretVersion:SecretVersion').filter((x) => /bot-tokens/.test(x.name)), []);
      assert.deepEqual(Object.keys(run.outputs.botTokenSecretArns).sort(), ['community', 'moderation']);
      for (const arn of Object.values(run.outputs.botTokenSecretArns) as string[]) assert.match(arn, /^arn:aws:secretsmanager:us-west-2:/);
      const out = JSON.stringify(run.outputs);
      for (const t of [...TOKEN_VALUES, ...run.secretValues]) assert.ok(!out.includes(t), 'no token value in the outputs');
    });
  }

  it('non-promoted secondary: its bot list is fine (it declares no secret), bot tokens are rejected naming the key, before any resource', async () => {
    // Issue 10: the bot list may be declared on both stacks; only botTokens is refused on a non-promoted secondary.
    const run = await runStack('secondary', BOTS);
    assert.equal(run.byType('bot-dr:secrets:BotTokens').length, 0);
    assert.deepEqual(run.outputs.botTokenSecretArns, {});
    await assert.rejects(runStack('secondary', { ...BOTS, ...TOKENS }), (e: Error) => e.message.includes(`${P}:botTokens: must not be set on a secondary that is not promoted`));
  });

  it('primary creates (no import) and retains its bot-token secrets; a scratch drill does not retain its copies', async () => {
    const primary = await runStack('primary');
    const tokenSecrets = primary.regs.filter((r) => r.type === SECRET && /bot-tokens/.test(r.name));
    assert.equal(tokenSecrets.length, 2);
    for (const r of tokenSecrets) {
      assert.equal(r.importId, undefined);
      assert.equal(r.retainOnDelete, true);
    }
    for (const s of primary.byType(SECRET).filter((x) => /bot-tokens/.test(x.inputs.name))) assert.equal(s.inputs.replicas.length, 1);
    const scratch = await runStack('scratch');
    for (const r of scratch.regs.filter((x) => x.type === SECRET && /bot-tokens/.test(x.name))) assert.equal(r.retainOnDelete, false);
  });
});
