/**
 * JournalPort on AWS: the failover journal kept in the surviving region's backup bucket
 * (`failover/journal/<id>.json`) AND a local copy ({@link FileJournal}), so another operator's machine can resume a
 * failover that this one started, and a failover can go on while S3 is briefly unreachable.
 *
 * - append: local first (fsynced: durable when it resolves), then the whole journal is PUT to S3 (a few KB). A
 *   failed PUT is logged and retried on the next append — every PUT carries the full journal, so the S3 copy heals
 *   itself — and {@link S3Journal.remoteBehind} says which ids are behind.
 * - read: the newer of the two copies (more entries; on a tie the local one). When S3 is newer (another machine
 *   went further) the missing entries are appended to the local copy first, so both stay one history.
 * - The S3 object carries a sha256 of its entries; a mismatching object is reported as damage and ignored.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { redact } from '../../core/redact';
import type { JournalEntry, JournalPort, JournalRead } from '../../failover/index';
import { FileJournal } from '../tools/file-journal';
import { errorSummary } from '../../core/errors';

export const JOURNAL_PREFIX = 'failover/journal/';

export interface S3JournalOptions {
  bucket: string;
  s3: S3Client;
  local: FileJournal;
  log?: (line: string) => void;
}

interface RemoteDoc {
  id: string;
  sha256: string;
  entries: JournalEntry[];
}

function sha(entries: JournalEntry[]): string {
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

export class S3Journal implements JournalPort {
  readonly location: string;
  readonly remoteBehind = new Set<string>();

  constructor(private readonly o: S3JournalOptions) {
    this.location = `s3://${o.bucket}/${JOURNAL_PREFIX} + ${o.local.location}`;
  }

  key(id: string): string {
    return `${JOURNAL_PREFIX}${id}.json`;
  }

  private async readRemote(id: string): Promise<{ entries: JournalEntry[]; damage: string[] } | undefined> {
    let text: string;
    try {
      const r = await this.o.s3.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: this.key(id) }));
      text = r.Body ? await r.Body.transformToString() : '';
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return { entries: [], damage: [] };
      this.o.log?.(redact(`journal: s3://${this.o.bucket}/${this.key(id)} unreadable (${errorSummary(err)}); using the local copy`));
      return undefined;
    }
    try {
      const doc = JSON.parse(text) as RemoteDoc;
      if (!Array.isArray(doc.entries) || doc.id !== id || sha(doc.entries) !== doc.sha256) return { entries: [], damage: [`s3://${this.o.bucket}/${this.key(id)}: checksum or id mismatch, ignored`] };
      return { entries: doc.entries, damage: [] };
    } catch {
      return { entries: [], damage: [`s3://${this.o.bucket}/${this.key(id)}: not valid JSON, ignored`] };
    }
  }

  private async putRemote(id: string, entries: JournalEntry[]): Promise<void> {
    const doc: RemoteDoc = { id, sha256: sha(entries), entries };
    try {
      await this.o.s3.send(new PutObjectCommand({ Bucket: this.o.bucket, Key: this.key(id), Body: JSON.stringify(doc), ContentType: 'application/json' }));
      this.remoteBehind.delete(id);
    } catch (err) {
      this.remoteBehind.add(id);
      this.o.log?.(redact(`journal: could not write s3://${this.o.bucket}/${this.key(id)} (${errorSummary(err)}); the local copy is complete, the next entry retries`));
    }
  }

  async append(entry: JournalEntry): Promise<void> {
    await this.o.local.append(entry);
    const local = await this.o.local.read(entry.id);
    await this.putRemote(entry.id, local.entries);
  }

  async read(id: string): Promise<JournalRead> {
    const local = await this.o.local.read(id);
    const remote = await this.readRemote(id);
    if (!remote) return local;
    const damage = [...local.damage, ...remote.damage];
    if (remote.entries.length > local.entries.length) {
      const isPrefix = local.entries.every((e, i) => JSON.stringify(e) === JSON.stringify(remote.entries[i]));
      if (!isPrefix) {
        damage.push(`the local journal of ${id} and s3://${this.o.bucket}/${this.key(id)} disagree; using the S3 copy (longer)`);
        return { entries: remote.entries, damage };
      }
      for (const e of remote.entries.slice(local.entries.length)) await this.o.local.append(e);
      return { entries: remote.entries, damage };
    }
    if (local.entries.length > remote.entries.length) await this.putRemote(id, local.entries);
    return { entries: local.entries, damage };
  }

  async list(): Promise<string[]> {
    const ids = new Set(await this.o.local.list());
    let token: string | undefined;
    try {
      do {
        const r = await this.o.s3.send(new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: JOURNAL_PREFIX, ContinuationToken: token }));
        for (const o of r.Contents ?? []) {
          const m = o.Key?.slice(JOURNAL_PREFIX.length).match(/^(.+)\.json$/);
          if (m) ids.add(m[1]);
        }
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      this.o.log?.(redact(`journal: cannot list s3://${this.o.bucket}/${JOURNAL_PREFIX} (${errorSummary(err)}); local journals only`));
    }
    const withTime = await Promise.all(
      [...ids].map(async (id) => {
        const r = await this.read(id);
        const begin = r.entries.find((e) => e.kind === 'begin') ?? r.entries[0];
        return { id, at: begin?.at ?? '' };
      }),
    );
    return withTime.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id.localeCompare(b.id))).map((x) => x.id);
  }
}
