/**
 * What one region of the DR pair declares, decided from its configuration alone: the pure half of
 * components/regional-dr.ts (which turns these decisions into resources). No Pulumi, no I/O.
 *
 * - primary: the writable region. It owns the DB credentials, the source DB, the cache's auth token (and the
 *   global datastore if enabled) and the bot-token secrets, and replicates them to the peer region.
 * - secondary: a cross-region read replica, a member of the primary's global datastore (if enabled), reading the
 *   primary's replicated secrets; no bot-token secrets of its own.
 * - promoted secondary (`database.promoted`, set by a failover): the writable region now — it adopts the promoted
 *   bot-token replicas (`import`), runs the backup schedules and alarms as the active region; its DNS record keeps
 *   the type it was created with (health checks and `dr` decide routing).
 * - detached secondary (`cache.detached`, set by an unplanned failover whose cache left the global datastore): its
 *   member group stands alone and this stack creates the next global datastore from it (components/cache.ts).
 * - scratch: a restored drill DB and a standalone cache; nothing in the peer region, no DNS, no backup jobs.
 */
import type { Role } from './config';

/** The configuration the decisions depend on (a validated `StackConfig` fits). */
export interface RegionRolesInput {
  /** The stack's configured role. */
  role: Role;
  /** This stack's region. */
  region: string;
  /** The other region of the pair. */
  peerRegion: string;
  /** The peer stack, when configured. */
  peerStack?: string;
  /** `database.promoted`: a secondary promoted by a failover. */
  database: { promoted: boolean };
  /**
   * `cache.globalDatastore`: the primary owns a global datastore, the secondary joins it; `cache.detached`: the
   * secondary's group left it (unplanned failover) and this stack creates the next one from it.
   */
  cache: { globalDatastore: boolean; detached: boolean };
  /** `backup.replicateToPeer`: replicate the backup bucket to the peer's. */
  backup: { replicateToPeer: boolean };
  /** The configured bots (only their number matters here). */
  bots: readonly unknown[];
  /** The failover DNS settings, when configured. */
  dns?: unknown;
}

/** Route 53 health-check metrics exist only in this region (the health-check alarm must be there). */
export const ROUTE53_METRICS_REGION = 'us-east-1';

/** The decisions; each field names what it switches on. */
export interface RegionRoles {
  /** A scratch drill stack. */
  scratch: boolean;
  /**
   * The role the region acts as now: a promoted secondary is the writable region, so `primary`; otherwise the
   * configured role. Backup schedules are enabled and backup-age alarms treat missing data as breaching on `primary`.
   */
  activeRole: Role;
  /** The kind of database instance (components/database.ts `DatabaseMode`). */
  database: 'primary' | 'replica' | 'promoted' | 'scratch';
  /**
   * The DB credentials: `owner` generates the master password into a secret replicated to the peer region (the
   * primary); `reader` reads that secret's replica in this region by name (a secondary, promoted or not); `none`
   * for scratch (RDS manages the drill instance's secret).
   */
  dbCredentials: 'owner' | 'reader' | 'none';
  /**
   * The cache (components/cache.ts `CacheMode`): `owner` of its auth token (standalone or global primary), `member` of
   * the peer's global datastore, or `detached`: a former member that left it and leads the next generation.
   */
  cache: 'owner' | 'member' | 'detached';
  /**
   * The stack declares the global datastore: the primary with `cache.globalDatastore` (generation 1, or the next one
   * when its own group was left standalone), or a detached secondary (the datastore it creates from its group).
   */
  ownsGlobalDatastore: boolean;
  /** Bot-token secrets: `none`, `own` (create them), or `adopt` the promoted replicas in this region. */
  botTokens: 'none' | 'own' | 'adopt';
  /** The promoted secondary adopts the promoted bot-token replicas (`import`), standalone. */
  adoptTokens: boolean;
  /** Replicate the bot-token secrets to the peer region (their owner, unless it is a drill). */
  replicateTokensToPeer: boolean;
  /** A provider and a replica KMS key in the peer region (every role but scratch). */
  peerRegionResources: boolean;
  /** Read the peer stack's outputs through a StackReference. */
  readsPeerStack: boolean;
  /** Replicate the backup bucket to the peer's bucket (named by the peer stack's outputs). */
  replicateBackupsToPeer: boolean;
  /** Route 53 failover DNS (health check + failover record). */
  dns: boolean;
  /** The scheduled backup job and its schedules; backup-age and restore-test alarms. */
  backupJobs: boolean;
  /** The replica-lag alarm (a read replica only). */
  replicaLagAlarm: boolean;
  /**
   * The provider the health-check alarm uses in us-east-1: `none` (no DNS, or this region is us-east-1), the
   * `peer` region's provider (the peer is us-east-1), or an `extra` us-east-1 provider.
   */
  usEast1Provider: 'none' | 'peer' | 'extra';
}

/** Decide what a region declares from its configuration. */
export function decideRegionRoles(config: RegionRolesInput): RegionRoles {
  const { role } = config;
  const scratch = role === 'scratch';
  const promoted = role === 'secondary' && config.database.promoted;
  const detached = role === 'secondary' && config.cache.globalDatastore && config.cache.detached;
  const member = role === 'secondary' && config.cache.globalDatastore && !detached;
  const botTokens = config.bots.length > 0 && (role !== 'secondary' || promoted) ? (promoted ? 'adopt' : 'own') : 'none';
  const dns = config.dns !== undefined && !scratch;
  const readsPeerStack = !!config.peerStack && !scratch;
  return {
    scratch,
    activeRole: promoted ? 'primary' : role,
    database: role === 'primary' ? 'primary' : role === 'secondary' ? (promoted ? 'promoted' : 'replica') : 'scratch',
    dbCredentials: scratch ? 'none' : role === 'primary' ? 'owner' : 'reader',
    cache: detached ? 'detached' : member ? 'member' : 'owner',
    ownsGlobalDatastore: config.cache.globalDatastore && (role === 'primary' || detached),
    botTokens,
    adoptTokens: promoted,
    replicateTokensToPeer: botTokens === 'own' && !scratch,
    peerRegionResources: !scratch,
    readsPeerStack,
    replicateBackupsToPeer: config.backup.replicateToPeer && readsPeerStack,
    dns,
    backupJobs: !scratch,
    replicaLagAlarm: role === 'secondary' && !promoted,
    usEast1Provider: !dns || config.region === ROUTE53_METRICS_REGION ? 'none' : config.peerRegion === ROUTE53_METRICS_REGION ? 'peer' : 'extra',
  };
}
