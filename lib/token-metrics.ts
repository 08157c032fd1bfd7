/**
 * The CloudWatch metrics contract between the token monitor (publisher: automation/adapters/aws/token-metrics.ts) and
 * its alarms (consumer: components/token-monitor.ts). Pure and Pulumi-free (the Lambda image compiles lib/).
 *
 * Every round of the monitor publishes, per bot and per token index (dimension `TokenIndex` = `0`, `1`, …):
 *  - `TokenHealthy` 1 (the platform accepted the token) or 0 (revoked, failing, unreachable) — nothing for a
 *    rate-limited token, which says nothing about the token;
 *  - `ProbeLatencyMs`, the probe's round trip, when the token was asked this round;
 *  - `RateLimited` 1 (429, or still inside its `retry_after`) or 0.
 * and two summary series per bot under the same metric names and dimensions:
 *  - `TokenIndex` = {@link ACTIVE_TOKEN_INDEX}: the active token's `TokenHealthy`/`ProbeLatencyMs`/`RateLimited`
 *    (after the round's decision), whatever its index — the "active token unhealthy" alarm watches it;
 *  - `TokenIndex` = {@link ANY_TOKEN_INDEX}: `TokenHealthy` 1 when at least one token was healthy this round, else 0
 *    — the "every token unhealthy" (critical) alarm watches it.
 * The dimensions are `Bot` and `TokenIndex` only: never a token, never a token-derived value.
 */

/** Custom metric namespace shared by the monitor's publisher, its IAM condition and its alarms. */
export const TOKEN_METRICS_NAMESPACE = 'BotDR/Tokens';

/** The metric names. */
export const TOKEN_METRICS = Object.freeze({ healthy: 'TokenHealthy', latency: 'ProbeLatencyMs', rateLimited: 'RateLimited' });

/** Dimension names on the token metrics. */
export const TOKEN_METRIC_DIMENSIONS = Object.freeze({ bot: 'Bot', tokenIndex: 'TokenIndex' });

/** `TokenIndex` of the active token's series. */
export const ACTIVE_TOKEN_INDEX = 'active';
/** `TokenIndex` of the "is any token healthy" series. */
export const ANY_TOKEN_INDEX = 'any';

/**
 * Issue 11: per bot (dimension `Bot` only), published by the monitor for the bots whose `mode` it knows:
 *  - `WebhookUrlDrift` 1 when the registered webhook / interactions endpoint is not the expected one (for a polling
 *    bot: a webhook is set; for a gateway-only Discord bot: an endpoint is set), else 0 — every round;
 *  - `WebhookPendingUpdates`: Telegram's `pending_update_count` — every round (the "keeps growing" alarm is metric
 *    math over consecutive minutes, so it needs no state in the monitor);
 *  - `WebhookErrorAgeSeconds`: seconds since Telegram's `last_error_date`, when there is one;
 *  - `MissingChannelRights`: the rights missing over every token × configured channel — once per invocation, for
 *    bots with channels.
 */
export const BOT_METRICS = Object.freeze({ urlDrift: 'WebhookUrlDrift', pending: 'WebhookPendingUpdates', errorAge: 'WebhookErrorAgeSeconds', missingRights: 'MissingChannelRights' });

/** Dimension of the per-bot metrics. */
export const BOT_METRIC_DIMENSIONS = Object.freeze({ bot: 'Bot' });

/** A `last_error_date` younger than this is a recent delivery error (5 minutes; the alarm's threshold). */
export const WEBHOOK_RECENT_ERROR_SECONDS = 300;
