import assert from 'node:assert/strict';
import {
  BACKUP_AGE_THRESHOLD_SECONDS,
  DEFAULT_RETENTION,
  RetentionError,
  RetentionPolicy,
  backupSchedules,
  coldTransitionFor,
  lifecycleRules,
  retentionCount,
  retentionCounts,
  tierPrefix,
  validateObjectLock,
  validateRetention,
} from '../../lib/lifecycle';

const clone = (p: RetentionPolicy): RetentionPolicy => JSON.parse(JSON.stringify(p));

describe('lib/lifecycle', () => {
  describe('defaults and prefixes', () => {
    it('uses the seeds policy: daily 7, weekly 28, monthly 365, config 90', () => {
      for (const s of ['postgresql', 'redis'] as const) assert.deepEqual(DEFAULT_RETENTION[s], { daily: 7, weekly: 28, monthly: 365 });
      assert.equal(DEFAULT_RETENTION.configDays, 90);
    });
    it('builds tier prefixes', () => {
      assert.equal(tierPrefix('postgresql', 'daily'), 'postgresql/daily/');
      assert.equal(tierPrefix('redis', 'monthly'), 'redis/monthly/');
    });
  });

  describe('validateRetention', () => {
    it('accepts the defaults', () => assert.doesNotThrow(() => validateRetention(DEFAULT_RETENTION)));
    for (const [path, value] of [
      [['postgresql', 'daily'], 0],
      [['redis', 'weekly'], -3],
      [['postgresql', 'monthly'], 1.5],
      [['redis', 'daily'], '7'],
    ] as const) {
      it(`rejects ${path.join('.')} = ${JSON.stringify(value)} naming the key`, () => {
        const p = clone(DEFAULT_RETENTION) as any;
        p[path[0]][path[1]] = value;
        assert.throws(() => validateRetention(p), (e: Error) => e instanceof RetentionError && e.message.includes(`backup.retention.${path.join('.')}`));
      });
    }
    it('rejects configDays below 1', () => {
      const p = clone(DEFAULT_RETENTION);
      p.configDays = 0;
      assert.throws(() => validateRetention(p), /backup\.retention\.configDays/);
    });
    it('rejects a weekly tier kept shorter than a week', () => {
      const p = clone(DEFAULT_RETENTION);
      p.redis.weekly = 3;
      assert.throws(() => validateRetention(p), /backup\.retention\.redis\.weekly.*period \(7 days\)/);
    });
  });

  describe('retention maths', () => {
    it('turns days into counts, rounding up', () => {
      assert.equal(retentionCount('daily', 7), 7);
      assert.equal(retentionCount('weekly', 28), 4);
      assert.equal(retentionCount('weekly', 30), 5);
      assert.equal(retentionCount('monthly', 365), 12);
      assert.equal(retentionCount('monthly', 31), 2);
      assert.deepEqual(retentionCounts(DEFAULT_RETENTION).postgresql, { daily: 7, weekly: 4, monthly: 12 });
    });
    it('refuses nonsense days', () => assert.throws(() => retentionCount('daily', 0), /retention\.daily/));
    it('has backup-age thresholds of a period plus grace', () => {
      assert.equal(BACKUP_AGE_THRESHOLD_SECONDS.daily, 26 * 3600);
      assert.equal(BACKUP_AGE_THRESHOLD_SECONDS.weekly, 8 * 86400);
      assert.equal(BACKUP_AGE_THRESHOLD_SECONDS.monthly, 32 * 86400);
    });
  });

  describe('backupSchedules', () => {
    const schedules = backupSchedules();
    it('has one UTC cron per service and tier', () => {
      assert.equal(schedules.length, 6);
      assert.equal(new Set(schedules.map((s) => `${s.service}/${s.tier}`)).size, 6);
      for (const s of schedules) assert.match(s.expression, /^cron\(\d+ \d+ [\d*?]+ \* [A-Z?]+ \*\)$/);
    });
    it('runs weekly on Sunday, monthly on the 1st', () => {
      assert.ok(schedules.filter((s) => s.tier === 'weekly').every((s) => s.expression.includes(' SUN ')));
      assert.ok(schedules.filter((s) => s.tier === 'monthly').every((s) => / \d+ 1 \* \? /.test(s.expression)));
    });
    it('never starts two jobs at the same minute', () => {
      const starts = schedules.map((s) => s.expression.split(' ').slice(0, 2).join(' '));
      assert.equal(new Set(starts).size, starts.length);
    });
  });

  describe('coldTransitionFor', () => {
    it('moves a 365-day tier to GLACIER_IR after 30 days', () => assert.deepEqual(coldTransitionFor(365), { storageClass: 'GLACIER_IR', afterDays: 30 }));
    it('skips a transition at or after the expiry', () => assert.equal(coldTransitionFor(30), undefined));
    it('skips a transition when the minimum storage duration outlives the object', () => {
      assert.equal(coldTransitionFor(100), undefined); // 70 days left < GLACIER_IR's 90
      assert.ok(coldTransitionFor(120));
    });
    it('respects STANDARD_IA minimum age of 30 days', () => {
      assert.deepEqual(coldTransitionFor(365, { storageClass: 'STANDARD_IA', afterDays: 5 }), { storageClass: 'STANDARD_IA', afterDays: 30 });
    });
    it('refuses classes that need a restore job', () => {
      assert.throws(() => coldTransitionFor(365, { storageClass: 'DEEP_ARCHIVE' as any, afterDays: 30 }), /backup\.coldStorage\.storageClass/);
    });
  });

  describe('lifecycleRules', () => {
    const rules = lifecycleRules(DEFAULT_RETENTION);
    const byId = new Map(rules.map((r) => [r.id, r]));
    it('has one rule per tier prefix with the configured expiry', () => {
      for (const s of ['postgresql', 'redis'] as const) {
        for (const t of ['daily', 'weekly', 'monthly'] as const) {
          const r = byId.get(`${s}-${t}`);
          assert.ok(r, `${s}-${t}`);
          assert.equal(r.status, 'Enabled');
          assert.equal(r.filter.prefix, `${s}/${t}/`);
          assert.equal(r.expiration?.days, DEFAULT_RETENTION[s][t]);
        }
      }
      assert.equal(byId.get('config')?.filter.prefix, 'config/');
      assert.equal(byId.get('config')?.expiration?.days, 90);
    });
    it('takes days from the policy', () => {
      const p = clone(DEFAULT_RETENTION);
      p.redis.daily = 3;
      p.configDays = 45;
      const r = lifecycleRules(p);
      assert.equal(r.find((x) => x.id === 'redis-daily')?.expiration?.days, 3);
      assert.equal(r.find((x) => x.id === 'config')?.expiration?.days, 45);
    });
    it('moves only monthly tiers to cold storage, before they expire', () => {
      for (const r of rules) {
        if (r.id.endsWith('-monthly')) {
          assert.deepEqual(r.transitions, [{ days: 30, storageClass: 'GLACIER_IR' }]);
          assert.ok(r.transitions![0]!.days < r.expiration!.days!);
        } else {
          assert.equal(r.transitions, undefined, r.id);
        }
      }
    });
    it('has a bucket-wide housekeeping rule (noncurrent expiry, multipart abort, delete markers)', () => {
      const h = byId.get('housekeeping');
      assert.ok(h);
      assert.deepEqual(h.filter, {});
      assert.deepEqual(h.noncurrentVersionExpiration, { noncurrentDays: 30 });
      assert.deepEqual(h.abortIncompleteMultipartUpload, { daysAfterInitiation: 2 });
      assert.deepEqual(h.expiration, { expiredObjectDeleteMarker: true });
    });
    it('never combines a delete-marker cleanup with days in one expiration (S3 rejects it)', () => {
      for (const r of rules) assert.ok(!(r.expiration?.expiredObjectDeleteMarker && r.expiration.days !== undefined), r.id);
    });
    it('honours housekeeping options and validates them', () => {
      const r = lifecycleRules(DEFAULT_RETENTION, { noncurrentVersionDays: 10, abortMultipartDays: 1 });
      assert.deepEqual(r.find((x) => x.id === 'housekeeping')?.noncurrentVersionExpiration, { noncurrentDays: 10 });
      assert.throws(() => lifecycleRules(DEFAULT_RETENTION, { noncurrentVersionDays: 0 }), /backup\.noncurrentVersionDays/);
    });
    it('validates the policy first', () => {
      const p = clone(DEFAULT_RETENTION);
      p.postgresql.daily = 0;
      assert.throws(() => lifecycleRules(p), /backup\.retention\.postgresql\.daily/);
    });
  });

  describe('validateObjectLock', () => {
    it('accepts a lock within the shortest retention', () => {
      assert.deepEqual(validateObjectLock({ mode: 'COMPLIANCE', days: 7 }, DEFAULT_RETENTION), { mode: 'COMPLIANCE', days: 7 });
    });
    it('rejects an unknown mode', () => assert.throws(() => validateObjectLock({ mode: 'STRICT' as any, days: 7 }, DEFAULT_RETENTION), /backup\.objectLock\.mode/));
    it('rejects a lock longer than the shortest tier', () => assert.throws(() => validateObjectLock({ mode: 'GOVERNANCE', days: 8 }, DEFAULT_RETENTION), /backup\.objectLock\.days.*7 days/));
    it('rejects zero days', () => assert.throws(() => validateObjectLock({ mode: 'GOVERNANCE', days: 0 }, DEFAULT_RETENTION), /backup\.objectLock\.days/));
  });
});
