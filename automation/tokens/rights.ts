/**
 * The channel-rights matrix (issue 11, seed 000 AC3): for every bot, every token (not only the active one) and every
 * configured channel, ok or the rights missing with the admin action that would grant them. Bots cannot grant
 * themselves rights, so nothing here corrects anything: it reports, and feeds {@link RightsMap} to `decide` so a
 * switch prefers a token with every right.
 *
 * Each cell has a state:
 * - `ok`: every required right is there;
 * - `missing`: the platform answered and some right is missing (`missing` names them, `action` says what to do);
 * - `error`: the rights could not be read (the token is revoked, the platform is down or rate-limited, the channel
 *   reference is not valid): nothing is known about them, which is not the same as missing.
 *
 * A token's entry in the RightsMap is `true` when every channel is `ok`, `false` when any is `missing`, and absent
 * (unknown: `decide` ranks it between the two) when some could not be read and none is known to be missing.
 */
import { redact } from '../core/redact';
import type { RightsMap } from './decide';
import type { Platform } from './ports';

/** The state of one bot × token × channel cell. */
export type ChannelState = 'ok' | 'missing' | 'error';

/** One bot × token × channel cell. Never carries a token value. */
export interface ChannelVerdict {
  /** The channel as configured (`-100…`, `@name`, `guild/channel`, `channel`). */
  channel: string;
  state: ChannelState;
  ok: boolean;
  /** Platform right names: Telegram `administrator`, `can_post_messages`, …; Discord `PermissionFlagsBits` names. */
  missing: string[];
  /** What the platform says the bot is there: Telegram's member status, or Discord's `member`/`administrator`/… */
  status?: string;
  /** The admin action that would fix a `missing` cell, in words. */
  action?: string;
  /** With `error`: why the rights could not be read (redacted, no token). */
  detail?: string;
  /** Extra facts (the chat type, the guild id) for people and the saved matrix. */
  where?: Record<string, string>;
}

/** The cells of one token. */
export interface TokenRights {
  index: number;
  /** The bot account the token belongs to (`@name`), when the platform said. */
  account?: string;
  /** `error` when the token itself could not be used (revoked, unreachable): every channel is then `error` too. */
  state: 'checked' | 'error';
  detail?: string;
  channels: ChannelVerdict[];
}

/** The cells of one bot. */
export interface BotRights {
  bot: string;
  platform: Platform;
  tokens: TokenRights[];
}

/** The whole matrix (what `dr bots check-permissions --json` prints and `dr backup config` saves). */
export interface PermissionMatrix {
  /** ISO 8601. */
  checked_at: string;
  bots: BotRights[];
}

/** A cell for a channel whose rights could not be read. */
export function errorVerdict(channel: string, detail: string, where?: Record<string, string>): ChannelVerdict {
  return { channel, state: 'error', ok: false, missing: [], detail: redact(detail), ...(where ? { where } : {}) };
}

/** A cell from the missing rights (empty: ok). The action is required when something is missing. */
export function rightsVerdict(channel: string, missing: string[], status: string, action: string | undefined, where?: Record<string, string>): ChannelVerdict {
  const ok = missing.length === 0;
  return { channel, state: ok ? 'ok' : 'missing', ok, missing, status, ...(ok || !action ? {} : { action: redact(action) }), ...(where ? { where } : {}) };
}

/** Per token index of one bot: all rights (true), some missing (false), unknown (absent). See the module comment. */
export function rightsMapOf(bot: BotRights): RightsMap {
  const map: Record<number, boolean> = {};
  for (const t of bot.tokens) {
    if (t.state === 'error') continue;
    if (t.channels.some((c) => c.state === 'missing')) map[t.index] = false;
    else if (t.channels.every((c) => c.state === 'ok')) map[t.index] = true;
  }
  return map;
}

/** The RightsMap of every bot of a matrix, by bot name. */
export function rightsMaps(matrix: PermissionMatrix): Record<string, RightsMap> {
  return Object.fromEntries(matrix.bots.map((b) => [b.bot, rightsMapOf(b)]));
}

/** Counts for metrics and alarms: cells ok, missing, unreadable; rights missing in all; per bot. */
export interface MatrixCounts {
  cells: number;
  ok: number;
  missing: number;
  errors: number;
  /** Sum of the missing rights over every cell (the "missing rights" metric). */
  missingRights: number;
}

/** Count the cells of a matrix, or of one bot. */
export function matrixCounts(m: PermissionMatrix | BotRights): MatrixCounts {
  const bots = 'bots' in m ? m.bots : [m];
  const c: MatrixCounts = { cells: 0, ok: 0, missing: 0, errors: 0, missingRights: 0 };
  for (const b of bots) {
    for (const t of b.tokens) {
      for (const v of t.channels) {
        c.cells++;
        if (v.state === 'ok') c.ok++;
        else if (v.state === 'missing') c.missing++;
        else c.errors++;
        c.missingRights += v.missing.length;
      }
    }
  }
  return c;
}

/** `a, b and c` for rights lists in admin actions. */
export function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
