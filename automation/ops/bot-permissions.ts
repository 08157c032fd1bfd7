/**
 * The bot × token × channel rights matrix of the configured bots (issue 11 item 4, seed 000 AC3): every token of
 * every bot — read from the bot's record, never printed — checked in every configured channel
 * (adapters/bots/permissions.ts), with its human form, its verdict (`dr bots check-permissions` exits 1 unless every
 * cell is ok), its JSON form and the difference from a saved matrix (`dr restore config`).
 *
 * Bots cannot grant themselves rights, so nothing is corrected: each missing cell says which admin action is needed.
 * A bot whose record cannot be read is an entry in `errors` (the others are still checked).
 */
import { checkPermissions, type BotChannels, type DiscordClientOptions, type TelegramClientOptions } from '../adapters/bots';
import type { Clock } from '../core/clock';
import { errorSummary } from '../core/errors';
import { redact } from '../core/redact';
import { matrixCounts, type BotRights, type MatrixDiff, type PermissionMatrix, type Platform, type TokenStore } from '../tokens';

/** A bot's settings as the config gives them (lib/config.ts `BotSettings` has these fields). */
export interface BotRightsSettings {
  name: string;
  platform: Platform;
  channels: readonly string[];
  /** Discord: the required PermissionFlagsBits names; ignored for Telegram (its rights follow the chat type). */
  permissions?: readonly string[];
}

/** The {@link BotChannels} of configured bots (Telegram bots carry no required set). */
export function botChannelsOf(bots: readonly BotRightsSettings[]): BotChannels[] {
  return bots.map((b) => ({ bot: b.name, platform: b.platform, channels: [...b.channels], ...(b.platform === 'discord' && b.permissions?.length ? { required: [...b.permissions] } : {}) }));
}

/** Options of {@link checkBotPermissions}. */
export interface PermissionCheckOptions {
  /** The bots with their configured channels (and, for Discord, the required permissions). */
  bots: readonly BotChannels[];
  store: TokenStore;
  telegram?: TelegramClientOptions;
  discord?: DiscordClientOptions;
  clock: Clock;
  signal?: AbortSignal;
}

/** A matrix and the bots that could not be checked at all. */
export interface PermissionReport {
  matrix: PermissionMatrix;
  errors: Array<{ bot: string; error: string }>;
}

/** Read every bot's tokens from its record and check them all (see the module comment). */
export async function checkBotPermissions(o: PermissionCheckOptions): Promise<PermissionReport> {
  const errors: PermissionReport['errors'] = [];
  const tokens: Record<string, string[]> = {};
  const readable: BotChannels[] = [];
  for (const b of o.bots) {
    try {
      const { record } = await o.store.read(b.bot, { signal: o.signal });
      if (record.platform !== b.platform) throw new Error(`the record says platform ${record.platform}, the configuration ${b.platform}`);
      tokens[b.bot] = record.tokens;
      readable.push(b);
    } catch (err) {
      errors.push({ bot: b.bot, error: redact(`reading its tokens from ${o.store.location}: ${errorSummary(err)}`) });
    }
  }
  const matrix = readable.length ? await checkPermissions(readable, tokens, { telegram: o.telegram, discord: o.discord, clock: o.clock, signal: o.signal }) : { checked_at: o.clock.now().toISOString(), bots: [] };
  return { matrix, errors };
}

/** Every cell ok and every bot checked. */
export function permissionsOk(r: PermissionReport): boolean {
  const c = matrixCounts(r.matrix);
  return r.errors.length === 0 && c.missing === 0 && c.errors === 0;
}

/** Missing rights per bot (the `MissingChannelRights` metric), over every token and channel. */
export function missingRightsByBot(m: PermissionMatrix): Record<string, number> {
  return Object.fromEntries(m.bots.map((b) => [b.bot, matrixCounts(b).missingRights]));
}

/** The missing cells of one bot, for `dr status` and the drill: token index, channel, missing rights, action. */
export function missingCells(b: BotRights): Array<{ token: number; channel: string; missing: string[]; action?: string }> {
  return b.tokens.flatMap((t) => t.channels.filter((c) => c.state === 'missing').map((c) => ({ token: t.index, channel: c.channel, missing: c.missing, ...(c.action ? { action: c.action } : {}) })));
}

/** The human matrix: per bot, per token (index and account), per channel `ok`, `MISSING …` with the admin action, or `ERROR …`. */
export function formatPermissionMatrix(r: PermissionReport): string {
  const lines = [`channel rights at ${r.matrix.checked_at} (every token of every bot; nothing is corrected: bots cannot grant themselves rights)`];
  for (const b of r.matrix.bots) {
    const c = matrixCounts(b);
    lines.push('', `${b.bot} (${b.platform}): ${c.cells === 0 ? 'no channels configured' : `${c.ok} of ${c.cells} cell(s) ok${c.missing ? `, ${c.missing} missing rights` : ''}${c.errors ? `, ${c.errors} not readable` : ''}`}`);
    for (const t of b.tokens) {
      const who = `  token ${t.index}${t.account ? ` ${t.account}` : ''}`;
      if (t.state === 'error') lines.push(`${who}: NOT CHECKED: ${t.detail ?? 'the token could not be used'}`);
      for (const v of t.state === 'error' ? [] : t.channels) {
        if (v.state === 'ok') lines.push(`${who}  ${v.channel}  ok`);
        else if (v.state === 'missing') lines.push(`${who}  ${v.channel}  MISSING ${v.missing.join(', ')}`, `      admin action: ${v.action ?? 'grant the missing rights'}`);
        else lines.push(`${who}  ${v.channel}  ERROR ${v.detail ?? 'the rights could not be read'}`);
      }
    }
  }
  for (const e of r.errors) lines.push('', `${e.bot}: ERROR ${e.error}`);
  return redact(lines.join('\n'));
}

/** The human form of a saved matrix against the live one. */
export function formatMatrixDiff(d: MatrixDiff): string {
  if (!d.changes.length) return `channel rights: the live matrix (${d.live_at}) is the same as the saved one (${d.saved_at}): ${d.unchanged} cell(s)`;
  return redact([`channel rights: ${d.changes.length} cell(s) differ from the saved matrix (${d.saved_at} → live ${d.live_at}; ${d.unchanged} unchanged):`, ...d.changes.map((c) => `  ${c.what}`)].join('\n'));
}
