/**
 * The few facts of the bridged Terraform schema the "no replacement" tests rely on, for
 * `aws:elasticache/replicationGroup:ReplicationGroup` (hashicorp/terraform-provider-aws,
 * internal/service/elasticache/replication_group.go, which @pulumi/aws bridges; Pulumi names in camelCase):
 * - `forceNew`: a changed value replaces the group (the schema's `ForceNew`, plus `transitEncryptionEnabled`, which
 *   `CustomizeDiff` forces new on engines before 7.0.5 — treated as replacing here, to be safe);
 * - `computed`: optional AND computed. Left out of the program, the provider keeps the value it last read (Terraform
 *   plans the prior state for a null computed attribute), so removing one of these inputs plans no change.
 *   `authToken` is NOT computed: dropping it from a group that has one is a change (an AUTH token update).
 * Unit tests can only check the program against these facts; a real `pulumi preview` is what proves the provider agrees.
 */
export const REPLICATION_GROUP_SCHEMA = {
  type: 'aws:elasticache/replicationGroup:ReplicationGroup',
  forceNew: [
    'replicationGroupId',
    'atRestEncryptionEnabled',
    'globalReplicationGroupId',
    'kmsKeyId',
    'port',
    'subnetGroupName',
    'snapshotArns',
    'snapshotName',
    'securityGroupNames',
    'dataTieringEnabled',
    'networkType',
    'transitEncryptionEnabled',
  ],
  computed: [
    'applyImmediately',
    'atRestEncryptionEnabled',
    'autoMinorVersionUpgrade',
    'clusterMode',
    'dataTieringEnabled',
    'engine',
    'engineVersion',
    'globalReplicationGroupId',
    'ipDiscovery',
    'maintenanceWindow',
    'networkType',
    'nodeType',
    'numCacheClusters',
    'numNodeGroups',
    'parameterGroupName',
    'replicasPerNodeGroup',
    'securityGroupIds',
    'securityGroupNames',
    'snapshotWindow',
    'subnetGroupName',
    'transitEncryptionEnabled',
    'transitEncryptionMode',
  ],
} as const;

/** Computed inputs per resource type (only the types these tests need). */
export const COMPUTED_INPUTS: Record<string, readonly string[]> = { [REPLICATION_GROUP_SCHEMA.type]: REPLICATION_GROUP_SCHEMA.computed };

/**
 * Whether the provider would plan a change between two recorded input sets of one resource: any input present in
 * `now` must equal its old value; an input `now` leaves out is a change unless the type's schema computes it.
 * Returns the inputs that would change.
 */
export function inputChanges(type: string, was: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const computed = COMPUTED_INPUTS[type] ?? [];
  const keys = new Set([...Object.keys(was), ...Object.keys(now)]);
  const changed: string[] = [];
  for (const k of keys) {
    if (!(k in now) || now[k] === undefined) {
      if (was[k] !== undefined && !computed.includes(k)) changed.push(k);
      continue;
    }
    if (JSON.stringify(was[k]) !== JSON.stringify(now[k])) changed.push(k);
  }
  return changed.sort();
}
