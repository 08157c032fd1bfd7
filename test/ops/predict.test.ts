import assert from 'node:assert/strict';
import { ESTIMATES, formatDuration, predictRpo, predictRto, RPO_TARGET_SECONDS, RTO_TARGET_SECONDS } from '../../automation/ops/predict';

describe('predicted RTO/RPO (pure)', () => {
  const now = new Date('2026-05-01T12:00:00Z');

  it('RTO = detection + TTL + the traffic-first critical path (promotions, secrets, DNS INSYNC, verify), every part named; what follows traffic is listed apart', () => {
    const p = predictRto({ hasDatabaseReplica: true, hasCacheReplica: true });
    const parts = Object.fromEntries(p.parts.map((x) => [x.name, x.seconds]));
    assert.deepEqual(parts, { detection: 30, 'dns-ttl': 60, 'database-promotion': 600, 'cache-promotion': 120, secrets: 10, 'dns-switch': 60, verify: 10 });
    assert.equal(p.seconds, 30 + 60 + 600 + 120 + 10 + 60 + 10);
    assert.deepEqual(p.after_traffic?.map((x) => [x.name, x.seconds]), [['reconcile', 300], ['survivor-posture', 1800]]);
    assert.ok(!p.parts.some((x) => /pulumi|reconcile|image/i.test(x.name)), 'no Pulumi work counted before traffic moves');
    assert.equal(p.target_seconds, RTO_TARGET_SECONDS);
    assert.equal(p.meets_target, true);
    assert.match(p.note ?? '', /decide/);
  });

  it('uses configured/measured figures instead of the constants and marks their source', () => {
    const p = predictRto({ healthCheckIntervalSeconds: 30, healthCheckFailureThreshold: 5, dnsTtlSeconds: 300, databasePromotionSeconds: 3300, hasDatabaseReplica: true });
    assert.equal(p.parts[0].seconds, 150);
    assert.equal(p.parts[0].source, 'config');
    assert.equal(p.parts.find((x) => x.name === 'database-promotion')?.source, 'measured');
    assert.equal(p.seconds, 150 + 300 + 3300 + ESTIMATES.secretsPromotionSeconds + ESTIMATES.route53InsyncSeconds + ESTIMATES.verifySeconds);
    assert.equal(p.meets_target, false, 'over an hour misses the target');
    assert.equal(p.parts.some((x) => x.name === 'cache-promotion'), false, 'no cache replica, no cache part');
  });

  it('without a replica the RTO is a restore: unknown (and failing the target) until a drill measured it', () => {
    const unknown = predictRto({ hasDatabaseReplica: false });
    assert.equal(unknown.seconds, null);
    assert.equal(unknown.meets_target, false);
    assert.ok(unknown.warnings.some((w) => /drill/.test(w)));
    const measured = predictRto({ hasDatabaseReplica: false, restoreSeconds: 1200 });
    assert.equal(measured.seconds, 30 + 60 + 1200 + 10 + 60 + 10);
    assert.deepEqual(measured.after_traffic?.map((x) => x.name), ['reconcile'], 'no promoted instance to harden');
  });

  it('RPO = replica lag when a replica reports one', () => {
    const p = predictRpo({ hasDatabaseReplica: true, replicaLagSeconds: 4, replicaLagObservedAt: '2026-05-01T11:59:00Z', newestBackupAgeSeconds: 7200, now });
    assert.equal(p.seconds, 4);
    assert.equal(p.meets_target, true);
    assert.deepEqual(p.parts.map((x) => x.name), ['replica-lag']);
    assert.deepEqual(p.warnings, []);
  });

  it('flags a stale lag datapoint', () => {
    const p = predictRpo({ hasDatabaseReplica: true, replicaLagSeconds: 1, replicaLagObservedAt: '2026-05-01T11:30:00Z', now });
    assert.equal(p.seconds, 1);
    assert.match(p.warnings.join(' '), /1800 s old/);
    assert.match(p.parts[0].detail, /stale/);
  });

  it('RPO = newest backup age without a replica (or without a lag datapoint); over 15 min misses the target', () => {
    const noReplica = predictRpo({ hasDatabaseReplica: false, newestBackupAgeSeconds: 3 * 3600, newestBackupKey: 'postgresql/daily/backup_20260501_090000.dump', now });
    assert.equal(noReplica.seconds, 10800);
    assert.equal(noReplica.meets_target, false);
    assert.equal(noReplica.target_seconds, RPO_TARGET_SECONDS);
    assert.match(noReplica.parts[0].detail, /backup_20260501_090000/);
    const noLag = predictRpo({ hasDatabaseReplica: true, newestBackupAgeSeconds: 600, now });
    assert.equal(noLag.seconds, 600);
    assert.equal(noLag.meets_target, true);
    assert.ok(noLag.warnings.some((w) => /ReplicaLag/.test(w)));
  });

  it('nothing known is unknown and never meets the target', () => {
    const p = predictRpo({ hasDatabaseReplica: false, now });
    assert.equal(p.seconds, null);
    assert.equal(p.meets_target, false);
    assert.ok(p.warnings.length > 0);
  });

  it('cache lag is reported but does not change the database RPO', () => {
    const p = predictRpo({ hasDatabaseReplica: true, replicaLagSeconds: 2, cacheLagSeconds: 40, now });
    assert.equal(p.seconds, 2);
    assert.equal(p.parts.find((x) => x.name === 'cache-lag')?.seconds, 40);
  });

  it('formats durations', () => {
    assert.equal(formatDuration(null), 'unknown');
    assert.equal(formatDuration(42), '42 s');
    assert.equal(formatDuration(870), '14 min 30 s');
    assert.equal(formatDuration(3725), '1 h 2 min 5 s');
    assert.equal(formatDuration(90000), '1 d 1 h');
  });
});
