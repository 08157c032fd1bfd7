/** An in-memory ObjectStore (C's port) with failure injection, for tests that do not need the S3 protocol. */
import { Readable } from 'node:stream';
import { NotFoundError, ObjectInfo, ObjectStore } from '../../automation/backup/ports';

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();
  failPuts = false;
  constructor(readonly location: string) {}
  async upload(key: string, body: Readable): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c as Buffer));
    await this.put(key, Buffer.concat(chunks));
  }
  async put(key: string, body: string | Buffer): Promise<void> {
    if (this.failPuts) throw new Error(`connect ETIMEDOUT ${this.location}`);
    this.objects.set(key, Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));
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
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([key, b]) => ({ key, size: b.length }));
  }
  async delete(keys: readonly string[]): Promise<void> {
    keys.forEach((k) => this.objects.delete(k));
  }
  text(key: string): string {
    return this.objects.get(key)?.toString('utf8') ?? '';
  }
}
