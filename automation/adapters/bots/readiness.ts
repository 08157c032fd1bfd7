/**
 * One bot's readiness observation (automation/readiness `BotView`), the same on AWS and in the rehearsal: its record
 * read from a token store (Secrets Manager in the region that would take over, or the rehearsal's token file), every
 * token probed once (Telegram `getMe`; Discord `users/@me` + `gateway/bot` for session_start_limit), and — where
 * asked — the webhook / interactions endpoint as the platform reports it (with the active token) and the channel
 * rights of every token. Read-only: nothing is set, no decision is written. Token values are registered as secrets
 * by the probers and the rights check, and never part of the view.
 *
 * `count(n)`: the platform requests made, from the adapters' request patterns (a probe is 1 request, +1 for a
 * healthy Discord token's gateway/bot; getWebhookInfo / applications/@me 1; the rights check 1 per token plus 1 per
 * channel on Telegram, 2 per channel on Discord).
 */
import { errorSummary } from '../../core/errors';
import { redact } from '../../core/redact';
import { observationFailed, type BotView, type TokenProbeView } from '../../readiness';
import type { TokenProber, TokenRecord } from '../../tokens';
import { DiscordInteractions } from './discord-interactions';
import { checkPermissions } from './permissions';
import { TelegramWebhooks } from './telegram-webhook';

export interface BotReadinessInput {
  bot: string;
  /** From the configuration, when known (the record's own platform wins once it is read). */
  platform?: 'telegram' | 'discord';
  /** Where the record is read and the tokens probed from (a region, or `local`). */
  from: string;
  channels: readonly string[];
  /** A webhook / interactions endpoint is expected (undefined: not known). */
  webhook?: boolean;
}

export interface BotReadinessDeps {
  /** Read the bot's record (rejects when it cannot be read). */
  read: () => Promise<TokenRecord>;
  prober: TokenProber;
  /** Also read the webhook / interactions endpoint and check every token's channel rights (AWS). */
  platformChecks?: { telegram?: { apiRoot?: string; timeoutMs?: number }; discord?: { api?: string; timeoutMs?: number } };
  count?: (n: number) => void;
  signal?: AbortSignal;
}

const why = (err: unknown) => redact(errorSummary(err));

/** Observe one bot (never rejects: what cannot be read is an observation failure in the view). */
export async function observeBot(b: BotReadinessInput, d: BotReadinessDeps): Promise<BotView> {
  const count = d.count ?? (() => undefined);
  let record: TokenRecord;
  try {
    record = await d.read();
  } catch (err) {
    return { bot: b.bot, platform: b.platform ?? 'unknown', from: b.from, tokens: observationFailed(`reading its record in ${b.from}: ${why(err)}`) };
  }
  const tokens: TokenProbeView[] = [];
  for (const [index, token] of record.tokens.entries()) {
    try {
      const p = await d.prober.probe({ platform: record.platform, token, index, signal: d.signal });
      count(1 + (p.session_start ? 1 : 0));
      tokens.push({ index, state: p.state, ...(p.detail ? { detail: redact(p.detail) } : {}), ...(p.session_start ? { sessionStart: { total: p.session_start.total, remaining: p.session_start.remaining, resetAfterMs: p.session_start.reset_after_ms } } : {}) });
    } catch (err) {
      count(1);
      tokens.push({ index, state: 'failing', detail: `probe error: ${why(err)}` });
    }
  }
  const view: BotView = { bot: b.bot, platform: record.platform, from: b.from, active: record.active, tokens };
  if (!d.platformChecks) return view;
  view.webhook = await webhookOf(b, record, d);
  view.permissions = await permissionsOf(b, record, d, new Set(tokens.filter((t) => t.state === 'healthy').map((t) => t.index)));
  return view;
}

async function webhookOf(b: BotReadinessInput, record: TokenRecord, d: BotReadinessDeps): Promise<BotView['webhook']> {
  const token = record.tokens[record.active];
  d.count?.(1);
  try {
    if (record.platform === 'telegram') {
      const info = await new TelegramWebhooks(d.platformChecks?.telegram).info(token, d.signal);
      return {
        ...(b.webhook !== undefined ? { expected: b.webhook } : {}),
        url: info.url,
        pending: info.pending_update_count,
        ...(info.last_error_date ? { lastErrorAt: new Date(info.last_error_date * 1000).toISOString() } : {}),
        ...(info.last_error_message ? { lastErrorMessage: redact(info.last_error_message) } : {}),
      };
    }
    const app = await new DiscordInteractions(d.platformChecks?.discord).endpoint(token, d.signal);
    return { ...(b.webhook !== undefined ? { expected: b.webhook } : {}), url: app.interactions_endpoint_url ?? '' };
  } catch (err) {
    return observationFailed(`${record.platform === 'telegram' ? 'getWebhookInfo' : 'GET /applications/@me'} with the active token: ${why(err)}`);
  }
}

/** Every token's rights; cells of a token that is not healthy are left to bots.tokens (they can only be errors). */
async function permissionsOf(b: BotReadinessInput, record: TokenRecord, d: BotReadinessDeps, healthy: ReadonlySet<number>): Promise<BotView['permissions']> {
  if (!b.channels.length) return { channels: 0, missing: [], errors: [] };
  d.count?.(record.tokens.length * (1 + b.channels.length * (record.platform === 'discord' ? 2 : 1)));
  try {
    const m = await checkPermissions([{ bot: b.bot, platform: record.platform, channels: b.channels }], { [b.bot]: record.tokens }, { telegram: d.platformChecks?.telegram, discord: d.platformChecks?.discord, signal: d.signal });
    const rows = (m.bots[0]?.tokens ?? []).filter((t) => healthy.has(t.index));
    return {
      channels: b.channels.length,
      missing: rows.flatMap((t) => t.channels.filter((c) => c.state === 'missing').map((c) => ({ index: t.index, channel: c.channel, missing: c.missing }))),
      errors: rows.flatMap((t) => t.channels.filter((c) => c.state === 'error').map((c) => ({ index: t.index, channel: c.channel, detail: redact(c.detail ?? t.detail ?? 'not checked') }))),
    };
  } catch (err) {
    return observationFailed(`channel rights: ${why(err)}`);
  }
}
