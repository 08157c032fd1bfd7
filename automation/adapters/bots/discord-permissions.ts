/**
 * A Discord token's permissions in its bot's configured channels (issue 11, seed 000 AC3): `GET /users/@me` (the bot
 * user), then per channel `GET /channels/{channel}` (its guild and `permission_overwrites`), `GET
 * /guilds/{guild}/roles` and `GET /guilds/{guild}/members/{bot}` (each once per guild), judged by
 * `discordChannelVerdict` (the documented computation, then the implicit rules) against the bot's required set
 * (default View Channel, Send Messages, Attach Files, Read Message History).
 *
 * Channel references: `channelId` or `guildId/channelId` (snowflakes). The guild is read from the channel object
 * (`guild_id`), so a bare channel id is enough; naming the guild as well is checked against it and lets a channel
 * the bot cannot read still be explained at guild level. Decided so because Discord answers `GET /channels` with
 * 403 Missing Access when the bot cannot View Channel there (or is not in the guild): the cell is then `missing`
 * every required right (without View Channel nothing else applies), with the action to fix the access.
 *
 * Not modelled: threads (a thread's permissions come from its parent and Send Messages in Threads; the cell says to
 * configure the parent channel), and the guild owner (a bot that owns its guild is not recognised as owner, since
 * the guild object is not read; bots seldom own guilds, and the error is towards "missing").
 */
import { Routes, type APIChannel, type APIGuildMember, type APIRole, type APIUser } from 'discord-api-types/v10';
import { systemClock, type Clock } from '../../core/clock';
import { errorText } from '../../core/errors';
import { DEFAULT_DISCORD_REQUIRED, discordChannelVerdict, errorVerdict, listWords, permissionBits, permissionLabel, rightsVerdict, type ChannelVerdict, type TokenRights } from '../../tokens';
import { discordCall, discordErrorDetail, discordRest, type DiscordClientOptions } from './discord-rest';

/** A configured Discord channel. */
export interface DiscordChannelRef {
  guildId?: string;
  channelId: string;
}

const SNOWFLAKE = /^\d{15,21}$/;
const THREAD_TYPES = new Set([10, 11, 12]);

/** Parse `channelId` or `guildId/channelId`; undefined when it is neither. */
export function parseDiscordChannelRef(ref: string): DiscordChannelRef | undefined {
  const parts = ref.trim().split('/');
  if (parts.length === 1 && SNOWFLAKE.test(parts[0])) return { channelId: parts[0] };
  if (parts.length === 2 && SNOWFLAKE.test(parts[0]) && SNOWFLAKE.test(parts[1])) return { guildId: parts[0], channelId: parts[1] };
  return undefined;
}

/** Options of {@link DiscordPermissions}. */
export interface DiscordPermissionsOptions extends DiscordClientOptions {
  /** For the timeout rule (a timed-out bot keeps only View Channel and Read Message History). */
  clock?: Clock;
}

type Rest = ReturnType<typeof discordRest>;

interface GuildView {
  roles: APIRole[];
  member: APIGuildMember;
}

/** Checks one Discord token's channels. */
export class DiscordPermissions {
  private readonly clock: Clock;

  constructor(private readonly o: DiscordPermissionsOptions = {}) {
    this.clock = o.clock ?? systemClock;
  }

  /** The cells of one token (index filled in by the caller). `required`: PermissionFlagsBits names. */
  async check(token: string, channels: readonly string[], required: readonly string[] = DEFAULT_DISCORD_REQUIRED, signal?: AbortSignal): Promise<Omit<TokenRights, 'index'>> {
    permissionBits(required);
    const rest = discordRest(token, this.o);
    let me: APIUser;
    try {
      me = await discordCall<APIUser>('GET /users/@me', token, () => rest.get(Routes.user(), { signal }), this.o.timeoutMs);
    } catch (err) {
      const detail = errorText(err);
      return { state: 'error', detail, channels: channels.map((c) => errorVerdict(c, `not checked: ${detail}`)) };
    }
    const account = `@${me.username}`;
    const guilds = new Map<string, Promise<GuildView>>();
    const out: ChannelVerdict[] = [];
    for (const c of channels) out.push(await this.channel(token, rest, me, account, c, required, guilds, signal));
    return { account, state: 'checked', channels: out };
  }

  private guild(token: string, rest: Rest, guildId: string, botId: string, cache: Map<string, Promise<GuildView>>, signal?: AbortSignal): Promise<GuildView> {
    let g = cache.get(guildId);
    if (!g) {
      g = (async () => ({
        roles: await discordCall<APIRole[]>(`GET /guilds/${guildId}/roles`, token, () => rest.get(Routes.guildRoles(guildId), { signal }), this.o.timeoutMs),
        member: await discordCall<APIGuildMember>(`GET /guilds/${guildId}/members/${botId}`, token, () => rest.get(Routes.guildMember(guildId, botId), { signal }), this.o.timeoutMs),
      }))();
      g.catch(() => undefined);
      cache.set(guildId, g);
    }
    return g;
  }

  private async channel(token: string, rest: Rest, me: APIUser, account: string, ref: string, required: readonly string[], guilds: Map<string, Promise<GuildView>>, signal?: AbortSignal): Promise<ChannelVerdict> {
    const parsed = parseDiscordChannelRef(ref);
    if (!parsed) return errorVerdict(ref, 'not a Discord channel id or guildId/channelId (snowflakes): check the bot\'s configured channels');
    let channel: APIChannel;
    try {
      channel = await discordCall<APIChannel>(`GET /channels/${parsed.channelId}`, token, () => rest.get(Routes.channel(parsed.channelId), { signal }), this.o.timeoutMs);
    } catch (err) {
      const d = discordErrorDetail(err);
      if (d?.status === 403 && d.code === 50001) return this.noAccess(token, rest, me, account, ref, parsed, required, guilds, signal);
      if (d?.status === 404) return errorVerdict(ref, `Discord has no channel ${parsed.channelId} (Unknown Channel): check the configured id`);
      return errorVerdict(ref, errorText(err));
    }
    const guildId = 'guild_id' in channel && typeof channel.guild_id === 'string' ? channel.guild_id : undefined;
    if (!guildId) return errorVerdict(ref, `channel ${parsed.channelId} is not a guild channel`);
    if (parsed.guildId && parsed.guildId !== guildId) return errorVerdict(ref, `channel ${parsed.channelId} belongs to guild ${guildId}, not ${parsed.guildId}: correct the configuration`);
    if (THREAD_TYPES.has(channel.type)) return errorVerdict(ref, `channel ${parsed.channelId} is a thread: configure its parent channel (threads are not checked)`, { guild: guildId, channel: parsed.channelId });
    let g: GuildView;
    try {
      g = await this.guild(token, rest, guildId, me.id, guilds, signal);
    } catch (err) {
      return errorVerdict(ref, errorText(err), { guild: guildId, channel: parsed.channelId });
    }
    const overwrites = ('permission_overwrites' in channel ? (channel.permission_overwrites ?? []) : []).map((o) => ({ id: o.id, type: o.type, allow: o.allow, deny: o.deny }));
    return discordChannelVerdict({
      channel: ref,
      channelId: parsed.channelId,
      guildId,
      roles: g.roles.map((r) => ({ id: r.id, permissions: r.permissions, name: r.name })),
      member: { userId: me.id, roles: g.member.roles, communication_disabled_until: g.member.communication_disabled_until ?? null },
      overwrites,
      now: this.clock.now(),
      required,
      account,
    });
  }

  /** The channel answered 403 Missing Access: the bot is not in its guild, or cannot View Channel there. */
  private async noAccess(token: string, rest: Rest, me: APIUser, account: string, ref: string, parsed: DiscordChannelRef, required: readonly string[], guilds: Map<string, Promise<GuildView>>, signal?: AbortSignal): Promise<ChannelVerdict> {
    const missing = [...required];
    const rights = listWords(required.map(permissionLabel));
    if (!parsed.guildId) {
      return rightsVerdict(ref, missing, 'no-access', `${account} cannot see channel ${parsed.channelId} (Discord: Missing Access): invite it to the channel's guild, or grant it View Channel there (with ${rights}); configure the channel as guildId/channelId for a finer report`, { channel: parsed.channelId });
    }
    const where = { guild: parsed.guildId, channel: parsed.channelId };
    try {
      await this.guild(token, rest, parsed.guildId, me.id, guilds, signal);
    } catch (err) {
      const d = discordErrorDetail(err);
      if (d && (d.status === 403 || d.status === 404)) return rightsVerdict(ref, missing, 'not-in-guild', `invite ${account} to guild ${parsed.guildId} and grant it ${rights} in channel ${parsed.channelId}`, where);
      return errorVerdict(ref, errorText(err), where);
    }
    return rightsVerdict(ref, missing, 'member', `grant ${account} View Channel in channel ${parsed.channelId} of guild ${parsed.guildId} (a role or a channel overwrite hides it), with ${rights}`, where);
  }
}
