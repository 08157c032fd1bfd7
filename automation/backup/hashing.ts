import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/**
 * Buffer this much on each side of the hash step. Node's 16 KiB default makes the transform push back on a
 * producer's 64 KiB pipe reads, so pg_dump stalls on a full pipe while the event loop catches up.
 */
export const HASH_STREAM_BUFFER = 1024 * 1024;

/** A pass-through Transform that computes sha256 and counts bytes on the way (chunks are passed, not copied). */
export class HashCounter extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  private digestHex?: string;

  constructor(highWaterMark = HASH_STREAM_BUFFER) {
    super({ highWaterMark });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  /** Hex sha256 of everything that passed; only valid once the stream ended. */
  hex(): string {
    if (!this.digestHex) this.digestHex = this.hash.digest('hex');
    return this.digestHex;
  }
}
