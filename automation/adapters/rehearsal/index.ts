/**
 * The local adapter set for the failover engine, built from the local environment's state: real PostgreSQL and
 * Redis replication, a DNS record file, a notifications log and a file journal. Secrets and stacks have no local
 * counterpart: they are declared unavailable, so the engine reports their steps as skipped (never faked); so is the
 * bots' active-token probe, for now.
 */
import type { BotsPort, FailoverNotice, FailoverPorts, SecretsPort, StacksPort, Topology } from '../../failover/index';
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

const NO_SECRETS = 'no local counterpart: the local environment has no replicated secret store (its generated credentials live in secrets.json, beside state.json)';
const NO_STACKS = 'no local counterpart: the local environment is not a Pulumi stack (its state file and the journal record the roles)';

function unavailableSecrets(): SecretsPort {
  const fail = (): Promise<never> => Promise.reject(new Error(NO_SECRETS));
  return { unavailable: NO_SECRETS, isPromoted: fail, promote: fail };
}

const NO_BOTS = 'not wired in the rehearsal yet: the local environment does not probe the bots\' active tokens after a failover';

/** The bots' active-token probe after promote-secrets: not modelled locally yet (declared, never faked). */
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
    secrets: unavailableSecrets(),
    dns: new LocalDns(state.dns_file),
    stacks: unavailableStacks(),
    bots: unavailableBots(),
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
    })),
    dns: { records: DNS_RECORDS.map((r) => ({ name: r.name, service: r.service })) },
  };
}
