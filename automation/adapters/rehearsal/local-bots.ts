/**
 * The rehearsal's bots in the failover (issue 11, one consumer per token): each region's copy of the bots' secrets,
 * modelled on Secrets Manager replication, and the failover's SecretsPort and BotsPort over them.
 *
 * - Region a's copy is the environment's `tokens.json` (the owner's secret, written by `dr local up`, the token
 *   monitor's store). Region b's is `b/tokens.json`. While b's file does not exist, b's copy is a REPLICA of a's: it
 *   reads a's file (replication is continuous, as Secrets Manager's is within seconds) and refuses writes, as a
 *   replica secret does.
 * - Promoting it (the failover's `promote-secrets`, {@link LocalBotSecrets}) writes b's file as a copy of what it had
 *   (0600, atomically): from then on each region's copy is standalone, as after `StopReplicationToReplica`.
 * - A region whose secret store is lost ({@link killBotSecrets}, by the drill with the rest of the region) does not
 *   answer: its copy is `unreachable` (UnreachableError) until {@link reviveBotSecrets}. Its replica in the other
 *   region keeps answering, with the content it had.
 * {@link LocalBots} is the shared {@link StoreBotTier} over these copies and the environment's fake platforms.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OperationError, UnreachableError, UsageError } from '../../core/errors';
import type { SecretsPort } from '../../failover/index';
import type { StoredTokenRecord, TokenRecord, TokenStore, WriteOptions, WriteOutcome } from '../../tokens';
import { botTokenProber, platformTargetReader, StoreBotTier } from '../bots/index';
import { replaceFileSync } from '../tools/atomic-file';
import { TokenFileStore } from '../tools/token-file-store';
import { isRegion, type LocalState, otherRegion, type RegionName, regionTokensFile, REHEARSAL_BOTS } from './state';

export { regionTokensFile, TOKENS_OWNER } from './state';

/** The one replicated secret of the rehearsal, as the failover topology names it: the bots' token records. */
export const BOT_TOKENS_SECRET = 'bot-tokens';

function downMarker(s: LocalState, region: RegionName): string {
  return path.join(s.dir, region, 'bot-secrets.down');
}

/** The region's secret store stops answering (a lost region). */
export function killBotSecrets(s: LocalState, region: RegionName): void {
  fs.mkdirSync(path.dirname(downMarker(s, region)), { recursive: true });
  fs.writeFileSync(downMarker(s, region), new Date().toISOString());
}

/** The region's secret store answers again (with the copy it had). */
export function reviveBotSecrets(s: LocalState, region: RegionName): void {
  fs.rmSync(downMarker(s, region), { force: true });
}

/** Whether `region`'s copy is still a replica of the other region's (its own file does not exist). */
export function isReplicaCopy(s: LocalState, region: RegionName): boolean {
  return !fs.existsSync(regionTokensFile(s, region));
}

/** `region`'s copy of the bots' secrets as a TokenStore (see the module comment). */
export class RegionTokenStore implements TokenStore {
  readonly location: string;

  constructor(
    private readonly s: LocalState,
    private readonly region: RegionName,
  ) {
    this.location = `region ${region}'s bot secrets (${regionTokensFile(s, region)})`;
  }

  /** The file store this copy reads now: its own file, or — a replica — the other region's. */
  private source(): TokenFileStore {
    if (fs.existsSync(downMarker(this.s, this.region))) throw new UnreachableError(`the bot secrets of region ${this.region}`, 'the region is down');
    const own = regionTokensFile(this.s, this.region);
    return new TokenFileStore({ file: fs.existsSync(own) ? own : regionTokensFile(this.s, otherRegion(this.region)) });
  }

  read(bot: string, opts?: { signal?: AbortSignal }): Promise<StoredTokenRecord> {
    return this.source().read(bot, opts);
  }

  currentVersion(bot: string, opts?: { signal?: AbortSignal }): Promise<string> {
    return this.source().currentVersion(bot, opts);
  }

  async write(bot: string, record: TokenRecord, opts: WriteOptions): Promise<WriteOutcome> {
    const store = this.source();
    if (isReplicaCopy(this.s, this.region)) throw new OperationError(`region ${this.region}'s copy of the bot secrets is a read-only replica of ${otherRegion(this.region)}'s: promote it first (promote-secrets)`);
    return store.write(bot, record, opts);
  }
}

/** The failover's SecretsPort for the rehearsal: the bots' secrets, replicated a → b until promoted. */
export class LocalBotSecrets implements SecretsPort {
  constructor(private readonly s: LocalState) {}

  private region(region: string, secretId: string): RegionName {
    if (secretId !== BOT_TOKENS_SECRET) throw new UsageError(`the local environment replicates one secret, '${BOT_TOKENS_SECRET}', not '${secretId}'`);
    if (!isRegion(region)) throw new UsageError(`no local region '${region}'`);
    return region;
  }

  async isPromoted(region: string, secretId: string): Promise<boolean> {
    return !isReplicaCopy(this.s, this.region(region, secretId));
  }

  /** Write the region's own file as a copy of what its replica reads (the other region's file), once. */
  async promote(region: string, secretId: string): Promise<void> {
    const r = this.region(region, secretId);
    if (!isReplicaCopy(this.s, r)) return;
    const from = regionTokensFile(this.s, otherRegion(r));
    const to = regionTokensFile(this.s, r);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    replaceFileSync(to, fs.readFileSync(from, 'utf8'), 0o600);
  }
}

/** The failover's BotsPort for the rehearsal: {@link StoreBotTier} over the regions' copies and the fake platforms. */
export function localBots(s: LocalState): StoreBotTier {
  if (!s.platform) throw new UsageError(`the local environment in ${s.dir} has no bot tier: run 'dr local down' and 'dr local up'`);
  const telegram = { apiRoot: `http://127.0.0.1:${s.platform.telegram_port}`, timeoutMs: 5000 };
  const discord = { api: `http://127.0.0.1:${s.platform.discord_port}/api`, timeoutMs: 5000 };
  return new StoreBotTier({
    bots: REHEARSAL_BOTS.map((b) => b.name),
    storeOf: (region) => {
      if (!isRegion(region)) throw new UsageError(`no local region '${region}'`);
      return new RegionTokenStore(s, region);
    },
    prober: botTokenProber({ telegram, discord }),
    targets: platformTargetReader({ telegram, discord }),
    // The rehearsal's bots poll (Telegram) and hold a gateway (Discord): no webhook host is expected here.
    hostsOf: () => ({ shared: [], region: [] }),
  });
}
