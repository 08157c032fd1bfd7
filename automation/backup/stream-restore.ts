/**
 * The restore test's restore with no local copy: the stored object streams through sha256 straight into
 * `pg_restore` reading standard input (one job — a custom-format archive read in order), so the download and the
 * restore overlap and nothing of the dump touches local storage (Lambda's /tmp, a task's ephemeral volume).
 *
 * Checksum first, still: here the SCRATCH database is written while the hash is being computed, which is acceptable
 * only because it is a throw-away database nobody serves from (verifyRestore creates it, and always drops it). The
 * result counts only once the whole object has been hashed and matches the manifest: a mismatch is a
 * VerificationError — the backup is corrupt — whatever pg_restore said. When pg_restore stops early, the rest of the
 * object is still read and hashed (and dropped), so the error says which it was: corrupt bytes, or a restore that
 * failed on intact ones.
 *
 * `dr restore postgres` into a real target never uses this: there the checksum is verified BEFORE anything is
 * touched (restorePostgres: download and verify, then pg_restore -j N).
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OperationError, VerificationError } from '../core/errors';
import { redact } from '../core/redact';
import { HashCounter } from './hashing';
import { checksumHex, Manifest } from './manifest';
import type { ObjectStore, PgTools, RestoreProcess } from './ports';
import { compareCounts, TableComparison } from './postgres';

/** Where a streamed restore's time went (ms): the overlapped download + pg_restore, and the row counts. */
export interface StreamedRestore {
  tables: TableComparison[];
  phases: Record<'stream' | 'verify', number>;
}

/**
 * A Writable that forwards every chunk to `target` (one at a time: the next waits for the previous write's
 * callback, so the pipe's backpressure holds) until the target fails, and from then on swallows the rest — so the
 * hash upstream still sees every byte after pg_restore stopped reading.
 */
class ForwardThenDrop extends Writable {
  failed?: Error;

  constructor(private readonly target: Writable) {
    super({ highWaterMark: 1024 * 1024 });
    target.on('error', (err: Error) => void (this.failed ??= err));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.failed || this.target.destroyed || this.target.writableEnded) return cb();
    this.target.write(chunk, (err) => {
      if (err) this.failed ??= err;
      cb();
    });
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.failed || this.target.destroyed) return cb();
    this.target.end(() => cb());
  }
}

/**
 * Stream `manifest`'s object into an empty scratch database at `targetUrl` with `pg_restore` on stdin, hash it on the
 * way, and compare the row counts. Throws VerificationError (checksum or row counts) or OperationError (pg_restore
 * failed on intact bytes), like the verified restore.
 */
export async function restoreScratchStreamed(o: {
  store: ObjectStore;
  tools: PgTools & { restoreStream: NonNullable<PgTools['restoreStream']> };
  manifest: Manifest;
  targetUrl: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}): Promise<StreamedRestore> {
  const t0 = Date.now();
  const counter = new HashCounter();
  const body = await o.store.get(o.manifest.key, { signal: o.signal });
  const proc: RestoreProcess = o.tools.restoreStream(o.targetUrl, { clean: false, signal: o.signal });
  const sink = new ForwardThenDrop(proc.stdin);
  try {
    await pipeline(body, counter, sink, { signal: o.signal });
  } catch (err) {
    proc.kill();
    await proc.done.catch(() => undefined);
    throw err;
  }
  const restored = await proc.done.then(
    () => undefined,
    (err: unknown) => err,
  );
  const got = counter.hex();
  if (got !== checksumHex(o.manifest) || counter.bytes !== o.manifest.size_bytes) {
    throw new VerificationError(
      `checksum mismatch for ${o.manifest.key}: manifest says ${o.manifest.checksum} (${o.manifest.size_bytes} bytes), stored object is sha256:${got} (${counter.bytes} bytes); the backup is corrupt (the scratch database it was streamed into is dropped)`,
      { key: o.manifest.key, expected: o.manifest.checksum, actual: `sha256:${got}` },
    );
  }
  o.log?.(`checksum verified (${o.manifest.checksum}), streamed into the scratch database`);
  if (restored !== undefined) {
    throw new OperationError(`pg_restore into the scratch database failed (the backup's checksum matches): ${redact(restored instanceof Error ? restored.message : String(restored))}`);
  }
  const tStreamed = Date.now();
  const tables = compareCounts(o.manifest.tables ?? {}, await o.tools.tableCounts(o.targetUrl));
  const bad = tables.filter((t) => !t.ok);
  if (bad.length) throw new VerificationError(`restored data does not match the manifest: ${bad.map((t) => `${t.table} expected ${t.expected} rows, found ${t.actual}`).join('; ')}`, { tables });
  o.log?.(`row counts match the manifest for ${tables.length} table(s)`);
  return { tables, phases: { stream: tStreamed - t0, verify: Date.now() - tStreamed } };
}
