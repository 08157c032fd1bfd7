/**
 * Turn a PostgreSQL URL into libpq environment variables, so child tools never get a password on their
 * command line (where `ps` would show it), and into the `pg` driver's config; TLS for both from one decision
 * (pg-tls.ts: verify-full against the RDS CA bundle for RDS endpoints).
 */
import type { ClientConfig } from 'pg';
import { UsageError } from '../../core/errors';
import { pgClientSsl, pgTlsDecision, PgTlsEnv, pgTlsEnv } from './pg-tls';
export interface PgConn {
  host: string;
  port: number;
  user?: string;
  password?: string;
  database: string;
  /** Other query parameters (sslmode, sslrootcert, …). */
  params: Record<string, string>;
}

export function parsePgUrl(url: string): PgConn {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError('not a valid PostgreSQL URL (expected postgresql://user:password@host:port/database)');
  }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') throw new UsageError(`URL scheme must be postgresql://, got ${u.protocol}//`);
  const params: Record<string, string> = {};
  u.searchParams.forEach((v, k) => (params[k] = v));
  return {
    host: decodeURIComponent(u.hostname) || '127.0.0.1',
    port: u.port ? Number(u.port) : 5432,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
    params,
  };
}

/** URL parameters passed to libpq as they are (sslmode and sslrootcert go through the TLS decision). */
const PARAM_ENV: Record<string, string> = {
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  application_name: 'PGAPPNAME',
};

/**
 * libpq's environment for a child tool connecting to `url`. `callerEnv` is the caller's environment, where
 * PGSSLROOTCERT may come from (the tool's own environment is minimal, see proc.ts).
 */
export function pgEnv(url: string, callerEnv: PgTlsEnv = {}): Record<string, string> {
  const c = parsePgUrl(url);
  const env: Record<string, string> = { PGHOST: c.host, PGPORT: String(c.port), PGDATABASE: c.database, PGCONNECT_TIMEOUT: '15' };
  if (c.user) env.PGUSER = c.user;
  if (c.password) env.PGPASSWORD = c.password;
  for (const [k, v] of Object.entries(c.params)) if (PARAM_ENV[k]) env[PARAM_ENV[k]] = v;
  return { ...env, ...pgTlsEnv(pgTlsDecision(c, callerEnv)) };
}

/** The `pg` driver's connection settings for `url`, TLS decided as for the tools (`ssl` always explicit). */
export function pgClientConfig(url: string, callerEnv: PgTlsEnv = {}): ClientConfig & { host: string; port: number; database: string } {
  const c = parsePgUrl(url);
  return { host: c.host, port: c.port, user: c.user, password: c.password, database: c.database, ssl: pgClientSsl(pgTlsDecision(c, callerEnv)) };
}

/** `host:port` — what manifests and messages may show. */
export function pgHostOf(url: string): string {
  const c = parsePgUrl(url);
  return `${c.host}:${c.port}`;
}
