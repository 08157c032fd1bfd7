/**
 * The rehearsal and the CLI as a new user meets them: one command at a time on an environment, never destroying
 * what a run did not start, honest diagnoses and exit codes, an unplanned failover that keeps what it can, private
 * credential files, and Ctrl-C that says "interrupted" once and leaves nothing running.
 * Real PostgreSQL, Redis and s3rver on 127.0.0.1; every environment is taken down after the suite.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { readDnsFile } from '../../automation/adapters/rehearsal/local-dns';
import { LocalEnv } from '../../automation/adapters/rehearsal/index';
import { credentialFiles } from '../../automation/adapters/rehearsal/state';
import { down, killRegion, stallReplication, up } from '../../automation/rehearsal/environment';
import { dr } from '../helpers/cli';
import { useLocalRoot, useUpEnvironment } from '../helpers/local-env';

const ROOT = path.join(__dirname, '..', '..');

/** Start `dr …` as its own process (as a user would), collecting its output. */
function spawnDr(args: string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'dr.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, out: () => out, exit };
}

async function waitFor(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Processes whose command line mentions `dir` (PostgreSQL, Redis, s3rver of that environment). */
function processesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir) && !cmd.includes('bin/dr.js')) out.push(`${e}: ${cmd.trim()}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('rehearsal as a new user meets it @integration', function () {
  this.timeout(180_000);
  const root = useLocalRoot('dr-newuser-');

  it('`dr local up` then `dr drill --local` in the same directory: exit 2, and the environment still answers', async () => {
    const dir = path.join(root.dir, 'mine');
    const upRes = await dr(['local', 'up', '--dir', dir]);
    assert.equal(upRes.code, 0, upRes.stderr);
    assert.match(upRes.stdout, /use it with:[\s\S]*dr backup postgres --local/);
    const drill = await dr(['drill', '--local', '--dir', dir, '--duration', '1', '--reports-dir', path.join(root.dir, 'reports')]);
    assert.equal(drill.code, 2, drill.stdout + drill.stderr);
    assert.match(drill.stderr, /the drill starts its own environment .*a local environment is already up in .*nothing was changed/);
    assert.equal(fs.existsSync(path.join(root.dir, 'reports')), false, 'a refused drill writes no report');
    const st = await dr(['local', 'status', '--dir', dir, '--json']);
    assert.equal(st.code, 0, st.stdout + st.stderr);
    assert.equal(st.json().ok, true);
    assert.ok(st.json().services.every((s: { running: boolean }) => s.running));
    assert.equal(fs.existsSync(`${dir}.lock`), false, 'every lock released');
  });

  it('a second drill on a running drill\'s directory exits 2 naming it; the first finishes untouched', async () => {
    const dir = path.join(root.dir, 'busy');
    const reports = path.join(root.dir, 'reports-busy');
    const first = spawnDr(['drill', '--local', '--dir', dir, '--duration', '3', '--load-tps', '10', '--reports-dir', reports]);
    await waitFor('the first drill to take its lock', () => fs.existsSync(`${dir}.lock`));
    const second = await dr(['drill', '--local', '--dir', dir, '--duration', '1', '--reports-dir', reports]);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`in use by pid ${first.child.pid} \\(dr drill --local --scenario datacenter\\)`));
    assert.equal(await first.exit, 0, first.out());
    assert.match(first.out(), /drill datacenter: PASSED/);
    assert.equal(fs.readdirSync(reports).length, 1, 'one report, the first drill\'s');
    assert.equal(fs.existsSync(dir), false, 'the first drill tore down what it started');
  });

  describe('one environment: two failovers at once, the next one, file modes, a dead service', () => {
    const local = useUpEnvironment(root, 'shared');

    it('two `dr failover --local --planned --yes` started together: exactly one acts, the other exits 2 naming it', async () => {
      // Readiness first needs the newest backups in both buckets (dr backup --local copies them to b's).
      for (const service of ['postgres', 'redis']) assert.equal((await dr(['backup', service, '--local', '--dir', local.dir, '--tier', 'daily'])).code, 0);
      const args = ['failover', '--local', '--dir', local.dir, '--planned', '--yes'];
      const [a, b] = [spawnDr(args), spawnDr(args)];
      const codes = [await a.exit, await b.exit];
      assert.deepEqual([...codes].sort(), [0, 2], a.out() + b.out());
      const loser = codes[0] === 2 ? a : b;
      assert.match(loser.out(), /in use by pid \d+ \(dr failover --local --planned\)/);
      const promotions = fs.readFileSync(local.state.promotions_log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tier: string; region: string });
      assert.deepEqual(promotions.filter((p) => p.tier === 'database'), [{ ...promotions.find((p) => p.tier === 'database'), tier: 'database', region: 'b' }], 'one promotion of the database');
      assert.equal(readDnsFile(local.state.dns_file).records.database, 'b');
    });

    it('the next planned failover says b already serves and that the next step is dr failback (not "split brain")', async () => {
      const r = await dr(['failover', '--local', '--dir', local.dir, '--planned', '--yes']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /b already serves: the database in a is the fenced old primary of an earlier failover.*run 'dr failback'/);
      assert.doesNotMatch(r.stderr, /split brain/);
    });

    it('every file holding a credential is 0600, also the configs Redis rewrote during the failover', () => {
      const files = credentialFiles(local.state);
      assert.ok(files.some((f) => f.endsWith(path.join('b', 'redis', 'redis.conf'))) && files.some((f) => f.endsWith('secrets.json')), files.join(', '));
      for (const f of files) assert.equal((fs.statSync(f).mode & 0o777).toString(8), '600', f);
    });

    it('`dr status --local` exits 1 and says which service is down when Redis dies', async () => {
      await killRegion(local.state, 'b', { database: false, cache: true });
      const r = await dr(['status', '--local', '--dir', local.dir]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /PROBLEMS:[\s\S]*Redis in b is not running[\s\S]*'cache' points at b, where Redis does not serve as the primary/);
      const j = await dr(['status', '--local', '--dir', local.dir, '--json']);
      assert.equal(j.code, 1);
      assert.equal(j.json().ok, false);
      assert.ok(j.json().problems.includes('Redis in b is not running'));
    });
  });

  describe('--unplanned while the old primary still answers', () => {
    const local = useUpEnvironment(root, 'lagging');

    it('fences it, catches up within the bound and promotes: nothing acknowledged is lost, and it says so loudly', async () => {
      // The standby falls behind: the walsender is stopped while 40 writes are acknowledged on a.
      const stall = await stallReplication(local.state, 'a', 'b', 'sender');
      const ids: string[] = [];
      const c = new Client({ connectionString: local.env.appUrl('a') });
      await c.connect();
      try {
        for (let i = 0; i < 40; i++) {
          const id = `lag-${i}`;
          await c.query('INSERT INTO dr_probe (region, at) VALUES ($1, now())', [id]);
          ids.push(id);
        }
      } finally {
        await c.end();
      }
      // The link recovers a second into the failover (before the catch-up's 10 s bound).
      const release = setTimeout(() => void stall.release(), 1000);
      try {
        const r = await dr(['failover', '--local', '--dir', local.dir, '--unplanned', '--incident', 'database', '--yes', '--json']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /WARNING: the primary database in a still answers/);
        const out = r.json();
        assert.equal(out.steps.find((s: { name: string }) => s.name === 'catch-up').status, 'ok');
        assert.match(out.estimated_data_loss.basis, /caught up/);
        assert.equal(out.estimated_data_loss.lag_bytes, 0);
      } finally {
        clearTimeout(release);
        await stall.release();
      }
      const rows = await local.env.superQuery<{ region: string }>('b', 'SELECT region FROM dr_probe WHERE region LIKE $1', ['lag-%'], local.state.app.database);
      assert.deepEqual(rows.map((x) => x.region).sort(), [...ids].sort(), 'every acknowledged write is on the promoted b');
    });
  });

  describe('Ctrl-C', () => {
    it('early in a drill: one "interrupted", exit 130, no report, nothing left running', async () => {
      const dir = path.join(root.dir, 'sigint');
      const reports = path.join(root.dir, 'reports-sigint');
      const d = spawnDr(['drill', '--local', '--dir', dir, '--duration', '20', '--reports-dir', reports]);
      await waitFor('env-up to start', () => d.out().includes('[..] env-up'));
      d.child.kill('SIGINT');
      assert.equal(await d.exit, 130, d.out());
      assert.equal(d.out().match(/interrupted/g)?.length, 1, d.out());
      assert.match(d.out(), /dr drill: interrupted; the environment it started is stopped and removed/);
      assert.doesNotMatch(d.out(), /FATAL|terminated by signal|\[!!\]/);
      assert.equal(fs.existsSync(reports), false, 'an interrupted drill writes no report');
      assert.deepEqual(processesUnder(dir), []);
      assert.equal(fs.existsSync(dir), false);
      assert.equal(fs.existsSync(`${dir}.lock`), false);
    });

    it('twice (force): exit 130 with the exact `dr local down --dir …` to run', async () => {
      const dir = path.join(root.dir, 'force');
      const d = spawnDr(['local', 'up', '--dir', dir]);
      await waitFor('the lock', () => fs.existsSync(`${dir}.lock`));
      d.child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 100));
      d.child.kill('SIGINT');
      assert.equal(await d.exit, 130, d.out());
      assert.match(d.out(), new RegExp(`forced to stop; processes it started may still run: dr local down --dir ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
      await down(dir);
      assert.deepEqual(processesUnder(dir), []);
    });
  });

  it('a `--local` backup, list and restore need no URL, bucket or credential', async () => {
    const dir = path.join(root.dir, 'backups');
    await up(dir);
    const b = await dr(['backup', 'postgres', '--local', '--dir', dir, '--json']);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.json().bucket, 'bot-dr-a');
    const l = await dr(['backups', 'list', '--local', '--dir', dir, '--json']);
    assert.equal(l.code, 0, l.stderr);
    assert.ok(JSON.stringify(l.json()).includes(b.json().manifest.key));
    const r = await dr(['restore', 'postgres', '--local', '--dir', dir, '--target-db', 'restored', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.json().tables.length >= 4);
    const noDb = await dr(['restore', 'postgres', '--local', '--dir', dir]);
    assert.equal(noDb.code, 2);
    assert.match(noDb.stderr, /pass --target-db NAME/);
    await down(dir);
  });

  it('a `--local` selective restore (--table) targets the serving primary\'s application database, no URL needed', async () => {
    const dir = path.join(root.dir, 'selective');
    const env = new LocalEnv(await up(dir));
    try {
      await env.superQuery('a', "INSERT INTO users SELECT gen_random_uuid(), g, 'u' || g, 'a' FROM generate_series(1, 20) g", [], 'bot');
      const b = await dr(['backup', 'postgres', '--local', '--dir', dir, '--json']);
      assert.equal(b.code, 0, b.stderr);
      await env.superQuery('a', 'DELETE FROM users', [], 'bot');
      const r = await dr(['restore', 'postgres', '--local', '--dir', dir, '--table', 'public.users', '--yes', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const out = r.json();
      assert.equal(out.tables[0].rows_before, 0);
      assert.ok(out.tables[0].rows_after >= 20);
      assert.match(out.safety_backup.key, /^safety\/postgresql\//);
      assert.equal((await env.superQuery<{ n: string }>('a', 'SELECT count(*)::text AS n FROM users', [], 'bot'))[0].n, String(out.tables[0].rows_after));
    } finally {
      await down(dir);
    }
  });
});
