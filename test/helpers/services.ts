/**
 * Mocha helpers that start real services for a suite and always stop them (and remove their temp dirs) in
 * `after`, even when a test or the `before` itself failed. Call them inside a `describe` body:
 *
 *   describe('backup @integration', () => {
 *     const pg = usePostgres();                  // pg.cluster after `before`
 *     const redis = useRedis({ password: 'x' }); // redis.server
 *     const s3 = useS3(['dr-backups']);          // s3.server.env → AWS_ENDPOINT_URL_S3 …
 *     it('…', async () => { await pg.cluster.createDatabase('app'); });
 *   });
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PgCluster, PgClusterOptions } from '../../automation/adapters/rehearsal/pg-cluster';
import { RedisServer, RedisServerOptions } from '../../automation/adapters/tools/redis-server';
import { S3Server, startS3Server } from '../../automation/adapters/rehearsal/s3-server';

/** A temp dir under the OS temp dir (traversable by the postgres user), removed with `rm -rf`. */
export function makeTempDir(prefix = 'dr-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o711);
  return dir;
}

export function removeDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/** A temp dir for the suite: `t.dir` after `before`, removed in `after`. */
export function useTempDir(prefix = 'dr-test-'): { readonly dir: string } {
  let dir: string | undefined;
  before(() => {
    dir = makeTempDir(prefix);
  });
  after(() => removeDir(dir));
  return {
    get dir() {
      if (!dir) throw new Error('useTempDir: not started (use it inside a describe, read it inside a test)');
      return dir;
    },
  };
}

/**
 * The test process's environment, handed to the local adapters as the caller's environment (PATH, DR_PG_BIN):
 * tests, like the entry points, are where `process.env` is read.
 */
export const TEST_ENV: Readonly<Record<string, string | undefined>> = process.env;

/** A service started in its own temp dir before the suite; stopped and the dir removed after it. */
function useStarted<T>(what: string, prefix: string, timeoutsMs: { start: number; stop: number }, start: (root: string) => Promise<T>, stop: (service: T) => Promise<void>): () => T {
  let root: string | undefined;
  let service: T | undefined;
  before(async function () {
    this.timeout(timeoutsMs.start);
    root = makeTempDir(prefix);
    service = await start(root);
  });
  after(async function () {
    this.timeout(timeoutsMs.stop);
    try {
      if (service) await stop(service);
    } finally {
      removeDir(root);
    }
  });
  return () => {
    if (!service) throw new Error(`${what} not started`);
    return service;
  };
}

export interface PgHandle {
  readonly cluster: PgCluster;
}

/** A started PostgreSQL cluster for the suite. */
export function usePostgres(opts: Omit<PgClusterOptions, 'dir'> = {}): PgHandle {
  const cluster = useStarted(
    'usePostgres: cluster',
    'dr-pg-',
    { start: 120_000, stop: 60_000 },
    async (root) => {
      const c = await PgCluster.create({ env: TEST_ENV, ...opts, dir: path.join(root, 'pg') });
      try {
        await c.start();
      } catch (err) {
        // A half-started postmaster must not outlive the suite.
        await c.stop('immediate').catch(() => c.kill());
        throw err;
      }
      return c;
    },
    (c) => c.stop('immediate').catch(() => c.kill()),
  );
  return {
    get cluster() {
      return cluster();
    },
  };
}

export interface RedisHandle {
  readonly server: RedisServer;
}

/** A started redis-server for the suite. */
export function useRedis(opts: Omit<RedisServerOptions, 'dir'> = {}): RedisHandle {
  const server = useStarted(
    'useRedis: server',
    'dr-redis-',
    { start: 60_000, stop: 30_000 },
    (root) => RedisServer.start({ env: TEST_ENV, ...opts, dir: path.join(root, 'redis') }),
    (r) => r.stop().catch(() => r.kill()),
  );
  return {
    get server() {
      return server();
    },
  };
}

export interface S3Handle {
  readonly server: S3Server;
}

/** A started s3rver with the given buckets for the suite. */
export function useS3(buckets: string[], opts: { inProcess?: boolean } = {}): S3Handle {
  let server: S3Server | undefined;
  before(async function () {
    this.timeout(30_000);
    server = await startS3Server({ buckets, inProcess: opts.inProcess, env: TEST_ENV });
  });
  after(async () => {
    if (server) await server.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('useS3: server not started');
      return server;
    },
  };
}
