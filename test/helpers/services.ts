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
import { PgCluster, PgClusterOptions } from '../../automation/adapters/local/pg-cluster';
import { RedisServer, RedisServerOptions } from '../../automation/adapters/local/redis-server';
import { S3Server, startS3Server } from '../../automation/adapters/local/s3-server';

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

export interface PgHandle {
  readonly cluster: PgCluster;
}

/** A started PostgreSQL cluster for the suite. */
export function usePostgres(opts: Omit<PgClusterOptions, 'dir'> = {}): PgHandle {
  let root: string | undefined;
  let cluster: PgCluster | undefined;
  before(async function () {
    this.timeout(120_000);
    root = makeTempDir('dr-pg-');
    cluster = await PgCluster.create({ ...opts, dir: path.join(root, 'pg') });
    await cluster.start();
  });
  after(async function () {
    this.timeout(60_000);
    try {
      if (cluster) await cluster.stop('immediate').catch(() => cluster?.kill());
    } finally {
      removeDir(root);
    }
  });
  return {
    get cluster() {
      if (!cluster) throw new Error('usePostgres: cluster not started');
      return cluster;
    },
  };
}

export interface RedisHandle {
  readonly server: RedisServer;
}

/** A started redis-server for the suite. */
export function useRedis(opts: Omit<RedisServerOptions, 'dir'> = {}): RedisHandle {
  let root: string | undefined;
  let server: RedisServer | undefined;
  before(async function () {
    this.timeout(60_000);
    root = makeTempDir('dr-redis-');
    server = await RedisServer.start({ ...opts, dir: path.join(root, 'redis') });
  });
  after(async function () {
    this.timeout(30_000);
    try {
      if (server) await server.stop().catch(() => server?.kill());
    } finally {
      removeDir(root);
    }
  });
  return {
    get server() {
      if (!server) throw new Error('useRedis: server not started');
      return server;
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
    server = await startS3Server({ buckets, inProcess: opts.inProcess });
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
