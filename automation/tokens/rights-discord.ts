/**
 * A Discord member's permissions in a guild channel, computed exactly as the Discord documentation ("Permissions" →
 * "Permission Overwrites", its `compute_base_permissions` / `compute_overwrites` pseudocode) describes, with the
 * flags of discord-api-types' `PermissionFlagsBits` (bigints). Pure: the caller fetches the guild's roles, the member
 * and the channel (`adapters/bots/discord-permissions.ts`).
 *
 * 1. The guild owner has every permission.
 * 2. Base: the @everyone role's permissions (the role whose id is the guild id), OR every role of the member.
 * 3. Administrator in the base grants every permission; no overwrite can take it away.
 * 4. The channel's @everyone overwrite (id = guild id): `perms &= ~deny; perms |= allow`.
 * 5. The overwrites of every role the member has, allow and deny each OR-ed together first, then applied once
 *    (`perms &= ~deny; perms |= allow`): one role's allow beats another role's deny, whatever their positions.
 * 6. The member's own overwrite, last.
 * 7. A timed-out member (`communication_disabled_until` in the future) keeps only View Channel and Read Message
 *    History (owners and administrators are exempt), as "Permissions For Timed Out Members" documents.
 *
 * Overwrites are matched by id and type (0 role, 1 member). The documented implicit rules for text channels are a
 * separate step ({@link implicitPermissions}): without View Channel nothing else applies, and without Send Messages,
 * Mention Everyone, Send TTS Messages, Attach Files and Embed Links do not either.
 */
import { PermissionFlagsBits } from 'discord-api-types/v10';
import { DEFAULT_DISCORD_PERMISSIONS } from '../../lib/validators';
import { OperationError, UsageError } from '../core/errors';
import { listWords, rightsVerdict, type ChannelVerdict } from './rights';

/** A permission's name as in `PermissionFlagsBits` (`ViewChannel`, `SendMessages`, …). */
export type DiscordPermissionName = keyof typeof PermissionFlagsBits;

/** Names kept only as deprecated aliases of another flag (never reported). */
const ALIASES: ReadonlySet<string> = new Set(['ManageEmojisAndStickers']);

const FLAGS: ReadonlyArray<[DiscordPermissionName, bigint]> = (Object.entries(PermissionFlagsBits) as Array<[DiscordPermissionName, bigint]>).filter(([n]) => !ALIASES.has(n));

/** Every known permission bit. */
export const ALL_DISCORD_PERMISSIONS: bigint = FLAGS.reduce((a, [, b]) => a | b, 0n);

/** The default required set of a Discord bot in its configured channels. */
export const DEFAULT_DISCORD_REQUIRED: readonly DiscordPermissionName[] = DEFAULT_DISCORD_PERMISSIONS;

/** Overwrite type of a role in `permission_overwrites`. */
export const OVERWRITE_ROLE = 0;
/** Overwrite type of a member in `permission_overwrites`. */
export const OVERWRITE_MEMBER = 1;

/** A guild role as `GET /guilds/{guild}/roles` returns it (the fields read). */
export interface DiscordRoleView {
  id: string;
  /** The permission bitset as a decimal string. */
  permissions: string;
  name?: string;
}

/** One entry of a channel's `permission_overwrites`. */
export interface DiscordOverwriteView {
  id: string;
  /** 0 role, 1 member. */
  type: number;
  allow: string;
  deny: string;
}

/** The member whose permissions are computed. */
export interface DiscordMemberView {
  userId: string;
  /** Role ids from the guild member object (Discord does not list @everyone there). */
  roles: readonly string[];
  /** ISO 8601 end of a timeout, if any. */
  communication_disabled_until?: string | null;
}

/** Everything {@link channelPermissions} needs. */
export interface DiscordPermissionInput {
  guildId: string;
  /** The guild's `owner_id`, when the caller knows it (the owner has every permission). */
  ownerId?: string;
  roles: readonly DiscordRoleView[];
  member: DiscordMemberView;
  overwrites: readonly DiscordOverwriteView[];
  /** For the timeout rule (default: no member is considered timed out). */
  now?: Date;
}

/** Each stage of the computation, for explanations. */
export interface PermissionStages {
  owner: boolean;
  administrator: boolean;
  timedOut: boolean;
  base: bigint;
  afterEveryone: bigint;
  /** The role overwrites' aggregated allow and deny, and which role ids they came from. */
  roleAllow: bigint;
  roleDeny: bigint;
  roleOverwriteIds: string[];
  afterRoles: bigint;
  afterMember: bigint;
  everyoneOverwrite?: { allow: bigint; deny: bigint };
  memberOverwrite?: { allow: bigint; deny: bigint };
  /** The explicit result (after the timeout rule; before the implicit rules). */
  final: bigint;
}

/** A permission bitset from Discord's decimal string. */
export function parseBits(value: string | number | bigint, where: string): bigint {
  if (typeof value === 'bigint') return value;
  const s = String(value);
  if (!/^\d+$/.test(s)) throw new OperationError(`${where}: '${s.slice(0, 40)}' is not a permission bitset`);
  return BigInt(s);
}

/** The bits of a list of permission names; unknown names are a UsageError naming the allowed ones' source. */
export function permissionBits(names: readonly string[]): bigint {
  let bits = 0n;
  for (const n of names) {
    const flag = FLAGS.find(([k]) => k === n);
    if (!flag) throw new UsageError(`unknown Discord permission '${n}' (use a PermissionFlagsBits name such as ViewChannel, SendMessages, AttachFiles)`);
    bits |= flag[1];
  }
  return bits;
}

/** The names of the bits set in `bits`, in flag order (aliases never repeated). */
export function permissionNames(bits: bigint): DiscordPermissionName[] {
  return FLAGS.filter(([, b]) => (bits & b) === b).map(([n]) => n);
}

/** `SendTTSMessages` → `Send TTS Messages` (how the Discord client names them, near enough for an admin). */
export function permissionLabel(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
}

function overwriteBits(o: DiscordOverwriteView): { allow: bigint; deny: bigint } {
  return { allow: parseBits(o.allow, `overwrite ${o.id} allow`), deny: parseBits(o.deny, `overwrite ${o.id} deny`) };
}

function isTimedOut(member: DiscordMemberView, now: Date | undefined): boolean {
  const until = member.communication_disabled_until;
  if (!now || !until) return false;
  const t = Date.parse(until);
  return Number.isFinite(t) && t > now.getTime();
}

/** The documented computation, stage by stage (see the module comment). */
export function permissionStages(input: DiscordPermissionInput): PermissionStages {
  const { guildId, member } = input;
  const roleIds = new Set(member.roles.filter((r) => r !== guildId));
  const everyoneRole = input.roles.find((r) => r.id === guildId);
  let base = everyoneRole ? parseBits(everyoneRole.permissions, `role ${guildId}`) : 0n;
  for (const r of input.roles) if (roleIds.has(r.id)) base |= parseBits(r.permissions, `role ${r.id}`);
  const owner = input.ownerId !== undefined && input.ownerId === member.userId;
  const administrator = owner || (base & PermissionFlagsBits.Administrator) === PermissionFlagsBits.Administrator;
  const empty: PermissionStages = { owner, administrator, timedOut: false, base, afterEveryone: base, roleAllow: 0n, roleDeny: 0n, roleOverwriteIds: [], afterRoles: base, afterMember: base, final: base };
  if (administrator) return { ...empty, base: owner ? ALL_DISCORD_PERMISSIONS : base, afterEveryone: ALL_DISCORD_PERMISSIONS, afterRoles: ALL_DISCORD_PERMISSIONS, afterMember: ALL_DISCORD_PERMISSIONS, final: ALL_DISCORD_PERMISSIONS };
  const ev = input.overwrites.find((o) => o.type === OVERWRITE_ROLE && o.id === guildId);
  const everyoneOverwrite = ev ? overwriteBits(ev) : undefined;
  let perms = base;
  if (everyoneOverwrite) perms = (perms & ~everyoneOverwrite.deny) | everyoneOverwrite.allow;
  const afterEveryone = perms;
  let roleAllow = 0n;
  let roleDeny = 0n;
  const roleOverwriteIds: string[] = [];
  for (const o of input.overwrites) {
    if (o.type !== OVERWRITE_ROLE || !roleIds.has(o.id)) continue;
    const b = overwriteBits(o);
    roleAllow |= b.allow;
    roleDeny |= b.deny;
    roleOverwriteIds.push(o.id);
  }
  perms = (perms & ~roleDeny) | roleAllow;
  const afterRoles = perms;
  const mo = input.overwrites.find((o) => o.type === OVERWRITE_MEMBER && o.id === member.userId);
  const memberOverwrite = mo ? overwriteBits(mo) : undefined;
  if (memberOverwrite) perms = (perms & ~memberOverwrite.deny) | memberOverwrite.allow;
  const afterMember = perms;
  const timedOut = isTimedOut(member, input.now);
  const final = timedOut ? afterMember & (PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ReadMessageHistory) : afterMember;
  return { owner, administrator, timedOut, base, afterEveryone, roleAllow, roleDeny, roleOverwriteIds, afterRoles, afterMember, everyoneOverwrite, memberOverwrite, final };
}

/** The member's explicit permissions in the channel (the documented algorithm plus the timeout rule). */
export function channelPermissions(input: DiscordPermissionInput): bigint {
  return permissionStages(input).final;
}

/** Bits that Send Messages is the base action of (documented as implicitly denied without it). */
const NEEDS_SEND = PermissionFlagsBits.MentionEveryone | PermissionFlagsBits.SendTTSMessages | PermissionFlagsBits.AttachFiles | PermissionFlagsBits.EmbedLinks;

/** The documented implicit rules of a text channel: no View Channel → nothing; no Send Messages → no attachments etc. */
export function implicitPermissions(bits: bigint): bigint {
  if ((bits & PermissionFlagsBits.ViewChannel) === 0n) return 0n;
  if ((bits & PermissionFlagsBits.SendMessages) === 0n) return bits & ~NEEDS_SEND;
  return bits;
}

/** Why one missing bit is missing, from the stages (for the admin action). */
function whyMissing(bit: bigint, s: PermissionStages, input: DiscordPermissionInput): string {
  const label = permissionLabel(permissionNames(bit)[0] ?? 'it');
  const roleName = (id: string): string => {
    const r = input.roles.find((x) => x.id === id);
    return r?.name ? `role "${r.name}" (${id})` : `role ${id}`;
  };
  if ((s.final & bit) !== 0n) return `${label} needs ${(s.final & PermissionFlagsBits.ViewChannel) === 0n ? 'View Channel' : 'Send Messages'}`;
  if (s.timedOut && (s.afterMember & bit) !== 0n) return `${label}: the bot is timed out (communication_disabled_until ${input.member.communication_disabled_until})`;
  if (s.memberOverwrite && (s.memberOverwrite.deny & bit) !== 0n) return `${label} is denied by the channel's overwrite for the bot itself`;
  if ((s.roleDeny & bit) !== 0n && (s.roleAllow & bit) === 0n) {
    const ids = input.overwrites.filter((o) => o.type === OVERWRITE_ROLE && s.roleOverwriteIds.includes(o.id) && (parseBits(o.deny, o.id) & bit) !== 0n).map((o) => roleName(o.id));
    return `${label} is denied by the channel's overwrite for ${listWords(ids)}`;
  }
  if (s.everyoneOverwrite && (s.everyoneOverwrite.deny & bit) !== 0n) return `${label} is denied by the channel's @everyone overwrite and no overwrite of the bot's roles allows it`;
  return `${label}: no role of the bot grants it and no overwrite of the channel allows it`;
}

/** Inputs of {@link discordChannelVerdict}. */
export interface DiscordVerdictInput extends DiscordPermissionInput {
  /** The channel as configured (kept in the cell). */
  channel: string;
  channelId: string;
  required: readonly string[];
  /** `@name` of the bot account, for the action text. */
  account?: string;
}

/**
 * One matrix cell for a Discord channel: the documented computation, then the implicit rules, against the required
 * set; the action names each missing right and which layer (role, overwrite, timeout) takes it away.
 */
export function discordChannelVerdict(input: DiscordVerdictInput): ChannelVerdict {
  const s = permissionStages(input);
  const effective = implicitPermissions(s.final);
  const required = permissionBits(input.required);
  const missingBits = required & ~effective;
  const missing = permissionNames(missingBits);
  const status = s.owner ? 'owner' : s.administrator ? 'administrator' : s.timedOut ? 'timed-out' : 'member';
  const who = input.account ?? `the bot (user ${input.member.userId})`;
  const action = missing.length
    ? `grant ${who} ${listWords(missing.map(permissionLabel))} in channel ${input.channelId} of guild ${input.guildId} (a role or a channel overwrite): ${missing.map((n) => whyMissing(PermissionFlagsBits[n], s, input)).join('; ')}`
    : undefined;
  return rightsVerdict(input.channel, missing, status, action, { guild: input.guildId, channel: input.channelId });
}
