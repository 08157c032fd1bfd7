/**
 * The exclusive file lock of the local environment: one holder, named in the refusal; a dead holder's lock taken
 * over and reported; a reused pid (same number, another process) is dead; release only removes our own lock.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireLock, describeTakeover, holderAlive, LockHeldError, processStart } from '../../../automation/adapters/tools/file-lock';
import { RefusedError } from '../../../automation/core/errors';

describe('adapters/tools: the exclusive file lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-lock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('one holder at a time; the refusal names it (pid, command, since) and is exit 2; released, it can be taken again', () => {
    const file = path.join(dir, 'env.lock');
    const a = acquireLock(file, { pid: process.pid, command: 'dr drill --local', what: 'the local environment in /x' });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.throws(
      () => acquireLock(file, { pid: process.pid, command: 'dr failover --local', what: 'the local environment in /x' }),
      (e: unknown) => e instanceof LockHeldError && e instanceof RefusedError && e.exitCode === 2 && new RegExp(`the local environment in /x is in use by pid ${process.pid} \\(dr drill --local\\) on .*, since \\d{4}-\\d\\d-\\d\\dT.* \\(\\d+ s\\)`).test(e.message),
    );
    a.release();
    assert.equal(fs.existsSync(file), false);
    const b = acquireLock(file, { pid: process.pid, command: 'dr failover --local', what: 'x' });
    assert.equal(b.tookOverFrom, undefined);
    b.release();
  });

  it('takes over the lock of a process that is gone, and says whose it was', () => {
    const file = path.join(dir, 'env.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    fs.writeFileSync(file, JSON.stringify({ pid: deadPid, command: 'dr drill --local', started_at: '2026-12-01T10:00:00.000Z', host: os.hostname(), token: 'old' }));
    const l = acquireLock(file, { pid: process.pid, command: 'dr local up', what: 'x' });
    assert.equal(l.tookOverFrom?.pid, deadPid);
    assert.match(describeTakeover(l.tookOverFrom!), new RegExp(`took over the lock of dr drill --local \\(pid ${deadPid}, started 2026-12-01T10:00:00.000Z\\), which is no longer running`));
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).command, 'dr local up');
    assert.deepEqual(fs.readdirSync(dir), ['env.lock'], 'the dead lock moved aside is gone');
    l.release();
  });

  it('a live pid with another start time is a reused pid: the recorded holder is dead', () => {
    const start = processStart(process.pid);
    assert.ok(start, 'reads /proc/<pid>/stat');
    const base = { pid: process.pid, command: 'x', started_at: new Date().toISOString(), host: os.hostname(), token: 't' };
    assert.equal(holderAlive({ ...base, proc_start: start }), true);
    assert.equal(holderAlive({ ...base, proc_start: '1' }), false);
    assert.equal(holderAlive({ ...base, host: 'another-machine', pid: 999_999_999 }), true, 'never judged dead from another host');
  });

  it('release removes only our own lock (not one that replaced it)', () => {
    const file = path.join(dir, 'env.lock');
    const l = acquireLock(file, { pid: process.pid, command: 'a', what: 'x' });
    fs.writeFileSync(file, JSON.stringify({ pid: process.pid, command: 'b', started_at: new Date().toISOString(), host: os.hostname(), token: 'someone-else' }));
    l.release();
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).command, 'b');
  });

  it('four processes racing for one lock at the same moment: exactly one gets it', async () => {
    const file = path.join(dir, 'env.lock');
    const go = path.join(dir, 'go');
    // Each racer says "ready", waits for the start flag, then tries once; the winner holds the lock for a second.
    const script = `
      const fs = require('node:fs');
      const { acquireLock } = require(${JSON.stringify(path.resolve(__dirname, '../../../automation/adapters/tools/file-lock.ts'))});
      process.stdout.write('ready\\n');
      const wait = setInterval(() => {
        if (!fs.existsSync(${JSON.stringify(go)})) return;
        clearInterval(wait);
        try { const l = acquireLock(${JSON.stringify(file)}, { pid: process.pid, command: 'racer', what: 'x' }); setTimeout(() => { l.release(); process.stdout.write('got'); }, 1000); }
        catch (e) { process.stdout.write(e.name); }
      }, 2);`;
    const racers = [0, 1, 2, 3].map(() => {
      const c = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const ready = new Promise<void>((resolve) => c.stdout.on('data', (d) => ((out += d), out.includes('ready') && resolve())));
      const done = new Promise<string>((resolve) => c.on('close', () => resolve(out.replace('ready\n', ''))));
      return { ready, done };
    });
    await Promise.all(racers.map((r) => r.ready));
    fs.writeFileSync(go, '');
    const results = (await Promise.all(racers.map((r) => r.done))).sort();
    assert.deepEqual(results, ['LockHeldError', 'LockHeldError', 'LockHeldError', 'got']);
  });
});
