/**
 * What the readiness engine observes: one observation type per area, and the {@link ReadinessObserver} port that
 * delivers them (adapters/aws/readiness-observer.ts on AWS, adapters/rehearsal/readiness-observer.ts for the local
 * rehearsal). Every fact an observer could not read is an {@link Unobserved} with the reason, never a guess: the
 * checks turn it into a `warn` (or a `fail` when the whole area could not be observed).
 *
 * Times are ISO 8601 strings, so an observation is plain JSON (tests build them by hand).
 */
import type { BackupService, BackupTier } from '../../lib/lifecycle';
import type { ReadinessArea, ReadinessCalls, ReadinessEnvironment } from '../../lib/readiness';

/**
 * A fact the observer could not read, and why. `error`: it tried and failed (an API error, a region that does not
 * answer): the check fails. Without it the fact cannot be observed in this deployment (e.g. an SDK client that is not
 * installed): the check warns.
 */
export interface Unobserved {
  unobserved: string;
  error?: boolean;
}

/** A fact, or why it is not known. */
export type Observed<T> = T | Unobserved;

export function isUnobserved(v: unknown): v is Unobserved {
  return typeof v === 'object' && v !== null && typeof (v as Unobserved).unobserved === 'string';
}

/** Not observable here (the check warns). */
export function unobserved(reason: string): Unobserved {
  return { unobserved: reason };
}

/** The observation failed (the check fails). */
export function observationFailed(reason: string): Unobserved {
  return { unobserved: reason, error: true };
}

// --- database ---------------------------------------------------------------------------------

export interface TlsSettings {
  /** `rds.force_ssl` (`1` enforces TLS). */
  forceSsl?: string;
  /** `ssl_min_protocol_version`. */
  minProtocol?: string;
  /** The instance's CA (`CACertificateIdentifier`). */
  caIdentifier?: string;
}

/** One database instance (or local cluster). */
export interface DbInstanceView {
  id: string;
  region: string;
  /** e.g. `available` (AWS), `primary`/`standby` (local). */
  status: string;
  engineVersion?: string;
  instanceClass?: string;
  parameterFamily?: Observed<string>;
  tls?: Observed<TlsSettings>;
}

export interface DatabaseObservation {
  /** The RPO budget (seconds). */
  rpoSeconds: number;
  /** The serving (writable) database. */
  primary: Observed<DbInstanceView>;
  /** The cross-region standby; null when there is none (after a failover, until `dr failback`). */
  replica: Observed<DbInstanceView> | null;
  /** Replication as the standby (or the primary's sender) reports it. */
  replication: Observed<{ streaming: boolean; state: string; detail: string }>;
  /** Replication lag; `seconds` null when no datapoint was reported. */
  lag: Observed<{ seconds: number | null; observedAt?: string }>;
  /** AWS: the primary's automated backups replicated into the standby's region. */
  automatedBackups?: Observed<{ replicated: boolean; region: string; resource: string; status?: string; latestRestorableTime?: string }>;
  /** Local: each region's fence state. */
  fence?: Observed<FenceState[]>;
}

/** One region's data tier and whether it is fenced (local rehearsal). */
export interface FenceState {
  region: string;
  role: 'primary' | 'standby' | 'unreachable';
  fenced: boolean;
  /** The service name (DNS record file) points at it. */
  serving: boolean;
}

// --- cache ------------------------------------------------------------------------------------

export interface GlobalDatastoreView {
  id: string;
  status: string;
  members: Array<{ replicationGroupId: string; region: string; role: string; status: string }>;
}

export interface CacheObservation {
  servingRegion: string;
  standbyRegion: string;
  /** Lag above this warns (the RPO budget, seconds). */
  lagBudgetSeconds: number;
  /** AWS: the global datastore (null when the stacks have none). */
  global?: Observed<GlobalDatastoreView | null>;
  /** AWS: `GlobalDatastoreReplicationLag` of the standby's member; `seconds` null when none was reported. */
  lag?: Observed<{ seconds: number | null; observedAt?: string }>;
  /** Local: the standby Redis' link to its primary (`master_link_status`). */
  link?: Observed<{ region: string; status: string; lagBytes?: number }>;
  /** Local: each region's fence state. */
  fence?: Observed<FenceState[]>;
}

// --- backups ----------------------------------------------------------------------------------

export interface BackupView {
  service: BackupService;
  tier: BackupTier;
  dataKey: string;
  /** When the backup was taken (from its key). */
  date: string;
  complete: boolean;
}

export interface BackupsObservation {
  /** The tiers expected to exist (the rehearsal takes daily backups only). */
  tiers: readonly BackupTier[];
  /** Both regions' buckets and what they hold. */
  buckets: Array<{ region: string; bucket: string; entries: Observed<BackupView[]> }>;
  /** AWS: the newest restore test among the PostgreSQL manifests (undefined `newest`: none ever ran). */
  restoreTest?: Observed<{ bucket: string; newest?: { at: string; ok: boolean; key: string; error?: string } }>;
  /** AWS: S3 `OperationsFailedReplication` from the serving bucket to the standby's; `failed` null: no datapoint. */
  replication?: Observed<{ source: string; destination: string; failed: number | null; windowHours: number }>;
}

// --- secrets ----------------------------------------------------------------------------------

export interface SecretReplicaView {
  label: string;
  /** The secret as described (its ARN or name in `region`). */
  secret: string;
  /** Where it was described (the serving region). */
  region: string;
  /** The region its replica must be in. */
  peerRegion: string;
  /** `ReplicationStatus` as DescribeSecret returns it (empty: not replicated). */
  replication: Array<{ region: string; status: string; kmsKeyId?: string; message?: string }>;
  /** It is itself a replica of another region's secret (`PrimaryRegion`). */
  primaryRegion?: string;
}

export interface SecretsObservation {
  /** AWS: every replicated secret, described in the serving region. */
  replicas?: Observed<Array<Observed<SecretReplicaView> & { label: string }>>;
  /** AWS: each region's KMS key state (`KeyState`). */
  keys?: Observed<Array<{ region: string; keyId: string; state: string }>>;
  /** Local: the credential files and directories with their modes. */
  files?: Observed<Array<{ path: string; kind: 'file' | 'dir'; mode: number; allowed: number }>>;
}

// --- dns --------------------------------------------------------------------------------------

export interface DnsObservation {
  recordName: string;
  standbyRegion: string;
  /** The configured TTL, when known. */
  expectedTtl?: number;
  /** The failover record pair as Route 53 lists it. */
  records: Observed<Array<{ setIdentifier: string; failover?: string; ttl?: number; healthCheckId?: string }>>;
  /** Each record's health check: does it exist (GetHealthCheck). */
  healthChecks: Observed<Array<{ id: string; setIdentifier: string; exists: boolean; detail?: string }>>;
  /** The standby region's endpoint as Route 53's checkers see it. */
  standbyHealth: Observed<{ id: string; status: 'healthy' | 'unhealthy' | 'unknown'; detail: string }>;
}

// --- bots -------------------------------------------------------------------------------------

export interface TokenProbeView {
  index: number;
  state: 'healthy' | 'revoked' | 'rate-limited' | 'unreachable' | 'failing';
  detail?: string;
  /** Discord: `GET /gateway/bot` session_start_limit of this token. */
  sessionStart?: { total: number; remaining: number; resetAfterMs: number };
}

export interface BotView {
  bot: string;
  /** `unknown` only when its record could not be read and the configuration does not say. */
  platform: 'telegram' | 'discord' | 'unknown';
  /** Where its record was read and its tokens probed from. */
  from: string;
  /** Every token probed (a record that cannot be read: Unobserved). */
  tokens: Observed<TokenProbeView[]>;
  active?: number;
  /** AWS: the webhook (Telegram) / interactions endpoint (Discord) as the platform reports it. */
  webhook?: Observed<{ expected?: boolean; url: string; lastErrorAt?: string; lastErrorMessage?: string; pending?: number }>;
  /** AWS: channel rights of every token in the configured channels. */
  permissions?: Observed<{ channels: number; missing: Array<{ index: number; channel: string; missing: string[] }>; errors: Array<{ index: number; channel: string; detail: string }> }>;
}

export interface BotsObservation {
  bots: BotView[];
}

// --- certificates -----------------------------------------------------------------------------

export interface CertificatesObservation {
  items: Array<{ kind: 'rds-ca' | 'rds-server'; resource: string; validTill: Observed<string> }>;
}

// --- jobs -------------------------------------------------------------------------------------

export interface JobsObservation {
  /** The standby region (where the jobs must be ready to take over). */
  region: string;
  image: Observed<{ repository: string; present: boolean; detail?: string }>;
  functions: Observed<Array<{ name: string; present: boolean; state?: string }>>;
  /** Both regions' schedules with the state their role calls for (serving ENABLED, standby DISABLED). */
  schedules: Observed<Array<{ name: string; region: string; state: 'ENABLED' | 'DISABLED' | 'missing'; expected: 'ENABLED' | 'DISABLED' }>>;
}

// --- the port ---------------------------------------------------------------------------------

export interface AreaObservations {
  database: DatabaseObservation;
  cache: CacheObservation;
  backups: BackupsObservation;
  secrets: SecretsObservation;
  dns: DnsObservation;
  bots: BotsObservation;
  certificates: CertificatesObservation;
  jobs: JobsObservation;
}

/**
 * One environment's observations. An area the environment has nothing of is absent (with the reason in
 * `notApplicable`); every present area may reject (its checks then fail with the error as the reason).
 */
export type ReadinessObserver = { [A in ReadinessArea]?: () => Promise<AreaObservations[A]> } & {
  readonly environment: ReadinessEnvironment;
  /** Where it observes from (a region, or `local`). */
  readonly from: string;
  /** Why an absent area does not apply here. */
  readonly notApplicable?: Partial<Record<ReadinessArea, string>>;
  /** The calls made so far (the report carries them). */
  calls?(): ReadinessCalls;
};
