/**
 * The readiness engine as a table: every named check's pass, warn and fail (as its rules name them), each from a
 * ready observation with one fact broken; then the verdict rule, an area that cannot be observed, a check that
 * throws, the areas an environment does not have, and redaction.
 */
import assert from 'node:assert/strict';
import { CHECKS, runReadiness, verdictOf, type AreaObservations } from '../../automation/readiness/index';
import { fixedClock } from '../../automation/core/clock';
import { registerSecret } from '../../automation/core/redact';
import type { CheckStatus } from '../../lib/readiness';
import { awsObservations, fixedObserver, localObservations, NOW } from './fixtures';

type Obs = AreaObservations;
interface Row {
  check: string;
  env?: 'aws' | 'local';
  status: CheckStatus;
  reason: RegExp;
  fix?: RegExp;
  break?: (o: Obs) => void;
}

const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const inDays = (d: number) => new Date(NOW.getTime() + d * 86400_000).toISOString();
const db = (o: Obs) => o.database as Obs['database'] & { primary: { [k: string]: unknown }; replica: { [k: string]: unknown } };

const ROWS: Row[] = [
  // database
  { check: 'database.replicating', status: 'pass', reason: /replicating: read replica of/ },
  { check: 'database.replicating', status: 'fail', reason: /not replicating \(error\)/, fix: /describe-db-instances/, break: (o) => void (o.database.replication = { streaming: false, state: 'error', detail: 'replication error' }) },
  { check: 'database.replicating', status: 'fail', reason: /no cross-region standby/, fix: /dr failback/, break: (o) => void (o.database.replica = null) },
  { check: 'database.replicating', status: 'fail', reason: /could not observe: DescribeDBInstances: region down/, break: (o) => void (o.database.replica = { unobserved: 'DescribeDBInstances: region down', error: true }) },
  { check: 'database.replicating', env: 'local', status: 'fail', reason: /not replicating \(stopped\)/, fix: /WAL receiver/, break: (o) => void (o.database.replication = { streaming: false, state: 'stopped', detail: 'no WAL receiver' }) },
  { check: 'database.lag', status: 'pass', reason: /lag 4 s \(RPO budget 15 min\)/ },
  { check: 'database.lag', status: 'warn', reason: /over half the RPO budget/, break: (o) => void (o.database.lag = { seconds: 600, observedAt: ago(60) }) },
  { check: 'database.lag', status: 'warn', reason: /datapoint .* old/, break: (o) => void (o.database.lag = { seconds: 4, observedAt: ago(900) }) },
  { check: 'database.lag', status: 'fail', reason: /at or over the RPO budget/, break: (o) => void (o.database.lag = { seconds: 900, observedAt: ago(60) }) },
  { check: 'database.lag', status: 'fail', reason: /no replication lag reported/, break: (o) => void (o.database.lag = { seconds: null }) },
  { check: 'database.engine-version', status: 'pass', reason: /16\.4 on both/ },
  { check: 'database.engine-version', status: 'warn', reason: /same major version/, break: (o) => void (db(o).replica.engineVersion = '16.6') },
  { check: 'database.engine-version', status: 'fail', reason: /different major versions/, break: (o) => void (db(o).replica.engineVersion = '15.8') },
  { check: 'database.parameter-family', status: 'pass', reason: /postgres16 on both/ },
  { check: 'database.parameter-family', status: 'warn', reason: /not observed: no permission/, break: (o) => void (db(o).replica.parameterFamily = { unobserved: 'no permission' }) },
  { check: 'database.parameter-family', status: 'fail', reason: /postgres15, the primary's postgres16/, break: (o) => void (db(o).replica.parameterFamily = 'postgres15') },
  { check: 'database.tls', status: 'pass', reason: /rds.force_ssl=1/ },
  { check: 'database.tls', status: 'warn', reason: /rds.force_ssl is not 1/, break: (o) => [db(o).primary, db(o).replica].forEach((x) => ((x.tls as { forceSsl: string }).forceSsl = '0')) },
  { check: 'database.tls', status: 'fail', reason: /CA rds-ca-rsa4096-g1 on the standby, rds-ca-rsa2048-g1 on the primary/, break: (o) => void ((db(o).replica.tls as { caIdentifier: string }).caIdentifier = 'rds-ca-rsa4096-g1') },
  { check: 'database.instance-class', status: 'pass', reason: /db\.r6g\.large \(primary db\.r6g\.large\)/ },
  { check: 'database.instance-class', status: 'warn', reason: /smaller than the primary's db\.r6g\.large/, break: (o) => void (db(o).replica.instanceClass = 'db.r6g.medium') },
  { check: 'database.backups-replicated', status: 'pass', reason: /replicated to us-west-2, restorable to 5 min ago/ },
  { check: 'database.backups-replicated', status: 'warn', reason: /no latest restorable time/, break: (o) => void (o.database.automatedBackups = { replicated: true, region: 'us-west-2', resource: 'x', status: 'replicating' }) },
  { check: 'database.backups-replicated', status: 'fail', reason: /not replicated to us-west-2/, fix: /start-db-instance-automated-backups-replication/, break: (o) => void (o.database.automatedBackups = { replicated: false, region: 'us-west-2', resource: 'x' }) },
  { check: 'database.backups-replicated', status: 'fail', reason: /latest restorable time .* over the RPO budget/, break: (o) => void (o.database.automatedBackups = { replicated: true, region: 'us-west-2', resource: 'x', status: 'replicating', latestRestorableTime: ago(3600) }) },
  { check: 'database.fence', env: 'local', status: 'pass', reason: /a serves unfenced; b standby/ },
  { check: 'database.fence', env: 'local', status: 'fail', reason: /serving database in a is fenced/, break: (o) => void (o.database.fence = [{ region: 'a', role: 'primary', fenced: true, serving: true }, { region: 'b', role: 'standby', fenced: false, serving: false }]) },
  { check: 'database.fence', env: 'local', status: 'fail', reason: /split brain/, break: (o) => void (o.database.fence = [{ region: 'a', role: 'primary', fenced: false, serving: true }, { region: 'b', role: 'primary', fenced: false, serving: false }]) },
  // cache
  { check: 'cache.global-member', status: 'pass', reason: /associated SECONDARY of ldgnf-botdr-global/ },
  { check: 'cache.global-member', status: 'warn', reason: /no ElastiCache global datastore/, break: (o) => void (o.cache.global = null) },
  { check: 'cache.global-member', status: 'fail', reason: /has no member/, break: (o) => void ((o.cache.global as { members: unknown[] }).members.pop()) },
  { check: 'cache.global-member', status: 'fail', reason: /but disassociating/, break: (o) => void ((o.cache.global as { members: Array<{ status: string }> }).members[1].status = 'disassociating') },
  { check: 'cache.status', status: 'pass', reason: /^available$/ },
  { check: 'cache.status', status: 'warn', reason: /modifying/, break: (o) => void ((o.cache.global as { status: string }).status = 'modifying') },
  { check: 'cache.status', status: 'fail', reason: /status deleting/, break: (o) => void ((o.cache.global as { status: string }).status = 'deleting') },
  { check: 'cache.lag', status: 'pass', reason: /lag 1 s/ },
  { check: 'cache.lag', status: 'warn', reason: /no GlobalDatastoreReplicationLag reported/, break: (o) => void (o.cache.lag = { seconds: null }) },
  { check: 'cache.replica-link', env: 'local', status: 'pass', reason: /link up, 0 bytes behind/ },
  { check: 'cache.replica-link', env: 'local', status: 'fail', reason: /master_link_status down/, break: (o) => void (o.cache.link = { region: 'b', status: 'down' }) },
  { check: 'cache.replica-link', env: 'local', status: 'fail', reason: /could not observe: redis b: ECONNREFUSED/, break: (o) => void (o.cache.link = { unobserved: 'redis b: ECONNREFUSED', error: true }) },
  { check: 'cache.fence', env: 'local', status: 'pass', reason: /a serves unfenced/ },
  { check: 'cache.fence', env: 'local', status: 'fail', reason: /serving cache in a is fenced/, break: (o) => void (o.cache.fence = [{ region: 'a', role: 'primary', fenced: true, serving: true }]) },
  // backups
  { check: 'backups.newest', status: 'pass', reason: /postgresql\/daily\/backup_20261122_030000, 7 h 0 min old, in s3:\/\/botdr-use1-backups and s3:\/\/botdr-usw2-backups/ },
  { check: 'backups.newest', status: 'warn', reason: /not in s3:\/\/botdr-usw2-backups yet/, break: (o) => addNewest(o, 'botdr-use1-backups', ago(300)) },
  { check: 'backups.newest', status: 'fail', reason: /backup_20261122_093000 \(.*\) is not in s3:\/\/botdr-usw2-backups$/, fix: /aws s3 cp s3:\/\/botdr-use1-backups/, break: (o) => addNewest(o, 'botdr-use1-backups', ago(1800)) },
  { check: 'backups.newest', status: 'warn', reason: /newest monthly redis backup .* over the tier's/, break: (o) => dropTier(o, 'redis', 'monthly', '2026-10-01T05:00:00.000Z') },
  { check: 'backups.newest', status: 'fail', reason: /no complete daily postgresql backup/, break: (o) => dropTier(o, 'postgresql', 'daily') },
  { check: 'backups.newest', status: 'fail', reason: /could not observe: ListObjectsV2 AccessDenied/, break: (o) => void (o.backups.buckets[1].entries = { unobserved: 'ListObjectsV2 AccessDenied', error: true }) },
  { check: 'backups.newest', env: 'local', status: 'fail', reason: /is not in s3:\/\/bot-dr-b$/, fix: /rehearsal has no S3 replication/, break: (o) => dropKey(o, 'bot-dr-b', 'postgresql/daily/backup_20261122_030000') },
  { check: 'backups.restore-test', status: 'pass', reason: /VERIFIED 3 d 0 h ago/ },
  { check: 'backups.restore-test', status: 'fail', reason: /FAILED: row counts differ/, break: (o) => void ((o.backups.restoreTest as { newest: unknown }).newest = { at: ago(3600), ok: false, key: 'k', error: 'row counts differ' }) },
  { check: 'backups.restore-test', status: 'fail', reason: /over 8 days/, break: (o) => void ((o.backups.restoreTest as { newest: unknown }).newest = { at: ago(9 * 86400), ok: true, key: 'k' }) },
  { check: 'backups.restore-test', status: 'fail', reason: /no restore test has ever run/, break: (o) => void (o.backups.restoreTest = { bucket: 'b' }) },
  { check: 'backups.replication', status: 'pass', reason: /no failed replication in 24 h/ },
  { check: 'backups.replication', status: 'warn', reason: /no replication metrics/, break: (o) => void ((o.backups.replication as { failed: unknown }).failed = null) },
  { check: 'backups.replication', status: 'fail', reason: /3 replication operation\(s\) failed/, break: (o) => void ((o.backups.replication as { failed: unknown }).failed = 3) },
  // secrets
  { check: 'secrets.replicas', status: 'pass', reason: /InSync in us-west-2 under arn:aws:kms:us-west-2/ },
  { check: 'secrets.replicas', status: 'warn', reason: /still being created/, break: (o) => void (replicaOf(o).replication[0].status = 'InProgress') },
  { check: 'secrets.replicas', status: 'fail', reason: /is Failed: AccessDeniedException/, break: (o) => void Object.assign(replicaOf(o).replication[0], { status: 'Failed', message: 'AccessDeniedException' }) },
  { check: 'secrets.replicas', status: 'fail', reason: /AWS-managed key/, break: (o) => void (replicaOf(o).replication[0].kmsKeyId = 'alias/aws/secretsmanager') },
  { check: 'secrets.replicas', status: 'fail', reason: /not replicated to us-west-2/, fix: /replicate-secret-to-regions/, break: (o) => void (replicaOf(o).replication = []) },
  { check: 'secrets.replicas', status: 'fail', reason: /read-only replica of us-west-2/, break: (o) => void (replicaOf(o).primaryRegion = 'us-west-2') },
  { check: 'secrets.kms-keys', status: 'pass', reason: /^Enabled$/ },
  { check: 'secrets.kms-keys', status: 'warn', reason: /not observed: @aws-sdk\/client-kms is not installed/, fix: /add @aws-sdk\/client-kms/, break: (o) => void (o.secrets.keys = { unobserved: '@aws-sdk/client-kms is not installed' }) },
  { check: 'secrets.kms-keys', status: 'fail', reason: /PendingDeletion/, break: (o) => void ((o.secrets.keys as Array<{ state: string }>)[1].state = 'PendingDeletion') },
  { check: 'secrets.file-modes', env: 'local', status: 'pass', reason: /2 files and directories private/ },
  { check: 'secrets.file-modes', env: 'local', status: 'fail', reason: /mode 0644: others may read a credential/, fix: /chmod 0600 \/x\/secrets.json/, break: (o) => void ((o.secrets.files as Array<{ mode: number }>)[0].mode = 0o100644) },
  // dns
  { check: 'dns.health-checks', status: 'pass', reason: /exists \(us-west-2\)/ },
  { check: 'dns.health-checks', status: 'fail', reason: /the record has no health check/, break: (o) => void delete (o.dns.records as Array<{ healthCheckId?: string }>)[1].healthCheckId },
  { check: 'dns.health-checks', status: 'fail', reason: /names a health check that does not exist/, break: (o) => void ((o.dns.healthChecks as Array<{ exists: boolean }>)[1].exists = false) },
  { check: 'dns.secondary-healthy', status: 'pass', reason: /16\/16 checkers/ },
  { check: 'dns.secondary-healthy', status: 'warn', reason: /no checker/, break: (o) => void (o.dns.standbyHealth = { id: 'hc-b', status: 'unknown', detail: 'no checker has reported yet' }) },
  { check: 'dns.secondary-healthy', status: 'fail', reason: /a dead secondary means no DR/, break: (o) => void (o.dns.standbyHealth = { id: 'hc-b', status: 'unhealthy', detail: '0/16 checkers report success' }) },
  { check: 'dns.ttl', status: 'pass', reason: /TTL 60 s on both records/ },
  { check: 'dns.ttl', status: 'warn', reason: /us-west-2 300 s, configured 60 s/, break: (o) => void ((o.dns.records as Array<{ ttl: number }>)[1].ttl = 300) },
  // bots
  { check: 'bots.tokens', status: 'pass', reason: /3 of 3 tokens healthy from us-west-2/ },
  { check: 'bots.tokens', status: 'warn', reason: /2 of 3 tokens healthy .*token 2 revoked/, break: (o) => void (tokensOf(o, 0)[2].state = 'revoked') },
  { check: 'bots.tokens', status: 'fail', reason: /1 of 2 tokens healthy .*a bot needs 2/, fix: /Reset Token/, break: (o) => void (tokensOf(o, 1)[1].state = 'revoked') },
  { check: 'bots.tokens', status: 'fail', reason: /could not observe: GetSecretValue AccessDenied/, break: (o) => void (o.bots.bots[0].tokens = { unobserved: 'GetSecretValue AccessDenied', error: true }) },
  { check: 'bots.tokens', env: 'local', status: 'fail', reason: /1 of 3 tokens healthy from local/, fix: /fake telegram API/, break: (o) => [1, 2].forEach((i) => (tokensOf(o, 0)[i].state = 'revoked')) },
  { check: 'bots.webhook', status: 'pass', reason: /webhook registered, no delivery error/ },
  { check: 'bots.webhook', status: 'warn', reason: /a webhook is set but the bot is not configured with one/, break: (o) => void ((o.bots.bots[0].webhook as { expected: boolean }).expected = false) },
  { check: 'bots.webhook', status: 'fail', reason: /delivery error 10 min ago: Connection refused/, break: (o) => void Object.assign(o.bots.bots[0].webhook as object, { lastErrorAt: ago(600), lastErrorMessage: 'Connection refused' }) },
  { check: 'bots.webhook', status: 'fail', reason: /no interactions endpoint is registered/, break: (o) => void ((o.bots.bots[1].webhook as { url: string }).url = '') },
  { check: 'bots.permissions', status: 'pass', reason: /every token has every right in 2 channels/ },
  { check: 'bots.permissions', status: 'warn', reason: /token 1 in @chan: chat not found/, break: (o) => void (permsOf(o).errors = [{ index: 1, channel: '@chan', detail: 'chat not found' }]) },
  { check: 'bots.permissions', status: 'fail', reason: /token 2 lacks can_post_messages in -1001234567890/, break: (o) => void (permsOf(o).missing = [{ index: 2, channel: '-1001234567890', missing: ['can_post_messages'] }]) },
  { check: 'bots.discord-sessions', status: 'pass', reason: /990 of 1000 session starts left/ },
  { check: 'bots.discord-sessions', status: 'warn', reason: /50 of 1000/, break: (o) => tokensOf(o, 1).forEach((t) => (t.sessionStart = { total: 1000, remaining: 50, resetAfterMs: 60_000 })) },
  { check: 'bots.discord-sessions', status: 'fail', reason: /0 of 1000/, break: (o) => tokensOf(o, 1).forEach((t) => (t.sessionStart = { total: 1000, remaining: 0, resetAfterMs: 60_000 })) },
  // certificates
  { check: 'certificates.rds-ca', status: 'pass', reason: /expires in 400 d/ },
  { check: 'certificates.rds-ca', status: 'warn', reason: /expires in 20 d/, break: (o) => void (o.certificates.items[1].validTill = inDays(20)) },
  { check: 'certificates.rds-ca', status: 'fail', reason: /expired 2 d 0 h ago/, break: (o) => void (o.certificates.items[1].validTill = inDays(-2)) },
  { check: 'certificates.rds-server', status: 'pass', reason: /expires in 300 d/ },
  { check: 'certificates.rds-server', status: 'warn', reason: /not observed: no CertificateDetails/, break: (o) => void (o.certificates.items[3].validTill = { unobserved: 'no CertificateDetails' }) },
  { check: 'certificates.rds-server', status: 'fail', reason: /expires in 5 d/, break: (o) => void (o.certificates.items[3].validTill = inDays(5)) },
  // jobs
  { check: 'jobs.image', status: 'pass', reason: /image present/ },
  { check: 'jobs.image', status: 'warn', reason: /not observed: @aws-sdk\/client-ecr is not installed/, fix: /add @aws-sdk\/client-ecr/, break: (o) => void (o.jobs.image = { unobserved: '@aws-sdk/client-ecr is not installed' }) },
  { check: 'jobs.image', status: 'fail', reason: /no image in botdr-usw2-backup-job/, break: (o) => void ((o.jobs.image as { present: boolean }).present = false) },
  { check: 'jobs.function', status: 'pass', reason: /exists, Active/ },
  { check: 'jobs.function', status: 'warn', reason: /not observed/, break: (o) => void (o.jobs.functions = { unobserved: '@aws-sdk/client-lambda is not installed' }) },
  { check: 'jobs.function', status: 'fail', reason: /does not exist/, break: (o) => void ((o.jobs.functions as Array<{ present: boolean }>)[1].present = false) },
  { check: 'jobs.schedules', status: 'pass', reason: /^DISABLED$/ },
  { check: 'jobs.schedules', status: 'warn', reason: /not observed/, break: (o) => void (o.jobs.schedules = { unobserved: '@aws-sdk/client-scheduler is not installed' }) },
  { check: 'jobs.schedules', status: 'fail', reason: /ENABLED, but us-west-2 stands by/, break: (o) => void ((o.jobs.schedules as Array<{ state: string }>)[1].state = 'ENABLED') },
];

function tokensOf(o: Obs, i: number) {
  return o.bots.bots[i].tokens as Array<{ index: number; state: string; sessionStart?: { total: number; remaining: number; resetAfterMs: number } }>;
}
function permsOf(o: Obs) {
  return o.bots.bots[0].permissions as { missing: unknown[]; errors: unknown[] };
}
function replicaOf(o: Obs) {
  return (o.secrets.replicas as Array<{ replication: Array<{ status: string; kmsKeyId?: string; message?: string }>; primaryRegion?: string }>)[1];
}
function entries(o: Obs, bucket: string) {
  return o.backups.buckets.find((b) => b.bucket === bucket)!.entries as Array<{ service: string; tier: string; dataKey: string; date: string; complete: boolean }>;
}
function addNewest(o: Obs, bucket: string, date: string) {
  entries(o, bucket).push({ service: 'postgresql', tier: 'daily', dataKey: 'postgresql/daily/backup_20261122_093000', date, complete: true });
}
function dropTier(o: Obs, service: string, tier: string, replaceWith?: string) {
  for (const b of o.backups.buckets) {
    const e = entries(o, b.bucket);
    const kept = e.filter((x) => !(x.service === service && x.tier === tier));
    if (replaceWith) kept.push({ service, tier, dataKey: `${service}/${tier}/old`, date: replaceWith, complete: true });
    b.entries = kept as typeof b.entries;
  }
}
function dropKey(o: Obs, bucket: string, key: string) {
  const b = o.backups.buckets.find((x) => x.bucket === bucket)!;
  b.entries = entries(o, bucket).filter((x) => x.dataKey !== key) as typeof b.entries;
}

async function run(env: 'aws' | 'local', brk?: (o: Obs) => void) {
  const obs = (env === 'aws' ? awsObservations() : localObservations()) as Obs;
  brk?.(obs);
  return runReadiness(fixedObserver(env, obs), { clock: fixedClock(() => NOW) });
}

describe('readiness engine: every check as a table (pass / warn / fail)', () => {
  for (const row of ROWS) {
    it(`${row.check} ${row.status.toUpperCase()}${row.env === 'local' ? ' (local)' : ''}: ${row.reason.source.slice(0, 70)}`, async () => {
      const r = await run(row.env ?? 'aws', row.break);
      const mine = r.checks.filter((c) => c.name === row.check);
      assert.ok(mine.length > 0, `${row.check} did not run`);
      const hit = mine.find((c) => c.status === row.status && row.reason.test(c.reason));
      assert.ok(hit, `${row.check}: no ${row.status} matching ${row.reason}; got ${JSON.stringify(mine)}`);
      if (row.status === 'pass') assert.equal(hit.fix, '');
      else assert.ok(hit.fix.length > 10, `a ${row.status} names its fix`);
      if (row.fix) assert.match(hit.fix, row.fix);
      if (row.break) {
        // One fact broken: every OTHER check still passes, except the ones sharing that fact.
        const others = r.checks.filter((c) => c.status !== 'pass' && c.name !== row.check && c.name.split('.')[0] !== row.check.split('.')[0]);
        assert.deepEqual(others, [], 'a broken fact of one area leaves the other areas passing');
      }
      assert.equal(r.verdict, verdictOf(r.checks));
    });
  }

  it('the table covers every check and every status its rules name', () => {
    const missing: string[] = [];
    for (const c of CHECKS) {
      for (const s of ['pass', 'warn', 'fail'] as const) {
        const named = c.rules[s] !== '—';
        const covered = ROWS.some((r) => r.check === c.name && r.status === s);
        if (named && !covered) missing.push(`${c.name} ${s}`);
        if (!named && covered) missing.push(`${c.name} ${s} is tested but its rules say it never happens`);
      }
      assert.match(c.name, new RegExp(`^${c.area}\\.[a-z-]+$`));
    }
    assert.deepEqual(missing, []);
  });

  it('a ready pair is ready: every AWS check passes; a ready rehearsal likewise', async () => {
    const aws = await run('aws');
    assert.deepEqual(aws.checks.filter((c) => c.status !== 'pass'), []);
    assert.equal(aws.verdict, 'ready');
    assert.deepEqual([...new Set(aws.checks.map((c) => c.name))], CHECKS.filter((c) => c.environments.includes('aws')).map((c) => c.name));
    const local = await run('local');
    assert.equal(local.verdict, 'ready', JSON.stringify(local.checks.filter((c) => c.status !== 'pass')));
    assert.deepEqual([...new Set(local.checks.map((c) => c.name))], ['database.replicating', 'database.lag', 'database.fence', 'cache.replica-link', 'cache.fence', 'backups.newest', 'secrets.file-modes', 'bots.tokens']);
    assert.deepEqual(local.not_applicable.map((n) => n.area), ['dns', 'certificates', 'jobs']);
    assert.deepEqual(aws.calls, { aws: 7, platform: 3, local: 0, by_area: { database: 7 } });
  });
});

describe('readiness engine: the verdict rule and what cannot be observed', () => {
  it('any fail → not-ready; else any warn → degraded; else ready; nothing checked → not-ready', () => {
    assert.equal(verdictOf([{ status: 'pass' }, { status: 'warn' }, { status: 'fail' }]), 'not-ready');
    assert.equal(verdictOf([{ status: 'pass' }, { status: 'warn' }]), 'degraded');
    assert.equal(verdictOf([{ status: 'pass' }]), 'ready');
    assert.equal(verdictOf([]), 'not-ready');
  });

  it('an area whose observation throws fails each of its checks with the error; the other areas still run', async () => {
    const r = await runReadiness(fixedObserver('aws', awsObservations(), { cache: 'ElastiCache: getaddrinfo ENOTFOUND elasticache.us-west-2.amazonaws.com' }), { clock: fixedClock(() => NOW) });
    const cache = r.checks.filter((c) => c.name.startsWith('cache.'));
    assert.deepEqual(cache.map((c) => [c.name, c.status]), [['cache.global-member', 'fail'], ['cache.status', 'fail'], ['cache.lag', 'fail']]);
    assert.match(cache[0].reason, /could not observe the cache: .*ENOTFOUND/);
    assert.ok(cache[0].fix.length > 0);
    assert.equal(r.verdict, 'not-ready');
    assert.ok(r.checks.filter((c) => !c.name.startsWith('cache.')).every((c) => c.status === 'pass'));
  });

  it('a check that throws on a malformed observation fails with its error, never crashes the run', async () => {
    const obs = awsObservations();
    (obs.dns as unknown as { records: unknown }).records = [null];
    const r = await runReadiness(fixedObserver('aws', obs), { clock: fixedClock(() => NOW) });
    const ttl = r.checks.find((c) => c.name === 'dns.ttl')!;
    assert.equal(ttl.status, 'fail');
    assert.match(ttl.reason, /the check failed: TypeError/);
  });

  it('unobservable facts warn (degraded), never pass', async () => {
    const obs = awsObservations();
    obs.jobs = { region: 'us-west-2', image: { unobserved: '@aws-sdk/client-ecr is not installed' }, functions: { unobserved: '@aws-sdk/client-lambda is not installed' }, schedules: { unobserved: '@aws-sdk/client-scheduler is not installed' } };
    const r = await runReadiness(fixedObserver('aws', obs), { clock: fixedClock(() => NOW) });
    assert.equal(r.verdict, 'degraded');
    assert.deepEqual(r.checks.filter((c) => c.status !== 'pass').map((c) => c.name), ['jobs.image', 'jobs.function', 'jobs.schedules']);
  });

  it('reasons and fixes are redacted (a registered secret never reaches the report)', async () => {
    const secret = 'sk-readiness-planted-4711';
    registerSecret(secret);
    const obs = awsObservations();
    obs.database.replication = { streaming: false, state: 'error', detail: `conninfo password=${secret}` };
    const r = await runReadiness(fixedObserver('aws', obs), { clock: fixedClock(() => NOW) });
    assert.ok(!JSON.stringify(r).includes(secret));
  });
});
