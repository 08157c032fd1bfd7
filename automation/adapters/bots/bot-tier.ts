/**
 * The bots as the failover sees them from one region (its BotsPort, structurally: this layer does not import the
 * engine), over any {@link TokenStore} per region — Secrets Manager in that region on AWS, the region's token file in
 * the rehearsal. One implementation of the rules, two worlds:
 *
 * - `probeActive(region)`: each bot's record read in `region`, its ACTIVE token probed once (issue 10).
 * - `activeRegions(copy)` / `setActiveRegion(copy, bot, region)`: one consumer per token (issue 11) — the record's
 *   `active_region` in `copy`'s copy of the secret; the write is the token engine's `setActiveRegion` (check, then a
 *   compare-and-set of only that field, keyed by the failover). A store that does not answer (UnreachableError) is
 *   `unreachable`; any other failure to read is `unreadable`.
 * - `serving(region)`: for verify — `active_region`, the active token probed, where updates go
 *   ({@link readUpdateTarget}: never `getUpdates`).
 * Never an exception for a bot that cannot be read, never a token in a result (details are redacted).
 */
import { errorSummary, UnreachableError } from '../../core/errors';
import { redact } from '../../core/redact';
import { setActiveRegion, type TokenProber, type TokenRecord, type TokenStore } from '../../tokens';
import { readUpdateTarget, type UpdateTarget, type UpdateTargetHosts, type UpdateTargetReader } from './update-target';

/** What probing one bot's active token found (the failover's `ActiveTokenProbe`). */
export interface BotTokenState {
  bot: string;
  platform: string;
  active: number;
  state: string;
  latency_ms?: number;
  detail?: string;
}

/** Options of {@link StoreBotTier}. */
export interface StoreBotTierOptions {
  /** The bots, in a stable order. */
  bots: readonly string[];
  /** The token store holding `region`'s copy of the bots' secrets. */
  storeOf: (region: string, log?: (line: string) => void) => TokenStore;
  prober: TokenProber;
  targets: UpdateTargetReader;
  /** The hosts that count as the shared name and as `region`'s own endpoint. */
  hostsOf: (region: string) => UpdateTargetHosts;
}

type Call = { signal?: AbortSignal; log?: (line: string) => void };

/** See the module comment. */
export class StoreBotTier {
  constructor(private readonly o: StoreBotTierOptions) {}

  async probeActive(region: string, opts: Call = {}): Promise<BotTokenState[]> {
    const store = this.o.storeOf(region, opts.log);
    return Promise.all(
      this.o.bots.map(async (bot) => {
        const read = await this.read(store, bot, region, opts);
        return 'record' in read ? this.probe(read.record, bot, opts) : read.unread;
      }),
    );
  }

  async activeRegions(copy: string, opts: Call = {}): Promise<Array<{ bot: string; state: 'read' | 'unreachable' | 'unreadable'; active_region?: string; detail?: string }>> {
    const store = this.o.storeOf(copy, opts.log);
    return Promise.all(
      this.o.bots.map(async (bot) => {
        try {
          const { record } = await store.read(bot, { signal: opts.signal });
          return { bot, state: 'read' as const, ...(record.active_region !== undefined ? { active_region: record.active_region } : {}) };
        } catch (err) {
          return { bot, state: err instanceof UnreachableError ? ('unreachable' as const) : ('unreadable' as const), detail: redact(`reading its secret in ${copy}: ${errorSummary(err)}`) };
        }
      }),
    );
  }

  async setActiveRegion(copy: string, bot: string, active: string, opts: Call & { failover: string }): Promise<void> {
    await setActiveRegion(this.o.storeOf(copy, opts.log), bot, active, { key: opts.failover, signal: opts.signal });
  }

  async serving(region: string, opts: Call = {}): Promise<Array<BotTokenState & UpdateTarget & { active_region?: string }>> {
    const store = this.o.storeOf(region, opts.log);
    const hosts = this.o.hostsOf(region);
    return Promise.all(
      this.o.bots.map(async (bot) => {
        const read = await this.read(store, bot, region, opts);
        if (!('record' in read)) return { ...read.unread, target: 'unknown' as const };
        const { record } = read;
        const [probe, target] = await Promise.all([this.probe(record, bot, opts), readUpdateTarget(this.o.targets, record.platform, record.tokens[record.active], hosts, opts.signal)]);
        return { ...probe, ...(record.active_region !== undefined ? { active_region: record.active_region } : {}), ...target };
      }),
    );
  }

  private async read(store: TokenStore, bot: string, region: string, opts: Call): Promise<{ record: TokenRecord } | { unread: BotTokenState }> {
    try {
      return { record: (await store.read(bot, { signal: opts.signal })).record };
    } catch (err) {
      return { unread: { bot, platform: 'unknown', active: -1, state: 'unreadable', detail: redact(`reading its secret in ${region}: ${errorSummary(err)}`) } };
    }
  }

  /** Probe the record's active token once (a probe that throws is `failing`). */
  private async probe(record: TokenRecord, bot: string, opts: Call): Promise<BotTokenState> {
    const { platform, active } = record;
    try {
      const p = await this.o.prober.probe({ platform, token: record.tokens[active], index: active, signal: opts.signal });
      return { bot, platform, active, state: p.state, latency_ms: p.latency_ms, ...(p.detail ? { detail: redact(p.detail) } : {}) };
    } catch (err) {
      return { bot, platform, active, state: 'failing', detail: redact(`probe error: ${errorSummary(err)}`) };
    }
  }
}
