/**
 * The failover's BotsPort on AWS (automation/adapters/aws/bot-probe.ts): each bot's record read in the survivor region
 * from Secrets Manager (aws-sdk-client-mock, the exact commands) and its active token probed against the fake Telegram
 * and Discord servers over real HTTP on 127.0.0.1. Read-only, never a token in the result.
 */
import assert from 'node:assert/strict';
import { FakeDiscord } from '../../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../../automation/adapters/rehearsal/fake-telegram';
import { AwsActiveTokenProbe, awsFailoverPorts, buildAwsTopology } from '../../../automation/adapters/aws';
import { guardOldPrimary, runFailover } from '../../../automation/failover';
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

  describe('one consumer per token: active_region in each region\'s copy', () => {
    const setWebhook = async (token: string, url: string) => {
      const r = await fetch(`${tg.url}/bot${token}/setWebhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
      assert.equal(r.status, 200);
    };

    it('activeRegions reads the copy in the region asked (GetSecretValue AWSCURRENT there); a region down is unreachable, a missing secret unreadable', async () => {
      smA.create(ARN.community, { active: 0, tokens: TG, platform: 'telegram', active_region: A });
      smB.create(inB(ARN.community), { active: 1, tokens: TG, platform: 'telegram', active_region: B }, 'other-version-00000000000000000000');
      const copies = await probe().activeRegions(A);
      assert.deepEqual(copies.map((c) => [c.bot, c.state, c.active_region]), [['community', 'read', A], ['moderation', 'unreadable', undefined]]);
      assert.match(copies[1].detail!, new RegExp(`^reading its secret in ${A}: NotFoundError: .*not found`));
      assert.deepEqual(commands(smA).sort(), [
        ['GetSecretValue', { SecretId: ARN.community, VersionStage: 'AWSCURRENT' }],
        ['GetSecretValue', { SecretId: ARN.moderation, VersionStage: 'AWSCURRENT' }],
      ]);
      assert.deepEqual((await probe().activeRegions(B)).map((c) => [c.bot, c.state, c.active_region]), [['community', 'read', B], ['moderation', 'read', undefined]]);
      smA.down = true;
      const down = await probe().activeRegions(A);
      assert.deepEqual(down.map((c) => [c.bot, c.state]), [['community', 'unreachable'], ['moderation', 'unreachable']]);
      for (const t of [...TG, ...DC]) assert.ok(!JSON.stringify(down).includes(t));
    });

    it('setActiveRegion: the token store\'s compare-and-set in that region (GetSecretValue, DescribeSecret, PutSecretValue with the decision id, DescribeSecret); already set → no write', async () => {
      smA.create(ARN.community, { active: 2, tokens: [...TG, telegramToken('probe-tg-2')], platform: 'telegram', active_region: A, health: [{ index: 0, consecutive_failures: 3, consecutive_passes: 0 }] });
      await probe().setActiveRegion(A, 'community', B, { failover: 'fo-1' });
      const cmds = commands(smA);
      assert.deepEqual(cmds.map(([c]) => c), ['GetSecretValue', 'DescribeSecret', 'PutSecretValue', 'DescribeSecret']);
      assert.deepEqual(cmds[0][1], { SecretId: ARN.community, VersionStage: 'AWSCURRENT' });
      const put = cmds[2][1] as { SecretId: string; SecretString: string; ClientRequestToken: string; VersionStages?: string[] };
      assert.equal(put.SecretId, ARN.community);
      assert.match(put.ClientRequestToken, /^[0-9a-f]{40}$/);
      assert.equal(put.VersionStages, undefined, 'AWSCURRENT moves to the new version');
      assert.deepEqual(JSON.parse(put.SecretString), { ...smA.current(ARN.community), active_region: B });
      assert.deepEqual(smA.current(ARN.community).active, 2, 'only active_region changed');
      assert.equal(smA.current(ARN.community).active_region, B);
      assert.equal(smA.holder(ARN.community, 'AWSPREVIOUS'), 'initial-version-0000000000000000000');
      smA.mock.resetHistory();
      await probe().setActiveRegion(A, 'community', B, { failover: 'fo-1' });
      assert.deepEqual(commands(smA).map(([c]) => c), ['GetSecretValue'], 'checked, not written again');
      assert.equal(smA.versionCount(ARN.community), 2);
    });

    it('a read-only replica (replication not stopped) is refused; the error names the secret and no token', async () => {
      smB.replicaOf[inB(ARN.community)] = A;
      await assert.rejects(probe().setActiveRegion(B, 'community', B, { failover: 'fo-1' }), (err: Error) => {
        assert.match(err.message, /PutSecretValue .*Operation not permitted on a replica secret/);
        for (const t of TG) assert.ok(!err.message.includes(t));
        return true;
      });
    });

    it('serving: active_region, the active token probed, and where updates go (getWebhookInfo / applications/@me; never getUpdates)', async () => {
      smB.create(inB(ARN.community), { active: 1, tokens: TG, platform: 'telegram', active_region: B });
      smB.create(inB(ARN.moderation), { active: 0, tokens: DC, platform: 'discord', active_region: A });
      const s1 = await probe().serving(B);
      assert.deepEqual(s1.map((b) => [b.bot, b.active_region, b.state, b.target, b.webhook_target]), [['community', B, 'healthy', 'polling', 'polling'], ['moderation', A, 'healthy', 'gateway', 'gateway']]);
      assert.equal(s1[0].pending_updates, 0);
      await setWebhook(TG[1], 'https://bot.example.com/telegram/community?k=v');
      dc.setInteractionsEndpoint(DC[0], 'https://bot-use1.example.com/discord/moderation');
      const s2 = await probe().serving(B);
      assert.deepEqual(s2.map((b) => [b.bot, b.target, b.webhook_target]), [['community', 'shared', 'https://bot.example.com/telegram/community'], ['moderation', 'elsewhere', 'https://bot-use1.example.com/discord/moderation']]);
      const own = new AwsActiveTokenProbe({ topology: topology(), secretsManager: (r) => (r === A ? smA.client : smB.client), apis: { telegram: tg.url, discord: dc.api }, retry: { attempts: 1 }, regionHosts: { [B]: ['bot-usw2.example.com'] } });
      dc.setInteractionsEndpoint(DC[0], 'https://BOT-USW2.example.com./discord/moderation');
      assert.equal((await own.serving(B))[1].target, 'region');
      assert.equal(tg.callCount(TG[1], 'getUpdates'), 0, 'the checker never polls');
      tg.outage(true);
      const s3 = await probe().serving(B);
      assert.deepEqual([s3[0].state, s3[0].target], ['unreachable', 'unknown']);
      assert.match(s3[0].target_detail!, /Telegram Bot API \(getWebhookInfo\)/);
      tg.outage(false);
      await setWebhook(TG[1], '');
      dc.setInteractionsEndpoint(DC[0], null);
      const text = JSON.stringify([s1, s2, s3]);
      for (const t of [...TG, ...DC]) assert.ok(!text.includes(t), 'no token in what verify journals');
    });

    it('end to end over the AWS ports: the failover writes the survivor\'s copy, the guard the lost region\'s when it answers again', async () => {
      const seed = (sm: TokenSecrets, arn: (x: string) => string) => {
        sm.create(arn(ARN.community), { active: 0, tokens: TG, platform: 'telegram', active_region: A });
        sm.create(arn(ARN.moderation), { active: 0, tokens: DC, platform: 'discord', active_region: A });
      };
      seed(smA, (x) => x);
      seed(smB, inB);
      const bots = probe();
      const ports = { ...fakeEnginePorts(), bots };
      smA.down = true;
      const res = await runFailover({ ports, topology: { regions: [{ name: A, database: 'db-a' }, { name: B, database: 'db-b' }], dns: { records: [] } }, mode: 'unplanned', incident: 'datacenter', from: A, to: B, confirm: true, id: 'fo-aws-bots' });
      assert.equal(res.outcome, 'completed', JSON.stringify(res.steps));
      assert.deepEqual(res.pending_fences, [{ region: A, tiers: ['database', 'bots'] }]);
      assert.deepEqual([smB.current(inB(ARN.community)).active_region, smB.current(inB(ARN.moderation)).active_region], [B, B]);
      assert.equal((await guardOldPrimary(ports)).actions.find((a) => a.tier === 'bots')?.outcome, 'pending');
      smA.down = false;
      const g = await guardOldPrimary(ports);
      assert.equal(g.actions.find((a) => a.tier === 'bots')?.outcome, 'fenced');
      assert.deepEqual([smA.current(ARN.community).active_region, smA.current(ARN.moderation).active_region], [B, B], "us-east-1's workers now consume nothing");
    });
  });
});

/** Engine ports with no AWS behind them (a database that promotes, DNS with no records): only the bots port is real here. */
function fakeEnginePorts() {
  const role: Record<string, 'primary' | 'standby' | 'unreachable'> = { [A]: 'unreachable', [B]: 'standby' };
  const entries: Array<Record<string, unknown> & { id: string }> = [];
  const none = { unavailable: 'not part of this test' };
  return {
    database: {
      role: async (r: string) => role[r],
      replicationState: async () => ({ primaryReachable: false, observedAt: new Date(0).toISOString() }),
      isFenced: async () => false,
      fence: async () => undefined,
      unfence: async () => undefined,
      currentLsn: async () => '0/0',
      waitForReplay: async () => ({ caughtUp: false }),
      promote: async (r: string) => void (role[r] = 'primary'),
      writable: async (r: string) => role[r] === 'primary',
    },
    cache: { ...none, role: async () => 'unreachable' as const, promote: async () => undefined, writable: async () => false },
    secrets: { ...none, isPromoted: async () => true, promote: async () => undefined },
    dns: { ...none, current: async () => undefined, point: async () => undefined },
    stacks: { ...none, isRetargeted: async () => true, retarget: async () => undefined },
    notifier: { notify: async () => ({ delivered: [], failed: [] }) },
    journal: {
      location: 'memory',
      append: async (e: Record<string, unknown> & { id: string }) => void entries.push(JSON.parse(JSON.stringify(e))),
      read: async (id: string) => ({ entries: entries.filter((e) => e.id === id) as never[], damage: [] }),
      list: async () => [...new Set(entries.map((e) => e.id))],
    },
  };
}
