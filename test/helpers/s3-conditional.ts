/**
 * S3's conditional writes, for mocked buckets: `If-None-Match: *` creates only a missing object, `If-Match: <etag>`
 * writes or deletes only the version with that ETag; a failed condition is 412 PreconditionFailed, `If-Match` on a
 * missing object 404 NoSuchKey, and a conditional write racing another is 409 ConditionalRequestConflict (injected
 * with {@link ConditionalObjects.conflictNext}). The shapes are the SDK's service exceptions'.
 */
export function s3Error(name: 'PreconditionFailed' | 'ConditionalRequestConflict' | 'NoSuchKey', status: number, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return Object.assign(e, { $metadata: { httpStatusCode: status }, $fault: 'client' });
}

export class ConditionalObjects {
  private readonly etags = new Map<string, string>();
  private n = 0;
  /** Answer the next N conditional requests with 409. */
  conflictNext = 0;

  constructor(readonly objects: Record<string, string> = {}) {}

  put(key: string, body: string, cond: { IfNoneMatch?: string; IfMatch?: string }): { ETag: string } {
    this.check(key, cond);
    this.objects[key] = body;
    const etag = `"${(++this.n).toString(16).padStart(8, '0')}"`;
    this.etags.set(key, etag);
    return { ETag: etag };
  }

  get(key: string): { body: string; ETag: string } | undefined {
    const body = this.objects[key];
    if (body === undefined) return undefined;
    if (!this.etags.has(key)) this.etags.set(key, `"${(++this.n).toString(16).padStart(8, '0')}"`);
    return { body, ETag: this.etags.get(key)! };
  }

  delete(key: string, cond: { IfMatch?: string }): void {
    if (cond.IfMatch !== undefined) this.check(key, cond);
    delete this.objects[key];
    this.etags.delete(key);
  }

  private check(key: string, cond: { IfNoneMatch?: string; IfMatch?: string }): void {
    const conditional = cond.IfNoneMatch !== undefined || cond.IfMatch !== undefined;
    if (conditional && this.conflictNext > 0) {
      this.conflictNext--;
      throw s3Error('ConditionalRequestConflict', 409, 'A conflicting conditional operation is currently in progress against this resource. Please try again.');
    }
    const exists = this.objects[key] !== undefined;
    if (cond.IfNoneMatch === '*' && exists) throw s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
    if (cond.IfMatch !== undefined) {
      if (!exists) throw s3Error('NoSuchKey', 404, 'The specified key does not exist.');
      if (this.get(key)!.ETag !== cond.IfMatch) throw s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
    }
  }
}
