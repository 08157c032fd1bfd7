/**
 * RDS and ElastiCache snapshots by tier (AWS only).
 *
 * RDS: weekly/monthly jobs CreateDBSnapshot `<prefix>-<tier>-<YYYYMMDD>-<HHMMSS>`, wait until available, then
 * CopyDBSnapshot into the peer region encrypted with the PEER's KMS key. The source is named by its ARN, which
 * carries the source region; this SDK version's CopyDBSnapshot input has no `SourceRegion` (outside GovCloud RDS
 * no longer needs a presigned URL), so none is sent. Pruning deletes this job's manual snapshots of a tier beyond the newest `keep`, in
 * both regions, recognised by their name prefix AND their `dr:tier` tag (never someone else's snapshot).
 *
 * ElastiCache: CreateSnapshot / DescribeSnapshots / DeleteSnapshot by the same naming and tag rules.
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
import { CreateSnapshotCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand, DescribeSnapshotsCommandOutput, ElastiCacheClient, Snapshot } from '@aws-sdk/client-elasticache';
import type { BackupTier } from '../../../lib/lifecycle';
import type { CacheSnapshots, DbSnapshots } from '../../backup/ports';

export const TIER_TAG = 'dr:tier';
export const MANAGED_TAG = 'dr:managed-by';
export const MANAGED_BY = 'bot-platform-dr-backup-job';

/** `<prefix>-<tier>-20250101-030000` (RDS/ElastiCache identifiers: letters, digits, single hyphens). */
export function snapshotName(prefix: string, tier: BackupTier, stamp: string): string {
  return `${prefix}-${tier}-${stamp.replace('_', '-')}`.toLowerCase();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface RdsSnapshotsOptions {
  rds: RDSClient;
  region: string;
  instanceId: string;
  prefix: string;
  /** Copy target; omit to skip the cross-region copy. */
  peer?: { rds: RDSClient; region: string; kmsKeyId: string };
  pollMs?: number;
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

  private async waitAvailable(client: RDSClient, id: string, log: (l: string) => void): Promise<DBSnapshot> {
    const deadline = Date.now() + (this.o.timeoutMs ?? 60 * 60_000);
    for (;;) {
      const s = (await client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }))).DBSnapshots?.[0];
      if (s?.Status === 'available') return s;
      if (s?.Status === 'failed' || s?.Status === 'deleted') throw new Error(`snapshot ${id} is ${s.Status}`);
      if (Date.now() > deadline) throw new Error(`snapshot ${id} not available in time (status ${s?.Status})`);
      log(`waiting for snapshot ${id}: ${s?.Status ?? 'not visible yet'} (${s?.PercentProgress ?? 0}%)`);
      await sleep(this.o.pollMs ?? 20_000);
    }
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
}

export class ElastiCacheSnapshots implements CacheSnapshots {
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
}
