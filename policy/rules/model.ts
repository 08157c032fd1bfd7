/**
 * What every rule of the pack reads resources with: a value that may be unknown during a preview, the region a
 * resource is declared in, which resource another one refers to, and the stack's role. Plain functions over
 * `@pulumi/policy`'s resource shapes, so the rules can be called with fake arguments in tests.
 *
 * Unknown values: during `pulumi preview`, a property computed from a resource that does not exist yet is unknown,
 * and reading it through the policy framework's proxy throws (Pulumi then reports the whole policy as "can't run
 * during preview", advisory). The rules therefore link resources through `propertyDependencies` (always known) and
 * read values with {@link read}, which turns an unknown into {@link UNKNOWN} instead of throwing, where a rule can
 * still decide without the value.
 */
import type { PolicyResource } from '@pulumi/policy';

/** A value that cannot be known during a preview (it is computed from a resource not created yet). */
export const UNKNOWN: unique symbol = Symbol('unknown during preview');
export type Unknown = typeof UNKNOWN;

/** The policy framework's error for an unknown value (its class is not in the package's public typings). */
export function isUnknownValueError(e: unknown): boolean {
  return e instanceof Error && e.constructor?.name === 'UnknownValueError';
}

/** `obj.path[0].path[1]…`, `undefined` where the path ends, {@link UNKNOWN} where a value is unknown in a preview. */
export function read(obj: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    try {
      cur = (cur as Record<string | number, unknown>)[key];
    } catch (e) {
      if (isUnknownValueError(e)) return UNKNOWN;
      throw e;
    }
  }
  return cur;
}

/** An array value (`[]` when absent), or {@link UNKNOWN}. */
export function list(obj: unknown, ...path: (string | number)[]): unknown[] | Unknown {
  const v = read(obj, ...path);
  if (v === UNKNOWN) return UNKNOWN;
  if (!Array.isArray(v)) return [];
  const out: unknown[] = [];
  for (let i = 0; i < v.length; i++) out.push(read(v, i));
  return out;
}

/** A string value, or `undefined` if absent or not a string; {@link UNKNOWN} if unknown. */
export function str(obj: unknown, ...path: (string | number)[]): string | undefined | Unknown {
  const v = read(obj, ...path);
  return v === UNKNOWN ? UNKNOWN : typeof v === 'string' ? v : undefined;
}

/** The resource's tags (`tags` input), known or not: tags are literals in this program. */
export function tagsOf(r: PolicyResource | { props: Record<string, unknown> }): Record<string, string> {
  const t = read(r.props, 'tags');
  if (!t || t === UNKNOWN || typeof t !== 'object') return {};
  const out: Record<string, string> = {};
  for (const k of Object.keys(t)) {
    const v = read(t, k);
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** The region a resource is declared in: its provider's `region` (the program passes an explicit regional provider). */
export function regionOf(r: { provider?: { props: Record<string, unknown> }; props: Record<string, unknown> }): string | undefined {
  const fromProvider = r.provider ? str(r.provider.props, 'region') : undefined;
  if (typeof fromProvider === 'string') return fromProvider;
  const own = str(r.props, 'region');
  return typeof own === 'string' ? own : undefined;
}

/** The region of an ARN (`arn:aws:kms:us-east-1:…`), or undefined. */
export function arnRegion(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const parts = arn.split(':');
  return parts.length >= 6 && parts[0] === 'arn' && parts[3] ? parts[3] : undefined;
}

/** The resources the value of `prop` was computed from (empty in a stack that links by literal names). */
export function dependenciesOf(r: PolicyResource, prop: string): PolicyResource[] {
  return r.propertyDependencies?.[prop] ?? [];
}

/**
 * Whether `r.props[prop]` refers to `target`: through `propertyDependencies`, or (a literal) equal to the target's
 * `id`, `bucket`, `name` or `arn`.
 */
export function refersTo(r: PolicyResource, prop: string, target: PolicyResource): boolean {
  if (dependenciesOf(r, prop).includes(target)) return true;
  const v = read(r.props, prop);
  if (typeof v !== 'string') return false;
  return ['id', 'bucket', 'name', 'arn'].some((k) => read(target.props, k) === v);
}

/** Resources of `type` whose `prop` refers to `target`. */
export function referrers(resources: readonly PolicyResource[], type: string, prop: string, target: PolicyResource): PolicyResource[] {
  return resources.filter((r) => r.type === type && refersTo(r, prop, target));
}

/** The KMS keys among the resources `r.props[prop]` was computed from. */
export function keysBehind(r: PolicyResource, prop: string): PolicyResource[] {
  return dependenciesOf(r, prop).filter((d) => d.type === TYPES.kmsKey);
}

/**
 * Whether `r.props[prop]` names a customer-managed KMS key: computed from a declared key, or an ARN literal. An
 * unknown value with no declared key behind it does not count (it could be anything).
 */
export function namesCustomerKey(r: PolicyResource, prop: string, ...inner: (string | number)[]): boolean {
  if (keysBehind(r, prop).length > 0) return true;
  const v = read(r.props, prop, ...inner);
  return typeof v === 'string' && /^arn:aws[a-z-]*:kms:/.test(v) && !/:alias\/aws\//.test(v);
}

/** The type tokens the rules look at. */
export const TYPES = {
  rdsInstance: 'aws:rds/instance:Instance',
  rdsBackupsReplication: 'aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication',
  kmsKey: 'aws:kms/key:Key',
  bucket: 'aws:s3/bucket:Bucket',
  publicAccessBlock: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  versioning: 'aws:s3/bucketVersioning:BucketVersioning',
  encryption: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  replication: 'aws:s3/bucketReplicationConfig:BucketReplicationConfig',
  lifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  logging: 'aws:s3/bucketLogging:BucketLogging',
  objectLock: 'aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration',
  secret: 'aws:secretsmanager/secret:Secret',
  globalDatastore: 'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  healthCheck: 'aws:route53/healthCheck:HealthCheck',
  lambda: 'aws:lambda/function:Function',
  trail: 'aws:cloudtrail/trail:Trail',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  metricFilter: 'aws:cloudwatch/logMetricFilter:LogMetricFilter',
} as const;

/** The `bot-dr:component` tag the program puts on its buckets (components/backup-bucket.ts, backup-audit.ts). */
export const COMPONENT_TAG = 'bot-dr:component';
/** A backup bucket (components/backup-bucket.ts). */
export const BACKUP_BUCKET_COMPONENT = 'backup-bucket';

export function isBackupBucket(r: PolicyResource): boolean {
  return r.type === TYPES.bucket && tagsOf(r)[COMPONENT_TAG] === BACKUP_BUCKET_COMPONENT;
}

/**
 * The role a stack plays, read from what it declares — the decisions lib/roles.ts makes, seen from the outside:
 * - `secondary`: its database is a read replica (`replicateSourceDb`);
 * - `scratch`: its database is restored from a snapshot or to a point in time (lib/config.ts allows `scratch`
 *   settings on role scratch only, so a primary never declares a restore);
 * - `promoted`: a standalone database that keeps the replicated automated backups of the instance it replicated
 *   (a secondary promoted by a failover);
 * - `primary`: anything else.
 */
export type StackRole = 'primary' | 'secondary' | 'promoted' | 'scratch';

/** How one RDS instance is declared: a read replica, a restore (drill), or a source. */
export function instanceKind(props: Record<string, unknown>): 'replica' | 'restore' | 'source' {
  const set = (k: string) => {
    const v = read(props, k);
    return v !== undefined && v !== null && v !== '';
  };
  if (set('replicateSourceDb')) return 'replica';
  if (set('snapshotIdentifier') || set('restoreToPointInTime')) return 'restore';
  return 'source';
}

export function inferRole(resources: readonly PolicyResource[]): StackRole {
  const kinds = resources.filter((r) => r.type === TYPES.rdsInstance).map((r) => instanceKind(r.props));
  if (kinds.includes('replica')) return 'secondary';
  if (kinds.includes('restore')) return 'scratch';
  if (resources.some((r) => r.type === TYPES.rdsBackupsReplication)) return 'promoted';
  return 'primary';
}

/** The stack's home region: its database's region, else the region most of its AWS resources are declared in. */
export function homeRegion(resources: readonly PolicyResource[]): string | undefined {
  const db = resources.find((r) => r.type === TYPES.rdsInstance);
  const fromDb = db ? regionOf(db) : undefined;
  if (fromDb) return fromDb;
  const counts = new Map<string, number>();
  for (const r of resources) {
    if (!r.type.startsWith('aws:')) continue;
    const reg = regionOf(r);
    if (reg) counts.set(reg, (counts.get(reg) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** `name (type)` for messages. */
export function label(r: { name: string; type: string }): string {
  return `${r.name} (${r.type})`;
}
