import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/** A pass-through Transform that computes sha256 and counts bytes on the way. */
export class HashCounter extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  private digestHex?: string;

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
