/**
 * The SQL the failover and failback run against RDS, by name: the one list both sides of a probe use — the adapters
 * that ask (RdsDatabase, through a {@link SqlProbe}) and the backup-job Lambda that answers from inside the VPC
 * (automation/lambda/probe.ts) when the operator's machine has no route to the database. The Lambda runs only these
 * statements, never SQL sent to it: an invocation cannot be turned into arbitrary SQL as the master user.
 */
import { OperationError } from '../../core/errors';

export const SQL_PROBES = {
  /** The primary's current WAL position (catch-up, the planned switchover's final LSN). */
  'current-wal-lsn': 'select pg_current_wal_lsn()::text as lsn',
  /** The standby's replay position and how long ago it last replayed (lag). */
  'replay-position': "select pg_last_wal_replay_lsn()::text as lsn, coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp()), 0)::float8 as delay",
  /** The standby's replay position alone (catch-up polling). */
  'replay-lsn': 'select pg_last_wal_replay_lsn()::text as lsn',
  /** Close the application sessions of a fenced primary (read-only from now on). */
  'terminate-sessions':
    "select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid() and usename not in ('rdsadmin', 'rdsrepladmin')",
  /** A write and a read: the database takes writes (verify). */
  'write-probe':
    'create table if not exists dr_failover_probe (id int primary key, at timestamptz not null); insert into dr_failover_probe values (1, now()) on conflict (id) do update set at = excluded.at; select 1 as ok',
  /** Whether it is a standby, and whether it refuses writes (the fence). */
  'role-and-fence': "select pg_is_in_recovery() as in_recovery, current_setting('default_transaction_read_only') as read_only",
} as const;

export type SqlProbeName = keyof typeof SQL_PROBES;

export const SQL_PROBE_NAMES = Object.keys(SQL_PROBES) as SqlProbeName[];

export function isSqlProbeName(v: unknown): v is SqlProbeName {
  return typeof v === 'string' && (SQL_PROBE_NAMES as string[]).includes(v);
}

/** The name of a probe's SQL text; OperationError for SQL that is not one of {@link SQL_PROBES}. */
export function sqlProbeNameOf(sql: string): SqlProbeName {
  const hit = SQL_PROBE_NAMES.find((n) => SQL_PROBES[n] === sql);
  if (!hit) throw new OperationError(`not one of the named SQL probes (${SQL_PROBE_NAMES.join(', ')}): the backup-job Lambda runs only those`);
  return hit;
}

/** The backup-job Lambda's event for a probe (automation/lambda/probe.ts answers it). */
export interface SqlProbeEvent {
  probe: SqlProbeName;
}
/** What the function returns for a probe: the statement's rows. */
export interface SqlProbeAnswer {
  probe: SqlProbeName;
  rows: Array<Record<string, unknown>>;
}
