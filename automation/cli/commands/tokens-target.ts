/**
 * What the four `dr tokens` commands share: where the records are (the target), who is acting, how tokens are
 * probed.
 *
 * Targets:
 * - `--file FILE` (relative to the working directory): a local JSON file through {@link TokenFileStore}; notices
 *   are appended to `<FILE>.notifications.log` (or `--notifications LOG`), one JSON line each, mode 0600.
 * - AWS (the default): both stacks' outputs — online through the Automation API (no refresh), or saved ones with
 *   `--outputs-dir DIR` (no backend needed) — give the bots and their secrets (`botTokenSecretArns`) and the alerts
 *   topics (`topicArn`, both regions). The records are read from Secrets Manager in the serving region (a promoted
 *   secondary, else the stack whose role is primary) or `--region R`; writes are refused on a read-only replica.
 *   Notices go to SNS. Clients come from `awsDeps.clients(ctx.env)` (tests mock them).
 *
 * The CLI never reads `process.env`: the platform API roots come from `--telegram-api-url` / `--discord-api-url`
 * or `DR_TELEGRAM_API_URL` / `DR_DISCORD_API_URL` in `ctx.env` (defaults: the real APIs).
 */
import * as path from 'node:path';
import { SecretsManagerReplicas } from '../../adapters/aws/secrets';
import { SnsNotifier } from '../../adapters/aws/sns-notifier';
import { SecretsTokenStore } from '../../adapters/aws/token-store';
import { awsRegion, type BuiltTopology } from '../../adapters/aws/topology';
import { botTokenProber, DISCORD_API, TELEGRAM_API_ROOT } from '../../adapters/bots';
import { TokenFileStore } from '../../adapters/tools/token-file-store';
import { TokenNoticeLog } from '../../adapters/tools/token-notice-log';
import { systemClock, type Clock } from '../../core/clock';
import { NotFoundError, UsageError } from '../../core/errors';
import { loadTopology } from '../../ops/offline-plan';
import { outputsCacheDir, promotedRegionOf, readStacksOnline } from '../../ops/stack-outputs';
import { botTokenSecrets, refuseReadOnlyReplicas, servingTokenRegion } from '../../ops/token-secrets';
import { operatorActor, type TokenNotifier, type TokenProber, type TokenStore } from '../../tokens';
import type { FlagSpecs } from '../args';
import { AWS_STACK_FLAGS, awsDeps, pulumiProjectDir, stackNames } from '../aws';
import type { CommandContext } from '../command';

/** The flags choosing the target (every `dr tokens` command takes them). */
export const TOKEN_TARGET_FLAGS: FlagSpecs = {
  file: { type: 'string', description: 'local: the tokens file { "bots": { "<name>": { "platform", "active", "tokens": [...] } } } (relative to the working directory); without it: AWS' },
  notifications: { type: 'string', description: '--file: append notices to this JSON-lines log (mode 0600; default <file>.notifications.log)' },
  ...AWS_STACK_FLAGS,
  'outputs-dir': { type: 'string', description: "AWS: read the stacks' outputs from DIR/primary.json and DIR/secondary.json instead of the Pulumi backend" },
  region: { type: 'string', description: 'AWS: the region whose Secrets Manager holds the records (default: the serving region: a promoted secondary, else the primary); a write is refused on a read-only replica' },
};

/** The platform API roots (the probing commands take them). */
export const TOKEN_API_FLAGS: FlagSpecs = {
  'telegram-api-url': { type: 'string', description: `Telegram Bot API root (default ${TELEGRAM_API_ROOT})`, env: 'DR_TELEGRAM_API_URL' },
  'discord-api-url': { type: 'string', description: `Discord API root without the version (default ${DISCORD_API})`, env: 'DR_DISCORD_API_URL' },
};

/** Where the records are, and who hears about decisions. */
export interface TokenTarget {
  store: TokenStore;
  /** Every bot the target knows, in file / output order. */
  bots: string[];
  notifier: TokenNotifier;
  /** Where notices go, for people (`file:<path>`, `sns:<topic>, …`). */
  notifications: string;
  clock: Clock;
}

/** The acting person: `operator:<USER or LOGNAME>` from the command's environment, else `operator:unknown`. */
export function operatorFromEnv(env: Record<string, string | undefined>): string {
  const raw = env.USER || env.LOGNAME || '';
  // Actor names are `operator:[A-Za-z0-9][A-Za-z0-9._@+-]{0,62}`: anything else in a login name becomes '-'.
  const clean = raw.replace(/[^A-Za-z0-9._@+-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return operatorActor(clean || 'unknown');
}

function apiUrl(ctx: CommandContext, flag: string): string | undefined {
  const v = ctx.flags.string(flag);
  if (v === undefined || v === '') return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`--${flag} must be an http(s) URL, got '${v}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--${flag} must be an http(s) URL, got '${v}'`);
  return v;
}

/**
 * The probers of both platforms, pointed at the API roots from the flags / environment. The roots are checked at
 * once (a bad URL is a usage error before anything is read); the clock is the target's.
 */
export function tokenProber(ctx: CommandContext): (clock: Clock) => TokenProber {
  const { telegram, discord } = platformApiUrls(ctx);
  return (clock) => botTokenProber({ telegram: telegram ? { apiRoot: telegram } : {}, discord: discord ? { api: discord } : {}, clock });
}

/** The platform API roots from {@link TOKEN_API_FLAGS} (undefined: the real APIs), checked at once. */
export function platformApiUrls(ctx: CommandContext): { telegram?: string; discord?: string } {
  const telegram = apiUrl(ctx, 'telegram-api-url');
  const discord = apiUrl(ctx, 'discord-api-url');
  return { ...(telegram ? { telegram } : {}), ...(discord ? { discord } : {}) };
}

/** What the command is about to do with the target. */
export interface TargetUse {
  /** It writes (check --apply, use, unpin): on AWS, read-only replicas are refused before anything else. */
  write: boolean;
  /** The one bot it acts on (use, unpin): it must be one the target knows; only its secret must be writable. */
  bot?: string;
}

/** Refuse a BOT the target does not know, naming the ones it does. */
function requireBot(bots: readonly string[], bot: string, where: string): void {
  if (!bots.includes(bot)) throw new UsageError(`unknown bot '${bot}'; the bots in ${where}: ${bots.join(', ')}`);
}

async function fileTarget(ctx: CommandContext, file: string, use: TargetUse): Promise<TokenTarget> {
  for (const f of ['region', 'outputs-dir']) if (ctx.flags.has(f)) throw new UsageError(`--${f} is for the AWS target; --file reads a local tokens file`);
  const clock = systemClock;
  const store = new TokenFileStore({ file: path.resolve(ctx.cwd, file), clock });
  let bots: string[];
  try {
    bots = await store.bots();
  } catch (err) {
    if (err instanceof NotFoundError) throw new UsageError(`--file ${store.location} does not exist`);
    throw err;
  }
  if (!bots.length) throw new UsageError(`--file ${store.location} has no bots ("bots" is empty)`);
  if (use.bot !== undefined) requireBot(bots, use.bot, store.location);
  const log = new TokenNoticeLog(path.resolve(ctx.cwd, ctx.flags.string('notifications') ?? `${store.location}.notifications.log`));
  return { store, bots, notifier: log, notifications: `file:${log.file}`, clock };
}

/** Both stacks' outputs (saved ones with --outputs-dir), and the promoted region when the stacks can be asked. */
async function readOutputs(ctx: CommandContext): Promise<{ built: BuiltTopology; promoted?: string }> {
  const names = stackNames(ctx);
  const outputsDir = ctx.flags.string('outputs-dir');
  if (outputsDir) return { built: loadTopology(path.resolve(ctx.cwd, outputsDir), names) };
  const workDir = pulumiProjectDir(ctx);
  const online = await readStacksOnline(awsDeps.driver(workDir, ctx.env), names, { refresh: false, log: (l) => ctx.out.info(l), cacheDir: outputsCacheDir(workDir) });
  const promoted = await promotedRegionOf(online.built, online.stacks).catch(() => undefined);
  return { built: online.built, ...(promoted ? { promoted } : {}) };
}

async function awsTarget(ctx: CommandContext, use: TargetUse): Promise<TokenTarget> {
  const { built, promoted } = await readOutputs(ctx);
  const serving = servingTokenRegion(built.aws, promoted);
  const given = ctx.flags.string('region');
  if (given) awsRegion(built.aws, given);
  const region = given ?? serving;
  if (!region) {
    const roles = built.aws.regions.map((r) => `${r.stack} (${r.region}) has role '${r.role}'`).join(', ');
    throw new UsageError(`the stacks do not say which region serves (${roles}); name it with --region`);
  }
  const secrets = botTokenSecrets(built.aws, region);
  const ids = new Map(secrets.map((s) => [s.bot, s.secretId]));
  if (use.bot !== undefined) requireBot([...ids.keys()], use.bot, "the stacks' botTokenSecretArns");
  const clients = awsDeps.clients(ctx.env);
  const clock = awsDeps.clock ?? systemClock;
  if (use.write) {
    const written = use.bot === undefined ? secrets : secrets.filter((s) => s.bot === use.bot);
    await refuseReadOnlyReplicas(written, region, { check: new SecretsManagerReplicas({ secretsManager: clients.secretsManager, clock, retry: awsDeps.retry }), serving, signal: ctx.signal });
    if (serving && serving !== region) ctx.out.warn(`${region} is not the serving region (${serving}) per the stacks; its bot-token secrets are standalone, so writing there`);
  }
  const store = new SecretsTokenStore({
    client: clients.secretsManager(region),
    region,
    secretId: (bot) => {
      const id = ids.get(bot);
      if (!id) throw new UsageError(`unknown bot '${bot}'; the stacks' bots: ${[...ids.keys()].join(', ')}`);
      return id;
    },
    clock,
    ...(awsDeps.retry ? { retry: awsDeps.retry } : {}),
    log: (l) => ctx.out.info(l),
  });
  const topics = built.aws.regions.map((r) => r.topicArn).filter((t): t is string => !!t);
  const notifier = new SnsNotifier({ topics, sns: clients.sns, clock, ...(awsDeps.retry ? { retry: awsDeps.retry } : {}) }).tokenNotifier();
  return { store, bots: secrets.map((s) => s.bot), notifier, notifications: topics.length ? topics.map((t) => `sns:${t}`).join(', ') : 'nowhere (no alerts topic in the outputs)', clock };
}

/** The target of this run (see the module comment and {@link TargetUse}). */
export async function openTokenTarget(ctx: CommandContext, use: TargetUse): Promise<TokenTarget> {
  const file = ctx.flags.string('file');
  if (file !== undefined) {
    if (file.trim() === '') throw new UsageError('--file must not be empty');
    return fileTarget(ctx, file, use);
  }
  if (ctx.flags.has('notifications')) throw new UsageError("--notifications is for --file; on AWS notices go to the stacks' alerts topics");
  return awsTarget(ctx, use);
}
