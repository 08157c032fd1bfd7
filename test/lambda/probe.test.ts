/**
 * The backup-job Lambda's `probe` events on a real PostgreSQL 15 primary and streaming standby: each named probe
 * answers what the failover adapters read (WAL positions, replay lag, the write probe, role and fence), through the
 * job's own entry (`runEvent` with the DB secret from a mocked Secrets Manager); SQL in an event never runs.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PgCluster } from '../../automation/adapters/rehearsal/pg-cluster';
import { SQL_PROBE_NAMES } from '../../automation/adapters/aws/sql-probes';
import { UsageError } from '../../automation/core/errors';
import { runSqlProbe } from '../../automation/lambda/probe';
import { runEvent, type AwsClients } from '../../automation/lambda/handler';
import { usePostgres, useTempDir } from '../helpers/services';

describe('backup-job Lambda: SQL probe events (real PostgreSQL primary + standby) @integration', () => {
  const pg = usePostgres();
  const tmp = useTempDir('dr-probe-');
  let standby: PgCluster;
  before(async function () {
    this.timeout(120_000);
    standby = await PgCluster.standbyOf(pg.cluster, path.join(tmp.dir, 'standby'));
    await standby.start();
  });
  after(async function () {
    this.timeout(60_000);
    await standby?.stop('immediate').catch(() => standby.kill());
  });

  it('each named probe answers on the right server: LSNs, replay lag, the write probe, role and fence', async () => {
    const primary = pg.cluster.url('postgres');
    const replica = standby.url('postgres');
    const lsn = await runSqlProbe({ probe: 'current-wal-lsn' }, primary, {});
    assert.equal(lsn.probe, 'current-wal-lsn');
    assert.match(String(lsn.rows[0].lsn), /^[0-9A-F]+\/[0-9A-F]+$/);
    const replay = await runSqlProbe({ probe: 'replay-position' }, replica, {});
    assert.match(String(replay.rows[0].lsn), /^[0-9A-F]+\/[0-9A-F]+$/);
    assert.equal(typeof replay.rows[0].delay, 'number');
    const role = await runSqlProbe({ probe: 'role-and-fence' }, replica, {});
    assert.deepEqual(role.rows, [{ in_recovery: true, read_only: 'off' }]);
    assert.deepEqual((await runSqlProbe({ probe: 'role-and-fence' }, primary, {})).rows, [{ in_recovery: false, read_only: 'off' }]);
    assert.deepEqual((await runSqlProbe({ probe: 'write-probe' }, primary, {})).rows, [{ ok: 1 }]);
    await assert.rejects(runSqlProbe({ probe: 'write-probe' }, replica, {}), /read-only transaction/);
    assert.deepEqual(SQL_PROBE_NAMES.sort(), ['current-wal-lsn', 'replay-lsn', 'replay-position', 'role-and-fence', 'terminate-sessions', 'write-probe']);
  });

  it('through the job entry: the DB secret is read, the probe runs; an unknown probe or SQL in the event is refused, never run', async () => {
    const sm = mockClient(SecretsManagerClient);
    try {
      const u = new URL(pg.cluster.url('postgres'));
      sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: decodeURIComponent(u.username), password: decodeURIComponent(u.password), host: u.hostname, port: u.port, dbname: 'postgres' }) });
      const env = { DR_SERVICES: 'postgresql', DB_SECRET_ARN: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:botdr/db/master-Mn34Op', DB_SSLMODE: 'disable', BACKUP_BUCKET: 'unused', DR_REGION: 'us-west-2' };
      const clients = { secrets: new SecretsManagerClient({ region: 'us-west-2' }) } as unknown as AwsClients;
      const r = await runEvent({ probe: 'current-wal-lsn' }, env, clients);
      assert.ok('probe' in r && r.probe === 'current-wal-lsn');
      assert.equal(sm.commandCalls(GetSecretValueCommand)[0].args[0].input.SecretId, env.DB_SECRET_ARN);
      await assert.rejects(runEvent({ probe: 'drop table users' }, env, clients), (e: unknown) => e instanceof UsageError && /unknown probe/.test(e.message));
      await assert.rejects(runEvent({ probe: 'current-wal-lsn; drop table users' }, env, clients), UsageError);
    } finally {
      sm.restore();
    }
  });
});
