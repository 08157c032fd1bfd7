/**
 * The local adapter set for the failover engine, built from the local environment's state: real PostgreSQL and
 * Redis replication, a DNS record file, a notifications log, a file journal, and the bots (issue 11): each region's
 * copy of the bots' secrets (a → b replicated until promote-secrets promotes b's, local-bots.ts) with the fake
 * Telegram and Discord behind them. Stacks have no local counterpart: declared unavailable, so the engine reports
 * reconcile as skipped (never faked); so are the secrets and the bots of an environment made before the bot tier.
 */
import type { BotsPort, FailoverNotice, FailoverPorts, SecretsPort, StacksPort, Topology } from '../../failover/index';
import { BOT_TOKENS_SECRET, LocalBotSecrets, localBots } from './local-bots';
import { DNS_RECORDS, LocalState } from './state';
import { FileJournal } from '../tools/file-journal';
import { LocalCache } from './local-cache';
import { LocalDatabase } from './local-database';
import { LocalDns } from './local-dns';
import { LocalEnv } from './local-env';
import { LocalNotifier } from './local-notifier';

export { LocalEnv } from './local-env';
export { LocalDatabase } from './local-database';
export { LocalCache } from './local-cache';
export { LocalDns, readDnsFile, writeDnsFile } from './local-dns';
export { LocalNotifier } from './local-notifier';
export { BOT_TOKENS_SECRET, isReplicaCopy, killBotSecrets, LocalBotSecrets, localBots, regionTokensFile, RegionTokenStore, reviveBotSecrets } from './local-bots';

const NO_SECRETS = 'no local counterpart: the local environment has no replicated secret store (its generated credentials live in secrets.json, beside state.json)';
const NO_STACKS = 'no local counterpart: the local environment is not a Pulumi stack (its state file and the journal record the roles)';

function unavailableSecrets(): SecretsPort {
  const fail = (): Promise<never> => Promise.reject(new Error(NO_SECRETS));
  return { unavailable: NO_SECRETS, isPromoted: fail, promote: fail };
}

const NO_BOTS = 'no bot tier in this local environment (made before the bots were added): run dr local down and dr local up';

/** An environment without the bot tier: declared, never faked. */
function unavailableBots(): BotsPort {
  const fail = (): Promise<never> => Promise.reject(new Error(NO_BOTS));
  return { unavailable: NO_BOTS, probeActive: fail, activeRegions: fail, setActiveRegion: fail, serving: fail };
}

function unavailableStacks(): StacksPort {
  const fail = (): Promise<never> => Promise.reject(new Error(NO_STACKS));
  return { unavailable: NO_STACKS, isRetargeted: fail, retarget: fail };
}

export interface LocalPortsOptions {
  /** Also hand every notice to this listener (the drill's report). */
  onNotice?: (n: FailoverNotice) => void;
}

export function localPorts(state: LocalState, opts: LocalPortsOptions = {}): FailoverPorts {
  const env = new LocalEnv(state);
  return {
    database: new LocalDatabase(env),
    cache: new LocalCache(env),
    secrets: state.tokens_file ? new LocalBotSecrets(state) : unavailableSecrets(),
    dns: new LocalDns(state.dns_file),
    stacks: unavailableStacks(),
    bots: state.platform && state.tokens_file ? localBots(state) : unavailableBots(),
    notifier: new LocalNotifier(state.notifications_log, opts.onNotice),
    journal: new FileJournal(state.journal_dir),
  };
}

/** The two local regions and the record file's service names, in the engine's terms. */
export function localTopology(state: LocalState): Topology {
  return {
    regions: (['a', 'b'] as const).map((name) => ({
      name,
      database: `postgresql@127.0.0.1:${state.regions[name].postgres.port}`,
      cache: `redis@127.0.0.1:${state.regions[name].redis.port}`,
      ...(state.tokens_file ? { secrets: [BOT_TOKENS_SECRET] } : {}),
    })),
    dns: { records: DNS_RECORDS.map((r) => ({ name: r.name, service: r.service })) },
  };
}
