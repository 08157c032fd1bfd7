/**
 * An in-memory ObjectStore (the backup engine's port) for tests that do not need the S3 protocol: objects by
 * key, a lastModified per key (from `now`, or set by the test), and failure injection (`failPuts`).
 */
import { Readable } from 'node:stream';
import { ObjectInfo, ObjectStore } from '../../automation/backup/index';
import { NotFoundError } from '../../automation/core/errors';

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();
  /** lastModified per key (set by put/upload from `now`, or by tests). */
  readonly modified = new Map<string, Date>();
  now: () => Date = () => new Date();
  /** Make every put/upload fail as an unreachable bucket would. */
  failPuts = false;
  constructor(readonly location: string = 'mem://bucket') {}
  async upload(key: string, body: Readable): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(Buffer.from(c as Buffer));
    await this.put(key, Buffer.concat(parts));
  }
  async put(key: string, body: string | Buffer, _contentType?: string): Promise<void> {
    if (this.failPuts) throw new Error(`connect ETIMEDOUT ${this.location}`);
    this.objects.set(key, Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));
    this.modified.set(key, this.now());
  }
  async get(key: string): Promise<Readable> {
    const b = this.objects.get(key);
    if (!b) throw new NotFoundError(key);
    return Readable.from([b]);
  }
  async head(key: string): Promise<ObjectInfo | undefined> {
    const b = this.objects.get(key);
    return b ? { key, size: b.length } : undefined;
  }
  async list(prefix: string): Promise<ObjectInfo[]> {
    return [...this.objects].filter(([k]) => k.startsWith(prefix)).map(([key, b]) => ({ key, size: b.length, lastModified: this.modified.get(key) }));
  }
  async delete(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.objects.delete(k);
  }
  /** The object's body as UTF-8 ('' when absent). */
  text(key: string): string {
    return this.objects.get(key)?.toString('utf8') ?? '';
  }
}
