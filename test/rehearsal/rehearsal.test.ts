/**
 * The local two-region rehearsal on real PostgreSQL streaming replication, Redis replication and s3rver.
 * Every environment is torn down in `after` hooks (dr local down semantics: no process left behind).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { localPorts } from '../../automation/adapters/rehearsal/index';
import { readDnsFile } from '../../automation/adapters/rehearsal/local-dns';
import { guardOldPrimary } from '../../automation/failover/index';
import { down, killRegion, restartRegion, status } from '../../automation/rehearsal/environment';
import { failback } from '../../automation/rehearsal/failback';
import { runDrill } from '../../automation/rehearsal/drill';
import { redisClient, pidIs, readPidFile } from '../../automation/adapters/rehearsal/processes';
import { TrafficSimulator } from '../../automation/rehearsal/traffic';
import { dr } from '../helpers/cli';
import { appWrite, useLocalRoot, useUpEnvironment } from '../helpers/local-env';

const ROOT = path.join(__dirname, '..', '..');

describe('local rehearsal @integration', function () {
  this.timeout(180_000);
  const root = useLocalRoot('dr-local-');

  it('drill: a planned switchover under load loses 0 acknowledged writes', async () => {
    const r = await runDrill({ scenario: 'planned', loadTps: 40, durationSeconds: 1, dir: path.join(root.dir, 'planned'), keep: false, reportsDir: path.join(root.dir, 'reports') });
    assert.equal(r.error, undefined);
    assert.equal(r.failover?.outcome, 'completed');
    assert.ok(r.rpo.acked_writes > 10, `acked ${r.rpo.acked_writes}`);
    assert.equal(r.rpo.lost_writes, 0);
    assert.equal(r.rpo.cache_lost_writes, 0);
    assert.equal(r.restore.verified, true);
    // Both backups taken by the engine, copied to b's bucket, restored from there and verified.
    assert.equal(r.restore.postgresql?.verified, true);
    assert.equal(r.restore.postgresql?.bucket, 'bot-dr-b');
    assert.ok((r.restore.postgresql?.tables.length ?? 0) >= 4);
    assert.equal(r.restore.redis?.verified, true);
    assert.equal(r.restore.redis?.bucket, 'bot-dr-b');
    assert.match(r.restore.redis?.backup ?? '', /redis/);
    assert.ok((r.restore.redis?.keys.backup ?? 0) >= 500, `redis keys ${r.restore.redis?.keys.backup} (500 seeded conversations + traffic)`);
    assert.equal(r.restore.redis?.keys.restored, r.restore.redis?.keys.backup);
    assert.equal(r.restore.redis?.sample.mismatched, 0);
    assert.ok(r.ok);
    assert.ok(fs.readFileSync(r.report, 'utf8').includes('lost database writes (RPO) | 0'));
    assert.deepEqual(r.steps.map((s) => s.name), ['env-up', 'seed', 'traffic', 'backup', 'inject-failure', 'detect-failover', 'traffic-resumed', 'region-returns', 'restore-verify', 'report', 'teardown']);
    assert.equal(fs.existsSync(path.join(root.dir, 'planned')), false, 'torn down');
  });

  it('dr drill --local --json: an unplanned datacenter failover completes, traffic resumes on b, no password leaks', async () => {
    const envDir = path.join(root.dir, 'dc');
    const res = await dr(['drill', '--local', '--scenario', 'datacenter', '--load-tps', '20', '--duration', '1', '--dir', envDir, '--reports-dir', path.join(root.dir, 'reports'), '--keep', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const r = res.json();
    assert.equal(r.error, undefined);
    for (const k of ['scenario', 'rto_seconds', 'rpo', 'steps', 'restore', 'report']) assert.ok(k in r, `--json has ${k}`);
    assert.equal(typeof r.restore.verified, 'boolean');
    assert.equal(typeof r.restore.duration_seconds, 'number');
    assert.equal(r.restore.redis.verified, true);
    // Kept: the credentials are on disk (secrets.json) but in none of the outputs, the report or the logs.
    const passwords = Object.values((JSON.parse(fs.readFileSync(path.join(envDir, 'secrets.json'), 'utf8')) as { secrets: Record<string, string> }).secrets);
    assert.equal(passwords.length, 4, "pg superuser, app, redis and the platform control key");
    const texts: Record<string, string> = {
      stdout: res.stdout,
      stderr: res.stderr,
      report: fs.readFileSync(r.report, 'utf8'),
      'state.json': fs.readFileSync(path.join(envDir, 'state.json'), 'utf8'),
      notifications: fs.readFileSync(path.join(envDir, 'notifications.log'), 'utf8'),
    };
    assert.ok(texts.notifications.includes('"kind":"incident"'));
    for (const [name, text] of Object.entries(texts)) for (const pw of passwords) assert.ok(!text.includes(pw), `${name} contains a password`);
    await down(envDir);
    assert.equal(r.failover?.outcome, 'completed');
    assert.equal(r.failover?.mode, 'unplanned');
    assert.equal(r.failover?.incident, 'datacenter');
    assert.ok(r.rto_seconds !== null && r.rto_seconds > 0);
    // Three failed checks, due a second apart on the monitor's own schedule (not the drill's wall clock, which a
    // loaded machine stretches and a check that started just before the kill shortens).
    assert.ok(r.detection_seconds !== null && r.detection_seconds > 0, 'detected after the failure');
    const run = (r.detection_checks as Array<{ tier: string; consecutive: number; slot: number }>).filter((c) => c.tier === 'database');
    assert.deepEqual(run.map((c) => c.consecutive), [1, 2, 3], 'the incident was raised at the third consecutive failed check');
    assert.ok(run[2].slot - run[0].slot >= 2000, `three checks a second apart: due at +0, +${run[1].slot - run[0].slot}, +${run[2].slot - run[0].slot} ms`);
    assert.equal(r.checks.find((c: { name: string; ok: boolean }) => c.name === 'incident detected as scenario')?.ok, true);
    const secrets = r.failover?.steps.find((s: { name: string }) => s.name === 'promote-secrets');
    // The bots' secrets are replicated a → b locally (issue 11): promote-secrets makes b's copy writable.
    assert.equal(secrets?.status, 'ok');
    assert.match(secrets?.detail ?? '', /made writable in b/);
    assert.ok(r.ok, JSON.stringify(r.checks));
    assert.equal(fs.existsSync(envDir), false);
  });

  describe('one environment: crash, split-brain guard, failback', () => {
    const local = useUpEnvironment(root);

    it('dr killed right after promote-database, then rerun: completes without a second promotion', async () => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'dr.js'), 'failover', '--local', '--dir', local.dir, '--unplanned', '--incident', 'datacenter', '--yes', '--id', 'fo-crash-test'], {
        env: { ...process.env, DR_ENABLE_TEST_HOOKS: '1', DR_CRASH_AFTER_STEP: 'promote-database' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no crash marker: ${stderr}`)), 60_000);
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          if (stderr.includes('DR_TEST_HOOK')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`dr exited (${code}) before the hook: ${stderr}`)));
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // The world: b promoted, journal says promote-database only started.
      const ports = localPorts(local.state);
      assert.equal(await ports.database.role('b'), 'primary');
      const before = (await ports.journal.read('fo-crash-test')).entries;
      assert.ok(before.some((e) => e.kind === 'step' && e.step === 'promote-database' && e.phase === 'started'));
      assert.ok(!before.some((e) => e.kind === 'step' && e.step === 'promote-database' && e.phase === 'done'));

      const res = await dr(['failover', '--local', '--dir', local.dir, '--resume', '--yes', '--json'], {});
      assert.equal(res.code, 0, res.stderr);
      const out = res.json();
      assert.equal(out.outcome, 'completed');
      assert.equal(out.steps.find((s: { name: string }) => s.name === 'promote-database').status, 'done-before');
      const promotions = fs.readFileSync(local.state.promotions_log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tier: string; region: string });
      assert.equal(promotions.filter((p) => p.tier === 'database').length, 1, 'one database promotion');
      await local.env.superQuery('b', 'CHECKPOINT');
      const tli = await local.env.superQuery<{ t: number }>('b', 'SELECT timeline_id AS t FROM pg_control_checkpoint()');
      assert.equal(tli[0].t, 2, 'b was promoted once: timeline 1 → 2');
      assert.equal(readDnsFile(local.state.dns_file).records.database, 'b');
    });

    it('the old primary restarted after the failover takes no writes through the service name', async () => {
      // The failover above fenced a while it still answered; make it a crash-restart of a region that was never
      // fenced: unfence by hand, kill it, restart it, and let the guard run.
      const ports = localPorts(local.state);
      await ports.database.unfence('a');
      await ports.cache.unfence!('a');
      assert.equal(await appWrite(local.env, 'a'), true, 'precondition: a unfenced primary takes app writes');
      await killRegion(local.state, 'a', { database: true, cache: true });
      await restartRegion(local.state, 'a', { database: true, cache: true });
      const g = await guardOldPrimary(ports);
      // The bots' copies in a: written by the failover while a still answered (active_region=b), so nothing to do.
      assert.deepEqual(g.actions.map((a) => [a.tier, a.region, a.outcome]).sort(), [['bots', 'a', 'already-fenced'], ['cache', 'a', 'fenced'], ['database', 'a', 'fenced']]);
      // Through the service name: resolves to b, which takes the write.
      const served = readDnsFile(local.state.dns_file).records.database;
      assert.equal(served, 'b');
      assert.equal(await appWrite(local.env, served), true);
      // Directly at the old primary: connection refused for the application, read-only even for a superuser.
      assert.match(String(await appWrite(local.env, 'a')), /pg_hba\.conf rejects|rejects connection/);
      await assert.rejects(local.env.superQuery('a', 'INSERT INTO dr_probe (region, at) VALUES ($1, now())', ['a'], local.state.app.database), /read-only transaction/);
      const r = redisClient(local.state.regions.a.redis.port, local.state.secrets.redis_password);
      try {
        await r.connect();
        await assert.rejects(r.set('bot:probe', 'x'), /NOREPLICAS/);
      } finally {
        r.disconnect();
      }
      // Still fenced after another restart (persistent fence).
      await killRegion(local.state, 'a', { database: true, cache: true });
      await restartRegion(local.state, 'a', { database: true, cache: true });
      assert.equal(await ports.database.isFenced('a'), true);
      assert.equal(await ports.cache.isFenced!('a'), true);
    });

    it('failback returns to a with nothing lost (under load)', async () => {
      const traffic = new TrafficSimulator(local.state, 30);
      traffic.start();
      try {
        await traffic.waitFor((o) => o.db === 'b' && o.cache === 'b', 10_000);
        const res = await failback(local.state, { confirm: true });
        assert.equal(res.switchover.outcome, 'completed');
        assert.ok(res.rebuilt.database === 'pg_rewind' || res.rebuilt.database === 'pg_basebackup');
        await traffic.waitFor((o) => o.db === 'a' && o.cache === 'a', 15_000);
      } finally {
        await traffic.stop();
      }
      const v = await traffic.verifyOn('a', 'a');
      assert.ok(v.db_acked > 10);
      assert.deepEqual(v.db_lost, []);
      assert.deepEqual(v.cache_lost, []);
      const st = await status(local.state);
      const role = (region: string, service: string) => st.services.find((s) => s.region === region && s.service === service)?.role;
      assert.equal(role('a', 'postgresql'), 'primary');
      assert.equal(role('b', 'postgresql'), 'standby');
      assert.equal(role('a', 'redis'), 'primary');
      assert.equal(role('b', 'redis'), 'standby');
      assert.deepEqual(st.dns, { platform: 'a', database: 'a', cache: 'a' });
    });

    it('dr local down stops every process it started', async () => {
      const pids = [readPidFile(path.join(local.state.regions.a.postgres.dir, 'data', 'postmaster.pid')), readPidFile(local.state.regions.b.redis.pidFile), local.state.s3.pid];
      const res = await dr(['local', 'down', '--dir', local.dir, '--json']);
      assert.equal(res.code, 0, res.stderr);
      assert.ok(pids.every((p) => p !== undefined));
      for (const p of pids) assert.equal(pidIs(p, ''), false, `pid ${p} still alive`);
      assert.equal(fs.existsSync(local.dir), false);
    });
  });

  // failover/status/failback/drill gained AWS modes (issue 5); the health monitor is local-only.
  it('dr watch without --local says it needs --local (exit 2)', async () => {
    const res = await dr(['watch']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--local/);
  });
});
