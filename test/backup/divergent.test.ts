/**
 * Failback's divergent backup, the pure parts and the engine over in-memory ports: key naming, the split point from
 * a timeline history file, pg_waldump's commit records, the comparison by primary key, the manifest's `divergence`
 * section, the summary line, and the snapshot-only record (AWS, old primary unreachable by SQL).
 */
import * as assert from 'node:assert/strict';
import {
  bucketCount,
  describeDivergent,
  differingBuckets,
  diffRows,
  divergenceTotals,
  divergentKey,
  divergentSummary,
  divergentTable,
  divergentTransactions,
  findDivergent,
  KEYS_LISTED,
  listedKeys,
  MANIFEST_SUFFIX,
  parseDivergentKey,
  parseKey,
  parseManifest,
  parseTimelineHistory,
  parseWaldumpCommits,
  readManifest,
  recordDivergentSnapshot,
  splitFromHistory,
  walBytesBetween,
  walFileTimeline,
  compareDatabases,
  type DivergenceProbe,
  type RowDigest,
} from '../../automation/backup/index';
import { VerificationError } from '../../automation/core/errors';
import { MemoryStore } from '../helpers/memory-store';

const clock = (iso: string) => ({ now: () => new Date(iso), sleep: async () => undefined });

describe('divergent backups: keys, split point, WAL commits', () => {
  it('names divergent/<backup_id>.dump and the snapshot pointer, parses them back, and keeps them out of the tier keys', () => {
    const d = new Date('2026-03-04T05:06:07Z');
    assert.equal(divergentKey(d), 'divergent/backup_20260304_050607.dump');
    assert.equal(divergentKey(d, 'snapshot'), 'divergent/backup_20260304_050607.rds-snapshot.json');
    const p = parseDivergentKey('divergent/backup_20260304_050607.dump.metadata.json');
    assert.deepEqual(p && { id: p.id, form: p.form, dataKey: p.dataKey, isManifest: p.isManifest }, { id: 'backup_20260304_050607', form: 'dump', dataKey: 'divergent/backup_20260304_050607.dump', isManifest: true });
    assert.equal(parseDivergentKey('divergent/backup_20260304_050607.rds-snapshot.json')?.form, 'snapshot');
    assert.equal(parseDivergentKey('divergent/backup_20260230_050607.dump'), undefined, 'not a real date');
    assert.equal(parseDivergentKey('postgresql/daily/backup_20260304_050607.dump'), undefined);
    assert.equal(parseKey('divergent/backup_20260304_050607.dump'), undefined, 'the tier catalog (listing, pruning, --from latest) never sees it');
  });

  it('the split point: the survivor history line whose parent is the old primary timeline', () => {
    const h = parseTimelineHistory('1\t0/3000148\tno recovery target specified\n\n# comment\n2\t0/5A0001F0\tno recovery target specified\n');
    assert.deepEqual(h, [
      { parent: 1, lsn: '0/3000148', reason: 'no recovery target specified' },
      { parent: 2, lsn: '0/5A0001F0', reason: 'no recovery target specified' },
    ]);
    // The survivor is on timeline 3: it left timeline 1 at 0/3000148 (into 2), and 2 at 0/5A0001F0 (into 3).
    assert.deepEqual(splitFromHistory(h, 3, 1), { lsn: '0/3000148', from_timeline: 1, to_timeline: 2 });
    assert.deepEqual(splitFromHistory(h, 3, 2), { lsn: '0/5A0001F0', from_timeline: 2, to_timeline: 3 });
    assert.equal(splitFromHistory(h, 3, 7), undefined, 'a timeline the survivor never had: no split by WAL');
    assert.equal(walFileTimeline('000000020000000000000003'), 2);
    assert.ok(Number.isNaN(walFileTimeline('pg_wal/x')));
    assert.equal(walBytesBetween('0/3000000', '0/3020000'), 0x20000);
    assert.equal(walBytesBetween('1/0', '0/FFFFFFFF'), -1);
    assert.equal(walBytesBetween('nope', '0/1'), undefined);
  });

  it('reads commit records from pg_waldump -r Transaction output (aborts and other records ignored)', () => {
    const out = [
      'rmgr: Transaction len (rec/tot):     34/    34, tx:        735, lsn: 0/03000d60, prev 0/03000d28, desc: COMMIT 2026-03-04 05:06:07.123456 UTC',
      'rmgr: Transaction len (rec/tot):     34/    34, tx:        736, lsn: 0/03000E10, prev 0/03000DD8, desc: ABORT 2026-03-04 05:06:07.200000 UTC',
      'rmgr: Heap        len (rec/tot):     54/   154, tx:        737, lsn: 0/03000E40, prev 0/03000E10, desc: INSERT off 3 flags 0x00',
      'rmgr: Transaction len (rec/tot):     82/    82, tx:        737, lsn: 0/03000F00, prev 0/03000E40, desc: COMMIT 2026-03-04 05:06:08.000001 UTC; inval msgs: catcache 55',
    ].join('\n');
    assert.deepEqual(parseWaldumpCommits(out), [
      { xid: '735', lsn: '0/03000D60', committed_at: '2026-03-04 05:06:07.123456 UTC' },
      { xid: '737', lsn: '0/03000F00', committed_at: '2026-03-04 05:06:08.000001 UTC' },
    ]);
  });
});

describe('divergent backups: the comparison by primary key', () => {
  const row = (key: string, digest: string, xmin?: string): RowDigest => ({ key, digest, ...(xmin ? { xmin } : {}) });

  it('bucket counts, differing buckets, and the row diff: only on the old primary, changed, only on the survivor', () => {
    assert.equal(bucketCount(0, 0), 1);
    assert.equal(bucketCount(640, 10), 10);
    assert.equal(bucketCount(1e9, 0), 16384);
    assert.deepEqual(differingBuckets({ '0': { rows: 2, digest: 'a' }, '1': { rows: 1, digest: 'b' }, '3': { rows: 1, digest: 'z' } }, { '0': { rows: 2, digest: 'a' }, '1': { rows: 1, digest: 'c' }, '2': { rows: 1, digest: 'd' } }), [1, 2, 3]);
    const d = diffRows([row('k3', 'x', '901'), row('k1', 'a'), row('k2', 'OLD', '902')], [row('k1', 'a'), row('k2', 'NEW'), row('k9', 'q')]);
    assert.deepEqual(d.onlyOld, [row('k3', 'x', '901')]);
    assert.deepEqual(d.changed, [row('k2', 'OLD', '902')]);
    assert.equal(d.onlySurvivor, 1);
  });

  it('the table entry lists at most KEYS_LISTED keys in all (the counts stay complete) and names where the rows are', () => {
    const many = Array.from({ length: KEYS_LISTED + 5 }, (_, i) => row(`k${String(i).padStart(5, '0')}`, 'h'));
    const t = divergentTable({ table: 'public.users', primaryKey: ['id'], rowsOld: 2000, rowsSurvivor: 995, diff: { onlyOld: many, changed: [row('c1', 'h')], onlySurvivor: 0 } }, { key: 'divergent/backup_20260304_050607.dump', table: 'public.users' });
    assert.equal(t.only_on_old_primary, KEYS_LISTED + 5);
    assert.equal(t.changed, 1);
    assert.equal(t.keys.only_on_old_primary.length, KEYS_LISTED);
    assert.deepEqual(t.keys.changed, []);
    assert.equal(t.keys.truncated, true);
    assert.equal(listedKeys(t).length, KEYS_LISTED);
    assert.deepEqual(divergenceTotals([t, divergentTable({ table: 'public.x', primaryKey: ['id'], rowsOld: 1, rowsSurvivor: 1, diff: { onlyOld: [], changed: [row('a', 'b')], onlySurvivor: 2 } }, { table: 'public.x' })]), { rows_differ: KEYS_LISTED + 7, rows_only_on_survivor: 2 });
  });

  it('transactions: pg_waldump commits when there are any (with the rows each wrote), else the rows\' xmins', () => {
    const xmins = new Map([['901', 2], ['950', 1]]);
    const w = divergentTransactions(xmins, [{ xid: '901', lsn: '0/1' }, { xid: '902', lsn: '0/2' }]);
    assert.deepEqual(w, { source: 'pg_waldump', count: 2, listed: [{ xid: '901', lsn: '0/1', rows: 2 }, { xid: '902', lsn: '0/2', rows: 0 }], truncated: false });
    const x = divergentTransactions(xmins, { error: 'pg_waldump: not found' });
    assert.deepEqual(x, { source: 'xmin', count: 2, listed: [{ xid: '901', rows: 2 }, { xid: '950', rows: 1 }], truncated: false, error: 'pg_waldump: not found' });
    assert.equal(divergentTransactions(new Map()), undefined);
  });

  it('compareDatabases fetches only the differing buckets and attributes the rows to their transactions', async () => {
    const data: Record<string, RowDigest[]> = {
      old: [row('1', 'a', '10'), row('2', 'b', '10'), row('3', 'LOST', '99'), row('4', 'OLD', '98')],
      new: [row('1', 'a'), row('2', 'b'), row('4', 'NEW'), row('5', 'AFTER')],
    };
    const fetched: number[][] = [];
    const bucketOf = (k: string, n: number) => Number(k) % n;
    const probe: DivergenceProbe = {
      tables: async () => [{ table: 'public.users', primaryKey: ['id'] }, { table: 'public.log', primaryKey: [] }],
      countRows: async (url, table) => (table === 'public.log' ? 3 : data[url].length),
      bucketDigests: async (url, _t, _pk, n) => {
        const out: Record<string, { rows: number; digest: string }> = {};
        for (const r of data[url]) {
          const b = String(bucketOf(r.key, n));
          out[b] = { rows: (out[b]?.rows ?? 0) + 1, digest: (out[b]?.digest ?? '') + r.digest };
        }
        return out;
      },
      bucketRows: async (url, _t, _pk, n, which) => {
        fetched.push([...which]);
        return data[url].filter((r) => which.includes(bucketOf(r.key, n)));
      },
      rowsByKey: async () => [],
      walPosition: async () => ({ lsn: '0/1', timeline: 1 }),
    };
    const r = await compareDatabases(probe, 'old', 'new', (table) => ({ key: 'divergent/x.dump', table }));
    const users = r.tables[0];
    assert.equal(users.only_on_old_primary, 1);
    assert.equal(users.changed, 1);
    assert.equal(users.only_on_survivor, 1);
    assert.deepEqual(users.keys, { only_on_old_primary: ['3'], changed: ['4'], truncated: false });
    assert.deepEqual([...r.xminRows], [['99', 1], ['98', 1]]);
    assert.equal(fetched.length, 2, 'both sides fetched once');
    assert.ok(fetched[0].length >= 1 && fetched[0].length <= 3, `only differing buckets: ${fetched[0]}`);
    assert.match(r.tables[1].note ?? '', /no primary key: compared by row count only/);
    assert.equal(r.tables[1].only_on_old_primary, 0);
  });
});

describe('divergent backups: manifests, the snapshot record and the summary', () => {
  it('records an RDS snapshot as the divergent copy when the old primary does not answer SQL (pointer + manifest, read back)', async () => {
    const store = new MemoryStore('mem://test');
    const r = await recordDivergentSnapshot({
      store,
      clock: clock('2026-03-04T05:06:07Z'),
      dbIdentifier: 'botdr-use1-db',
      reason: 'the old primary does not answer SQL (network-fenced)',
      context: { failoverId: 'fo-1', oldRegion: 'us-east-1', survivorRegion: 'us-west-2', split: { source: 'journal', promoted_at: '2026-03-04T04:00:00Z' }, snapshot: 'botdr-use1-db-pre-failback-20260304-050600' },
    });
    assert.equal(r.manifest.key, 'divergent/backup_20260304_050607.rds-snapshot.json');
    assert.equal(r.manifestKey, r.manifest.key + MANIFEST_SUFFIX);
    const m = await readManifest(store, r.manifest.key);
    assert.equal(m.type, 'divergent');
    assert.equal(m.tier, 'divergent');
    assert.equal(m.retention, 'kept_until_deleted');
    assert.equal(m.snapshot, 'botdr-use1-db-pre-failback-20260304-050600');
    assert.equal(m.divergence?.compared, false);
    assert.equal(m.divergence?.rows_differ, null);
    assert.equal(m.divergence?.failover_id, 'fo-1');
    assert.match(JSON.parse(store.text(r.manifest.key)).how_to_read, /RestoreDBInstanceFromDBSnapshot botdr-use1-db-pre-failback-20260304-050600/);
    const s = divergentSummary(r, store.location);
    assert.equal(s.kind, 'rds-snapshot');
    assert.match(describeDivergent(s), /not compared \(the old primary does not answer SQL \(network-fenced\)\).*kept in RDS snapshot botdr-use1-db-pre-failback-20260304-050600 \(pointer mem:\/\/test\/divergent\/backup_20260304_050607\.rds-snapshot\.json\)/);
    const found = await findDivergent(store, (x) => x.divergence?.old_primary.snapshot === 'botdr-use1-db-pre-failback-20260304-050600');
    assert.equal(found?.manifestKey, r.manifestKey);
    assert.equal(await findDivergent(store, () => false), undefined);
  });

  it('the manifest parser accepts a divergent manifest only with type and tier divergent', () => {
    const base = { backup_id: 'backup_20260304_050607', service: 'postgresql', timestamp: '2026-03-04T05:06:07Z', key: 'divergent/backup_20260304_050607.dump', size_bytes: 10, checksum: `sha256:${'a'.repeat(64)}` };
    assert.equal(parseManifest(JSON.stringify({ ...base, type: 'divergent', tier: 'divergent' }), 'k').type, 'divergent');
    assert.throws(() => parseManifest(JSON.stringify({ ...base, type: 'full', tier: 'daily' }), 'k'), VerificationError);
  });

  it('the summary line names the count, the tables, the split and where the rows are kept', () => {
    const s = divergentSummary(
      {
        manifestKey: 'divergent/backup_20260304_050607.dump.metadata.json',
        durationSeconds: 1.234,
        manifest: {
          backup_id: 'backup_20260304_050607',
          key: 'divergent/backup_20260304_050607.dump',
          restorability: 'VERIFIED',
          divergence: {
            split: { source: 'timeline-history', lsn: '0/3000148', from_timeline: 1, to_timeline: 2 },
            old_primary: { region: 'a', source: 'h:1/bot', wal_after_split_bytes: 9464 },
            survivor: { region: 'b', source: 'h:2/bot' },
            compared: true,
            rows_differ: 41,
            rows_only_on_survivor: 3,
            tables: [divergentTable({ table: 'public.users', primaryKey: ['id'], rowsOld: 9, rowsSurvivor: 9, diff: { onlyOld: [{ key: 'a', digest: 'x' }], changed: [], onlySurvivor: 0 } }, { table: 'public.users' }), divergentTable({ table: 'public.quiet', primaryKey: ['id'], rowsOld: 1, rowsSurvivor: 1 }, { table: 'public.quiet' })],
            transactions: { source: 'pg_waldump', count: 40, listed: [], truncated: false },
          },
        } as never,
      },
      's3://bot-dr-b',
    );
    assert.deepEqual(s.tables, [{ table: 'public.users', only_on_old_primary: 1, changed: 0 }]);
    assert.equal(s.duration_seconds, 1.23);
    assert.equal(describeDivergent(s), '41 row(s) of the old primary differ from the survivor (public.users 1) after the split at 0/3000148 (9464 bytes of WAL, 40 transaction(s)); kept in s3://bot-dr-b/divergent/backup_20260304_050607.dump (verified)');
  });
});
