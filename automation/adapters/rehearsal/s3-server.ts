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
 *
 * {@link spawnS3rver} is the one s3rver child program: attached (a child of this process, as above) or detached
 * (the local two-region environment's server, which outlives the `dr` process that started it).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_TOOL_PATH, freePort } from '../tools/proc';

/** In the child's argv, so `/proc/<pid>/cmdline` tells our s3rver from any other process. */
export const S3RVER_PROCESS_TAG = 's3rver-dr-local';
/** What the child prints once it listens. */
const READY_LINE = 's3rver listening';
const ROOT = path.join(__dirname, '..', '..', '..');

export interface S3ServerOptions {
  buckets: string[];
  /** Storage directory; a temp dir (removed on stop) when omitted. */
  dir?: string;
  port?: number;
  inProcess?: boolean;
  /** The caller's environment (PATH) for the child server (`inProcess: false`). */
  env?: Record<string, string | undefined>;
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
  const serverOpts = s3rverConfig(dir, port, opts.buckets);
  let stopImpl: () => Promise<void>;
  if (opts.inProcess === false) {
    const child = await startChild(serverOpts, opts.env);
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

/** s3rver's options: 127.0.0.1 only, path-style buckets, created at start. */
export function s3rverConfig(directory: string, port: number, buckets: readonly string[]): Record<string, unknown> {
  return { address: '127.0.0.1', port, silent: true, directory, vhostBuckets: false, configureBuckets: buckets.map((name) => ({ name })) };
}

export interface SpawnS3rverOptions {
  /** Detach (own process group, not waited for) and append stdout/stderr to this file. */
  detachedLog?: string;
  /** Environment the child's PATH comes from. */
  env?: Record<string, string | undefined>;
}

/**
 * Spawn the s3rver child program with `config` (see {@link s3rverConfig}). It prints {@link READY_LINE} once it
 * listens, exits 1 if it cannot start, and closes the server on SIGTERM. Attached: stdout/stderr are pipes.
 * Detached: output goes to `detachedLog` and the child is unref'd, so it outlives this process.
 */
export function spawnS3rver(config: Record<string, unknown>, opts: SpawnS3rverOptions = {}): ChildProcess {
  const script = `
    const S3rver = require('s3rver');
    const s = new S3rver(JSON.parse(process.env.S3RVER_OPTS));
    s.run().then(() => console.log('${READY_LINE}'), (e) => { console.error(e); process.exit(1); });
    process.on('SIGTERM', () => s.close().then(() => process.exit(0)));
  `;
  const env = { PATH: opts.env?.PATH ?? DEFAULT_TOOL_PATH, S3RVER_OPTS: JSON.stringify(config), NODE_PATH: path.join(ROOT, 'node_modules') };
  if (!opts.detachedLog) return spawn(process.execPath, ['-e', script, S3RVER_PROCESS_TAG], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  const out = fs.openSync(opts.detachedLog, 'a');
  try {
    const child = spawn(process.execPath, ['-e', script, S3RVER_PROCESS_TAG], { env, stdio: ['ignore', out, out], cwd: ROOT, detached: true });
    child.unref();
    return child;
  } finally {
    fs.closeSync(out);
  }
}

function startChild(serverOpts: Record<string, unknown>, env: Record<string, string | undefined> | undefined): Promise<ChildProcess> {
  const child = spawnS3rver(serverOpts, { env });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes(READY_LINE)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`s3rver child exited with ${code}: ${err.trim()}`)));
  });
}
