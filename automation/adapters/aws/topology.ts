/**
 * Pure: both stacks' outputs (as `pulumi stack output --json` prints them, or as the Automation API returns them)
 * → the failover engine's {@link Topology} with real AWS identifiers, plus the AWS-only details the adapters need
 * (DB ARNs, buckets, topics, health checks, which secrets are replicas where).
 *
 * Validates everything the failover relies on and throws ONE {@link UsageError} listing every problem, each naming
 * the stack and the output key (missing outputs, the same region on both stacks, mismatched DNS, …).
 *
 * No I/O here: the offline `dr failover --dry-run --outputs-dir` plan is built from this alone.
 */

import { UsageError } from '../../core/errors';
import type { RegionTopology, Topology } from '../../failover/index';
import { STACK_OUTPUTS } from '../../../lib/outputs';
import { globalDatastoreGeneration } from '../../../lib/naming';

/**
 * Output names read from a stack: the program's stack outputs (lib/outputs.ts, which components/regional-dr.ts
 * exports exactly). The alerts topic is `topicArn`; `alertsTopicArn` is accepted too.
 */
export const OUTPUT_KEYS = STACK_OUTPUTS;

/** Outputs without which no failover can be planned. */
export const REQUIRED_OUTPUTS = ['role', 'region', 'dbIdentifier', 'dbArn', 'bucketName'] as const;

export type StackKey = 'primary' | 'secondary';

/** One stack as given to {@link buildAwsTopology}. */
export interface StackOutputsInput {
  /** Stack name (`primary`, or fully qualified `org/bot-platform-dr/primary`). */
  name: string;
  /**
   * Its outputs: either plain values (`pulumi stack output --json`) or the Automation API's
   * `{ key: { value, secret } }` map. Secret outputs (`[secret]` or `secret: true`) are ignored: the failover
   * never needs a secret value from the outputs.
   */
  outputs: Record<string, unknown>;
}

/** One region as the AWS adapters see it. Every field is an identifier, never a secret value. */
export interface AwsRegionTopology {
  /** Which input stack this came from (`primary`/`secondary` as the operator named them, not the current role). */
  key: StackKey;
  stack: string;
  region: string;
  /** The stack's `role` output (`primary`/`secondary`) at the time the outputs were read. */
  role: string;
  dbIdentifier: string;
  dbArn: string;
  dbEndpoint?: string;
  /**
   * The DB credentials secret in this region: the primary's own (replicated to the peer) or the secondary's replica
   * of it — same name and suffix (components/db-credentials.ts). An `rds!db-…` ARN is a legacy RDS-managed secret
   * (not replicable).
   */
  dbSecretArn?: string;
  cacheReplicationGroupId?: string;
  cacheEndpoint?: string;
  /** The backup job's Lambda function: inside the VPC, it answers the named SQL probes (adapters/aws/sql-probes.ts). */
  backupFunctionName?: string;
  /** The global datastore this stack's outputs name (after an unplanned failover, until failback, the two differ). */
  globalDatastoreId?: string;
  bucketName: string;
  bucketArn?: string;
  kmsKeyArn?: string;
  topicArn?: string;
  healthCheckId?: string;
  /** The DB security group (what unfence restores) and the empty fence group (both needed for the security-group fence). */
  dbSecurityGroupId?: string;
  dbFenceSecurityGroupId?: string;
  appSecurityGroupId?: string;
  /** Secrets this region OWNS and replicates to the peer (bot tokens, cache auth token). */
  ownedSecretArns: string[];
  /**
   * The `botTokenSecretArns` output: bot name → its token secret's ARN, in this stack's region. Empty on a secondary
   * that has not adopted the promoted replicas (it outputs `{}`); `dr tokens` maps the ARNs to the region it uses.
   */
  botTokenSecrets: Record<string, string>;
  /** Replicas in THIS region of the peer's owned secrets: what `promote-secrets` makes writable here. */
  replicaSecretArns: string[];
}

export interface AwsTopology {
  regions: [AwsRegionTopology, AwsRegionTopology];
  dns?: { zone: string; record: string };
  cacheGlobalId?: string;
}

/** What {@link buildAwsTopology} returns: the engine's topology and the adapters' details. */
export interface BuiltTopology {
  topology: Topology;
  aws: AwsTopology;
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ARN = /^arn:aws[a-z-]*:/;

/** `arn:aws:secretsmanager:<region>:…` → the replica's ARN in `region` (Secrets Manager keeps name and suffix). */
export function secretArnInRegion(arn: string, region: string): string {
  const parts = arn.split(':');
  if (parts.length < 7 || parts[2] !== 'secretsmanager') throw new UsageError(`not a Secrets Manager ARN: ${arn}`);
  parts[3] = region;
  return parts.join(':');
}

/** The region named in an ARN (`arn:aws:<svc>:<region>:…`), or undefined. */
export function arnRegion(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length >= 6 && parts[3] ? parts[3] : undefined;
}

/** Unwrap Automation API `{ value, secret }` outputs; drop secret ones. Plain values pass through. */
export function plainOutputs(outputs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && 'value' in v && 'secret' in v && Object.keys(v).length <= 2) {
      const o = v as { value: unknown; secret: unknown };
      if (o.secret === true) continue;
      out[k] = o.value;
    } else if (v !== '[secret]') {
      out[k] = v;
    }
  }
  return out;
}

class Problems {
  readonly list: string[] = [];
  add(msg: string): void {
    this.list.push(msg);
  }
}

function str(p: Problems, stack: string, outs: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = outs[key];
  if (v === undefined || v === null || v === '') {
    if (required) p.add(`stack ${stack}: output '${key}' is missing`);
    return undefined;
  }
  if (typeof v !== 'string') {
    p.add(`stack ${stack}: output '${key}' must be a string, got ${JSON.stringify(v).slice(0, 60)}`);
    return undefined;
  }
  return v;
}

function region(p: Problems, key: StackKey, input: StackOutputsInput): AwsRegionTopology | undefined {
  const stack = input.name;
  if (!input.outputs || typeof input.outputs !== 'object' || Array.isArray(input.outputs)) {
    p.add(`stack ${stack} (${key}): outputs must be a JSON object as printed by \`pulumi stack output --json\``);
    return undefined;
  }
  const o = plainOutputs(input.outputs);
  const before = p.list.length;
  const K = OUTPUT_KEYS;
  const role = str(p, stack, o, K.role, true);
  const reg = str(p, stack, o, K.region, true);
  const dbIdentifier = str(p, stack, o, K.dbIdentifier, true);
  const dbArn = str(p, stack, o, K.dbArn, true);
  const bucketName = str(p, stack, o, K.bucketName, true);
  if (reg !== undefined && !REGION.test(reg)) p.add(`stack ${stack}: output 'region' must be an AWS region like us-east-1, got ${JSON.stringify(reg)}`);
  if (role !== undefined && role !== 'primary' && role !== 'secondary') p.add(`stack ${stack}: output 'role' is ${JSON.stringify(role)}; a failover needs a primary and a secondary stack (not scratch)`);
  if (dbArn !== undefined && (!ARN.test(dbArn) || dbArn.split(':')[2] !== 'rds')) p.add(`stack ${stack}: output 'dbArn' must be an RDS ARN, got ${JSON.stringify(dbArn)}`);
  if (dbArn && reg && ARN.test(dbArn) && arnRegion(dbArn) !== reg) p.add(`stack ${stack}: output 'dbArn' is in ${arnRegion(dbArn)}, but the stack's region is ${reg}`);

  const owned: string[] = [];
  const botTokenSecrets: Record<string, string> = {};
  const tokens = o[K.botTokenSecretArns];
  if (tokens !== undefined && tokens !== null) {
    if (typeof tokens !== 'object' || Array.isArray(tokens)) p.add(`stack ${stack}: output 'botTokenSecretArns' must be an object bot → secret ARN`);
    else {
      for (const [bot, arn] of Object.entries(tokens as Record<string, unknown>)) {
        if (typeof arn !== 'string' || !ARN.test(arn) || arn.split(':')[2] !== 'secretsmanager') p.add(`stack ${stack}: output 'botTokenSecretArns.${bot}' must be a Secrets Manager ARN`);
        else {
          owned.push(arn);
          botTokenSecrets[bot] = arn;
        }
      }
    }
  }
  const cacheAuth = str(p, stack, o, K.cacheAuthSecretArn, false);
  // The cache auth secret is owned by the global datastore's owner and read through its replica by the member:
  // only an ARN in this stack's own region that this stack created counts as owned (a member outputs the replica).
  const topicArn = str(p, stack, o, K.topicArn, false) ?? str(p, stack, o, 'alertsTopicArn', false);
  const dbSecretArn = str(p, stack, o, K.dbSecretArn, false);
  if (p.list.length > before) return undefined;
  const r: AwsRegionTopology = {
    key,
    stack,
    region: reg!,
    role: role!,
    dbIdentifier: dbIdentifier!,
    dbArn: dbArn!,
    bucketName: bucketName!,
    ownedSecretArns: owned,
    botTokenSecrets,
    replicaSecretArns: [],
  };
  const opt = (field: keyof AwsRegionTopology, k: string): void => {
    const v = str(p, stack, o, k, false);
    if (v !== undefined) (r as unknown as Record<string, unknown>)[field] = v;
  };
  opt('dbEndpoint', K.dbEndpoint);
  opt('backupFunctionName', K.backupFunctionName);
  opt('cacheReplicationGroupId', K.cacheReplicationGroupId);
  opt('cacheEndpoint', K.cacheEndpoint);
  opt('globalDatastoreId', K.globalDatastoreId);
  opt('bucketArn', K.bucketArn);
  opt('kmsKeyArn', K.kmsKeyArn);
  opt('healthCheckId', K.healthCheckId);
  opt('dbSecurityGroupId', K.dbSecurityGroupId);
  opt('dbFenceSecurityGroupId', K.dbFenceSecurityGroupId);
  opt('appSecurityGroupId', K.appSecurityGroupId);
  if (dbSecretArn) r.dbSecretArn = dbSecretArn;
  if (topicArn) r.topicArn = topicArn;
  if (cacheAuth && ARN.test(cacheAuth)) (r as AwsRegionTopology & { cacheAuthSecretArn?: string }).cacheAuthSecretArn = cacheAuth;
  return r;
}

/**
 * Build and validate the topology from both stacks' outputs. Throws one {@link UsageError} naming every problem.
 *
 * Secrets promoted in a region are the replicas of the secrets its PEER owns: the peer's bot-token secrets, the
 * cache auth-token secret and the DB credentials secret (issue 5: "StopReplicationToReplica for the bot token
 * secrets and the DB secret in the surviving region"), each when the peer owns it.
 */
export function buildAwsTopology(stacks: { primary: StackOutputsInput; secondary: StackOutputsInput }): BuiltTopology {
  const p = new Problems();
  for (const k of ['primary', 'secondary'] as const) {
    if (!stacks[k] || typeof stacks[k].name !== 'string' || !stacks[k].name) p.add(`the ${k} stack name is missing`);
  }
  if (p.list.length) throw new UsageError(`cannot build the failover topology:\n  - ${p.list.join('\n  - ')}`);
  if (stacks.primary.name === stacks.secondary.name) p.add(`the primary and secondary stacks are the same stack '${stacks.primary.name}'`);
  const a = region(p, 'primary', stacks.primary);
  const b = region(p, 'secondary', stacks.secondary);
  if (a && b) {
    if (a.region === b.region) p.add(`stacks ${a.stack} and ${b.stack} are both in region ${a.region}: a failover needs two different regions`);
    if (a.dbIdentifier === b.dbIdentifier && a.region === b.region) p.add(`stacks ${a.stack} and ${b.stack} name the same database '${a.dbIdentifier}'`);
  }
  let dns: AwsTopology['dns'];
  let cacheGlobalId: string | undefined;
  if (a && b) {
    const pa = plainOutputs(stacks.primary.outputs);
    const pb = plainOutputs(stacks.secondary.outputs);
    // DNS: both stacks or neither; same zone and record name.
    const zA = str(p, a.stack, pa, OUTPUT_KEYS.hostedZoneId, false);
    const zB = str(p, b.stack, pb, OUTPUT_KEYS.hostedZoneId, false);
    const rA = str(p, a.stack, pa, OUTPUT_KEYS.recordName, false);
    const rB = str(p, b.stack, pb, OUTPUT_KEYS.recordName, false);
    const anyDns = [zA, zB, rA, rB, a.healthCheckId, b.healthCheckId].some((x) => x !== undefined);
    if (anyDns) {
      for (const [s, k, v] of [
        [a.stack, 'hostedZoneId', zA],
        [b.stack, 'hostedZoneId', zB],
        [a.stack, 'recordName', rA],
        [b.stack, 'recordName', rB],
        [a.stack, 'healthCheckId', a.healthCheckId],
        [b.stack, 'healthCheckId', b.healthCheckId],
      ] as const) {
        if (v === undefined) p.add(`stack ${s}: output '${k}' is missing (failover DNS needs the zone, the record and both regions' health checks)`);
      }
      if (zA && zB && zA !== zB) p.add(`stacks ${a.stack} and ${b.stack} name different hosted zones (${zA} vs ${zB}) for the failover record`);
      if (rA && rB && norm(rA) !== norm(rB)) p.add(`stacks ${a.stack} and ${b.stack} name different failover records (${rA} vs ${rB})`);
      if (a.healthCheckId && b.healthCheckId && a.healthCheckId === b.healthCheckId) p.add(`stacks ${a.stack} and ${b.stack} output the same health check ${a.healthCheckId}`);
      if (zA && rA && zA === zB) dns = { zone: zA, record: norm(rA) };
    }
    const gA = a.globalDatastoreId;
    const gB = b.globalDatastoreId;
    cacheGlobalId = currentGlobalDatastore(gA, gB);
    if (gA && gB && gA !== gB && !cacheGlobalId) p.add(`stacks ${a.stack} and ${b.stack} name different global datastores (${gA} vs ${gB})`);
    if (cacheGlobalId && (!a.cacheReplicationGroupId || !b.cacheReplicationGroupId)) {
      for (const r of [a, b]) if (!r.cacheReplicationGroupId) p.add(`stack ${r.stack}: output 'cacheReplicationGroupId' is missing (the global datastore ${cacheGlobalId} needs both members)`);
    }
    // Replicated secrets: the peer's bot-token secrets, and the cache auth-token and DB credentials secrets when
    // the peer owns them (both stacks output the same-named secret: the owner its own, the other its replica).
    for (const [self, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const peerOwned = [...peer.ownedSecretArns];
      for (const field of ['cacheAuthSecretArn', 'dbSecretArn'] as const) {
        const peerArn = (peer as AwsRegionTopology & { cacheAuthSecretArn?: string })[field];
        const selfArn = (self as AwsRegionTopology & { cacheAuthSecretArn?: string })[field];
        if (!peerArn || !isReplicable(peerArn)) continue;
        // The same secret in both outputs: the stack whose role is primary owns it, or — when the roles do not
        // say (both `secondary` after a failover) — the stack the operator named primary.
        const sameSecret = !!selfArn && secretArnInRegion(peerArn, self.region) === selfArn;
        const peerOwns = sameSecret ? (a.role === b.role ? peer.key === 'primary' : peer.role === 'primary') : arnRegion(peerArn) === peer.region;
        if (peerOwns && !peerOwned.includes(peerArn)) peerOwned.push(peerArn);
      }
      self.replicaSecretArns = peerOwned.map((arn) => secretArnInRegion(arn, self.region));
    }
    for (const r of [a, b]) delete (r as AwsRegionTopology & { cacheAuthSecretArn?: string }).cacheAuthSecretArn;
  }
  if (p.list.length) throw new UsageError(`cannot build the failover topology from the stack outputs:\n  - ${p.list.join('\n  - ')}`);

  const regions = [a!, b!] as [AwsRegionTopology, AwsRegionTopology];
  const toEngine = (r: AwsRegionTopology): RegionTopology => ({
    name: r.region,
    stack: r.stack,
    database: r.dbIdentifier,
    ...(r.cacheReplicationGroupId ? { cache: r.cacheReplicationGroupId } : {}),
    secrets: [...r.replicaSecretArns],
  });
  const topology: Topology = {
    regions: regions.map(toEngine),
    dns: { ...(dns ? { zone: dns.zone } : {}), records: dns ? [{ name: dns.record, service: 'platform' }] : [] },
    ...(cacheGlobalId ? { cacheGlobalId } : {}),
  };
  return { topology, aws: { regions, ...(dns ? { dns } : {}), ...(cacheGlobalId ? { cacheGlobalId } : {}) } };
}

/**
 * The global datastore the pair uses now, from the two stacks' `globalDatastoreId` outputs. They agree, except between
 * an unplanned failover that left the datastore (the survivor's reconcile created the next generation, lib/naming.ts)
 * and the failback that rebuilds the lost stack as its member: the higher generation is the current one. Undefined
 * when they name different datastores of the same generation (a misconfiguration).
 */
export function currentGlobalDatastore(a: string | undefined, b: string | undefined): string | undefined {
  if (!a || !b || a === b) return a ?? b;
  const [ga, gb] = [globalDatastoreGeneration(a), globalDatastoreGeneration(b)];
  return ga === gb ? undefined : ga > gb ? a : b;
}

/**
 * Whether a secret can have replicas: RDS-managed master secrets (`rds!db-…`, from stacks deployed before the DB
 * credentials moved to a replicated secret, and scratch drills) cannot, so they are never promoted.
 */
export function isReplicable(secretArn: string): boolean {
  const name = secretArn.split(':secret:')[1] ?? '';
  return !name.startsWith('rds!');
}

/** Record names compare without the trailing dot and case-insensitively; Route 53 returns them with the dot. */
export function norm(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** The region entry for `name` (the region name). Throws {@link UsageError} when unknown. */
export function awsRegion(aws: AwsTopology, name: string): AwsRegionTopology {
  const r = aws.regions.find((x) => x.region === name);
  if (!r) throw new UsageError(`region '${name}' is not one of the stacks' regions (${aws.regions.map((x) => x.region).join(', ')})`);
  return r;
}

/** The other region of the pair. */
export function peerOf(aws: AwsTopology, name: string): AwsRegionTopology {
  awsRegion(aws, name);
  return aws.regions.find((x) => x.region !== name)!;
}

/**
 * Default direction from the outputs: from the stack whose `role` output is `primary` to the other one.
 * Undefined when the outputs do not say (e.g. after a failover both stacks are `secondary`, one of them
 * promoted): the operator names it with flags then.
 */
export function defaultDirection(aws: AwsTopology): { from: string; to: string } | undefined {
  const prim = aws.regions.filter((r) => r.role === 'primary');
  if (prim.length !== 1) return undefined;
  return { from: prim[0].region, to: peerOf(aws, prim[0].region).region };
}
