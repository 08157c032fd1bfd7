/**
 * TokenFileStore: a hand-written file is accepted, writes are compare-and-set (exactly one of many concurrent
 * writers wins, in one process and across processes), retried writes are idempotent, the file stays 0600, and
 * stale locks of dead processes are taken over while live ones are waited for.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TokenFileStore } from '../../../automation/adapters/tools/token-file-store';
import { processStart } from '../../../automation/adapters/tools/file-lock';
import { TokenNoticeLog } from '../../../automation/adapters/tools/token-notice-log';
import type { TokenNotice } from '../../../automation/tokens';
import { NotFoundError, OperationError } from '../../../automation/core/errors';
import { telegramToken, discordToken } from '../../helpers/token-fakes';

const T = [telegramToken('file-a'), telegramToken('file-b'), telegramToken('file-c')];
const D = [discordToken('file-d')];

describe('adapters/tools: TokenFileStore', () => {
  let dir: string;
  let file: string;
  const store = (o: Partial<ConstructorParameters<typeof TokenFileStore>[0]> = {}) => new TokenFileStore({ file, ...o });
  const handWritten = () => fs.writeFileSync(file, JSON.stringify({ bots: { community: { platform: 'telegram', active: 0, tokens: T }, mod: { platform: 'discord', active: 0, tokens: D, note: 'kept' } }, comment: 'hand-written' }), { mode: 0o644 });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-token-file-'));
    file = path.join(dir, 'tokens.json');
    handWritten();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a hand-written file with only platform/active/tokens (version counter 0)', async () => {
    const r = await store().read('community');
    assert.deepEqual(r.record, { active: 0, tokens: T, platform: 'telegram' });
    assert.match(r.version, /^0-[0-9a-f]{12}$/);
    assert.equal(await store().currentVersion('community'), r.version);
    await assert.rejects(store().read('nobody'), NotFoundError);
    await assert.rejects(new TokenFileStore({ file: path.join(dir, 'none.json') }).read('community'), NotFoundError);
  });

  it('lists the bots in file order; a missing file is NotFoundError', async () => {
    assert.deepEqual(await store().bots(), ['community', 'mod']);
    await assert.rejects(new TokenFileStore({ file: path.join(dir, 'none.json') }).bots(), NotFoundError);
  });

  it('TokenNoticeLog appends one JSON line per notice, mode 0600 (narrowed again if widened)', async () => {
    const log = new TokenNoticeLog(path.join(dir, 'notices.log'));
    const n: TokenNotice = { kind: 'pin', bot: 'community', platform: 'telegram', id: 'x'.repeat(40), from: 0, to: 1, reason: 'manual', by: 'operator:alice', at: '2026-11-22T10:00:00.000Z', message: 'community (telegram): token 1 pinned' };
    await log.notify(n);
    fs.chmodSync(log.file, 0o644);
    await log.notify({ ...n, kind: 'unpin' });
    assert.deepEqual(fs.readFileSync(log.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)), [n, { ...n, kind: 'unpin' }]);
    assert.equal(fs.statSync(log.file).mode & 0o777, 0o600);
    await assert.rejects(new TokenNoticeLog(path.join(dir, 'no-such-dir', 'x.log')).notify(n), /ENOENT/);
  });

  it('compare-and-set: writes a new version (mode 0600, other bots and keys kept), refuses a stale version', async () => {
    const s = store();
    const r = await s.read('community');
    const w = await s.write('community', { ...r.record, active: 2 }, { expectVersion: r.version, requestId: 'req-1' });
    assert.equal(w.outcome, 'written');
    assert.ok(w.outcome === 'written' && w.version.startsWith('1-'));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(raw.comment, 'hand-written');
    assert.deepEqual(raw.bots.mod, { platform: 'discord', active: 0, tokens: D, note: 'kept' });
    assert.deepEqual([raw.bots.community.active, raw.bots.community.version, raw.bots.community.request_id], [2, 1, 'req-1']);
    assert.equal((await s.read('community')).record.active, 2);
    const stale = await s.write('community', { ...r.record, active: 1 }, { expectVersion: r.version, requestId: 'req-2' });
    assert.equal(stale.outcome, 'conflict');
    assert.equal((await s.read('community')).record.active, 2, 'the stale write changed nothing');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['tokens.json'], 'no temp or lock file left behind');
  });

  it('a retried write (same request id, same record) is idempotent; same id with another record conflicts', async () => {
    const s = store();
    const r = await s.read('community');
    const rec = { ...r.record, active: 1 };
    const first = await s.write('community', rec, { expectVersion: r.version, requestId: 'decision-x' });
    const again = await s.write('community', rec, { expectVersion: r.version, requestId: 'decision-x' });
    assert.equal(again.outcome, 'written');
    assert.ok(first.outcome === 'written' && again.outcome === 'written' && again.version === first.version, 'no second version');
    const other = await s.write('community', { ...r.record, active: 2 }, { expectVersion: r.version, requestId: 'decision-x' });
    assert.equal(other.outcome, 'conflict');
  });

  it('a hand edit between read and write is a conflict (the version covers the content)', async () => {
    const s = store();
    const r = await s.read('community');
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    raw.bots.community.tokens = [...T].reverse();
    fs.writeFileSync(file, JSON.stringify(raw));
    assert.equal((await s.write('community', { ...r.record, active: 1 }, { expectVersion: r.version, requestId: 'r' })).outcome, 'conflict');
  });

  it('ten concurrent compare-and-set writers in one process: exactly one wins', async () => {
    const r = await store().read('community');
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => store().write('community', { ...r.record, active: i % 3 }, { expectVersion: r.version, requestId: `w${i}` })));
    assert.equal(outcomes.filter((o) => o.outcome === 'written').length, 1);
    assert.equal(outcomes.filter((o) => o.outcome === 'conflict').length, 9);
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(raw.bots.community.version, 1);
  });

  it('four writer processes: exactly one wins', async function () {
    this.timeout(60_000);
    const r = await store().read('community');
    const start = path.join(dir, 'go');
    const script = path.join(__dirname, '..', '..', 'helpers', 'token-file-writer.ts');
    const env = { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' };
    const procs = Array.from({ length: 4 }, (_, i) => {
      const child = spawn(process.execPath, ['-r', 'ts-node/register', script, file, 'community', r.version, `p${i}`, String(i % 3), start], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const ready = new Promise<void>((resolve) => {
        const check = () => (out.includes('ready') ? resolve() : setTimeout(check, 10));
        check();
      });
      const done = new Promise<string>((resolve) => child.on('close', () => resolve(out)));
      return { ready, done };
    });
    await Promise.all(procs.map((p) => p.ready));
    fs.writeFileSync(start, '');
    const outs = (await Promise.all(procs.map((p) => p.done))).map((o) => JSON.parse(o.trim().split('\n').at(-1) ?? '{}') as { outcome?: string; error?: string });
    assert.deepEqual(outs.filter((o) => o.error), []);
    assert.equal(outs.filter((o) => o.outcome === 'written').length, 1, JSON.stringify(outs));
    assert.equal(outs.filter((o) => o.outcome === 'conflict').length, 3);
  });

  it('the lock is the project file lock: a dead holder is taken over; a live one (here, or on another host) is waited for, then reported', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    assert.ok(deadPid > 0);
    const holder = (pid: number, host: string, token: string) => JSON.stringify({ pid, command: 'dr tokens check', started_at: new Date().toISOString(), host, ...(pid === process.pid ? { proc_start: processStart(pid) } : {}), token });
    fs.writeFileSync(`${file}.lock`, holder(deadPid, os.hostname(), 'dead'));
    const r = await store().read('community');
    const w = await store().write('community', { ...r.record, active: 1 }, { expectVersion: r.version, requestId: 'after-dead' });
    assert.equal(w.outcome, 'written');
    assert.ok(!fs.existsSync(`${file}.lock`), 'our lock removed after the write');
    // A live holder (this very process): wait, then give up with the holder named.
    fs.writeFileSync(`${file}.lock`, holder(process.pid, os.hostname(), 'live'));
    const r2 = await store().read('community');
    const t0 = Date.now();
    await assert.rejects(store({ lockTimeoutMs: 150 }).write('community', r2.record, { expectVersion: r2.version, requestId: 'blocked' }), (e: unknown) => e instanceof OperationError && /locked by pid \d+ \(dr tokens check\)/.test(e.message));
    assert.ok(Date.now() - t0 >= 140);
    // Another host's lock cannot be judged from here: never taken over, reported.
    fs.writeFileSync(`${file}.lock`, holder(1, 'elsewhere', 'other'));
    await assert.rejects(store({ lockTimeoutMs: 100 }).write('community', r2.record, { expectVersion: r2.version, requestId: 'other-host' }), (e: unknown) => e instanceof OperationError && /on elsewhere/.test(e.message));
    fs.rmSync(`${file}.lock`);
    assert.equal((await store().write('community', { ...r2.record, active: 2 }, { expectVersion: r2.version, requestId: 'after' })).outcome, 'written');
  });

  it('a malformed file or record is an error that names the place, never a token', async () => {
    fs.writeFileSync(file, JSON.stringify({ bots: { community: { platform: 'telegram', active: 5, tokens: T } } }));
    await assert.rejects(store().read('community'), (e: unknown) => e instanceof OperationError && /bot community\.active/.test(e.message) && !T.some((t) => e.message.includes(t)));
    fs.writeFileSync(file, `{"bots": {"community": {"tokens": ["${T[0]}"]`);
    await assert.rejects(store().read('community'), (e: unknown) => e instanceof OperationError && !e.message.includes(T[0]));
  });
});
