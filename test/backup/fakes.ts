/** In-memory fakes for the backup engine's ports (unit tests without servers). */
import { Readable } from 'node:stream';
import { NotFoundError, ObjectInfo, ObjectStore } from '../../automation/backup/ports';

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();
  /** lastModified per key (set by put/upload from `now`, or by tests). */
  readonly modified = new Map<string, Date>();
  now: () => Date = () => new Date();
  readonly location = 'mem://bucket';
  async upload(key: string, body: Readable): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(c as Buffer);
    this.objects.set(key, Buffer.concat(parts));
    this.modified.set(key, this.now());
  }
  async put(key: string, body: string | Buffer, _contentType?: string): Promise<void> {
    this.objects.set(key, Buffer.from(body));
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
}
