/**
 * The chats side of the fake Telegram Bot API: configurable chats (channel, group, supergroup, private) and the
 * memberships of bot accounts in them, answered through `getChat` and `getChatMember` as the real API answers a bot:
 *
 * - an unknown chat, or a private (no `@username`) chat the bot is not in: 400 "Bad Request: chat not found";
 * - a chat the bot was kicked from: 403 "Forbidden: bot was kicked from the <type> chat" (`channel`, `group`,
 *   `supergroup`);
 * - `getChat` returns `{ id, type, title, username? }`; `getChatMember(chat, user)` the member's ChatMember with
 *   every field of its status (administrators: every `can_*` right, false unless set), `left` when not a member.
 *
 * Chats are shared by every bot of the server; memberships are per bot user id (a backup token is another bot account).
 */
import type { TelegramChatType, TelegramMemberStatus } from '../../tokens';
import type { FakeTokenState } from './fake-platform';
import type { UpdatesAnswer } from './fake-telegram-updates';

/** A chat of the fake. */
export interface FakeChat {
  /** `-100…` for channels and supergroups, `-…` for groups. */
  id: number;
  type: TelegramChatType;
  title?: string;
  /** Public chats have one (without the @). */
  username?: string;
}

/** A membership as configured: the status and the rights that differ from false. */
export type FakeMembership = { status: TelegramMemberStatus } & Partial<Record<AdminRight | RestrictedRight, boolean>> & { is_member?: boolean; until_date?: number };

const ADMIN_RIGHTS = [
  'can_be_edited', 'is_anonymous', 'can_manage_chat', 'can_delete_messages', 'can_manage_video_chats', 'can_restrict_members', 'can_promote_members',
  'can_change_info', 'can_invite_users', 'can_post_stories', 'can_edit_stories', 'can_delete_stories',
] as const;
const CHANNEL_ADMIN_RIGHTS = ['can_post_messages', 'can_edit_messages'] as const;
const GROUP_ADMIN_RIGHTS = ['can_pin_messages', 'can_manage_topics'] as const;
const RESTRICTED_RIGHTS = [
  'can_send_messages', 'can_send_audios', 'can_send_documents', 'can_send_photos', 'can_send_videos', 'can_send_video_notes', 'can_send_voice_notes',
  'can_send_polls', 'can_send_other_messages', 'can_add_web_page_previews', 'can_change_info', 'can_invite_users', 'can_pin_messages', 'can_manage_topics',
] as const;
type AdminRight = (typeof ADMIN_RIGHTS)[number] | (typeof CHANNEL_ADMIN_RIGHTS)[number] | (typeof GROUP_ADMIN_RIGHTS)[number];
type RestrictedRight = (typeof RESTRICTED_RIGHTS)[number];

const fail = (error_code: number, description: string): UpdatesAnswer => ({ ok: false, error_code, description });

/** The chats and memberships of one fake Telegram server. */
export class TelegramChats {
  private readonly chats = new Map<string, FakeChat>();
  private readonly members = new Map<string, Map<string, FakeMembership>>();

  /** Add or replace a chat. */
  setChat(chat: FakeChat): void {
    this.chats.set(String(chat.id), { ...chat });
  }

  /** Set a user's membership in a chat (replaces the previous one). */
  setMember(chatId: number | string, userId: string, m: FakeMembership): void {
    const chat = this.find(chatId);
    if (!chat) throw new Error(`fake Telegram: no chat ${chatId} (setChat it first)`);
    const key = String(chat.id);
    const map = this.members.get(key) ?? new Map<string, FakeMembership>();
    map.set(userId, { ...m });
    this.members.set(key, map);
  }

  /** Forget a user's membership (they are `left`). */
  removeMember(chatId: number | string, userId: string): void {
    const chat = this.find(chatId);
    if (chat) this.members.get(String(chat.id))?.delete(userId);
  }

  /** A chat by id or `@username`. */
  find(ref: number | string): FakeChat | undefined {
    const s = String(ref);
    if (s.startsWith('@')) return [...this.chats.values()].find((c) => c.username?.toLowerCase() === s.slice(1).toLowerCase());
    return this.chats.get(s);
  }

  private membership(chat: FakeChat, userId: string): FakeMembership | undefined {
    return this.members.get(String(chat.id))?.get(userId);
  }

  /** The chat as this bot may see it, or the Bot API error it gets. */
  private access(bot: FakeTokenState, ref: unknown): { chat: FakeChat } | { error: UpdatesAnswer } {
    if (ref === undefined || ref === '') return { error: fail(400, 'Bad Request: chat_id is empty') };
    const chat = this.find(String(ref));
    if (!chat) return { error: fail(400, 'Bad Request: chat not found') };
    const m = this.membership(chat, bot.id);
    if (m?.status === 'kicked') return { error: fail(403, `Forbidden: bot was kicked from the ${chat.type} chat`) };
    const inside = m !== undefined && m.status !== 'left' && !(m.status === 'restricted' && m.is_member === false);
    if (!inside && !chat.username) return { error: fail(400, 'Bad Request: chat not found') };
    return { chat };
  }

  /** The `getChat` method. */
  getChat(bot: FakeTokenState, params: Record<string, unknown>): UpdatesAnswer {
    const a = this.access(bot, params.chat_id);
    if ('error' in a) return a.error;
    const { id, type, title, username } = a.chat;
    return { ok: true, result: { id, type, ...(title !== undefined ? { title } : {}), ...(username ? { username } : {}), accent_color_id: 0, max_reaction_count: 11 } };
  }

  /** The `getChatMember` method. */
  getChatMember(bot: FakeTokenState, params: Record<string, unknown>, users: (id: string) => FakeTokenState | undefined): UpdatesAnswer {
    const a = this.access(bot, params.chat_id);
    if ('error' in a) return a.error;
    const userId = String(params.user_id ?? '');
    if (!/^\d+$/.test(userId)) return fail(400, 'Bad Request: invalid user_id specified');
    const u = users(userId);
    const user = { id: Number(userId), is_bot: u !== undefined, first_name: u?.username ?? `user ${userId}`, ...(u ? { username: u.username } : {}) };
    const m = this.membership(a.chat, userId) ?? { status: 'left' as const };
    return { ok: true, result: { user, ...memberFields(a.chat.type, m) } };
  }
}

/** Every field a ChatMember of `m.status` carries in a chat of `type`. */
function memberFields(type: TelegramChatType, m: FakeMembership): Record<string, unknown> {
  const flags = (names: readonly string[]): Record<string, boolean> => Object.fromEntries(names.map((n) => [n, (m as Record<string, unknown>)[n] === true]));
  switch (m.status) {
    case 'creator':
      return { status: 'creator', is_anonymous: m.is_anonymous === true };
    case 'administrator':
      return { status: 'administrator', ...flags(ADMIN_RIGHTS), ...flags(type === 'channel' ? CHANNEL_ADMIN_RIGHTS : GROUP_ADMIN_RIGHTS) };
    case 'restricted':
      return { status: 'restricted', is_member: m.is_member !== false, ...flags(RESTRICTED_RIGHTS), until_date: m.until_date ?? 0 };
    case 'kicked':
      return { status: 'kicked', until_date: m.until_date ?? 0 };
    default:
      return { status: m.status };
  }
}
