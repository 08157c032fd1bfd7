/**
 * The database's rules: RDS encrypted with a customer key, never public, backups kept at least 7 days, deletion
 * protection with a final snapshot, Multi-AZ (advisory) — and the cross-region copy: a read replica in the peer
 * region under its own region's key, with the source's automated backups replicated there.
 *
 * Justified exceptions (docs/policy.md):
 * - a read replica keeps no backups of its own (`backupRetentionPeriod 0`): its backups are the source's automated
 *   backups replicated into its region (InstanceAutomatedBackupsReplication, checked by `dr-peer-region-copy`);
 *   RDS also refuses a final snapshot when deleting a replica; and it is single-AZ by design (it IS the standby; a
 *   promotion makes it Multi-AZ, `database.promotedMultiAz`). Storage encryption of a replica is inherited from its
 *   source (`storageEncrypted` is ignored), its key must still be named: a cross-region replica needs a key of its
 *   own region.
 * - a scratch drill's restored instance keeps 1 day of backups, no deletion protection and no final snapshot: it
 *   lives for the drill.
 */
import type { ReportViolation, ResourceValidationArgs, StackValidationArgs } from '@pulumi/policy';
import { dependenciesOf, homeRegion, inferRole, instanceKind, keysBehind, label, namesCustomerKey, read, regionOf, TYPES, UNKNOWN } from './model';

/** The shortest automated-backup retention the stack's point-in-time recovery may have, in days. */
export const MIN_BACKUP_RETENTION_DAYS = 7;

/** rds-storage-encrypted: storage encrypted (a source), with a customer-managed key (every instance). */
export function rdsStorageEncrypted(args: ResourceValidationArgs, report: ReportViolation): void {
  if (args.type !== TYPES.rdsInstance) return;
  const kind = instanceKind(args.props);
  if (kind !== 'replica' && read(args.props, 'storageEncrypted') !== true) report('RDS storage must be encrypted (storageEncrypted: true).');
  const key = read(args.props, 'kmsKeyId');
  if (key === undefined || key === null || key === '') {
    report('RDS storage must be encrypted with the region\'s customer-managed KMS key (kmsKeyId); a cross-region replica needs a key of its own region.');
  }
}

/** rds-no-public-access: not publicly accessible. */
export function rdsNoPublicAccess(args: ResourceValidationArgs, report: ReportViolation): void {
  if (args.type !== TYPES.rdsInstance) return;
  if (read(args.props, 'publiclyAccessible') === true) report('RDS instance must not be publicly accessible.');
}

/** rds-backups-retained: automated backups kept ≥ 7 days (not a replica, not a scratch restore). */
export function rdsBackupsRetained(args: ResourceValidationArgs, report: ReportViolation): void {
  if (args.type !== TYPES.rdsInstance) return;
  const kind = instanceKind(args.props);
  if (kind === 'replica') return args.notApplicable('a read replica: its backups are the source\'s, replicated into its region (dr-peer-region-copy)');
  if (kind === 'restore') return args.notApplicable('a scratch drill\'s restored instance lives for the drill');
  const days = read(args.props, 'backupRetentionPeriod');
  if (days === UNKNOWN) return;
  if (typeof days !== 'number' || days < MIN_BACKUP_RETENTION_DAYS) {
    report(`RDS automated backups must be kept at least ${MIN_BACKUP_RETENTION_DAYS} days for point-in-time recovery (backupRetentionPeriod: ${JSON.stringify(days)}; RDS defaults to 1 day when unset).`);
  }
}

/** rds-deletion-protection: deletion protection on, and a final snapshot on delete (a replica cannot take one). */
export function rdsDeletionProtection(args: ResourceValidationArgs, report: ReportViolation): void {
  if (args.type !== TYPES.rdsInstance) return;
  const kind = instanceKind(args.props);
  if (kind === 'restore') return args.notApplicable('a scratch drill\'s restored instance is deleted after the drill');
  if (read(args.props, 'deletionProtection') !== true) report('RDS instance must have deletion protection on (deletionProtection: true).');
  if (kind === 'replica') return;
  const final = read(args.props, 'finalSnapshotIdentifier');
  if (read(args.props, 'skipFinalSnapshot') === true || final === undefined || final === '') {
    report('RDS instance must take a final snapshot when deleted (skipFinalSnapshot false, finalSnapshotIdentifier set).');
  }
}

/** rds-multi-az (advisory): Multi-AZ (not a replica, not a scratch restore). */
export function rdsMultiAz(args: ResourceValidationArgs, report: ReportViolation): void {
  if (args.type !== TYPES.rdsInstance) return;
  const kind = instanceKind(args.props);
  if (kind === 'replica') return args.notApplicable('a read replica is the standby itself; promoted, it becomes Multi-AZ (database.promotedMultiAz)');
  if (kind === 'restore') return args.notApplicable('a scratch drill\'s restored instance');
  if (read(args.props, 'multiAz') !== true) report('RDS instance should be Multi-AZ (database.multiAz): a single-AZ primary turns an AZ outage into a regional failover.');
}

/**
 * dr-peer-region-copy: the stack's data has a copy in the peer region under that region's own key.
 * - every role but scratch declares a KMS key in the peer region (the key its replicas there are encrypted with);
 * - a secondary's database is a read replica encrypted with a key of ITS region (not the source's), and the
 *   source's automated backups are replicated into its region under a key of its region, kept ≥ 7 days;
 * - a promoted secondary keeps that backups replication (removing it would delete the replicated backups).
 * The primary's replica lives in the peer stack: the secondary stack is where it is checked.
 */
export function drPeerRegionCopy(args: StackValidationArgs, report: ReportViolation): void {
  const role = inferRole(args.resources);
  if (role === 'scratch') return args.notApplicable('a scratch drill has no peer region');
  const home = homeRegion(args.resources);
  const keys = args.resources.filter((r) => r.type === TYPES.kmsKey);
  if (!keys.some((k) => regionOf(k) !== undefined && regionOf(k) !== home)) {
    report(`no KMS key in the peer region: the replicas this stack places there need a key of their own region (home region ${home ?? 'unknown'}).`);
  }
  const inHome = (r: { provider?: { props: Record<string, unknown> }; props: Record<string, unknown> }) => regionOf(r) === home;
  const ownRegionKey = (r: (typeof args.resources)[number], prop: string): boolean => {
    const behind = keysBehind(r, prop);
    if (behind.length > 0) return behind.every(inHome);
    const v = read(r.props, prop);
    return typeof v === 'string' && v.split(':')[3] === home;
  };
  const backups = args.resources.filter((r) => r.type === TYPES.rdsBackupsReplication);
  if (role === 'secondary') {
    for (const db of args.resources.filter((r) => r.type === TYPES.rdsInstance && instanceKind(r.props) === 'replica')) {
      if (!namesCustomerKey(db, 'kmsKeyId') || !ownRegionKey(db, 'kmsKeyId')) report(`${label(db)}: the read replica must be encrypted with a key of its own region (${home}), not the source's.`, db.urn);
      if (dependenciesOf(db, 'replicateSourceDb').length === 0) {
        const src = read(db.props, 'replicateSourceDb');
        if (typeof src === 'string' && src.startsWith('arn:') && src.split(':')[3] === home) report(`${label(db)}: the source database must be in the peer region, not ${home}.`, db.urn);
      }
    }
  }
  if (role === 'secondary' || role === 'promoted') {
    if (backups.length === 0) report('the source database\'s automated backups are not replicated into this region (aws.rds.InstanceAutomatedBackupsReplication): no point-in-time recovery here after losing the source region.');
    for (const b of backups) {
      if (!namesCustomerKey(b, 'kmsKeyId') || !ownRegionKey(b, 'kmsKeyId')) report(`${label(b)}: the replicated backups must be encrypted with a key of this region (${home}).`, b.urn);
      const days = read(b.props, 'retentionPeriod');
      if (days !== UNKNOWN && (typeof days !== 'number' || days < MIN_BACKUP_RETENTION_DAYS)) report(`${label(b)}: replicated backups must be kept at least ${MIN_BACKUP_RETENTION_DAYS} days (retentionPeriod: ${JSON.stringify(days)}).`, b.urn);
    }
  }
}
