/**
 * `dr tokens` on AWS through the CLI: the stacks' outputs from the fake Automation API workspace (or saved files),
 * the bots' records in a stateful Secrets Manager per region (aws-sdk-client-mock; us-west-2 holds read-only
 * replicas until a failover promotes them), SNS through the mocked World, and the fake Telegram / Discord servers on
 * 127.0.0.1. Asserts the exact Secrets Manager commands, the refusal to write a replica, and that no token reaches
 * stdout, stderr, a JSON document or an SNS message.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { FakeDiscord } from '../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../automation/adapters/rehearsal/fake-telegram';
import { awsDeps, resetAwsDeps } from '../../automation/cli/aws';
import { dr, type CliResult } from '../helpers/cli';
import { A, B, FakeClock, FakeDriver, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS, SECRET_TOKEN, World } from '../helpers/aws-world';
import { discordToken, telegramToken } from '../helpers/token-fakes';
import { TokenSecrets } from '../helpers/token-secrets';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';
const TG = [telegramToken('aws-tg-0'), telegramToken('aws-tg-1'), telegramToken('aws-tg-2')];
const DC = [discordToken('aws-dc-0'), discordToken('aws-dc-1')];
const ARN = PRIMARY_OUTPUTS.botTokenSecretArns;
const inB = (arn: string) => arn.replace(`:${A}:`, `:${B}:`);

/** Every call a mocked client received, as [command name, input]. */
function calls(sm: TokenSecrets): Array<[string, Record<string, unknown>]> {
  return sm.mock.calls().map((c) => {
    const cmd = c.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
    return [cmd.constructor.name.replace(/Command$/, ''), cmd.input];
  });
}

describe('dr tokens (AWS: fake workspace, mocked Secrets Manager and SNS, fake platforms)', () => {
  let w: World;
  let driver: FakeDriver;
  let work: string;
  let smA: TokenSecrets;
  let smB: TokenSecrets;
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let runs: CliResult[];
  let env: Record<string, string>;

  beforeEach(async () => {
    w = new World();
    driver = new FakeDriver(w);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-tokens-aws-'));
    fs.writeFileSync(path.join(work, 'Pulumi.yaml'), 'name: bot-platform-dr\nruntime: nodejs\n');
    smA = new TokenSecrets(A);
    smB = new TokenSecrets(B);
    for (const sm of [smA, smB]) {
      const id = (arn: string) => (sm === smA ? arn : inB(arn));
      sm.create(id(ARN.community), { active: 0, tokens: TG, platform: 'telegram' });
      sm.create(id(ARN.moderation), { active: 0, tokens: DC, platform: 'discord' });
    }
    smB.replicaOf[inB(ARN.community)] = A;
    smB.replicaOf[inB(ARN.moderation)] = A;
    tg = await new FakeTelegram().start();
    dc = await new FakeDiscord().start();
    TG.forEach((t) => tg.addToken(t));
    DC.forEach((t) => dc.addToken(t));
    awsDeps.driver = () => driver;
    awsDeps.clients = () => ({ ...w.clients(), secretsManager: (r: string) => (r === A ? smA : smB).client });
    awsDeps.clock = new FakeClock();
    awsDeps.retry = { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 };
    env = { DR_TELEGRAM_API_URL: tg.url, DR_DISCORD_API_URL: dc.api, USER: 'alice' };
    runs = [];
  });

  afterEach(async () => {
    await Promise.all([tg.stop(), dc.stop()]);
    const produced = [...runs.flatMap((r) => [r.stdout, r.stderr]), ...w.published.map((p) => `${p.subject}\n${p.message}`)].join('\n');
    for (const t of [...TG, ...DC, SECRET_TOKEN]) assert.ok(!produced.includes(t), 'a token reached stdout, stderr, a JSON document or an SNS message');
    // The redactor's key=value rule turns a secret ARN's name (`…:secret:<name>`) into `secret:***`; anything else is a leak caught.
    assert.ok(!produced.replace(/:secret:\*\*\*/g, '').includes('***'), `something token-like was redacted in the output:\n${produced}`);
    smA.restore();
    smB.restore();
    w.restore();
    resetAwsDeps();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const run = async (argv: string[]): Promise<CliResult> => {
    const r = await dr(['tokens', ...argv, '--primary-stack', P, '--secondary-stack', S, '--work-dir', work], env);
    runs.push(r);
    return r;
  };

  it('status reads both bots from the serving region (the primary, us-east-1) with GetSecretValue only; no replica is touched', async () => {
    const r = await run(['status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = r.json();
    assert.equal(s.store, `secretsmanager:${A}`);
    assert.deepEqual(s.bots.map((b: { bot: string; platform: string; active: number }) => [b.bot, b.platform, b.active]), [['community', 'telegram', 0], ['moderation', 'discord', 0]]);
    const got = calls(smA).sort((a, b) => String(a[1].SecretId).localeCompare(String(b[1].SecretId)));
    assert.deepEqual(got, [
      ['GetSecretValue', { SecretId: ARN.community, VersionStage: 'AWSCURRENT' }],
      ['GetSecretValue', { SecretId: ARN.moderation, VersionStage: 'AWSCURRENT' }],
    ]);
    assert.deepEqual(calls(smB), []);
    assert.ok(driver.calls.every((c) => !c.startsWith('refresh')), 'no refresh');
  });

  it('use BOT INDEX: DescribeSecret (writable?), GetSecretValue, then the compare-and-set write with ClientRequestToken = the decision id; SNS to both topics', async () => {
    const r = await run(['use', 'community', '1', '--reason', 'rotate after leak drill', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = r.json();
    assert.deepEqual([j.action, j.active_before, j.active_after, j.pin.by, j.notified, j.store], ['pin', 0, 1, 'operator:alice', true, `secretsmanager:${A}`]);
    const got = calls(smA);
    assert.deepEqual(got.map(([name]) => name), ['DescribeSecret', 'GetSecretValue', 'DescribeSecret', 'PutSecretValue', 'DescribeSecret']);
    assert.deepEqual(got[0][1], { SecretId: ARN.community });
    assert.deepEqual(got[1][1], { SecretId: ARN.community, VersionStage: 'AWSCURRENT' });
    const put = got[3][1] as { SecretId: string; SecretString: string; ClientRequestToken: string };
    assert.deepEqual(Object.keys(put).sort(), ['ClientRequestToken', 'SecretId', 'SecretString']);
    assert.equal(put.SecretId, ARN.community);
    assert.equal(put.ClientRequestToken, j.decision_id);
    assert.match(put.ClientRequestToken, /^[0-9a-f]{40}$/);
    const written = JSON.parse(put.SecretString);
    assert.deepEqual([written.active, written.tokens, written.pin.index, written.pin.by], [1, TG, 1, 'operator:alice']);
    assert.equal(smA.holder(ARN.community, 'AWSCURRENT'), j.decision_id);
    assert.deepEqual(calls(smB), []);
    assert.deepEqual(w.published.map((p) => p.topic).sort(), [PRIMARY_OUTPUTS.topicArn, SECONDARY_OUTPUTS.topicArn].sort());
    assert.equal(w.published[0].subject, '[dr] bot token pin: community (telegram) token 0 -> 1');
    assert.match(w.published[0].message, /token 1 pinned by operator:alice: rotate after leak drill/);

    const un = await run(['unpin', 'community']);
    assert.equal(un.code, 0, un.stderr);
    assert.equal((smA.current(ARN.community).pin as unknown) ?? null, null);
    assert.equal(w.published.filter((p) => p.subject.startsWith('[dr] bot token unpin: community')).length, 2);
  });

  it('check --apply: writability checked for every bot before probing; a revoked token switches (PutSecretValue per changed record), exit 0', async () => {
    tg.revoke(TG[0]);
    const r = await run(['check', '--apply', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const bots = r.json().bots;
    assert.deepEqual(bots.map((b: { bot: string; action: string; reason: string; active_after: number }) => [b.bot, b.action, b.reason, b.active_after]), [['community', 'switch', 'revoked', 1], ['moderation', 'keep', 'healthy', 0]]);
    assert.deepEqual(bots[0].tokens, [{ index: 0, state: 'revoked', latency_ms: 0 }, { index: 1, state: 'healthy', latency_ms: 0 }, { index: 2, state: 'healthy', latency_ms: 0 }]);
    const names = calls(smA).map(([n]) => n);
    assert.deepEqual(names.slice(0, 2), ['DescribeSecret', 'DescribeSecret'], 'the replica check comes first');
    const puts = smA.mock.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input);
    assert.deepEqual(puts.map((p) => p.SecretId).sort(), [ARN.community, ARN.moderation].sort());
    const switched = puts.find((p) => p.SecretId === ARN.community)!;
    assert.match(switched.ClientRequestToken ?? '', /^[0-9a-f]{40}$/);
    assert.equal(smA.holder(ARN.community, 'AWSCURRENT'), switched.ClientRequestToken);
    assert.equal(smA.current(ARN.community).active, 1);
    assert.deepEqual(w.published.map((p) => p.subject), ['[dr] bot token switch: community (telegram) token 0 -> 1', '[dr] bot token switch: community (telegram) token 0 -> 1']);
    // Without --apply: reads only.
    smA.mock.resetHistory();
    const dry = await run(['check']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual([...new Set(calls(smA).map(([n]) => n))], ['GetSecretValue']);
  });

  it('a read-only replica is never written: --region us-west-2 refuses use/unpin/check --apply (exit 2) before probing or writing; reading it is fine', async () => {
    for (const argv of [['use', 'community', '1', '--reason', 'x', '--region', B], ['unpin', 'community', '--region', B], ['check', '--apply', '--region', B]]) {
      smB.mock.resetHistory();
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, /refusing to write: the bot-token secret\(s\) of community.* in us-west-2 are read-only replicas of the secrets in us-east-1\. Write in the serving region \(--region us-east-1\), or — if that region is lost — promote the replicas first/);
      assert.match(r.stderr, /Nothing was probed or written/);
      assert.deepEqual([...new Set(calls(smB).map(([n]) => n))], ['DescribeSecret'], argv.join(' '));
    }
    const j = await run(['check', '--apply', '--region', B, '--json']);
    assert.deepEqual([j.json().ok, j.json().error, j.json().exit_code], [false, 'RefusedError', 2]);
    assert.equal(tg.callCount(TG[0]) + dc.callCount(DC[0]), 0, 'nothing probed');
    assert.equal(smB.mock.commandCalls(PutSecretValueCommand).length + smA.mock.commandCalls(PutSecretValueCommand).length, 0);
    assert.equal(w.published.length, 0);
    const st = await run(['status', '--region', B, '--json']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(st.json().store, `secretsmanager:${B}`);
    assert.equal(smB.mock.commandCalls(GetSecretValueCommand).length, 2);
    const check = await run(['check', '--region', B]);
    assert.equal(check.code, 0, check.stderr);
  });

  it('after a failover (the secondary promoted, its replicas standalone) the serving region is us-west-2: writes go there', async () => {
    driver.stacks[S].config['bot-platform-dr:database.promoted'] = 'true';
    delete smB.replicaOf[inB(ARN.community)];
    delete smB.replicaOf[inB(ARN.moderation)];
    const r = await run(['use', 'moderation', '1', '--reason', 'region lost', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().store, `secretsmanager:${B}`);
    assert.deepEqual(calls(smB).map(([n, i]) => [n, i.SecretId]), [
      ['DescribeSecret', inB(ARN.moderation)],
      ['GetSecretValue', inB(ARN.moderation)],
      ['DescribeSecret', inB(ARN.moderation)],
      ['PutSecretValue', inB(ARN.moderation)],
      ['DescribeSecret', inB(ARN.moderation)],
    ]);
    assert.deepEqual(calls(smA), [], 'the lost region is not touched');
    // Naming the old region explicitly: its secrets are standalone, so the write goes on, with a warning.
    const old = await run(['use', 'moderation', '0', '--reason', 'x', '--region', A]);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stderr, /warning: us-east-1 is not the serving region \(us-west-2\) per the stacks/);
  });

  it('--outputs-dir works without the Pulumi backend; bad usage (unknown bot, no bots in the outputs, no serving region, bad --region) exits 2', async () => {
    driver.backendDown = true;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-tokens-out-'));
    const save = (p: unknown, s: unknown) => {
      fs.writeFileSync(path.join(dir, 'primary.json'), JSON.stringify(p));
      fs.writeFileSync(path.join(dir, 'secondary.json'), JSON.stringify(s));
    };
    try {
      save(PRIMARY_OUTPUTS, SECONDARY_OUTPUTS);
      const st = await run(['status', '--outputs-dir', dir, '--json']);
      assert.equal(st.code, 0, st.stderr);
      assert.equal(st.json().bots.length, 2);
      const online = await run(['status']);
      assert.equal(online.code, 1);
      assert.match(online.stderr, /--outputs-dir/);
      smA.mock.resetHistory();
      const cases: Array<[string[], RegExp]> = [
        [['use', 'ghost', '0', '--reason', 'x', '--outputs-dir', dir], /unknown bot 'ghost'; the bots in the stacks' botTokenSecretArns: community, moderation/],
        [['status', '--outputs-dir', dir, '--region', 'eu-west-1'], /region 'eu-west-1' is not one of the stacks' regions \(us-east-1, us-west-2\)/],
      ];
      for (const [argv, re] of cases) {
        const r = await run(argv);
        assert.equal(r.code, 2, argv.join(' '));
        assert.match(r.stderr, re);
      }
      assert.deepEqual(calls(smA), []);
      save({ ...PRIMARY_OUTPUTS, botTokenSecretArns: {} }, SECONDARY_OUTPUTS);
      const none = await run(['check', '--outputs-dir', dir]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no bot-token secrets: the output botTokenSecretArns is empty on acme\/bot-platform-dr\/primary \(us-east-1\), acme\/bot-platform-dr\/secondary \(us-west-2\)/);
      save({ ...PRIMARY_OUTPUTS, role: 'secondary' }, SECONDARY_OUTPUTS);
      const who = await run(['status', '--outputs-dir', dir]);
      assert.equal(who.code, 2);
      assert.match(who.stderr, /the stacks do not say which region serves .*; name it with --region/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SNS down in both regions: the pin is still written (exit 0); the lost notice is a warning and notified: false', async () => {
    w.down.add(A);
    w.down.add(B);
    const r = await run(['use', 'community', '2', '--reason', 'sns outage drill', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.json().notified, r.json().active_after], [false, 2]);
    assert.match(r.json().notify_error, /SNS token notice not delivered: .*botdr-use1-alerts: .*ENOTFOUND/);
    assert.match(r.stderr, /warning: the notice was not delivered \(sns:arn:aws:sns:us-east-1:.*, sns:arn:aws:sns:us-west-2:/);
    assert.equal(smA.current(ARN.community).active, 2);
  });

  it('a DescribeSecret that finds no secret in the region is an operation error (exit 1), not a write', async () => {
    smA.mock.on(DescribeSecretCommand).rejects(Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' }));
    const r = await run(['use', 'community', '1', '--reason', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the secret does not exist in us-east-1/);
    assert.equal(smA.mock.commandCalls(PutSecretValueCommand).length, 0);
  });
});
