/**
 * The stack outputs, named once. components/regional-dr.ts exports exactly these (its `RegionalDrOutputs` is checked
 * against {@link StackOutputName}), a peer stack reads {@link PEER_OUTPUTS} through its StackReference, and the `dr`
 * CLI reads them from `pulumi stack output --json` (automation/adapters/aws/topology.ts `OUTPUT_KEYS`).
 * Every output is a name, endpoint or ARN — never a secret value.
 *
 * Pure and Pulumi-free: the backup-job image compiles lib/ and automation/ only.
 */

/** `names` itself, if every value equals its key (a compile error otherwise). */
function selfNamed<const T extends { readonly [K in keyof T]: K }>(names: T): Readonly<T> {
  return Object.freeze(names);
}

/** Every stack output name (key = value). */
export const STACK_OUTPUTS = selfNamed({
  /** The stack's role (`primary` | `secondary` | `scratch`) as configured. */
  role: 'role',
  /** This stack's region. */
  region: 'region',
  /** The other region of the pair. */
  peerRegion: 'peerRegion',
  /** RDS instance identifier. */
  dbIdentifier: 'dbIdentifier',
  /** RDS `host:port`. */
  dbEndpoint: 'dbEndpoint',
  /** RDS instance ARN (a secondary replicates the primary's). */
  dbArn: 'dbArn',
  /** The DB credentials secret in this region (the primary's own, or its replica here). */
  dbSecretArn: 'dbSecretArn',
  /** Redis primary endpoint host. */
  cacheEndpoint: 'cacheEndpoint',
  /** ElastiCache replication group id. */
  cacheReplicationGroupId: 'cacheReplicationGroupId',
  /** The Redis auth-token secret in this region (a global-datastore member outputs its replica of the owner's). */
  cacheAuthSecretArn: 'cacheAuthSecretArn',
  /** The Redis global datastore (owned by the primary, joined by the secondary). */
  globalDatastoreId: 'globalDatastoreId',
  /** Backup bucket name. */
  bucketName: 'bucketName',
  /** Backup bucket ARN (the peer's replication destination). */
  bucketArn: 'bucketArn',
  /** This region's KMS key (the peer's replication destination key). */
  kmsKeyArn: 'kmsKeyArn',
  /** The key this stack created in the peer region for its replicas there. */
  peerReplicaKmsKeyArn: 'peerReplicaKmsKeyArn',
  /** Bot name → its token secret's ARN (the stack that owns the secrets). */
  botTokenSecretArns: 'botTokenSecretArns',
  /** Route 53 health check of this region's endpoint. */
  healthCheckId: 'healthCheckId',
  /** Alerts topic (components/alerts.ts). */
  topicArn: 'topicArn',
  /** The backup job's function name. */
  backupFunctionName: 'backupFunctionName',
  /** The token monitor's function name (when the stack declares bots). */
  tokenMonitorFunctionName: 'tokenMonitorFunctionName',
  /** The failover record's name. */
  recordName: 'recordName',
  /** The hosted zone holding the failover record. */
  hostedZoneId: 'hostedZoneId',
  /** VPC id. */
  vpcId: 'vpcId',
  /** Private subnet ids. */
  subnetIds: 'subnetIds',
  /** The bot application's security group. */
  appSecurityGroupId: 'appSecurityGroupId',
  /** The backup job's security group. */
  backupSecurityGroupId: 'backupSecurityGroupId',
  /** The DB security group (what the failover's unfence restores on the instance). */
  dbSecurityGroupId: 'dbSecurityGroupId',
  /** The empty fence group the failover moves an old primary's instance onto. */
  dbFenceSecurityGroupId: 'dbFenceSecurityGroupId',
});

/** A stack output name. */
export type StackOutputName = keyof typeof STACK_OUTPUTS;

/** Names of the stack outputs a peer stack reads through its StackReference. */
export const PEER_OUTPUTS = Object.freeze({
  dbArn: STACK_OUTPUTS.dbArn,
  kmsKeyArn: STACK_OUTPUTS.kmsKeyArn,
  bucketArn: STACK_OUTPUTS.bucketArn,
  globalDatastoreId: STACK_OUTPUTS.globalDatastoreId,
  cacheAuthSecretArn: STACK_OUTPUTS.cacheAuthSecretArn,
  dbSecretArn: STACK_OUTPUTS.dbSecretArn,
});

/**
 * `T`, provided its keys are exactly the {@link StackOutputName}s (a compile error names a missing or an extra
 * one): the type of the program's outputs is written against it, so the program and this list cannot drift.
 */
export type StackOutputs<T extends Record<StackOutputName, unknown> & Record<Exclude<keyof T, StackOutputName>, never>> = T;
