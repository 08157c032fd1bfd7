/**
 * What `dr bots check-permissions`, `dr status`, `dr backup config` and `dr restore config` share about the bots
 * (issue 11): their settings (platform, channels, mode, webhook URL, Discord permissions) and where their tokens and
 * platforms are.
 *
 * - `--local`: the local environment's bots (adapters/rehearsal/bot-settings.ts), its tokens file and the fake
 *   Telegram / Discord.
 * - AWS: the bots of the primary stack's settings file (`Pulumi.<primary-stack>.yaml` in the Pulumi project, the
 *   secondary's when there is none; `botTokens` is never read, so no decryption), the tokens from the serving
 *   region's Secrets Manager (./commands/tokens-target.ts), the platform APIs from `--telegram-api-url` /
 *   `--discord-api-url` or `DR_TELEGRAM_API_URL` / `DR_DISCORD_API_URL` (defaults: the real APIs).
 */
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { mapConfigSource, readBotsSettings } from '../../lib/config';
import { settingsFile } from '../adapters/aws/stacks';
import { SecretsTokenStore } from '../adapters/aws/token-store';
import type { BuiltTopology } from '../adapters/aws/topology';
import { botTokenSecrets, servingTokenRegion } from '../ops/token-secrets';
import { REHEARSAL_BOT_SETTINGS, type RehearsalBotSettings } from '../adapters/rehearsal/bot-settings';
import { requireState } from '../adapters/rehearsal/state';
import { systemClock, type Clock } from '../core/clock';
import { UsageError } from '../core/errors';
import { localPlatformUrls, localTokenStore } from '../rehearsal/token-monitor';
import type { TokenStore } from '../tokens';
import { awsDeps, pulumiProjectDir, stackNames } from './aws';
import type { CommandContext } from './command';
import { localDir } from './local';
import { openTokenTarget, platformApiUrls } from './commands/tokens-target';

/** A bot's settings as the bots commands need them (lib/config.ts `BotSettings` has these fields). */
export type BotTargetSettings = RehearsalBotSettings;

/** Where the bots are. */
export interface BotsTarget {
  /** `local:<dir>` or `aws:<settings file>`. */
  where: string;
  bots: BotTargetSettings[];
  store: TokenStore;
  telegram: { apiRoot?: string };
  discord: { api?: string };
  clock: Clock;
}

/** The bots of a stack settings file, or undefined when there is none; problems are a UsageError naming the keys. */
export function botsOfSettingsFile(file: string): BotTargetSettings[] | undefined {
  if (!fs.existsSync(file)) return undefined;
  const doc = (parse(fs.readFileSync(file, 'utf8')) ?? {}) as { config?: Record<string, unknown> };
  const { bots, problems } = readBotsSettings(mapConfigSource(doc.config ?? {}));
  if (problems.length) throw new UsageError(`${file}: ${problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`);
  return bots.map((b) => ({ name: b.name, platform: b.platform, mode: b.mode, channels: b.channels, permissions: b.permissions, ...(b.webhookUrl ? { webhookUrl: b.webhookUrl } : {}) }));
}

/** The AWS stacks' bots: the primary's settings file, else the secondary's (the list is the same on both). */
export function stackBotSettings(ctx: CommandContext): { file: string; bots: BotTargetSettings[] } {
  const dir = pulumiProjectDir(ctx);
  const names = stackNames(ctx);
  for (const stack of [names.primary, names.secondary]) {
    const file = settingsFile(dir, stack);
    const bots = botsOfSettingsFile(file);
    if (bots) return { file, bots };
  }
  throw new UsageError(`no ${settingsFile(dir, names.primary)} (nor the secondary's): the bots' channels and modes are read from the stack settings file`);
}

/** The bots target of this run (see the module comment). */
export async function openBotsTarget(ctx: CommandContext): Promise<BotsTarget> {
  if (ctx.flags.bool('local')) {
    const st = requireState(localDir(ctx));
    const urls = localPlatformUrls(st);
    return { where: `local:${st.dir}`, bots: REHEARSAL_BOT_SETTINGS.map((b) => ({ ...b })), store: localTokenStore(st), telegram: { apiRoot: urls.telegram }, discord: { api: urls.discord }, clock: systemClock };
  }
  const apis = platformApiUrls(ctx);
  const { file, bots } = stackBotSettings(ctx);
  if (!bots.length) throw new UsageError(`${file} declares no bots (bot-platform-dr:bots)`);
  const t = await openTokenTarget(ctx, { write: false });
  const unknown = bots.filter((b) => !t.bots.includes(b.name)).map((b) => b.name);
  if (unknown.length) throw new UsageError(`${file} declares ${unknown.join(', ')}, which the stacks' botTokenSecretArns do not (deploy them first)`);
  return { where: `aws:${file}`, bots, store: t.store, telegram: apis.telegram ? { apiRoot: apis.telegram } : {}, discord: apis.discord ? { api: apis.discord } : {}, clock: t.clock };
}

/**
 * The bots target from stack outputs already read (`dr status`): the settings file's bots, the tokens from the
 * serving region (a promoted secondary when `promoted` says so, else the stack whose role is primary), read-only.
 * Undefined when the stacks declare no bot-token secrets.
 */
export function botsTargetFromTopology(ctx: CommandContext, built: BuiltTopology, promoted?: string): (() => BotsTarget) | undefined {
  if (!built.aws.regions.some((r) => Object.keys(r.botTokenSecrets).length)) return undefined;
  return () => {
    const apis = platformApiUrls(ctx);
    const { file, bots } = stackBotSettings(ctx);
    const region = servingTokenRegion(built.aws, promoted);
    if (!region) throw new UsageError('the stacks do not say which region serves the bot tokens');
    const ids = new Map(botTokenSecrets(built.aws, region).map((x) => [x.bot, x.secretId]));
    const clock = awsDeps.clock ?? systemClock;
    const store = new SecretsTokenStore({
      client: awsDeps.clients(ctx.env).secretsManager(region),
      region,
      secretId: (bot) => {
        const id = ids.get(bot);
        if (!id) throw new UsageError(`${file} declares ${bot}, which the stacks' botTokenSecretArns do not`);
        return id;
      },
      clock,
      ...(awsDeps.retry ? { retry: awsDeps.retry } : {}),
    });
    return { where: `aws:${file}`, bots, store, telegram: apis.telegram ? { apiRoot: apis.telegram } : {}, discord: apis.discord ? { api: apis.discord } : {}, clock };
  };
}
