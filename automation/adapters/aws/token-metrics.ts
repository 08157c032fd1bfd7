/**
 * CloudWatch metrics of the token monitor, in the namespace its alarms watch (lib/token-metrics.ts): per bot and token
 * index `TokenHealthy` (1/0; none while rate-limited), `ProbeLatencyMs` (when asked), `RateLimited` (1/0), plus the
 * bot's `active` and `any` series. Dimensions `Bot` and `TokenIndex` only — built from a check's JSON contract, which
 * never carries a token.
 */
import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ACTIVE_TOKEN_INDEX, ANY_TOKEN_INDEX, BOT_METRIC_DIMENSIONS, BOT_METRICS, TOKEN_METRIC_DIMENSIONS, TOKEN_METRICS, TOKEN_METRICS_NAMESPACE } from '../../../lib/token-metrics';
import type { TokenCheckJson } from '../../tokens';

/** One bot's endpoint as the per-bot metrics need it (issue 11; the shape of ops/bot-endpoints' report). */
export interface EndpointMetricsInput {
  bot: string;
  action: string;
  url_drift: boolean;
  pending_update_count?: number;
  last_error_age_s?: number;
}

/**
 * The per-bot datums (lib/token-metrics.ts `BOT_METRICS`, dimension `Bot` only): drift 0/1 (after the round's fix,
 * if the monitor made one) and, for Telegram, the
 * pending count and the last error's age, for every endpoint that was read (not `unconfigured`, not `error`); the
 * missing channel rights per bot when a rights check ran. Pure.
 */
export function botMetricData(endpoints: readonly EndpointMetricsInput[], missingRights: Readonly<Record<string, number>> | undefined, at: Date): MetricDatum[] {
  const out: MetricDatum[] = [];
  const dims = (bot: string) => [{ Name: BOT_METRIC_DIMENSIONS.bot, Value: bot }];
  for (const e of endpoints) {
    if (e.action === 'unconfigured' || e.action === 'error') continue;
    // After the monitor set (or deleted) it, the endpoint is what it should be: the adapter read it back.
    const drifted = e.url_drift && e.action !== 'set' && e.action !== 'deleted';
    out.push({ MetricName: BOT_METRICS.urlDrift, Dimensions: dims(e.bot), Value: drifted ? 1 : 0, Unit: 'Count', Timestamp: at });
    if (e.pending_update_count !== undefined) out.push({ MetricName: BOT_METRICS.pending, Dimensions: dims(e.bot), Value: e.pending_update_count, Unit: 'Count', Timestamp: at });
    if (e.last_error_age_s !== undefined) out.push({ MetricName: BOT_METRICS.errorAge, Dimensions: dims(e.bot), Value: Math.max(0, e.last_error_age_s), Unit: 'Seconds', Timestamp: at });
  }
  for (const [bot, n] of Object.entries(missingRights ?? {})) out.push({ MetricName: BOT_METRICS.missingRights, Dimensions: dims(bot), Value: n, Unit: 'Count', Timestamp: at });
  return out;
}

/** One bot's check as the metrics need it, and which token is active now (after the decision, or as read). */
export interface TokenMetricsInput {
  check: TokenCheckJson;
  /** The active token's index: `active_after` when the decision was written, `active_before` when only reported. */
  active: number;
}

/** The datums of one round (pure). */
export function tokenMetricData(inputs: readonly TokenMetricsInput[], at: Date): MetricDatum[] {
  const out: MetricDatum[] = [];
  const dims = (bot: string, index: string) => [
    { Name: TOKEN_METRIC_DIMENSIONS.bot, Value: bot },
    { Name: TOKEN_METRIC_DIMENSIONS.tokenIndex, Value: index },
  ];
  const series = (bot: string, index: string, t: TokenCheckJson['tokens'][number]): void => {
    const Dimensions = dims(bot, index);
    const limited = t.state === 'rate-limited';
    if (!limited) out.push({ MetricName: TOKEN_METRICS.healthy, Dimensions, Value: t.state === 'healthy' ? 1 : 0, Unit: 'Count', Timestamp: at });
    if (t.latency_ms > 0) out.push({ MetricName: TOKEN_METRICS.latency, Dimensions, Value: t.latency_ms, Unit: 'Milliseconds', Timestamp: at });
    out.push({ MetricName: TOKEN_METRICS.rateLimited, Dimensions, Value: limited ? 1 : 0, Unit: 'Count', Timestamp: at });
  };
  for (const { check, active } of inputs) {
    for (const t of check.tokens) series(check.bot, String(t.index), t);
    const current = check.tokens.find((t) => t.index === active);
    if (current) series(check.bot, ACTIVE_TOKEN_INDEX, current);
    const known = check.tokens.filter((t) => t.state !== 'rate-limited');
    if (known.length) out.push({ MetricName: TOKEN_METRICS.healthy, Dimensions: dims(check.bot, ANY_TOKEN_INDEX), Value: known.some((t) => t.state === 'healthy') ? 1 : 0, Unit: 'Count', Timestamp: at });
  }
  return out;
}

/** Publishes a round's metrics with `PutMetricData` (≤ 100 datums per call). */
export class CloudWatchTokenMetrics {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly namespace = TOKEN_METRICS_NAMESPACE,
  ) {}

  /** The round's token datums, plus `extra` ones (the per-bot datums of {@link botMetricData}). */
  async publish(inputs: readonly TokenMetricsInput[], at: Date, extra: readonly MetricDatum[] = []): Promise<number> {
    const data = [...tokenMetricData(inputs, at), ...extra];
    for (let i = 0; i < data.length; i += 100) {
      await this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: data.slice(i, i + 100) }));
    }
    return data.length;
  }
}
