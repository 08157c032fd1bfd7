import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { BOT_TOKEN_SEED_STAGE, BotTokens, BotTokensArgs, botTokenSecretString } from '../../components/bot-tokens';
import { ProgramRun, runProgram, runProgramExpectingError, serializeDeep } from '../helpers/pulumi';
import { Registration, captureRegistrations, registration, unwrapSecret } from '../helpers/registrations';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/k-use1';
const PEER_KEY = 'arn:aws:kms:us-west-2:123456789012:key/k-usw2';
const TOKENS = {
  chessbot: ['111111:AAH-chessbot-token-one', '222222:AAH-chessbot-token-two'],
  modbot: ['333333:AAH-modbot-only-token'],
};
const ALL_TOKENS = Object.values(TOKENS).flat();

function build(extra: Partial<BotTokensArgs> = {}) {
  return () => {
    const cfg = new pulumi.Config('bot-platform-dr');
    const provider = new aws.Provider('use1', { region: 'us-east-1' });
    const t = new BotTokens('acme-tokens', {
      provider,
      kmsKeyArn: KEY,
      peerRegion: 'us-west-2',
      peerKmsKeyArn: PEER_KEY,
      namePrefix: 'acme',
      bots: [
        { name: 'chessbot', tokens: cfg.requireSecretObject<string[]>('chessbotTokens') },
        { name: 'modbot', platform: 'discord', tokens: pulumi.secret(TOKENS.modbot) },
      ],
      ...extra,
    });
    return { secretArns: t.secretArns, secretNames: t.secretNames };
  };
}
const options = {
  config: { 'bot-platform-dr:chessbotTokens': TOKENS.chessbot },
  secretKeys: ['bot-platform-dr:chessbotTokens'],
};

describe('components/BotTokens', () => {
  let run: ProgramRun;
  let regs: Registration[] = [];
  before(async () => {
    run = await runProgram(() => {
      regs = captureRegistrations();
      return build()();
    }, options);
  });

  it('creates one secret per bot, KMS-encrypted with the region key, with a recovery window', () => {
    const secrets = run.byType('aws:secretsmanager/secret:Secret');
    assert.deepEqual(secrets.map((s) => s.inputs.name).sort(), ['acme/bot-tokens/chessbot', 'acme/bot-tokens/modbot']);
    for (const s of secrets) {
      assert.equal(s.inputs.kmsKeyId, KEY);
      assert.equal(s.inputs.recoveryWindowInDays, 30);
      assert.equal(s.region, 'us-east-1');
    }
  });

  it('replicates each secret to the peer region under the peer key', () => {
    for (const s of run.byType('aws:secretsmanager/secret:Secret')) assert.deepEqual(s.inputs.replicas, [{ region: 'us-west-2', kmsKeyId: PEER_KEY }]);
  });

  it('stores {"active": 0, "tokens": [...], "platform"} as a secret value', () => {
    // Issue 10: the value gains the bot's platform (default telegram), which the token engine probes by.
    const v = run.one('aws:secretsmanager/secretVersion:SecretVersion', /chessbot/);
    assert.deepEqual(JSON.parse(unwrapSecret(v.inputs.secretString) as string), { active: 0, tokens: TOKENS.chessbot, platform: 'telegram' });
    assert.deepEqual(JSON.parse(unwrapSecret(run.one('aws:secretsmanager/secretVersion:SecretVersion', /modbot/).inputs.secretString) as string), { active: 0, tokens: TOKENS.modbot, platform: 'discord' });
    assert.deepEqual(registration(regs, 'acme-tokens-chessbot-value').secretInputKeys, ['secretString']);
    assert.deepEqual(registration(regs, 'acme-tokens-modbot-value').secretInputKeys, ['secretString']);
  });

  it('seeds active_region with the creating region when told (one consumer per token: the peer waits)', async () => {
    const r = await runProgram(build({ activeRegion: 'us-east-1' }), options);
    const v = r.one('aws:secretsmanager/secretVersion:SecretVersion', /chessbot/);
    assert.deepEqual(JSON.parse(unwrapSecret(v.inputs.secretString) as string), { active: 0, tokens: TOKENS.chessbot, platform: 'telegram', active_region: 'us-east-1' });
  });

  it('after creation the value is the token engine\'s: a later `pulumi up` never writes it again (ignoreChanges), and the seed version keeps its own label', () => {
    for (const bot of ['chessbot', 'modbot']) {
      const reg = registration(regs, `acme-tokens-${bot}-value`);
      // Pulumi keeps the last-applied secretString and versionStages: changed seed tokens, the new `platform` field or
      // a refresh that sees the engine's newer AWSCURRENT produce no diff, so no update writes or moves anything.
      assert.deepEqual([...reg.ignoreChanges].sort(), ['secretString', 'versionStages']);
      assert.equal(reg.retainOnDelete, true);
      // The first version of a secret gets AWSCURRENT from Secrets Manager; the label keeps it from being deleted as
      // deprecated once the engine has moved AWSCURRENT on, and a rewrite (e.g. after state loss) never becomes current.
      assert.deepEqual(run.one('aws:secretsmanager/secretVersion:SecretVersion', new RegExp(bot)).inputs.versionStages, [BOT_TOKEN_SEED_STAGE]);
    }
  });

  it('a change of the seed tokens in config is not a change of what is written (the ignored input keeps its applied value)', async () => {
    let r: Registration[] = [];
    const changed = await runProgram(() => {
      r = captureRegistrations();
      return build({ bots: [{ name: 'chessbot', tokens: ['999999:AAH-a-new-seed-token'] }] })();
    }, options);
    // The program now asks for another value, but the option set is the same: the engine diffs with it ignored.
    assert.match(unwrapSecret(changed.one('aws:secretsmanager/secretVersion:SecretVersion').inputs.secretString) as string, /a-new-seed-token/);
    assert.deepEqual([...registration(r, 'acme-tokens-chessbot-value').ignoreChanges].sort(), ['secretString', 'versionStages']);
  });

  it('adopting (a promoted secondary) declares no value at all and needs no token', async () => {
    const r = await runProgram(
      build({ adopt: true, peerRegion: undefined, peerKmsKeyArn: undefined, bots: [{ name: 'chessbot' }, { name: 'modbot', platform: 'discord' }] }),
      { ...options, calls: { 'aws:secretsmanager/getSecret:getSecret': (i: { name: string }) => ({ id: i.name, name: i.name, arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${i.name}-AbCdEf`, description: 'd', kmsKeyId: KEY, tags: {} }) } },
    );
    assert.equal(r.byType('aws:secretsmanager/secret:Secret').length, 2);
    assert.equal(r.byType('aws:secretsmanager/secretVersion:SecretVersion').length, 0);
  });

  it('marks the value secret even when the tokens were passed in plain', async () => {
    let r: Registration[] = [];
    await runProgram(() => {
      r = captureRegistrations();
      const provider = new aws.Provider('use1', { region: 'us-east-1' });
      new BotTokens('plain', { provider, kmsKeyArn: KEY, namePrefix: 'acme', bots: [{ name: 'b', tokens: ['plain-token-123'] }] });
    });
    assert.deepEqual(registration(r, 'plain-b-value').secretInputKeys, ['secretString']);
  });

  it('never carries a token in an output or a non-secret input', () => {
    const text = serializeDeep(run.outputs);
    for (const res of run.resources) {
      const inputs = { ...res.inputs };
      if (res.type === 'aws:secretsmanager/secretVersion:SecretVersion') delete inputs.secretString;
      const leaked = ALL_TOKENS.filter((t) => serializeDeep(inputs).includes(t) || serializeDeep(res.name).includes(t));
      assert.deepEqual(leaked, [], `${res.type} ${res.name}`);
    }
    for (const t of ALL_TOKENS) assert.ok(!text.includes(t), 'outputs leak a token');
    assert.ok(!text.includes('AAH-'), 'outputs leak token material');
  });

  it('outputs ARNs and names per bot only', () => {
    assert.deepEqual(Object.keys(run.outputs.secretArns).sort(), ['chessbot', 'modbot']);
    for (const arn of Object.values(run.outputs.secretArns)) assert.match(String(arn), /^arn:aws:secretsmanager:us-east-1:/);
    assert.deepEqual(run.outputs.secretNames, { chessbot: 'acme/bot-tokens/chessbot', modbot: 'acme/bot-tokens/modbot' });
  });

  it('does not replicate without a peer', async () => {
    const r = await runProgram(build({ peerRegion: undefined, peerKmsKeyArn: undefined }), options);
    for (const s of r.byType('aws:secretsmanager/secret:Secret')) assert.deepEqual(s.inputs.replicas, []);
  });

  describe('validation', () => {
    for (const [what, extra, re] of [
      ['a bot with no token', { bots: [{ name: 'empty', tokens: [] }] }, /bots\.empty\.tokens/],
      ['duplicate bots', { bots: [{ name: 'a', tokens: ['x1'] }, { name: 'a', tokens: ['x2'] }] }, /bots\[1\]\.name: duplicate/],
      ['a bad bot name', { bots: [{ name: 'has space', tokens: ['x'] }] }, /bots\[0\]\.name/],
      ['no bots', { bots: [] }, /bots: at least one/],
      ['a created secret without seed tokens', { bots: [{ name: 'seedless' }] }, /bots\.seedless\.tokens: at least one token is required \(a created secret/],
      ['an unknown platform', { bots: [{ name: 'b', platform: 'irc', tokens: ['x'] }] }, /bots\.b\.platform: must be telegram \| discord/],
      ['a recovery window of 3', { recoveryWindowInDays: 3 }, /recoveryWindowInDays/],
      ['a peer region without a peer key', { peerKmsKeyArn: undefined }, /peerRegion\/peerKmsKeyArn/],
      ['adopting with a replica (an adopted secret is standalone)', { adopt: true }, /adopt: an adopted secret is standalone/],
    ] as const) {
      it(`refuses ${what} before declaring anything`, async () => {
        const { error, resources } = await runProgramExpectingError(build(extra as any), options);
        assert.match(error.message, re);
        assert.equal(resources.filter((r) => r.type.startsWith('aws:secretsmanager')).length, 0);
      });
    }
    it('refuses an empty token list that only resolves at deploy time', () => {
      assert.throws(() => botTokenSecretString('late', []), /bots\.late\.tokens/);
      assert.throws(() => botTokenSecretString('late', ['ok', ' ']), /bots\.late\.tokens\[1\]/);
    });
  });
});
