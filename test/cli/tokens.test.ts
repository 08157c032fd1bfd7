/**
 * `dr tokens status|check|use|unpin` on a local tokens file (`--file`), through the CLI in-process, against the fake
 * Telegram and Discord servers over real HTTP on 127.0.0.1 (their URLs reach the CLI through the env it is given,
 * DR_TELEGRAM_API_URL / DR_DISCORD_API_URL). Every run's stdout and stderr (human and --json) and the notifications
 * log are grepped for the planted tokens, and for the redactor's `***` (which would mean a token was about to be
 * printed).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeDiscord } from '../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../automation/adapters/rehearsal/fake-telegram';
import { operatorFromEnv } from '../../automation/cli/commands/tokens-target';
import { dr, type CliResult } from '../helpers/cli';
import { discordToken, telegramToken } from '../helpers/token-fakes';

const TG = [telegramToken('cli-tg-0'), telegramToken('cli-tg-1'), telegramToken('cli-tg-2')];
const DC = [discordToken('cli-dc-0'), discordToken('cli-dc-1')];
const BROKEN = telegramToken('cli-broken');
const ALL = [...TG, ...DC, BROKEN];

interface FileBot {
  active: number;
  tokens: string[];
  pin?: { index: number; reason: string; by: string };
  history?: Array<{ what: string; by: string; reason: string }>;
}

describe('dr tokens (local --file, fake Telegram and Discord over HTTP)', () => {
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let dir: string;
  let file: string;
  let env: Record<string, string | undefined>;
  let runs: CliResult[];

  const run = async (argv: string[], extraEnv: Record<string, string | undefined> = {}): Promise<CliResult> => {
    const r = await dr(['tokens', ...argv], { ...env, ...extraEnv }, { cwd: dir });
    runs.push(r);
    return r;
  };
  const onFile = () => JSON.parse(fs.readFileSync(file, 'utf8')) as { bots: Record<string, FileBot> };
  const logFile = () => `${file}.notifications.log`;
  const notices = () => (fs.existsSync(logFile()) ? fs.readFileSync(logFile(), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : []);

  beforeEach(async () => {
    tg = await new FakeTelegram().start();
    dc = await new FakeDiscord().start();
    TG.forEach((t) => tg.addToken(t));
    DC.forEach((t) => dc.addToken(t));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-tokens-cli-'));
    file = path.join(dir, 'tokens.json');
    fs.writeFileSync(file, JSON.stringify({ bots: { community: { platform: 'telegram', active: 0, tokens: TG }, mod: { platform: 'discord', active: 0, tokens: DC } } }, null, 2), { mode: 0o600 });
    env = { DR_TELEGRAM_API_URL: tg.url, DR_DISCORD_API_URL: dc.api, USER: 'alice' };
    runs = [];
  });

  afterEach(async () => {
    await Promise.all([tg.stop(), dc.stop()]);
    const produced = [...runs.flatMap((r) => [r.stdout, r.stderr]), fs.existsSync(logFile()) ? fs.readFileSync(logFile(), 'utf8') : ''].join('\n');
    for (const t of ALL) assert.ok(!produced.includes(t), 'a token value reached stdout, stderr, a JSON document or the notifications log');
    assert.ok(!produced.includes('***'), `something token-like was redacted in the output:\n${produced}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('status: per bot the platform, active token, no pin, never-probed health and no decisions yet; no probing', async () => {
    const r = await run(['status', '--file', 'tokens.json', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = r.json();
    assert.equal(s.store, file);
    assert.deepEqual(s.errors, []);
    assert.deepEqual(s.bots[0], {
      bot: 'community',
      platform: 'telegram',
      active: 0,
      token_count: 3,
      pin: null,
      health: [0, 1, 2].map((index) => ({ index, state: null, consecutive_failures: 0, consecutive_passes: 0, since: null })),
      history: [],
    });
    assert.deepEqual([s.bots[1].bot, s.bots[1].platform, s.bots[1].token_count], ['mod', 'discord', 2]);
    assert.equal(tg.callCount(TG[0]) + dc.callCount(DC[0]), 0, 'status never probes');
    const human = await run(['status', '--file', file]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^community \(telegram\): active token 0 of 3$/m);
    assert.match(human.stdout, /^ {2}token 0 {2}never probed {2}← active$/m);
  });

  it('check --json is exactly { bots: [...] } per the contract; all healthy exits 0 and (without --apply) writes nothing', async () => {
    const before = fs.readFileSync(file, 'utf8');
    const r = await run(['check', '--file', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = r.json();
    assert.deepEqual(Object.keys(j), ['bots']);
    for (const b of j.bots) {
      assert.deepEqual(Object.keys(b), ['bot', 'platform', 'active_before', 'active_after', 'action', 'reason', 'tokens']);
      for (const t of b.tokens) {
        assert.deepEqual(Object.keys(t), ['index', 'state', 'latency_ms']);
        assert.ok(Number.isInteger(t.latency_ms) && t.latency_ms >= 0);
      }
    }
    const zeroLatency = j.bots.map((b: { tokens: Array<{ latency_ms: number }> }) => ({ ...b, tokens: b.tokens.map((t) => ({ ...t, latency_ms: 0 })) }));
    assert.deepEqual(zeroLatency, [
      { bot: 'community', platform: 'telegram', active_before: 0, active_after: 0, action: 'keep', reason: 'healthy', tokens: [0, 1, 2].map((index) => ({ index, state: 'healthy', latency_ms: 0 })) },
      { bot: 'mod', platform: 'discord', active_before: 0, active_after: 0, action: 'keep', reason: 'healthy', tokens: [0, 1].map((index) => ({ index, state: 'healthy', latency_ms: 0 })) },
    ]);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    assert.equal(tg.callCount(TG[2], 'getMe'), 1, 'every token probed once');
    assert.equal(dc.callCount(DC[1], 'GET /users/@me'), 1);
  });

  it('a revoked active token without --apply: the decision (switch) is reported on every run, nothing is written, exit 1', async () => {
    tg.revoke(TG[0]);
    const before = fs.readFileSync(file, 'utf8');
    for (let i = 0; i < 2; i++) {
      const r = await run(['check', '--file', file, '--json']);
      assert.equal(r.code, 1, 'the stored active token is still the revoked one');
      const c = r.json().bots[0];
      assert.deepEqual([c.action, c.reason, c.active_before, c.active_after], ['switch', 'revoked', 0, 1]);
      assert.deepEqual(c.tokens.map((t: { state: string }) => t.state), ['revoked', 'healthy', 'healthy']);
    }
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'nothing written without --apply');
    assert.deepEqual(notices(), [], 'nobody notified without --apply');
    const human = await run(['check', '--file', file]);
    assert.match(human.stdout, /^community \(telegram\): switch \(revoked\), active 0 → 1; not applied \(dry run; --apply writes it\)$/m);
    assert.match(human.stdout, /^ {2}token 0 {2}revoked +\d+ ms {2}401: Unauthorized$/m);
    assert.match(human.stdout, /^ {2}token 1 {2}healthy +\d+ ms/m);
    assert.match(human.stdout, /dry run: nothing was written/);
  });

  it('check --apply: a revoked token switches at once, is written and notified (0600 log), exits 0; the next run keeps', async () => {
    tg.revoke(TG[0]);
    const r = await run(['check', '--apply', '--file', file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^community \(telegram\): switch \(revoked\), active 0 → 1; written, notified$/m);
    assert.match(r.stdout, /^mod \(discord\): keep \(healthy\), active 0 → 0; written$/m);
    const f = onFile();
    assert.equal(f.bots.community.active, 1);
    assert.deepEqual(f.bots.community.history?.map((h) => [h.what, h.by, h.reason]), [['switch', 'operator:alice', 'revoked']]);
    assert.deepEqual(notices().map((n) => [n.kind, n.bot, n.from, n.to, n.by]), [['switch', 'community', 0, 1, 'operator:alice']]);
    assert.equal(fs.statSync(logFile()).mode & 0o777, 0o600);
    const again = await run(['check', '--apply', '--file', file, '--json']);
    assert.equal(again.code, 0);
    assert.deepEqual([again.json().bots[0].action, again.json().bots[0].active_before], ['keep', 1]);
    assert.equal(notices().length, 1, 'a keep is not announced');
  });

  it('a failing (not revoked) active token switches only after N = 3 failed runs in a row', async () => {
    tg.fail(TG[0], { status: 400 });
    const seen: Array<[string, string, number]> = [];
    for (let i = 0; i < 3; i++) {
      const r = await run(['check', '--apply', '--file', file, '--json']);
      const c = r.json().bots[0];
      seen.push([c.action, c.reason, r.code]);
    }
    assert.deepEqual(seen, [
      ['keep', 'failing-below-threshold', 1],
      ['keep', 'failing-below-threshold', 1],
      ['switch', 'failing', 0],
    ]);
    assert.equal(onFile().bots.community.active, 1);
  });

  it('every token of a bot revoked: alert no-healthy-token, the active token is kept, exit 1 (with --apply: one alert notice)', async () => {
    TG.forEach((t) => tg.revoke(t));
    const r = await run(['check', '--apply', '--file', file, '--json']);
    assert.equal(r.code, 1);
    const c = r.json().bots[0];
    assert.deepEqual([c.action, c.reason, c.active_after], ['alert', 'no-healthy-token', 0]);
    assert.equal(r.json().bots[1].action, 'keep', 'the Discord bot is unaffected');
    assert.deepEqual(notices().map((n) => [n.kind, n.reason]), [['alert', 'no-healthy-token']]);
  });

  it('a Telegram outage (5xx): alert platform-degraded, never a switch, exit 1; one platform-degraded notice', async () => {
    tg.outage({ status: 503 });
    for (let i = 0; i < 4; i++) {
      const r = await run(['check', '--apply', '--file', file, '--json']);
      assert.equal(r.code, 1);
      const c = r.json().bots[0];
      assert.deepEqual([c.action, c.reason, c.active_after], ['alert', 'platform-degraded', 0]);
      assert.deepEqual(c.tokens.map((t: { state: string }) => t.state), ['unreachable', 'unreachable', 'unreachable']);
    }
    assert.equal(onFile().bots.community.active, 0);
    assert.deepEqual(notices().map((n) => [n.kind, n.bot]), [['platform-degraded', 'community']]);
    const human = await run(['check', '--file', file]);
    assert.match(human.stdout, /platform API down: telegram/);
  });

  it('a record that cannot be read: status and check report it (stderr, status errors[]) and exit 1; the other bots are checked', async () => {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    doc.bots.broken = { active: 0, tokens: [BROKEN] };
    fs.writeFileSync(file, JSON.stringify(doc));
    const st = await run(['status', '--file', file, '--json']);
    assert.equal(st.code, 1);
    assert.deepEqual(st.json().errors.map((e: { bot: string }) => e.bot), ['broken']);
    assert.match(st.json().errors[0].error, /bot broken\.platform: must be one of telegram, discord/);
    const c = await run(['check', '--file', file, '--json']);
    assert.equal(c.code, 1);
    assert.deepEqual(c.json().bots.map((b: { bot: string }) => b.bot), ['community', 'mod']);
    assert.match(c.stderr, /warning: broken: reading the record from .*: .*platform: must be one of telegram, discord/);
  });

  it('use / unpin round trip: a pinned failing token is not switched away from (alert, exit 1); after unpin the monitor switches', async () => {
    const used = await run(['use', 'community', '2', '--reason', 'drill: token 2 only', '--file', file, '--json']);
    assert.equal(used.code, 0, used.stderr);
    const u = used.json();
    assert.deepEqual([u.ok, u.bot, u.action, u.active_before, u.active_after, u.pin.index, u.pin.by, u.pin.reason, u.notified], [true, 'community', 'pin', 0, 2, 2, 'operator:alice', 'drill: token 2 only', true]);
    assert.match(u.note, /the monitor will not switch away from token 2 while it is pinned, but it still alerts/);
    assert.deepEqual([onFile().bots.community.active, onFile().bots.community.pin?.by], [2, 'operator:alice']);

    tg.revoke(TG[2]);
    const pinned = await run(['check', '--apply', '--file', file, '--json']);
    assert.equal(pinned.code, 1, 'the active (pinned) token is revoked');
    assert.deepEqual([pinned.json().bots[0].action, pinned.json().bots[0].reason, pinned.json().bots[0].active_after], ['alert', 'pinned-token-failing', 2]);

    const st = await run(['status', '--file', file]);
    assert.match(st.stdout, /community \(telegram\): active token 2 of 3, PINNED to token 2 by operator:alice at .*: drill: token 2 only/);
    assert.match(st.stdout, /token 2 {2}revoked {7}failures 3 {2}passes 0 {2}since .* {2}← active/);

    const unpinned = await run(['unpin', 'community', '--file', file], { USER: undefined, LOGNAME: 'bob' });
    assert.equal(unpinned.code, 0, unpinned.stderr);
    assert.match(unpinned.stdout, /^community \(telegram\): pin of token 2 lifted by operator:bob \(was: drill: token 2 only\)$/m);
    assert.match(unpinned.stdout, /^note: token 2 stays active/m);
    const after = await run(['check', '--apply', '--file', file, '--json']);
    assert.equal(after.code, 0);
    assert.deepEqual([after.json().bots[0].action, after.json().bots[0].active_after], ['switch', 0]);
    assert.deepEqual(notices().map((n) => [n.kind, n.by]), [['pin', 'operator:alice'], ['alert', 'operator:alice'], ['unpin', 'operator:bob'], ['switch', 'operator:alice']]);
    assert.deepEqual(onFile().bots.community.history?.map((h) => h.what), ['pin', 'alert', 'unpin', 'switch']);
  });

  it('use warns when the pinned token was last seen failing; --notifications puts the log elsewhere', async () => {
    tg.revoke(TG[1]);
    await run(['check', '--apply', '--file', file]);
    const r = await run(['use', 'community', '1', '--reason', 'vendor says it is fine', '--file', file, '--notifications', 'elsewhere.log']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: token 1's last probe found it revoked; it is pinned anyway/);
    const other = path.join(dir, 'elsewhere.log');
    assert.deepEqual(fs.readFileSync(other, 'utf8').trim().split('\n').map((l) => JSON.parse(l).kind), ['pin']);
    assert.equal(fs.statSync(other).mode & 0o777, 0o600);
  });

  it('bad usage exits 2 and names what is allowed; nothing is written', async () => {
    const before = fs.readFileSync(file, 'utf8');
    const cases: Array<[string[], RegExp]> = [
      [['use', 'ghost', '0', '--reason', 'x', '--file', file], new RegExp(`unknown bot 'ghost'; the bots in ${file.replace(/[.]/g, '\\.')}: community, mod`)],
      [['unpin', 'ghost', '--file', file], /unknown bot 'ghost'; the bots in .*: community, mod/],
      [['use', 'community', '7', '--reason', 'x', '--file', file], /token index 7: the bot has 3 token\(s\), use 0\.\.2/],
      [['use', 'community', 'one', '--reason', 'x', '--file', file], /INDEX must be a token index \(a whole number 0, 1, …\), got 'one'/],
      [['use', 'community', '1', '--file', file], /--reason is required \(say why the token is pinned/],
      [['use', 'community', '1', '--reason', '', '--file', file], /--reason is required/],
      [['use', 'community', '1', '--reason', '   ', '--file', file], /--reason must not be blank/],
      [['use', 'community', '--reason', 'x', '--file', file], /missing INDEX \(arguments: BOT INDEX\)/],
      [['use', 'community', '1', 'extra', '--reason', 'x', '--file', file], /unexpected argument 'extra'/],
      [['unpin', 'community', 'extra', '--file', file], /unexpected argument 'extra'/],
      [['status', 'stray', '--file', file], /unexpected argument 'stray'/],
      [['check', '--file', file, '--nope'], /unknown flag --nope; allowed: --apply, --file/],
      [['unpin', 'community', '--file', file], /the bot has no pinned token, so there is nothing to unpin/],
      [['status', '--file', 'missing.json'], /--file .*missing\.json does not exist/],
      [['status', '--file', file, '--region', 'us-east-1'], /--region is for the AWS target/],
      [['status', '--notifications', 'x.log', '--work-dir', dir], /--notifications is for --file/],
      [['status', '--file', file, '--history', '-1'], /--history must be a whole number 0-100/],
      [['check', '--file', file, '--telegram-api-url', 'not a url'], /--telegram-api-url must be an http\(s\) URL/],
    ];
    for (const [argv, re] of cases) {
      const r = await run(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, argv.join(' '));
    }
    const j = await run(['use', 'community', '9', '--reason', 'x', '--file', file, '--json']);
    assert.deepEqual([j.json().ok, j.json().error, j.json().exit_code], [false, 'UsageError', 2]);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    assert.deepEqual(notices(), []);
  });

  it('--help and dr help show the positional arguments and the flags (with their env variables)', async () => {
    const use = await dr(['tokens', 'use', '--help']);
    assert.equal(use.code, 0);
    assert.match(use.stdout, /^Usage: dr tokens use BOT INDEX \[flags\]$/m);
    assert.match(use.stdout, /^Arguments:\n {2}BOT {2}the bot's name.*\n {2}INDEX {2}the token to pin/m);
    for (const f of ['--reason VALUE', '--file VALUE', '--notifications VALUE', '--outputs-dir VALUE', '--region VALUE', '--primary-stack VALUE', '--json']) assert.ok(use.stdout.includes(`  ${f}`), f);
    const unpin = await dr(['help', 'tokens', 'unpin']);
    assert.match(unpin.stdout, /^Usage: dr tokens unpin BOT \[flags\]$/m);
    const check = await dr(['help', 'tokens', 'check']);
    assert.match(check.stdout, /--apply  write the decisions/);
    assert.match(check.stdout, /--telegram-api-url VALUE .*\[env DR_TELEGRAM_API_URL\]/);
    assert.match(check.stdout, /--discord-api-url VALUE .*\[env DR_DISCORD_API_URL\]/);
    assert.doesNotMatch(check.stdout, /^Usage:/m, 'no positional arguments, no Usage line');
    const all = await dr(['help']);
    for (const n of ['status', 'check', 'use', 'unpin']) assert.match(all.stdout, new RegExp(`^ {2}dr tokens ${n} +\\S`, 'm'));
  });

  it('the actor is operator:<USER, else LOGNAME, else unknown>, cleaned to an actor name', () => {
    assert.equal(operatorFromEnv({ USER: 'alice', LOGNAME: 'x' }), 'operator:alice');
    assert.equal(operatorFromEnv({ LOGNAME: 'bob' }), 'operator:bob');
    assert.equal(operatorFromEnv({}), 'operator:unknown');
    assert.equal(operatorFromEnv({ USER: 'CORP\\carol smith' }), 'operator:CORP-carol-smith');
    assert.equal(operatorFromEnv({ USER: '..' }), 'operator:unknown');
  });

  it('planted tokens: every command, human and --json, in every state, prints none of them (nor does the log)', async () => {
    tg.revoke(TG[0]);
    dc.fail(DC[0], { status: 500 });
    dc.fail(DC[1], { status: 500 });
    tg.fail(TG[2], { status: 502, body: 'html' });
    for (const json of [[], ['--json']]) {
      await run(['status', '--file', file, ...json]);
      await run(['check', '--file', file, ...json]);
      await run(['check', '--apply', '--file', file, ...json]);
      await run(['use', 'community', '2', '--reason', 'pin it', '--file', file, ...json]);
      await run(['check', '--apply', '--file', file, ...json]);
      await run(['status', '--file', file, '--history', '100', ...json]);
      await run(['unpin', 'community', '--file', file, ...json]);
      await run(['use', 'mod', '5', '--reason', 'x', '--file', file, ...json]);
    }
    assert.ok(notices().length >= 4);
    assert.ok(runs.length === 16);
    // The afterEach grep covers every run's stdout and stderr and the notifications log.
  });
});
