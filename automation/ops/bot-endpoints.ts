/**
 * Where every bot's updates go (issue 11 items 1 and 2), checked with the bot's ACTIVE token and — when applying —
 * put right: the Telegram webhook (`getWebhookInfo` on every check; `setWebhook` when the URL drifted or a pinned IP
 * no longer matches, and after every token switch; `deleteWebhook` for a polling bot that has one) and the Discord
 * interactions endpoint (`GET /applications/@me`; `PATCH` when it drifted). Run by the token monitor after its
 * decisions (the Lambda, the rehearsal's monitor) and read-only by `dr status`.
 *
 * What is never sent: `ip_address` (updates follow DNS), `drop_pending_updates` (updates queued during a failover are
 * delivered to the survivor); `allowed_updates` and `max_connections` are kept as getWebhookInfo reports them (the
 * adapter, adapters/bots/telegram-webhook.ts). The `secret_token` is the bot's kept `webhook_secret`, generated once
 * and stored in the record with compare-and-set (`ensureWebhookSecret`).
 *
 * Without `apply` (the standby region's monitor, `dr status`) nothing is written or set: a drift is reported with
 * action `not-applied`. A webhook bot without a URL (no webhookUrl and no DNS) is `unconfigured`: reported, never set.
 * One bot's trouble never stops the others (its report carries `error`). No token and no secret reaches a report.
 */
import type { Clock } from '../core/clock';
import { errorSummary } from '../core/errors';
import { redact, redactValue } from '../core/redact';
import { DiscordInteractions, TelegramWebhooks, type DiscordClientOptions, type TelegramClientOptions } from '../adapters/bots';
import { ensureWebhookSecret, expectedEndpoint, interactionsDrift, webhookDrift, type BotEndpointSpec, type BotMode, type Platform, type TokenStore, type WebhookSecretOutcome } from '../tokens';

/** What happened to one bot's endpoint. */
export type EndpointAction = 'unchanged' | 'set' | 'deleted' | 'reported' | 'not-applied' | 'unconfigured' | 'error';

/** One bot's endpoint as found (and fixed). Never a token or the secret. */
export interface BotEndpointReport {
  bot: string;
  platform: Platform;
  mode: BotMode;
  /** The active token's index (the token whose bot account was asked). */
  active?: number;
  /** Where updates should go: a URL, or null (polling, gateway only, or not configured). */
  expected: string | null;
  /** Where they go now (before any change): a URL, or null when nothing is registered. */
  current: string | null;
  /** After a change, what the platform reports now. */
  after?: string | null;
  action: EndpointAction;
  /** The URL differs from the expected one (the drift metric: 1); false when not configured. */
  url_drift: boolean;
  /** Drift reasons (`url-mismatch`, `ip-pinned`, `recent-error`, `pending-growing`, `unset`, `unexpected`). */
  reasons: string[];
  /** One redacted sentence per reason, or why nothing was done. */
  details: string[];
  /** Telegram: `pending_update_count`, seconds since `last_error_date`, whether that is within 5 minutes. */
  pending_update_count?: number;
  last_error_age_s?: number;
  recent_error?: boolean;
  pending_growing?: boolean;
  allowed_updates?: string[];
  /** Telegram webhook bots: the secret was kept, generated now, or taken from another monitor's write. */
  secret?: WebhookSecretOutcome | 'missing';
  /** Forced set after a token switch. */
  forced?: boolean;
  error?: string;
}

/** Options of {@link checkBotEndpoints}. */
export interface EndpointCheckOptions {
  bots: readonly BotEndpointSpec[];
  store: TokenStore;
  /** Set, patch, delete and generate the secret. False: read and report only. */
  apply: boolean;
  /** Bots whose active token just changed: set their webhook / endpoint even when nothing drifted. */
  force?: ReadonlySet<string>;
  /** Per bot, `pending_update_count` of the previous check (for `pending-growing`). */
  previousPending?: Readonly<Record<string, number>>;
  telegram?: TelegramClientOptions;
  discord?: DiscordClientOptions;
  clock: Clock;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

function base(spec: BotEndpointSpec, expected: string | null): BotEndpointReport {
  return { bot: spec.bot, platform: spec.platform, mode: spec.mode, expected, current: null, action: 'unchanged', url_drift: false, reasons: [], details: [] };
}

async function telegramEndpoint(spec: BotEndpointSpec, token: string, expectedUrl: string, o: EndpointCheckOptions, r: BotEndpointReport): Promise<void> {
  const hooks = new TelegramWebhooks({ ...o.telegram, clock: o.clock });
  let secretToken: string | undefined;
  if (expectedUrl !== '') {
    const s = await ensureWebhookSecret({ store: o.store, bot: spec.bot, apply: o.apply, signal: o.signal });
    secretToken = s.secret;
    r.secret = s.secret === undefined ? 'missing' : s.outcome;
  }
  const force = o.force?.has(spec.bot) === true && expectedUrl !== '';
  const info = await hooks.info(token, o.signal);
  const drift = webhookDrift({ expectedUrl, info, now: o.clock.now(), previousPending: o.previousPending?.[spec.bot] });
  Object.assign(r, {
    current: info.url || null,
    url_drift: drift.reasons.includes('url-mismatch'),
    reasons: drift.reasons,
    details: drift.details,
    pending_update_count: info.pending_update_count,
    recent_error: drift.reasons.includes('recent-error'),
    pending_growing: drift.reasons.includes('pending-growing'),
    ...(drift.lastErrorAgeS !== undefined ? { last_error_age_s: drift.lastErrorAgeS } : {}),
    ...(info.allowed_updates ? { allowed_updates: info.allowed_updates } : {}),
    ...(force ? { forced: true } : {}),
  });
  if (!drift.reset && !force) return;
  if (!o.apply || (expectedUrl !== '' && secretToken === undefined)) {
    r.action = 'not-applied';
    r.details.push(o.apply ? 'no webhook secret is stored yet: not set' : 'read-only run: nothing set');
    return;
  }
  const done = await hooks.ensure(token, { expectedUrl, secretToken, force, previousPending: o.previousPending?.[spec.bot] }, o.signal);
  r.action = done.action;
  r.after = done.after ? done.after.url || null : r.current;
}

async function discordEndpoint(spec: BotEndpointSpec, token: string, expected: string | null, o: EndpointCheckOptions, r: BotEndpointReport): Promise<void> {
  const ix = new DiscordInteractions(o.discord);
  const before = await ix.endpoint(token, o.signal);
  const drift = interactionsDrift(expected, before.interactions_endpoint_url);
  const force = o.force?.has(spec.bot) === true && expected !== null;
  Object.assign(r, { current: before.interactions_endpoint_url, url_drift: drift.drifted, reasons: drift.reason ? [drift.reason] : [], details: drift.detail ? [drift.detail] : [], ...(force ? { forced: true } : {}) });
  if (drift.reason === 'unexpected') {
    r.action = 'reported';
    return;
  }
  if (!drift.drifted && !force) return;
  if (!o.apply) {
    r.action = 'not-applied';
    r.details.push('read-only run: nothing patched');
    return;
  }
  const after = await ix.setEndpoint(token, expected, o.signal);
  r.action = 'set';
  r.after = after.interactions_endpoint_url;
}

/** Check (and with `apply`, fix) one bot's endpoint; never throws (see `error`). */
async function checkOne(spec: BotEndpointSpec, o: EndpointCheckOptions): Promise<BotEndpointReport> {
  const want = expectedEndpoint(spec);
  const expected = want.kind === 'telegram-webhook' || want.kind === 'discord-interactions' ? want.url : null;
  const r = base(spec, expected);
  if (want.kind === 'unconfigured') {
    r.action = 'unconfigured';
    r.details.push(redact(want.why));
    return r;
  }
  try {
    const { record } = await o.store.read(spec.bot, { signal: o.signal });
    r.active = record.active;
    const token = record.tokens[record.active];
    if (spec.platform === 'telegram') await telegramEndpoint(spec, token, want.kind === 'telegram-webhook' ? want.url : '', o, r);
    else await discordEndpoint(spec, token, expected, o, r);
  } catch (err) {
    r.action = 'error';
    r.error = redact(errorSummary(err));
  }
  return redactValue(r);
}

/** Every bot's endpoint, one after another (a handful of bots; the platforms rate-limit per token). */
export async function checkBotEndpoints(o: EndpointCheckOptions): Promise<BotEndpointReport[]> {
  const out: BotEndpointReport[] = [];
  for (const spec of o.bots) {
    const r = await checkOne(spec, o);
    if (r.action !== 'unchanged' || r.reasons.length) o.log?.(redact(`endpoint ${r.bot} (${r.platform}, ${r.mode}): ${r.action}${r.forced ? ' (after a token switch)' : ''}; ${[...r.details, r.error ?? ''].filter(Boolean).join('; ') || 'as expected'}`));
    out.push(r);
  }
  return out;
}

/** The {@link BotEndpointSpec}s of configured bots (lib/config.ts `BotSettings` has these fields). */
export function endpointSpecsOf(bots: ReadonlyArray<{ name: string; platform: Platform; mode: BotMode; webhookUrl?: string }>): BotEndpointSpec[] {
  return bots.map((b) => ({ bot: b.name, platform: b.platform, mode: b.mode, ...(b.webhookUrl ? { webhookUrl: b.webhookUrl } : {}) }));
}

/** The bots whose decision this round switched their active token (and whose write won). */
export function switchedBots(checks: ReadonlyArray<{ result: { bot: string; action: string }; write: string }>): Set<string> {
  return new Set(checks.filter((c) => c.result.action === 'switch' && c.write === 'written').map((c) => c.result.bot));
}

/** Human lines of endpoint reports (for `dr status`, the monitor's logs). */
export function formatEndpoint(r: BotEndpointReport): string {
  const where = r.platform === 'telegram' ? (r.mode === 'polling' ? 'polling (no webhook expected)' : `webhook ${r.expected ?? 'NOT CONFIGURED'}`) : r.expected ? `interactions ${r.expected}` : 'gateway (no interactions endpoint expected)';
  const now = r.error ? `ERROR ${r.error}` : r.action === 'unconfigured' ? r.details.join('; ') : `${r.url_drift ? `DRIFTED: now ${r.current ?? 'none'}` : 'as expected'}${r.pending_update_count !== undefined ? `, ${r.pending_update_count} pending update(s)` : ''}${r.recent_error ? `, last delivery error ${r.last_error_age_s} s ago` : ''}`;
  return redact(`${where}: ${now}${r.action === 'set' || r.action === 'deleted' ? ` → ${r.action}` : ''}`);
}
