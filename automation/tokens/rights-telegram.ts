/**
 * The rights a Telegram bot needs in a configured chat, judged from `getChat` (its type) and `getChatMember(chat,
 * botId)` (the bot's ChatMember). Pure: `adapters/bots/telegram-permissions.ts` does the calls.
 *
 * - `creator`: every right.
 * - channel: an `administrator` with `can_post_messages` and `can_delete_messages`.
 * - group / supergroup: an `administrator` with `can_delete_messages` (administrators are never restricted from
 *   sending); a `restricted` bot is also missing `can_send_messages` when that is false, and `member` when it is not
 *   in the chat any more (`is_member: false`).
 * - `left` / `kicked` (or a chat the bot cannot see): `member` is missing as well, and the action says to add (or
 *   unban) it first.
 * - a private chat is not a channel or a group: the cell is an `error` (the configuration is wrong).
 */
import { listWords, rightsVerdict, errorVerdict, type ChannelVerdict } from './rights';

/** A chat type as `getChat` reports it. */
export type TelegramChatType = 'private' | 'group' | 'supergroup' | 'channel';

/** A ChatMember status as `getChatMember` reports it. */
export type TelegramMemberStatus = 'creator' | 'administrator' | 'member' | 'restricted' | 'left' | 'kicked';

/** A right the rules can find missing. */
export type TelegramRight = 'member' | 'administrator' | 'can_post_messages' | 'can_delete_messages' | 'can_send_messages';

/** The fields of a ChatMember the rules read. */
export interface TelegramMemberView {
  status: TelegramMemberStatus;
  can_post_messages?: boolean;
  can_delete_messages?: boolean;
  /** Restricted members only. */
  can_send_messages?: boolean;
  /** Restricted members only: whether the user is still in the chat. */
  is_member?: boolean;
}

/** What {@link telegramChatVerdict} needs. */
export interface TelegramVerdictInput {
  /** The chat as configured (`-100…` or `@name`). */
  channel: string;
  type: TelegramChatType;
  title?: string;
  member: TelegramMemberView;
  /** `@name` of the bot account (for the action text). */
  account?: string;
}

/** How an admin finds each right in the Telegram apps. */
const LABEL: Record<TelegramRight, string> = {
  member: 'membership',
  administrator: 'administrator',
  can_post_messages: 'Post messages',
  can_delete_messages: 'Delete messages',
  can_send_messages: 'Send messages',
};

/** The administrator rights a chat type requires. */
export function requiredAdminRights(type: TelegramChatType): TelegramRight[] {
  return type === 'channel' ? ['can_post_messages', 'can_delete_messages'] : ['can_delete_messages'];
}

/** The missing rights of a member in a chat of `type` (see the module comment). */
export function missingTelegramRights(type: Exclude<TelegramChatType, 'private'>, m: TelegramMemberView): TelegramRight[] {
  const admin = requiredAdminRights(type);
  switch (m.status) {
    case 'creator':
      return [];
    case 'administrator':
      return admin.filter((r) => m[r as 'can_post_messages' | 'can_delete_messages'] !== true);
    case 'member':
      return ['administrator', ...admin];
    case 'restricted': {
      const out: TelegramRight[] = [];
      if (m.is_member === false) out.push('member');
      out.push('administrator', ...admin);
      if (type !== 'channel' && m.can_send_messages === false) out.push('can_send_messages');
      return out;
    }
    case 'left':
    case 'kicked':
      return ['member', 'administrator', ...admin];
  }
}

function actionFor(input: TelegramVerdictInput, missing: TelegramRight[]): string {
  const who = input.account ?? 'the bot';
  const chat = input.title ? `${input.channel} ("${input.title}")` : input.channel;
  const adminRights = listWords(requiredAdminRights(input.type).map((r) => LABEL[r]));
  const status = input.member.status;
  if (status === 'administrator') return `give ${who} the administrator right${missing.length > 1 ? 's' : ''} ${listWords(missing.map((r) => LABEL[r]))} in ${chat}`;
  if (status === 'kicked') return `unban ${who} in ${chat}, add it back and make it an administrator with ${adminRights}`;
  if (status === 'left' || missing.includes('member')) return `add ${who} to ${chat} and make it an administrator with ${adminRights}`;
  if (status === 'restricted') return `lift the restrictions on ${who} in ${chat} and make it an administrator with ${adminRights}`;
  return `make ${who} an administrator of ${chat} with ${adminRights}`;
}

/** One matrix cell for a Telegram chat. */
export function telegramChatVerdict(input: TelegramVerdictInput): ChannelVerdict {
  const where = { type: input.type };
  if (input.type === 'private') return errorVerdict(input.channel, 'a private chat is not a channel or a group: check the bot\'s configured channels', where);
  const missing = missingTelegramRights(input.type, input.member);
  return rightsVerdict(input.channel, missing, input.member.status, missing.length ? actionFor(input, missing) : undefined, where);
}
