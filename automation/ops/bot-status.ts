/**
 * The per-bot section of `dr status` (issue 11 item 6), on AWS and locally: for each bot its platform; the active
 * token's index and health (probed now, and what the monitor last recorded); where its updates go (the webhook or
 * interactions endpoint, read with the active token — never set here) and Telegram's pending updates; the region
 * whose workers consume (`active_region` in the record, written by the failover); and any channel right missing for
 * any token (the rights matrix). Read-only, and never fatal: a part that cannot be read says why.
 */
import { botTokenProber, type DiscordClientOptions, type TelegramClientOptions } from '../adapters/bots';
import type { Clock } from '../core/clock';
import { errorSummary } from '../core/errors';
import { redact, redactValue } from '../core/redact';
import type { Platform, ProbeState, TokenStore } from '../tokens';
import { checkBotEndpoints, endpointSpecsOf, formatEndpoint, type BotEndpointReport } from './bot-endpoints';
import { botChannelsOf, checkBotPermissions, missingCells, type BotRightsSettings } from './bot-permissions';

/** One bot's line of `dr status`. Never a token or the webhook secret. */
export interface BotStatus {
  bot: string;
  platform: Platform;
  mode: 'webhook' | 'polling';
  /** The active token's index and how many there are (null when the record could not be read). */
  active: number | null;
  token_count: number | null;
  /** The active token probed now; and the monitor's last recorded state of it. */
  health: { state: ProbeState | null; detail?: string; recorded: ProbeState | null };
  /** The region whose bot workers consume (null: the record does not say, every region may). */
  active_region: string | null;
  endpoint?: BotEndpointReport;
  /** How many channels are configured. */
  channels: number;
  /** Every token's missing rights, per channel (empty: all ok); `rights_error` when they could not be read. */
  missing_rights: Array<{ token: number; channel: string; missing: string[]; action?: string }>;
  rights_error?: string;
  error?: string;
}

/** Options of {@link botsStatus}. */
export interface BotsStatusOptions {
  bots: ReadonlyArray<BotRightsSettings & { mode: 'webhook' | 'polling'; webhookUrl?: string }>;
  store: TokenStore;
  telegram?: TelegramClientOptions;
  discord?: DiscordClientOptions;
  clock: Clock;
  signal?: AbortSignal;
}

async function recordPart(b: BotsStatusOptions['bots'][number], o: BotsStatusOptions): Promise<BotStatus> {
  const s: BotStatus = { bot: b.name, platform: b.platform, mode: b.mode, active: null, token_count: null, health: { state: null, recorded: null }, active_region: null, channels: b.channels.length, missing_rights: [] };
  try {
    const { record } = await o.store.read(b.name, { signal: o.signal });
    s.active = record.active;
    s.token_count = record.tokens.length;
    s.active_region = record.active_region ?? null;
    s.health.recorded = record.health?.find((h) => h.index === record.active)?.last_state ?? null;
    const prober = botTokenProber({ telegram: { apiRoot: o.telegram?.apiRoot, timeoutMs: o.telegram?.timeoutMs }, discord: { api: o.discord?.api, timeoutMs: o.discord?.timeoutMs }, clock: o.clock });
    const p = await prober.probe({ platform: record.platform, token: record.tokens[record.active], index: record.active, signal: o.signal });
    s.health.state = p.state;
    if (p.detail) s.health.detail = redact(p.detail);
  } catch (err) {
    s.error = redact(errorSummary(err));
  }
  return s;
}

/** Every bot's status (see the module comment). */
export async function botsStatus(o: BotsStatusOptions): Promise<BotStatus[]> {
  const out = await Promise.all(o.bots.map((b) => recordPart(b, o)));
  const endpoints = await checkBotEndpoints({ bots: endpointSpecsOf(o.bots), store: o.store, apply: false, telegram: o.telegram, discord: o.discord, clock: o.clock, signal: o.signal });
  endpoints.forEach((e, i) => (out[i].endpoint = e));
  const withChannels = o.bots.filter((b) => b.channels.length);
  if (withChannels.length) {
    try {
      const r = await checkBotPermissions({ bots: botChannelsOf(withChannels), store: o.store, telegram: o.telegram, discord: o.discord, clock: o.clock, signal: o.signal });
      for (const s of out) {
        const m = r.matrix.bots.find((x) => x.bot === s.bot);
        if (m) s.missing_rights = missingCells(m);
        const unreadable = m?.tokens.flatMap((t) => t.channels.filter((c) => c.state === 'error').map((c) => `token ${t.index} in ${c.channel}: ${c.detail ?? 'not readable'}`)) ?? [];
        const e = r.errors.find((x) => x.bot === s.bot);
        if (e || unreadable.length) s.rights_error = redact([e?.error, ...unreadable].filter(Boolean).join('; '));
      }
    } catch (err) {
      for (const s of out) if (withChannels.some((b) => b.name === s.bot)) s.rights_error = redact(errorSummary(err));
    }
  }
  return redactValue(out);
}

/** The human section. */
export function formatBotsStatus(list: readonly BotStatus[]): string {
  const lines = ['Bots'];
  for (const s of list) {
    lines.push(`  ${s.bot} (${s.platform}, ${s.mode})`);
    if (s.error) lines.push(`    ERROR      ${s.error}`);
    if (s.active !== null) lines.push(`    token      ${s.active} of ${s.token_count} active: ${s.health.state ?? 'not probed'}${s.health.detail ? ` (${s.health.detail})` : ''}; the monitor last recorded ${s.health.recorded ?? 'nothing yet'}`);
    lines.push(`    region     ${s.active_region ? `${s.active_region} consumes` : 'not recorded (every region may consume)'}`);
    if (s.endpoint) lines.push(`    updates    ${formatEndpoint(s.endpoint)}`);
    if (s.missing_rights.length) for (const m of s.missing_rights) lines.push(`    MISSING    token ${m.token} in ${m.channel}: ${m.missing.join(', ')}${m.action ? ` — ${m.action}` : ''}`);
    else if (!s.rights_error) lines.push(`    rights     ${s.channels ? `every token has every right in its ${s.channels} channel(s)` : 'no channels configured'}`);
    if (s.rights_error) lines.push(`    rights     not all checked: ${s.rights_error}`);
  }
  return redact(lines.join('\n'));
}
