/**
 * What `dr failback` asks of RDS in the home region (ops/failback.ts's {@link FailbackDatabase}): describe an
 * instance, find or take the pre-failback snapshot of the old primary, read a snapshot's status, and lift deletion
 * protection so the stack can replace the old primary with a replica.
 */
import { CreateDBSnapshotCommand, DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, ModifyDBInstanceCommand, type RDSClient } from '@aws-sdk/client-rds';

/** An RDS instance as failback sees it. */
export interface DbView {
  exists: boolean;
  status?: string;
  /** Set when the instance is a read replica (of this source). */
  replicaSource?: string;
  deletionProtection?: boolean;
}

export interface FailbackDatabase {
  describe(dbIdentifier: string): Promise<DbView>;
  /** The first manual snapshot of `dbIdentifier` whose id starts with `prefix`, if any. */
  findSnapshot(dbIdentifier: string, prefix: string): Promise<string | undefined>;
  /** Request a manual snapshot tagged `dr:purpose=pre-failback`. */
  createSnapshot(snapshotId: string, dbIdentifier: string): Promise<void>;
  /** `available`, `creating`, `failed`, … or undefined when there is no such snapshot (yet). */
  snapshotStatus(snapshotId: string): Promise<string | undefined>;
  liftDeletionProtection(dbIdentifier: string): Promise<void>;
}

export function rdsFailbackDatabase(rds: RDSClient): FailbackDatabase {
  return {
    async describe(id) {
      try {
        const d = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
        if (!d) return { exists: false };
        return { exists: true, status: d.DBInstanceStatus, replicaSource: d.ReadReplicaSourceDBInstanceIdentifier, deletionProtection: d.DeletionProtection };
      } catch (err) {
        if ((err as { name?: string }).name === 'DBInstanceNotFoundFault') return { exists: false };
        throw err;
      }
    },
    async findSnapshot(id, prefix) {
      const snaps = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: id, SnapshotType: 'manual' }));
      return (snaps.DBSnapshots ?? []).find((s) => s.DBSnapshotIdentifier?.startsWith(prefix))?.DBSnapshotIdentifier;
    },
    async createSnapshot(snapshotId, id) {
      await rds.send(new CreateDBSnapshotCommand({ DBSnapshotIdentifier: snapshotId, DBInstanceIdentifier: id, Tags: [{ Key: 'dr:purpose', Value: 'pre-failback' }] }));
    },
    async snapshotStatus(snapshotId) {
      return (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }))).DBSnapshots?.[0]?.Status;
    },
    async liftDeletionProtection(id) {
      await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, DeletionProtection: false, ApplyImmediately: true }));
    },
  };
}
