/**
 * Turn a PostgreSQL URL into libpq environment variables, so child tools never get a password on their
 * command line (where `ps` would show it).
 */
import { UsageError } from '../../core/errors';
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

const PARAM_ENV: Record<string, string> = {
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  application_name: 'PGAPPNAME',
};

export function pgEnv(url: string): Record<string, string> {
  const c = parsePgUrl(url);
  const env: Record<string, string> = { PGHOST: c.host, PGPORT: String(c.port), PGDATABASE: c.database, PGCONNECT_TIMEOUT: '15' };
  if (c.user) env.PGUSER = c.user;
  if (c.password) env.PGPASSWORD = c.password;
  for (const [k, v] of Object.entries(c.params)) if (PARAM_ENV[k]) env[PARAM_ENV[k]] = v;
  return env;
}

/** `host:port` — what manifests and messages may show. */
export function pgHostOf(url: string): string {
  const c = parsePgUrl(url);
  return `${c.host}:${c.port}`;
}
