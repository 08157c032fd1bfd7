/**
 * The token monitor Lambda's contract (automation/lambda/token-monitor.ts), shared with the component that deploys it
 * (components/token-monitor.ts): its environment (names, meaning, defaults) parsed with {@link parseTokenMonitorEnv}
 * (every problem named at once), its schedule and rounds, and the switch time they predict. Pure: no Pulumi, no I/O.
 *
 * Schedule: the function runs every minute (EventBridge `rate(1 minute)`); one invocation probes in ROUNDS (default
 * 4, 15 s apart), so every token is asked about every 15 s and N = 3 consecutive failures are seen within ~45 s.
 * The rounds must end before the next invocation is due: (rounds − 1) × interval + probe timeout ≤
 * {@link MONITOR_ROUND_BUDGET_SECONDS}.
 */
import { isBotName } from './validators';

/** The EventBridge schedule: every minute (the shortest rate EventBridge offers). */
export const MONITOR_SCHEDULE_EXPRESSION = 'rate(1 minute)';
/** Its period in seconds. */
export const MONITOR_PERIOD_SECONDS = 60;
/** The last round must have ended (probe timeout included) this many seconds after the invocation started. */
export const MONITOR_ROUND_BUDGET_SECONDS = 55;

/** One bot as the monitor's environment lists it (`TOKEN_BOTS`). */
export interface MonitoredBot {
  bot: string;
  platform: 'telegram' | 'discord';
  /** The bot's secret in the function's region: its ARN when the stack owns it, else its deterministic name. */
  secret: string;
  /**
   * Issue 11: how the bot receives updates. With it, the monitor reads the bot's webhook / interactions endpoint on
   * every round (and, acting, sets it on drift and after a switch); without it (an older deployment) it does not.
   */
  mode?: 'webhook' | 'polling';
  /** Telegram's webhook URL / Discord's interactions endpoint (the config's, or the DNS default). */
  webhook_url?: string;
  /** The configured channels: every token's rights there are checked once per invocation. */
  channels?: string[];
  /** Discord: the required PermissionFlagsBits names (default View Channel, Send Messages, Attach Files, Read Message History). */
  permissions?: string[];
}

/** Every variable of the monitor's environment. */
export const TOKEN_MONITOR_ENV = {
  DR_REGION: { required: true, doc: 'Region the monitor runs in (Secrets Manager, CloudWatch and SNS clients; actor monitor@<region>).' },
  TOKEN_BOTS: { required: true, doc: 'JSON list [{ "bot", "platform": "telegram"|"discord", "secret": <ARN or name in this region>, "mode"?: "webhook"|"polling", "webhook_url"?, "channels"?: [...], "permissions"?: [...] }]: the bots whose records the monitor reads, where their updates should go and the channels whose rights every token needs.' },
  TOKEN_MONITOR_ACTIVE: { required: true, doc: 'true when this stack is the active one (primary, or a promoted secondary): only then does the monitor write decisions (and only while the secrets here are writable).' },
  ALERTS_TOPIC_ARN: { required: false, doc: "SNS topic for switches, alerts, platform outages (this region's alerts topic)." },
  METRICS_NAMESPACE: { required: false, doc: 'CloudWatch namespace of TokenHealthy/ProbeLatencyMs/RateLimited; must match the alarms.', default: 'BotDR/Tokens' },
  TOKEN_ROUNDS: { required: false, doc: 'Probe rounds per invocation (1-12).', default: '4' },
  TOKEN_ROUND_INTERVAL_SECONDS: { required: false, doc: 'Seconds between the starts of two rounds (1-55).', default: '15' },
  TOKEN_FAILURES_TO_SWITCH: { required: false, doc: 'N: failed probes in a row before the active token is switched away from (revoked: at once).', default: '3' },
  TOKEN_PASSES_TO_RETURN: { required: false, doc: 'M: healthy probes in a row before a token switched away from may be switched back to.', default: '3' },
  TOKEN_PROBE_TIMEOUT_MS: { required: false, doc: 'Timeout of one probe in milliseconds (1000-20000).', default: '10000' },
  DR_TELEGRAM_API_URL: { required: false, doc: 'Telegram Bot API root (default https://api.telegram.org).' },
  DR_DISCORD_API_URL: { required: false, doc: 'Discord API base (default https://discord.com/api).' },
} as const satisfies Record<string, { required: boolean; doc: string; default?: string }>;

/** A monitor environment variable's name. */
export type TokenMonitorEnvName = keyof typeof TOKEN_MONITOR_ENV;

/** The parsed environment. */
export interface TokenMonitorEnv {
  region: string;
  bots: MonitoredBot[];
  active: boolean;
  alertsTopicArn?: string;
  metricsNamespace: string;
  rounds: number;
  roundIntervalSeconds: number;
  failuresToSwitch: number;
  passesToReturn: number;
  probeTimeoutMs: number;
  telegramApiUrl?: string;
  discordApiUrl?: string;
}

/** Every problem of a monitor environment, reported together. */
export class TokenMonitorEnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`token monitor misconfigured (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` + problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'TokenMonitorEnvError';
  }
}

/** The schedule's figures, checked: an error text for each rule broken. */
export function scheduleProblems(s: { rounds: number; roundIntervalSeconds: number; probeTimeoutMs: number }): string[] {
  const last = (s.rounds - 1) * s.roundIntervalSeconds + Math.ceil(s.probeTimeoutMs / 1000);
  return last > MONITOR_ROUND_BUDGET_SECONDS
    ? [`TOKEN_ROUNDS × TOKEN_ROUND_INTERVAL_SECONDS do not fit the ${MONITOR_PERIOD_SECONDS} s schedule: the last round would end ${last} s after the start ((rounds − 1) × interval + probe timeout must be ≤ ${MONITOR_ROUND_BUDGET_SECONDS} s)`]
    : [];
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');

/** The issue-11 fields of one TOKEN_BOTS entry (all optional). */
function botEndpointFields(o: Record<string, unknown>, i: number, problems: string[]): Pick<MonitoredBot, 'mode' | 'webhook_url' | 'channels' | 'permissions'> {
  const out: Pick<MonitoredBot, 'mode' | 'webhook_url' | 'channels' | 'permissions'> = {};
  if (o.mode !== undefined) {
    if (o.mode === 'webhook' || o.mode === 'polling') out.mode = o.mode;
    else problems.push(`TOKEN_BOTS[${i}].mode must be "webhook" or "polling"`);
  }
  if (o.webhook_url !== undefined) {
    // Never echo it: a webhook URL may carry a secret in its path.
    if (typeof o.webhook_url === 'string' && /^https?:\/\/[^\s/]+/.test(o.webhook_url)) out.webhook_url = o.webhook_url;
    else problems.push(`TOKEN_BOTS[${i}].webhook_url must be an http(s) URL`);
  }
  for (const k of ['channels', 'permissions'] as const) {
    if (o[k] === undefined) continue;
    if (strings(o[k])) out[k] = o[k] as string[];
    else problems.push(`TOKEN_BOTS[${i}].${k} must be a list of non-empty strings`);
  }
  return out;
}

function parseBots(raw: string | undefined, problems: string[]): MonitoredBot[] {
  if (raw === undefined) return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    problems.push('TOKEN_BOTS must be JSON: [{ "bot", "platform", "secret" }]');
    return [];
  }
  if (!Array.isArray(v) || v.length === 0) {
    problems.push('TOKEN_BOTS must be a non-empty JSON list of { "bot", "platform", "secret" }');
    return [];
  }
  const out: MonitoredBot[] = [];
  v.forEach((b: unknown, i) => {
    const o = (b ?? {}) as Record<string, unknown>;
    const ok = typeof o.bot === 'string' && isBotName(o.bot) && (o.platform === 'telegram' || o.platform === 'discord') && typeof o.secret === 'string' && o.secret !== '';
    if (!ok) problems.push(`TOKEN_BOTS[${i}] must be { "bot": <bot name>, "platform": "telegram" | "discord", "secret": <ARN or name> }`);
    else if (out.some((x) => x.bot === o.bot)) problems.push(`TOKEN_BOTS[${i}]: bot ${String(o.bot)} is listed twice`);
    else out.push({ bot: o.bot as string, platform: o.platform as MonitoredBot['platform'], secret: o.secret as string, ...botEndpointFields(o, i, problems) });
  });
  return out;
}

/** Parse and check the monitor's environment; throws one {@link TokenMonitorEnvError} naming every problem. */
export function parseTokenMonitorEnv(env: Record<string, string | undefined>): TokenMonitorEnv {
  const problems: string[] = [];
  const get = (n: TokenMonitorEnvName): string | undefined => (env[n] === undefined || env[n]!.trim() === '' ? undefined : env[n]!.trim());
  const need = (n: TokenMonitorEnvName): string | undefined => {
    const v = get(n);
    if (v === undefined) problems.push(`${n} is required: ${TOKEN_MONITOR_ENV[n].doc}`);
    return v;
  };
  const int = (n: TokenMonitorEnvName, min: number, max: number): number => {
    const d = Number((TOKEN_MONITOR_ENV[n] as { default?: string }).default);
    const v = get(n);
    if (v === undefined) return d;
    const x = Number(v);
    if (!Number.isInteger(x) || x < min || x > max) problems.push(`${n} must be a whole number from ${min} to ${max}, got '${v}'`);
    return Number.isInteger(x) ? x : d;
  };
  const url = (n: 'DR_TELEGRAM_API_URL' | 'DR_DISCORD_API_URL'): string | undefined => {
    const v = get(n);
    if (v !== undefined && !/^https?:\/\/[^\s/]+/.test(v)) problems.push(`${n} must be an http(s) URL`);
    return v;
  };
  const activeRaw = need('TOKEN_MONITOR_ACTIVE');
  if (activeRaw !== undefined && activeRaw !== 'true' && activeRaw !== 'false') problems.push(`TOKEN_MONITOR_ACTIVE must be true or false, got '${activeRaw}'`);
  const out: TokenMonitorEnv = {
    region: need('DR_REGION') ?? '',
    bots: parseBots(need('TOKEN_BOTS'), problems),
    active: activeRaw === 'true',
    alertsTopicArn: get('ALERTS_TOPIC_ARN'),
    metricsNamespace: get('METRICS_NAMESPACE') ?? TOKEN_MONITOR_ENV.METRICS_NAMESPACE.default,
    rounds: int('TOKEN_ROUNDS', 1, 12),
    roundIntervalSeconds: int('TOKEN_ROUND_INTERVAL_SECONDS', 1, 55),
    failuresToSwitch: int('TOKEN_FAILURES_TO_SWITCH', 1, 100),
    passesToReturn: int('TOKEN_PASSES_TO_RETURN', 1, 100),
    probeTimeoutMs: int('TOKEN_PROBE_TIMEOUT_MS', 1000, 20000),
    telegramApiUrl: url('DR_TELEGRAM_API_URL'),
    discordApiUrl: url('DR_DISCORD_API_URL'),
  };
  problems.push(...scheduleProblems(out));
  if (problems.length) throw new TokenMonitorEnvError(problems);
  return out;
}

/** The figures a schedule predicts for a switch (seconds). */
export interface SwitchPrediction {
  /** Longest time between two probes of one token: the round interval, or the gap across two invocations. */
  probeGapSeconds: number;
  /** A revoked token (401/403 fails at once): the next probe, plus its round trip. */
  revokedSeconds: number;
  /** Any other failure, worst case: N probes, each up to one gap apart, the last one timing out. */
  failingSeconds: number;
  /** The same with one whole invocation lost on the way (throttled, or a failed write): + one schedule period. */
  boundSeconds: number;
}

/**
 * What the schedule predicts from a token going bad to the monitor's switch (the write; bots see it at their next
 * read). `roundTripSeconds` is the probe's answer time when the platform answers (default 1 s).
 */
export function predictSwitchSeconds(s: { rounds: number; roundIntervalSeconds: number; failuresToSwitch: number; probeTimeoutMs: number }, roundTripSeconds = 1): SwitchPrediction {
  const probeGapSeconds = Math.max(s.roundIntervalSeconds, MONITOR_PERIOD_SECONDS - (s.rounds - 1) * s.roundIntervalSeconds);
  const timeout = s.probeTimeoutMs / 1000;
  const failingSeconds = s.failuresToSwitch * probeGapSeconds + timeout;
  return { probeGapSeconds, revokedSeconds: probeGapSeconds + roundTripSeconds, failingSeconds, boundSeconds: failingSeconds + MONITOR_PERIOD_SECONDS };
}

/** The function's timeout: the rounds plus a margin for the AWS calls around them. */
export function monitorTimeoutSeconds(s: { rounds: number; roundIntervalSeconds: number; probeTimeoutMs: number }): number {
  return (s.rounds - 1) * s.roundIntervalSeconds + Math.ceil(s.probeTimeoutMs / 1000) + 25;
}
