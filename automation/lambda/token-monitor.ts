/**
 * The token monitor's Lambda entry (`automation/lambda/token-monitor.handler`, the backup job's image with another
 * handler: components/token-monitor.ts sets `imageConfig.commands`). EventBridge invokes it every minute in EACH
 * region; one invocation runs `runTokenCheck` in rounds (default 4, 15 s apart), so N = 3 consecutive failures of the
 * active token are seen within ~45 s and the switch is written in the same invocation.
 *
 * It ACTS (writes decisions with compare-and-set, notifies SNS) only when both hold:
 *  - its stack is the active one (`TOKEN_MONITOR_ACTIVE=true`: the primary, or a secondary promoted by a failover);
 *  - every bot's secret in its region is writable (`DescribeSecret`: not a replica of another region).
 * Elsewhere — the standby region, or an active stack whose secrets are still replicas — it probes and reports only
 * (metrics and a log line per round; no write, no notification).
 *
 * Metrics per round (lib/token-metrics.ts): `TokenHealthy`, `ProbeLatencyMs`, `RateLimited` with dimensions `Bot` and
 * `TokenIndex`. Token values are registered for redaction as they are read and never reach a log line, a metric, a
 * notification or the result.
 *
 * Issue 11, for the bots whose `mode` TOKEN_BOTS names (ops/bot-endpoints.ts, ops/bot-permissions.ts):
 *  - once per invocation, before the first round: every token's rights in the bot's channels; the matrix feeds the
 *    rounds' decisions (a switch prefers a token with every right) and `MissingChannelRights` (nothing is corrected:
 *    bots cannot grant themselves rights);
 *  - every round, after the decisions: the bot's webhook / interactions endpoint read with its active token
 *    (`WebhookUrlDrift`, `WebhookPendingUpdates`, `WebhookErrorAgeSeconds`); an acting monitor sets it when it drifted
 *    and after each switch it wrote (never `ip_address`, never `drop_pending_updates`), generating the webhook
 *    secret once into the bot's record. A reporting-only monitor sets nothing.
 *
 * Like automation/lambda/handler.ts this is an entry file: {@link handler} reads `process.env` once and builds the
 * clients; everything else goes through {@link runTokenMonitor} with env, clients and clock injected (the tests).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { parseTokenMonitorEnv, type TokenMonitorEnv } from '../../lib/token-monitor';
import { SecretsManagerReplicas } from '../adapters/aws/secrets';
import { SnsNotifier } from '../adapters/aws/sns-notifier';
import { CloudWatchTokenMetrics } from '../adapters/aws/token-metrics';
import { SecretsTokenStore } from '../adapters/aws/token-store';
import { botMetricData } from '../adapters/aws/token-metrics';
import { botTokenProber } from '../adapters/bots/index';
import { type Clock, systemClock } from '../core/clock';
import { errorSummary, OperationError } from '../core/errors';
import { redact } from '../core/redact';
import { checkBotEndpoints, switchedBots, type BotEndpointReport } from '../ops/bot-endpoints';
import { checkBotPermissions, missingRightsByBot } from '../ops/bot-permissions';
import { checkJson, rightsMaps, runTokenCheck, type BotEndpointSpec, type RightsMap, type TokenCheckJson, type TokenCheckReport, type TokenProber } from '../tokens';

/** The AWS clients of the monitor's region. */
export interface TokenMonitorClients {
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
  sns: SNSClient;
}

/** What a run may be given besides env and clients. */
export interface TokenMonitorDeps {
  clock?: Clock;
  /** Log lines (redacted here); default: console.log. */
  log?: (line: string) => void;
  /** Default: the Telegram and Discord probers over `DR_TELEGRAM_API_URL` / `DR_DISCORD_API_URL`. */
  prober?: TokenProber;
  /** The invocation's remaining time (Lambda's `getRemainingTimeInMillis`): a round that cannot finish is not started. */
  remainingMs?: () => number;
}

/** One round's outcome (the JSON contract per bot, never a token). */
export interface TokenMonitorRound {
  at: string;
  bots: TokenCheckJson[];
  errors: TokenCheckReport['errors'];
  degraded: TokenCheckReport['degraded'];
  /** Datums published, or why publishing failed. */
  metrics: number | string;
  /** Issue 11: each managed bot's webhook / interactions endpoint after the decisions (never a token or secret). */
  endpoints?: BotEndpointReport[];
}

/** The invocation's channel-rights check (issue 11): missing rights per bot, bots that could not be checked. */
export interface TokenMonitorRights {
  checked_at: string;
  missing: Record<string, number>;
  errors: Array<{ bot: string; error: string }>;
}

/** What one invocation did. */
export interface TokenMonitorResult {
  region: string;
  /** Whether decisions were written (see the module comment). */
  acting: boolean;
  /** Why it acts or only reports. */
  why: string;
  rounds: TokenMonitorRound[];
  rights?: TokenMonitorRights;
}

type Env = Record<string, string | undefined>;

/**
 * Whether this region may write decisions: its stack is the active one and every bot's secret here is writable.
 * A secret whose writability cannot be read counts as not writable (report only: never write blind).
 */
export async function decideActing(cfg: TokenMonitorEnv, secrets: SecretsManagerClient): Promise<{ acting: boolean; why: string }> {
  if (!cfg.active) return { acting: false, why: `this stack is not the active one (a secondary that is not promoted): probing and reporting only` };
  const check = new SecretsManagerReplicas({ secretsManager: () => secrets, retry: { attempts: 2 } });
  const readOnly: string[] = [];
  for (const b of cfg.bots) {
    try {
      if (!(await check.isPromoted(cfg.region, b.secret))) readOnly.push(`${b.bot} (a read-only replica)`);
    } catch (err) {
      readOnly.push(`${b.bot} (${redact(errorSummary(err))})`);
    }
  }
  if (readOnly.length) return { acting: false, why: `the active stack, but not every secret in ${cfg.region} is writable: ${readOnly.join(', ')}; probing and reporting only until the failover's promote-secrets makes them writable` };
  return { acting: true, why: `the active stack, and every bot's secret in ${cfg.region} is writable` };
}

/** What every round shares. */
interface RoundContext {
  clients: TokenMonitorClients;
  clock: Clock;
  log: (l: string) => void;
  prober: TokenProber;
  store: SecretsTokenStore;
  acting: boolean;
  round: number;
  /** Issue 11: the bots whose endpoint is managed, the rights maps and missing counts of this invocation's check. */
  endpoints: BotEndpointSpec[];
  rights?: { maps: Record<string, RightsMap>; missing: Record<string, number> };
  previousPending: Record<string, number>;
}

/** One round: check every bot, then the managed bots' endpoints, publish the metrics, log one line. */
async function runRound(cfg: TokenMonitorEnv, ctx: RoundContext): Promise<TokenMonitorRound> {
  const { clients, clock, log, prober, store, acting } = ctx;
  const notifier = acting && cfg.alertsTopicArn ? new SnsNotifier({ topics: [cfg.alertsTopicArn], sns: () => clients.sns, clock, retry: { attempts: 2 } }).tokenNotifier() : undefined;
  const report = await runTokenCheck({
    bots: cfg.bots.map((b) => b.bot),
    store,
    prober,
    notifier,
    clock,
    apply: acting,
    actor: `monitor@${cfg.region}`,
    rules: { failuresToSwitch: cfg.failuresToSwitch, passesToReturn: cfg.passesToReturn },
    ...(ctx.rights ? { rights: ctx.rights.maps } : {}),
    log,
  });
  const endpoints = ctx.endpoints.length
    ? await checkBotEndpoints({ bots: ctx.endpoints, store, apply: acting, force: switchedBots(report.bots), previousPending: ctx.previousPending, telegram: { apiRoot: cfg.telegramApiUrl, timeoutMs: cfg.probeTimeoutMs }, discord: { api: cfg.discordApiUrl, timeoutMs: cfg.probeTimeoutMs }, clock, log })
    : undefined;
  for (const e of endpoints ?? []) if (e.pending_update_count !== undefined) ctx.previousPending[e.bot] = e.pending_update_count;
  const at = clock.now();
  let metrics: number | string;
  try {
    metrics = await new CloudWatchTokenMetrics(clients.cloudwatch, cfg.metricsNamespace).publish(
      report.bots.map((b) => ({ check: b.result, active: acting ? b.result.active_after : b.result.active_before })),
      at,
      botMetricData(endpoints ?? [], ctx.round === 1 ? ctx.rights?.missing : undefined, at),
    );
  } catch (err) {
    metrics = redact(`PutMetricData failed: ${errorSummary(err)}`);
  }
  const round: TokenMonitorRound = { at: at.toISOString(), bots: checkJson(report), errors: report.errors, degraded: report.degraded, metrics, ...(endpoints ? { endpoints } : {}) };
  log(JSON.stringify({ msg: 'token check', region: cfg.region, round: ctx.round, acting, ...round }));
  return round;
}

/**
 * The rights check's bound: at most this long before the first round (a platform that does not answer must not eat
 * the invocation; the rounds then decide without a rights map), and each call at most {@link RIGHTS_CALL_TIMEOUT_MS}.
 */
export const RIGHTS_CHECK_BUDGET_MS = 5_000;
export const RIGHTS_CALL_TIMEOUT_MS = 3_000;

/** The invocation's rights check (issue 11): every token of the bots with channels; undefined when none has any. */
async function checkRights(cfg: TokenMonitorEnv, store: SecretsTokenStore, clock: Clock, log: (l: string) => void): Promise<{ maps: Record<string, RightsMap>; missing: Record<string, number>; view: TokenMonitorRights } | undefined> {
  const bots = cfg.bots.filter((b) => b.mode !== undefined && b.channels?.length).map((b) => ({ bot: b.bot, platform: b.platform, channels: b.channels ?? [], ...(b.platform === 'discord' && b.permissions?.length ? { required: b.permissions } : {}) }));
  if (!bots.length) return undefined;
  try {
    const timeoutMs = Math.min(cfg.probeTimeoutMs, RIGHTS_CALL_TIMEOUT_MS);
    const r = await checkBotPermissions({ bots, store, telegram: { apiRoot: cfg.telegramApiUrl, timeoutMs }, discord: { api: cfg.discordApiUrl, timeoutMs }, clock, signal: AbortSignal.timeout(RIGHTS_CHECK_BUDGET_MS) });
    const missing = missingRightsByBot(r.matrix);
    log(JSON.stringify({ msg: 'channel rights', region: cfg.region, checked_at: r.matrix.checked_at, missing, errors: r.errors }));
    return { maps: rightsMaps(r.matrix), missing, view: { checked_at: r.matrix.checked_at, missing, errors: r.errors } };
  } catch (err) {
    log(redact(`channel rights not checked: ${errorSummary(err)}`));
    return undefined;
  }
}

/**
 * One invocation: parse the env (every problem at once), decide whether to act, then the rounds, each starting
 * `TOKEN_ROUND_INTERVAL_SECONDS` after the previous one started. Throws when no bot could be checked in any round, so
 * the function's Errors metric (and the not-running alarm) sees a monitor that reads nothing.
 */
export async function runTokenMonitor(env: Env, clients: TokenMonitorClients, deps: TokenMonitorDeps = {}): Promise<TokenMonitorResult> {
  const cfg = parseTokenMonitorEnv(env);
  const clock = deps.clock ?? systemClock;
  const log = (l: string): void => (deps.log ?? console.log)(redact(l));
  const prober = deps.prober ?? botTokenProber({ clock, telegram: { apiRoot: cfg.telegramApiUrl, timeoutMs: cfg.probeTimeoutMs }, discord: { api: cfg.discordApiUrl, timeoutMs: cfg.probeTimeoutMs } });
  const secretOf = new Map(cfg.bots.map((b) => [b.bot, b]));
  const store = new SecretsTokenStore({
    client: clients.secrets,
    region: cfg.region,
    secretId: (bot) => secretOf.get(bot)?.secret ?? bot,
    platformOf: (bot) => secretOf.get(bot)?.platform,
    clock,
    retry: { attempts: 3 },
    log,
  });
  const { acting, why } = await decideActing(cfg, clients.secrets);
  log(`token monitor in ${cfg.region}: ${acting ? 'acting' : 'reporting only'}: ${why}`);
  const rights = await checkRights(cfg, store, clock, log);
  const endpoints: BotEndpointSpec[] = cfg.bots.flatMap((b) => (b.mode ? [{ bot: b.bot, platform: b.platform, mode: b.mode, ...(b.webhook_url ? { webhookUrl: b.webhook_url } : {}) }] : []));
  const previousPending: Record<string, number> = {};
  const rounds: TokenMonitorRound[] = [];
  const start = clock.now().getTime();
  for (let round = 0; round < cfg.rounds; round++) {
    const wait = start + round * cfg.roundIntervalSeconds * 1000 - clock.now().getTime();
    if (wait > 0) await clock.sleep(wait);
    const left = deps.remainingMs?.();
    if (left !== undefined && left < cfg.probeTimeoutMs + 5_000) {
      log(`token monitor in ${cfg.region}: round ${round + 1} of ${cfg.rounds} not started: ${left} ms left`);
      break;
    }
    rounds.push(await runRound(cfg, { clients, clock, log, prober, store, acting, round: round + 1, endpoints, ...(rights ? { rights } : {}), previousPending }));
  }
  if (rounds.length && rounds.every((r) => r.bots.length === 0)) {
    throw new OperationError(redact(`token monitor in ${cfg.region}: no bot could be checked in ${rounds.length} round(s): ${rounds[0].errors.map((e) => `${e.bot}: ${e.error}`).join('; ')}`));
  }
  return { region: cfg.region, acting, why, rounds, ...(rights ? { rights: rights.view } : {}) };
}

/** Lambda entry (EventBridge schedule; the event is not read). */
export async function handler(_event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<TokenMonitorResult> {
  const env = process.env;
  const region = env.DR_REGION ?? env.AWS_REGION;
  const clients: TokenMonitorClients = {
    secrets: new SecretsManagerClient({ region }),
    cloudwatch: new CloudWatchClient({ region }),
    sns: new SNSClient({ region }),
  };
  const remainingMs = context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis!() : undefined;
  const result = await runTokenMonitor(env, clients, { ...(remainingMs ? { remainingMs } : {}) });
  console.log(redact(JSON.stringify({ msg: 'token monitor done', region: result.region, acting: result.acting, rounds: result.rounds.length })));
  return result;
}
