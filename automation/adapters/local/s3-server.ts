/**
 * A real S3-protocol server (s3rver) on 127.0.0.1 for tests, drills and benchmarks.
 *
 *   const s3 = await startS3Server({ buckets: ['dr-backups'] });
 *   s3.endpoint   // http://127.0.0.1:<port>  → AWS_ENDPOINT_URL_S3; path-style, region us-east-1, any keys
 *   s3.env        // { AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } (s3rver accepts only S3RVER/S3RVER)
 *   await s3.stop();
 *
 * `inProcess: true` (default) runs it on this event loop; `inProcess: false` runs it in a child Node process,
 * which is what benchmarks want so the server does not compete with the code being measured.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './proc';

export interface S3ServerOptions {
  buckets: string[];
  /** Storage directory; a temp dir (removed on stop) when omitted. */
  dir?: string;
  port?: number;
  inProcess?: boolean;
}

export interface S3Server {
  endpoint: string;
  port: number;
  dir: string;
  region: 'us-east-1';
  /** Environment for the S3 adapter / dr CLI to talk to this server. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The part of s3rver's API we use (the package ships no types). */
interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  const ownsDir = !opts.dir;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dr-s3-'));
  fs.mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const serverOpts = {
    address: '127.0.0.1',
    port,
    silent: true,
    directory: dir,
    vhostBuckets: false,
    configureBuckets: opts.buckets.map((name) => ({ name })),
  };
  let stopImpl: () => Promise<void>;
  if (opts.inProcess === false) {
    const child = await startChild(serverOpts);
    stopImpl = () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const S3rver = require('s3rver') as S3rverCtor;
    const server = new S3rver(serverOpts);
    await server.run();
    stopImpl = () => server.close();
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    dir,
    region: 'us-east-1',
    env: { AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    async stop() {
      await stopImpl();
      if (ownsDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function startChild(serverOpts: Record<string, unknown>): Promise<ChildProcess> {
  const script = `
    const S3rver = require('s3rver');
    const s = new S3rver(JSON.parse(process.env.S3RVER_OPTS));
    s.run().then(() => process.stdout.write('READY\\n'), (e) => { console.error(e); process.exit(1); });
    process.on('SIGTERM', () => s.close().then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, S3RVER_OPTS: JSON.stringify(serverOpts), NODE_PATH: path.join(__dirname, '..', '..', '..', 'node_modules') },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: path.join(__dirname, '..', '..', '..'),
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('READY')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`s3rver child exited with ${code}: ${err.trim()}`)));
  });
}
