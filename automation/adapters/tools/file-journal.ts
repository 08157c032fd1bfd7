/**
 * The failover journal on local disk: one JSON-lines file per failover id under a directory
 * (`<dir>/<id>.jsonl`). Each line is `{"seq":n,"sha":"…","entry":{…}}`, where `sha` is the first 16 hex digits
 * of the SHA-256 of the entry's JSON, so a torn or partly written line can never pass as an entry.
 *
 * Every append rewrites the file atomically: write a temp file in the same directory, fsync it, rename it over
 * the journal, fsync the directory. A reader therefore sees the old or the new file, never a half-written one.
 * Damage that still happens (a copy cut short, a disk filling up under another tool) is detected on read: the
 * damaged line and everything after it are dropped and reported in {@link JournalRead.damage}; the next append
 * keeps a copy of the damaged file (`<id>.jsonl.damaged-<time>`) before rewriting it.
 */

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../core/errors';
import type { JournalEntry, JournalPort, JournalRead } from '../../failover/index';
import { replaceFile } from './atomic-file';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const SUFFIX = '.jsonl';

interface Line {
  seq: number;
  sha: string;
  entry: JournalEntry;
}

function digest(entry: JournalEntry): string {
  return createHash('sha256').update(JSON.stringify(entry)).digest('hex').slice(0, 16);
}

interface Parsed {
  lines: Line[];
  damage: string[];
  /** First-entry time, for ordering. */
  firstAt?: string;
}

/** Parse a journal file's text. Pure; exported for tests and for tools that inspect a copied journal. */
export function parseJournalText(id: string, text: string): Parsed {
  const lines: Line[] = [];
  const damage: string[] = [];
  if (text.length === 0) return { lines, damage: [`${id}: empty journal file`] };
  const raw = text.split('\n');
  const endsClean = text.endsWith('\n');
  if (endsClean) raw.pop();
  for (let i = 0; i < raw.length; i++) {
    const lineNo = i + 1;
    const isLast = i === raw.length - 1;
    let parsed: Line | undefined;
    try {
      const v = JSON.parse(raw[i]) as Partial<Line>;
      if (typeof v.seq === 'number' && typeof v.sha === 'string' && v.entry && typeof v.entry === 'object' && digest(v.entry as JournalEntry) === v.sha && v.seq === lines.length + 1 && (v.entry as JournalEntry).id === id) {
        parsed = v as Line;
      }
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      const rest = raw.length - i;
      damage.push(
        isLast && !endsClean
          ? `${id}: torn last line ${lineNo} (a write was cut short): dropped`
          : `${id}: line ${lineNo} is corrupt: it and the ${rest - 1} line(s) after it are dropped`,
      );
      break;
    }
    if (isLast && !endsClean) {
      // A complete, checksummed entry without its newline: keep it, but note it.
      damage.push(`${id}: last line ${lineNo} has no trailing newline (kept: its checksum matches)`);
    }
    lines.push(parsed);
  }
  return { lines, damage, firstAt: lines[0]?.entry.at };
}

/** {@link JournalPort} over a local directory. Safe for one writer process; appends within it are serialised. */
export class FileJournal implements JournalPort {
  readonly location: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {
    this.location = path.resolve(dir);
  }

  private file(id: string): string {
    if (!ID.test(id)) throw new UsageError(`failover id '${id}' is not allowed in a journal file name: use letters, digits, '.', '_' or '-' (max 100)`);
    return path.join(this.location, id + SUFFIX);
  }

  private async load(id: string): Promise<Parsed & { exists: boolean }> {
    let text: string;
    try {
      text = await fs.readFile(this.file(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], damage: [], exists: false };
      throw err;
    }
    return { ...parseJournalText(id, text), exists: true };
  }

  append(entry: JournalEntry): Promise<void> {
    const run = this.queue.then(() => this.appendNow(entry));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async appendNow(entry: JournalEntry): Promise<void> {
    const target = this.file(entry.id);
    await fs.mkdir(this.location, { recursive: true, mode: 0o700 });
    const current = await this.load(entry.id);
    const hard = current.damage.filter((d) => !d.includes('(kept:'));
    if (current.exists && hard.length) {
      await fs.copyFile(target, `${target}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    }
    const lines = [...current.lines, { seq: current.lines.length + 1, sha: digest(entry), entry }];
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    await replaceFile(target, text, 0o600);
  }

  async read(id: string): Promise<JournalRead> {
    const p = await this.load(id);
    return { entries: p.lines.map((l) => l.entry), damage: p.damage };
  }

  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.location);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const ids = names.filter((n) => n.endsWith(SUFFIX) && !n.startsWith('.')).map((n) => n.slice(0, -SUFFIX.length)).filter((id) => ID.test(id));
    const withTime = await Promise.all(ids.map(async (id) => ({ id, at: (await this.load(id)).firstAt ?? '' })));
    withTime.sort((x, y) => (x.at === y.at ? x.id.localeCompare(y.id) : x.at.localeCompare(y.at)));
    return withTime.map((x) => x.id);
  }
}
