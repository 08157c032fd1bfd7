/**
 * Planted tokens appear nowhere people or machines read: not in runTokenCheck results or their JSON, not in the
 * record's history or health, not in notices, not in log lines (the Secrets Manager store's retry lines included),
 * not in error entries — even when a prober or a store puts the token into an error message.
 */
import assert from 'node:assert/strict';
import { SecretsTokenStore } from '../../automation/adapters/aws/token-store';
import { botTokenProber } from '../../automation/adapters/bots';
import { FakeDiscord } from '../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../automation/adapters/rehearsal/fake-telegram';
import { applyManualChange, checkJson, runTokenCheck, type TokenCheckReport, type TokenProber, type TokenStore } from '../../automation/tokens';
import { FakeClock } from '../helpers/aws-world';
import { TokenSecrets } from '../helpers/token-secrets';
import { discordToken, RecordingNotifier, telegramToken } from '../helpers/token-fakes';

const TG = [telegramToken('leak-tg-0'), telegramToken('leak-tg-1'), telegramToken('leak-tg-2')];
const DC = [discordToken('leak-dc-0'), discordToken('leak-dc-1')];
const ALL = [...TG, ...DC];

function assertClean(what: string, value: unknown): void {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  for (const t of ALL) assert.ok(!text.includes(t), `${what} contains a planted token`);
}

describe('tokens: no token value in any output (planted-token grep)', () => {
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let sm: TokenSecrets;
  let clock: FakeClock;
  let notifier: RecordingNotifier;
  let logs: string[];
  const reports: TokenCheckReport[] = [];

  beforeEach(async () => {
    clock = new FakeClock();
    tg = await new FakeTelegram({ now: () => clock.t }).start();
    dc = await new FakeDiscord({ now: () => clock.t }).start();
    TG.forEach((t) => tg.addToken(t));
    DC.forEach((t) => dc.addToken(t));
    sm = new TokenSecrets().create('botdr/bot-tokens/community', { active: 0, tokens: TG, platform: 'telegram' }).create('botdr/bot-tokens/mod', { active: 0, tokens: DC, platform: 'discord' });
    notifier = new RecordingNotifier();
    logs = [];
  });
  afterEach(async () => {
    await Promise.all([tg.stop(), dc.stop()]);
    sm.restore();
  });

  const secrets = () => new SecretsTokenStore({ client: sm.client, region: 'us-east-1', secretId: (b) => `botdr/bot-tokens/${b}`, clock, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, log: (l) => logs.push(l) });
  const prober = () => botTokenProber({ telegram: { apiRoot: tg.url, timeoutMs: 300 }, discord: { api: dc.api, timeoutMs: 300 }, clock });
  const run = async (store: TokenStore, p: TokenProber = prober()) => {
    const r = await runTokenCheck({ bots: ['community', 'mod'], store, prober: p, notifier, clock, apply: true, actor: 'monitor@us-east-1', log: (l) => logs.push(l), rules: { realertAfterMs: 0 } });
    reports.push(r);
    clock.t += 60_000;
    return r;
  };

  it('every state and decision on Secrets Manager: switch, 429, outage, hang, all revoked, a pin; throttled writes', async () => {
    sm.throttleNext.PutSecretValue = 1;
    sm.throttleNext.DescribeSecret = 1;
    tg.revoke(TG[0]);
    dc.rateLimit(DC[0], 90);
    await run(secrets());
    tg.outage(true);
    dc.clearRateLimit(DC[0]);
    dc.fail(DC[0], 'hang');
    await run(secrets());
    tg.outage(false);
    TG.forEach((t) => tg.revoke(t));
    dc.heal(DC[0]).revoke(DC[0]).revoke(DC[1]);
    await run(secrets());
    await applyManualChange({ store: secrets(), bot: 'mod', change: { kind: 'pin', index: 1, reason: 'hand-over' }, actor: 'operator:alice', clock, notifier });
    await run(secrets());
    assert.ok(logs.some((l) => /ThrottlingException/.test(l)), 'the retry lines were produced (and checked)');
    assert.ok(notifier.notices.some((n) => n.kind === 'switch') && notifier.notices.some((n) => n.kind === 'platform-degraded') && notifier.notices.some((n) => n.kind === 'pin'));
    assertClean('a report', reports);
    assertClean('the --json output', reports.map(checkJson));
    assertClean('a notice', notifier.notices);
    assertClean('a log line', logs);
    for (const bot of ['community', 'mod']) {
      const rec = sm.current(`botdr/bot-tokens/${bot}`);
      assertClean(`${bot} history`, rec.history);
      assertClean(`${bot} health`, rec.health);
      assertClean(`${bot} pin`, rec.pin ?? null);
    }
  });

  it('a prober and a store that put the token into their error messages are scrubbed', async () => {
    const leakyProber: TokenProber = { probe: async (req) => Promise.reject(new Error(`GET https://api.example/bot${req.token}/getMe failed`)) };
    const inner = secrets();
    const leakyStore: TokenStore = {
      location: inner.location,
      read: (b, o) => inner.read(b, o),
      currentVersion: (b, o) => inner.currentVersion(b, o),
      write: async (_bot, rec) => Promise.reject(new Error(`AccessDenied writing ${rec.tokens.join(',')}`)),
    };
    const r = await run(leakyStore, leakyProber);
    assert.deepEqual(r.bots.map((b) => b.result.tokens[0].state), ['failing', 'failing']);
    assert.match(r.bots[0].details[0].detail ?? '', /probe error: GET https:\/\/api\.example\/bot\*\*\*\/getMe failed/);
    assert.deepEqual(r.errors.map((e) => e.bot), ['community', 'mod']);
    assert.ok(r.errors.every((e) => /writing the decision: AccessDenied writing \*\*\*,\*\*\*/.test(e.error)), JSON.stringify(r.errors));
    assert.deepEqual(r.bots.map((b) => b.write), ['failed', 'failed']);
    assertClean('a report', r);
    assertClean('a log line', logs);
  });
});
