import * as assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { runBackupJob } from '../../automation/backup/job';
import { BackupMetric, DumpProcess, PgSnapshotSession, PgTools } from '../../automation/backup/ports';
import { DEFAULT_KEEP } from '../../automation/backup/retention';
import { MemoryStore } from '../helpers/memory-store';
import { fixedClock } from '../../automation/core/clock';

/** PgTools whose "pg_dump" emits `size` bytes; enough for the job's control flow (no server). */
function fakePg(size: () => number): PgTools {
  const session: PgSnapshotSession = { snapshotId: 'snap-1', countTables: async () => ({ 'public.t': 1 }), close: async () => undefined };
  return {
    versions: async () => ({ pg_dump: 'pg_dump (PostgreSQL) 15.0' }),
    inspect: async () => ({ serverVersion: '15.0', serverVersionNum: 150000, database: 'bot', host: 'db:5432' }),
    openSnapshot: async () => session,
    dump: (): DumpProcess => ({ stdout: Readable.from([Buffer.alloc(size(), 7)]), done: Promise.resolve(), kill: () => undefined }),
    restore: async () => undefined,
    tableCounts: async () => ({}),
    userTableCount: async () => 0,
    ping: async () => 1,
    replicaLag: async () => ({ inRecovery: true, lagBytes: 0, lagSeconds: 0 }),
  };
}

describe('backup job: suspiciously small backups alert', () => {
  it('a daily backup more than 50% smaller than the previous daily is kept, succeeds, and alerts once', async () => {
    const store = new MemoryStore();
    let t = Date.parse('2025-01-06T03:00:00Z');
    let bytes = 10_000;
    const alerts: Array<[string, string]> = [];
    const metrics: BackupMetric[][] = [];
    const deps = {
      store,
      clock: fixedClock(() => new Date(t)),
      keep: DEFAULT_KEEP,
      metrics: { publish: async (m: readonly BackupMetric[]) => void metrics.push([...m]) },
      notifier: { notify: async (s: string, m: string) => void alerts.push([s, m]) },
      log: () => undefined,
      pg: { url: 'postgresql://u:p@db/bot', tools: fakePg(() => bytes) },
      where: 'eu-west-1',
    };
    await runBackupJob({ service: 'postgresql', tier: 'daily' }, deps);
    t += 86_400_000;
    bytes = 6_000; // 40% smaller: fine
    await runBackupJob({ service: 'postgresql', tier: 'daily' }, deps);
    assert.equal(alerts.length, 0);
    t += 86_400_000;
    bytes = 2_000; // 67% smaller than 6000
    const res = await runBackupJob({ service: 'postgresql', tier: 'daily' }, deps);
    assert.equal(res.sizeBytes, 2_000);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0][0], '[bot-dr] postgresql daily backup suspiciously small (eu-west-1)');
    assert.match(alerts[0][1], /postgresql\/daily\/backup_20250108_030000\.dump is 2000 bytes, 67% smaller than the previous daily backup postgresql\/daily\/backup_20250107_030000\.dump \(6000 bytes\)/);
    assert.equal(metrics.at(-1)?.find((m) => m.tier === 'daily')?.success, true);
    assert.ok(await store.head(res.key + '.metadata.json'), 'the small backup is kept');
  });
});

describe('backup engine: dump and row counts fail together, promptly', () => {
  it('a dump that fails cancels the still-running count and reports the dump error; nothing is stored', async () => {
    const { backupPostgres } = await import('../../automation/backup/postgres');
    const { OperationError } = await import('../../automation/core/errors');
    const store = new MemoryStore();
    let cancelled = 0;
    let rejectCount: (e: Error) => void = () => undefined;
    const tools: PgTools = {
      ...fakePg(() => 0),
      openSnapshot: async () => ({
        snapshotId: 's',
        // A count over a huge table: it only ends when cancelled.
        countTables: () => new Promise((_, reject) => (rejectCount = reject)),
        cancel: async () => {
          cancelled++;
          rejectCount(new Error('canceling statement due to user request'));
        },
        close: async () => undefined,
      }),
      dump: (): DumpProcess => {
        const stdout = new Readable({ read() {} });
        stdout.push(Buffer.alloc(100));
        return { stdout, done: Promise.reject(new Error('pg_dump exited with 1: permission denied for table secrets')), kill: () => stdout.destroy() };
      },
    };
    await assert.rejects(
      () => backupPostgres({ url: 'postgresql://u:p@db/bot', tier: 'daily', store, tools, clock: fixedClock(() => new Date('2025-01-06T03:00:00Z')) }),
      (e: unknown) => e instanceof OperationError && /no backup was recorded: pg_dump exited with 1: permission denied for table secrets/.test(e.message),
    );
    assert.equal(cancelled, 1);
    assert.deepEqual([...store.objects.keys()], []);
  });
});

describe('backup engine: ElastiCache export copy', () => {
  it('copies the export with its sha256, deletes it, sweeps day-old leftovers, and records nothing when the export fails', async () => {
    const { backupRedisFromExport } = await import('../../automation/backup/redis');
    const { OperationError } = await import('../../automation/core/errors');
    const { createHash } = await import('node:crypto');
    const store = new MemoryStore();
    const now = new Date('2025-01-06T03:00:00Z');
    store.now = () => new Date(now.getTime() - 2 * 86_400_000);
    await store.put('redis/exports/bot-dr-daily-20250104-030000-0001.rdb', 'stale', 'x');
    store.now = () => now;
    await store.put('redis/exports/someone-else-in-progress-0001.rdb', 'fresh', 'x');
    const rdb = Buffer.from('REDIS0011\u00fa\u0009redis-ver\u00057.0.0 fake payload');
    const tools = {
      versions: async () => ({}),
      inspect: async () => ({ version: '7.0.0', keys: 3, host: 'cache:6379' }),
      rdb: () => {
        throw new Error('SYNC is not used in export mode');
      },
      sampleKeys: async () => ['a', 'b', 'c'],
      fingerprint: async () => ({}),
      loadRdb: async () => ({ url: '', stop: async () => undefined }),
      copyAll: async () => 0,
      ping: async () => 1,
    };
    const exporter = {
      exportSnapshot: async (name: string, prefix: string) => {
        await store.put(`${prefix}${name}-0001.rdb`, rdb, 'application/octet-stream');
        return { key: `${prefix}${name}-0001.rdb` };
      },
    };
    const res = await backupRedisFromExport({ url: 'rediss://cache:6379', tier: 'daily', store, tools, exporter, snapshotName: 'bot-dr-daily-20250106-030000', exportPrefix: 'redis/exports/', clock: fixedClock(() => now) });
    assert.equal(res.manifest.key, 'redis/daily/backup_20250106_030000.rdb');
    assert.equal(res.manifest.checksum, `sha256:${createHash('sha256').update(rdb).digest('hex')}`);
    assert.equal(res.manifest.size_bytes, rdb.length);
    assert.equal(res.manifest.snapshot, 'bot-dr-daily-20250106-030000');
    assert.deepEqual(res.manifest.key_sample, ['a', 'b', 'c']);
    assert.deepEqual(store.objects.get(res.manifest.key), rdb);
    assert.deepEqual([...store.objects.keys()].filter((k) => k.startsWith('redis/exports/')), ['redis/exports/someone-else-in-progress-0001.rdb']);

    const failing = { exportSnapshot: async () => Promise.reject(new Error('ElastiCache has not been granted WRITE permissions on the S3 bucket')) };
    const later = new Date('2025-01-07T03:00:00Z');
    await assert.rejects(
      () => backupRedisFromExport({ url: 'rediss://cache:6379', tier: 'daily', store, tools, exporter: failing, snapshotName: 'bot-dr-daily-20250107-030000', exportPrefix: 'redis/exports/', clock: fixedClock(() => later) }),
      (e: unknown) => e instanceof OperationError && /no backup was recorded: ElastiCache has not been granted WRITE/.test(e.message),
    );
    assert.equal([...store.objects.keys()].filter((k) => k.includes('20250107')).length, 0);
  });
});
