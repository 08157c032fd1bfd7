import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, ModifyDBParameterGroupCommand, PromoteReadReplicaCommand } from '@aws-sdk/client-rds';
import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeGlobalReplicationGroupsCommand, FailoverGlobalReplicationGroupCommand, DisassociateGlobalReplicationGroupCommand } from '@aws-sdk/client-elasticache';
import { DescribeSecretCommand, StopReplicationToReplicaCommand } from '@aws-sdk/client-secrets-manager';
import { ChangeResourceRecordSetsCommand, GetChangeCommand } from '@aws-sdk/client-route-53';
import { PublishCommand } from '@aws-sdk/client-sns';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OperationError } from '../../../automation/core/errors';
import { buildAwsTopology, AwsTopology } from '../../../automation/adapters/aws/topology';
import { RdsDatabase } from '../../../automation/adapters/aws/rds';
import { ElastiCacheGlobal } from '../../../automation/adapters/aws/elasticache';
import { SecretsManagerReplicas } from '../../../automation/adapters/aws/secrets';
import { Route53Failover } from '../../../automation/adapters/aws/route53';
import { SnsNotifier } from '../../../automation/adapters/aws/sns-notifier';
import { S3Journal } from '../../../automation/adapters/aws/s3-journal';
import { FileJournal } from '../../../automation/adapters/tools/file-journal';
import type { FailoverNotice } from '../../../automation/failover';
import type { TokenNotice } from '../../../automation/tokens';
import { A, B, FakeClock, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS, World } from '../../helpers/aws-world';

const FAST = { attempts: 4, baseDelayMs: 100, maxDelayMs: 400 };

function topo(): AwsTopology {
  return buildAwsTopology({ primary: { name: 'acme/bot-platform-dr/primary', outputs: PRIMARY_OUTPUTS }, secondary: { name: 'acme/bot-platform-dr/secondary', outputs: SECONDARY_OUTPUTS } }).aws;
}

describe('aws adapters (aws-sdk-client-mock)', () => {
  let w: World;
  let clock: FakeClock;
  let log: string[];
  const opts = () => ({ log: (l: string) => log.push(l) });
  beforeEach(() => {
    w = new World();
    clock = new FakeClock();
    log = [];
  });
  afterEach(() => w.restore());

  describe('RDS', () => {
    const db = (extra: Partial<ConstructorParameters<typeof RdsDatabase>[0]> = {}) =>
      new RdsDatabase({ topology: topo(), rds: (r) => w.rds[r], cloudwatch: (r) => w.cw[r], clock, retry: FAST, waitTimeoutMs: 60_000, pollMs: 5_000, backupRetentionDays: 14, ...extra });

    it('roles from DescribeDBInstances; an unreachable region is `unreachable`, not an error', async () => {
      const d = db();
      assert.equal(await d.role(A), 'primary');
      assert.equal(await d.role(B), 'standby');
      assert.deepEqual(w.mocks.rds[B].commandCalls(DescribeDBInstancesCommand)[0].args[0].input, { DBInstanceIdentifier: 'botdr-usw2-db' });
      w.down.add(A);
      assert.equal(await d.role(A), 'unreachable');
    });

    it('lag from CloudWatch ReplicaLag on the replica, in the replica region (latest datapoint)', async () => {
      w.down.add(A);
      const st = await db().replicationState(A, B);
      assert.equal(st.primaryReachable, false);
      assert.equal(st.lagSeconds, 4);
      assert.equal(st.observedAt, '2026-11-22T09:59:00.000Z');
      const input = w.mocks.cw[B].commandCalls(GetMetricStatisticsCommand)[0].args[0].input;
      assert.equal(input.Namespace, 'AWS/RDS');
      assert.equal(input.MetricName, 'ReplicaLag');
      assert.deepEqual(input.Dimensions, [{ Name: 'DBInstanceIdentifier', Value: 'botdr-usw2-db' }]);
      assert.deepEqual(input.Statistics, ['Maximum']);
      assert.equal(w.mocks.cw[A].commandCalls(GetMetricStatisticsCommand).length, 0);
    });

    it('lag from SQL when the databases are reachable', async () => {
      const sql = { query: async (region: string, text: string) => (text.includes('current_wal') ? [{ lsn: '0/3000100' }] : region === B ? [{ lsn: '0/3000000', delay: 0.7 }] : []) };
      const st = await db({ sql }).replicationState(A, B);
      assert.deepEqual([st.primaryLsn, st.standbyReplayLsn, st.lagBytes, st.lagSeconds], ['0/3000100', '0/3000000', 256, 0.7]);
      assert.equal(w.mocks.cw[B].commandCalls(GetMetricStatisticsCommand).length, 0);
    });

    it('fallback promotion: PromoteReadReplica, waiter until available, then the retention change (PostgreSQL caveat)', async () => {
      const d = db();
      await d.promote(B, opts());
      const p = w.mocks.rds[B].commandCalls(PromoteReadReplicaCommand);
      assert.equal(p.length, 1);
      assert.deepEqual(p[0].args[0].input, { DBInstanceIdentifier: 'botdr-usw2-db', BackupRetentionPeriod: 14 });
      const m = w.mocks.rds[B].commandCalls(ModifyDBInstanceCommand);
      assert.deepEqual(m.map((c) => c.args[0].input), [{ DBInstanceIdentifier: 'botdr-usw2-db', BackupRetentionPeriod: 14, ApplyImmediately: true }]);
      // The waiter polled (promoting → available) with the configured interval, not a busy loop.
      assert.ok(clock.sleeps.filter((s) => s === 5_000).length >= 2, `polls: ${clock.sleeps}`);
      assert.ok(log.some((l) => /waiting for botdr-usw2-db to be available as a standalone primary/.test(l)));
      assert.equal(await d.role(B), 'primary');
      assert.equal(w.db[B].retention, 14);
      // Check-then-act: a second call promotes nothing.
      await d.promote(B);
      assert.equal(w.mocks.rds[B].commandCalls(PromoteReadReplicaCommand).length, 1);
      assert.equal(w.mocks.rds[B].commandCalls(ModifyDBInstanceCommand).length, 1);
    });

    it('a replica that is not available: waits, then fails with a clear message (bounded)', async () => {
      w.db[B].status = 'storage-full';
      await assert.rejects(db().promote(B), (e: unknown) => e instanceof OperationError && /botdr-usw2-db in us-west-2 did not become available \(before promotion\) within 60s \(last status: storage-full, still a replica\)/.test(e.message));
      assert.equal(w.mocks.rds[B].commandCalls(PromoteReadReplicaCommand).length, 0);
      assert.equal(clock.sleeps.reduce((a, b) => a + b, 0), 60_000);
    });

    it('throttling is retried with a bound, then surfaces', async () => {
      w.throttleNext.PromoteReadReplica = 2;
      await db().promote(B, opts());
      assert.equal(w.mocks.rds[B].commandCalls(PromoteReadReplicaCommand).length, 3);
      assert.ok(log.some((l) => /ThrottlingException: Rate exceeded; retry 1\/3/.test(l)));
      const w2 = new World();
      try {
        w2.throttleNext.DescribeDBInstances = 10;
        const d2 = new RdsDatabase({ topology: topo(), rds: (r) => w2.rds[r], cloudwatch: (r) => w2.cw[r], clock, retry: FAST });
        await assert.rejects(d2.role(B), (e: unknown) => (e as Error).name === 'ThrottlingException');
        assert.equal(w2.mocks.rds[B].commandCalls(DescribeDBInstancesCommand).length, 4);
      } finally {
        w2.restore();
      }
    });

    it('promotion goes straight to RDS (traffic first: no stack update on the critical path), with the backup retention', async () => {
      await db({ pollMs: 1000 }).promote(B, opts());
      assert.equal(w.mocks.rds[B].commandCalls(PromoteReadReplicaCommand).length, 1);
      assert.deepEqual(w.mocks.rds[B].commandCalls(PromoteReadReplicaCommand)[0].args[0].input, { DBInstanceIdentifier: 'botdr-usw2-db', BackupRetentionPeriod: 14 });
      assert.equal(await db().role(B), 'primary');
    });

    it('harden: the promoted survivor is made Multi-AZ online, once (check-then-act); promotedMultiAz=false requests nothing', async () => {
      await db({ pollMs: 1000 }).promote(B, opts());
      assert.match(await db().harden!(B, opts()), /Multi-AZ conversion started/);
      const mod = w.mocks.rds[B].commandCalls(ModifyDBInstanceCommand).map((c) => c.args[0].input).filter((i) => i.MultiAZ !== undefined);
      assert.deepEqual(mod, [{ DBInstanceIdentifier: 'botdr-usw2-db', MultiAZ: true, ApplyImmediately: true }]);
      assert.match(await db({ promotedMultiAz: false }).harden!(B, opts()), /not requested/);
    });

    it('fence: default_transaction_read_only=1 on the instance parameter group, check-then-act, unfence resets it', async () => {
      const d = db();
      assert.equal(await d.isFenced(A), false);
      await d.fence(A);
      assert.deepEqual(w.mocks.rds[A].commandCalls(ModifyDBParameterGroupCommand)[0].args[0].input, {
        DBParameterGroupName: 'botdr-use1-pg16',
        Parameters: [{ ParameterName: 'default_transaction_read_only', ParameterValue: '1', ApplyMethod: 'immediate' }],
      });
      assert.equal(await d.isFenced(A), true);
      await d.unfence(A);
      assert.equal(await d.isFenced(A), false);
      w.down.add(A);
      assert.equal(await d.isFenced(A), false);
      await assert.rejects(d.fence(A), /RDS there does not answer/);
      w.db[B].paramGroup = 'default.postgres16';
      await assert.rejects(d.fence(B), /default parameter group default.postgres16/);
    });

    it('a planned catch-up without SQL reach says what is missing', async () => {
      await assert.rejects(db().currentLsn(A), /needs SQL access .* or use --unplanned/);
    });
  });

  describe('ElastiCache global datastore', () => {
    const cache = () => new ElastiCacheGlobal({ topology: topo(), elasticache: (r) => w.ec[r], clock, retry: FAST, waitTimeoutMs: 60_000, pollMs: 5_000 });

    it('FailoverGlobalReplicationGroup with the survivor as primary, then waits until it is the available primary', async () => {
      const c = cache();
      assert.equal(await c.role(A), 'primary');
      assert.equal(await c.role(B), 'standby');
      await c.promote(B, { planned: true, from: A, ...opts() });
      const f = w.mocks.ec[B].commandCalls(FailoverGlobalReplicationGroupCommand);
      assert.deepEqual(f.map((x) => x.args[0].input), [{ GlobalReplicationGroupId: 'ldgnf-botdr-global', PrimaryRegion: B, PrimaryReplicationGroupId: 'botdr-usw2-cache' }]);
      assert.deepEqual(w.mocks.ec[B].commandCalls(DescribeGlobalReplicationGroupsCommand)[0].args[0].input, { GlobalReplicationGroupId: 'ldgnf-botdr-global', ShowMemberInfo: true });
      assert.ok(log.some((l) => /waiting for cache botdr-usw2-cache to be the available primary/.test(l)), 'waited while the global datastore was modifying');
      assert.equal(await c.role(B), 'primary');
      assert.equal(await c.role(A), 'standby');
      await c.promote(B);
      assert.equal(w.mocks.ec[B].commandCalls(FailoverGlobalReplicationGroupCommand).length, 1, 'check-then-act');
    });

    it('unplanned with the old primary region gone: disassociates the survivor as a standalone primary', async () => {
      w.down.add(A);
      const c = cache();
      assert.equal(await c.role(A), 'unreachable');
      await c.promote(B, { planned: false, from: A, ...opts() });
      assert.equal(w.mocks.ec[B].commandCalls(DisassociateGlobalReplicationGroupCommand).length, 1);
      assert.deepEqual(w.mocks.ec[B].commandCalls(DisassociateGlobalReplicationGroupCommand)[0].args[0].input, { GlobalReplicationGroupId: 'ldgnf-botdr-global', ReplicationGroupId: 'botdr-usw2-cache', ReplicationGroupRegion: B });
      assert.equal(await c.role(B), 'primary');
    });

    it('planned failover refused by ElastiCache is an error, not a disassociation', async () => {
      w.down.add(A);
      await assert.rejects(cache().promote(B, { planned: true, from: A }), /not available or in primary-only state/);
      assert.equal(w.mocks.ec[B].commandCalls(DisassociateGlobalReplicationGroupCommand).length, 0);
    });
  });

  describe('Secrets Manager', () => {
    it('StopReplicationToReplica on the replica ARN with a client in the surviving region; check via DescribeSecret', async () => {
      const s = new SecretsManagerReplicas({ secretsManager: (r) => w.sm[r], clock, retry: FAST });
      const arn = topo().regions[1].replicaSecretArns[0];
      assert.equal(await s.isPromoted(B, arn), false);
      await s.promote(B, arn);
      assert.deepEqual(w.mocks.sm[B].commandCalls(StopReplicationToReplicaCommand).map((c) => c.args[0].input), [{ SecretId: arn }]);
      assert.equal(w.mocks.sm[A].commandCalls(StopReplicationToReplicaCommand).length, 0);
      assert.deepEqual(w.mocks.sm[B].commandCalls(DescribeSecretCommand)[0].args[0].input, { SecretId: arn });
      assert.equal(await s.isPromoted(B, arn), true);
      await assert.rejects(s.isPromoted(B, arn.replace('community', 'nope')), /does not exist in us-west-2/);
      w.down.add(B);
      await assert.rejects(s.isPromoted(B, arn), /Secrets Manager in us-west-2 does not answer/);
    });
  });

  describe('Route 53', () => {
    const dns = () => new Route53Failover({ topology: topo(), route53: () => w.r53, clock, retry: FAST, waitTimeoutMs: 60_000, pollMs: 2_000 });

    it('one atomic batch swapping the failover types (each record keeps its value and check), then GetChange until INSYNC', async () => {
      const d = dns();
      assert.equal(await d.current('bot.example.com'), A);
      await d.point('bot.example.com', B, opts());
      const ch = w.mocks.r53.commandCalls(ChangeResourceRecordSetsCommand);
      assert.equal(ch.length, 1);
      const a = { Name: 'bot.example.com.', Type: 'CNAME', SetIdentifier: A, TTL: 60, HealthCheckId: 'hc-use1-0001', ResourceRecords: [{ Value: 'bot-use1.example.com' }] };
      const b = { Name: 'bot.example.com.', Type: 'CNAME', SetIdentifier: B, TTL: 60, HealthCheckId: 'hc-usw2-0002', ResourceRecords: [{ Value: 'bot-usw2.example.com' }] };
      const changes = ch[0].args[0].input.ChangeBatch!.Changes!;
      assert.equal(ch[0].args[0].input.HostedZoneId, 'Z0123456789ABCDEFGHIJ');
      assert.equal(ch[0].args[0].input.ChangeBatch!.Comment, 'dr failover: bot.example.com → us-west-2');
      assert.deepEqual(
        changes.map((c) => [c.Action, c.ResourceRecordSet!.SetIdentifier, c.ResourceRecordSet!.Failover]),
        [
          ['DELETE', A, 'PRIMARY'],
          ['DELETE', B, 'SECONDARY'],
          ['CREATE', A, 'SECONDARY'],
          ['CREATE', B, 'PRIMARY'],
        ],
      );
      for (const c of changes) {
        const { Failover: _f, ...rest } = c.ResourceRecordSet!;
        void _f;
        assert.deepEqual(rest, c.ResourceRecordSet!.SetIdentifier === A ? a : b, 'value, TTL and health check stay the record\'s own');
      }
      // The resulting zone: B PRIMARY with its own check, A SECONDARY with its own (what the stacks declare).
      assert.deepEqual(
        w.records.map((r) => [r.SetIdentifier, r.Failover, r.HealthCheckId]).sort(),
        [
          [A, 'SECONDARY', 'hc-use1-0001'],
          [B, 'PRIMARY', 'hc-usw2-0002'],
        ],
      );
      assert.deepEqual(w.mocks.r53.commandCalls(GetChangeCommand).map((c) => c.args[0].input), [{ Id: '/change/C123' }, { Id: '/change/C123' }]);
      assert.equal(await d.current('bot.example.com'), B);
      await d.point('bot.example.com', B);
      assert.equal(w.mocks.r53.commandCalls(ChangeResourceRecordSetsCommand).length, 1, 'no second change');
      // Failback swaps back the same way (the old region's own record still carries its check).
      await d.point('bot.example.com', A);
      assert.equal(await d.current('bot.example.com'), A);
      assert.deepEqual(w.records.map((r) => [r.SetIdentifier, r.Failover]).sort(), [
        [A, 'PRIMARY'],
        [B, 'SECONDARY'],
      ]);
    });

    it('PriorRequestNotComplete is retried; a control plane that does not answer fails with a clear error', async () => {
      w.throttleNext.ChangeResourceRecordSets = 1;
      await dns().point('bot.example.com', B, opts());
      assert.equal(w.mocks.r53.commandCalls(ChangeResourceRecordSetsCommand).length, 2);
      w.route53Down = true;
      await assert.rejects(dns().current('bot.example.com'), (e: unknown) => e instanceof OperationError && /Route 53 control plane \(us-east-1\) does not answer/.test(e.message));
    });

    it('a change that never gets INSYNC fails after the bound', async () => {
      w.changePolls = 1_000;
      await assert.rejects(dns().point('bot.example.com', B), /still PENDING after 60s/);
    });
  });

  describe('SNS notifier', () => {
    const notice: FailoverNotice = { kind: 'started', id: 'fo-1', mode: 'unplanned', incident: 'datacenter', from: A, to: B, message: 'unplanned datacenter failover fo-1 started', steps: [] };
    it('publishes to both regions; a region that is down is reported, not thrown', async () => {
      const n = new SnsNotifier({ topics: [PRIMARY_OUTPUTS.topicArn, SECONDARY_OUTPUTS.topicArn], sns: (r) => w.sns[r], clock, retry: FAST });
      let r = await n.notify(notice);
      assert.deepEqual(r, { delivered: [PRIMARY_OUTPUTS.topicArn, SECONDARY_OUTPUTS.topicArn], failed: [] });
      assert.equal(w.mocks.sns[A].commandCalls(PublishCommand)[0].args[0].input.TopicArn, PRIMARY_OUTPUTS.topicArn);
      assert.equal(w.mocks.sns[B].commandCalls(PublishCommand)[0].args[0].input.Subject, '[dr] failover started: datacenter us-east-1 -> us-west-2 (unplanned)');
      w.down.add(A);
      r = await n.notify(notice);
      assert.deepEqual(r.delivered, [SECONDARY_OUTPUTS.topicArn]);
      assert.equal(r.failed.length, 1);
      assert.equal(r.failed[0].target, PRIMARY_OUTPUTS.topicArn);
      assert.match(r.failed[0].error, /ENOTFOUND sns\.us-east-1/);
    });
  });

  describe('SNS notifier for the token engine', () => {
    const notice: TokenNotice = { kind: 'switch', bot: 'community', platform: 'telegram', id: 'a'.repeat(40), from: 0, to: 1, reason: 'revoked', by: 'monitor@us-east-1', at: '2026-11-22T10:00:00.000Z', message: 'community (telegram): token 0 is revoked; switched to token 1 (healthy)' };
    it('publishes subject and body to both topics; throws only when no topic took it', async () => {
      const n = new SnsNotifier({ topics: [PRIMARY_OUTPUTS.topicArn, SECONDARY_OUTPUTS.topicArn], sns: (r) => w.sns[r], clock, retry: FAST }).tokenNotifier();
      await n.notify(notice);
      const sent = [A, B].map((r) => w.mocks.sns[r].commandCalls(PublishCommand)[0].args[0].input);
      assert.deepEqual(sent.map((i) => [i.TopicArn, i.Subject]), [
        [PRIMARY_OUTPUTS.topicArn, '[dr] bot token switch: community (telegram) token 0 -> 1'],
        [SECONDARY_OUTPUTS.topicArn, '[dr] bot token switch: community (telegram) token 0 -> 1'],
      ]);
      // Issue 13: every alert notification ends with its runbook entry (INC-006 for bot tokens).
      assert.equal(sent[0].Message, `${notice.message}\n\nbot community (telegram): switch, reason revoked, active 0 -> 1\ndecision ${notice.id} by monitor@us-east-1 at 2026-11-22T10:00:00.000Z\n\nrunbook: INC-006 — dr runbook INC-006`);
      w.down.add(A);
      await n.notify(notice);
      w.down.add(B);
      await assert.rejects(n.notify(notice), (e: unknown) => e instanceof OperationError && /SNS token notice not delivered: .*us-east-1.*ENOTFOUND.*us-west-2.*ENOTFOUND/.test(e.message));
      await assert.rejects(new SnsNotifier({ topics: [], sns: (r) => w.sns[r] }).tokenNotifier().notify(notice), /no alerts topic ARN/);
    });
  });

  describe('S3 + local journal', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dr-s3j-'));
    });
    afterEach(() => fs.rm(dir, { recursive: true, force: true }));

    it('writes both copies; another machine resumes from the bucket; a missed PUT heals on the next append', async () => {
      const mk = (sub: string) => new S3Journal({ bucket: SECONDARY_OUTPUTS.bucketName, s3: w.s3c[B], local: new FileJournal(path.join(dir, sub)), log: (l) => log.push(l) });
      const j1 = mk('op1');
      await j1.append({ kind: 'begin', id: 'fo-x', at: '2026-11-22T10:00:00.000Z', mode: 'unplanned', incident: 'datacenter', from: A, to: B, runs: ['preflight'] });
      await j1.append({ kind: 'step', id: 'fo-x', at: '2026-11-22T10:00:01.000Z', step: 'preflight', phase: 'started' });
      const key = `${SECONDARY_OUTPUTS.bucketName}/failover/journal/fo-x.json`;
      assert.equal(JSON.parse(w.s3[key]).entries.length, 2);
      // A second operator's machine with an empty local dir sees the failover and its entries.
      const j2 = mk('op2');
      assert.deepEqual(await j2.list(), ['fo-x']);
      const r = await j2.read('fo-x');
      assert.equal(r.entries.length, 2);
      assert.equal((await new FileJournal(path.join(dir, 'op2')).read('fo-x')).entries.length, 2, 'local copy filled from S3');
      // S3 unreachable: the append is durable locally, reported, and healed by the next one.
      w.down.add(B);
      await j2.append({ kind: 'step', id: 'fo-x', at: '2026-11-22T10:00:02.000Z', step: 'preflight', phase: 'done', status: 'ok' });
      assert.ok(j2.remoteBehind.has('fo-x'));
      assert.ok(log.some((l) => /could not write s3:\/\/botdr-usw2-backups-3d4e5f\/failover\/journal\/fo-x.json/.test(l)));
      w.down.delete(B);
      await j2.append({ kind: 'end', id: 'fo-x', at: '2026-11-22T10:00:03.000Z', outcome: 'completed' });
      assert.equal(JSON.parse(w.s3[key]).entries.length, 4);
      // The first machine now reads the newer S3 copy.
      assert.equal((await j1.read('fo-x')).entries.length, 4);
      // A tampered object is reported as damage and ignored.
      const doc = JSON.parse(w.s3[key]);
      doc.entries.pop();
      w.s3[key] = JSON.stringify(doc);
      const r3 = await j1.read('fo-x');
      assert.equal(r3.entries.length, 4);
      assert.ok(r3.damage.some((d) => /checksum or id mismatch/.test(d)));
    });
  });
});
