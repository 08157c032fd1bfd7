/**
 * The token monitor's contract (lib/token-monitor.ts, lib/token-metrics.ts): its environment with defaults and one
 * error listing every problem, the schedule's budget, the predicted switch time, and the metric datums (dimensions
 * Bot and TokenIndex only, no TokenHealthy while rate-limited, the `active` and `any` series).
 */
import { strict as assert } from 'node:assert';
import { tokenMetricData } from '../../automation/adapters/aws/token-metrics';
import { MONITOR_PERIOD_SECONDS, monitorTimeoutSeconds, parseTokenMonitorEnv, predictSwitchSeconds, scheduleProblems, TOKEN_MONITOR_ENV, TokenMonitorEnvError } from '../../lib/token-monitor';
import { TOKEN_METRICS_NAMESPACE } from '../../lib/token-metrics';

const BOTS = JSON.stringify([{ bot: 'community', platform: 'telegram', secret: 'botdr/bot-tokens/community' }]);

describe('lib/token-monitor: environment, schedule and predicted switch time', () => {
  it('parses a minimal environment with the documented defaults', () => {
    const e = parseTokenMonitorEnv({ DR_REGION: 'us-east-1', TOKEN_BOTS: BOTS, TOKEN_MONITOR_ACTIVE: 'false' });
    assert.deepEqual(e, {
      region: 'us-east-1',
      bots: [{ bot: 'community', platform: 'telegram', secret: 'botdr/bot-tokens/community' }],
      active: false,
      alertsTopicArn: undefined,
      metricsNamespace: TOKEN_METRICS_NAMESPACE,
      rounds: 4,
      roundIntervalSeconds: 15,
      failuresToSwitch: 3,
      passesToReturn: 3,
      probeTimeoutMs: 10_000,
      telegramApiUrl: undefined,
      discordApiUrl: undefined,
    });
    assert.equal(TOKEN_MONITOR_ENV.METRICS_NAMESPACE.default, TOKEN_METRICS_NAMESPACE);
  });

  it('names every problem at once', () => {
    try {
      parseTokenMonitorEnv({ TOKEN_BOTS: '[{"bot":"a","platform":"irc","secret":"s"},{"bot":"b","platform":"discord","secret":"x"},{"bot":"b","platform":"discord","secret":"y"}]', TOKEN_ROUND_INTERVAL_SECONDS: '0', DR_DISCORD_API_URL: 'discord.com' });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof TokenMonitorEnvError);
      assert.deepEqual(e.problems.map((p) => p.split(' ')[0]), ['TOKEN_MONITOR_ACTIVE', 'DR_REGION', 'TOKEN_BOTS[0]', 'TOKEN_BOTS[2]:', 'TOKEN_ROUND_INTERVAL_SECONDS', 'DR_DISCORD_API_URL']);
    }
  });

  it('the rounds must end before the next invocation is due', () => {
    assert.deepEqual(scheduleProblems({ rounds: 4, roundIntervalSeconds: 15, probeTimeoutMs: 10_000 }), []);
    assert.match(scheduleProblems({ rounds: 5, roundIntervalSeconds: 15, probeTimeoutMs: 10_000 })[0], /would end 70 s after the start/);
    assert.equal(monitorTimeoutSeconds({ rounds: 4, roundIntervalSeconds: 15, probeTimeoutMs: 10_000 }), 80);
  });

  it('predicts the switch time of the defaults well inside seed 000\'s 2 minutes', () => {
    const p = predictSwitchSeconds({ rounds: 4, roundIntervalSeconds: 15, failuresToSwitch: 3, probeTimeoutMs: 10_000 });
    // Every token is asked every 15 s (4 rounds 15 s apart, and 60 − 45 = 15 s across two invocations).
    assert.deepEqual(p, { probeGapSeconds: 15, revokedSeconds: 16, failingSeconds: 55, boundSeconds: 115 });
    assert.ok(p.boundSeconds < 120);
    // One probe per invocation (the first idea): N minutes.
    assert.equal(predictSwitchSeconds({ rounds: 1, roundIntervalSeconds: 15, failuresToSwitch: 3, probeTimeoutMs: 10_000 }).failingSeconds, 3 * MONITOR_PERIOD_SECONDS + 10);
  });
});

describe('adapters/aws/token-metrics: the datums of one round', () => {
  const at = new Date('2026-11-22T10:00:00Z');
  const data = tokenMetricData(
    [
      {
        active: 1,
        check: {
          bot: 'community',
          platform: 'telegram',
          active_before: 0,
          active_after: 1,
          action: 'switch',
          reason: 'revoked',
          tokens: [
            { index: 0, state: 'revoked', latency_ms: 30 },
            { index: 1, state: 'healthy', latency_ms: 40 },
            { index: 2, state: 'rate-limited', latency_ms: 0 },
          ],
        },
      },
    ],
    at,
  );
  const get = (name: string, index: string) => data.filter((d) => d.MetricName === name && d.Dimensions![1].Value === index).map((d) => d.Value);

  it('per token: healthy 1/0, latency when asked, rate-limited 1/0; nothing healthy-or-not for a rate-limited token', () => {
    assert.deepEqual([get('TokenHealthy', '0'), get('TokenHealthy', '1'), get('TokenHealthy', '2')], [[0], [1], []]);
    assert.deepEqual([get('ProbeLatencyMs', '0'), get('ProbeLatencyMs', '2')], [[30], []]);
    assert.deepEqual([get('RateLimited', '1'), get('RateLimited', '2')], [[0], [1]]);
  });

  it('the active token (after the decision) and "any token healthy"; dimensions Bot and TokenIndex only', () => {
    assert.deepEqual(get('TokenHealthy', 'active'), [1]);
    assert.deepEqual(get('ProbeLatencyMs', 'active'), [40]);
    assert.deepEqual(get('TokenHealthy', 'any'), [1]);
    for (const d of data) {
      assert.deepEqual(d.Dimensions!.map((x) => x.Name), ['Bot', 'TokenIndex']);
      assert.equal(d.Dimensions![0].Value, 'community');
      assert.equal(d.Timestamp, at);
    }
  });
});
