/**
 * The TLS decision for a PostgreSQL connection, made once for the `pg` driver and the libpq tools alike
 * (automation/adapters/tools/pg-tls.ts turns it into driver options and a libpq environment; docs/tls.md).
 *
 * Mode: an explicit `sslmode` in the URL is honoured as given; without one, an RDS endpoint
 * (`*.rds.amazonaws.com`, `*.rds.amazonaws.com.cn`) gets `verify-full`; any other host gets no mode (libpq's own
 * default, and the driver without TLS: the local rehearsal's 127.0.0.1 servers). `PGSSLMODE` is not read: a
 * stale shell variable must not weaken the check of an RDS endpoint.
 *
 * Trusted roots (for verify-ca/verify-full, and for `require` when a root is given explicitly, which libpq then
 * treats as verify-ca): `sslrootcert` in the URL > `PGSSLROOTCERT` in the caller's environment > the RDS CA
 * bundle shipped with the project (verify modes only). `sslrootcert=system` means the platform's trust store.
 *
 * Pure: no file is read here.
 */

export const PG_SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type PgSslMode = (typeof PG_SSL_MODES)[number];

export function isPgSslMode(v: string): v is PgSslMode {
  return (PG_SSL_MODES as readonly string[]).includes(v);
}

/** An RDS (or Aurora, RDS Proxy) endpoint name: these default to verify-full against the RDS CA bundle. */
export function isRdsEndpoint(host: string): boolean {
  return /\.rds\.amazonaws\.com(\.cn)?\.?$/i.test(host);
}

/** Where the trusted roots come from. */
export type PgTlsRoots =
  | { from: 'url' | 'PGSSLROOTCERT'; path: string }
  | { from: 'url' | 'PGSSLROOTCERT'; system: true }
  | { from: 'rds-bundle' };

export interface PgTlsDecision {
  /** The mode in force; undefined: none given and not an RDS endpoint (libpq's default; the driver without TLS). */
  mode?: PgSslMode;
  modeFrom: 'url' | 'rds-default' | 'none';
  /** Whether the server's certificate chain is checked against {@link roots}. */
  verifyChain: boolean;
  /** Whether the certificate must also name the host (verify-full). */
  verifyHost: boolean;
  /** Whether the connection is encrypted at all (the driver's `ssl`); `allow`/`prefer` count as encrypted. */
  encrypt: boolean;
  roots?: PgTlsRoots;
}

export interface PgTlsInput {
  host: string;
  /** The URL's `sslmode` (already validated). */
  sslmode?: PgSslMode;
  /** The URL's `sslrootcert`, if any. */
  sslrootcert?: string;
}

function rootsFrom(from: 'url' | 'PGSSLROOTCERT', value: string): PgTlsRoots {
  return value === 'system' ? { from, system: true } : { from, path: value };
}

export function decidePgTls(input: PgTlsInput, env: { PGSSLROOTCERT?: string }): PgTlsDecision {
  const mode: PgSslMode | undefined = input.sslmode ?? (isRdsEndpoint(input.host) ? 'verify-full' : undefined);
  const modeFrom = input.sslmode ? 'url' : mode ? 'rds-default' : 'none';
  const explicit = input.sslrootcert ? rootsFrom('url', input.sslrootcert) : env.PGSSLROOTCERT ? rootsFrom('PGSSLROOTCERT', env.PGSSLROOTCERT) : undefined;
  const verifyMode = mode === 'verify-ca' || mode === 'verify-full';
  // libpq: `require` with a root certificate given behaves as verify-ca.
  const verifyChain = verifyMode || (mode === 'require' && explicit !== undefined);
  return {
    mode,
    modeFrom,
    verifyChain,
    verifyHost: mode === 'verify-full',
    encrypt: mode !== undefined && mode !== 'disable',
    ...(verifyChain ? { roots: explicit ?? { from: 'rds-bundle' } } : {}),
  };
}

/** One line for logs and errors: `sslmode=verify-full (RDS endpoint default), roots: the RDS CA bundle`. */
export function describePgTls(d: PgTlsDecision): string {
  if (!d.mode) return 'no sslmode (not an RDS endpoint; libpq default, driver without TLS)';
  const why = d.modeFrom === 'rds-default' ? ' (RDS endpoint default)' : '';
  if (!d.roots) return `sslmode=${d.mode}${why}${d.encrypt ? ', certificate not verified' : ''}`;
  const r = d.roots;
  const roots = r.from === 'rds-bundle' ? 'the RDS CA bundle' : 'system' in r ? `the system trust store (${r.from})` : `${r.path} (${r.from === 'url' ? 'sslrootcert in the URL' : 'PGSSLROOTCERT'})`;
  return `sslmode=${d.mode}${why}, roots: ${roots}${d.verifyHost ? '' : ', host name not checked'}`;
}
