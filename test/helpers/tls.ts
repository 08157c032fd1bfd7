/**
 * Throw-away certificate authorities and server certificates for TLS tests (made with the `openssl` command,
 * EC P-256 keys, valid for two days), and switching a running {@link PgCluster} to serve one of them.
 *
 *   const ca1 = makeCa(dir, 'ca-1');
 *   const cert = issueServerCert(ca1, dir, 'local', ['DNS:localhost', 'IP:127.0.0.1']);
 *   await serveTls(pg.cluster, cert);   // ssl=on with that certificate, reloaded
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PgCluster } from '../../automation/adapters/rehearsal/pg-cluster';
import { isRoot, sleep, userIds } from '../../automation/adapters/tools/proc';

export interface TestCa {
  name: string;
  /** PEM certificate: what a client is given as its root. */
  crt: string;
  key: string;
}

export interface ServerCert {
  name: string;
  crt: string;
  key: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA certificate and key under `dir`. */
export function makeCa(dir: string, name: string): TestCa {
  const crt = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  openssl(['req', '-x509', ...EC, '-days', '2', '-subj', `/CN=bot-dr test ${name}`, '-keyout', key, '-out', crt, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { name, crt, key };
}

/** A server certificate signed by `ca` for the given subjectAltNames (`DNS:…`, `IP:…`); CN = the first name. */
export function issueServerCert(ca: TestCa, dir: string, name: string, altNames: string[]): ServerCert {
  const crt = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, [`subjectAltName=${altNames.join(',')}`, 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', ''].join('\n'));
  openssl(['req', ...EC, '-subj', `/CN=${altNames[0].replace(/^[A-Z]+:/, '')}`, '-keyout', key, '-out', csr]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-set_serial', `0x${Date.now().toString(16)}`, '-days', '2', '-extfile', ext, '-out', crt]);
  return { name, crt, key };
}

/**
 * Make the running cluster serve `cert` (ssl=on, reloaded): the files are copied into its data directory, owned by
 * the server's OS user, the key 0600 (PostgreSQL refuses a key others can read). Resolves once new sessions see it.
 */
export async function serveTls(cluster: PgCluster, cert: ServerCert): Promise<void> {
  const crt = path.join(cluster.dataDir, `tls-${cert.name}.crt`);
  const key = path.join(cluster.dataDir, `tls-${cert.name}.key`);
  fs.copyFileSync(cert.crt, crt);
  fs.copyFileSync(cert.key, key);
  fs.chmodSync(crt, 0o644);
  fs.chmodSync(key, 0o600);
  if (isRoot()) {
    const { uid, gid } = userIds(cluster.osUser);
    fs.chownSync(crt, uid, gid);
    fs.chownSync(key, uid, gid);
  }
  await cluster.query(`ALTER SYSTEM SET ssl_cert_file = '${crt}'`);
  await cluster.query(`ALTER SYSTEM SET ssl_key_file = '${key}'`);
  await cluster.query("ALTER SYSTEM SET ssl = 'on'");
  await cluster.query('SELECT pg_reload_conf()');
  for (let i = 0; i < 100; i++) {
    const [row] = await cluster.query<{ f: string; ssl: string }>("SELECT current_setting('ssl_cert_file') AS f, current_setting('ssl') AS ssl");
    if (row.f === crt && row.ssl === 'on') return;
    await sleep(50);
  }
  throw new Error(`serveTls: the server did not pick up ${crt} (see ${cluster.logFile})`);
}
