/**
 * The failover's BotsPort on AWS (automation/adapters/aws/bot-probe.ts): each bot's record read in the survivor region
 * from Secrets Manager (aws-sdk-client-mock, the exact commands) and its active token probed against the fake Telegram
 * and Discord servers over real HTTP on 127.0.0.1. Read-only, never a token in the result.
 */
import assert from 'node:assert/strict';
import { FakeDiscord } from '../../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import { AwsActiveTokenProbe, awsFailoverPorts, buildAwsTopology } from '../../../automation/adapters/aws';
import { A, B, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS } from '../../helpers/aws-world';
import { discordToken, telegramToken } from '../../helpers/token-fakes';
import { TokenSecrets } from '../../helpers/token-secrets';

const TG = [telegramToken('probe-tg-0'), telegramToken('probe-tg-1')];
const DC = [discordToken('probe-dc-0'), discordToken('probe-dc-1')];
const ARN = PRIMARY_OUTPUTS.botTokenSecretArns;
const inB = (arn: string) => arn.replace(`:${A}:`, `:${B}:`);
const topology = () => buildAwsTopology({ primary: { name: 'acme/bot-platform-dr/primary', outputs: PRIMARY_OUTPUTS }, secondary: { name: 'acme/bot-platform-dr/secondary', outputs: SECONDARY_OUTPUTS } }).aws;

function commands(sm: TokenSecrets): Array<[string, Record<string, unknown>]> {
  return sm.mock.calls().map((c) => {
    const cmd = c.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
    return [cmd.constructor.name.replace(/Command$/, ''), cmd.input];
  });
}

describe('aws: the active-token probe after promote-secrets (Secrets Manager mocked, fake platforms over HTTP)', () => {
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let smA: TokenSecrets;
  let smB: TokenSecrets;
  before(async () => {
    tg = await new FakeTelegram().start();
    dc = await new FakeDiscord().start();
  });
  after(async () => {
    await tg.stop();
    await dc.stop();
  });
  beforeEach(() => {
    for (const t of TG) tg.addToken(t);
    for (const t of DC) dc.addToken(t);
    smA = new TokenSecrets(A);
    smB = new TokenSecrets(B);
    smB.create(inB(ARN.community), { active: 1, tokens: TG, platform: 'telegram' });
    smB.create(inB(ARN.moderation), { active: 0, tokens: DC, platform: 'discord' });
  });
  const probe = () =>
    new AwsActiveTokenProbe({ topology: topology(), secretsManager: (r) => (r === A ? smA.client : smB.client), apis: { telegram: tg.url, discord: dc.api }, retry: { attempts: 1 } });

  it('reads each bot in the survivor region (GetSecretValue AWSCURRENT by the ARN there) and probes only its active token', async () => {
    tg.revoke(TG[0]); // a standby token: not asked
    const found = await probe().probeActive(B);
    assert.deepEqual(found.map((b) => [b.bot, b.platform, b.active, b.state]), [['community', 'telegram', 1, 'healthy'], ['moderation', 'discord', 0, 'healthy']]);
    assert.ok(found.every((b) => typeof b.latency_ms === 'number'));
    assert.deepEqual(commands(smB).sort(), [
      ['GetSecretValue', { SecretId: inB(ARN.community), VersionStage: 'AWSCURRENT' }],
      ['GetSecretValue', { SecretId: inB(ARN.moderation), VersionStage: 'AWSCURRENT' }],
    ]);
    assert.deepEqual(commands(smA), [], 'the lost region is never asked');
    assert.equal(tg.callCount(TG[0]), 0);
    assert.equal(tg.callCount(TG[1], 'getMe'), 1);
    assert.equal(dc.callCount(DC[0], 'GET /users/@me'), 1);
    assert.equal(dc.callCount(DC[1]), 0);
  });

  it('a revoked active token and an unreadable secret are reported, never thrown, and carry no token', async () => {
    tg.revoke(TG[1]);
    smB = new TokenSecrets(B);
    smB.create(inB(ARN.community), { active: 1, tokens: TG, platform: 'telegram' }); // moderation's secret is missing here
    const found = await probe().probeActive(B);
    assert.deepEqual(found.map((b) => [b.bot, b.active, b.state]), [['community', 1, 'revoked'], ['moderation', -1, 'unreadable']]);
    assert.match(found[1].detail!, /reading its secret in us-west-2/);
    const text = JSON.stringify(found);
    for (const t of [...TG, ...DC]) assert.ok(!text.includes(t), 'no token in the result');
  });

  it('awsFailoverPorts wires it by default (real APIs unless told), can leave it out, and says unavailable without bots', () => {
    const base = { topology: topology(), survivor: B, journalDir: '/tmp/none', driver: { select: () => Promise.reject(new Error('unused')) } };
    assert.ok(awsFailoverPorts(base).bots instanceof AwsActiveTokenProbe);
    assert.equal(awsFailoverPorts({ ...base, bots: false }).bots, undefined);
    const noBots = buildAwsTopology({
      primary: { name: 'p', outputs: { ...PRIMARY_OUTPUTS, botTokenSecretArns: {} } },
      secondary: { name: 's', outputs: SECONDARY_OUTPUTS },
    }).aws;
    assert.match(new AwsActiveTokenProbe({ topology: noBots, secretsManager: () => smB.client }).unavailable ?? '', /no bot-token secrets/);
  });
});
