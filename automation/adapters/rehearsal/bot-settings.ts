/**
 * The rehearsal bots' settings as a stack would configure them (issue 11): how each receives updates, its channels
 * and (Discord) the permissions it needs there; and the chats, guild and memberships `dr local up` gives the fake
 * platforms so every token starts with every right ({@link seedRehearsalChannels}). The `permissions` drill takes a
 * right away from one token ({@link REHEARSAL_RIGHTS_GAP}).
 *
 * Both bots poll locally (community: getUpdates; moderation: the gateway), so the local token monitor only checks
 * that no webhook / interactions endpoint is set: a webhook would take community's updates away from its worker.
 */
import { DEFAULT_DISCORD_PERMISSIONS } from '../../../lib/validators';
import type { BotEndpointSpec, Platform } from '../../tokens';
import type { PlatformControl, PlatformBot } from './platform-server';

/** The Telegram channel the bot worker posts to, and a supergroup. */
export const REHEARSAL_CHANNEL = -1001000000001;
export const REHEARSAL_GROUP = -1001000000002;
/** The Discord guild and its text channel. */
export const REHEARSAL_GUILD = '900000000000000001';
export const REHEARSAL_DISCORD_CHANNEL = '900000000000000101';

/** One rehearsal bot's settings (the fields of lib/config.ts `BotSettings` the monitor reads). */
export interface RehearsalBotSettings {
  name: string;
  platform: Platform;
  mode: 'webhook' | 'polling';
  webhookUrl?: string;
  channels: string[];
  permissions: string[];
}

export const REHEARSAL_BOT_SETTINGS: readonly RehearsalBotSettings[] = [
  { name: 'community', platform: 'telegram', mode: 'polling', channels: [String(REHEARSAL_CHANNEL), String(REHEARSAL_GROUP)], permissions: [] },
  { name: 'moderation', platform: 'discord', mode: 'polling', channels: [`${REHEARSAL_GUILD}/${REHEARSAL_DISCORD_CHANNEL}`], permissions: [...DEFAULT_DISCORD_PERMISSIONS] },
];

/** The endpoint specs of the rehearsal bots. */
export function rehearsalEndpointSpecs(): BotEndpointSpec[] {
  return REHEARSAL_BOT_SETTINGS.map((b) => ({ bot: b.name, platform: b.platform, mode: b.mode, ...(b.webhookUrl ? { webhookUrl: b.webhookUrl } : {}) }));
}

/** The `permissions` drill's gap: the community bot's token 1 (next in rotation after 0) lacks Delete messages in the channel. */
export const REHEARSAL_RIGHTS_GAP = { bot: 'community', token: 1, channel: String(REHEARSAL_CHANNEL), missing: ['can_delete_messages'] } as const;

/** A full administrator of a Telegram channel / supergroup. */
const ADMIN = { status: 'administrator' as const, can_post_messages: true, can_delete_messages: true, can_manage_chat: true };

/** Chats, guild, channel and memberships on the running fakes: every token of every bot with every right. */
export async function seedRehearsalChannels(control: PlatformControl, bots: readonly PlatformBot[]): Promise<void> {
  await control.op({ op: 'setChat', chat: { id: REHEARSAL_CHANNEL, type: 'channel', title: 'Course files' } });
  await control.op({ op: 'setChat', chat: { id: REHEARSAL_GROUP, type: 'supergroup', title: 'Volunteers' } });
  await control.op({ op: 'setGuild', guild: { id: REHEARSAL_GUILD, name: 'Chess club' } });
  await control.op({ op: 'setChannel', channel: { id: REHEARSAL_DISCORD_CHANNEL, guild_id: REHEARSAL_GUILD, name: 'course-files' } });
  for (const b of bots) {
    for (const token of b.tokens) {
      if (b.platform === 'telegram') {
        for (const chat of [REHEARSAL_CHANNEL, REHEARSAL_GROUP]) await control.setChatMember(chat, { token }, ADMIN);
      } else {
        await control.op({ op: 'setMember', guildId: REHEARSAL_GUILD, who: { token }, member: { roles: [] } });
      }
    }
  }
}

/** Take the {@link REHEARSAL_RIGHTS_GAP} right away from `token` (an administrator without Delete messages). */
export function openRightsGap(control: PlatformControl, token: string): Promise<true> {
  return control.setChatMember(REHEARSAL_CHANNEL, { token }, { ...ADMIN, can_delete_messages: false });
}
