/**
 * The readiness engine's observer for the local two-region rehearsal: the real things, read-only.
 *
 *  - database: each region's role (`pg_is_in_recovery()`) and fence state, the standby's WAL receiver
 *    (`pg_stat_wal_receiver.status`) and the primary's sender (`pg_stat_replication.state`), the lag (the failover's
 *    own `replicationState`: LSN distance and last replay age);
 *  - cache: each Redis' role and fence, the standby's `master_link_status` and offset distance (INFO replication);
 *  - backups: both s3rver buckets through the backup engine's catalog (the daily tier: the rehearsal takes daily
 *    backups);
 *  - secrets: the modes of every file holding a credential (state, secrets, tokens, redis.conf, passfiles) and of
 *    the environment's and journal's directories;
 *  - bots: every token of every bot in tokens.json, probed against the fake Telegram and Discord APIs.
 * The service names (the DNS record file) say which region serves. DNS health checks, certificates and Lambda jobs
 * have no local counterpart: those areas are not applicable here (reported so, never faked).
 *
 * Calls are counted as `local` (SQL queries, Redis commands, S3 requests, file stats) and `platform` (fake APIs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { READINESS_AREAS, type ReadinessArea, type ReadinessCalls } from '../../../lib/readiness';
import { listBackups, type ObjectStore } from '../../backup/index';
import { errorSummary } from '../../core/errors';
import { redact } from '../../core/redact';
import { observationFailed, type AreaObservations, type FenceState, type ReadinessObserver } from '../../readiness';
import { botTokenProber } from '../bots/index';
import { observeBot } from '../bots/readiness';
import { TokenFileStore } from '../tools/token-file-store';
import { LocalCache, parseInfo } from './local-cache';
import { LocalDatabase } from './local-database';
import { readDnsFile } from './local-dns';
import { LocalEnv } from './local-env';
import { redisClient } from './processes';
import { credentialFiles, isRegion, otherRegion, REHEARSAL_BOTS, type LocalState, type RegionName } from './state';

const why = (err: unknown) => redact(errorSummary(err));

export interface LocalReadinessOptions {
  /** Each region's bucket on the environment's S3 server (the rehearsal wires S3Store: adapters/aws is not this layer's). */
  store: (bucket: string) => ObjectStore;
  /** The RPO budget (default 900 s, as on AWS). */
  rpoSeconds?: number;
  /** Probe timeout against the fake platforms (default 2 s). */
  probeTimeoutMs?: number;
}

/** Readiness observations of the rehearsal environment in `state`. */
export class LocalReadiness {
  private readonly env: LocalEnv;
  private readonly db: LocalDatabase;
  private readonly cacheTier: LocalCache;
  private readonly counts: ReadinessCalls = { aws: 0, platform: 0, local: 0, by_area: {} };

  constructor(
    readonly state: LocalState,
    private readonly o: LocalReadinessOptions,
  ) {
    this.env = new LocalEnv(state);
    this.db = new LocalDatabase(this.env);
    this.cacheTier = new LocalCache(this.env);
  }

  private count(area: ReadinessArea, n = 1, kind: 'local' | 'platform' = 'local'): void {
    this.counts[kind] += n;
    this.counts.by_area[area] = (this.counts.by_area[area] ?? 0) + n;
  }

  /** The region a service name points at (`database` | `cache`), default a. */
  private serving(record: 'database' | 'cache'): RegionName {
    this.count(record === 'database' ? 'database' : 'cache');
    const r = readDnsFile(this.state.dns_file).records[record];
    return r && isRegion(r) ? r : 'a';
  }

  async database(): Promise<AreaObservations['database']> {
    const serving = this.serving('database');
    const standby = otherRegion(serving);
    this.count('database', 4);
    const [roleP, roleS, fenceP, fenceS] = await Promise.all([this.db.role(serving), this.db.role(standby), this.db.isFenced(serving), this.db.isFenced(standby)]);
    const fence: FenceState[] = [
      { region: serving, role: roleP, fenced: fenceP, serving: true },
      { region: standby, role: roleS, fenced: fenceS, serving: false },
    ];
    const primary = roleP === 'unreachable' ? observationFailed(`PostgreSQL in ${serving} does not answer`) : { id: 'postgresql', region: serving, status: roleP };
    const base = { rpoSeconds: this.o.rpoSeconds ?? 900, primary, fence };
    if (roleS === 'unreachable') {
      const down = observationFailed(`PostgreSQL in ${standby} does not answer`);
      return { ...base, replica: down, replication: down, lag: down };
    }
    if (roleS !== 'standby') return { ...base, replica: null, replication: { streaming: false, state: 'none', detail: `${standby} is a ${roleS}, not a standby` }, lag: { seconds: null } };
    const replica = { id: 'postgresql', region: standby, status: roleS };
    const slot = this.state.regions[standby].postgres.slot;
    this.count('database', 2);
    const [receiver, sender] = await Promise.all([
      this.env.superQuery<{ status: string }>(standby, 'SELECT status FROM pg_stat_wal_receiver').catch((e: unknown) => e as Error),
      this.env.superQuery<{ state: string }>(serving, 'SELECT state FROM pg_stat_replication WHERE application_name = $1', [slot]).catch(() => [] as Array<{ state: string }>),
    ]);
    let replication: AreaObservations['database']['replication'];
    if (receiver instanceof Error) replication = observationFailed(`pg_stat_wal_receiver on ${standby}: ${why(receiver)}`);
    else {
      const status = receiver[0]?.status ?? 'stopped';
      const sent = sender[0]?.state ?? 'not connected';
      replication = { streaming: status === 'streaming', state: status, detail: status === 'stopped' ? `no WAL receiver runs on ${standby} (${serving}'s sender: ${sent})` : `WAL receiver ${status} from ${serving} (sender ${sent}, slot ${slot})` };
    }
    this.count('database', 2);
    const rep = await this.db.replicationState(serving, standby).catch((e: unknown) => e as Error);
    const lag =
      rep instanceof Error
        ? observationFailed(`replication state ${serving} → ${standby}: ${why(rep)}`)
        : !rep.primaryReachable
          ? observationFailed(`the primary in ${serving} does not answer`)
          : { seconds: rep.lagSeconds ?? null, observedAt: rep.observedAt };
    return { ...base, replica, replication, lag };
  }

  async cache(): Promise<AreaObservations['cache']> {
    const serving = this.serving('cache');
    const standby = otherRegion(serving);
    this.count('cache', 4);
    const [roleP, roleS, fenceP, fenceS] = await Promise.all([this.cacheTier.role(serving), this.cacheTier.role(standby), this.cacheTier.isFenced(serving), this.cacheTier.isFenced(standby)]);
    const fence: FenceState[] = [
      { region: serving, role: roleP, fenced: fenceP, serving: true },
      { region: standby, role: roleS, fenced: fenceS, serving: false },
    ];
    const base = { servingRegion: serving, standbyRegion: standby, lagBudgetSeconds: this.o.rpoSeconds ?? 900, fence };
    this.count('cache', 2);
    const link = await this.redisInfo(standby).then(
      async (i) => {
        const primary = await this.redisInfo(serving).catch(() => undefined);
        const lagBytes = primary && i.slave_repl_offset !== undefined ? Math.max(0, Number(primary.master_repl_offset) - Number(i.slave_repl_offset)) : undefined;
        return i.role === 'master' ? { region: standby, status: 'none (a primary, not a replica)' } : { region: standby, status: i.master_link_status ?? 'unknown', ...(lagBytes !== undefined ? { lagBytes } : {}) };
      },
      (e: unknown) => observationFailed(`Redis in ${standby}: ${why(e)}`),
    );
    return { ...base, link };
  }

  private async redisInfo(region: RegionName): Promise<Record<string, string>> {
    const c = redisClient(this.env.redisPort(region), this.env.redisPassword);
    try {
      await c.connect();
      return parseInfo(await c.info('replication'));
    } finally {
      c.disconnect();
    }
  }

  async backups(): Promise<AreaObservations['backups']> {
    const buckets = await Promise.all(
      (['a', 'b'] as const).map(async (region) => {
        const bucket = this.state.regions[region].bucket;
        this.count('backups', 2);
        const entries = await listBackups(this.o.store(bucket), { tier: 'daily' }).then(
          (es) => es.map((e) => ({ service: e.service, tier: e.tier, dataKey: e.dataKey, date: e.date.toISOString(), complete: e.complete })),
          (e: unknown) => observationFailed(`listing s3://${bucket}: ${why(e)}`),
        );
        return { region, bucket, entries };
      }),
    );
    return { tiers: ['daily'], buckets };
  }

  async secrets(): Promise<AreaObservations['secrets']> {
    const files = credentialFiles(this.state).map((f) => ({ path: f, kind: 'file' as const, allowed: 0o600 }));
    const dirs = [
      { path: this.state.dir, kind: 'dir' as const, allowed: 0o711 },
      { path: this.state.journal_dir, kind: 'dir' as const, allowed: 0o700 },
    ];
    const out = [];
    for (const f of [...files, ...dirs]) {
      this.count('secrets');
      try {
        out.push({ ...f, mode: fs.statSync(f.path).mode });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { files: observationFailed(`stat ${path.basename(f.path)}: ${why(err)}`) };
      }
    }
    return { files: out };
  }

  async bots(): Promise<AreaObservations['bots']> {
    const p = this.state.platform;
    const file = this.state.tokens_file;
    if (!p || !file) return { bots: REHEARSAL_BOTS.map((b) => ({ bot: b.name, platform: b.platform, from: 'local', tokens: observationFailed('the environment has no bot tier (made before it): dr local down, dr local up') })) };
    const timeoutMs = this.o.probeTimeoutMs ?? 2000;
    const prober = botTokenProber({ telegram: { apiRoot: `http://127.0.0.1:${p.telegram_port}`, timeoutMs }, discord: { api: `http://127.0.0.1:${p.discord_port}/api`, timeoutMs } });
    const store = new TokenFileStore({ file });
    const out = [];
    for (const b of REHEARSAL_BOTS) {
      out.push(await observeBot({ bot: b.name, platform: b.platform, from: 'local', channels: [] }, { read: async () => (await store.read(b.name)).record, prober, count: (n) => this.count('bots', n, 'platform') }));
    }
    return { bots: out };
  }

  calls(): ReadinessCalls {
    return { ...this.counts, by_area: { ...this.counts.by_area } };
  }

  toObserver(): ReadinessObserver {
    const why = 'the rehearsal has no counterpart (no Route 53 health checks, RDS certificates or Lambda jobs)';
    return {
      environment: 'local',
      from: 'local',
      calls: () => this.calls(),
      database: () => this.database(),
      cache: () => this.cache(),
      backups: () => this.backups(),
      secrets: () => this.secrets(),
      bots: () => this.bots(),
      notApplicable: Object.fromEntries(READINESS_AREAS.filter((a) => !['database', 'cache', 'backups', 'secrets', 'bots'].includes(a)).map((a) => [a, why])),
    };
  }
}

export function localReadinessObserver(state: LocalState, o: LocalReadinessOptions): ReadinessObserver {
  return new LocalReadiness(state, o).toObserver();
}
