/**
 * ObjectStore over S3 (`@aws-sdk/client-s3` + `@aws-sdk/lib-storage` multipart upload). When
 * `AWS_ENDPOINT_URL_S3` is set the client uses that endpoint with path-style addressing, so any
 * S3-compatible server works (s3rver in tests and the local rehearsal, MinIO, …). Server-side encryption is
 * the bucket's default (SSE-KMS with the region key, set by the Pulumi program); nothing is hardcoded here.
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectInfo, ObjectStore } from '../../backup/index';
import { NotFoundError, OperationError } from '../../core/errors';

export interface S3StoreOptions {
  bucket: string;
  /** Environment to read AWS_ENDPOINT_URL_S3 / AWS_REGION from. */
  env?: Record<string, string | undefined>;
  region?: string;
  /** Multipart part size (bytes, ≥ 5 MiB). */
  partSize?: number;
  /** Parallel part uploads. */
  queueSize?: number;
  client?: S3Client;
}

export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;

/** Client config honouring AWS_ENDPOINT_URL_S3 (path-style) and AWS_REGION. */
export function s3ClientConfig(env: Record<string, string | undefined>, region?: string): S3ClientConfig {
  const endpoint = env.AWS_ENDPOINT_URL_S3;
  const cfg: S3ClientConfig = { region: region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1' };
  if (endpoint) {
    cfg.endpoint = endpoint;
    cfg.forcePathStyle = true;
  }
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    cfg.credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN };
  }
  return cfg;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

export class S3Store implements ObjectStore {
  readonly bucket: string;
  readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.client = opts.client ?? new S3Client(s3ClientConfig(opts.env ?? {}, opts.region));
    this.partSize = opts.partSize ?? DEFAULT_PART_SIZE;
    this.queueSize = opts.queueSize ?? 4;
  }

  get location(): string {
    return `s3://${this.bucket}`;
  }

  async upload(key: string, body: Readable, opts: { contentType?: string; signal?: AbortSignal } = {}): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: opts.contentType ?? 'application/octet-stream' },
      partSize: this.partSize,
      queueSize: this.queueSize,
      // On failure lib-storage aborts the multipart upload (AbortMultipartUpload), so no parts linger.
      leavePartsOnError: false,
    });
    const onAbort = () => void upload.abort().catch(() => undefined);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // If the body errors, lib-storage may keep waiting for data; abort explicitly.
    const onBodyError = () => void upload.abort().catch(() => undefined);
    body.once('error', onBodyError);
    try {
      await upload.done();
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      body.off('error', onBodyError);
    }
  }

  async put(key: string, body: string | Buffer, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async get(key: string, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: opts.signal });
      const body = out.Body;
      if (!body) throw new NotFoundError(key);
      if (body instanceof Readable) return body;
      return Readable.fromWeb((body as { transformToWebStream(): ReadableStream }).transformToWebStream() as import('node:stream/web').ReadableStream);
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(key);
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const out = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      const errors = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (errors.length) throw new OperationError(`could not delete ${errors.map((e) => `${e.Key} (${e.Code})`).join(', ')}`);
    }
  }
}
