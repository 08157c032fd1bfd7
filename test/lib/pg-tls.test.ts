import { strict as assert } from 'node:assert';
import { decidePgTls, describePgTls, isPgSslMode, isRdsEndpoint, PG_SSL_MODES } from '../../lib/pg-tls';

const RDS = 'bot-dr-pg.abc123xyz.eu-west-1.rds.amazonaws.com';

describe('lib/pg-tls: the TLS decision for a PostgreSQL connection (pure)', () => {
  it('RDS endpoints are recognised by name (commercial and China partitions, Aurora and proxy names); nothing else is', () => {
    for (const h of [RDS, 'x.cluster-abc.us-east-1.rds.amazonaws.com', 'p.proxy-abc.us-east-1.rds.amazonaws.com', 'db.abc.cn-north-1.rds.amazonaws.com.cn', 'DB.ABC.EU-WEST-1.RDS.AMAZONAWS.COM', `${RDS}.`]) assert.ok(isRdsEndpoint(h), h);
    for (const h of ['127.0.0.1', 'localhost', 'rds.amazonaws.com', 'db.example.internal', 'rds.amazonaws.com.evil.example', 'x.rds.amazonaws.com.evil.example', 'xrds.amazonaws.com']) assert.ok(!isRdsEndpoint(h), h);
  });

  it('an RDS endpoint without sslmode gets verify-full against the shipped RDS bundle', () => {
    const d = decidePgTls({ host: RDS }, {});
    assert.deepEqual(d, { mode: 'verify-full', modeFrom: 'rds-default', verifyChain: true, verifyHost: true, encrypt: true, roots: { from: 'rds-bundle' } });
    assert.equal(describePgTls(d), 'sslmode=verify-full (RDS endpoint default), roots: the RDS CA bundle');
  });

  it('roots: sslrootcert in the URL > PGSSLROOTCERT > the RDS bundle', () => {
    assert.deepEqual(decidePgTls({ host: RDS, sslrootcert: '/u/ca.pem' }, { PGSSLROOTCERT: '/e/ca.pem' }).roots, { from: 'url', path: '/u/ca.pem' });
    assert.deepEqual(decidePgTls({ host: RDS }, { PGSSLROOTCERT: '/e/ca.pem' }).roots, { from: 'PGSSLROOTCERT', path: '/e/ca.pem' });
    assert.deepEqual(decidePgTls({ host: RDS }, { PGSSLROOTCERT: '' }).roots, { from: 'rds-bundle' });
    assert.deepEqual(decidePgTls({ host: RDS, sslrootcert: 'system' }, {}).roots, { from: 'url', system: true });
    assert.match(describePgTls(decidePgTls({ host: RDS }, { PGSSLROOTCERT: '/e/ca.pem' })), /roots: \/e\/ca\.pem \(PGSSLROOTCERT\)$/);
  });

  it('an explicit sslmode in the URL is honoured as given, also on an RDS endpoint', () => {
    const req = decidePgTls({ host: RDS, sslmode: 'require' }, {});
    assert.deepEqual(req, { mode: 'require', modeFrom: 'url', verifyChain: false, verifyHost: false, encrypt: true });
    assert.equal(describePgTls(req), 'sslmode=require, certificate not verified');
    const ca = decidePgTls({ host: RDS, sslmode: 'verify-ca' }, {});
    assert.deepEqual([ca.verifyChain, ca.verifyHost, ca.roots], [true, false, { from: 'rds-bundle' }]);
    assert.match(describePgTls(ca), /host name not checked/);
    assert.deepEqual(decidePgTls({ host: RDS, sslmode: 'disable' }, {}), { mode: 'disable', modeFrom: 'url', verifyChain: false, verifyHost: false, encrypt: false });
  });

  it('an explicit verify-full is never downgraded, whatever the host or the environment', () => {
    for (const host of ['127.0.0.1', 'db.example.internal', RDS]) {
      for (const env of [{}, { PGSSLROOTCERT: '/e/ca.pem' }]) {
        const d = decidePgTls({ host, sslmode: 'verify-full' }, env);
        assert.deepEqual([d.mode, d.verifyChain, d.verifyHost, d.encrypt], ['verify-full', true, true, true], `${host} ${JSON.stringify(env)}`);
      }
    }
    // PGSSLMODE is not read: a stale shell variable cannot weaken the RDS default.
    assert.equal(decidePgTls({ host: RDS }, { PGSSLMODE: 'disable' } as { PGSSLROOTCERT?: string }).mode, 'verify-full');
  });

  it('require with an explicit root verifies the chain (libpq: as verify-ca), without one it only encrypts', () => {
    const d = decidePgTls({ host: RDS, sslmode: 'require' }, { PGSSLROOTCERT: '/e/ca.pem' });
    assert.deepEqual([d.verifyChain, d.verifyHost, d.roots], [true, false, { from: 'PGSSLROOTCERT', path: '/e/ca.pem' }]);
    assert.equal(decidePgTls({ host: RDS, sslmode: 'require' }, {}).roots, undefined);
  });

  it('a local rehearsal URL (127.0.0.1, no sslmode) stays as it was: no mode, no TLS for the driver, no roots', () => {
    const d = decidePgTls({ host: '127.0.0.1' }, { PGSSLROOTCERT: '/e/ca.pem' });
    assert.deepEqual(d, { mode: undefined, modeFrom: 'none', verifyChain: false, verifyHost: false, encrypt: false });
    assert.match(describePgTls(d), /no sslmode/);
  });

  it('the sslmode vocabulary is libpq’s', () => {
    assert.deepEqual([...PG_SSL_MODES], ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);
    assert.ok(isPgSslMode('verify-full'));
    for (const bad of ['no-verify', 'VERIFY-FULL', 'true', '']) assert.ok(!isPgSslMode(bad), bad);
  });
});
