/**
 * {@link SqlProbe} over `pg`: SQL reach into each region's database, for the replication lag (LSNs), a planned
 * switchover's catch-up, the fence's session termination and the write probe. Optional: RDS normally sits in
 * private subnets, so this works only where `dr` runs with network access to them (a bastion, a CI runner in the
 * VPC). Connections are short-lived, time-bounded and TLS-verified: an RDS endpoint is verify-full against the RDS
 * CA bundle unless its URL says otherwise (adapters/tools/pg-tls.ts, docs/tls.md).
 *
 * Passwords given in a connection URL or config are registered with redact() before any use, so an error text
 * from `pg` that echoes them is scrubbed.
 */
import { Client, ClientConfig } from 'pg';
import { registerSecret } from '../../core/redact';
import type { SqlProbe } from './rds';
import { OperationError } from '../../core/errors';
import { pgClientConfig } from '../tools/pg-env';
import { explainTlsFailure, PgTlsEnv } from '../tools/pg-tls';

/** Region → connection config (or undefined when there is no SQL reach into that region). */
export type PgConnectionResolver = (region: string) => Promise<ClientConfig | undefined> | ClientConfig | undefined;

export interface PgProbeOptions {
  /** Connect timeout (default 5 s): an unreachable region fails fast. */
  connectTimeoutMs?: number;
  /** Per-statement timeout (default 10 s). */
  statementTimeoutMs?: number;
}

/**
 * A resolver over `postgresql://` URLs per region (e.g. from `--db-url-<region>` or the environment), with the
 * project's TLS decision; `env` is the caller's environment (PGSSLROOTCERT).
 */
export function pgUrlResolver(urls: Record<string, string | undefined>, env: PgTlsEnv = {}): PgConnectionResolver {
  for (const u of Object.values(urls)) {
    if (!u) continue;
    try {
      registerSecret(decodeURIComponent(new URL(u).password));
    } catch {
      // Not a URL: pg will reject it; nothing to register.
    }
  }
  return (region) => {
    const url = urls[region];
    return url ? pgClientConfig(url, env) : undefined;
  };
}

export function pgSqlProbe(resolve: PgConnectionResolver, opts: PgProbeOptions = {}): SqlProbe {
  return {
    async query(region: string, sql: string): Promise<Array<Record<string, unknown>>> {
      const cfg = await resolve(region);
      if (!cfg) throw new OperationError(`no SQL connection is configured for region ${region}`);
      if (typeof cfg.password === 'string') registerSecret(cfg.password);
      const client = new Client({ ...cfg, connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000, statement_timeout: opts.statementTimeoutMs ?? 10_000, application_name: 'dr-failover' });
      client.on('error', () => undefined);
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => undefined);
        const message = err instanceof Error ? err.message : String(err);
        const explained = explainTlsFailure(message, undefined, (err as NodeJS.ErrnoException).code);
        if (explained !== message) throw new OperationError(`${region}: ${explained}`, undefined, { cause: err });
        throw err;
      }
      try {
        const r = (await client.query(sql)) as unknown;
        const last = Array.isArray(r) ? r[r.length - 1] : r;
        return ((last as { rows?: Array<Record<string, unknown>> }).rows ?? []) as Array<Record<string, unknown>>;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}
