/**
 * Stack outputs as printed by `pulumi stack output --json` (the RegionalDr outputs of one stack), validated into
 * a typed shape (pure). Used by the offline plan, `dr status` and the scratch drill. Every problem is a
 * {@link UsageError} naming the file and the key.
 */
import { UsageError } from '../cli/errors';

/** The subset of RegionalDr outputs the AWS commands read (names, endpoints and ARNs only: never a secret). */
export interface StackOutputs {
  role: 'primary' | 'secondary' | 'scratch';
  region: string;
  peerRegion?: string;
  dbIdentifier: string;
  dbEndpoint?: string;
  dbArn?: string;
  dbSecretArn?: string;
  cacheEndpoint?: string;
  cacheReplicationGroupId?: string;
  cacheAuthSecretArn?: string;
  globalDatastoreId?: string;
  bucketName?: string;
  bucketArn?: string;
  kmsKeyArn?: string;
  botTokenSecretArns: Record<string, string>;
  healthCheckId?: string;
  recordName?: string;
  hostedZoneId?: string;
}

const ROLES = ['primary', 'secondary', 'scratch'] as const;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$/;

/**
 * Validate one stack's outputs document. `where` names the source (e.g. `outputs/primary.json`) in messages.
 * Pulumi prints secret outputs as `"[secret]"`; none of the keys read here may be one (they are names/ARNs).
 */
export function parseStackOutputs(doc: unknown, where: string): StackOutputs {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${where}: not a JSON object of stack outputs (expected the output of \`pulumi stack output --json\`)`);
  const o = doc as Record<string, unknown>;
  const str = (key: string, required: boolean): string | undefined => {
    const v = o[key];
    if (v === undefined || v === null || v === '') {
      if (required) throw new UsageError(`${where}: missing output '${key}'`);
      return undefined;
    }
    if (v === '[secret]') throw new UsageError(`${where}: output '${key}' is a secret; it must be a plain name/ARN`);
    if (typeof v !== 'string') throw new UsageError(`${where}: output '${key}' must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const role = str('role', true)!;
  if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`${where}: output 'role' must be one of ${ROLES.join('|')}, got '${role}'`);
  const region = str('region', true)!;
  if (!REGION.test(region)) throw new UsageError(`${where}: output 'region' is not an AWS region name: '${region}'`);
  const tokens = o.botTokenSecretArns;
  const botTokenSecretArns: Record<string, string> = {};
  if (tokens !== undefined && tokens !== null) {
    if (typeof tokens !== 'object' || Array.isArray(tokens)) throw new UsageError(`${where}: output 'botTokenSecretArns' must be an object bot → secret ARN`);
    for (const [bot, arn] of Object.entries(tokens as Record<string, unknown>)) {
      if (typeof arn !== 'string' || !SECRET_ARN.test(arn)) throw new UsageError(`${where}: output 'botTokenSecretArns.${bot}' is not a Secrets Manager ARN`);
      botTokenSecretArns[bot] = arn;
    }
  }
  for (const key of ['dbSecretArn', 'cacheAuthSecretArn']) {
    const v = str(key, false);
    if (v !== undefined && !SECRET_ARN.test(v)) throw new UsageError(`${where}: output '${key}' is not a Secrets Manager ARN`);
  }
  return {
    role: role as StackOutputs['role'],
    region,
    peerRegion: str('peerRegion', false),
    dbIdentifier: str('dbIdentifier', true)!,
    dbEndpoint: str('dbEndpoint', false),
    dbArn: str('dbArn', false),
    dbSecretArn: str('dbSecretArn', false),
    cacheEndpoint: str('cacheEndpoint', false),
    cacheReplicationGroupId: str('cacheReplicationGroupId', false),
    cacheAuthSecretArn: str('cacheAuthSecretArn', false),
    globalDatastoreId: str('globalDatastoreId', false),
    bucketName: str('bucketName', false),
    bucketArn: str('bucketArn', false),
    kmsKeyArn: str('kmsKeyArn', false),
    botTokenSecretArns,
    healthCheckId: str('healthCheckId', false),
    recordName: str('recordName', false),
    hostedZoneId: str('hostedZoneId', false),
  };
}

/** `arn:aws:secretsmanager:<region>:…` → the same secret's replica ARN in `region` (same name and suffix). */
export function replicaSecretArn(arn: string, region: string): string {
  const parts = arn.split(':');
  if (parts.length < 7 || parts[2] !== 'secretsmanager') throw new UsageError(`not a Secrets Manager ARN: ${arn}`);
  parts[3] = region;
  return parts.join(':');
}

/**
 * The secrets replicated INTO `region` from the stack `source`: its bot-token secrets, and the cache auth-token
 * secret when `source` owns the Global Datastore (role primary; a member's `cacheAuthSecretArn` is itself a replica).
 */
export function replicatedSecretsInto(source: StackOutputs, region: string): string[] {
  const out = Object.keys(source.botTokenSecretArns)
    .sort()
    .map((bot) => replicaSecretArn(source.botTokenSecretArns[bot], region));
  if (source.cacheAuthSecretArn && source.globalDatastoreId && source.role === 'primary') {
    const arnRegion = SECRET_ARN.exec(source.cacheAuthSecretArn)?.[1];
    if (arnRegion === source.region) out.push(replicaSecretArn(source.cacheAuthSecretArn, region));
  }
  return out;
}

/** A pair of regional stacks, checked to be a DR pair (different regions, each other's peer). */
export interface StackPair {
  primary: { stack: string; outputs: StackOutputs };
  secondary: { stack: string; outputs: StackOutputs };
}

export function checkPair(pair: StackPair, where: { primary: string; secondary: string }): void {
  const p = pair.primary.outputs;
  const s = pair.secondary.outputs;
  if (p.region === s.region) throw new UsageError(`${where.primary} and ${where.secondary} are in the same region (${p.region}): the two stacks must be in different regions`);
  if (p.peerRegion && p.peerRegion !== s.region) throw new UsageError(`${where.primary}: peerRegion is ${p.peerRegion}, but ${where.secondary} is in ${s.region}`);
  if (s.peerRegion && s.peerRegion !== p.region) throw new UsageError(`${where.secondary}: peerRegion is ${s.peerRegion}, but ${where.primary} is in ${p.region}`);
  if (p.role === 'scratch' || s.role === 'scratch') throw new UsageError(`a scratch stack is not part of the DR pair (${p.role === 'scratch' ? where.primary : where.secondary})`);
}
