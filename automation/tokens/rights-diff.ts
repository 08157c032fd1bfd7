/**
 * A saved channel-rights matrix (the one `dr backup config` keeps beside the stacks' state, seed 000 AC4) against the
 * live one (`dr restore config`): which bot × token × channel cells changed, and how. Pure. The matrix never holds a
 * token: a cell is named by the bot, the token's INDEX and the channel.
 *
 * {@link parsePermissionMatrix} checks a matrix read back from a backup (strict on what the diff reads, tolerant of
 * extra fields), naming the path of a problem.
 */
import { OperationError } from '../core/errors';
import type { ChannelState, ChannelVerdict, PermissionMatrix, TokenRights } from './rights';
import { PLATFORMS, type Platform } from './ports';

/** One cell that is not the same in both matrices. */
export interface MatrixChange {
  bot: string;
  token: number;
  channel: string;
  /** `absent`: the cell is not in that matrix (a bot, token or channel added or removed since). */
  before: ChannelState | 'absent';
  after: ChannelState | 'absent';
  missing_before: string[];
  missing_after: string[];
  /** One line for people (`token 1 in -100…: ok → missing can_delete_messages`). */
  what: string;
}

/** What {@link diffPermissionMatrices} found. */
export interface MatrixDiff {
  saved_at: string;
  live_at: string;
  /** Cells in both matrices with the same state and missing rights. */
  unchanged: number;
  changes: MatrixChange[];
}

type Cell = { state: ChannelState; missing: string[] };

function cells(m: PermissionMatrix): Map<string, Cell & { bot: string; token: number; channel: string }> {
  const out = new Map<string, Cell & { bot: string; token: number; channel: string }>();
  for (const b of m.bots) for (const t of b.tokens) for (const c of t.channels) out.set(JSON.stringify([b.bot, t.index, c.channel]), { bot: b.bot, token: t.index, channel: c.channel, state: c.state, missing: [...c.missing] });
  return out;
}

function describeCell(c: Cell | undefined): string {
  if (!c) return 'not checked';
  return c.state === 'missing' ? `missing ${c.missing.join(', ')}` : c.state;
}

/** The cells whose state or missing rights differ, in bot, token, channel order (saved first, then new cells). */
export function diffPermissionMatrices(saved: PermissionMatrix, live: PermissionMatrix): MatrixDiff {
  const a = cells(saved);
  const b = cells(live);
  const changes: MatrixChange[] = [];
  let unchanged = 0;
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    const id = (x ?? y)!;
    if (x && y && x.state === y.state && x.missing.join(',') === y.missing.join(',')) {
      unchanged++;
      continue;
    }
    changes.push({
      bot: id.bot,
      token: id.token,
      channel: id.channel,
      before: x?.state ?? 'absent',
      after: y?.state ?? 'absent',
      missing_before: x?.missing ?? [],
      missing_after: y?.missing ?? [],
      what: `${id.bot} token ${id.token} in ${id.channel}: ${describeCell(x)} → ${describeCell(y)}`,
    });
  }
  changes.sort((p, q) => p.bot.localeCompare(q.bot) || p.token - q.token || p.channel.localeCompare(q.channel));
  return { saved_at: saved.checked_at, live_at: live.checked_at, unchanged, changes };
}

const STATES: ReadonlySet<string> = new Set<ChannelState>(['ok', 'missing', 'error']);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function parseChannel(v: unknown, where: string): ChannelVerdict {
  if (!isObj(v) || typeof v.channel !== 'string' || typeof v.state !== 'string' || !STATES.has(v.state) || !strings(v.missing)) throw new OperationError(`${where}: must be { channel, state: ok|missing|error, missing: [...] }`);
  return { ...(v as unknown as ChannelVerdict), ok: v.state === 'ok' };
}

function parseToken(v: unknown, where: string): TokenRights {
  if (!isObj(v) || !Number.isInteger(v.index) || (v.state !== 'checked' && v.state !== 'error') || !Array.isArray(v.channels)) throw new OperationError(`${where}: must be { index, state: checked|error, channels: [...] }`);
  return { ...(v as unknown as TokenRights), channels: v.channels.map((c, i) => parseChannel(c, `${where}.channels[${i}]`)) };
}

/** Check a matrix read from a file or a backup; an OperationError names the first bad path. */
export function parsePermissionMatrix(value: unknown, where: string): PermissionMatrix {
  if (!isObj(value) || typeof value.checked_at !== 'string' || !Array.isArray(value.bots)) throw new OperationError(`${where}: must be a channel-rights matrix { checked_at, bots: [...] }`);
  return {
    checked_at: value.checked_at,
    bots: value.bots.map((b, i) => {
      const w = `${where}.bots[${i}]`;
      if (!isObj(b) || typeof b.bot !== 'string' || !(PLATFORMS as readonly string[]).includes(String(b.platform)) || !Array.isArray(b.tokens)) throw new OperationError(`${w}: must be { bot, platform, tokens: [...] }`);
      return { bot: b.bot, platform: b.platform as Platform, tokens: b.tokens.map((t, j) => parseToken(t, `${w}.tokens[${j}]`)) };
    }),
  };
}
