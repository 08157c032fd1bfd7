/**
 * A Telegram token's rights in its bot's configured chats (issue 11, seed 000 AC3): `getMe` for the bot account,
 * then per chat `getChat` (the type) and `getChatMember(chat, botId)`, judged by `telegramChatVerdict` (channel: an
 * administrator with Post messages and Delete messages; group/supergroup: an administrator with Delete messages,
 * not restricted from sending; the creator has all).
 *
 * How the Bot API's refusals read:
 * - 403 "Forbidden: bot was kicked from the <type> chat" → `kicked` (its type from the text);
 * - 403 "Forbidden: bot is not a member of the <type> chat" → `left`;
 * - 400 "Bad Request: chat not found" → missing `member`, status `not-found`: the bot cannot see the chat (it was
 *   never added to a private chat, or the configured id is wrong; the action says both);
 * - anything else (401, 429, 5xx, no answer) → an `error` cell: the rights are unknown, not missing.
 * Chats are configured as `-100…`/`-…` ids or `@username`.
 */
import { errorText } from '../../core/errors';
import { errorVerdict, rightsVerdict, telegramChatVerdict, type ChannelVerdict, type TelegramChatType, type TelegramMemberView, type TokenRights } from '../../tokens';
import { telegramApi, telegramCall, telegramErrorDetail, type TelegramClientOptions } from './telegram-call';

const CHAT_REF = /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/;

/** The chat_id to send for a configured chat, or undefined when it is neither an id nor an @username. */
export function telegramChatId(ref: string): number | string | undefined {
  const s = ref.trim();
  if (!CHAT_REF.test(s)) return undefined;
  return s.startsWith('@') ? s : Number(s);
}

function typeFrom(description: string): Exclude<TelegramChatType, 'private'> {
  const m = /(channel|supergroup|group) chat/.exec(description);
  return (m?.[1] as Exclude<TelegramChatType, 'private'> | undefined) ?? 'supergroup';
}

/** Checks one Telegram token's chats. */
export class TelegramPermissions {
  constructor(private readonly o: TelegramClientOptions = {}) {}

  /** The cells of one token (index filled in by the caller). */
  async check(token: string, chats: readonly string[], signal?: AbortSignal): Promise<Omit<TokenRights, 'index'>> {
    const api = telegramApi(token, this.o);
    let me: { id: number; username?: string };
    try {
      me = await telegramCall('getMe', [token], () => api.getMe(signal as Parameters<typeof api.getMe>[0]), this.o.timeoutMs);
    } catch (err) {
      const detail = errorText(err);
      return { state: 'error', detail, channels: chats.map((c) => errorVerdict(c, `not checked: ${detail}`)) };
    }
    const account = me.username ? `@${me.username}` : `the bot ${me.id}`;
    const channels: ChannelVerdict[] = [];
    for (const chat of chats) channels.push(await this.chat(token, api, me.id, account, chat, signal));
    return { account, state: 'checked', channels };
  }

  private async chat(token: string, api: ReturnType<typeof telegramApi>, botId: number, account: string, chat: string, signal?: AbortSignal): Promise<ChannelVerdict> {
    const id = telegramChatId(chat);
    if (id === undefined) return errorVerdict(chat, 'not a Telegram chat id (-100…) or @username: check the bot\'s configured channels');
    try {
      const info = await telegramCall('getChat', [token], () => api.getChat(id, signal as Parameters<typeof api.getChat>[1]), this.o.timeoutMs);
      const member = await telegramCall('getChatMember', [token], () => api.getChatMember(id, botId, signal as Parameters<typeof api.getChatMember>[2]), this.o.timeoutMs);
      const title = 'title' in info && typeof info.title === 'string' ? info.title : undefined;
      return telegramChatVerdict({ channel: chat, type: info.type as TelegramChatType, ...(title ? { title } : {}), member: member as unknown as TelegramMemberView, account });
    } catch (err) {
      const d = telegramErrorDetail(err);
      if (d?.error_code === 403 && /kicked/.test(d.description)) return telegramChatVerdict({ channel: chat, type: typeFrom(d.description), member: { status: 'kicked' }, account });
      if (d?.error_code === 403 && /not a member/.test(d.description)) return telegramChatVerdict({ channel: chat, type: typeFrom(d.description), member: { status: 'left' }, account });
      if (d?.error_code === 400 && /chat not found/.test(d.description)) {
        return rightsVerdict(chat, ['member'], 'not-found', `the bot cannot see ${chat} (chat not found): add ${account} to it and make it an administrator (a channel: Post messages and Delete messages; a group: Delete messages), or correct the configured id`);
      }
      return errorVerdict(chat, errorText(err));
    }
  }
}
