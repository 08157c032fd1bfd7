/**
 * RDS and ElastiCache snapshots by tier (AWS only).
 *
 * RDS: weekly/monthly jobs CreateDBSnapshot `<prefix>-<tier>-<YYYYMMDD>-<HHMMSS>`, wait until available, then
 * CopyDBSnapshot into the peer region encrypted with the PEER's KMS key. The source is named by its ARN, which
 * carries the source region; this SDK version's CopyDBSnapshot input has no `SourceRegion` (outside GovCloud RDS
 * no longer needs a presigned URL), so none is sent. Pruning deletes this job's manual snapshots of a tier beyond the newest `keep`, in
 * both regions, recognised by their name prefix AND their `dr:tier` tag (never someone else's snapshot).
 *
 * ElastiCache: CreateSnapshot / DescribeSnapshots / DeleteSnapshot by the same naming and tag rules, and the
 * export of a snapshot to the backup bucket (CopySnapshot with TargetBucket) — the portable RDB when the cache
 * refuses SYNC. Export prerequisites (infrastructure, not this code):
 *  - the bucket is in the same region as the snapshot;
 *  - ElastiCache may write to it: bucket ACLs enabled (Object Ownership "BucketOwnerPreferred", not
 *    "BucketOwnerEnforced") with a grant to the ElastiCache canonical user of the region (standard regions:
 *    540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353) of READ + WRITE on the bucket and
 *    READ_ACP; opt-in regions instead use a bucket-policy statement for the principal
 *    `<region>.elasticache-snapshot.amazonaws.com` (s3:PutObject, s3:GetObject, s3:ListBucket,
 *    s3:GetBucketAcl, s3:ListMultipartUploadParts, s3:ListBucketMultipartUploads);
 *  - the job's role: elasticache:CopySnapshot on the snapshot, plus s3 Get/Delete/List on the export prefix.
 *
 * Every wait is bounded (`timeoutMs`) and polls every `pollMs`; the clock and sleep are injectable so tests
 * run the whole state machine without waiting.
 */
import {
  CopyDBSnapshotCommand,
  CreateDBSnapshotCommand,
  DBSnapshot,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  DescribeDBSnapshotsCommandOutput,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  DescribeSnapshotsCommandOutput,
  ElastiCacheClient,
  Snapshot,
} from '@aws-sdk/client-elasticache';
import type { BackupTier } from '../../../lib/lifecycle';
import type { CacheExporter, CacheSnapshots, DbSnapshots, ObjectStore } from '../../backup/index';
import { OperationError } from '../../core/errors';

export const TIER_TAG = 'dr:tier';
export const MANAGED_TAG = 'dr:managed-by';
export const MANAGED_BY = 'bot-platform-dr-backup-job';

/** `<prefix>-<tier>-20250101-030000` (RDS/ElastiCache identifiers: letters, digits, single hyphens). */
export function snapshotName(prefix: string, tier: BackupTier, stamp: string): string {
  return `${prefix}-${tier}-${stamp.replace('_', '-')}`.toLowerCase();
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polling knobs shared by every wait here; `sleep`/`now` are injected by tests (fake clock). */
export interface PollTiming {
  pollMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export class WaitTimeoutError extends Error {
  constructor(readonly what: string, readonly lastStatus: string, readonly waitedMs: number) {
    super(`${what}: still ${lastStatus} after ${Math.round(waitedMs / 1000)} s; giving up`);
    this.name = 'WaitTimeoutError';
  }
}

type Probe<T> = { done: true; value: T } | { done: false; status: string };

/**
 * Probe until done, at most `timeoutMs` (measured on the injected clock), sleeping `pollMs` between probes.
 * A probe that throws ends the wait with its error (e.g. the snapshot failed).
 */
export async function pollUntil<T>(what: string, timing: PollTiming, defaults: { pollMs: number; timeoutMs: number }, probe: () => Promise<Probe<T>>, log: (l: string) => void = () => undefined): Promise<T> {
  const now = timing.now ?? Date.now;
  const sleep = timing.sleep ?? realSleep;
  const pollMs = timing.pollMs ?? defaults.pollMs;
  const timeoutMs = timing.timeoutMs ?? defaults.timeoutMs;
  const start = now();
  for (;;) {
    const r = await probe();
    if (r.done) return r.value;
    const waited = now() - start;
    if (waited + pollMs > timeoutMs) throw new WaitTimeoutError(what, r.status, waited);
    log(`waiting for ${what}: ${r.status}`);
    await sleep(pollMs);
  }
}

export interface RdsSnapshotsOptions {
  rds: RDSClient;
  region: string;
  instanceId: string;
  prefix: string;
  /** Copy target; omit to skip the cross-region copy. */
  peer?: { rds: RDSClient; region: string; kmsKeyId: string };
  /** Wait for `available` (default: poll 20 s, give up after 60 min). */
  timing?: PollTiming;
  /** @deprecated use timing.pollMs */
  pollMs?: number;
  /** @deprecated use timing.timeoutMs */
  timeoutMs?: number;
}

export class RdsSnapshots implements DbSnapshots {
  constructor(private readonly o: RdsSnapshotsOptions) {}

  private tags(tier: BackupTier) {
    return [
      { Key: TIER_TAG, Value: tier },
      { Key: MANAGED_TAG, Value: MANAGED_BY },
    ];
  }

  private waitAvailable(client: RDSClient, id: string, log: (l: string) => void): Promise<DBSnapshot> {
    const timing: PollTiming = { pollMs: this.o.pollMs, timeoutMs: this.o.timeoutMs, ...this.o.timing };
    return pollUntil(
      `RDS snapshot ${id}`,
      timing,
      { pollMs: 20_000, timeoutMs: 60 * 60_000 },
      async () => {
        const s = (await client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }))).DBSnapshots?.[0];
        if (s?.Status === 'available') return { done: true, value: s };
        if (s?.Status === 'failed' || s?.Status === 'deleted') throw new OperationError(`snapshot ${id} is ${s.Status}`);
        return { done: false, status: `${s?.Status ?? 'not visible yet'} (${s?.PercentProgress ?? 0}%)` };
      },
      log,
    );
  }

  async createAndCopy(tier: BackupTier, stamp: string, log: (l: string) => void = () => undefined): Promise<{ snapshotId: string; copyId?: string }> {
    const id = snapshotName(this.o.prefix, tier, stamp);
    await this.o.rds.send(new CreateDBSnapshotCommand({ DBSnapshotIdentifier: id, DBInstanceIdentifier: this.o.instanceId, Tags: this.tags(tier) }));
    const snap = await this.waitAvailable(this.o.rds, id, log);
    if (!this.o.peer) return { snapshotId: id };
    const p = this.o.peer;
    await p.rds.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: snap.DBSnapshotArn ?? id,
        TargetDBSnapshotIdentifier: id,
        KmsKeyId: p.kmsKeyId,
        CopyTags: false,
        Tags: this.tags(tier),
      }),
    );
    log(`copying ${id} to ${p.region} under the peer key`);
    return { snapshotId: id, copyId: id };
  }

  private async listManaged(client: RDSClient, tier: BackupTier): Promise<DBSnapshot[]> {
    const out: DBSnapshot[] = [];
    let marker: string | undefined;
    do {
      const page: DescribeDBSnapshotsCommandOutput = await client.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: this.o.instanceId, SnapshotType: 'manual', Marker: marker }));
      out.push(...(page.DBSnapshots ?? []));
      marker = page.Marker;
    } while (marker);
    const namePrefix = `${this.o.prefix}-${tier}-`.toLowerCase();
    return out.filter((s) => s.DBSnapshotIdentifier?.startsWith(namePrefix) && s.TagList?.some((t) => t.Key === TIER_TAG && t.Value === tier));
  }

  async prune(tier: BackupTier, keep: number, log: (l: string) => void = () => undefined): Promise<string[]> {
    const deleted: string[] = [];
    const clients: Array<[RDSClient, string]> = [[this.o.rds, this.o.region]];
    if (this.o.peer) clients.push([this.o.peer.rds, this.o.peer.region]);
    for (const [client, region] of clients) {
      // Only available snapshots count toward `keep`: one still being made or copied may yet fail.
      const snaps = (await this.listManaged(client, tier)).filter((x) => x.Status === 'available').sort((a, b) => (b.SnapshotCreateTime?.getTime() ?? 0) - (a.SnapshotCreateTime?.getTime() ?? 0));
      for (const s of snaps.slice(keep)) {
        if (!s.DBSnapshotIdentifier) continue;
        await client.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: s.DBSnapshotIdentifier }));
        deleted.push(`${region}:${s.DBSnapshotIdentifier}`);
        log(`deleted RDS snapshot ${s.DBSnapshotIdentifier} in ${region}`);
      }
    }
    return deleted;
  }
}

export interface CacheSnapshotsOptions {
  client: ElastiCacheClient;
  replicationGroupId: string;
  prefix: string;
  /** Export target: the backup bucket (its name for CopySnapshot, its store to find the exported object). */
  exportBucket?: { name: string; store: ObjectStore };
  /** Waits for snapshot creation and export (default: poll 15 s, give up after 45 min). */
  timing?: PollTiming;
}

const CACHE_WAIT = { pollMs: 15_000, timeoutMs: 45 * 60_000 };

export class ElastiCacheSnapshots implements CacheSnapshots, CacheExporter {
  constructor(private readonly o: CacheSnapshotsOptions) {}

  async create(tier: BackupTier, stamp: string): Promise<{ snapshotName: string }> {
    const name = snapshotName(this.o.prefix, tier, stamp);
    await this.o.client.send(
      new CreateSnapshotCommand({
        ReplicationGroupId: this.o.replicationGroupId,
        SnapshotName: name,
        Tags: [
          { Key: TIER_TAG, Value: tier },
          { Key: MANAGED_TAG, Value: MANAGED_BY },
        ],
      }),
    );
    return { snapshotName: name };
  }

  async prune(tier: BackupTier, keep: number, log: (l: string) => void = () => undefined): Promise<string[]> {
    const all: Snapshot[] = [];
    let marker: string | undefined;
    do {
      const page: DescribeSnapshotsCommandOutput = await this.o.client.send(new DescribeSnapshotsCommand({ ReplicationGroupId: this.o.replicationGroupId, SnapshotSource: 'user', Marker: marker }));
      all.push(...(page.Snapshots ?? []));
      marker = page.Marker;
    } while (marker);
    const namePrefix = `${this.o.prefix}-${tier}-`.toLowerCase();
    const created = (s: Snapshot) => s.NodeSnapshots?.[0]?.SnapshotCreateTime?.getTime() ?? 0;
    // Only available snapshots count toward `keep` (and only they are deleted): one being made may yet fail.
    const mine = all.filter((s) => s.SnapshotName?.startsWith(namePrefix) && s.SnapshotStatus === 'available').sort((a, b) => created(b) - created(a) || (b.SnapshotName ?? '').localeCompare(a.SnapshotName ?? ''));
    const deleted: string[] = [];
    for (const s of mine.slice(keep)) {
      if (!s.SnapshotName) continue;
      await this.o.client.send(new DeleteSnapshotCommand({ SnapshotName: s.SnapshotName }));
      deleted.push(s.SnapshotName);
      log(`deleted ElastiCache snapshot ${s.SnapshotName}`);
    }
    return deleted;
  }

  private async describe(name: string): Promise<Snapshot | undefined> {
    return (await this.o.client.send(new DescribeSnapshotsCommand({ SnapshotName: name }))).Snapshots?.[0];
  }

  /** Poll until the snapshot is `available` (bounded); `failed`/`deleting` or a vanished snapshot end it. */
  async waitAvailable(name: string, log: (l: string) => void = () => undefined, phase = 'ElastiCache snapshot'): Promise<Snapshot> {
    return pollUntil(
      `${phase} ${name}`,
      this.o.timing ?? {},
      CACHE_WAIT,
      async () => {
        const s = await this.describe(name);
        if (s?.SnapshotStatus === 'available') return { done: true, value: s };
        if (s?.SnapshotStatus === 'failed' || s?.SnapshotStatus === 'deleting') throw new OperationError(`ElastiCache snapshot ${name} is ${s.SnapshotStatus}`);
        return { done: false, status: s?.SnapshotStatus ?? 'not visible yet' };
      },
      log,
    );
  }

  /**
   * Export `snapshotName` to the backup bucket as `<prefix><snapshotName>…rdb`: wait until the snapshot is
   * available, CopySnapshot with TargetBucket, wait until the source is available again (the export is done),
   * then find the exported object. Exactly one RDB is expected: a cluster-mode-enabled group with several
   * shards exports one file per shard, which `dr restore redis` (one RDB) cannot restore — refused clearly.
   */
  async exportSnapshot(snapshotName: string, prefix: string, log: (l: string) => void = () => undefined): Promise<{ key: string }> {
    const target = this.o.exportBucket;
    if (!target) throw new OperationError('ElastiCache export needs exportBucket (the backup bucket)');
    const source = await this.waitAvailable(snapshotName, log);
    const groups = new Set((source.NodeSnapshots ?? []).map((n) => n.NodeGroupId ?? '0001'));
    if (groups.size > 1) throw new OperationError(`ElastiCache snapshot ${snapshotName} has ${groups.size} shards; the portable copy supports one shard (cluster mode disabled)`);
    const targetName = `${prefix}${snapshotName}`;
    await this.o.client.send(new CopySnapshotCommand({ SourceSnapshotName: snapshotName, TargetSnapshotName: targetName, TargetBucket: target.name }));
    log(`exporting ElastiCache snapshot ${snapshotName} to s3://${target.name}/${targetName}`);
    await this.waitAvailable(snapshotName, log, 'export of ElastiCache snapshot');
    // The export is complete when the source is available again; the object may take a moment to be listed.
    const key = await pollUntil(
      `exported object s3://${target.name}/${targetName}*.rdb`,
      this.o.timing ?? {},
      { pollMs: 5_000, timeoutMs: 5 * 60_000 },
      async () => {
        const found = (await target.store.list(targetName)).filter((o) => o.key.endsWith('.rdb'));
        if (found.length > 1) throw new OperationError(`export of ${snapshotName} produced ${found.length} RDB files (${found.map((f) => f.key).join(', ')}); expected one`);
        return found.length === 1 ? { done: true, value: found[0].key } : { done: false, status: 'not listed yet' };
      },
      log,
    );
    return { key };
  }
}
