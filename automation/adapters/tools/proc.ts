/**
 * Small process helpers shared by the local adapters: run a tool to completion, run it as the `postgres`
 * OS user when we are root (PostgreSQL refuses to run as root), and find a free TCP port on 127.0.0.1.
 *
 * Tools run in their own process group (`detached`): a Ctrl-C in the terminal reaches `dr` alone, which stops
 * cleanly and stops its tools itself (through the abort signal), instead of every tool dying mid-write with its
 * own error.
 */
import { spawn, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { OperationError, UsageError } from '../../core/errors';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a child tool's PATH (and, for lookups, DR_PG_BIN) comes from: the caller's environment,
 * injected from the entry point (the CLI context's `env`, the Lambda's, a test helper's), never read here.
 */
export type ToolEnv = Readonly<Record<string, string | undefined>>;

export interface RunOptions {
  /** Variables added to the tool's minimal environment (see {@link toolEnv}). */
  env?: Record<string, string | undefined>;
  /** The caller's environment, where PATH comes from. */
  baseEnv?: ToolEnv;
  cwd?: string;
  /** Run as this OS user (via `runuser -u USER --`) when the current process is root. */
  asUser?: string;
  input?: string;
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean;
  signal?: AbortSignal;
  /**
   * Run the tool (and whatever it starts, such as a daemon) under this umask, e.g. 0o077 so that every file it
   * writes later (a rewritten config holding a password) is private to its owner.
   */
  umask?: number;
}

export class ProcessError extends Error {
  constructor(readonly command: string, readonly result: RunResult) {
    super(`${command} exited with ${result.code ?? result.signal}: ${lastLines(result.stderr || result.stdout, 8)}`);
    this.name = 'ProcessError';
  }
}

export function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The argv to run `file args` as `user` when root (`runuser -u user -- file args`), else unchanged. */
export function asUserArgv(file: string, args: readonly string[], user?: string): [string, string[]] {
  if (user && isRoot()) return ['runuser', ['-u', user, '--', file, ...args]];
  return [file, [...args]];
}

/** PATH for child tools when the caller's environment has none. */
export const DEFAULT_TOOL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * A minimal, predictable environment for child tools: PATH (from `from`, else {@link DEFAULT_TOOL_PATH}) and
 * locale only, plus what the caller adds.
 */
export function toolEnv(extra: Record<string, string | undefined> = {}, from: ToolEnv = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    PATH: from.PATH ?? DEFAULT_TOOL_PATH,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
    ...extra,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) out[k] = v;
  return out;
}

/** Run a command to completion, capturing stdout and stderr. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd0, argv0] = asUserArgv(file, args, opts.asUser);
  // `sh -c 'umask 077 && exec "$0" "$@"' tool args…`: the umask applies to the tool and to what it forks.
  const [cmd, argv] = opts.umask === undefined ? [cmd0, argv0] : ['/bin/sh', ['-c', `umask ${opts.umask.toString(8).padStart(3, '0')} && exec "$0" "$@"`, cmd0, ...argv0]];
  const spawnOpts: SpawnOptions = { cwd: opts.cwd, env: toolEnv(opts.env, opts.baseEnv), stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], signal: opts.signal, detached: true };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, spawnOpts);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const result = { code, signal, stdout, stderr };
      if (code !== 0 && opts.check !== false) reject(new ProcessError(path.basename(file), result));
      else resolve(result);
    });
    if (child.stdin) {
      // The tool may exit without reading its input; that is its exit code's business, not an EPIPE crash.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** Ports this process handed out recently: the OS may offer a closed port again before its taker binds it. */
const handedOut = new Map<number, number>();
const HANDED_OUT_MS = 120_000;

function listenOnAnyPort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

/**
 * `n` distinct TCP ports on 127.0.0.1 that were free a moment ago: all held open at once (so the OS cannot offer one
 * twice), none handed out by this process in the last two minutes, then closed for their takers to bind.
 */
export async function freePorts(n: number): Promise<number[]> {
  const now = Date.now();
  for (const [port, at] of handedOut) if (now - at > HANDED_OUT_MS) handedOut.delete(port);
  const held: net.Server[] = [];
  const ports: number[] = [];
  try {
    for (let attempts = 0; ports.length < n; attempts++) {
      if (attempts > n + 50) throw new Error('could not allocate distinct ports');
      const srv = await listenOnAnyPort();
      held.push(srv);
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      if (port && !handedOut.has(port)) ports.push(port);
    }
  } finally {
    await Promise.all(held.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  }
  for (const port of ports) handedOut.set(port, now);
  return ports;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (see {@link freePorts}). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

/** Resolve when `pid` is gone (polling), or reject after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new OperationError(`process ${pid} still running after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Whether `pid` is a running process. A zombie (exited, not yet reaped by its parent — for a daemon whose starter
 * is gone, by init, which may take seconds) is not running: it answers signals but holds nothing.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Throw a clear error unless every ancestor of `dir` is traversable (o+x) by another OS user: PostgreSQL
 * runs as `postgres` and must reach its data directory. We never loosen permissions on someone's path.
 */
export function assertTraversable(dir: string): void {
  let cur = path.dirname(path.resolve(dir));
  while (true) {
    const st = fs.statSync(cur);
    if ((st.mode & 0o001) === 0) {
      throw new UsageError(`directory ${cur} is not traversable by the postgres user (mode ${(st.mode & 0o777).toString(8)}); put the cluster under /tmp or run: chmod o+x ${cur}`);
    }
    const parent = path.dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
}

/** chown -R by numeric ids. */
export function chownRecursive(target: string, uid: number, gid: number): void {
  fs.chownSync(target, uid, gid);
  const st = fs.statSync(target);
  if (!st.isDirectory()) return;
  for (const e of fs.readdirSync(target)) chownRecursive(path.join(target, e), uid, gid);
}

/** uid/gid of a local OS user, read from /etc/passwd (no extra dependency). */
export function userIds(user: string): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new OperationError(`OS user '${user}' does not exist (PostgreSQL cannot run as root; create it or install the postgresql package)`);
  const parts = line.split(':');
  return { uid: Number(parts[2]), gid: Number(parts[3]) };
}
