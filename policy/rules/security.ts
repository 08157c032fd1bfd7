/**
 * Resource rules that hold for every resource of a type: KMS keys rotate, no IAM policy allows `*` on `*`, and the
 * data stores besides RDS and S3 (secrets, cache, topics, queues, log groups) are encrypted with a customer key.
 *
 * Justified exceptions (docs/policy.md): a KMS key POLICY's `kms:*` on `*` for the account root is the standard
 * administrator statement (`*` there is the key itself, and it lets IAM decide) — key policies are not IAM identity
 * policies and are not checked here; a member of an ElastiCache global datastore inherits at-rest and in-transit
 * encryption from the primary group (the provider refuses to set them on a member).
 */
import type { ReportViolation, ResourceValidationArgs } from '@pulumi/policy';
import { list, read, UNKNOWN } from './model';

/** kms-key-rotation: symmetric keys rotate their key material. */
export function kmsKeyRotation(args: ResourceValidationArgs, report: ReportViolation): void {
  if (args.type !== 'aws:kms/key:Key') return;
  const spec = read(args.props, 'customerMasterKeySpec') ?? read(args.props, 'keySpec');
  if (typeof spec === 'string' && spec !== 'SYMMETRIC_DEFAULT') return args.notApplicable('automatic rotation exists for symmetric keys only');
  if (read(args.props, 'enableKeyRotation') !== true) report('KMS key rotation must be on (enableKeyRotation: true).');
}

/** The IAM policy document inputs of a resource type (`inlinePolicies[].policy` for a role). */
const POLICY_DOCUMENTS: Record<string, (props: Record<string, unknown>) => unknown[]> = {
  'aws:iam/rolePolicy:RolePolicy': (p) => [read(p, 'policy')],
  'aws:iam/policy:Policy': (p) => [read(p, 'policy')],
  'aws:iam/userPolicy:UserPolicy': (p) => [read(p, 'policy')],
  'aws:iam/groupPolicy:GroupPolicy': (p) => [read(p, 'policy')],
  'aws:iam/role:Role': (p) => {
    const inline = list(p, 'inlinePolicies');
    return inline === UNKNOWN ? [UNKNOWN] : inline.map((x) => read(x, 'policy'));
  },
};

/** The Allow statements of a policy document (a JSON string or an object) that grant `*` on `*`. */
export function starOnStarStatements(doc: unknown): unknown[] {
  let parsed = doc;
  if (typeof doc === 'string') {
    try {
      parsed = JSON.parse(doc);
    } catch {
      return [];
    }
  }
  const statements = read(parsed, 'Statement');
  const all = Array.isArray(statements) ? statements : statements && typeof statements === 'object' ? [statements] : [];
  const asList = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
  return all.filter((s) => {
    if (read(s, 'Effect') !== 'Allow') return false;
    const anyAction = asList(read(s, 'Action')).includes('*') || read(s, 'NotAction') !== undefined;
    const anyResource = asList(read(s, 'Resource')).includes('*') || (read(s, 'NotResource') !== undefined && read(s, 'Resource') === undefined);
    return anyAction && anyResource;
  });
}

/** iam-no-star-on-star: no IAM policy allows every action (`*`, or NotAction) on every resource (`*`). */
export function iamNoStarOnStar(args: ResourceValidationArgs, report: ReportViolation): void {
  const docs = POLICY_DOCUMENTS[args.type];
  if (!docs) return;
  for (const doc of docs(args.props)) {
    if (doc === UNKNOWN) continue;
    const bad = starOnStarStatements(doc);
    if (bad.length) report(`IAM policy allows * on * (${bad.map((s) => JSON.stringify(read(s, 'Sid') ?? 'unnamed')).join(', ')}): name the actions and the resources.`);
  }
}

/** Whether a key input is set (an ARN or a key id; an unknown counts: it is computed from a declared key). */
const keySet = (v: unknown) => v === UNKNOWN || (typeof v === 'string' && v !== '' && !/alias\/aws\//.test(v));

/** storage-encrypted: secrets, the cache, topics, queues and log groups under a customer-managed KMS key. */
export function storageEncrypted(args: ResourceValidationArgs, report: ReportViolation): void {
  const p = args.props;
  switch (args.type) {
    case 'aws:secretsmanager/secret:Secret':
      if (!keySet(read(p, 'kmsKeyId'))) report('the secret must be encrypted with a customer-managed KMS key (kmsKeyId): the AWS-managed key cannot be used by a replica in another region.');
      return;
    case 'aws:elasticache/replicationGroup:ReplicationGroup':
      if (read(p, 'globalReplicationGroupId') !== undefined) return args.notApplicable('a global datastore member inherits encryption from the primary group');
      if (read(p, 'atRestEncryptionEnabled') !== true || !keySet(read(p, 'kmsKeyId'))) report('the cache must be encrypted at rest with a customer-managed KMS key (atRestEncryptionEnabled, kmsKeyId).');
      if (read(p, 'transitEncryptionEnabled') !== true) report('the cache must require TLS (transitEncryptionEnabled).');
      return;
    case 'aws:sns/topic:Topic':
      if (!keySet(read(p, 'kmsMasterKeyId'))) report('the topic must be encrypted with a customer-managed KMS key (kmsMasterKeyId).');
      return;
    case 'aws:sqs/queue:Queue':
      if (!keySet(read(p, 'kmsMasterKeyId'))) report('the queue must be encrypted with a customer-managed KMS key (kmsMasterKeyId).');
      return;
    case 'aws:cloudwatch/logGroup:LogGroup':
      if (!keySet(read(p, 'kmsKeyId'))) report('the log group must be encrypted with a customer-managed KMS key (kmsKeyId).');
      return;
    default:
      return;
  }
}
