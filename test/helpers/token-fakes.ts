/**
 * Helpers for the token suites: realistic planted tokens, clocks (one that steps on every read, one the test
 * advances by hand with sleeps that wait for it), an in-memory TokenStore with the stores' compare-and-set
 * semantics, and a notifier that keeps what it was told.
 */
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import type { Clock } from '../../automation/core/clock';
import { registerSecret } from '../../automation/core/redact';
import {
  parseTokenRecord,
  serializeTokenRecord,
  type StoredTokenRecord,
  type TokenNotice,
  type TokenNotifier,
  type TokenRecord,
  type TokenStore,
  type WriteOptions,
  type WriteOutcome,
} from '../../automation/tokens';
import { NotFoundError } from '../../automation/core/errors';

/** Telegram-shaped tokens (`<digits>:<35 chars>`), distinct per label; planted so leaks can be grepped for. */
export function telegramToken(label: string): string {
  const h = createHash('sha256').update(label).digest('base64url').slice(0, 33);
  return `${1_000_000 + (parseInt(createHash('md5').update(label).digest('hex').slice(0, 6), 16) % 8_000_000)}:AA${h}`;
}

/** Discord-shaped tokens (`<base64 id>.<6>.<27>`), distinct per label. */
export function discordToken(label: string): string {
  const h = createHash('sha256').update(label).digest('base64url');
  return `MTA${h.slice(0, 21)}.G${h.slice(21, 26)}.${h.slice(26, 43)}`;
}

/** A clock whose `now()` advances `stepMs` on every read (so a probe's latency is a known multiple). */
export function steppingClock(stepMs: number, start = Date.parse('2026-11-22T10:00:00Z')): Clock & { t: number } {
  const c = {
    t: start,
    now(): Date {
      const d = new Date(c.t);
      c.t += stepMs;
      return d;
    },
    sleep: async (): Promise<void> => undefined,
  };
  return c;
}

/** A clock the test moves with {@link ManualClock.advance}; sleeps resolve when their time has come. */
export class ManualClock implements Clock {
  t = Date.parse('2026-11-22T10:00:00Z');
  private waiters: Array<{ at: number; resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort?: () => void }> = [];

  now(): Date {
    return new Date(this.t);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    return new Promise<void>((resolve, reject) => {
      const w: (typeof this.waiters)[number] = { at: this.t + ms, resolve, reject, signal };
      w.onAbort = () => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  /** Sleepers waiting right now. */
  get sleepers(): number {
    return this.waiters.length;
  }

  /** Move time forward, waking every sleeper whose time has come, then let their continuations run. */
  async advance(ms: number): Promise<void> {
    this.t += ms;
    const due = this.waiters.filter((w) => w.at <= this.t);
    this.waiters = this.waiters.filter((w) => w.at > this.t);
    for (const w of due) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.resolve();
    }
    await settle();
  }
}

/** `http://127.0.0.1:<port>` of a port that was free a moment ago and has nothing listening (connection refused). */
export async function refusedUrl(): Promise<string> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** Let pending promise continuations (and a few I/O turns) run. */
export async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** An in-memory TokenStore with the file store's semantics (version per bot, idempotent request ids). */
export class MemoryTokenStore implements TokenStore {
  readonly location = 'memory';
  private readonly bots = new Map<string, { text: string; version: number; requestId?: string }>();
  readonly writes: Array<{ bot: string; record: TokenRecord; opts: WriteOptions; outcome: WriteOutcome['outcome'] }> = [];
  reads = 0;
  /** Called inside write, before the compare: lets a test slip another writer in. */
  beforeWrite?: (bot: string) => void;

  set(bot: string, record: TokenRecord): this {
    record.tokens.forEach(registerSecret);
    const cur = this.bots.get(bot);
    this.bots.set(bot, { text: serializeTokenRecord(record), version: (cur?.version ?? 0) + 1 });
    return this;
  }

  get(bot: string): TokenRecord {
    const e = this.bots.get(bot);
    if (!e) throw new NotFoundError(`bot ${bot}`);
    return parseTokenRecord(JSON.parse(e.text), `bot ${bot}`);
  }

  async read(bot: string): Promise<StoredTokenRecord> {
    this.reads++;
    const e = this.bots.get(bot);
    if (!e) throw new NotFoundError(`bot ${bot}`);
    return { record: this.get(bot), version: `v${e.version}` };
  }

  async currentVersion(bot: string): Promise<string> {
    const e = this.bots.get(bot);
    if (!e) throw new NotFoundError(`bot ${bot}`);
    return `v${e.version}`;
  }

  async write(bot: string, record: TokenRecord, opts: WriteOptions): Promise<WriteOutcome> {
    this.beforeWrite?.(bot);
    const e = this.bots.get(bot);
    if (!e) throw new NotFoundError(`bot ${bot}`);
    const text = serializeTokenRecord(record);
    let outcome: WriteOutcome;
    if (`v${e.version}` === opts.expectVersion) {
      this.bots.set(bot, { text, version: e.version + 1, requestId: opts.requestId });
      outcome = { outcome: 'written', version: `v${e.version + 1}` };
    } else if (e.requestId === opts.requestId && e.text === text) {
      outcome = { outcome: 'written', version: `v${e.version}`, detail: 'already written (same request id)' };
    } else {
      outcome = { outcome: 'conflict', detail: `version ${opts.expectVersion} is no longer current (v${e.version} is)` };
    }
    this.writes.push({ bot, record, opts, outcome: outcome.outcome });
    return outcome;
  }
}

/** A notifier that keeps every notice (and can be told to fail). */
export class RecordingNotifier implements TokenNotifier {
  readonly notices: TokenNotice[] = [];
  failWith?: Error;
  async notify(n: TokenNotice): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.notices.push(n);
  }
}
