/**
 * `dr status` on AWS, the per-bot section (issue 11 item 6): the bots from the primary stack's settings file, their
 * records from the serving region's Secrets Manager (mocked, read only), the fake Telegram and Discord on 127.0.0.1:
 * platform, the active token's index and health, the webhook target and its pending updates, the active region, the
 * missing channel rights. Nothing is set, nothing is written; no token and no webhook secret in the output.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { awsStatusProbes } from '../../automation/adapters/aws/status-probes';
import { FakeDiscord } from '../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../automation/adapters/rehearsal/fake-telegram';
import { awsDeps, resetAwsDeps } from '../../automation/cli/aws';
import { dr, type CliResult } from '../helpers/cli';
import { A, B, FakeClock, FakeDriver, PRIMARY_OUTPUTS, World } from '../helpers/aws-world';
import { MemoryStore } from '../helpers/memory-store';
import { discordToken, telegramToken } from '../helpers/token-fakes';
import { TokenSecrets } from '../helpers/token-secrets';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';
const TG = [telegramToken('status-bots-tg-0'), telegramToken('status-bots-tg-1')];
const DC = [discordToken('status-bots-dc-0')];
const ARN = PRIMARY_OUTPUTS.botTokenSecretArns;
const CHANNEL = '-1001500000001';
const URL = 'https://bot.example.com/telegram/community';
const SECRET = 'S'.repeat(20) + 'ecretForTheWebhook_0123';

describe('dr status (AWS): the per-bot section', () => {
  let w: World;
  let work: string;
  let sm: TokenSecrets;
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let runs: CliResult[];

  beforeEach(async () => {
    w = new World();
    const driver = new FakeDriver(w);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-status-bots-'));
    fs.writeFileSync(path.join(work, 'Pulumi.yaml'), 'name: bot-platform-dr\nruntime: nodejs\n');
    fs.writeFileSync(
      path.join(work, 'Pulumi.primary.yaml'),
      `config:\n  bot-platform-dr:bots:\n    community:\n      channels: ["${CHANNEL}"]\n    moderation:\n      platform: discord\n      mode: polling\n  bot-platform-dr:dns:\n    recordName: bot.example.com\n`,
    );
    sm = new TokenSecrets(A);
    sm.create(ARN.community, { active: 1, tokens: TG, platform: 'telegram', active_region: A, webhook_secret: SECRET, health: [{ index: 1, consecutive_failures: 0, consecutive_passes: 3, last_state: 'healthy', since: '2026-11-22T09:00:00Z' }] });
    sm.create(ARN.moderation, { active: 0, tokens: DC, platform: 'discord' });
    tg = await new FakeTelegram().start();
    dc = await new FakeDiscord().start();
    TG.forEach((t, i) => tg.addToken(t, { id: String(7600000000 + i), username: `community_${i}_bot` }));
    DC.forEach((t) => dc.addToken(t, { id: '1100000000000000601', username: 'moderation-0' }));
    tg.setChat({ id: Number(CHANNEL), type: 'channel', title: 'Courses' });
    tg.setChatMember(CHANNEL, { token: TG[0] }, { status: 'administrator', can_post_messages: true });
    tg.setChatMember(CHANNEL, { token: TG[1] }, { status: 'administrator', can_post_messages: true, can_delete_messages: true });
    await fetch(`${tg.url}/bot${TG[1]}/setWebhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: URL, secret_token: SECRET }) });
    tg.pushUpdate(TG[1], { message: { text: 'waiting' } });
    tg.pushUpdate(TG[1], { message: { text: 'waiting too' } });
    const clock = new FakeClock();
    awsDeps.driver = () => driver;
    awsDeps.clock = clock;
    awsDeps.clients = () => ({ ...w.clients(), secretsManager: () => sm.client });
    awsDeps.statusProbes = () => awsStatusProbes({ env: {}, clock, route53: w.r53, cloudwatch: (r) => w.cw[r], rds: (r) => w.rds[r], store: (_r, bucket) => new MemoryStore(`s3://${bucket}`), retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    runs = [];
  });
  afterEach(async () => {
    await Promise.all([tg.stop(), dc.stop()]);
    const out = runs.flatMap((r) => [r.stdout, r.stderr]).join('\n');
    for (const s of [...TG, ...DC, SECRET]) assert.ok(!out.includes(s), 'a token or the webhook secret reached the output');
    sm.restore();
    w.restore();
    resetAwsDeps();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const run = async (argv: string[]) => {
    const r = await dr(['status', ...argv, '--primary-stack', P, '--secondary-stack', S, '--work-dir', work], { DR_TELEGRAM_API_URL: tg.url, DR_DISCORD_API_URL: dc.api });
    runs.push(r);
    return r;
  };

  it('--json: per bot platform, active token and its health, webhook target and pending updates, active region, missing rights', async () => {
    const r = await run(['--json']);
    assert.equal(r.code, 0, r.stderr);
    const [community, moderation] = r.json().bots;
    assert.deepEqual([community.bot, community.platform, community.mode, community.active, community.token_count, community.health.state, community.health.recorded, community.active_region], ['community', 'telegram', 'webhook', 1, 2, 'healthy', 'healthy', A]);
    assert.deepEqual([community.endpoint.expected, community.endpoint.current, community.endpoint.url_drift, community.endpoint.pending_update_count, community.endpoint.action], [URL, URL, false, 2, 'unchanged']);
    assert.deepEqual(community.missing_rights.map((m: { token: number; channel: string; missing: string[] }) => [m.token, m.channel, m.missing]), [[0, CHANNEL, ['can_delete_messages']]]);
    assert.deepEqual([moderation.platform, moderation.mode, moderation.active, moderation.active_region, moderation.endpoint.expected, moderation.missing_rights], ['discord', 'polling', 0, null, null, []]);
    assert.equal(tg.callCount(TG[1], 'setWebhook'), 1, 'status sets nothing (the one call is the test\'s)');
    // Read only: the bots section reads the records; the readiness section (issue 14) also describes the secrets'
    // replicas. Nothing is written.
    const commands = new Set(sm.mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name));
    assert.ok(commands.has('GetSecretValueCommand'), 'the bot records are read');
    assert.deepEqual([...commands].filter((c) => !['GetSecretValueCommand', 'DescribeSecretCommand'].includes(c)), [], 'read only');
  });

  it('human: a Bots section after the regions', async () => {
    const r = await run([]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nBots\n  community \(telegram, webhook\)\n {4}token {6}1 of 2 active: healthy \(@community_1_bot\); the monitor last recorded healthy\n {4}region {5}us-east-1 consumes\n {4}updates {4}webhook https:\/\/bot\.example\.com\/telegram\/community: as expected, 2 pending update\(s\)\n {4}MISSING {4}token 0 in -1001500000001: can_delete_messages — give @community_0_bot/);
    assert.match(r.stdout, /  moderation \(discord, polling\)\n[\s\S]*updates {4}gateway \(no interactions endpoint expected\): as expected\n {4}rights {5}no channels configured/);
  });

  it('without a settings file the section says why; the rest of the status is unchanged', async () => {
    fs.rmSync(path.join(work, 'Pulumi.primary.yaml'));
    const r = await run(['--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.json().bots.error, /the bots' channels and modes are read from the stack settings file/);
    assert.deepEqual(r.json().regions.map((x: { region: string }) => x.region), [A, B]);
    // The bots section reads no record without the bots' settings; what is read (readiness's own checks) is read only.
    assert.deepEqual(sm.mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name).filter((c) => !['GetSecretValueCommand', 'DescribeSecretCommand'].includes(c)), [], 'read only');
    assert.equal(r.json().readiness === undefined ? 'none' : 'shown', 'shown', 'readiness is still part of the status');
  });
});
