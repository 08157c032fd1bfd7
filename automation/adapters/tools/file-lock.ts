/**
 * An exclusive lock held in a file, naming its holder: pid, the command, when it started, the host. Used to make
 * every command that changes the local two-region environment run alone (`local up|down`, `drill --local`,
 * `failover --local`, `failback --local`, `watch --local --auto-failover`).
 *
 * - Taking it is one `link()` of a fully written holder file onto the lock's name: of two processes, exactly one
 *   creates it, and nobody ever reads it half-written.
 * - A lock whose holder is gone (no such pid, or a pid now belonging to another process: the start time in
 *   /proc/<pid>/stat differs) is taken over: the dead lock is renamed away (one rename wins), checked to be the
 *   one that was read, and the takeover is reported to the caller, who logs it.
 * - A lock held by a live process is refused with a {@link LockHeldError} (exit 2) that names the holder and how
 *   long it has held it.
 * - `release()` removes the file only if it is still ours.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { RefusedError } from '../../core/errors';

/** Who holds a lock. */
export interface LockHolder {
  pid: number;
  /** The holder's command line as people typed it, e.g. `dr drill --local`. */
  command: string;
  /** ISO 8601. */
  started_at: string;
  host: string;
  /** The holder process's start time (clock ticks since boot, /proc/<pid>/stat field 22), to detect pid reuse. */
  proc_start?: string;
  /** A nonce, so a takeover can tell one holder's file from another's. */
  token: string;
}

export class LockHeldError extends RefusedError {
  constructor(
    readonly lockFile: string,
    readonly holder: LockHolder,
    message: string,
  ) {
    super(message, { lock: lockFile, holder: { pid: holder.pid, command: holder.command, started_at: holder.started_at, host: holder.host } });
  }
}

export interface HeldLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Set when a dead holder's lock was taken over (for the caller's log). */
  readonly tookOverFrom?: LockHolder;
  release(): void;
}

/** /proc/<pid>/stat's start time, or undefined when the process does not exist. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True when `holder`'s process still runs (same pid and, when recorded, the same start time). */
export function holderAlive(holder: LockHolder): boolean {
  if (holder.host !== os.hostname()) return true; // another machine's lock: never judged dead from here
  const start = processStart(holder.pid);
  if (start === undefined) return false;
  return holder.proc_start === undefined || holder.proc_start === start;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.token === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function describe(h: LockHolder, now: Date): string {
  const secs = Math.max(0, Math.round((now.getTime() - Date.parse(h.started_at)) / 1000));
  return `pid ${h.pid} (${h.command}) on ${h.host}, since ${h.started_at} (${secs} s)`;
}

/**
 * Create `file` holding `holder`, or return false when it exists. The holder is written to a private temporary file
 * first and then hard-linked into place (`link` fails with EEXIST like `O_EXCL`), so the lock file is never seen
 * empty or half-written: a racer that reads it always finds a complete holder, never mistakes it for a dead one.
 */
function tryCreate(file: string, holder: LockHolder): boolean {
  // Cheap first look (no temporary file, no fsync) while someone holds it; `link` below still decides a race.
  if (fs.existsSync(file)) return false;
  const tmp = `${file}.new-${holder.pid}-${holder.token}`;
  const fd = fs.openSync(tmp, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(holder) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Take the lock in `file` for `command` (the current process), or throw {@link LockHeldError} naming the live
 * holder. `what` says what the lock protects, for the message (e.g. `the local environment in /x/.dr-local`).
 */
export function acquireLock(file: string, o: { pid: number; command: string; what: string; now?: () => Date }): HeldLock {
  const now = o.now ?? (() => new Date());
  const holder: LockHolder = { pid: o.pid, command: o.command, started_at: now().toISOString(), host: os.hostname(), proc_start: processStart(o.pid), token: randomBytes(8).toString('hex') };
  let tookOverFrom: LockHolder | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(file, holder)) return held(file, holder, tookOverFrom);
    const current = readHolder(file);
    if (current && holderAlive(current)) {
      throw new LockHeldError(file, current, `${o.what} is in use by ${describe(current, now())}: wait for it to finish, or stop it; a lock whose process is gone is taken over automatically (lock file ${file})`);
    }
    // Dead (or unreadable, half-written) holder: move its file aside; exactly one rename wins.
    const aside = `${file}.stale-${o.pid}-${randomBytes(3).toString('hex')}`;
    try {
      fs.renameSync(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // someone else moved it: try again
      throw err;
    }
    const moved = readHolder(aside);
    if (moved && current && moved.token !== current.token && holderAlive(moved)) {
      // We moved a live holder's fresh lock (it replaced the dead one between our read and our rename): put it back.
      try {
        fs.linkSync(aside, file);
      } catch {
        /* the file exists again: its owner or a third process holds it */
      }
      fs.rmSync(aside, { force: true });
      continue;
    }
    fs.rmSync(aside, { force: true });
    tookOverFrom = current ?? moved;
  }
  const current = readHolder(file);
  throw new LockHeldError(file, current ?? holder, `${o.what}: could not take the lock in ${file} (it changed hands repeatedly); try again`);
}

function held(file: string, holder: LockHolder, tookOverFrom: LockHolder | undefined): HeldLock {
  let released = false;
  return {
    file,
    holder,
    ...(tookOverFrom ? { tookOverFrom } : {}),
    release() {
      if (released) return;
      released = true;
      if (readHolder(file)?.token === holder.token) fs.rmSync(file, { force: true });
    },
  };
}

/** One line for a takeover, e.g. for a log. */
export function describeTakeover(h: LockHolder): string {
  return `took over the lock of ${h.command} (pid ${h.pid}, started ${h.started_at}), which is no longer running`;
}
