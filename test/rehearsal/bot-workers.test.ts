/**
 * The rehearsal's polling workers (issue 11, one consumer per token) against the fake Telegram in-process on
 * 127.0.0.1, with each region's copy of the bot's secret (local-bots.ts) — no database, no other process:
 * - the control: without `active_region` both regions consume, and the fake hands out 409s (what the drill's
 *   "0 conflicts after the switch" would catch);
 * - with it: only the active region consumes; a failover (a's store lost, b's copy promoted and set) moves the
 *   consumption to b with no update lost and no 409; a's worker, started again after the guard set a's copy,
 *   consumes nothing.
 * Every worker and the server are stopped, the temp dir removed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PlatformServer } from '../../automation/adapters/rehearsal/platform-server';
import { BOT_TOKENS_SECRET, killBotSecrets, LocalBotSecrets, localBots, reviveBotSecrets } from '../../automation/adapters/rehearsal/local-bots';
import type { LocalState } from '../../automation/adapters/rehearsal/state';
import { sleep } from '../../automation/core/clock';
import { PollingBotWorker } from '../../automation/rehearsal/bot-worker';
import { makeTempDir, removeDir } from '../helpers/services';
import { telegramToken } from '../helpers/token-fakes';

const TOKEN = telegramToken('bot-workers-community');

describe('rehearsal polling workers: one consumer per token', function () {
  this.timeout(30_000);
  let dir: string;
  let server: PlatformServer;
  let state: LocalState;
  let workers: PollingBotWorker[];
  let pushed: number[];

  beforeEach(async () => {
    dir = makeTempDir('dr-bot-workers-');
    server = await new PlatformServer().start();
    server.telegram.addToken(TOKEN, { username: 'community_bot' });
    const port = (u: string) => Number(new URL(u).port);
    state = {
      dir,
      tokens_file: path.join(dir, 'tokens.json'),
      platform: { telegram_port: port(server.urls.telegram), discord_port: port(server.urls.discord_api), control_port: port(server.urls.control), log: path.join(dir, 'platform.log') },
    } as unknown as LocalState;
    workers = [];
    pushed = [];
  });

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
    await server.stop();
    removeDir(dir);
  });

  const writeCopy = (activeRegion?: string) =>
    fs.writeFileSync(state.tokens_file!, JSON.stringify({ bots: { community: { platform: 'telegram', active: 0, tokens: [TOKEN], ...(activeRegion ? { active_region: activeRegion } : {}) } } }), { mode: 0o600 });
  const worker = async (region: 'a' | 'b') => {
    const w = new PollingBotWorker(state, { region, pollMs: 100 });
    await w.start();
    workers.push(w);
    return w;
  };
  const push = async (n: number) => {
    for (let i = 0; i < n; i++) {
      pushed.push(server.telegram.pushUpdate(TOKEN, { message: { message_id: pushed.length + 1, date: 0, chat: { id: 1, type: 'private' }, text: 'hi' } })!);
      await sleep(20);
    }
  };
  const until = async (what: string, ok: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out: ${what}`);
      await sleep(25);
    }
  };

  it('control: with no active_region both regions consume, and the fake answers 409s', async () => {
    writeCopy();
    const a = await worker('a');
    const b = await worker('b');
    assert.equal(a.consuming && b.consuming, true);
    await push(40);
    await sleep(500);
    const conflicts = server.telegram.conflicts(TOKEN);
    assert.ok(conflicts.length > 0, 'two concurrent consumers of one token conflict');
    assert.ok(conflicts.every((c) => c.kind === 'other-getUpdates' && ['a', 'b'].includes(c.consumer)), JSON.stringify(conflicts));
  });

  it('a failover moves consumption to b: nothing lost, no 409 after the switch; a, back, consumes nothing', async () => {
    writeCopy('a');
    const a = await worker('a');
    const b = await worker('b');
    assert.equal(a.consuming, true);
    assert.equal(b.consuming, false, "b's replica names a");
    await push(20);
    await until('a handled the first 20', () => a.handled.length === 20);
    // Its next poll (which confirms those 20) is waiting at the platform when the region dies.
    await until("a's confirming poll waiting", () => !!server.telegram.consumers(TOKEN).find((c) => c.consumer === 'a')?.waiting);

    // Region a is lost: its worker and its secret store. The failover: b's copy promoted, then active_region=b.
    killBotSecrets(state, 'a');
    await a.crash();
    await new LocalBotSecrets(state).promote('b', BOT_TOKENS_SECRET);
    const tier = localBots(state);
    await assert.rejects(tier.setActiveRegion('a', 'community', 'b', { failover: 'fo-test' }), /region is down|cannot reach/);
    await tier.setActiveRegion('b', 'community', 'b', { failover: 'fo-test' });
    const pushing = push(30);
    await until('b consuming', () => b.consuming);
    await pushing;
    await until('b handled the rest', () => b.handled.length >= 30);

    // a comes back; the guard sets its copy before its workers start.
    reviveBotSecrets(state, 'a');
    await tier.setActiveRegion('a', 'community', 'b', { failover: 'fo-test' });
    const back = await worker('a');
    await push(10);
    await sleep(600);
    assert.equal(back.consuming, false);
    assert.equal(back.polls, 0);
    assert.equal(back.handled.length, 0);

    await until('b handled everything', () => new Set([...a.handled, ...b.handled].map((h) => h.update_id)).size === pushed.length);
    await b.stop();
    assert.deepEqual(server.telegram.queuedUpdates(TOKEN), [], 'b confirmed what it handled when it stopped');
    const after = server.telegram.conflicts(TOKEN).filter((c) => Date.parse(c.at) >= b.consumingSince!);
    assert.deepEqual(after, []);
    assert.deepEqual(server.telegram.conflicts(TOKEN), [], 'none in the whole run');
    assert.equal(a.handled.length + b.handled.length, pushed.length, 'each update handled once (a confirmed before it died)');
  });
});
