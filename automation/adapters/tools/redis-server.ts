/**
 * A real, throw-away `redis-server` on 127.0.0.1 for tests, drills and benchmarks.
 *
 *   const r = await RedisServer.start({ dir: '/tmp/x/redis', password: 's3cret' });
 *   r.url()            // redis://:s3cret@127.0.0.1:<port>
 *   await r.replicaOf(other);   // REPLICAOF other  (or pass `replicaof` to start)
 *   await r.kill();    // SIGKILL (failure injection)
 *   await r.stop();    // SHUTDOWN NOSAVE, wait for exit
 *
 * The server is a child of this process with a generated config file in `dir`; persistence is off unless
 * `save`/`appendonly` are given, so tests leave nothing behind.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { findBinary } from './binaries';
import { freePort, lastLines, sleep, ToolEnv, toolEnv } from './proc';
import { OperationError } from '../../core/errors';

export interface RedisServerOptions {
  /** Working directory for config, log and any RDB/AOF. Created if missing. */
  dir: string;
  port?: number;
  /** `requirepass` (and `masterauth`, so replicas of servers with the same password work). */
  password?: string;
  /** RDB save policy, e.g. '900 1'; default '' (no snapshots). */
  save?: string;
  appendonly?: boolean;
  /** Load this RDB file at start (copied into `dir` as dump.rdb). */
  rdbFile?: string;
  /** Start as a replica of this server. */
  replicaof?: { host: string; port: number; password?: string };
  /** Extra config lines, e.g. `{ maxmemory: '64mb' }`. */
  config?: Record<string, string | number>;
  /** The caller's environment (PATH) for finding redis-server; it runs with a minimal environment. */
  env?: ToolEnv;
}

function q(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export class RedisServer {
  readonly host = '127.0.0.1';
  private exited: Promise<void>;
  private alive = true;
  private stderrTail = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly password: string | undefined,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => {
      this.alive = false;
      resolve();
    }));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stderrTail = (this.stderrTail + d).slice(-4000)));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderrTail = (this.stderrTail + d).slice(-4000)));
  }

  static async start(opts: RedisServerOptions): Promise<RedisServer> {
    const dir = path.resolve(opts.dir);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const port = opts.port ?? (await freePort());
    if (opts.rdbFile) fs.copyFileSync(opts.rdbFile, path.join(dir, 'dump.rdb'));
    const lines: string[] = [
      `port ${port}`,
      'bind 127.0.0.1',
      'protected-mode yes',
      `dir ${q(dir)}`,
      'dbfilename dump.rdb',
      `save ${q(opts.save ?? '')}`,
      `appendonly ${opts.appendonly ? 'yes' : 'no'}`,
      'daemonize no',
      // Replicas sync at once instead of waiting 5 s for more replicas to join a diskless transfer.
      'repl-diskless-sync-delay 0',
      `logfile ${q('')}`,
    ];
    if (opts.password) lines.push(`requirepass ${q(opts.password)}`, `masterauth ${q(opts.password)}`);
    if (opts.replicaof) {
      lines.push(`replicaof ${opts.replicaof.host} ${opts.replicaof.port}`);
      if (opts.replicaof.password) lines.push(`masterauth ${q(opts.replicaof.password)}`);
    }
    for (const [k, v] of Object.entries(opts.config ?? {})) lines.push(`${k} ${typeof v === 'number' ? v : q(v)}`);
    const confFile = path.join(dir, 'redis.conf');
    fs.writeFileSync(confFile, lines.join('\n') + '\n', { mode: 0o600 });
    const child = spawn(findBinary('redis-server', { env: opts.env }), [confFile], { env: toolEnv({}, opts.env), stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, detached: true });
    const server = new RedisServer(dir, port, opts.password, child);
    try {
      await server.waitReady(opts.rdbFile ? 120_000 : 30_000);
    } catch (err) {
      await server.kill();
      throw err;
    }
    return server;
  }

  url(db?: number): string {
    const auth = this.password ? `:${encodeURIComponent(this.password)}@` : '';
    return `redis://${auth}${this.host}:${this.port}${db === undefined ? '' : `/${db}`}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  isRunning(): boolean {
    return this.alive;
  }

  /** An ioredis client for this server (caller quits it). */
  client(): Redis {
    const c = new Redis({ host: this.host, port: this.port, password: this.password, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    // Connection errors surface through the awaited calls; without a listener ioredis also logs them.
    c.on('error', () => undefined);
    return c;
  }

  /** REPLICAOF another server (or `null` for REPLICAOF NO ONE). */
  async replicaOf(primary: { host: string; port: number } | null): Promise<void> {
    const c = this.client();
    try {
      await c.connect();
      if (primary) await c.call('REPLICAOF', primary.host, String(primary.port));
      else await c.call('REPLICAOF', 'NO', 'ONE');
    } finally {
      c.disconnect();
    }
  }

  /** SHUTDOWN NOSAVE and wait for the process to exit (SIGKILL if it does not within 10 s). */
  async stop(): Promise<void> {
    if (!this.alive) return;
    const c = this.client();
    try {
      await c.connect();
      await c.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    } catch {
      this.child.kill('SIGTERM');
    } finally {
      c.disconnect();
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL (failure injection). */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Stop, then delete the directory. */
  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastErr = '';
    while (Date.now() < deadline) {
      if (!this.alive) throw new OperationError(`redis-server exited during start: ${lastLines(this.stderrTail, 5)}`);
      const c = this.client();
      try {
        await c.connect();
        const pong = await c.ping();
        const info = await c.info('persistence');
        if (pong === 'PONG' && /loading:0/.test(info)) return;
      } catch (err) {
        lastErr = err instanceof Error ? err.message : String(err);
      } finally {
        c.disconnect();
      }
      await sleep(50);
    }
    throw new OperationError(`redis-server on port ${this.port} not ready after ${timeoutMs} ms: ${lastErr} ${lastLines(this.stderrTail, 5)}`);
  }
}
