/**
 * Readiness in the rehearsal (issue 14) on real PostgreSQL, Redis, s3rver and the fake bot platforms:
 * `dr readiness --local` over the real things, `dr status --local` showing the verdict, the planned failover's
 * preflight refusing while not ready (unless --force), and `dr drill --local --scenario readiness`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDnsFile } from '../../automation/adapters/rehearsal/local-dns';
import { down } from '../../automation/rehearsal/environment';
import { dr } from '../helpers/cli';
import { useLocalRoot, useUpEnvironment } from '../helpers/local-env';

interface Check {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  resource: string;
  reason: string;
  fix: string;
}

describe('rehearsal: readiness @integration', function () {
  this.timeout(180_000);
  const root = useLocalRoot('dr-ready-');

  describe('one environment', () => {
    const local = useUpEnvironment(root, 'env');
    const readiness = async (...extra: string[]) => {
      const r = await dr(['readiness', '--local', '--dir', local.dir, '--json', ...extra]);
      return { code: r.code, body: r.json() as { verdict: string; checks: Check[]; duration_ms: number; calls: { local: number; platform: number } }, raw: r };
    };

    it('a fresh environment without backups: not-ready (exit 1), backups.newest fails with its fix; everything else passes', async () => {
      const { code, body } = await readiness();
      assert.equal(code, 1);
      assert.equal(body.verdict, 'not-ready');
      const failed = body.checks.filter((c) => c.status !== 'pass');
      assert.deepEqual(failed.map((c) => `${c.name} ${c.resource}`), ['backups.newest postgresql/daily', 'backups.newest redis/daily']);
      assert.match(failed[0].fix, /^dr backup postgres --local --tier daily$/);
      for (const c of body.checks) assert.deepEqual(Object.keys(c).sort(), ['fix', 'name', 'reason', 'resource', 'status'], c.name);
    });

    it('after dr backup --local (copied to b): ready (exit 0), the real observations in each reason; one run takes < 2 s', async () => {
      for (const service of ['postgres', 'redis']) {
        const b = await dr(['backup', service, '--local', '--dir', local.dir, '--tier', 'daily']);
        assert.equal(b.code, 0, b.stderr);
        assert.match(b.stdout, /copied to bot-dr-b \(the rehearsal's stand-in for cross-region replication\)/);
      }
      const { code, body } = await readiness();
      assert.equal(code, 0, JSON.stringify(body.checks.filter((c) => c.status !== 'pass')));
      assert.equal(body.verdict, 'ready');
      const reason = (name: string) => body.checks.filter((c) => c.name === name).map((c) => c.reason).join(' | ');
      assert.match(reason('database.replicating'), /WAL receiver streaming from a \(sender streaming, slot /);
      assert.match(reason('database.lag'), /^lag \d+ s \(RPO budget 15 min\)$/);
      assert.match(reason('cache.replica-link'), /^link up, \d+ bytes behind$/);
      assert.match(reason('backups.newest'), /in s3:\/\/bot-dr-a and s3:\/\/bot-dr-b/);
      assert.match(reason('database.fence'), /a serves unfenced; b standby/);
      assert.match(reason('bots.tokens'), /3 of 3 tokens healthy from local .* \| 2 of 2 tokens healthy from local/);
      assert.match(reason('secrets.file-modes'), /files and directories private/);
      assert.ok(body.duration_ms < 2000, `${body.duration_ms} ms`);
      assert.ok(body.calls.local > 10 && body.calls.platform === 5 + 2, JSON.stringify(body.calls));
      const human = await dr(['readiness', '--local', '--dir', local.dir]);
      assert.equal(human.code, 0);
      assert.match(human.stdout, /^readiness \(local, from local\) at .*: READY\n {2}\d+ results: \d+ pass, 0 warn, 0 fail/);
      assert.match(human.stdout, /^ {2}n\/a {2}dns /m);
    });

    it('a credential file made world-readable: secrets.file-modes fails; dr status shows the verdict and the failed check; planned failover refuses (exit 2, nothing moved)', async () => {
      const secrets = path.join(local.dir, 'secrets.json');
      assert.ok(fs.existsSync(secrets));
      fs.chmodSync(secrets, 0o644);
      try {
        const { code, body } = await readiness();
        assert.equal(code, 1);
        const fail = body.checks.find((c) => c.name === 'secrets.file-modes' && c.status === 'fail');
        assert.ok(fail, JSON.stringify(body.checks));
        assert.equal(fail.resource, secrets);
        assert.equal(fail.reason, 'mode 0644: others may read a credential');
        assert.equal(fail.fix, `chmod 0600 ${secrets}`);

        const st = await dr(['status', '--local', '--dir', local.dir]);
        assert.match(st.stdout, /^ {2}readiness {2}NOT-READY \(from local at .*\)\n {4}FAIL secrets\.file-modes .*secrets\.json/m);
        const stj = await dr(['status', '--local', '--dir', local.dir, '--json']);
        assert.equal(stj.json().readiness.verdict, 'not-ready');
        assert.deepEqual(stj.json().readiness.failed.map((f: { name: string }) => f.name), ['secrets.file-modes']);

        const fo = await dr(['failover', '--local', '--dir', local.dir, '--planned', '--yes']);
        assert.equal(fo.code, 2, fo.stdout + fo.stderr);
        assert.match(fo.stderr, /readiness is not-ready, so a planned switchover is refused \(nothing was changed\)\. Failed checks: secrets\.file-modes .*--force/);
        assert.equal(readDnsFile(local.state.dns_file).records.database, 'a');
        assert.equal(fs.existsSync(local.state.promotions_log) ? fs.readFileSync(local.state.promotions_log, 'utf8').trim() : '', '', 'nothing promoted');
      } finally {
        fs.chmodSync(secrets, 0o600);
      }
      assert.equal((await readiness()).code, 0, 'ready again once the mode is back');
    });

    it('bad usage exits 2 naming the flag', async () => {
      const r = await dr(['readiness', '--local', '--dir', local.dir, '--verdict']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown flag --verdict/);
    });
  });

  it('dr drill --local --scenario readiness: each of the four breaks caught by its check in one run, repaired, ready again', async () => {
    const dir = path.join(root.dir, 'drill');
    const res = await dr(['drill', '--local', '--scenario', 'readiness', '--duration', '1', '--dir', dir, '--reports-dir', path.join(root.dir, 'reports'), '--json']);
    const report = res.code === 0 ? fs.readFileSync(res.json().report, 'utf8') : '';
    await down(dir);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const r = res.json();
    assert.equal(r.ok, true, JSON.stringify(r.checks));
    assert.equal(r.readiness.baseline, 'ready');
    assert.equal(r.readiness.final, 'ready');
    assert.deepEqual(
      r.readiness.breaks.map((b: { break: string; check: string; caught: boolean; verdict: string }) => [b.break, b.check, b.caught, b.verdict]),
      [
        ['wal-receiver', 'database.replicating', true, 'not-ready'],
        ['backup-b', 'backups.newest', true, 'not-ready'],
        ['backup-token', 'bots.tokens', true, 'not-ready'],
        ['redis-b', 'cache.replica-link', true, 'not-ready'],
      ],
    );
    for (const b of r.readiness.breaks) {
      assert.ok(b.repair_seconds !== null && b.repair_seconds < 20, `${b.break}: repaired in ${b.repair_seconds}`);
      assert.ok(b.runs_to_ready >= 1);
    }
    const reasons = Object.fromEntries(r.readiness.breaks.map((b: { break: string; reason: string }) => [b.break, b.reason]));
    assert.match(reasons['wal-receiver'], /no WAL receiver runs on b/);
    assert.match(reasons['backup-b'], /is not in s3:\/\/bot-dr-b/);
    assert.match(reasons['backup-token'], /1 of 2 tokens healthy.*revoked/);
    assert.match(reasons['redis-b'], /Redis in b/);
    assert.match(report, /## Readiness[\s\S]*\| stop the standby's WAL receiver \(b\) \| `database\.replicating` \| yes \|/);
  });
});
