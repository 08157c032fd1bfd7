import * as assert from 'node:assert/strict';
import { pairObjects } from '../../automation/backup/catalog';
import { checkBackups } from '../../automation/backup/check';
import { dataKey, manifestKeyFor, parseKey, parseStamp, stampOf, tierFor } from '../../automation/backup/keys';
import { parseManifest, sizeReadable } from '../../automation/backup/manifest';
import { resolveFrom } from '../../automation/backup/resolve';
import { planPrune, validateKeep } from '../../automation/backup/retention';
import { compareCounts } from '../../automation/backup/postgres';
import { UsageError } from '../../automation/core/errors';

const day = (d: string, h = 3) => new Date(`${d}T${String(h).padStart(2, '0')}:00:00Z`);

function objects(service: 'postgresql' | 'redis', tier: 'daily' | 'weekly' | 'monthly', dates: Date[], size = 1000, withManifest = true) {
  return dates.flatMap((d) => {
    const k = dataKey(service, tier, d);
    return withManifest ? [{ key: k, size }, { key: manifestKeyFor(k), size: 500 }] : [{ key: k, size }];
  });
}

describe('backup engine: pure parts', () => {
  it('names keys and parses them back (UTC)', () => {
    const d = new Date('2025-12-27T01:02:03Z');
    assert.equal(stampOf(d), '20251227_010203');
    assert.equal(dataKey('postgresql', 'daily', d), 'postgresql/daily/backup_20251227_010203.dump');
    assert.equal(dataKey('redis', 'monthly', d), 'redis/monthly/backup_20251227_010203.rdb');
    assert.equal(manifestKeyFor('redis/monthly/backup_20251227_010203.rdb'), 'redis/monthly/backup_20251227_010203.rdb.metadata.json');
    const p = parseKey('postgresql/weekly/backup_20251227_010203.dump.metadata.json');
    assert.equal(p?.isManifest, true);
    assert.equal(p?.dataKey, 'postgresql/weekly/backup_20251227_010203.dump');
    assert.equal(parseKey('postgresql/hourly/backup_20251227_010203.dump'), undefined);
    assert.equal(parseKey('redis/daily/backup_20251227_010203.dump'), undefined);
    assert.equal(parseKey('postgresql/daily/backup_20250230_010203.dump'), undefined);
    assert.equal(parseStamp('20251327_000000'), undefined);
  });

  it('selects the tier of a scheduled run: monthly on the 1st, weekly on Sunday, else daily', () => {
    assert.equal(tierFor(new Date('2025-06-01T03:00:00Z')), 'monthly'); // a Sunday and the 1st: monthly wins
    assert.equal(tierFor(new Date('2025-06-08T03:00:00Z')), 'weekly');
    assert.equal(tierFor(new Date('2025-06-09T03:00:00Z')), 'daily');
  });

  it('prunes to exactly the configured counts, manifest before data, and keeps fresh incomplete uploads', () => {
    const now = day('2025-03-01', 12);
    const dates = Array.from({ length: 10 }, (_, i) => day(`2025-02-${String(10 + i).padStart(2, '0')}`));
    const entries = pairObjects([
      ...objects('postgresql', 'daily', dates),
      ...objects('postgresql', 'daily', [day('2025-02-01')], 1000, false), // old leftover without manifest
      ...objects('postgresql', 'daily', [day('2025-03-01', 11)], 1000, false), // upload in progress
    ]);
    const plan = planPrune(entries, 7, now);
    assert.equal(plan.keep.length, 7);
    assert.deepEqual(plan.keep.map((e) => e.stamp.slice(0, 8)), ['20250219', '20250218', '20250217', '20250216', '20250215', '20250214', '20250213']);
    assert.deepEqual(plan.expired.map((e) => e.stamp.slice(0, 8)).sort(), ['20250210', '20250211', '20250212']);
    assert.deepEqual(plan.leftovers.map((e) => e.stamp), ['20250201_030000']);
    assert.equal(plan.deleteKeys.length, 3 * 2 + 1);
    const firstData = plan.deleteKeys.findIndex((k) => !k.endsWith('.metadata.json'));
    assert.ok(plan.deleteKeys.slice(firstData).every((k) => !k.endsWith('.metadata.json')), 'manifests are deleted before data');
    for (const [tier, keep, n] of [['weekly', 4, 6], ['monthly', 12, 15]] as const) {
      const ds = Array.from({ length: n }, (_, i) => new Date(Date.UTC(2023, i, 1, 5)));
      const p = planPrune(pairObjects(objects('redis', tier, ds)), keep, now);
      assert.equal(p.keep.length, keep);
      assert.equal(p.expired.length, n - keep);
    }
    assert.throws(() => planPrune(entries, 0, now), /keep must be/);
    assert.deepEqual(validateKeep({ daily: 3 }), { daily: 3, weekly: 4, monthly: 12 });
    assert.throws(() => validateKeep({ hourly: 3 }), /unknown tier 'hourly'/);
    assert.throws(() => validateKeep({ weekly: 0 }), /retention.weekly must be a whole number/);
  });

  it('resolves --from latest / tier / day and rejects bad or empty days with exit-2 errors', () => {
    const entries = pairObjects([
      ...objects('postgresql', 'daily', [day('2025-01-01'), day('2025-01-02'), day('2025-01-02', 15)]),
      ...objects('postgresql', 'weekly', [day('2025-01-03')]),
      ...objects('postgresql', 'daily', [day('2025-01-04')], 10, false),
    ]);
    assert.equal(resolveFrom('latest', entries).stamp, '20250103_030000'); // the incomplete 01-04 is skipped
    assert.equal(resolveFrom('daily', entries).stamp, '20250102_150000');
    assert.equal(resolveFrom('weekly', entries).stamp, '20250103_030000');
    assert.equal(resolveFrom('20250102', entries).stamp, '20250102_150000');
    assert.throws(() => resolveFrom('monthly', entries), (e: unknown) => e instanceof UsageError && /no complete monthly/.test(e.message));
    assert.throws(() => resolveFrom('20250104', entries), /no backup on that day \(UTC\); days with backups: 20250103, 20250102, 20250101/);
    assert.throws(() => resolveFrom('2025-01-02', entries), /allowed: latest\|daily\|weekly\|monthly\|YYYYMMDD/);
    assert.throws(() => resolveFrom('20250132', entries), /not a real calendar date/);
    assert.throws(() => resolveFrom('hourly', entries), (e: unknown) => e instanceof UsageError && e.exitCode === 2);
    assert.throws(() => resolveFrom('latest', []), /--from latest: the bucket holds no complete backup of it yet$/);
  });

  it("backups check: today's backup missing, or >50% smaller than the previous of its tier", () => {
    const now = day('2025-05-10', 12);
    const ok = pairObjects([...objects('postgresql', 'daily', [day('2025-05-09')], 1000), ...objects('postgresql', 'daily', [day('2025-05-10')], 600)]);
    assert.ok(checkBackups('postgresql', ok, now).every((f) => f.ok));
    const shrunk = pairObjects([...objects('postgresql', 'daily', [day('2025-05-09')], 1000), ...objects('postgresql', 'daily', [day('2025-05-10')], 499)]);
    const f = checkBackups('postgresql', shrunk, now).filter((x) => !x.ok);
    assert.equal(f.length, 1);
    assert.match(f[0].message, /more than 50% smaller/);
    const missing = checkBackups('postgresql', pairObjects(objects('postgresql', 'daily', [day('2025-05-09')])), now);
    assert.deepEqual(missing.filter((x) => !x.ok).map((x) => x.check), ['today']);
    const failedUpload = checkBackups('postgresql', pairObjects([...objects('postgresql', 'daily', [day('2025-05-10', 3)]), ...objects('postgresql', 'weekly', [day('2025-05-10', 4)], 10, false)]), now);
    assert.deepEqual(failedUpload.filter((x) => !x.ok).map((x) => x.check), ['incomplete']);
  });

  it('manifests: readable sizes, strict parsing, row-count comparison', () => {
    assert.equal(sizeReadable(536870912), '512MB');
    assert.equal(sizeReadable(1536), '1.5KB');
    assert.equal(sizeReadable(12), '12B');
    const good = { backup_id: 'backup_20250101_000000', service: 'redis', tier: 'daily', timestamp: 'x', key: 'redis/daily/backup_20250101_000000.rdb', size_bytes: 1, checksum: 'sha256:' + 'a'.repeat(64) };
    assert.equal(parseManifest(JSON.stringify(good), 'k').key, good.key);
    assert.throws(() => parseManifest(JSON.stringify({ ...good, checksum: 'md5:x' }), 'k'), /checksum must be sha256/);
    assert.throws(() => parseManifest(JSON.stringify({ ...good, tier: 'weekly' }), 'k'), /do not agree/);
    assert.throws(() => parseManifest('{', 'k'), /not JSON/);
    const cmp = compareCounts({ 'public.a': 3, 'public.b': 2 }, { 'public.a': 3, 'public.b': 1, 'public.extra': 9 });
    assert.deepEqual(cmp.map((c) => [c.table, c.ok]), [['public.a', true], ['public.b', false], ['public.extra', true]]);
  });
});
