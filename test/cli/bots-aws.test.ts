/**
 * `dr bots check-permissions` on AWS through the CLI (issue 11, seed 000 AC3): the bots and their channels from the
 * primary stack's settings file (botTokens there stays ciphertext, never read), the tokens from the serving region's
 * Secrets Manager (mocked, GetSecretValue only), the fake Telegram and Discord on 127.0.0.1. The matrix covers every
 * token; exit 1 names the missing right and the admin action; exit 0 once it is granted; no token in any output.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeDiscord } from '../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../automation/adapters/rehearsal/fake-telegram';
import { awsDeps, resetAwsDeps } from '../../automation/cli/aws';
import { dr, type CliResult } from '../helpers/cli';
import { A, B, FakeClock, FakeDriver, PRIMARY_OUTPUTS, SECRET_TOKEN, World } from '../helpers/aws-world';
import { discordToken, telegramToken } from '../helpers/token-fakes';
import { TokenSecrets } from '../helpers/token-secrets';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';
const TG = [telegramToken('bots-aws-tg-0'), telegramToken('bots-aws-tg-1'), telegramToken('bots-aws-tg-2')];
const DC = [discordToken('bots-aws-dc-0'), discordToken('bots-aws-dc-1')];
const ARN = PRIMARY_OUTPUTS.botTokenSecretArns;
const CHANNEL = '-1001400000001';
const GROUP = '@chess_volunteers';
const G = '400000000000000031';
const CH = '400000000000000131';

const SETTINGS = `config:
  aws:region: us-east-1
  bot-platform-dr:role: primary
  bot-platform-dr:bots:
    community:
      channels:
        - ${CHANNEL}
        - "${GROUP}"
    moderation:
      platform: discord
      mode: polling
      channels:
        - "${G}/${CH}"
      permissions: [ViewChannel, SendMessages]
  bot-platform-dr:botTokens:
    community:
      - secure: v1:PLACEHOLDER:never-decrypted
  bot-platform-dr:dns:
    recordName: bot.example.com
`;

describe('dr bots check-permissions (AWS: settings file, mocked Secrets Manager, fake platforms)', () => {
  let w: World;
  let work: string;
  let smA: TokenSecrets;
  let smB: TokenSecrets;
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let runs: CliResult[];
  let env: Record<string, string>;

  beforeEach(async () => {
    w = new World();
    const driver = new FakeDriver(w);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-bots-aws-'));
    fs.writeFileSync(path.join(work, 'Pulumi.yaml'), 'name: bot-platform-dr\nruntime: nodejs\n');
    fs.writeFileSync(path.join(work, 'Pulumi.primary.yaml'), SETTINGS);
    smA = new TokenSecrets(A);
    smB = new TokenSecrets(B);
    smA.create(ARN.community, { active: 0, tokens: TG, platform: 'telegram' });
    smA.create(ARN.moderation, { active: 0, tokens: DC, platform: 'discord' });
    tg = await new FakeTelegram().start();
    dc = await new FakeDiscord().start();
    TG.forEach((t, i) => tg.addToken(t, { id: String(7500000000 + i), username: `community_${i}_bot` }));
    DC.forEach((t, i) => dc.addToken(t, { id: `110000000000000050${i}`, username: `moderation-${i}` }));
    tg.setChat({ id: Number(CHANNEL), type: 'channel', title: 'Courses' }).setChat({ id: -1001400000002, type: 'supergroup', title: 'Volunteers', username: 'chess_volunteers' });
    for (const t of TG) tg.setChatMember(CHANNEL, { token: t }, { status: 'administrator', can_post_messages: true, can_delete_messages: true }).setChatMember(GROUP, { token: t }, { status: 'administrator', can_delete_messages: t !== TG[2] });
    dc.setGuild({ id: G }).setChannel({ id: CH, guild_id: G });
    for (const t of DC) dc.setMember(G, { token: t }, { roles: [] });
    awsDeps.driver = () => driver;
    awsDeps.clients = () => ({ ...w.clients(), secretsManager: (r: string) => (r === A ? smA : smB).client });
    awsDeps.clock = new FakeClock();
    awsDeps.retry = { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 };
    env = { DR_TELEGRAM_API_URL: tg.url, DR_DISCORD_API_URL: dc.api, USER: 'alice' };
    runs = [];
  });

  afterEach(async () => {
    await Promise.all([tg.stop(), dc.stop()]);
    const produced = runs.flatMap((r) => [r.stdout, r.stderr]).join('\n');
    for (const t of [...TG, ...DC, SECRET_TOKEN]) assert.ok(!produced.includes(t), 'a token reached stdout, stderr or a JSON document');
    smA.restore();
    smB.restore();
    w.restore();
    resetAwsDeps();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const run = async (argv: string[]): Promise<CliResult> => {
    const r = await dr(['bots', 'check-permissions', ...argv, '--primary-stack', P, '--secondary-stack', S, '--work-dir', work], env);
    runs.push(r);
    return r;
  };

  it('--json: the bot × token × channel matrix for every token; token 2 lacks Delete messages in the group: exit 1 with the admin action', async () => {
    const r = await run(['--json']);
    assert.equal(r.code, 1, r.stderr);
    const j = r.json();
    assert.equal(j.ok, false);
    assert.equal(j.where, `aws:${path.join(work, 'Pulumi.primary.yaml')}`);
    assert.deepEqual(j.summary, { cells: 8, ok: 7, missing: 1, errors: 0, missing_rights: 1 });
    const community = j.bots.find((b: { bot: string }) => b.bot === 'community');
    assert.deepEqual(community.tokens.map((t: { index: number; account: string; channels: Array<{ channel: string; state: string; missing: string[] }> }) => [t.index, t.account, t.channels.map((c) => [c.channel, c.state, c.missing])]), [
      [0, '@community_0_bot', [[CHANNEL, 'ok', []], [GROUP, 'ok', []]]],
      [1, '@community_1_bot', [[CHANNEL, 'ok', []], [GROUP, 'ok', []]]],
      [2, '@community_2_bot', [[CHANNEL, 'ok', []], [GROUP, 'missing', ['can_delete_messages']]]],
    ]);
    assert.match(community.tokens[2].channels[1].action, /^give @community_2_bot the administrator right Delete messages in @chess_volunteers/);
    const moderation = j.bots.find((b: { bot: string }) => b.bot === 'moderation');
    assert.deepEqual(moderation.tokens.map((t: { channels: Array<{ state: string }> }) => t.channels.map((c) => c.state)), [['ok'], ['ok']]);
    // Tokens read from the serving region with GetSecretValue only; the replica region untouched.
    assert.deepEqual([...new Set(smA.mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name))], ['GetSecretValueCommand']);
    assert.equal(smB.mock.calls().length, 0);
  });

  it('human: the matrix with the admin action; once the admin grants the right, exit 0', async () => {
    const r = await run([]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /community \(telegram\): 5 of 6 cell\(s\) ok, 1 missing rights/);
    assert.match(r.stdout, /token 2 @community_2_bot  @chess_volunteers  MISSING can_delete_messages\n {6}admin action: give @community_2_bot the administrator right Delete messages in @chess_volunteers/);
    assert.match(r.stdout, /moderation \(discord\): 2 of 2 cell\(s\) ok/);
    tg.setChatMember(GROUP, { token: TG[2] }, { status: 'administrator', can_delete_messages: true });
    const ok = await run([]);
    assert.equal(ok.code, 0, ok.stdout);
  });

  it('usage: no settings file, a bot the stacks do not know, a bad API URL (exit 2, nothing read)', async () => {
    fs.writeFileSync(path.join(work, 'Pulumi.primary.yaml'), SETTINGS.replace('    moderation:', '    ghost:\n      channels: []\n    moderation:'));
    const ghost = await run([]);
    assert.equal(ghost.code, 2);
    assert.match(ghost.stderr, /declares ghost, which the stacks' botTokenSecretArns do not/);
    const bad = await dr(['bots', 'check-permissions', '--work-dir', work, '--telegram-api-url', 'ftp://x'], env);
    runs.push(bad);
    assert.equal(bad.code, 2);
    fs.rmSync(path.join(work, 'Pulumi.primary.yaml'));
    const none = await run([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /the bots' channels and modes are read from the stack settings file/);
    assert.equal(smA.mock.calls().length, 0);
  });
});
