/**
 * The local token monitor (issue 11) against the platform server in-process on 127.0.0.1 and a tokens file in a
 * temporary directory (no PostgreSQL, no Redis): like the Lambda, it checks every token's channel rights before its
 * first run and the switch prefers a token with every right; after every run it reads each bot's endpoint with the
 * active token and, both rehearsal bots polling, deletes a webhook it finds, also right after a switch. Nothing it
 * reports carries a token.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openRightsGap, REHEARSAL_CHANNEL, REHEARSAL_RIGHTS_GAP, seedRehearsalChannels } from '../../automation/adapters/rehearsal/bot-settings';
import { parsePlatformReadyLine, PlatformControl, platformReadyLine, PlatformServer, type PlatformBot } from '../../automation/adapters/rehearsal/platform-server';
import type { LocalState } from '../../automation/adapters/rehearsal/state';
import type { BotEndpointReport } from '../../automation/ops/bot-endpoints';
import type { PermissionReport } from '../../automation/ops/bot-permissions';
import { runTokenMonitor } from '../../automation/rehearsal/token-monitor';
import type { TokenCheckReport } from '../../automation/tokens';
import { discordToken, telegramToken } from '../helpers/token-fakes';

const TG = [0, 1, 2].map((i) => telegramToken(`local-monitor-tg-${i}`));
const DC = [0, 1].map((i) => discordToken(`local-monitor-dc-${i}`));
/** A webhook someone set on a polling bot's account (loopback: the fake never delivers beyond 127.0.0.1). */
const STRAY = 'https://127.0.0.1:9/telegram/community';

describe('rehearsal: the local token monitor checks rights and endpoints like the Lambda', function () {
  this.timeout(30_000);
  let server: PlatformServer;
  let control: PlatformControl;
  let dir: string;
  let state: LocalState;

  beforeEach(async () => {
    server = await new PlatformServer({ discord: { verifyInteractions: false } }).start();
    const ready = parsePlatformReadyLine(platformReadyLine(server));
    control = new PlatformControl(ready.control, ready.control_key);
    const bots: PlatformBot[] = [
      { name: 'community', platform: 'telegram', tokens: TG },
      { name: 'moderation', platform: 'discord', tokens: DC },
    ];
    for (const b of bots) for (const [i, t] of b.tokens.entries()) await control.op({ op: 'addToken', platform: b.platform, token: t, username: `${b.name}_${i}_bot` });
    await seedRehearsalChannels(control, bots);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-local-monitor-'));
    const tokensFile = path.join(dir, 'tokens.json');
    fs.writeFileSync(tokensFile, JSON.stringify({ bots: Object.fromEntries(bots.map((b) => [b.name, { platform: b.platform, active: 0, tokens: b.tokens }])) }), { mode: 0o600 });
    const port = (u: string) => Number(new URL(u).port);
    state = { dir, platform: { telegram_port: port(server.urls.telegram), discord_port: port(server.urls.discord_api), control_port: port(server.urls.control), log: path.join(dir, 'platform.log') }, tokens_file: tokensFile, token_notices_log: path.join(dir, 'notices.log') } as LocalState;
  });
  afterEach(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const setWebhook = async (token: string) => {
    const res = await fetch(`${server.urls.telegram}/bot${token}/setWebhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: STRAY }) });
    assert.equal(res.status, 200);
  };
  const webhookUrl = async (token: string) => ((await (await fetch(`${server.urls.telegram}/bot${token}/getWebhookInfo`)).json()) as { result: { url: string } }).result.url;

  it('the backup token next in rotation lacks a right: reported with the admin action; the revoked token is switched to the full-rights one; stray webhooks are deleted before and after the switch', async () => {
    await openRightsGap(control, TG[REHEARSAL_RIGHTS_GAP.token]);
    await setWebhook(TG[0]);
    await setWebhook(TG[2]);
    const abort = new AbortController();
    const rights: PermissionReport[] = [];
    const runs: TokenCheckReport[] = [];
    const endpoints: BotEndpointReport[][] = [];
    let revoked = false;
    const monitor = runTokenMonitor({
      state,
      intervalMs: 50,
      rightsEveryRuns: 3,
      signal: abort.signal,
      onRights: (r) => rights.push(r),
      onRun: (r) => runs.push(r),
      onEndpoints: (e) => {
        endpoints.push(e);
        // Once token 0's stray webhook is gone, revoke token 0; stop once the switch's endpoint check ran.
        if (!revoked && e.find((x) => x.bot === 'community')?.action === 'deleted') {
          revoked = true;
          void control.revoke(TG[0]);
        } else if (runs.some((r) => r.bots.some((b) => b.result.action === 'switch')) && e.find((x) => x.bot === 'community')?.active === 2) abort.abort();
      },
    });
    const timer = setTimeout(() => abort.abort(), 15_000);
    await monitor;
    clearTimeout(timer);

    // Rights: every token of both bots, before the first run; only the gap is missing, with the admin action.
    assert.ok(rights.length >= 1, 'no rights check ran');
    const community = rights[0].matrix.bots.find((b) => b.bot === 'community')!;
    assert.deepEqual(community.tokens.map((t) => t.index), [0, 1, 2]);
    const missing = community.tokens.flatMap((t) => t.channels.filter((c) => c.state === 'missing').map((c) => [t.index, c.channel, c.missing, c.action]));
    assert.equal(missing.length, 1);
    assert.deepEqual(missing[0].slice(0, 3), [1, String(REHEARSAL_CHANNEL), ['can_delete_messages']]);
    assert.match(String(missing[0][3]), /^give \S+ the administrator right Delete messages in -1001000000001/);
    assert.ok(rights[0].matrix.bots.find((b) => b.bot === 'moderation')!.tokens.every((t) => t.channels.length === 1 && t.channels.every((c) => c.state === 'ok')));

    // The switch: past token 1 (a right missing) to token 2 (every right), exactly once.
    const switches = runs.flatMap((r) => r.bots.filter((b) => b.result.bot === 'community' && b.result.action === 'switch'));
    assert.equal(switches.length, 1, 'exactly one switch');
    assert.deepEqual([switches[0].result.active_before, switches[0].result.active_after], [0, 2]);
    assert.equal(JSON.parse(fs.readFileSync(state.tokens_file!, 'utf8')).bots.community.active, 2);

    // Endpoints: both stray webhooks deleted (community polls), with the active token at the time; the queue kept.
    const community0 = endpoints.flat().find((e) => e.bot === 'community' && e.action === 'deleted' && e.active === 0);
    const community2 = endpoints.flat().find((e) => e.bot === 'community' && e.action === 'deleted' && e.active === 2);
    assert.ok(community0 && community2, JSON.stringify(endpoints.flat().filter((e) => e.bot === 'community').map((e) => [e.active, e.action])));
    assert.deepEqual([community0.expected, community0.current], [null, STRAY]);
    assert.deepEqual([await webhookUrl(TG[2]), await webhookUrl(TG[1])], ['', '']);
    const deletes = server.telegram.webhookRegistrations(TG[2]).filter((r) => r.method === 'deleteWebhook');
    assert.ok(deletes.length >= 1 && deletes.every((r) => !r.drop_pending_updates), JSON.stringify(deletes));
    // The Discord bot (gateway, no interactions URL) is never changed.
    assert.ok(endpoints.flat().filter((e) => e.bot === 'moderation').every((e) => e.action === 'unchanged'), JSON.stringify(endpoints.flat().filter((e) => e.bot === 'moderation').map((e) => e.action)));

    const text = JSON.stringify({ rights, runs, endpoints }) + fs.readFileSync(state.token_notices_log!, 'utf8');
    for (const t of [...TG, ...DC]) assert.ok(!text.includes(t), 'a token reached a report or a notice');
  });
});
