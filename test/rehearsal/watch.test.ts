/**
 * `dr watch --local` standalone, on a real local environment: alert only without --auto-failover (no promotion,
 * the incident alert recorded), failover with it, and the split-brain guard fencing the returning old primary.
 * Every watch run is bounded (aborted through its signal, or after a hard limit) and the environment is torn down.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { localPorts } from '../../automation/adapters/rehearsal/index';
import { readDnsFile } from '../../automation/adapters/rehearsal/local-dns';
import { runCli } from '../../automation/cli/run';
import { killRegion, restartRegion } from '../../automation/rehearsal/environment';
import { appWrite, useLocalRoot, useUpEnvironment } from '../helpers/local-env';

interface Watch {
  stderr(): string;
  /** Resolve once stderr matches `re` (rejects after `ms`). */
  waitFor(re: RegExp, ms: number): Promise<void>;
  /** Abort the watch (Ctrl-C) and return its exit code and output. */
  stop(): Promise<{ code: number; stdout: string; stderr: string }>;
}

const HARD_LIMIT_MS = 60_000;

function startWatch(args: string[]): Watch {
  let stdout = '';
  let stderr = '';
  const ac = new AbortController();
  const hard = setTimeout(() => ac.abort(), HARD_LIMIT_MS);
  const done = runCli(['watch', '--local', ...args, '--json'], {
    env: {},
    cwd: process.cwd(),
    signal: ac.signal,
    io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTTY: false, confirm: async () => false },
  }).finally(() => clearTimeout(hard));
  return {
    stderr: () => stderr,
    async waitFor(re, ms) {
      const deadline = Date.now() + ms;
      while (!re.test(stderr)) {
        if (Date.now() > deadline) throw new Error(`watch output never matched ${re}:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      ac.abort();
      const code = await done;
      return { code, stdout, stderr };
    },
  };
}

function lines(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('dr watch --local @integration', function () {
  this.timeout(120_000);
  const root = useLocalRoot('dr-watch-');
  const local = useUpEnvironment(root);
  let watch: Watch | undefined;
  const outputs: string[] = [];

  afterEach(async () => {
    // A failed assertion must not leave a monitor running.
    if (watch) await watch.stop().catch(() => undefined);
    watch = undefined;
  });

  it('without --auto-failover it only alerts: incident recorded, nothing promoted, DNS unchanged', async () => {
    watch = startWatch(['--dir', local.dir, '--interval', '0.2', '--threshold', '2']);
    await watch.waitFor(/watching .* alert only/, 10_000);
    await killRegion(local.state, 'a', { database: true, cache: false });
    await watch.waitFor(/INCIDENT database: a is down; run 'dr failover --local --unplanned --incident database --yes'/, 20_000);
    // Several more check cycles: still nothing acts.
    await new Promise((r) => setTimeout(r, 1500));
    const res = await watch.stop();
    watch = undefined;
    outputs.push(res.stdout, res.stderr);
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as { ok: boolean; events: Array<{ kind: string; incident?: string; auto_failover?: boolean; alerted?: boolean }>; failover?: unknown; incident?: { incident: string } };
    assert.equal(out.ok, true);
    assert.equal(out.incident?.incident, 'database');
    assert.equal(out.failover, undefined, 'no failover without --auto-failover');
    assert.equal(out.events.filter((e) => e.kind === 'failover').length, 0);
    const incidents = out.events.filter((e) => e.kind === 'incident');
    assert.equal(incidents.length, 1, 'one alert per incident, not one per check');
    assert.deepEqual([incidents[0].incident, incidents[0].auto_failover, incidents[0].alerted], ['database', false, true]);

    const ports = localPorts(local.state);
    assert.equal(await ports.database.role('b'), 'standby', 'b was not promoted');
    assert.equal(await ports.cache.role('b'), 'standby');
    assert.equal(fs.existsSync(local.state.promotions_log) ? fs.readFileSync(local.state.promotions_log, 'utf8').trim() : '', '', 'no promotion at all');
    assert.deepEqual(readDnsFile(local.state.dns_file).records, { platform: 'a', database: 'a', cache: 'a' });
    const notes = lines(local.state.notifications_log);
    assert.equal(notes.length, 1, JSON.stringify(notes));
    assert.equal(notes[0].kind, 'incident');
    assert.equal(notes[0].incident, 'database');
    assert.equal(notes[0].auto_failover, false);
    assert.match(String(notes[0].message), /NOT failing over/);

    // The region recovers by itself: back to normal.
    await restartRegion(local.state, 'a', { database: true, cache: false });
    assert.equal(await ports.database.role('a'), 'primary');
  });

  it('with --auto-failover it fails over, then fences the old primary when it comes back (split-brain guard)', async () => {
    const ports = localPorts(local.state);
    watch = startWatch(['--dir', local.dir, '--interval', '0.2', '--threshold', '2', '--auto-failover']);
    await watch.waitFor(/auto-failover ON/, 10_000);
    await killRegion(local.state, 'a', { database: true, cache: true });
    await watch.waitFor(/failover \S+ completed/, 60_000);
    assert.equal(await ports.database.role('b'), 'primary');
    assert.equal(await ports.cache.role('b'), 'primary');
    assert.deepEqual(readDnsFile(local.state.dns_file).records, { platform: 'b', database: 'b', cache: 'b' });
    const promotions = lines(local.state.promotions_log).map((p) => `${String(p.tier)}:${String(p.region)}`).sort();
    assert.deepEqual(promotions, ['cache:b', 'database:b'], 'exactly one promotion per tier');
    assert.equal(await appWrite(local.env, 'b'), true, 'the new primary takes application writes');

    // Region a comes back from the crash as it was on disk: an unfenced primary. The running watch fences it.
    await restartRegion(local.state, 'a', { database: true, cache: true });
    await watch.waitFor(/split-brain guard: database in a fenced/, 20_000);
    await watch.waitFor(/split-brain guard: cache in a fenced/, 20_000);
    const res = await watch.stop();
    watch = undefined;
    outputs.push(res.stdout, res.stderr);
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as { events: Array<{ kind: string; auto_failover?: boolean; result?: { outcome: string }; action?: { tier: string; region: string; outcome: string } }> };
    assert.equal(out.events.find((e) => e.kind === 'incident')?.auto_failover, true);
    assert.equal(out.events.find((e) => e.kind === 'failover')?.result?.outcome, 'completed');
    const fenced = out.events.filter((e) => e.kind === 'guard' && e.action?.outcome === 'fenced').map((e) => `${e.action?.tier}:${e.action?.region}`).sort();
    assert.deepEqual(fenced, ['cache:a', 'database:a']);

    assert.equal(await ports.database.isFenced('a'), true);
    assert.equal(await ports.cache.isFenced!('a'), true);
    assert.match(String(await appWrite(local.env, 'a')), /pg_hba\.conf rejects|rejects connection/, 'the old primary refuses the application');
    assert.equal(await ports.database.role('b'), 'primary', 'b still the only writable primary');
    const notes = lines(local.state.notifications_log).map((n) => String(n.kind));
    assert.deepEqual(notes.slice(1), ['incident', 'started', 'finished'], JSON.stringify(notes));
  });

  it('no password appears in state.json, the watch output, the notifications log or the journal', () => {
    const secrets = Object.values(local.state.secrets);
    assert.equal(secrets.length, 4, "pg superuser, app, redis and the platform control key");
    assert.ok(secrets.every((s) => s.length >= 16));
    const secretsFile = path.join(local.dir, 'secrets.json');
    assert.equal(fs.statSync(secretsFile).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(local.dir, 'state.json')).mode & 0o777, 0o600);
    const journal = fs.readdirSync(local.state.journal_dir).map((f) => fs.readFileSync(path.join(local.state.journal_dir, f), 'utf8'));
    assert.ok(journal.length > 0);
    const texts: Array<[string, string]> = [
      ['state.json', fs.readFileSync(path.join(local.dir, 'state.json'), 'utf8')],
      ['notifications.log', fs.readFileSync(local.state.notifications_log, 'utf8')],
      ['replication sample', fs.existsSync(local.state.replication_sample_file) ? fs.readFileSync(local.state.replication_sample_file, 'utf8') : ''],
      ['standby postgresql.auto.conf', fs.readFileSync(path.join(local.state.regions.b.postgres.dir, 'data', 'postgresql.auto.conf'), 'utf8')],
      ...journal.map((t, i): [string, string] => [`journal ${i}`, t]),
      ...outputs.map((t, i): [string, string] => [`watch output ${i}`, t]),
    ];
    assert.equal(outputs.length, 4);
    for (const [name, text] of texts) for (const s of secrets) assert.ok(!text.includes(s), `${name} contains a password`);
    // Positive control: the credentials file does hold them (so the check above looks for the right strings).
    const held = fs.readFileSync(secretsFile, 'utf8');
    assert.ok(secrets.every((s) => held.includes(s)));
  });
});
