import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKUP_JOB_PLATFORM_ACTIONS, BACKUP_JOB_SDK_COMMANDS, BackupJobPolicyInput, backupJobPolicy } from '../../lib/policies';

const ROOT = path.join(__dirname, '..', '..');
const HANDLER = 'automation/lambda/handler.ts';
const ACCOUNT = '123456789012';
const BUCKET = 'arn:aws:s3:::acme-use1-backups';

/** The job's sources that may talk to AWS: the handler and every adapters/aws module it imports. */
function jobSources(): string[] {
  const handler = fs.readFileSync(path.join(ROOT, HANDLER), 'utf8');
  const adapters = [...handler.matchAll(/from '\.\.\/adapters\/aws\/([\w-]+)'/g)].map((m) => `automation/adapters/aws/${m[1]}.ts`);
  return [HANDLER, ...new Set(adapters)];
}

/** `new XxxCommand(` and lib-storage's `new Upload(` in those sources. */
function commandsSent(): Set<string> {
  const out = new Set<string>();
  for (const f of jobSources()) {
    const src = fs.readFileSync(path.join(ROOT, f), 'utf8');
    for (const m of src.matchAll(/new (\w+Command|Upload)\(/g)) out.add(m[1]);
  }
  return out;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const FULL: BackupJobPolicyInput = {
  region: 'us-east-1',
  account: ACCOUNT,
  bucketArn: BUCKET,
  prefixes: ['postgresql/', 'redis/'],
  kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k1`,
  secretArns: [`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:db-AbC123`],
  metricsNamespace: 'BotDR/Backups',
  topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:acme-alerts`,
  logGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/acme-backup-job`,
  dlqArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:acme-backup-job-dlq`,
  dbInstanceArn: `arn:aws:rds:us-east-1:${ACCOUNT}:db:acme-db`,
  snapshotPrefix: 'bot-dr-',
  cacheReplicationGroupId: 'acme-cache',
  peer: { region: 'us-west-2', kmsKeyArn: `arn:aws:kms:us-west-2:${ACCOUNT}:key/k2` },
  cacheExportPrefix: 'redis/exports/',
};

describe('backup job IAM vs the SDK commands it sends', () => {
  it('finds the job sources (handler + the AWS adapters it imports)', () => {
    const files = jobSources();
    for (const f of ['automation/adapters/aws/snapshots.ts', 'automation/adapters/aws/s3-store.ts', 'automation/adapters/aws/metrics.ts']) assert.ok(files.includes(f), f);
  });

  it('BACKUP_JOB_SDK_COMMANDS lists exactly the commands the job sends (no missing, no stale entry)', () => {
    const sent = [...commandsSent()].sort();
    assert.ok(sent.length >= 10, `grep found ${sent.join(', ')}`);
    assert.deepEqual(Object.keys(BACKUP_JOB_SDK_COMMANDS).sort(), sent);
  });

  it('the engine never talks to AWS directly (so the handler + adapters are the whole list)', () => {
    const dir = path.join(ROOT, 'automation/backup');
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      assert.ok(!/@aws-sdk\//.test(fs.readFileSync(path.join(dir, f), 'utf8')), `automation/backup/${f} imports the AWS SDK`);
    }
  });

  it('the policy (every feature on) allows exactly the commands’ actions plus the platform ones — nothing more', () => {
    const allowed = new Set(backupJobPolicy(FULL).Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)));
    const needed = new Set([...Object.values(BACKUP_JOB_SDK_COMMANDS).flat(), ...Object.keys(BACKUP_JOB_PLATFORM_ACTIONS)]);
    assert.deepEqual([...allowed].filter((a) => !needed.has(a)).sort(), [], 'allowed but never needed');
    assert.deepEqual([...needed].filter((a) => !allowed.has(a)).sort(), [], 'needed but not allowed');
    assert.ok(![...allowed].some((a) => a.includes('*') && a !== 'kms:GenerateDataKey*'), 'no wildcard actions');
  });

  it('each command’s actions are allowed on the resource it acts on', () => {
    const d = backupJobPolicy(FULL);
    const allows = (action: string, resource: string) =>
      d.Statement.some((s) => s.Effect === 'Allow' && list(s.Action).includes(action) && list(s.Resource).some((r) => r === '*' || new RegExp(`^${r.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(resource)));
    const cacheSnap = `arn:aws:elasticache:us-east-1:${ACCOUNT}:snapshot:bot-dr-daily-20250101-030000`;
    assert.ok(allows('elasticache:CopySnapshot', cacheSnap));
    assert.ok(!allows('elasticache:CopySnapshot', `arn:aws:elasticache:us-east-1:${ACCOUNT}:snapshot:someone-elses`));
    assert.ok(allows('elasticache:CreateSnapshot', cacheSnap));
    assert.ok(allows('elasticache:DeleteSnapshot', cacheSnap));
    assert.ok(allows('s3:GetObject', `${BUCKET}/redis/exports/bot-dr-daily-20250101-030000-0001.rdb`));
    assert.ok(allows('s3:DeleteObject', `${BUCKET}/redis/exports/bot-dr-daily-20250101-030000-0001.rdb`));
    assert.ok(allows('s3:GetBucketLocation', BUCKET));
    assert.ok(!allows('s3:GetBucketLocation', 'arn:aws:s3:::other-bucket'));
    assert.ok(allows('rds:CopyDBSnapshot', `arn:aws:rds:us-west-2:${ACCOUNT}:snapshot:bot-dr-weekly-20250105-030000`));
  });

  it('no export permission without an export prefix; an export prefix outside the job prefixes is refused', () => {
    const bare = backupJobPolicy({ ...FULL, cacheExportPrefix: undefined });
    const acts = bare.Statement.flatMap((s) => list(s.Action));
    for (const a of ['elasticache:CopySnapshot', 's3:ListAllMyBuckets', 's3:GetBucketLocation']) assert.ok(!acts.includes(a), a);
    assert.throws(() => backupJobPolicy({ ...FULL, cacheExportPrefix: 'exports/' }), /cacheExportPrefix.*inside the job's prefixes/);
    assert.throws(() => backupJobPolicy({ ...FULL, cacheExportPrefix: 'redis/exports' }), /cacheExportPrefix/);
  });
});
