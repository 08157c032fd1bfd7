/**
 * The local two-region environment's state: ports, process ids and directories in `<dir>/state.json`, so `dr
 * local down|status`, `dr failover --local`, `dr watch --local` and `dr failback --local` work from any process.
 *
 * The generated credentials are NOT in state.json: they live in `<dir>/secrets.json` (mode 0600, written once
 * by `up`, read only by {@link readState}, which registers them with the redactor). So the state file can be
 * shown, attached to a ticket or copied into a report without leaking anything; reports, the journal and the
 * notifications log are built from results, never from either file. A state.json of the first format (with the
 * credentials inline) is still read.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../core/errors';
import { registerSecret } from '../../core/redact';
import { replaceFileSync } from '../tools/atomic-file';

export const REGIONS = ['a', 'b'] as const;
export type RegionName = (typeof REGIONS)[number];

/** DNS service names of the local record file (the stand-in for the Route 53 failover records). */
export const DNS_RECORDS = [
  { name: 'platform', service: 'platform' },
  { name: 'database', service: 'database' },
  { name: 'cache', service: 'cache' },
] as const;

export interface PgState {
  /** PgCluster directory (data/, run/, postgres.log). */
  dir: string;
  port: number;
  /** Replication slot (on the primary) this server streams through while it is a standby; also its application_name. */
  slot: string;
}

export interface RedisState {
  dir: string;
  port: number;
  pidFile: string;
  confFile: string;
}

export interface RegionState {
  name: RegionName;
  postgres: PgState;
  redis: RedisState;
  /** Backup bucket of this region on the shared S3 endpoint. */
  bucket: string;
}

export interface LocalState {
  format: 'bot-platform-dr/local-env@1';
  dir: string;
  created_at: string;
  /** OS user that runs PostgreSQL (when we are root). */
  pg_os_user: string;
  regions: Record<RegionName, RegionState>;
  s3: { port: number; dir: string; pid?: number; log: string };
  dns_file: string;
  journal_dir: string;
  notifications_log: string;
  /** Append-only log of every promotion an adapter performed (tests count them). */
  promotions_log: string;
  /** Last replication sample taken while the primary answered (for the estimated loss after it is gone). */
  replication_sample_file: string;
  /** Application database and role. */
  app: { database: string; user: string };
  /** Generated credentials (local only; never printed: registered with the redactor on load). Kept in secrets.json, not state.json. */
  secrets: { pg_superuser_password: string; app_password: string; redis_password: string };
  /** `true` once `up` finished; a partly started environment is still torn down by `down`. */
  complete: boolean;
}

export function statePath(dir: string): string {
  return path.join(path.resolve(dir), 'state.json');
}

/** The credentials file next to state.json (mode 0600; never read by reports). */
export function secretsPath(dir: string): string {
  return path.join(path.resolve(dir), 'secrets.json');
}

const SECRETS_FORMAT = 'bot-platform-dr/local-secrets@1';

/** A fresh state for `dir` (nothing started yet). Ports are filled in by `up`. */
export function newState(dir: string, ports: { pgA: number; pgB: number; redisA: number; redisB: number; s3: number }): LocalState {
  const root = path.resolve(dir);
  const region = (name: RegionName, pg: number, redis: number): RegionState => ({
    name,
    postgres: { dir: path.join(root, name, 'postgres'), port: pg, slot: `dr_standby_${name}` },
    redis: { dir: path.join(root, name, 'redis'), port: redis, pidFile: path.join(root, name, 'redis', 'redis.pid'), confFile: path.join(root, name, 'redis', 'redis.conf') },
    bucket: `bot-dr-${name}`,
  });
  return {
    format: 'bot-platform-dr/local-env@1',
    dir: root,
    created_at: new Date().toISOString(),
    pg_os_user: 'postgres',
    regions: { a: region('a', ports.pgA, ports.redisA), b: region('b', ports.pgB, ports.redisB) },
    s3: { port: ports.s3, dir: path.join(root, 's3'), log: path.join(root, 's3', 's3rver.log') },
    dns_file: path.join(root, 'dns.json'),
    journal_dir: path.join(root, 'journal'),
    notifications_log: path.join(root, 'notifications.log'),
    promotions_log: path.join(root, 'promotions.log'),
    replication_sample_file: path.join(root, 'replication-sample.json'),
    app: { database: 'bot', user: 'bot_app' },
    secrets: { pg_superuser_password: randomBytes(16).toString('hex'), app_password: randomBytes(16).toString('hex'), redis_password: randomBytes(16).toString('hex') },
    complete: false,
  };
}

export function registerStateSecrets(s: LocalState): void {
  for (const v of Object.values(s.secrets)) registerSecret(v);
}

/** Read the state, or undefined when there is none. Registers its secrets with the redactor. */
export function readState(dir: string): LocalState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(statePath(dir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let s: LocalState;
  try {
    s = JSON.parse(text) as LocalState;
  } catch {
    throw new UsageError(`${statePath(dir)} is not valid JSON; run 'dr local down --dir ${dir}' to clean up`);
  }
  if (s.format !== 'bot-platform-dr/local-env@1') throw new UsageError(`${statePath(dir)} is not a local environment state file (format ${String(s.format)})`);
  if (!s.secrets) {
    let secretsText: string;
    try {
      secretsText = fs.readFileSync(secretsPath(dir), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${secretsPath(dir)} is missing: the local environment's credentials are gone; run 'dr local down --dir ${dir}' and 'dr local up' again`);
      throw err;
    }
    let parsed: { format?: string; secrets?: LocalState['secrets'] };
    try {
      parsed = JSON.parse(secretsText) as typeof parsed;
    } catch {
      throw new UsageError(`${secretsPath(dir)} is not valid JSON; run 'dr local down --dir ${dir}' to clean up`);
    }
    if (parsed.format !== SECRETS_FORMAT || !parsed.secrets) throw new UsageError(`${secretsPath(dir)} is not a local environment credentials file`);
    s.secrets = parsed.secrets;
  }
  registerStateSecrets(s);
  return s;
}

/** Read the state of a running environment or fail with a usage error that says how to start one. */
export function requireState(dir: string): LocalState {
  const s = readState(dir);
  if (!s) throw new UsageError(`no local environment in ${path.resolve(dir)}: start one with 'dr local up --dir ${dir}' (or run 'dr drill --local')`);
  if (!s.complete) throw new UsageError(`the local environment in ${path.resolve(dir)} did not finish starting: run 'dr local down --dir ${dir}' and 'dr local up' again`);
  return s;
}

/**
 * Write state.json (without the credentials) and, the first time, secrets.json (0600). The credentials never
 * change after `newState`, so secrets.json is written once and state.json can be rewritten freely.
 */
export function writeState(s: LocalState): void {
  fs.mkdirSync(s.dir, { recursive: true });
  if (!fs.existsSync(secretsPath(s.dir))) replaceFileSync(secretsPath(s.dir), JSON.stringify({ format: SECRETS_FORMAT, secrets: s.secrets }, null, 2) + '\n', 0o600);
  const { secrets: _secrets, ...rest } = s;
  void _secrets;
  replaceFileSync(statePath(s.dir), JSON.stringify(rest, null, 2) + '\n', 0o600);
}


/**
 * Every file of the environment that holds a credential, or could: the credentials file, the state file, each
 * region's redis.conf (requirepass/masterauth) and replication passfile. Each must be 0600, always.
 */
export function credentialFiles(s: LocalState): string[] {
  const files = [secretsPath(s.dir), statePath(s.dir)];
  for (const r of REGIONS) files.push(s.regions[r].redis.confFile, path.join(s.regions[r].postgres.dir, 'replication.pgpass'));
  return files.filter((f) => fs.existsSync(f));
}

export function otherRegion(r: RegionName): RegionName {
  return r === 'a' ? 'b' : 'a';
}

export function isRegion(v: string): v is RegionName {
  return (REGIONS as readonly string[]).includes(v);
}
