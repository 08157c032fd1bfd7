/**
 * Naming: pure functions, no Pulumi. Physical names are derived from the prefix and the REGION (never the
 * role): roles swap on failover, regions don't, so a promoted secondary keeps its names.
 *
 * AWS limits these names must respect:
 * - RDS DB identifier / parameter group / subnet group: 1–63, letter first, [a-z0-9-], no `--`, no trailing `-`.
 * - ElastiCache replication group id: 1–40, same character rules. Global datastore suffix: AWS prepends a
 *   5-letter region prefix (`ldgnf-`); the suffix itself may be up to 40 characters.
 * - S3 bucket: 3–63, [a-z0-9.-], globally unique (we add the account id).
 */

/** Lower/upper bounds on `namePrefix` that keep every derived name inside the limits above. */
export const NAME_PREFIX_MIN = 3;
export const NAME_PREFIX_MAX = 16;
export const NAME_PREFIX_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** `us-east-1` → `use1`, `ap-southeast-2` → `apse2`, `eu-central-1` → `euc1`, `us-gov-west-1` → `usgw1`. */
export function regionShortName(region: string): string {
  const m = /^([a-z]{2})-((?:gov-|iso-|isob-)?)([a-z]+)-(\d+)$/.exec(region);
  if (!m) throw new Error(`not an AWS region name: ${JSON.stringify(region)}`);
  const [, area, partitionPart, direction, n] = m;
  const dir = direction
    .replace(/^northeast$/, 'ne')
    .replace(/^northwest$/, 'nw')
    .replace(/^southeast$/, 'se')
    .replace(/^southwest$/, 'sw')
    .replace(/^(north|south|east|west|central)$/, (d) => d[0]);
  return `${area}${partitionPart ? partitionPart[0] : ''}${dir}${n}`;
}

/** True for names like `us-east-1`, `ap-southeast-2`, `us-gov-west-1`. */
export function isRegionName(region: string): boolean {
  return /^[a-z]{2}-(?:(?:gov|iso|isob)-)?[a-z]+-\d+$/.test(region);
}

/** Base for physical names: `<prefix>-<region short>`, e.g. `botdr-use1`. */
export function regionalBase(prefix: string, region: string): string {
  return `${prefix}-${regionShortName(region)}`;
}

/** RDS DB instance identifier, e.g. `botdr-use1-pg` (scratch gets `-scratch`). */
export function dbIdentifier(prefix: string, region: string, scratch = false): string {
  return checkLength(`${regionalBase(prefix, region)}-pg${scratch ? '-scratch' : ''}`, 63, 'RDS identifier');
}

/** ElastiCache replication group id, e.g. `botdr-use1-redis` (≤ 40 characters). */
export function cacheReplicationGroupId(prefix: string, region: string, scratch = false): string {
  return checkLength(`${regionalBase(prefix, region)}-redis${scratch ? '-s' : ''}`, 40, 'ElastiCache replication group id');
}

/**
 * Global datastore id suffix (AWS prepends its own per-region prefix, e.g. `ldgnf-` in us-east-1). Generation 1, the
 * pair's first datastore: `botdr-redis-global`. An unplanned failover leaves the datastore behind (the survivor is
 * disassociated) and the survivor creates the next one, which needs a suffix never used before: generation n ≥ 2 is
 * `botdr-redis-g<n>` (`cache.globalDatastoreGeneration`, set by `dr failover`).
 */
export function globalDatastoreSuffix(prefix: string, generation = 1): string {
  if (!Number.isInteger(generation) || generation < 1) throw new Error(`global datastore generation must be a whole number ≥ 1, got ${generation}`);
  return checkLength(generation === 1 ? `${prefix}-redis-global` : `${prefix}-redis-g${generation}`, 40, 'global datastore suffix');
}

/**
 * The generation of a global datastore from its id (or suffix), as {@link globalDatastoreSuffix} names them:
 * `…-redis-g<n>` is n; any other id is the pair's first datastore, generation 1 (the original `…-redis-global`, or
 * one created by hand under another name).
 */
export function globalDatastoreGeneration(id: string): number {
  const m = /-redis-g(\d+)$/.exec(id);
  return m ? Number(m[1]) : 1;
}

/** The snapshot ElastiCache takes when the stack deletes (or replaces) the group: `<group id>-final`. */
export function cacheFinalSnapshotName(replicationGroupId: string): string {
  return `${replicationGroupId}-final`;
}

/** RDS parameter group family for a PostgreSQL engine version: `16.4` → `postgres16`, `9.6.24` → `postgres9.6`. */
export function postgresParameterGroupFamily(engineVersion: string): string {
  const m = /^(\d+)(?:\.(\d+))?(?:\.\d+)?$/.exec(engineVersion.trim());
  if (!m) throw new Error(`not a PostgreSQL engine version: ${JSON.stringify(engineVersion)} (expected e.g. "16.4")`);
  const major = Number(m[1]);
  if (major < 10) return `postgres${major}.${m[2] ?? '0'}`;
  return `postgres${major}`;
}

/** ElastiCache parameter group family for a Redis engine version: `7.1` → `redis7`, `6.2` → `redis6.x`. */
export function redisParameterGroupFamily(engineVersion: string): string {
  const m = /^(\d+)(?:\.(\d+|x))?/.exec(engineVersion.trim());
  if (!m) throw new Error(`not a Redis engine version: ${JSON.stringify(engineVersion)} (expected e.g. "7.1")`);
  const major = Number(m[1]);
  if (major >= 7) return `redis${major}`;
  if (major === 6) return 'redis6.x';
  return `redis${major}.${m[2] ?? '0'}`;
}

function checkLength(name: string, max: number, what: string): string {
  if (name.length > max) throw new Error(`${what} ${JSON.stringify(name)} is longer than ${max} characters; use a shorter namePrefix`);
  return name;
}
