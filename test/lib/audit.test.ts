/**
 * lib/audit.ts: the trail's selectors, the job role's session pattern, and the delete filter pattern — as a string,
 * and against sample CloudTrail events through a small matcher of the CloudWatch Logs JSON filter syntax the pattern
 * uses (`{ … }`, `&&`, `||`, parentheses, `$.a.b = "v"` / `!=` with `*` wildcards).
 */
import assert from 'node:assert/strict';
import { AUDITED_PREFIXES, assumedRoleArnPattern, backupAuditEventSelectors, backupDeletesFilterPattern, s3BucketNameOfArn } from '../../lib/audit';

const ACCOUNT = '123456789012';
const BUCKET = 'botdr-use1-backups20240101';
const ROLE = 'bot-dr-backup-jobs-role-1a2b3c4';
const PATTERN = backupDeletesFilterPattern({ bucketName: BUCKET, account: ACCOUNT, jobRoleName: ROLE });

/**
 * Evaluates the subset of the CloudWatch Logs JSON filter syntax the pattern uses. `=` on a field the event does not
 * have is false; `!=` on one throws — what CloudWatch does then is not asserted here (every event below has a
 * `userIdentity.arn`, the only field the pattern compares with `!=`).
 */
function matches(pattern: string, event: unknown): boolean {
  const tokens = pattern.match(/\$(?:\.[A-Za-z0-9_]+)+|"(?:[^"\\]|\\.)*"|&&|\|\||!=|=|[{}()]/g) ?? [];
  assert.equal(tokens.join(''), pattern.replace(/\s+/g, ''), 'the pattern uses only the supported syntax');
  let i = 0;
  const peek = () => tokens[i];
  const take = (want?: string) => {
    const t = tokens[i++];
    if (want !== undefined && t !== want) throw new Error(`expected ${want}, got ${t}`);
    return t;
  };
  const field = (path: string): unknown => path.slice(2).split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), event);
  const glob = (value: string, want: string) => new RegExp(`^${want.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value);
  const atom = (): boolean => {
    if (peek() === '(') {
      take('(');
      const v = or();
      take(')');
      return v;
    }
    const path = take();
    const op = take();
    const literal = JSON.parse(take()) as string;
    const value = field(path);
    if (typeof value !== 'string') {
      if (op === '=') return false;
      throw new Error(`!= on ${path}, which the event does not have`);
    }
    return op === '=' ? glob(value, literal) : !glob(value, literal);
  };
  const and = (): boolean => {
    let v = atom();
    while (peek() === '&&') {
      take();
      const w = atom();
      v = v && w;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek() === '||') {
      take();
      const w = and();
      v = v || w;
    }
    return v;
  };
  take('{');
  const result = or();
  take('}');
  assert.equal(i, tokens.length, 'the whole pattern was read');
  return result;
}

/** A CloudTrail S3 data event (the fields the filter reads, shaped as CloudTrail records them). */
function event(eventName: string, arn: string, params: { bucketName?: string; key?: string } = {}) {
  return {
    eventVersion: '1.10',
    eventSource: 's3.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    userIdentity: { type: arn.includes(':assumed-role/') ? 'AssumedRole' : arn.endsWith(':root') ? 'Root' : 'IAMUser', arn, accountId: ACCOUNT },
    requestParameters: { bucketName: params.bucketName ?? BUCKET, Host: `${BUCKET}.s3.us-east-1.amazonaws.com`, ...(params.key !== undefined ? { key: params.key } : { delete: '' }) },
    eventCategory: 'Data',
  };
}
const JOB = `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/botdr-use1-backup-job`;
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const ADMIN_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com`;

describe('lib/audit', () => {
  it('the trail selectors: data events of objects, DeleteObject under each audited prefix, DeleteObjects on the whole bucket', () => {
    const arn = `arn:aws:s3:::${BUCKET}`;
    const [deletes, batch] = backupAuditEventSelectors(arn);
    assert.deepEqual(AUDITED_PREFIXES, ['postgresql/', 'redis/']);
    assert.deepEqual(deletes.fieldSelectors.find((f) => f.field === 'resources.ARN')!.startsWiths, [`${arn}/postgresql/`, `${arn}/redis/`]);
    assert.deepEqual(deletes.fieldSelectors.find((f) => f.field === 'eventName')!.equals, ['DeleteObject']);
    // CloudTrail logs DeleteObjects only for a selector on the bucket with an empty prefix, and without the keys.
    assert.deepEqual(batch.fieldSelectors.find((f) => f.field === 'resources.ARN')!.startsWiths, [`${arn}/`]);
    assert.deepEqual(batch.fieldSelectors.find((f) => f.field === 'eventName')!.equals, ['DeleteObjects']);
    for (const s of [deletes, batch]) {
      assert.deepEqual(s.fieldSelectors.slice(0, 2), [
        { field: 'eventCategory', equals: ['Data'] },
        { field: 'resources.type', equals: ['AWS::S3::Object'] },
      ]);
    }
    assert.throws(() => backupAuditEventSelectors('arn:aws:s3:::b/x'), /not an S3 bucket ARN/);
    assert.throws(() => backupAuditEventSelectors(arn, ['postgresql']), /audited prefixes/);
    assert.equal(s3BucketNameOfArn(arn), BUCKET);
  });

  it("the job role's sessions: every session name, and only that role (the trailing slash)", () => {
    assert.equal(assumedRoleArnPattern({ account: ACCOUNT, roleName: ROLE }), `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/*`);
    assert.equal(assumedRoleArnPattern({ partition: 'aws-us-gov', account: ACCOUNT, roleName: ROLE }), `arn:aws-us-gov:sts::${ACCOUNT}:assumed-role/${ROLE}/*`);
    assert.throws(() => assumedRoleArnPattern({ account: '1', roleName: ROLE }), /12 digits/);
    assert.throws(() => assumedRoleArnPattern({ account: ACCOUNT, roleName: 'a/b' }), /not an IAM role name/);
  });

  it('the filter pattern, as CloudWatch Logs receives it', () => {
    assert.equal(
      PATTERN,
      `{ ($.eventSource = "s3.amazonaws.com") && ($.requestParameters.bucketName = "${BUCKET}") && ((($.eventName = "DeleteObject") && (($.requestParameters.key = "postgresql/*") || ($.requestParameters.key = "redis/*"))) || ($.eventName = "DeleteObjects")) && ($.userIdentity.arn != "arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/*") }`,
    );
    assert.ok(PATTERN.length <= 1024, 'CloudWatch Logs limits a filter pattern to 1024 characters');
    assert.throws(() => backupDeletesFilterPattern({ bucketName: 'Bad Bucket', account: ACCOUNT, jobRoleName: ROLE }), /not a bucket name/);
  });

  it('matches the deletes of backups by anyone but the job: a user, an SSO session, the root user, a batch delete', () => {
    assert.equal(matches(PATTERN, event('DeleteObject', ALICE, { key: 'postgresql/daily/2024-05-01T03-00-00Z.dump.gz' })), true);
    assert.equal(matches(PATTERN, event('DeleteObject', ADMIN_SESSION, { key: 'redis/weekly/2024-05-05.rdb.gz' })), true);
    assert.equal(matches(PATTERN, event('DeleteObject', `arn:aws:iam::${ACCOUNT}:root`, { key: 'redis/monthly/x' })), true);
    assert.equal(matches(PATTERN, event('DeleteObjects', ADMIN_SESSION)), true, 'a batch delete carries no keys: any one by another principal counts');
    // A role whose name merely starts with the job role's name is someone else.
    assert.equal(matches(PATTERN, event('DeleteObject', `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}-copy/x`, { key: 'postgresql/daily/x' })), true);
  });

  it("does not match the job's own pruning, other prefixes, other buckets or other operations", () => {
    assert.equal(matches(PATTERN, event('DeleteObject', JOB, { key: 'postgresql/daily/old.dump.gz' })), false);
    assert.equal(matches(PATTERN, event('DeleteObjects', JOB)), false);
    assert.equal(matches(PATTERN, event('DeleteObject', ALICE, { key: 'config/stack.json' })), false);
    assert.equal(matches(PATTERN, event('DeleteObject', ALICE, { key: 'safety/postgresql/x' })), false);
    assert.equal(matches(PATTERN, event('DeleteObject', ALICE, { bucketName: 'another-bucket', key: 'postgresql/daily/x' })), false);
    assert.equal(matches(PATTERN, event('PutObject', ALICE, { key: 'postgresql/daily/x' })), false);
    assert.equal(matches(PATTERN, event('GetObject', ALICE, { key: 'postgresql/daily/x' })), false);
  });
});
