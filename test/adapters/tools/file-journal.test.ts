import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileJournal, parseJournalText } from '../../../automation/adapters/tools/file-journal';
import { UsageError } from '../../../automation/core/errors';
import { findResumable, JournalEntry, runFailover, summarize } from '../../../automation/failover';
import { CrashError, FakeWorld, fakePorts, fakeTopology } from '../../helpers/failover-fakes';

const begin = (id: string, at: string): JournalEntry => ({ kind: 'begin', id, at, mode: 'planned', incident: 'datacenter', from: 'a', to: 'b', runs: ['preflight'] });
const step = (id: string, at: string, phase: 'started' | 'done'): JournalEntry => ({ kind: 'step', id, at, step: 'preflight', phase });
const end = (id: string, at: string): JournalEntry => ({ kind: 'end', id, at, outcome: 'completed' });

describe('local file journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dr-journal-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('appends durably, reads back in order, and leaves no temp files behind', async () => {
    const j = new FileJournal(path.join(dir, 'journal'));
    await j.append(begin('fo-1', '2025-01-01T00:00:00.000Z'));
    await Promise.all([j.append(step('fo-1', '2025-01-01T00:00:01.000Z', 'started')), j.append(step('fo-1', '2025-01-01T00:00:02.000Z', 'done'))]);
    const r = await new FileJournal(path.join(dir, 'journal')).read('fo-1');
    assert.deepEqual(r.damage, []);
    assert.deepEqual(r.entries.map((e) => (e.kind === 'step' ? `step:${e.phase}` : e.kind)), ['begin', 'step:started', 'step:done']);
    assert.deepEqual(await fs.readdir(path.join(dir, 'journal')), ['fo-1.jsonl']);
    const stat = await fs.stat(path.join(dir, 'journal', 'fo-1.jsonl'));
    assert.equal(stat.mode & 0o777, 0o600);
    const text = await fs.readFile(path.join(dir, 'journal', 'fo-1.jsonl'), 'utf8');
    for (const line of text.trimEnd().split('\n')) assert.ok(JSON.parse(line).sha, 'every line is checksummed JSON');
  });

  it('detects a torn last line (a write cut short) and drops only that entry', async () => {
    const j = new FileJournal(dir);
    await j.append(begin('fo-1', '2025-01-01T00:00:00.000Z'));
    await j.append(step('fo-1', '2025-01-01T00:00:01.000Z', 'started'));
    await j.append(step('fo-1', '2025-01-01T00:00:02.000Z', 'done'));
    const file = path.join(dir, 'fo-1.jsonl');
    const full = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, full.slice(0, full.length - 20));
    const r = await j.read('fo-1');
    assert.equal(r.entries.length, 2);
    assert.equal(r.damage.length, 1);
    assert.match(r.damage[0], /torn last line 3/);

    // the next append keeps a copy of the damaged file and rewrites a clean one
    await j.append(step('fo-1', '2025-01-01T00:00:03.000Z', 'done'));
    const names = await fs.readdir(dir);
    assert.ok(names.some((n) => n.startsWith('fo-1.jsonl.damaged-')), names.join(','));
    const again = await j.read('fo-1');
    assert.deepEqual(again.damage, []);
    assert.equal(again.entries.length, 3);
  });

  it('never trusts entries after a corrupt line, and flags a partial or empty file', () => {
    const good = (seq: number, e: JournalEntry) => JSON.stringify({ seq, sha: '', entry: e });
    // wrong checksums are corrupt lines
    const p = parseJournalText('fo-1', good(1, begin('fo-1', 'x')) + '\n');
    assert.equal(p.lines.length, 0);
    assert.match(p.damage[0], /line 1 is corrupt/);
    assert.match(parseJournalText('fo-1', '').damage[0], /empty journal file/);
    assert.match(parseJournalText('fo-1', '{"seq":1,"sha":"ab').damage[0], /torn last line 1/);
  });

  it('rejects ids that are not safe file names', async () => {
    const j = new FileJournal(dir);
    await assert.rejects(j.append(begin('../evil', 'x')), (e: unknown) => e instanceof UsageError && /not allowed/.test(e.message));
  });

  it('lists failovers by start time and resume picks the latest unfinished one', async () => {
    const j = new FileJournal(dir);
    await j.append(begin('zz-old', '2025-01-01T00:00:00.000Z'));
    await j.append(begin('aa-new', '2025-01-03T00:00:00.000Z'));
    await j.append(begin('mm-done', '2025-01-04T00:00:00.000Z'));
    await j.append(end('mm-done', '2025-01-04T00:01:00.000Z'));
    await fs.writeFile(path.join(dir, '.aa-new.jsonl.tmp-1-abcd'), 'half a write'); // left by a crash before rename
    assert.deepEqual(await j.list(), ['zz-old', 'aa-new', 'mm-done']);
    assert.equal((await findResumable(j))?.id, 'aa-new');
  });

  it('carries an engine crash across processes: a new journal instance resumes and converges', async () => {
    const world = new FakeWorld();
    world.crash = { op: 'database.promote', when: 'after' };
    const ports = () => ({ ...fakePorts(world), journal: new FileJournal(dir) });
    const req = { topology: fakeTopology(), mode: 'planned' as const, incident: 'datacenter' as const, from: 'a', to: 'b', confirm: true };
    await assert.rejects(runFailover({ ...req, ports: ports(), id: 'fo-file' }), CrashError);
    world.recover();

    // tear the last journal line too, as if the crash hit a non-atomic copy of the file
    const file = path.join(dir, 'fo-file.jsonl');
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.slice(0, text.length - 7));

    const res = await runFailover({ ports: ports(), topology: req.topology, resume: true, confirm: true });
    assert.equal(res.id, 'fo-file');
    assert.equal(res.outcome, 'completed');
    assert.equal(res.journal_damage.length, 1);
    assert.equal(world.actCount('database.promote'), 1);
    assert.equal(res.steps.find((s) => s.name === 'promote-database')!.status, 'done-before');
    const s = summarize('fo-file', (await new FileJournal(dir).read('fo-file')).entries);
    assert.equal(s.end?.outcome, 'completed');
  });
});
