/**
 * The guild and application side of the fake Discord API: configurable guilds (roles, members), guild channels (their
 * `permission_overwrites`) and each bot's application, answered as Discord answers a bot:
 *
 * - `GET /guilds/{guild}/roles`: the roles (the @everyone role has the guild's id); 404 Unknown Guild (10004), 403
 *   Missing Access (50001) when the bot is not in the guild.
 * - `GET /guilds/{guild}/members/{user}`: the member (`roles`, `communication_disabled_until`, …); 404 Unknown Member
 *   (10007).
 * - `GET /channels/{channel}`: the channel with `guild_id` and `permission_overwrites`; 404 Unknown Channel (10003);
 *   403 Missing Access (50001) when the bot is not in the guild or cannot View Channel there (judged with the same
 *   documented computation the checks use, `tokens/rights-discord.ts`).
 * - `GET /applications/@me`: the bot's application with `interactions_endpoint_url` (null until set) and its
 *   `verify_key` (a real Ed25519 public key, hex).
 * - `PATCH /applications/@me` `{ interactions_endpoint_url }`: as in the Developer Portal, Discord only saves a URL
 *   whose endpoint answers a signed PING (type 1) with `{ type: 1 }` and refuses a PING with an invalid signature
 *   with 401; otherwise 400 Invalid Form Body (50035). The check is on by default (`verifyInteractions: false`
 *   skips it). URLs must be https, or http on a loopback address (the rehearsal's targets); the fake never leaves
 *   the machine, so with the check on it refuses endpoints that are not on a loopback address.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { PermissionFlagsBits } from 'discord-api-types/v10';
import { channelPermissions, OVERWRITE_ROLE, type DiscordOverwriteView } from '../../tokens';
import type { FakeReply, FakeRequest, FakeTokenState } from './fake-platform';

/** A role as configured (permissions as bigint or Discord's decimal string). */
export interface FakeRoleConfig {
  id: string;
  name?: string;
  permissions: bigint | string;
  position?: number;
}

/** A guild as configured. */
export interface FakeGuildConfig {
  id: string;
  name?: string;
  owner_id?: string;
  /** The @everyone role's permissions (default: View Channel, Send Messages, Read Message History, Attach Files, Embed Links, Add Reactions). */
  everyone?: bigint | string;
  /** The other roles. */
  roles?: FakeRoleConfig[];
}

/** A member as configured. */
export interface FakeMemberConfig {
  roles: string[];
  communication_disabled_until?: string | null;
  nick?: string | null;
}

/** An overwrite as configured (bits as bigint or string). */
export interface FakeOverwriteConfig {
  id: string;
  /** 0 role, 1 member. */
  type: 0 | 1;
  allow?: bigint | string;
  deny?: bigint | string;
}

/** A guild channel as configured. */
export interface FakeChannelConfig {
  id: string;
  guild_id: string;
  name?: string;
  /** Discord channel type (default 0, GUILD_TEXT). */
  type?: number;
  parent_id?: string | null;
  permission_overwrites?: FakeOverwriteConfig[];
}

/** One `PATCH /applications/@me`, as recorded. */
export interface ApplicationPatch {
  at: string;
  interactions_endpoint_url?: string | null;
  outcome: 'saved' | 'refused';
  detail?: string;
}

const DEFAULT_EVERYONE =
  PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.ReadMessageHistory | PermissionFlagsBits.AttachFiles | PermissionFlagsBits.EmbedLinks | PermissionFlagsBits.AddReactions;

interface Guild {
  id: string;
  name: string;
  owner_id: string;
  roles: Array<{ id: string; name: string; permissions: string; position: number }>;
  members: Map<string, FakeMemberConfig & { joined_at: string }>;
}

interface Application {
  id: string;
  name: string;
  interactions_endpoint_url: string | null;
  verify_key: string;
  privateKey: KeyObject;
}

const error = (status: number, message: string, code: number): FakeReply => ({ status, body: { message, code } });
const bits = (v: bigint | string | undefined): string => (v === undefined ? '0' : typeof v === 'bigint' ? v.toString() : v);

function invalidEndpoint(detail: string): FakeReply {
  return {
    status: 400,
    body: {
      message: 'Invalid Form Body',
      code: 50035,
      errors: { interactions_endpoint_url: { _errors: [{ code: 'APPLICATION_INTERACTIONS_ENDPOINT_URL_INVALID', message: `The specified interactions endpoint url could not be verified. (${detail})` }] } },
    },
  };
}

/** Guilds, channels and applications of one fake Discord server. */
export class DiscordGuilds {
  private readonly guilds = new Map<string, Guild>();
  private readonly channels = new Map<string, FakeChannelConfig>();
  private readonly apps = new Map<string, Application>();
  private readonly patches = new Map<string, ApplicationPatch[]>();

  constructor(private readonly o: { now: () => number; verifyInteractions: boolean; timeoutMs: number }) {}

  /** Add or replace a guild (its members are kept when it is replaced). */
  setGuild(cfg: FakeGuildConfig): void {
    const prev = this.guilds.get(cfg.id);
    const roles = [{ id: cfg.id, name: '@everyone', permissions: bits(cfg.everyone ?? DEFAULT_EVERYONE), position: 0 }, ...(cfg.roles ?? []).map((r, i) => ({ id: r.id, name: r.name ?? `role ${r.id}`, permissions: bits(r.permissions), position: r.position ?? i + 1 }))];
    this.guilds.set(cfg.id, { id: cfg.id, name: cfg.name ?? `guild ${cfg.id}`, owner_id: cfg.owner_id ?? '1', roles, members: prev?.members ?? new Map() });
  }

  private guild(id: string): Guild {
    const g = this.guilds.get(id);
    if (!g) throw new Error(`fake Discord: no guild ${id} (setGuild it first)`);
    return g;
  }

  /** Replace a guild's roles other than @everyone (and @everyone's permissions when `everyone` is given). */
  setRoles(guildId: string, roles: FakeRoleConfig[], everyone?: bigint | string): void {
    const g = this.guild(guildId);
    const ev = g.roles[0];
    this.setGuild({ id: g.id, name: g.name, owner_id: g.owner_id, everyone: everyone ?? ev.permissions, roles });
  }

  /** Add or replace a member of a guild. */
  setMember(guildId: string, userId: string, m: FakeMemberConfig): void {
    this.guild(guildId).members.set(userId, { ...m, roles: [...m.roles], joined_at: new Date(this.o.now()).toISOString() });
  }

  /** Remove a member (the bot is no longer in the guild). */
  removeMember(guildId: string, userId: string): void {
    this.guild(guildId).members.delete(userId);
  }

  /** Add or replace a guild channel. */
  setChannel(c: FakeChannelConfig): void {
    this.guild(c.guild_id);
    this.channels.set(c.id, { ...c, permission_overwrites: [...(c.permission_overwrites ?? [])] });
  }

  /** Replace a channel's `permission_overwrites`. */
  setOverwrites(channelId: string, overwrites: FakeOverwriteConfig[]): void {
    const c = this.channels.get(channelId);
    if (!c) throw new Error(`fake Discord: no channel ${channelId} (setChannel it first)`);
    c.permission_overwrites = [...overwrites];
  }

  private overwrites(c: FakeChannelConfig): DiscordOverwriteView[] {
    return (c.permission_overwrites ?? []).map((o) => ({ id: o.id, type: o.type, allow: bits(o.allow), deny: bits(o.deny) }));
  }

  /** `GET /guilds/{guild}/roles`. */
  roles(bot: FakeTokenState, guildId: string): FakeReply {
    const g = this.guilds.get(guildId);
    if (!g) return error(404, 'Unknown Guild', 10004);
    if (!g.members.has(bot.id)) return error(403, 'Missing Access', 50001);
    return { status: 200, body: g.roles.map((r) => ({ ...r, color: 0, colors: { primary_color: 0, secondary_color: null, tertiary_color: null }, hoist: false, icon: null, unicode_emoji: null, managed: false, mentionable: false, flags: 0 })) };
  }

  /** `GET /guilds/{guild}/members/{user}`. */
  member(bot: FakeTokenState, guildId: string, userId: string, users: (id: string) => FakeTokenState | undefined): FakeReply {
    const g = this.guilds.get(guildId);
    if (!g) return error(404, 'Unknown Guild', 10004);
    if (!g.members.has(bot.id)) return error(403, 'Missing Access', 50001);
    const m = g.members.get(userId);
    if (!m) return error(404, 'Unknown Member', 10007);
    const u = users(userId);
    const user = { id: userId, username: u?.username ?? `user${userId}`, discriminator: '0', global_name: null, avatar: null, ...(u ? { bot: true } : {}) };
    return { status: 200, body: { user, nick: m.nick ?? null, avatar: null, roles: m.roles, joined_at: m.joined_at, premium_since: null, deaf: false, mute: false, flags: 0, pending: false, communication_disabled_until: m.communication_disabled_until ?? null } };
  }

  /** `GET /channels/{channel}`. */
  channel(bot: FakeTokenState, channelId: string): FakeReply {
    const c = this.channels.get(channelId);
    if (!c) return error(404, 'Unknown Channel', 10003);
    const g = this.guild(c.guild_id);
    const m = g.members.get(bot.id);
    if (!m) return error(403, 'Missing Access', 50001);
    const perms = channelPermissions({ guildId: g.id, ownerId: g.owner_id, roles: g.roles, member: { userId: bot.id, roles: m.roles, communication_disabled_until: m.communication_disabled_until }, overwrites: this.overwrites(c), now: new Date(this.o.now()) });
    if ((perms & PermissionFlagsBits.ViewChannel) === 0n) return error(403, 'Missing Access', 50001);
    return { status: 200, body: { id: c.id, type: c.type ?? 0, guild_id: c.guild_id, name: c.name ?? `channel-${c.id}`, position: 0, flags: 0, parent_id: c.parent_id ?? null, topic: null, nsfw: false, rate_limit_per_user: 0, last_message_id: null, permission_overwrites: this.overwrites(c) } };
  }

  /** A bot's application (made on first use, with a fresh Ed25519 key pair). */
  application(bot: FakeTokenState): Application {
    let a = this.apps.get(bot.id);
    if (!a) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const der = publicKey.export({ format: 'der', type: 'spki' });
      a = { id: bot.id, name: bot.username, interactions_endpoint_url: null, verify_key: der.subarray(der.length - 32).toString('hex'), privateKey };
      this.apps.set(bot.id, a);
    }
    return a;
  }

  private appBody(bot: FakeTokenState): FakeReply {
    const a = this.application(bot);
    return {
      status: 200,
      body: { id: a.id, name: a.name, icon: null, description: '', summary: '', type: null, bot_public: true, bot_require_code_grant: false, verify_key: a.verify_key, flags: 0, team: null, interactions_endpoint_url: a.interactions_endpoint_url, bot: { id: bot.id, username: bot.username, discriminator: '0', avatar: null, bot: true } },
    };
  }

  /** `GET /applications/@me`. */
  getApplication(bot: FakeTokenState): FakeReply {
    return this.appBody(bot);
  }

  /** Set the endpoint without any check (the world as it was, e.g. pointing at region A). */
  setEndpoint(bot: FakeTokenState, url: string | null): void {
    this.application(bot).interactions_endpoint_url = url;
  }

  /** Every PATCH of a bot's application. */
  applicationPatches(botId: string): ApplicationPatch[] {
    return [...(this.patches.get(botId) ?? [])];
  }

  private record(botId: string, p: Omit<ApplicationPatch, 'at'>): void {
    const list = this.patches.get(botId) ?? [];
    list.push({ at: new Date(this.o.now()).toISOString(), ...p });
    this.patches.set(botId, list);
  }

  /** `PATCH /applications/@me` (see the module comment). */
  async patchApplication(bot: FakeTokenState, req: FakeRequest): Promise<FakeReply> {
    if (!('interactions_endpoint_url' in req.body)) return this.appBody(bot);
    const url = req.body.interactions_endpoint_url;
    if (url === null || url === '') {
      this.setEndpoint(bot, null);
      this.record(bot.id, { interactions_endpoint_url: null, outcome: 'saved' });
      return this.appBody(bot);
    }
    const refuse = (detail: string): FakeReply => {
      this.record(bot.id, { interactions_endpoint_url: typeof url === 'string' ? url : undefined, outcome: 'refused', detail });
      return invalidEndpoint(detail);
    };
    if (typeof url !== 'string') return refuse('not a string');
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return refuse('not a URL');
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    if (!(u.protocol === 'https:' || (u.protocol === 'http:' && loopback))) return refuse('must be https');
    if (this.o.verifyInteractions && !loopback) return refuse('the fake checks only loopback endpoints and never leaves the machine (verifyInteractions: false saves other URLs unchecked)');
    if (this.o.verifyInteractions) {
      const problem = await this.verify(this.application(bot), url);
      if (problem) return refuse(problem);
    }
    this.setEndpoint(bot, url);
    this.record(bot.id, { interactions_endpoint_url: url, outcome: 'saved' });
    return this.appBody(bot);
  }

  /** Discord's save-time check: a signed PING must get `{type: 1}`, a badly signed one 401. */
  private async verify(app: Application, url: string): Promise<string | undefined> {
    const body = JSON.stringify({ id: `${this.o.now()}`, application_id: app.id, type: 1, token: 'fake-interaction-token', version: 1 });
    const ts = String(Math.floor(this.o.now() / 1000));
    const good = sign(null, Buffer.from(ts + body), app.privateKey).toString('hex');
    const badSig = good.slice(0, -2) + (good.endsWith('00') ? '01' : '00');
    const send = async (sig: string): Promise<{ status: number; text: string } | string> => {
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature-ed25519': sig, 'x-signature-timestamp': ts }, body, signal: AbortSignal.timeout(this.o.timeoutMs) });
        return { status: res.status, text: await res.text() };
      } catch {
        return 'the endpoint did not answer';
      }
    };
    const ok = await send(good);
    if (typeof ok === 'string') return ok;
    let pong: unknown;
    try {
      pong = JSON.parse(ok.text);
    } catch {
      pong = undefined;
    }
    if (ok.status !== 200 || (pong as { type?: unknown } | undefined)?.type !== 1) return `a signed PING got ${ok.status}, not 200 with {"type":1}`;
    const refused = await send(badSig);
    if (typeof refused === 'string') return refused;
    if (refused.status !== 401) return `a PING with an invalid signature got ${refused.status}, not 401`;
    return undefined;
  }
}

/** The channel overwrite of a guild's @everyone role (its id is the guild id). */
export function everyoneOverwrite(guildId: string, allow: bigint, deny: bigint): FakeOverwriteConfig {
  return { id: guildId, type: OVERWRITE_ROLE as 0, allow, deny };
}
