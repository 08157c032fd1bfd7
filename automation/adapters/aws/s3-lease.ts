/**
 * LeasePort on AWS: one object, `failover/lock`, in the surviving region's backup bucket, written with S3
 * conditional requests so that of two operators (two machines, or a monitor and an operator) exactly one acts.
 *
 * - take: `PutObject` with `If-None-Match: *` — S3 creates the object only if it does not exist (412 otherwise);
 * - renew and hand back: `PutObject` / `DeleteObject` with `If-Match: <our ETag>` — a lease someone else replaced
 *   answers 412, so we learn we lost it instead of overwriting theirs;
 * - 409 `ConditionalRequestConflict` (a conditional write racing ours) is retried with a bounded backoff.
 *
 * The object names the holder (user@host, pid, command), the failover id, when it was taken, renewed and when it
 * expires. The holder renews it before every step and in the background (every third of its time to live), so a
 * lease outlives its holder by at most one TTL. The semantics are the local environment lock's
 * (adapters/tools/file-lock.ts): a live holder is refused with exit 2 naming them and how long they have held it;
 * a dead holder on this same machine (its pid is gone) is taken over; a holder elsewhere can only be judged by the
 * expiry, and taking over an expired lease needs `--break-lock` (the engine journals the takeover). `--break-lock`
 * on a lease that has not expired is refused.
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { OperationError, RefusedError } from '../../core/errors';
import { systemClock, type Clock } from '../../core/clock';
import type { CallOptions, LeasePort } from '../../failover/index';

export const LEASE_KEY = 'failover/lock';
/** Time to live of a lease; renewed every third of it. A holder that died frees it after at most this long. */
export const LEASE_TTL_MS = 5 * 60_000;

/** The lease object's body. */
export interface LeaseRecord {
  /** `user@host`. */
  holder: string;
  host: string;
  pid: number;
  /** The command as typed, e.g. `dr failover --unplanned`. */
  command: string;
  failover_id: string;
  started_at: string;
  renewed_at: string;
  expires_at: string;
  /** A nonce: tells one holder's lease from another's, and makes re-entry by the same holder a no-op. */
  token: string;
}

/** Who is asking: filled in by the command (the only layer that knows the user, the host and the pid). */
export interface LeaseIdentity {
  user: string;
  host: string;
  pid: number;
  command: string;
}

export interface S3LeaseOptions {
  s3: S3Client;
  bucket: string;
  key?: string;
  identity: LeaseIdentity;
  /** `--break-lock`: take over a lease that has EXPIRED (refused before expiry). */
  breakLock?: boolean;
  /** True when a holder with this pid still runs on this host (file-lock's `holderAlive`); judges same-host holders. */
  localPidAlive?: (pid: number) => boolean;
  ttlMs?: number;
  clock?: Clock;
  /** Background renewal; tests pass their own. Default: an unref'd `setInterval`. */
  every?: (ms: number, fn: () => void) => () => void;
  /** 409 retries. */
  conflictRetry?: { attempts: number; delayMs: number };
}

/** A lease is held by someone else (exit 2): names the holder and how long they have held it. */
export class LeaseHeldError extends RefusedError {
  constructor(
    readonly lease: LeaseRecord,
    message: string,
  ) {
    super(message, { lease: { holder: lease.holder, pid: lease.pid, command: lease.command, failover_id: lease.failover_id, started_at: lease.started_at, expires_at: lease.expires_at } });
  }
}

/** We held the lease and someone replaced it (broke it after it expired): stop acting. */
export class LeaseLostError extends OperationError {}

function statusOf(err: unknown): number | undefined {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.$metadata?.httpStatusCode) return e.$metadata.httpStatusCode;
  if (e?.name === 'PreconditionFailed') return 412;
  if (e?.name === 'ConditionalRequestConflict') return 409;
  if (e?.name === 'NoSuchKey' || e?.name === 'NotFound') return 404;
  return undefined;
}

function seconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
}

function isRecord(v: unknown): v is LeaseRecord {
  const r = v as LeaseRecord;
  return !!r && typeof r.holder === 'string' && typeof r.token === 'string' && typeof r.expires_at === 'string' && typeof r.pid === 'number';
}

export class S3Lease implements LeasePort {
  private readonly key: string;
  private readonly clock: Clock;
  private readonly ttl: number;
  private mine?: { record: LeaseRecord; etag: string };
  private depth = 0;
  private stopTimer?: () => void;
  private lost?: string;
  private renewing?: Promise<void>;

  constructor(private readonly o: S3LeaseOptions) {
    this.key = o.key ?? LEASE_KEY;
    this.clock = o.clock ?? systemClock;
    this.ttl = o.ttlMs ?? LEASE_TTL_MS;
  }

  get location(): string {
    return `s3://${this.o.bucket}/${this.key}`;
  }

  async acquire(id: string, opts?: CallOptions): Promise<{ took_over?: string }> {
    if (this.mine) {
      this.depth++;
      return {};
    }
    let tookOver: string | undefined;
    for (let attempt = 0; attempt < 6; attempt++) {
      const record = this.record(id);
      const created = await this.conditional(() => this.put(record, { IfNoneMatch: '*' }));
      if (created.ok) return this.held(record, created.etag, tookOver);
      if (created.status === 409) continue; // raced another conditional write; try again
      const current = await this.read();
      if (!current) continue; // released between our PUT and our GET
      const verdict = this.judge(current.record);
      if (verdict.refuse) throw new LeaseHeldError(current.record, verdict.refuse);
      const replaced = await this.conditional(() => this.put(record, { IfMatch: current.etag }));
      if (replaced.ok) {
        tookOver = verdict.takeover!;
        opts?.log?.(`lease ${this.location}: ${tookOver}`);
        return this.held(record, replaced.etag, tookOver);
      }
      // 412: someone else replaced the dead lease first; read again and judge theirs.
    }
    const now = await this.read();
    if (now) throw new LeaseHeldError(now.record, `the failover lease ${this.location} keeps changing hands (held now by ${now.record.holder}); try again`);
    throw new OperationError(`could not take the failover lease ${this.location}: S3 kept answering 409 (conditional request conflict); try again`);
  }

  async renew(opts?: CallOptions): Promise<void> {
    // One renewal at a time: the background timer and a step boundary must not race with the same ETag (the second
    // would get 412 and think the lease was lost).
    if (!this.renewing) this.renewing = this.renewOnce(opts).finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(opts?: CallOptions): Promise<void> {
    if (this.lost) throw new LeaseLostError(this.lost);
    if (!this.mine) throw new LeaseLostError(`the failover lease ${this.location} is not held by this run`);
    const now = this.clock.now();
    const record: LeaseRecord = { ...this.mine.record, renewed_at: now.toISOString(), expires_at: new Date(now.getTime() + this.ttl).toISOString() };
    const r = await this.conditional(() => this.put(record, { IfMatch: this.mine!.etag }));
    if (r.ok) {
      this.mine = { record, etag: r.etag };
      return;
    }
    if (r.status === 412 || r.status === 404) {
      const current = await this.read().catch(() => undefined);
      this.lost = `the failover lease ${this.location} was taken over${current ? ` by ${current.record.holder} (${current.record.command}, failover ${current.record.failover_id})` : ''}: this run stops, the other operator acts now`;
      this.stop();
      opts?.log?.(this.lost);
      throw new LeaseLostError(this.lost);
    }
    throw new OperationError(`could not renew the failover lease ${this.location}: S3 kept answering 409`);
  }

  async release(opts?: CallOptions): Promise<void> {
    if (!this.mine) return;
    if (this.depth > 0) {
      this.depth--;
      return;
    }
    await this.renewing?.catch(() => undefined);
    if (!this.mine) return;
    const etag = this.mine.etag;
    this.mine = undefined;
    this.stop();
    try {
      await this.o.s3.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: this.key, IfMatch: etag }));
    } catch (err) {
      // 412: it is no longer ours (broken after it expired); leave theirs alone. Anything else: it expires by itself.
      opts?.log?.(`lease ${this.location} not removed (${statusOf(err) === 412 ? 'someone else holds it now' : (err as Error).message}); it expires on its own`);
    }
  }

  /** Decide about someone else's lease: refuse (with the message), or take it over (with the journal line). */
  private judge(r: LeaseRecord): { refuse?: string; takeover?: string } {
    const now = this.clock.now().getTime();
    const held = `${r.holder} (pid ${r.pid}, ${r.command}, failover ${r.failover_id}) since ${r.started_at} (${seconds(now - Date.parse(r.started_at))})`;
    const expiresIn = Date.parse(r.expires_at) - now;
    const sameHostDead = r.host === this.o.identity.host && this.o.localPidAlive !== undefined && !this.o.localPidAlive(r.pid);
    if (sameHostDead) return { takeover: `took over the lease of ${held}: that process is no longer running on this host` };
    if (expiresIn > 0) {
      const why = this.o.breakLock ? '--break-lock is allowed only after the lease has expired; ' : '';
      return { refuse: `the failover lease ${this.location} is held by ${held}; it expires in ${seconds(expiresIn)} unless renewed. ${why}Wait for them to finish, or ask them; nothing was changed` };
    }
    if (!this.o.breakLock) {
      return { refuse: `the failover lease ${this.location} of ${held} expired at ${r.expires_at} (${seconds(-expiresIn)} ago): its holder is probably gone. Make sure they stopped, then rerun with --break-lock to take it over (the takeover is journaled); nothing was changed` };
    }
    return { takeover: `broke the expired lease of ${held} (expired at ${r.expires_at}) with --break-lock` };
  }

  private record(id: string): LeaseRecord {
    const now = this.clock.now();
    const i = this.o.identity;
    return {
      holder: `${i.user}@${i.host}`,
      host: i.host,
      pid: i.pid,
      command: i.command,
      failover_id: id,
      started_at: now.toISOString(),
      renewed_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.ttl).toISOString(),
      token: randomBytes(8).toString('hex'),
    };
  }

  private held(record: LeaseRecord, etag: string, tookOver: string | undefined): { took_over?: string } {
    this.mine = { record, etag };
    this.lost = undefined;
    const every = this.o.every ?? defaultEvery;
    this.stopTimer = every(Math.max(1_000, Math.floor(this.ttl / 3)), () => {
      void this.renew().catch(() => undefined);
    });
    return tookOver ? { took_over: tookOver } : {};
  }

  private stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  private async put(record: LeaseRecord, cond: { IfNoneMatch: string } | { IfMatch: string }): Promise<string> {
    const r = await this.o.s3.send(new PutObjectCommand({ Bucket: this.o.bucket, Key: this.key, Body: JSON.stringify(record), ContentType: 'application/json', ...cond }));
    return r.ETag ?? '';
  }

  /** A conditional call: ok with the ETag, or the 412/409 status; anything else throws. 409 is retried first. */
  private async conditional(fn: () => Promise<string>): Promise<{ ok: true; etag: string } | { ok: false; status: 404 | 409 | 412 }> {
    const retry = this.o.conflictRetry ?? { attempts: 4, delayMs: 250 };
    for (let i = 0; ; i++) {
      try {
        return { ok: true, etag: await fn() };
      } catch (err) {
        const status = statusOf(err);
        // 412: the condition failed; 404: `If-Match` on an object that is gone (someone removed the lease).
        if (status === 412 || status === 404) return { ok: false, status };
        if (status !== 409) throw err;
        if (i + 1 >= retry.attempts) return { ok: false, status };
        await this.clock.sleep(retry.delayMs * (i + 1));
      }
    }
  }

  private async read(): Promise<{ record: LeaseRecord; etag: string } | undefined> {
    try {
      const r = await this.o.s3.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: this.key }));
      const text = r.Body ? await r.Body.transformToString() : '';
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      // An unreadable lease object is treated as expired long ago, held by nobody we can name.
      const record: LeaseRecord = isRecord(parsed) ? parsed : { holder: 'unknown', host: '', pid: 0, command: 'unreadable lease object', failover_id: '?', started_at: new Date(0).toISOString(), renewed_at: new Date(0).toISOString(), expires_at: new Date(0).toISOString(), token: '' };
      return { record, etag: r.ETag ?? '' };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }
}

function defaultEvery(ms: number, fn: () => void): () => void {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
}
