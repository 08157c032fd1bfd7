/**
 * A real, throw-away PostgreSQL cluster on 127.0.0.1 for tests, drills and benchmarks.
 *
 *   const pg = await PgCluster.create({ dir: '/tmp/x/primary' });   // initdb + config, not started
 *   await pg.start();
 *   pg.url('app')                 // postgresql://postgres:<generated>@127.0.0.1:<port>/app
 *   await pg.createDatabase('app');
 *   const standby = await PgCluster.standbyOf(pg, '/tmp/x/standby'); // pg_basebackup -R -X stream
 *   await standby.start();  await standby.promote();
 *   await pg.kill();  // SIGKILL the postmaster (failure injection)
 *   await pg.stop('fast');
 *
 * Layout under `dir`: `data/` (PGDATA), `run/` (unix socket), `postgres.log`. When the current process is
 * root, everything is owned by and runs as the `postgres` OS user (PostgreSQL refuses root). Settings are
 * ready for streaming replication and pg_rewind (wal_level=replica, wal_log_hints=on, hot_standby=on).
 * Authentication: scram-sha-256 over TCP with a generated superuser password (so URLs carry a real secret,
 * which the redaction tests rely on), trust over the private unix socket.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { findBinary } from '../tools/binaries';
import { assertTraversable, chownRecursive, freePort, isAlive, isRoot, run, sleep, ToolEnv, userIds, waitForExit } from '../tools/proc';
import { OperationError } from '../../core/errors';

export type StopMode = 'smart' | 'fast' | 'immediate';

export interface PgClusterOptions {
  /** Directory that will hold data/, run/ and the log. Created if missing; must be empty or absent. */
  dir: string;
  /** TCP port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** Superuser name (default `postgres`). */
  superuser?: string;
  /** Superuser password (default: 32 random hex chars). */
  password?: string;
  /** Extra postgresql.conf settings, e.g. `{ max_connections: 50 }`. */
  settings?: Record<string, string | number | boolean>;
  /** OS user that runs the server when we are root (default `postgres`). */
  osUser?: string;
  /** The caller's environment (PATH, DR_PG_BIN) for finding and running the PostgreSQL tools. */
  env?: ToolEnv;
}

interface ClusterState {
  dir: string;
  port: number;
  superuser: string;
  password: string;
  osUser: string;
  env?: ToolEnv;
}

const BASE_SETTINGS: Record<string, string | number | boolean> = {
  listen_addresses: '127.0.0.1',
  wal_level: 'replica',
  max_wal_senders: 10,
  max_replication_slots: 10,
  wal_keep_size: '256MB',
  hot_standby: 'on',
  wal_log_hints: 'on',
  fsync: 'on',
  logging_collector: 'off',
  log_line_prefix: '%m [%p] ',
  timezone: 'UTC',
};

function confValue(v: string | number | boolean): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return `'${v.replace(/'/g, "''")}'`;
}

export class PgCluster {
  readonly dir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly superuser: string;
  readonly osUser: string;
  private readonly password: string;
  private readonly env: ToolEnv | undefined;

  private constructor(s: ClusterState) {
    this.dir = path.resolve(s.dir);
    this.dataDir = path.join(this.dir, 'data');
    this.socketDir = path.join(this.dir, 'run');
    this.logFile = path.join(this.dir, 'postgres.log');
    this.port = s.port;
    this.superuser = s.superuser;
    this.password = s.password;
    this.osUser = s.osUser;
    this.env = s.env;
  }

  /** initdb a new cluster into `opts.dir` and configure it. Does not start it. */
  static async create(opts: PgClusterOptions): Promise<PgCluster> {
    const state: ClusterState = {
      dir: opts.dir,
      port: opts.port ?? (await freePort()),
      superuser: opts.superuser ?? 'postgres',
      password: opts.password ?? randomBytes(16).toString('hex'),
      osUser: opts.osUser ?? 'postgres',
      env: opts.env,
    };
    const c = new PgCluster(state);
    c.prepareDirs();
    const pwfile = path.join(c.dir, '.pwfile');
    fs.writeFileSync(pwfile, state.password + '\n', { mode: 0o600 });
    c.chown(pwfile);
    try {
      await c.tool('initdb', [
        '-D', c.dataDir, '-U', state.superuser, `--pwfile=${pwfile}`,
        '--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions',
      ]);
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
    fs.appendFileSync(path.join(c.dataDir, 'postgresql.conf'), `\ninclude_if_exists = 'dr.conf'\n`);
    c.writeConf(opts.settings);
    fs.writeFileSync(
      path.join(c.dataDir, 'pg_hba.conf'),
      [
        '# written by bot-platform-dr PgCluster',
        'local   all          all                    trust',
        'local   replication  all                    trust',
        'host    all          all    127.0.0.1/32    scram-sha-256',
        'host    replication  all    127.0.0.1/32    scram-sha-256',
        '',
      ].join('\n'),
    );
    return c;
  }

  /**
   * A streaming-replication standby of `primary` (which must be running): `pg_basebackup -R -X stream`
   * into `dir`, with its own port and socket. Does not start it. Same superuser and password as the primary.
   */
  static async standbyOf(primary: PgCluster, dir: string, opts: { port?: number; settings?: PgClusterOptions['settings'] } = {}): Promise<PgCluster> {
    const c = new PgCluster({
      dir,
      port: opts.port ?? (await freePort()),
      superuser: primary.superuser,
      password: primary.password,
      osUser: primary.osUser,
      env: primary.env,
    });
    c.prepareDirs();
    await c.tool('pg_basebackup', ['-h', primary.host, '-p', String(primary.port), '-U', primary.superuser, '-D', c.dataDir, '-R', '-X', 'stream', '-c', 'fast', '--no-password'], {
      PGPASSWORD: primary.password,
    });
    c.writeConf(opts.settings);
    return c;
  }

  /** Re-open an existing cluster directory created by {@link PgCluster.create} (reads port from dr.conf). */
  static open(dir: string, password: string, opts: { superuser?: string; osUser?: string; env?: ToolEnv } = {}): PgCluster {
    const conf = fs.readFileSync(path.join(dir, 'data', 'dr.conf'), 'utf8');
    const m = /^port = (\d+)$/m.exec(conf);
    if (!m) throw new OperationError(`${dir}/data/dr.conf has no port line`);
    return new PgCluster({ dir, port: Number(m[1]), superuser: opts.superuser ?? 'postgres', password, osUser: opts.osUser ?? 'postgres', env: opts.env });
  }

  /** Connection URL over TCP with the superuser's password. */
  url(db = 'postgres'): string {
    return `postgresql://${encodeURIComponent(this.superuser)}:${encodeURIComponent(this.password)}@${this.host}:${this.port}/${encodeURIComponent(db)}`;
  }

  /** The superuser password (for wiring replication or secrets in tests; never print it). */
  get secret(): string {
    return this.password;
  }

  /** Start and wait until it accepts connections. */
  async start(): Promise<void> {
    this.removeStaleLockFiles();
    await this.tool('pg_ctl', ['start', '-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60', '-s']);
  }

  /** Stop with pg_ctl (fast: roll back sessions, checkpoint; immediate: crash-like, recovery on start). */
  async stop(mode: StopMode = 'fast'): Promise<void> {
    const pid = this.pid();
    if (pid === undefined || !isAlive(pid)) return;
    await this.tool('pg_ctl', ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '60', '-s']);
  }

  /** SIGKILL the postmaster (failure injection), then wait until it and its children are gone. */
  async kill(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined || !isAlive(pid)) return;
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid);
    // Backends notice the postmaster's death and exit; give them a moment so a restart finds no stragglers.
    await sleep(200);
  }

  /** Promote a standby and wait until it accepts writes. */
  async promote(): Promise<void> {
    await this.tool('pg_ctl', ['promote', '-D', this.dataDir, '-w', '-t', '60', '-s']);
  }

  /** Postmaster PID from postmaster.pid, or undefined when not running. */
  pid(): number | undefined {
    try {
      const first = fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
      const pid = Number(first);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  isRunning(): boolean {
    const pid = this.pid();
    return pid !== undefined && isAlive(pid);
  }

  /**
   * After the postmaster was killed (not stopped): remove what it left behind that would stop a new start —
   * postmaster.pid and the socket lock files. PostgreSQL judges those by `kill(pid, 0)`, which a killed postmaster
   * still answers while it waits, a zombie, to be reaped. Only when no postmaster runs.
   */
  removeStaleLockFiles(): void {
    if (this.isRunning()) return;
    fs.rmSync(path.join(this.dataDir, 'postmaster.pid'), { force: true });
    for (const f of fs.existsSync(this.socketDir) ? fs.readdirSync(this.socketDir) : []) if (/^\.s\.PGSQL\.\d+\.lock$/.test(f)) fs.rmSync(path.join(this.socketDir, f), { force: true });
  }

  /** Run SQL as the superuser and return the rows. */
  async query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, db = 'postgres', params: unknown[] = []): Promise<R[]> {
    const client = new Client({ connectionString: this.url(db) });
    await client.connect();
    try {
      const res = await client.query(sql, params);
      return res.rows as R[];
    } finally {
      await client.end();
    }
  }

  async createDatabase(name: string): Promise<void> {
    await this.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  }

  /** Stop if running, then delete the directory. */
  async destroy(): Promise<void> {
    try {
      await this.stop('immediate');
    } catch {
      await this.kill();
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Run a PostgreSQL tool as the cluster's OS user, with this cluster's binaries. */
  async tool(name: 'initdb' | 'pg_ctl' | 'pg_basebackup' | 'pg_rewind' | 'psql' | 'pgbench' | 'pg_dump' | 'pg_restore' | 'pg_waldump', args: string[], env: Record<string, string> = {}): Promise<string> {
    const res = await run(findBinary(name, { env: this.env }), args, { asUser: this.osUser, env: { PGCONNECT_TIMEOUT: '10', ...env }, baseEnv: this.env, cwd: '/' });
    return res.stdout;
  }

  private prepareDirs(): void {
    if (fs.existsSync(this.dir) && fs.readdirSync(this.dir).length > 0) throw new OperationError(`${this.dir} is not empty; PgCluster needs a fresh directory`);
    fs.mkdirSync(this.socketDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    if (isRoot()) {
      assertTraversable(this.dir);
      this.chown(this.dir);
    }
  }

  private chown(target: string): void {
    if (!isRoot()) return;
    const { uid, gid } = userIds(this.osUser);
    chownRecursive(target, uid, gid);
  }

  private writeConf(extra: PgClusterOptions['settings'] = {}): void {
    const settings: Record<string, string | number | boolean> = {
      ...BASE_SETTINGS,
      port: this.port,
      unix_socket_directories: this.socketDir,
      ...extra,
    };
    const body = ['# written by bot-platform-dr PgCluster', ...Object.entries(settings).map(([k, v]) => `${k} = ${confValue(v)}`), ''].join('\n');
    const file = path.join(this.dataDir, 'dr.conf');
    fs.writeFileSync(file, body, { mode: 0o600 });
    this.chown(file);
  }
}
