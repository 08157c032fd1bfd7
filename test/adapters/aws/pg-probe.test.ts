import assert from 'node:assert/strict';
import * as path from 'node:path';
import { PgCluster } from '../../../automation/adapters/rehearsal/pg-cluster';
import { RdsDatabase } from '../../../automation/adapters/aws/rds';
import { pgSqlProbe, pgUrlResolver } from '../../../automation/adapters/aws/pg-probe';
import { buildAwsTopology } from '../../../automation/adapters/aws/topology';
import { redact } from '../../../automation/core/redact';
import { makeTempDir, removeDir } from '../../helpers/services';
import { A, B, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS, World } from '../../helpers/aws-world';

describe('aws RDS adapter with SQL reach (pg) @integration', function () {
  this.timeout(120_000);
  let root: string | undefined;
  let primary: PgCluster | undefined;
  let standby: PgCluster | undefined;
  let w: World;
  before(async () => {
    root = makeTempDir('dr-awspg-');
    primary = await PgCluster.create({ dir: path.join(root, 'a') });
    await primary.start();
    standby = await PgCluster.standbyOf(primary, path.join(root, 'b'));
    await standby.start();
  });
  after(async () => {
    try {
      for (const c of [standby, primary]) if (c) await c.stop('immediate').catch(() => c.kill());
    } finally {
      removeDir(root);
    }
  });
  beforeEach(() => {
    w = new World();
  });
  afterEach(() => w.restore());

  it('lag, final LSN, catch-up and the write probe come from SQL; passwords are redacted', async () => {
    const sql = pgSqlProbe(pgUrlResolver({ [A]: primary!.url(), [B]: standby!.url() }));
    const topology = buildAwsTopology({ primary: { name: 'p/x/primary', outputs: PRIMARY_OUTPUTS }, secondary: { name: 'p/x/secondary', outputs: SECONDARY_OUTPUTS } }).aws;
    const db = new RdsDatabase({ topology, rds: (r) => w.rds[r], cloudwatch: (r) => w.cw[r], sql });
    await primary!.query('create table t (id int primary key); insert into t select generate_series(1, 1000)');
    const st = await db.replicationState(A, B);
    assert.equal(st.primaryReachable, true);
    assert.match(st.primaryLsn ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
    assert.ok(st.lagBytes !== undefined && st.lagBytes >= 0);
    const lsn = await db.currentLsn(A);
    const r = await db.waitForReplay(B, lsn, 30_000);
    assert.equal(r.caughtUp, true);
    assert.equal(await db.writable(A), true);
    assert.equal(await db.writable(B), false, 'a hot standby refuses the probe write');
    assert.equal(redact(`failed: ${primary!.url()}`).includes(primary!.secret), false);
  });
});
