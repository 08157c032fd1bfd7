/**
 * The backup-job Lambda's `probe` events: from inside the VPC it runs one of the named SQL probes
 * (adapters/aws/sql-probes.ts) against its region's database, with the job's own credentials (the DB secret) and
 * verified TLS, and answers `{ probe, rows }`. This is how the failover, the planned switchover's catch-up and the
 * failback read WAL positions, lag and the fence from an operator's machine that has no route to the database
 * (adapters/aws/lambda-sql-probe.ts asks). Only named probes run: SQL in an event is never executed.
 */
import type { Client } from 'pg';
import { UsageError } from '../core/errors';
import { connectPg } from '../adapters/tools/pg-tools';
import { isSqlProbeName, SQL_PROBE_NAMES, SQL_PROBES } from '../adapters/aws/sql-probes';
import type { SqlProbeAnswer, SqlProbeEvent } from '../adapters/aws/sql-probes';

export function isSqlProbeEvent(event: unknown): event is SqlProbeEvent {
  return typeof event === 'object' && event !== null && 'probe' in event;
}

/** Run the event's probe over `url` (the job's database URL); `env` for the TLS roots (PGSSLROOTCERT). */
export async function runSqlProbe(event: SqlProbeEvent, url: string, env: Record<string, string | undefined>, o: { statementTimeoutMs?: number } = {}): Promise<SqlProbeAnswer> {
  if (!isSqlProbeName(event.probe)) throw new UsageError(`unknown probe ${JSON.stringify(String(event.probe)).slice(0, 60)}: one of ${SQL_PROBE_NAMES.join(', ')}`);
  const client: Client = await connectPg(url, { env, connectTimeoutMs: 5_000, applicationName: 'dr-probe' });
  try {
    await client.query(`set statement_timeout = ${Math.max(1, Math.floor(o.statementTimeoutMs ?? 10_000))}`);
    const r = (await client.query(SQL_PROBES[event.probe])) as unknown;
    const last = Array.isArray(r) ? r[r.length - 1] : r;
    return { probe: event.probe, rows: ((last as { rows?: Array<Record<string, unknown>> }).rows ?? []) as Array<Record<string, unknown>> };
  } finally {
    await client.end().catch(() => undefined);
  }
}
