/**
 * What the backups, the restores and the safety backups share, for both services: naming an unreachable server,
 * streaming a producer into the store while hashing, picking a backup, and downloading one while verifying it.
 */
import { pipeline } from 'node:stream/promises';
import { errorSummary, FlagError, OperationError, UnreachableError, UsageError, VerificationError } from '../core/errors';
import { redact } from '../core/redact';
import { listBackups, readManifest } from './catalog';
import { HashCounter } from './hashing';
import { checksumHex, Manifest } from './manifest';
import type { DumpProcess, ObjectStore, TempDir } from './ports';
import { resolveFrom } from './resolve';

/** Redis keys whose values a backup samples (and a restore or safety backup compares). */
export const KEY_SAMPLE_SIZE = 50;

/** A login the server refused (wrong password, unknown role or database, no pg_hba entry): not a network problem. */
const LOGIN_REFUSED = /password authentication failed|authentication failed|no pg_hba\.conf entry|role "[^"]*" does not exist|database "[^"]*" does not exist|WRONGPASS|NOAUTH|invalid username-password/i;

/**
 * Say what a tool's {@link UnreachableError} means for `what` (an operational failure, exit 1): a server that
 * refused the login is named as such, not as unreachable.
 */
export function unreachable(err: unknown, what: string): never {
  if (err instanceof UnreachableError) {
    const reason = redact(err.reason);
    if (LOGIN_REFUSED.test(err.reason)) throw new OperationError(`${what} ${redact(err.target)} refused the login: ${reason}`, undefined, { cause: err });
    throw new OperationError(`${what} ${redact(err.target)} is unreachable: ${reason}`, undefined, { cause: err });
  }
  throw err;
}

/** Outcome of {@link streamToStore}. */
export interface Streamed {
  bytes: number;
  sha256: string;
  /** ms from start until the producer exited. */
  producerMs: number;
  /** ms from the producer's exit until the upload completed (last part + CompleteMultipartUpload). */
  uploadTailMs: number;
}

/**
 * Stream a producer's stdout into `store.upload(key)` through a hash counter. Resolves only when the producer
 * exited 0 and the upload completed; otherwise kills the producer, makes sure nothing is left under `key`,
 * and rethrows.
 */
export async function streamToStore(proc: DumpProcess, store: ObjectStore, key: string, signal?: AbortSignal): Promise<Streamed> {
  const t0 = Date.now();
  let producerAt = t0;
  const counter = new HashCounter();
  // If the producer fails, fail the stream feeding the upload so the multipart upload is aborted rather than
  // completed with a truncated body.
  const producerDone = proc.done.then(
    () => void (producerAt = Date.now()),
    (err: unknown) => {
      counter.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    },
  );
  proc.stdout.on('error', (err) => counter.destroy(err));
  proc.stdout.pipe(counter);
  // Which side failed first is the cause: a producer that dies fails the upload, and an upload that fails (no such
  // bucket, access denied) is why the producer was stopped.
  let first: 'producer' | 'upload' | undefined;
  producerDone.catch(() => void (first ??= 'producer'));
  const uploaded = store.upload(key, counter, { contentType: 'application/octet-stream', signal });
  uploaded.catch(() => {
    first ??= 'upload';
    proc.kill();
  });
  const results = await Promise.allSettled([producerDone, uploaded]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    proc.kill();
    await store.delete([key]).catch(() => undefined);
    if (first === 'upload' && results[1].status === 'rejected') throw new OperationError(`the upload to ${store.location}/${key} failed: ${redact(errorSummary(results[1].reason))}`, undefined, { cause: results[1].reason });
    throw results[0].status === 'rejected' ? results[0].reason : failed.reason;
  }
  const end = Date.now();
  return { bytes: counter.bytes, sha256: counter.hex(), producerMs: producerAt - t0, uploadTailMs: Math.max(0, end - producerAt) };
}

/** Pick a backup by `--file KEY` or `--from`. */
export async function selectBackup(store: ObjectStore, service: 'postgresql' | 'redis', from: string | undefined, file: string | undefined): Promise<Manifest> {
  if (file) {
    const dataK = file.replace(/\.metadata\.json$/, '');
    try {
      const m = await readManifest(store, dataK);
      if (m.service !== service) throw new FlagError(`--file ${file} is a ${m.service} backup, not ${service}`);
      return m;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new FlagError(`--file ${file}: no complete backup with that key (${err instanceof Error ? err.message : String(err)}); run 'dr backups list'`);
    }
  }
  const entry = resolveFrom(from ?? 'latest', await listBackups(store, { service }));
  return readManifest(store, entry.dataKey);
}

/**
 * Download an object to `file` while hashing; throws VerificationError when the sha256 or size differs from
 * the manifest. The caller removes the file.
 */
export async function downloadVerified(store: ObjectStore, manifest: Manifest, into: { dir: TempDir; name: string }, signal?: AbortSignal): Promise<void> {
  const counter = new HashCounter();
  const body = await store.get(manifest.key, { signal });
  await pipeline(body, counter, into.dir.writer(into.name), { signal });
  const got = counter.hex();
  if (got !== checksumHex(manifest) || counter.bytes !== manifest.size_bytes) {
    throw new VerificationError(
      `checksum mismatch for ${manifest.key}: manifest says ${manifest.checksum} (${manifest.size_bytes} bytes), stored object is sha256:${got} (${counter.bytes} bytes); the backup is corrupt, nothing was restored`,
      { key: manifest.key, expected: manifest.checksum, actual: `sha256:${got}` },
    );
  }
}
