/**
 * DatabasePort over the local PostgreSQL pair (primary + streaming hot standby).
 *
 * - role: `pg_is_in_recovery()` over a superuser connection; no answer → `unreachable`.
 * - fence: (1) a `reject` line for the application role at the top of pg_hba.conf, (2) `ALTER SYSTEM SET
 *   default_transaction_read_only = on`, (3) reload and wait until new sessions see it, (4) terminate the
 *   application's sessions. pg_hba.conf and postgresql.auto.conf live in the data directory, are not replicated
 *   and survive a restart, so the old primary stays fenced when it comes back; replication connections (the
 *   standby catching up) are untouched. `ALTER ROLE … NOLOGIN` was rejected: it is a catalog write that would
 *   replicate to the standby and lock the application out of the new primary too.
 * - promote: `SELECT pg_promote(wait => false)`, then poll `pg_is_in_recovery()` every 10 ms; each promotion is appended to the environment's promotions log.
 * - last known lag: every observation taken while the primary answers is saved (atomically) so a later process
 *   (the failover after the primary died) can report it as the estimated data loss.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { type CallOptions, compareLsn, type DatabasePort, type DataRole, lsnDiffBytes, type ReplicationState } from '../../failover/index';
import { replaceFileSync } from '../tools/atomic-file';
import { LocalEnv } from './local-env';
import { chownRecursive, isRoot, sleep, userIds } from '../tools/proc';
import { OperationError } from '../../core/errors';

const FENCE_MARK = '# dr-fence: application writes refused after a failover';

export class LocalDatabase implements DatabasePort {
  constructor(private readonly env: LocalEnv) {}

  private get s() {
    return this.env.state;
  }

  async role(region: string): Promise<DataRole> {
    try {
      const rows = await this.env.superQuery<{ r: boolean }>(region, 'SELECT pg_is_in_recovery() AS r');
      return rows[0].r ? 'standby' : 'primary';
    } catch {
      return 'unreachable';
    }
  }

  async replicationState(primary: string, standby: string): Promise<ReplicationState> {
    const observedAt = new Date().toISOString();
    let primaryLsn: string | undefined;
    try {
      primaryLsn = (await this.env.superQuery<{ lsn: string }>(primary, 'SELECT pg_current_wal_lsn()::text AS lsn'))[0].lsn;
    } catch {
      primaryLsn = undefined;
    }
    let replay: string | undefined;
    let since: number | undefined;
    try {
      const r = (await this.env.superQuery<{ replay: string | null; since: string | null }>(standby, 'SELECT pg_last_wal_replay_lsn()::text AS replay, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::text AS since'))[0];
      replay = r.replay ?? undefined;
      since = r.since === null ? undefined : Math.max(0, Number(r.since));
    } catch {
      replay = undefined;
    }
    if (primaryLsn === undefined) {
      const last = this.lastSample();
      return { primaryReachable: false, ...(replay ? { standbyReplayLsn: replay } : {}), ...(last ? { lagSeconds: last.lagSeconds, lagBytes: last.lagBytes, observedAt: last.observedAt } : { observedAt }) };
    }
    const state: ReplicationState = { primaryReachable: true, primaryLsn, observedAt };
    if (replay) {
      state.standbyReplayLsn = replay;
      state.lagBytes = lsnDiffBytes(primaryLsn, replay);
      // Caught up → 0; otherwise the age of the last replayed transaction (the usual standby lag measure).
      state.lagSeconds = state.lagBytes === 0 ? 0 : round3(since ?? 0);
      this.saveSample(state);
    }
    return state;
  }

  private saveSample(r: ReplicationState): void {
    try {
      replaceFileSync(this.s.replication_sample_file, JSON.stringify(r) + '\n', 0o644);
    } catch {
      /* best effort: the lag is also reported live */
    }
  }

  private lastSample(): ReplicationState | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.s.replication_sample_file, 'utf8')) as ReplicationState;
    } catch {
      return undefined;
    }
  }

  async isFenced(region: string): Promise<boolean> {
    try {
      const c = await this.env.superClient(region);
      try {
        const ro = (await c.query<{ v: string }>('SELECT current_setting($1) AS v', ['default_transaction_read_only'])).rows[0].v;
        const rej = (await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_hba_file_rules WHERE $1 = ANY(user_name) AND auth_method = 'reject' AND error IS NULL`, [this.s.app.user])).rows[0].n;
        return ro === 'on' && Number(rej) > 0;
      } finally {
        await c.end().catch(() => undefined);
      }
    } catch {
      return false;
    }
  }

  private hbaFile(region: string): string {
    return path.join(this.s.regions[this.env.region(region)].postgres.dir, 'data', 'pg_hba.conf');
  }

  private writeHba(region: string, fenced: boolean): void {
    const file = this.hbaFile(region);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => !l.includes('# dr-fence'));
    if (fenced) {
      const idx = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
      const rule = `host    all          ${this.s.app.user}    127.0.0.1/32    reject  ${FENCE_MARK}`;
      lines.splice(idx < 0 ? lines.length : idx, 0, rule);
    }
    replaceFileSync(file, lines.join('\n'), 0o600);
    if (isRoot()) {
      const { uid, gid } = userIds(this.s.pg_os_user);
      chownRecursive(file, uid, gid);
    }
  }

  async fence(region: string, opts: CallOptions = {}): Promise<void> {
    this.writeHba(region, true);
    await this.env.superQuery(region, 'ALTER SYSTEM SET default_transaction_read_only = on');
    await this.env.superQuery(region, 'SELECT pg_reload_conf()');
    await this.waitSetting(region, 'on');
    const rows = await this.env.superQuery<{ n: string }>(region, `SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename = $1`, [this.s.app.user]);
    opts.log?.(`database ${region}: pg_hba rejects ${this.s.app.user}, default_transaction_read_only=on, ${rows[0].n} application session(s) terminated`);
  }

  async unfence(region: string, opts: CallOptions = {}): Promise<void> {
    this.writeHba(region, false);
    await this.env.superQuery(region, 'ALTER SYSTEM RESET default_transaction_read_only');
    await this.env.superQuery(region, 'SELECT pg_reload_conf()');
    await this.waitSetting(region, 'off');
    opts.log?.(`database ${region}: unfenced (application connections and writes allowed again)`);
  }

  /** Wait until a NEW session sees the reloaded setting (the postmaster has processed the reload). */
  private async waitSetting(region: string, want: 'on' | 'off'): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const v = (await this.env.superQuery<{ v: string }>(region, 'SELECT current_setting($1) AS v', ['default_transaction_read_only']))[0].v;
      if (v === want) return;
      await sleep(20);
    }
    throw new OperationError(`database ${region}: default_transaction_read_only is still not '${want}' 2 s after the reload`);
  }

  async currentLsn(region: string): Promise<string> {
    return (await this.env.superQuery<{ lsn: string }>(region, 'SELECT pg_current_wal_lsn()::text AS lsn'))[0].lsn;
  }

  async waitForReplay(region: string, lsn: string, timeoutMs: number, opts: CallOptions = {}): Promise<{ caughtUp: boolean; replayLsn?: string }> {
    const deadline = Date.now() + timeoutMs;
    let replay: string | undefined;
    for (;;) {
      try {
        replay = (await this.env.superQuery<{ l: string | null }>(region, 'SELECT pg_last_wal_replay_lsn()::text AS l'))[0].l ?? undefined;
      } catch {
        /* keep waiting */
      }
      if (replay && compareLsn(replay, lsn) >= 0) return { caughtUp: true, replayLsn: replay };
      if (Date.now() >= deadline || opts.signal?.aborted) return { caughtUp: false, ...(replay ? { replayLsn: replay } : {}) };
      await sleep(20);
    }
  }

  async promote(region: string, opts: CallOptions = {}): Promise<void> {
    const t0 = Date.now();
    // pg_promote(wait => true) polls every 100 ms; asking without waiting and polling pg_is_in_recovery() every
    // 10 ms returns as soon as the standby has left recovery (the check that matters: it accepts writes).
    const asked = (await this.env.superQuery<{ ok: boolean }>(region, 'SELECT pg_promote(false) AS ok'))[0].ok;
    if (!asked) throw new OperationError(`pg_promote() on ${region} refused to signal the promotion`);
    const c = await this.env.superClient(region);
    try {
      for (;;) {
        if (!(await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0].r) break;
        if (Date.now() - t0 > 60_000) throw new OperationError(`the database in ${region} is still in recovery 60 s after pg_promote()`);
        if (opts.signal?.aborted) throw new OperationError(`interrupted while waiting for ${region} to leave recovery`);
        await sleep(10);
      }
    } finally {
      await c.end().catch(() => undefined);
    }
    fs.appendFileSync(this.s.promotions_log, JSON.stringify({ at: new Date().toISOString(), tier: 'database', region, pid: process.pid }) + '\n');
    opts.log?.(`database ${region}: promoted in ${Date.now() - t0} ms`);
  }

  async writable(region: string): Promise<boolean> {
    try {
      const c = new Client({ connectionString: this.env.appUrl(region), connectionTimeoutMillis: 2000 });
      c.on('error', () => undefined);
      await c.connect();
      try {
        await c.query('INSERT INTO dr_probe (region, at) VALUES ($1, now())', [region]);
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    } catch {
      return false;
    }
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
