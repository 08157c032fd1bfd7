/**
 * PgTools over the real PostgreSQL client binaries (pg_dump, pg_restore) and the `pg` driver. Connection
 * details go to child tools through libpq environment variables, never argv.
 */
import { spawn } from 'node:child_process';
import { Client } from 'pg';
import { redact } from '../../core/redact';
import { DumpProcess, PgServerInfo, PgSnapshotSession, PgTools, RestoreProcess, ScratchDatabases } from '../../backup/index';
import { findBinary } from './binaries';
import { lastLines, run, ToolEnv, toolEnv } from './proc';
import { parsePgUrl, pgClientConfig, pgEnv, pgHostOf } from './pg-env';
import { explainTlsFailure, pgTlsDecision } from './pg-tls';
import { OperationError, UnreachableError, UsageError } from '../../core/errors';

export interface LocalPgToolsOptions {
  /** Override binaries (tests use a failing pg_dump wrapper). */
  pgDump?: string;
  pgRestore?: string;
  /** Connection timeout for driver connections (ms). */
  connectTimeoutMs?: number;
  /** The caller's environment (PATH, DR_PG_BIN) for finding and running the tools. */
  env?: ToolEnv;
}

const USER_TABLES_SQL = `
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  ORDER BY 1`;

/** A database name we create: lowercase letters, digits, underscores (so it never needs quoting tricks). */
const SAFE_DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function assertSafeName(name: string): void {
  if (!SAFE_DB_NAME.test(name)) throw new UsageError(`refusing database name '${name}': only [a-z0-9_], at most 63 characters`);
}

/** `url` with its database replaced by `name` (credentials and parameters kept). */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}


/**
 * A connected `pg` client with the project's one TLS decision (lib/pg-tls.ts: verify-full against the RDS CA bundle
 * for RDS hosts, `sslrootcert` / PGSSLROOTCERT honoured), or UnreachableError naming the redacted URL — and, for a
 * refused certificate, the TLS settings. Every PostgreSQL connection of the adapters goes through here.
 */
export async function connectPg(url: string, o: { env?: Record<string, string | undefined>; connectTimeoutMs?: number; applicationName?: string } = {}): Promise<Client> {
  let cfg;
  let tls;
  try {
    cfg = pgClientConfig(url, o.env ?? {});
    tls = pgTlsDecision(parsePgUrl(url), o.env ?? {});
  } catch (err) {
    throw new UnreachableError(redact(url), redact((err as Error).message));
  }
  const client = new Client({ ...cfg, connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000, ...(o.applicationName ? { application_name: o.applicationName } : {}) });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    throw new UnreachableError(redact(url), redact(explainTlsFailure(message, tls, (err as NodeJS.ErrnoException).code)));
  }
  return client;
}

export class LocalPgTools implements PgTools, ScratchDatabases {
  constructor(private readonly opts: LocalPgToolsOptions = {}) {}

  private bin(name: 'pg_dump' | 'pg_restore'): string {
    if (name === 'pg_dump' && this.opts.pgDump) return this.opts.pgDump;
    if (name === 'pg_restore' && this.opts.pgRestore) return this.opts.pgRestore;
    return findBinary(name, { env: this.opts.env });
  }

  async versions(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const t of ['pg_dump', 'pg_restore'] as const) {
      try {
        out[t] = (await run(this.bin(t), ['--version'], { baseEnv: this.opts.env })).stdout.trim();
      } catch (err) {
        out[t] = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    return out;
  }

  private connect(url: string): Promise<Client> {
    return connectPg(url, { env: this.opts.env, connectTimeoutMs: this.opts.connectTimeoutMs });
  }

  private async withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await this.connect(url);
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  inspect(url: string): Promise<PgServerInfo> {
    return this.withClient(url, async (c) => {
      const r = await c.query<{ v: string; n: string; db: string }>(
        "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n, current_database() AS db",
      );
      return { serverVersion: r.rows[0].v, serverVersionNum: Number(r.rows[0].n), database: r.rows[0].db, host: pgHostOf(url) };
    });
  }

  /**
   * Exact rows per user table, each heap scanned once: plain tables with `count(*)`; a partitioned table's
   * count is the sum of its leaf partitions' counts (the same number `count(*)` on the parent gives, without
   * scanning every partition twice). If a partition tree has a non-table leaf (a foreign table), the parent
   * is counted directly. `gentle` (the backup's counts, overlapped with pg_dump on the production primary)
   * turns parallel workers off; a restore's verification, on the critical path of a fresh target, keeps them.
   */
  private async counts(c: Client, gentle = false): Promise<Record<string, number>> {
    if (gentle) await c.query('SET LOCAL max_parallel_workers_per_gather = 0');
    const version = Number((await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0].v);
    if (version < 120000) {
      // No pg_partition_tree before PostgreSQL 12: count every table directly.
      const out: Record<string, number> = {};
      for (const { name } of (await c.query<{ name: string }>(USER_TABLES_SQL)).rows) out[name] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`)).rows[0].n);
      return out;
    }
    const rows = (
      await c.query<{ name: string; kind: string; leaves: string[] | null; all_tables: boolean | null }>(
        `SELECT t.name, c.relkind AS kind,
                CASE WHEN c.relkind = 'p' THEN (
                  SELECT array_agg(quote_ident(ln.nspname) || '.' || quote_ident(l.relname) ORDER BY 1)
                  FROM pg_partition_tree(c.oid) pt JOIN pg_class l ON l.oid = pt.relid JOIN pg_namespace ln ON ln.oid = l.relnamespace
                  WHERE pt.isleaf) END AS leaves,
                CASE WHEN c.relkind = 'p' THEN (
                  SELECT bool_and(l.relkind = 'r') FROM pg_partition_tree(c.oid) pt JOIN pg_class l ON l.oid = pt.relid WHERE pt.isleaf) END AS all_tables
         FROM (${USER_TABLES_SQL.replace('AS name', 'AS name, c.oid AS oid')}) t JOIN pg_class c ON c.oid = t.oid
         ORDER BY 1`,
      )
    ).rows;
    const out: Record<string, number> = {};
    const counted = new Map<string, number>();
    const countOne = async (t: string): Promise<number> => {
      const hit = counted.get(t);
      if (hit !== undefined) return hit;
      const n = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
      counted.set(t, n);
      return n;
    };
    for (const r of rows.filter((x) => x.kind !== 'p')) out[r.name] = await countOne(r.name);
    for (const r of rows.filter((x) => x.kind === 'p')) {
      if (r.all_tables === false) out[r.name] = await countOne(r.name);
      else {
        let sum = 0;
        for (const leaf of r.leaves ?? []) sum += await countOne(leaf);
        out[r.name] = sum;
      }
    }
    return out;
  }

  async openSnapshot(url: string): Promise<PgSnapshotSession> {
    const c = await this.connect(url);
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const row = (await c.query<{ s: string; pid: number }>('SELECT pg_export_snapshot() AS s, pg_backend_pid() AS pid')).rows[0];
      const snapshotId = row.s;
      return {
        snapshotId,
        countTables: () => this.counts(c, true),
        cancel: async () => {
          await this.withClient(url, (k) => k.query('SELECT pg_cancel_backend($1)', [row.pid]));
        },
        close: async () => {
          await c.query('COMMIT').catch(() => undefined);
          await c.end().catch(() => undefined);
        },
      };
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
  }

  dump(url: string, opts: { compressLevel: number; snapshotId?: string }): DumpProcess {
    const args = ['--format=custom', `--compress=${opts.compressLevel}`, '--no-password'];
    if (opts.snapshotId) args.push(`--snapshot=${opts.snapshotId}`);
    const tls = pgTlsDecision(parsePgUrl(url), this.opts.env);
    const child = spawn(this.bin('pg_dump'), args, { env: toolEnv(pgEnv(url, this.opts.env), this.opts.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
    const done = new Promise<void>((resolve, reject) => {
      child.on('error', (err) => reject(new Error(`pg_dump could not start: ${err.message}`)));
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`pg_dump exited with ${code ?? signal}: ${redact(explainTlsFailure(lastLines(stderr, 5), tls)) || '(no output)'}`));
      });
    });
    done.catch(() => undefined);
    return { stdout: child.stdout, done, kill: () => void child.kill('SIGTERM') };
  }

  async restore(url: string, file: string, opts: { jobs: number; clean: boolean; signal?: AbortSignal }): Promise<void> {
    const args = ['--no-owner', '--exit-on-error', '--no-password', `--jobs=${opts.jobs}`, `--dbname=${parsePgUrl(url).database}`];
    if (opts.clean) args.push('--clean', '--if-exists');
    args.push(file);
    const res = await run(this.bin('pg_restore'), args, { env: pgEnv(url, this.opts.env), baseEnv: this.opts.env, check: false, signal: opts.signal });
    if (res.code !== 0) throw new OperationError(`pg_restore exited with ${res.code ?? res.signal}: ${redact(explainTlsFailure(lastLines(res.stderr, 8), pgTlsDecision(parsePgUrl(url), this.opts.env)))}`);
  }

  restoreStream(url: string, opts: { clean: boolean; signal?: AbortSignal }): RestoreProcess {
    const args = ['--no-owner', '--exit-on-error', '--no-password', `--dbname=${parsePgUrl(url).database}`];
    if (opts.clean) args.push('--clean', '--if-exists');
    const child = spawn(this.bin('pg_restore'), args, { env: toolEnv(pgEnv(url, this.opts.env), this.opts.env), stdio: ['pipe', 'ignore', 'pipe'], detached: true, signal: opts.signal });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
    const done = new Promise<void>((resolve, reject) => {
      child.on('error', (err) => reject(new OperationError(`pg_restore could not run: ${err.message}`)));
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new OperationError(`pg_restore exited with ${code ?? signal}: ${redact(lastLines(stderr, 8)) || '(no output)'}`));
      });
    });
    done.catch(() => undefined);
    return { stdin: child.stdin, done, kill: () => void child.kill('SIGTERM') };
  }

  tableCounts(url: string): Promise<Record<string, number>> {
    return this.withClient(url, async (c) => {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const out = await this.counts(c);
      await c.query('COMMIT');
      return out;
    });
  }

  async createDatabase(serverUrl: string, name: string): Promise<string> {
    assertSafeName(name);
    await this.withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
    return withDatabase(serverUrl, name);
  }

  async dropDatabase(serverUrl: string, name: string): Promise<void> {
    assertSafeName(name);
    await this.withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }

  listDatabases(serverUrl: string, prefix: string): Promise<string[]> {
    return this.withClient(serverUrl, async (c) =>
      (await c.query<{ d: string }>('SELECT datname AS d FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1', [prefix])).rows.map((r) => r.d),
    );
  }

  userTableCount(url: string): Promise<number> {
    return this.withClient(url, async (c) => (await c.query(USER_TABLES_SQL)).rowCount ?? 0);
  }

  ping(url: string): Promise<number> {
    return this.withClient(url, async (c) => {
      const t0 = Date.now();
      await c.query('SELECT 1');
      return Date.now() - t0;
    });
  }

  async replicaLag(primaryUrl: string, replicaUrl: string): Promise<{ inRecovery: boolean; lagBytes: number; lagSeconds: number }> {
    const primaryLsn = await this.withClient(primaryUrl, async (c) => (await c.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l);
    return this.withClient(replicaUrl, async (c) => {
      const r = await c.query<{ rec: boolean; bytes: string | null; secs: string | null }>(
        `SELECT pg_is_in_recovery() AS rec,
                pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::text AS bytes,
                extract(epoch FROM now() - pg_last_xact_replay_timestamp())::text AS secs`,
        [primaryLsn],
      );
      const row = r.rows[0];
      const lagBytes = row.bytes === null ? Number.POSITIVE_INFINITY : Math.max(0, Number(row.bytes));
      const lagSeconds = lagBytes === 0 ? 0 : row.secs === null ? Number.POSITIVE_INFINITY : Math.max(0, Number(row.secs));
      return { inRecovery: row.rec, lagBytes, lagSeconds };
    });
  }
}
