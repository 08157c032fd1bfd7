/**
 * The token-monitor Lambda end to end (automation/lambda/token-monitor.ts `runTokenMonitor`): the bots' records in a
 * stateful Secrets Manager per region (aws-sdk-client-mock; the standby region holds read-only replicas), CloudWatch
 * and SNS mocked (exact commands asserted), the probes against the fake Telegram and Discord servers over real HTTP on
 * 127.0.0.1, time on a virtual clock (the rounds' sleeps do not wait). Active vs standby region, rounds reaching N = 3
 * inside one invocation, metrics and their dimensions, and a planted-token grep over every output.
 */
import assert from 'node:assert/strict';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { CloudWatchClient, PutMetricDataCommand, type PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { FakeDiscord } from '../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../automation/adapters/rehearsal/fake-telegram';
import type { Clock } from '../../automation/core/clock';
import { runTokenMonitor, type TokenMonitorClients } from '../../automation/lambda/token-monitor';
import { TokenMonitorEnvError } from '../../lib/token-monitor';
import { discordToken, telegramToken } from '../helpers/token-fakes';
import { TokenSecrets } from '../helpers/token-secrets';

const A = 'us-east-1';
const B = 'us-west-2';
const ARN = {
  community: `arn:aws:secretsmanager:${A}:123456789012:secret:botdr/bot-tokens/community-Zx98Yv`,
  moderation: `arn:aws:secretsmanager:${A}:123456789012:secret:botdr/bot-tokens/moderation-Lk76Jh`,
};
const TOPIC = `arn:aws:sns:${A}:123456789012:botdr-use1-alerts`;
const TG = [0, 1, 2].map((i) => telegramToken(`monitor-tg-${i}`));
const DC = [0, 1].map((i) => discordToken(`monitor-dc-${i}`));
const PLANTED = [...TG, ...DC];

/** Time that moves 1 ms per reading and jumps over sleeps: the rounds run back to back, their timestamps as on AWS. */
class VirtualClock implements Clock {
  t = Date.parse('2026-11-22T10:00:00Z');
  readonly sleeps: number[] = [];
  now(): Date {
    return new Date((this.t += 1));
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

type Cmd = [string, Record<string, unknown>];
function commands(stub: { calls(): Array<{ args: unknown[] }> }): Cmd[] {
  return stub.calls().map((c) => {
    const cmd = c.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
    return [cmd.constructor.name.replace(/Command$/, ''), cmd.input];
  });
}

describe('lambda: token-monitor end to end (mocked Secrets Manager/CloudWatch/SNS, fake platforms over HTTP)', () => {
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let sm: TokenSecrets;
  let cw: AwsClientStub<CloudWatchClient>;
  let sns: AwsClientStub<SNSClient>;
  let clients: TokenMonitorClients;
  let clock: VirtualClock;
  let logs: string[];

  before(async () => {
    tg = await new FakeTelegram().start();
    dc = await new FakeDiscord().start();
  });
  after(async () => {
    await tg.stop();
    await dc.stop();
  });

  /** Both bots' records in `region`: in the standby region they are read-only replicas of the primary's. */
  function world(region: string, replicas = false): void {
    for (const t of TG) tg.addToken(t).restore(t).heal(t);
    for (const t of DC) dc.addToken(t).restore(t).heal(t);
    tg.resetCalls();
    dc.resetCalls();
    sm = new TokenSecrets(region);
    const id = (arn: string) => arn.replace(`:${A}:`, `:${region}:`);
    sm.create(id(ARN.community), { active: 0, tokens: TG, platform: 'telegram' });
    sm.create(id(ARN.moderation), { active: 0, tokens: DC, platform: 'discord' });
    if (replicas) for (const arn of Object.values(ARN)) sm.replicaOf[id(arn)] = A;
    const cwClient = new CloudWatchClient({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } });
    const snsClient = new SNSClient({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } });
    cw = mockClient(cwClient);
    cw.on(PutMetricDataCommand).resolves({});
    sns = mockClient(snsClient);
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    clients = { secrets: sm.client, cloudwatch: cwClient, sns: snsClient };
    clock = new VirtualClock();
    logs = [];
  }
  afterEach(() => {
    sm?.restore();
    cw?.restore();
    sns?.restore();
  });

  const env = (region: string, over: Record<string, string> = {}): Record<string, string> => ({
    DR_REGION: region,
    TOKEN_BOTS: JSON.stringify([
      { bot: 'community', platform: 'telegram', secret: ARN.community.replace(`:${A}:`, `:${region}:`) },
      { bot: 'moderation', platform: 'discord', secret: ARN.moderation.replace(`:${A}:`, `:${region}:`) },
    ]),
    TOKEN_MONITOR_ACTIVE: 'true',
    ALERTS_TOPIC_ARN: TOPIC.replace(`:${A}:`, `:${region}:`),
    DR_TELEGRAM_API_URL: tg.url,
    DR_DISCORD_API_URL: dc.api,
    ...over,
  });
  const run = (e: Record<string, string>) => runTokenMonitor(e, clients, { clock, log: (l) => logs.push(l) });
  const metricData = () => commands(cw).map(([, i]) => i as unknown as PutMetricDataCommandInput);
  const published = () => commands(sns).map(([, i]) => i as unknown as PublishCommandInput);

  /** Everything that left the function: logs, the result, metric inputs, notifications. */
  function assertNoToken(result: unknown): void {
    const out = [logs.join('\n'), JSON.stringify(result), JSON.stringify(metricData()), JSON.stringify(published())].join('\n');
    for (const t of PLANTED) {
      assert.ok(!out.includes(t), 'a planted token reached a log line, the result, a metric or a notification');
      assert.ok(!out.includes(t.split(':')[1] ?? t), 'no part of a token either');
    }
  }

  it('active region, active token revoked: switches in the first round, one notice, metrics per bot and token index', async () => {
    world(A);
    tg.revoke(TG[0]);
    const r = await run(env(A));
    assert.equal(r.acting, true, r.why);
    assert.equal(r.rounds.length, 4);
    assert.deepEqual(clock.sleeps.length, 3, 'three waits between four rounds');
    const community = r.rounds.map((x) => x.bots.find((b) => b.bot === 'community')!);
    assert.deepEqual(community.map((c) => [c.action, c.reason, c.active_before, c.active_after]), [
      ['switch', 'revoked', 0, 1],
      ['keep', 'healthy', 1, 1],
      ['keep', 'healthy', 1, 1],
      ['keep', 'healthy', 1, 1],
    ]);
    const rec = sm.current(ARN.community) as { active: number; history: Array<{ what: string; by: string; from: number; to: number }> };
    assert.equal(rec.active, 1);
    assert.deepEqual(rec.history.map((h) => [h.what, h.by, h.from, h.to]), [['switch', 'monitor@us-east-1', 0, 1]]);
    // Exactly one notification: the switch, to this region's topic.
    assert.deepEqual(published().map((p) => [p.TopicArn, p.Subject]), [[TOPIC, '[dr] bot token switch: community (telegram) token 0 -> 1']]);
    // The exact Secrets Manager commands of the first round: the writability check, both reads, the switch's compare-and-set.
    const calls = commands(sm.mock);
    assert.deepEqual(calls.slice(0, 4), [
      ['DescribeSecret', { SecretId: ARN.community }],
      ['DescribeSecret', { SecretId: ARN.moderation }],
      ['GetSecretValue', { SecretId: ARN.community, VersionStage: 'AWSCURRENT' }],
      ['GetSecretValue', { SecretId: ARN.moderation, VersionStage: 'AWSCURRENT' }],
    ]);
    const puts = calls.filter(([n]) => n === 'PutSecretValue');
    assert.ok(puts.every(([, i]) => Object.values(ARN).includes(i.SecretId as string) && typeof i.ClientRequestToken === 'string' && i.VersionStages === undefined));
    // A steady world writes nothing: the last round only reads (health counters saturated at M = 3 passes).
    const lastRound = calls.slice(calls.map(([n]) => n).lastIndexOf('GetSecretValue') - 1);
    assert.deepEqual(lastRound.map(([n]) => n), ['GetSecretValue', 'GetSecretValue']);
    // One PutMetricData per round, in the token namespace, dimensions Bot and TokenIndex only.
    const data = metricData();
    assert.equal(data.length, 4);
    for (const d of data) assert.equal(d.Namespace, 'BotDR/Tokens');
    const all = data.flatMap((d) => d.MetricData ?? []);
    for (const m of all) assert.deepEqual(m.Dimensions!.map((x) => x.Name), ['Bot', 'TokenIndex']);
    assert.deepEqual([...new Set(all.map((m) => m.MetricName))].sort(), ['ProbeLatencyMs', 'RateLimited', 'TokenHealthy']);
    const value = (round: number, bot: string, index: string, name = 'TokenHealthy') =>
      data[round].MetricData!.find((m) => m.MetricName === name && m.Dimensions![0].Value === bot && m.Dimensions![1].Value === index)?.Value;
    assert.equal(value(0, 'community', '0'), 0, 'the revoked token');
    assert.equal(value(0, 'community', '1'), 1);
    assert.equal(value(0, 'community', 'active'), 1, 'the active token after the switch is healthy');
    assert.equal(value(0, 'community', 'any'), 1);
    assert.equal(value(0, 'moderation', 'active', 'RateLimited'), 0);
    assert.ok((value(0, 'moderation', '0', 'ProbeLatencyMs') ?? 0) > 0);
    assertNoToken(r);
  });

  it('a failing active token (5xx while the others answer) switches after N = 3 consecutive failures, inside one invocation', async () => {
    world(A);
    tg.fail(TG[0], { status: 500 });
    const r = await run(env(A));
    const community = r.rounds.map((x) => x.bots.find((b) => b.bot === 'community')!);
    assert.deepEqual(community.map((c) => `${c.action}:${c.reason}:${c.active_after}`), ['keep:failing-below-threshold:0', 'keep:failing-below-threshold:0', 'switch:failing:1', 'keep:healthy:1']);
    // The third failing probe came 2 × 15 s after the first: the switch is written ~30 s into the invocation.
    const apart = Date.parse(r.rounds[2].at) - Date.parse(r.rounds[0].at);
    assert.ok(apart > 29_000 && apart < 31_000, `${apart} ms`);
    assert.equal((sm.current(ARN.community) as { active: number }).active, 1);
    assert.deepEqual(published().map((p) => p.Subject), ['[dr] bot token switch: community (telegram) token 0 -> 1']);
    assertNoToken(r);
  });

  it('standby region (stack not active): probes and reports only: no DescribeSecret, no write, no notice; metrics still flow', async () => {
    world(B, true);
    tg.revoke(TG[0]);
    const r = await run(env(B, { TOKEN_MONITOR_ACTIVE: 'false' }));
    assert.equal(r.acting, false);
    assert.match(r.why, /not the active one/);
    const names = new Set(commands(sm.mock).map(([n]) => n));
    assert.deepEqual([...names], ['GetSecretValue']);
    assert.equal(published().length, 0);
    const community = r.rounds[0].bots.find((b) => b.bot === 'community')!;
    assert.deepEqual([community.action, community.active_before, community.active_after], ['switch', 0, 1], 'what the decision would be');
    assert.equal((sm.current(ARN.community.replace(`:${A}:`, `:${B}:`)) as { active: number }).active, 0, 'nothing written');
    const first = metricData()[0].MetricData!;
    const active = first.find((m) => m.MetricName === 'TokenHealthy' && m.Dimensions![0].Value === 'community' && m.Dimensions![1].Value === 'active');
    assert.equal(active?.Value, 0, 'the active token as read (not switched here) is unhealthy');
    assert.ok(logs.some((l) => l.includes('reporting only')));
    assertNoToken(r);
  });

  it('active stack whose secrets are still replicas (before promote-secrets): reports only, names them, writes nothing', async () => {
    world(B, true);
    tg.revoke(TG[0]);
    const r = await run(env(B));
    assert.equal(r.acting, false);
    assert.match(r.why, /not every secret in us-west-2 is writable: community \(a read-only replica\), moderation \(a read-only replica\)/);
    assert.deepEqual(commands(sm.mock).filter(([n]) => n !== 'GetSecretValue').map(([n]) => n), ['DescribeSecret', 'DescribeSecret']);
    assert.equal(published().length, 0);
    // Promoted (the failover stopped the replication): the next invocation acts.
    for (const arn of Object.values(ARN)) delete sm.replicaOf[arn.replace(`:${A}:`, `:${B}:`)];
    const after = await run(env(B));
    assert.equal(after.acting, true);
    assert.equal((sm.current(ARN.community.replace(`:${A}:`, `:${B}:`)) as { active: number }).active, 1);
    assert.equal(published()[0].TopicArn, TOPIC.replace(`:${A}:`, `:${B}:`));
  });

  it('a record seeded before the value carried a platform is read with the bot list\'s platform and written back with it', async () => {
    world(A);
    sm.create(ARN.moderation, { active: 0, tokens: DC });
    dc.revoke(DC[0]);
    const r = await run(env(A, { TOKEN_ROUNDS: '1' }));
    assert.equal(r.rounds[0].bots.find((b) => b.bot === 'moderation')!.action, 'switch');
    assert.equal((sm.current(ARN.moderation) as { platform: string }).platform, 'discord');
  });

  it('misconfigured: every problem named at once, before any AWS call; no readable bot at all is an error (Errors metric)', async () => {
    world(A);
    await assert.rejects(run({ DR_REGION: A, TOKEN_BOTS: '[{"bot":"Bad Name"}]', TOKEN_MONITOR_ACTIVE: 'maybe', TOKEN_ROUNDS: '12' }), (e: unknown) => {
      assert.ok(e instanceof TokenMonitorEnvError);
      assert.deepEqual(e.problems.map((p) => p.split(' ')[0]), ['TOKEN_MONITOR_ACTIVE', 'TOKEN_BOTS[0]', 'TOKEN_ROUNDS']);
      return true;
    });
    assert.equal(sm.mock.calls().length, 0);
    sm.down = true;
    await assert.rejects(run(env(A, { TOKEN_ROUNDS: '2', TOKEN_MONITOR_ACTIVE: 'false' })), /no bot could be checked in 2 round\(s\)/);
  });

  it('issue 11: rights checked once for every token (the switch skips the backup token lacking a right), the new token\'s webhook set with the secret generated once; the standby sets nothing', async () => {
    const CHANNEL = '-1001300000001';
    const G = '400000000000000021';
    const CH = '400000000000000121';
    const URL = 'https://bot.example.com/telegram/community';
    world(A);
    // Distinct bot accounts per token (re-adding a token in world() gives the fakes' default id, shared by all).
    TG.forEach((t, i) => tg.addToken(t, { id: String(7400000000 + i), username: `community_${i}_bot` }));
    DC.forEach((t, i) => dc.addToken(t, { id: `110000000000000040${i}`, username: `moderation-${i}` }));
    tg.setChat({ id: Number(CHANNEL), type: 'channel', title: 'Courses' });
    TG.forEach((t) => tg.setChatMember(CHANNEL, { token: t }, { status: 'administrator', can_post_messages: true, can_delete_messages: t !== TG[1] }));
    dc.setGuild({ id: G }).setChannel({ id: CH, guild_id: G });
    DC.forEach((t) => dc.setMember(G, { token: t }, { roles: [] }));
    const managed = (region: string) =>
      JSON.stringify([
        { bot: 'community', platform: 'telegram', secret: ARN.community.replace(`:${A}:`, `:${region}:`), mode: 'webhook', webhook_url: URL, channels: [CHANNEL] },
        { bot: 'moderation', platform: 'discord', secret: ARN.moderation.replace(`:${A}:`, `:${region}:`), mode: 'polling', channels: [`${G}/${CH}`] },
      ]);
    tg.revoke(TG[0]);
    const r = await run(env(A, { TOKEN_BOTS: managed(A) }));
    assert.deepEqual(r.rights?.missing, { community: 1, moderation: 0 });
    const community = r.rounds.map((x) => x.bots.find((b) => b.bot === 'community')!);
    assert.deepEqual([community[0].action, community[0].active_before, community[0].active_after], ['switch', 0, 2], 'token 1 lacks Delete messages: the switch goes to token 2');
    const ep = r.rounds.map((x) => x.endpoints!.find((e) => e.bot === 'community')!);
    assert.deepEqual([ep[0].action, ep[0].forced, ep[0].secret, ep[0].after], ['set', true, 'generated', URL]);
    assert.deepEqual(ep.slice(1).map((e) => [e.action, e.secret]), [['unchanged', 'kept'], ['unchanged', 'kept'], ['unchanged', 'kept']]);
    const rec = sm.current(ARN.community) as { active: number; webhook_secret?: string };
    assert.equal(rec.active, 2);
    assert.match(rec.webhook_secret ?? '', /^[A-Za-z0-9_-]{43}$/);
    const reg = tg.webhookRegistrations(TG[2]);
    assert.deepEqual(reg.map((x) => [x.method, x.url, x.secret_token_set, x.ip_address, x.drop_pending_updates]), [['setWebhook', URL, true, undefined, false]]);
    assert.equal(r.rounds[0].endpoints!.find((e) => e.bot === 'moderation')!.action, 'unchanged');
    // The per-bot metrics: dimension Bot only; the missing rights once (round 1); drift 0 after the fix; the pending count.
    const data = metricData();
    assert.equal(data.length, 4, 'still one PutMetricData per round');
    const perBot = data.map((d) => (d.MetricData ?? []).filter((m) => m.Dimensions!.length === 1));
    for (const m of perBot.flat()) assert.deepEqual(m.Dimensions!.map((x) => x.Name), ['Bot']);
    const v = (round: number, name: string, bot = 'community') => perBot[round].find((m) => m.MetricName === name && m.Dimensions![0].Value === bot)?.Value;
    assert.deepEqual([v(0, 'MissingChannelRights'), v(0, 'MissingChannelRights', 'moderation'), v(1, 'MissingChannelRights')], [1, 0, undefined]);
    assert.deepEqual([v(0, 'WebhookUrlDrift'), v(3, 'WebhookUrlDrift'), v(0, 'WebhookUrlDrift', 'moderation'), v(0, 'WebhookPendingUpdates')], [0, 0, 0, 0]);
    assertNoToken(r);
    const out = [logs.join('\n'), JSON.stringify(r), JSON.stringify(metricData())].join('\n');
    assert.ok(!out.includes(rec.webhook_secret!), 'the webhook secret never leaves the record');

    // The standby region reads the same bots: it reports the drift of a moved webhook but sets nothing and writes nothing.
    world(B, true);
    await fetch(`${tg.url}/bot${TG[0]}/setWebhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'https://elsewhere.example.com/hook' }) });
    const s = await run(env(B, { TOKEN_BOTS: managed(B), TOKEN_MONITOR_ACTIVE: 'false', TOKEN_ROUNDS: '1' }));
    const e = s.rounds[0].endpoints!.find((x) => x.bot === 'community')!;
    assert.deepEqual([e.action, e.url_drift, e.secret], ['not-applied', true, 'missing']);
    assert.equal(tg.callCount(TG[0], 'setWebhook'), 1, 'only the test\'s own call');
    assert.deepEqual([...new Set(commands(sm.mock).map(([n]) => n))], ['GetSecretValue']);
    assert.equal(metricData()[0].MetricData!.find((m) => m.MetricName === 'WebhookUrlDrift' && m.Dimensions![0].Value === 'community')?.Value, 1);
  });

  it('a round that cannot finish before the invocation times out is not started', async () => {
    world(A);
    let left = 90_000;
    const r = await runTokenMonitor(env(A), clients, { clock, log: (l) => logs.push(l), remainingMs: () => (left -= 20_000) });
    assert.equal(r.rounds.length, 3);
    assert.ok(logs.some((l) => /round 4 of 4 not started/.test(l)));
  });
});
