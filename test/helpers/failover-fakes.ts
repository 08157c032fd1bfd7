/**
 * In-memory fakes of every failover port, sharing one {@link FakeWorld}. They model just enough of the world for
 * the engine's check-then-act logic (roles, fences, WAL positions, DNS, secrets, stacks), count every act, log
 * every operation, and can inject a crash ({@link CrashError}) before or after any operation: an act
 * (`database.promote`, `dns.point:platform`, …) or a journal append (`journal:step:fence:done`, …).
 *
 * After a crash the world is "dead" like the `dr` process would be: every further call throws CrashError until
 * {@link FakeWorld.recover} is called, so the engine's error handling cannot sneak in a journal write.
 */

import { type ActiveTokenProbe, type BotActiveRegion, type BotServing, type BotsPort, type CachePort, compareLsn, type DatabasePort, type DataRole, type DnsPort, type FailoverNotice, type FailoverPorts, formatLsn, type JournalEntry, type JournalPort, type JournalRead, type NotifierPort, type NotifyReport, parseLsn, type ReplicationState, type Retarget, type SecretsPort, type StacksPort, type Topology } from '../../automation/failover/index';
import type { Clock } from '../../automation/core/clock';

/** Thrown by the fakes to simulate `dr` dying at that exact point. */
export class CrashError extends Error {
  constructor(readonly op: string, readonly when: 'before' | 'after') {
    super(`injected crash ${when} ${op}`);
    this.name = 'CrashError';
  }
}

export interface FakeDb {
  up: boolean;
  role: 'primary' | 'standby';
  fenced: boolean;
  /** Current WAL position (primary) as a byte count. */
  lsn: bigint;
  /** Replayed position (standby). */
  replay: bigint;
}

export interface FakeCache {
  up: boolean;
  role: 'primary' | 'standby';
  fenced: boolean;
}

export interface CrashPlan {
  /** Operation name as logged in {@link FakeWorld.ops}, e.g. `database.promote` or `journal:step:fence:done`. */
  op: string;
  when: 'before' | 'after';
  /** Crash on the n-th occurrence (1-based, default 1). */
  nth?: number;
}

/** The bots' active tokens the fake bots port reports by default. */
const DEFAULT_BOT_TOKENS: ActiveTokenProbe[] = [
  { bot: 'community', platform: 'telegram', active: 0, state: 'healthy', latency_ms: 40 },
  { bot: 'moderation', platform: 'discord', active: 1, state: 'healthy', latency_ms: 55 },
];

/** The shared state of the fake two-region world. */
export class FakeWorld {
  db: Record<string, FakeDb>;
  cache: Record<string, FakeCache>;
  /** `${region}/${secretId}` → promoted (standalone). */
  secrets = new Map<string, boolean>();
  dns = new Map<string, string>();
  retargeted: Retarget | undefined;
  /** Regions whose stacks cannot be refreshed (region down). */
  stackDown = new Set<string>();
  /** Lag the standby reports while the primary answers. */
  lagSeconds = 1;
  /** Last known lag once the primary is gone. */
  lastKnown: { lagSeconds?: number; lagBytes?: number; observedAt: string } | undefined = { lagSeconds: 2, lagBytes: 4096, observedAt: '2025-01-01T00:00:00.000Z' };
  /** When true, waitForReplay never catches up (times out). */
  replicationStalled = false;
  /** Notifier behaviour. */
  notifierMode: 'ok' | 'throw' | 'partial' = 'ok';
  notices: FailoverNotice[] = [];
  /** Every operation in call order (acts, checks are not logged; journal appends are). */
  ops: string[] = [];
  /** Count of acts per operation name (journal appends not included). */
  acts = new Map<string, number>();
  /** Counts of every method call including checks, per `port.method`. */
  calls = new Map<string, number>();
  crash: CrashPlan | undefined;
  private crashed = false;
  private seen = new Map<string, number>();
  journalEntries = new Map<string, JournalEntry[]>();
  journalOrder: string[] = [];
  /**
   * What the bots port reports for each region it is asked about (with `fakePorts(world, { bots: true })`): the bots'
   * active tokens, or `'throw'` to make the probe itself fail. Regions asked are logged in {@link botProbes}.
   */
  botTokens: ActiveTokenProbe[] | 'throw' = DEFAULT_BOT_TOKENS.map((b) => ({ ...b }));
  /** Make `bots.serving` (verify's read) fail as a whole. */
  botServingFails = false;
  botProbes: string[] = [];
  /**
   * Each region's copy of each bot's secret, as far as `active_region` goes (issue 11). Both start naming the region
   * that consumes before the failover; a region in {@link botStoreDown} does not answer (a lost region's Secrets
   * Manager); `kill`/`revive` take it down and bring it back with the region.
   */
  botCopies: Record<string, Record<string, { active_region?: string }>>;
  botStoreDown = new Set<string>();
  /** What `serving` reports as the bots' targets (default: polling for Telegram, gateway for Discord). */
  botTargets: Record<string, Pick<BotServing, 'target' | 'webhook_target' | 'target_detail'>> = {};

  constructor(readonly regions: [string, string] = ['a', 'b']) {
    const [a, b] = regions;
    this.db = {
      [a]: { up: true, role: 'primary', fenced: false, lsn: parseLsn('0/3000000'), replay: 0n },
      [b]: { up: true, role: 'standby', fenced: false, lsn: 0n, replay: parseLsn('0/2FFF000') },
    };
    this.cache = {
      [a]: { up: true, role: 'primary', fenced: false },
      [b]: { up: true, role: 'standby', fenced: false },
    };
    this.dns.set('platform', a);
    this.dns.set('database', a);
    this.dns.set('cache', a);
    this.botCopies = {
      [a]: { community: { active_region: a }, moderation: { active_region: a } },
      [b]: { community: { active_region: a }, moderation: { active_region: a } },
    };
  }

  /** A region dies: its database, cache and stack stop answering. */
  kill(region: string): void {
    this.db[region].up = false;
    this.cache[region].up = false;
    this.stackDown.add(region);
    this.botStoreDown.add(region);
  }

  /** A region comes back (same roles and fences it had, like a restarted server). */
  revive(region: string): void {
    this.db[region].up = true;
    this.cache[region].up = true;
    this.stackDown.delete(region);
    this.botStoreDown.delete(region);
  }

  /** Clear the crash state, as a fresh `dr` process would start. */
  recover(): void {
    this.crashed = false;
    this.crash = undefined;
  }

  actCount(op?: string): number {
    if (op) return this.acts.get(op) ?? 0;
    let n = 0;
    for (const v of this.acts.values()) n += v;
    return n;
  }

  callCount(op: string): number {
    return this.calls.get(op) ?? 0;
  }

  /** Comparable snapshot of the world (for "converges to the same state" assertions). */
  snapshot(): unknown {
    return {
      db: Object.fromEntries(Object.entries(this.db).map(([k, v]) => [k, { ...v, lsn: formatLsn(v.lsn), replay: formatLsn(v.replay) }])),
      cache: this.cache,
      secrets: [...this.secrets.entries()].sort(),
      dns: [...this.dns.entries()].sort(),
      retargeted: this.retargeted,
      botCopies: JSON.parse(JSON.stringify(this.botCopies)) as unknown,
    };
  }

  /** Record a method call; throws when dead. */
  call(name: string): void {
    if (this.crashed) throw new CrashError(name, 'before');
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  /** Run an operation with crash injection around it. `act` = counts as an act. */
  async op<T>(name: string, act: boolean, fn: () => T | Promise<T>): Promise<T> {
    if (this.crashed) throw new CrashError(name, 'before');
    const n = (this.seen.get(name) ?? 0) + 1;
    this.seen.set(name, n);
    const hit = this.crash && this.crash.op === name && (this.crash.nth ?? 1) === n;
    if (hit && this.crash!.when === 'before') {
      this.crashed = true;
      throw new CrashError(name, 'before');
    }
    const result = await fn();
    this.ops.push(name);
    if (act) this.acts.set(name, (this.acts.get(name) ?? 0) + 1);
    if (hit && this.crash!.when === 'after') {
      this.crashed = true;
      throw new CrashError(name, 'after');
    }
    return result;
  }

  /** Reset occurrence counters used by {@link CrashPlan.nth} (the ops log and act counts are kept). */
  resetOccurrences(): void {
    this.seen.clear();
  }
}

/** A topology matching {@link FakeWorld}'s defaults. */
export function fakeTopology(opts: { secrets?: boolean; stacks?: boolean } = {}): Topology {
  return {
    regions: [
      { name: 'a', database: 'pg-a', cache: 'redis-a', ...(opts.stacks ? { stack: 'primary' } : {}), ...(opts.secrets ? { secrets: ['bot-token-a', 'db-credentials-a'] } : {}) },
      { name: 'b', database: 'pg-b', cache: 'redis-b', ...(opts.stacks ? { stack: 'secondary' } : {}), ...(opts.secrets ? { secrets: ['bot-token', 'db-credentials'] } : {}) },
    ],
    dns: {
      records: [
        { name: 'platform', service: 'platform' },
        { name: 'database', service: 'database' },
        { name: 'cache', service: 'cache' },
      ],
    },
  };
}

class FakeDatabase implements DatabasePort {
  constructor(private readonly w: FakeWorld, readonly unavailable?: string) {}
  async role(region: string): Promise<DataRole> {
    this.w.call('database.role');
    const d = this.w.db[region];
    return d.up ? d.role : 'unreachable';
  }
  async replicationState(primary: string, standby: string): Promise<ReplicationState> {
    this.w.call('database.replicationState');
    const p = this.w.db[primary];
    const s = this.w.db[standby];
    if (p.up && p.role === 'primary') {
      const lagBytes = p.lsn > s.replay ? Number(p.lsn - s.replay) : 0;
      return { primaryReachable: true, primaryLsn: formatLsn(p.lsn), standbyReplayLsn: s.up ? formatLsn(s.replay) : undefined, lagSeconds: this.w.lagSeconds, lagBytes, observedAt: '2025-01-01T00:10:00.000Z' };
    }
    const lk = this.w.lastKnown;
    return { primaryReachable: false, standbyReplayLsn: s.up ? formatLsn(s.replay) : undefined, lagSeconds: lk?.lagSeconds, lagBytes: lk?.lagBytes, observedAt: lk?.observedAt ?? '2025-01-01T00:10:00.000Z' };
  }
  async isFenced(region: string): Promise<boolean> {
    this.w.call('database.isFenced');
    const d = this.w.db[region];
    return d.up && d.fenced;
  }
  async fence(region: string): Promise<void> {
    this.w.call('database.fence');
    await this.w.op('database.fence', true, () => {
      const d = this.w.db[region];
      if (!d.up) throw new Error(`database in ${region} is unreachable`);
      d.fenced = true;
    });
  }
  async unfence(region: string): Promise<void> {
    this.w.call('database.unfence');
    await this.w.op('database.unfence', true, () => {
      this.w.db[region].fenced = false;
    });
  }
  async currentLsn(region: string): Promise<string> {
    this.w.call('database.currentLsn');
    const d = this.w.db[region];
    if (!d.up) throw new Error(`database in ${region} is unreachable`);
    return formatLsn(d.lsn);
  }
  async waitForReplay(region: string, lsn: string): Promise<{ caughtUp: boolean; replayLsn?: string }> {
    this.w.call('database.waitForReplay');
    const d = this.w.db[region];
    if (!this.w.replicationStalled && d.up) {
      const target = parseLsn(lsn);
      if (d.replay < target) d.replay = target;
    }
    return { caughtUp: d.up && compareLsn(formatLsn(d.replay), lsn) >= 0, replayLsn: d.up ? formatLsn(d.replay) : undefined };
  }
  async promote(region: string): Promise<void> {
    this.w.call('database.promote');
    await this.w.op('database.promote', true, () => {
      const d = this.w.db[region];
      if (!d.up) throw new Error(`database in ${region} is unreachable`);
      d.role = 'primary';
      d.lsn = d.replay;
    });
  }
  async writable(region: string): Promise<boolean> {
    this.w.call('database.writable');
    const d = this.w.db[region];
    return d.up && d.role === 'primary' && !d.fenced;
  }
}

class FakeCachePort implements CachePort {
  isFenced?: CachePort['isFenced'];
  fence?: CachePort['fence'];
  unfence?: CachePort['unfence'];
  constructor(private readonly w: FakeWorld, withFence: boolean, readonly unavailable?: string) {
    if (withFence) {
      this.isFenced = async (region) => {
        this.w.call('cache.isFenced');
        const c = this.w.cache[region];
        return c.up && c.fenced;
      };
      this.fence = async (region) => {
        this.w.call('cache.fence');
        await this.w.op('cache.fence', true, () => {
          const c = this.w.cache[region];
          if (!c.up) throw new Error(`cache in ${region} is unreachable`);
          c.fenced = true;
        });
      };
      this.unfence = async (region) => {
        this.w.call('cache.unfence');
        await this.w.op('cache.unfence', true, () => {
          this.w.cache[region].fenced = false;
        });
      };
    }
  }
  async role(region: string): Promise<DataRole> {
    this.w.call('cache.role');
    const c = this.w.cache[region];
    return c.up ? c.role : 'unreachable';
  }
  async promote(region: string): Promise<void> {
    this.w.call('cache.promote');
    await this.w.op('cache.promote', true, () => {
      const c = this.w.cache[region];
      if (!c.up) throw new Error(`cache in ${region} is unreachable`);
      c.role = 'primary';
    });
  }
  async writable(region: string): Promise<boolean> {
    this.w.call('cache.writable');
    const c = this.w.cache[region];
    return c.up && c.role === 'primary' && !c.fenced;
  }
}

class FakeSecrets implements SecretsPort {
  constructor(private readonly w: FakeWorld, readonly unavailable?: string) {}
  async isPromoted(region: string, secretId: string): Promise<boolean> {
    this.w.call('secrets.isPromoted');
    return this.w.secrets.get(`${region}/${secretId}`) === true;
  }
  async promote(region: string, secretId: string): Promise<void> {
    this.w.call('secrets.promote');
    await this.w.op(`secrets.promote:${secretId}`, true, () => {
      this.w.secrets.set(`${region}/${secretId}`, true);
    });
  }
}

class FakeBots implements BotsPort {
  constructor(private readonly w: FakeWorld, readonly unavailable?: string) {}
  async probeActive(region: string): Promise<ActiveTokenProbe[]> {
    this.w.call('bots.probeActive');
    this.w.botProbes.push(region);
    if (this.w.botTokens === 'throw') throw new Error('Secrets Manager in b does not answer');
    return this.w.botTokens.map((b) => ({ ...b }));
  }
  async activeRegions(copy: string): Promise<BotActiveRegion[]> {
    this.w.call('bots.activeRegions');
    return Object.entries(this.w.botCopies[copy] ?? {}).map(([bot, c]) =>
      this.w.botStoreDown.has(copy) ? { bot, state: 'unreachable' as const, detail: `Secrets Manager in ${copy}: getaddrinfo ENOTFOUND` } : { bot, state: 'read' as const, ...(c.active_region !== undefined ? { active_region: c.active_region } : {}) },
    );
  }
  async setActiveRegion(copy: string, bot: string, active: string): Promise<void> {
    this.w.call('bots.setActiveRegion');
    await this.w.op(`bots.setActiveRegion:${copy}/${bot}`, true, () => {
      if (this.w.botStoreDown.has(copy)) throw new Error(`Secrets Manager in ${copy} does not answer`);
      this.w.botCopies[copy][bot].active_region = active;
    });
  }
  async serving(region: string): Promise<BotServing[]> {
    this.w.call('bots.serving');
    if (this.w.botServingFails) throw new Error(`Secrets Manager in ${region} does not answer`);
    return (this.w.botTokens === 'throw' ? DEFAULT_BOT_TOKENS : this.w.botTokens).map((b) => ({
      ...b,
      active_region: this.w.botCopies[region]?.[b.bot]?.active_region,
      ...(this.w.botTargets[b.bot] ?? { target: b.platform === 'discord' ? ('gateway' as const) : ('polling' as const), webhook_target: b.platform === 'discord' ? 'gateway' : 'polling' }),
    }));
  }
}

class FakeDns implements DnsPort {
  constructor(private readonly w: FakeWorld, readonly unavailable?: string) {}
  async current(record: string): Promise<string | undefined> {
    this.w.call('dns.current');
    return this.w.dns.get(record);
  }
  async point(record: string, region: string): Promise<void> {
    this.w.call('dns.point');
    await this.w.op(`dns.point:${record}`, true, () => {
      this.w.dns.set(record, region);
    });
  }
}

class FakeStacks implements StacksPort {
  constructor(private readonly w: FakeWorld, readonly unavailable?: string) {}
  async isRetargeted(change: Retarget): Promise<boolean> {
    this.w.call('stacks.isRetargeted');
    const r = this.w.retargeted;
    return !!r && r.survivor === change.survivor && r.lost === change.lost && r.incident === change.incident;
  }
  async retarget(change: Retarget): Promise<void> {
    this.w.call('stacks.retarget');
    await this.w.op('stacks.retarget', true, () => {
      this.w.retargeted = { ...change };
    });
  }
}

class FakeNotifier implements NotifierPort {
  constructor(private readonly w: FakeWorld, readonly unavailable?: string) {}
  async notify(notice: FailoverNotice): Promise<NotifyReport> {
    this.w.call('notifier.notify');
    if (this.w.notifierMode === 'throw') throw new Error('SNS: region does not answer');
    this.w.notices.push(notice);
    if (this.w.notifierMode === 'partial') return { delivered: ['topic-b'], failed: [{ target: 'topic-a', error: 'region does not answer' }] };
    return { delivered: ['log'], failed: [] };
  }
}

/** In-memory journal; appends are crash points named `journal:<kind>[:<step>:<phase>]`. */
export class FakeJournal implements JournalPort {
  readonly location = 'memory';
  constructor(private readonly w: FakeWorld) {}
  async append(entry: JournalEntry): Promise<void> {
    const name = entry.kind === 'step' ? `journal:step:${entry.step}:${entry.phase}` : `journal:${entry.kind}`;
    await this.w.op(name, false, () => {
      const list = this.w.journalEntries.get(entry.id) ?? [];
      if (!this.w.journalEntries.has(entry.id)) {
        this.w.journalEntries.set(entry.id, list);
        this.w.journalOrder.push(entry.id);
      }
      list.push(JSON.parse(JSON.stringify(entry)) as JournalEntry);
    });
  }
  async read(id: string): Promise<JournalRead> {
    this.w.call('journal.read');
    return { entries: [...(this.w.journalEntries.get(id) ?? [])], damage: [] };
  }
  async list(): Promise<string[]> {
    this.w.call('journal.list');
    return [...this.w.journalOrder];
  }
}

/** A clock that never sleeps for real and advances 5 ms per reading (durations are non-negative, not asserted). */
export function fakeClock(start = Date.parse('2025-01-01T00:10:00.000Z')): Clock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => new Date((t += 5)),
    sleep: async (ms) => {
      t += ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface FakePortsOptions {
  /** Ports declaring "no counterpart here" (local-like environment), with their reason. */
  unavailable?: Partial<Record<'database' | 'cache' | 'secrets' | 'dns' | 'stacks' | 'notifier', string>>;
  /** Whether the cache port offers the optional fence pair (default true). */
  cacheFence?: boolean;
  /** Offer the optional bots port (default: none), or declare it unavailable with this reason. */
  bots?: true | { unavailable: string };
}

/** Build every port over one world. */
export function fakePorts(world: FakeWorld, opts: FakePortsOptions = {}): FailoverPorts {
  const un = opts.unavailable ?? {};
  return {
    database: new FakeDatabase(world, un.database),
    cache: new FakeCachePort(world, opts.cacheFence ?? true, un.cache),
    secrets: new FakeSecrets(world, un.secrets),
    dns: new FakeDns(world, un.dns),
    stacks: new FakeStacks(world, un.stacks),
    notifier: new FakeNotifier(world, un.notifier),
    journal: new FakeJournal(world),
    ...(opts.bots ? { bots: new FakeBots(world, opts.bots === true ? undefined : opts.bots.unavailable) } : {}),
    clock: fakeClock(),
  };
}
