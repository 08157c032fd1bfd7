import * as assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { runBackupJob } from '../../automation/backup/job';
import { BackupMetric, DumpProcess, PgSnapshotSession, PgTools } from '../../automation/backup/ports';
import { DEFAULT_KEEP } from '../../automation/backup/retention';
import { MemoryStore } from './fakes';

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
      clock: { now: () => new Date(t) },
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
    const { OperationError } = await import('../../automation/cli/errors');
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
      () => backupPostgres({ url: 'postgresql://u:p@db/bot', tier: 'daily', store, tools, clock: { now: () => new Date('2025-01-06T03:00:00Z') } }),
      (e: unknown) => e instanceof OperationError && /no backup was recorded: pg_dump exited with 1: permission denied for table secrets/.test(e.message),
    );
    assert.equal(cancelled, 1);
    assert.deepEqual([...store.objects.keys()], []);
  });
});
