/**
 * TokenStore over one local JSON file, for the CLI without AWS and for the local rehearsal:
 *
 *   { "bots": { "<name>": { "active": 0, "tokens": ["…"], "platform": "telegram", "version": 3, "request_id": "…",
 *                           "pin": …, "health": […], "history": […] } } }
 *
 * A hand-written file with only `platform`/`active`/`tokens` per bot is accepted (its version counter is 0). A bot's
 * version tag is `<counter>-<digest>`, the digest covering the bot's whole entry, so a hand edit between a read and
 * a write is a conflict even though nobody bumped the counter, and the counter rules out an A→B→A lookalike.
 *
 * Writes are compare-and-set under an exclusive lock file (`<file>.lock`, the project's one file lock:
 * adapters/tools/file-lock.ts, naming its holder's pid, command, host and start): read the file, compare the
 * version, write. Two processes therefore never both switch. A lock whose holder is gone is taken over; a live one is
 * waited for (polling) up to `lockTimeoutMs`, then reported with its holder. The file is replaced atomically: temp file in the same directory (mode 0600), fsync,
 * rename, fsync of the directory. Other bots' entries and unknown top-level keys are written back unchanged.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { systemClock, type Clock } from '../../core/clock';
import { NotFoundError, OperationError } from '../../core/errors';
import { registerSecret } from '../../core/redact';
import { replaceFile } from './atomic-file';
import { acquireLock, LockHeldError, type HeldLock } from './file-lock';
import { parseTokenRecord, recordToJson, serializeTokenRecord, type ParsedTokenRecord, type StoredTokenRecord, type TokenRecord, type TokenStore, type WriteOptions, type WriteOutcome } from '../../tokens';

/** Options of {@link TokenFileStore}. */
export interface TokenFileStoreOptions {
  /** The JSON file. */
  file: string;
  /** Times the lock waits (default the system clock). */
  clock?: Clock;
  /** Give up waiting for the lock after this long (default 10 s). */
  lockTimeoutMs?: number;
  /** Lock polling interval (default 20 ms). */
  pollMs?: number;
}

interface FileShape {
  bots: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

interface Entry {
  record: ParsedTokenRecord;
  counter: number;
  requestId?: string;
  version: string;
}

function entryOf(bot: string, raw: Record<string, unknown>): Entry {
  const { version, request_id: requestId, ...rest } = raw;
  const counter = Number.isInteger(version) && (version as number) >= 0 ? (version as number) : 0;
  const record = parseTokenRecord(rest, `bot ${bot}`);
  const rid = typeof requestId === 'string' ? requestId : undefined;
  const digest = createHash('sha256').update(`${counter}\n${rid ?? ''}\n${serializeTokenRecord(record)}`).digest('hex').slice(0, 12);
  return { record, counter, requestId: rid, version: `${counter}-${digest}` };
}

/** Bots' token records in one local JSON file; see the module comment. */
export class TokenFileStore implements TokenStore {
  readonly location: string;
  private readonly lockFile: string;
  private readonly clock: Clock;
  private readonly lockTimeoutMs: number;
  private readonly pollMs: number;

  constructor(o: TokenFileStoreOptions) {
    this.location = path.resolve(o.file);
    this.lockFile = `${this.location}.lock`;
    this.clock = o.clock ?? systemClock;
    this.lockTimeoutMs = o.lockTimeoutMs ?? 10_000;
    this.pollMs = o.pollMs ?? 20;
  }

  private async load(): Promise<FileShape> {
    let text: string;
    try {
      text = await fs.readFile(this.location, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(this.location, { cause: err });
      throw err;
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new OperationError(`${this.location}: not valid JSON`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v) || !(v as FileShape).bots || typeof (v as FileShape).bots !== 'object' || Array.isArray((v as FileShape).bots)) {
      throw new OperationError(`${this.location}: must be { "bots": { "<name>": { "platform", "active", "tokens" } } }`);
    }
    const file = v as FileShape;
    for (const b of Object.values(file.bots)) {
      if (b && Array.isArray(b.tokens)) b.tokens.forEach((t) => typeof t === 'string' && registerSecret(t));
      if (b && typeof (b as { webhook_secret?: unknown }).webhook_secret === 'string') registerSecret((b as { webhook_secret: string }).webhook_secret);
    }
    return file;
  }

  private entry(file: FileShape, bot: string): Entry {
    const raw = Object.prototype.hasOwnProperty.call(file.bots, bot) ? file.bots[bot] : undefined;
    if (!raw || typeof raw !== 'object') throw new NotFoundError(`bot ${bot} in ${this.location}`);
    return entryOf(bot, raw);
  }

  /** The names of the bots in the file, in file order (reading registers every token for redaction). */
  async bots(): Promise<string[]> {
    return Object.keys((await this.load()).bots);
  }

  async read(bot: string, _opts?: { signal?: AbortSignal }): Promise<StoredTokenRecord> {
    const e = this.entry(await this.load(), bot);
    return { record: e.record, version: e.version };
  }

  async currentVersion(bot: string, _opts?: { signal?: AbortSignal }): Promise<string> {
    return this.entry(await this.load(), bot).version;
  }

  async write(bot: string, record: TokenRecord, opts: WriteOptions): Promise<WriteOutcome> {
    const next = parseTokenRecord(recordToJson(record), `bot ${bot}`);
    return this.withLock(opts.signal, async () => {
      const file = await this.load();
      const cur = this.entry(file, bot);
      if (cur.version !== opts.expectVersion) {
        if (cur.requestId === opts.requestId && serializeTokenRecord(cur.record) === serializeTokenRecord(next)) {
          return { outcome: 'written', version: cur.version, detail: 'already written by this request id' };
        }
        return { outcome: 'conflict', detail: `bot ${bot}: version ${opts.expectVersion} is no longer current (${cur.version} is)` };
      }
      file.bots[bot] = { ...recordToJson(next), version: cur.counter + 1, request_id: opts.requestId };
      await this.replace(JSON.stringify(file, null, 2) + '\n');
      return { outcome: 'written', version: entryOf(bot, file.bots[bot]).version };
    });
  }

  /** Replace the file atomically (temp + fsync + rename + directory fsync), mode 0600. */
  private async replace(text: string): Promise<void> {
    await replaceFile(this.location, text, 0o600);
  }

  private async withLock<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const deadline = this.clock.now().getTime() + this.lockTimeoutMs;
    let lock: HeldLock;
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      try {
        lock = acquireLock(this.lockFile, { pid: process.pid, command: 'token store write', what: `the token store ${this.location}`, now: () => this.clock.now() });
        break;
      } catch (err) {
        if (!(err instanceof LockHeldError)) throw err;
        if (this.clock.now().getTime() >= deadline) {
          const h = err.holder;
          throw new OperationError(`${this.location}: locked by pid ${h.pid} (${h.command}) on ${h.host} since ${h.started_at} for more than ${this.lockTimeoutMs} ms`);
        }
      }
      // Let the holder's file I/O run before polling again (taking the lock is synchronous, and an injected clock's
      // sleep may not wait at all).
      await new Promise<void>((resolve) => setImmediate(resolve));
      await this.clock.sleep(this.pollMs, signal);
    }
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }
}
