/**
 * The selective restore's `--until` path on AWS: the point-in-time scratch instance of adapters/aws/pitr.ts
 * (RestoreDBInstanceToPointInTime, waited until available, read with the target's login at its endpoint, deleted
 * afterwards) asserted with aws-sdk-client-mock, and a fake SQL side (in-memory tables behind the PgTableTools
 * and PgTools ports) so the engine's order — safety backup before the change, one transaction, rollback and drop
 * on failure — is checked without a database. Plus the pure helpers (table names, archive lists, safety keys).
 */
import * as assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { DeleteDBInstanceCommand, DescribeDBInstancesCommand, RDSClient, RestoreDBInstanceToPointInTimeCommand } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { parseUntil, rdsPointInTimeScratch, urlAt } from '../../automation/adapters/aws/pitr';
import { parseArchiveList } from '../../automation/adapters/tools/pg-table-tools';
import { localTempFiles } from '../../automation/adapters/tools/temp-files';
import {
  parseSafetyKey,
  parseTableName,
  readManifest,
  selectiveRestore,
  type ArchiveEntry,
  type DumpProcess,
  type PgTableTools,
  type PgTools,
  type ScratchDatabases,
  type SelectiveSession,
  type TableInfo,
} from '../../automation/backup/index';
import { fixedClock } from '../../automation/core/clock';
import { FlagError, RefusedError } from '../../automation/core/errors';
import { MemoryStore } from '../helpers/memory-store';

const TARGET = 'postgresql://botadmin:Secr3t-pw@prod.example:5432/bot?sslmode=require';
type Row = { id: number; name: string };

const users: TableInfo = {
  name: 'public.users',
  schema: 'public',
  table: 'users',
  partitioned: false,
  partitions: [],
  hasInheritanceChildren: false,
  columns: [
    { name: 'id', type: 'bigint', generated: false },
    { name: 'name', type: 'text', generated: false },
  ],
  primaryKey: ['id'],
  sequences: [{ sequence: 'public.users_id_seq', column: 'id' }],
  alwaysTriggers: [],
  foreignKeys: [],
};

/** In-memory databases by host: the target (prod.example) and the point-in-time copy (scratch.example). */
class FakeSql implements PgTableTools {
  readonly dbs: Record<string, Row[]> = {
    'prod.example': [{ id: 1, name: 'oops' }],
    'scratch.example': [
      { id: 1, name: 'ada' },
      { id: 2, name: 'bob' },
    ],
  };
  readonly log: string[] = [];
  failReplace = false;
  seq = { last: 1n };
  private host(url: string): string {
    return new URL(url).hostname;
  }
  async describeTables(url: string): Promise<TableInfo[]> {
    this.log.push(`describe ${this.host(url)}`);
    return [users];
  }
  async canDisableTriggers(): Promise<boolean> {
    return true;
  }
  dumpTables(url: string, opts: { tables: readonly string[] }): DumpProcess {
    this.log.push(`dump ${this.host(url)} ${opts.tables.join(',')}`);
    const stdout = Readable.from([Buffer.from(`PGDMP ${JSON.stringify(this.dbs[this.host(url)])}`)]);
    return { stdout, done: Promise.resolve(), kill: () => undefined };
  }
  async countRows(url: string, tables: readonly string[]): Promise<Record<string, number>> {
    return Object.fromEntries(tables.map((t) => [t, this.dbs[this.host(url)].length]));
  }
  async archiveEntries(): Promise<ArchiveEntry[]> {
    return [{ id: 7, desc: 'TABLE DATA', schema: 'public', name: 'users' }];
  }
  async restoreSchema(): Promise<void> {
    throw new Error('a point-in-time restore restores no archive');
  }
  async restoreEntries(): Promise<void> {
    throw new Error('a point-in-time restore restores no archive');
  }
  async beginSelective(url: string): Promise<SelectiveSession> {
    const host = this.host(url);
    this.log.push(`begin ${host}`);
    let work = [...this.dbs[host]];
    let staged: Row[] = [];
    const fake = this;
    return {
      async stage(_t, columns, sourceUrl) {
        fake.log.push(`stage ${columns.join(',')} from ${sourceUrl}`);
        staged = [...fake.dbs[fake.host(sourceUrl)]];
        return staged.length;
      },
      async count() {
        return work.length;
      },
      async compare() {
        const ids = new Set(work.map((r) => r.id));
        return { missing: staged.filter((r) => !ids.has(r.id)).length, extra: work.filter((r) => !staged.some((s) => s.id === r.id)).length, changed: staged.filter((r) => work.some((w) => w.id === r.id && w.name !== r.name)).length };
      },
      async lock() {
        fake.log.push('lock');
      },
      async disableTriggers() {
        fake.log.push('session_replication_role = replica');
      },
      async replace() {
        if (fake.failReplace) throw new Error('injected: connection reset mid-way');
        // By difference, as the real session does: extra rows deleted, changed ones updated, missing ones inserted.
        const deleted = work.filter((w) => !staged.some((r) => r.id === w.id)).length;
        const updated = staged.filter((r) => work.some((w) => w.id === r.id && w.name !== r.name)).length;
        const inserted = staged.filter((r) => !work.some((w) => w.id === r.id)).length;
        work = [...staged];
        fake.log.push('replace');
        return { deleted, updated, inserted };
      },
      async insertMissing() {
        return 0;
      },
      async foreignKeyViolations() {
        return 0;
      },
      async maxValue() {
        return BigInt(Math.max(...work.map((r) => r.id), ...staged.map((r) => r.id)));
      },
      async sequence() {
        return { lastValue: fake.seq.last, isCalled: true, increment: 1n };
      },
      async setSequence(_n, v) {
        fake.log.push(`setval ${v}`);
        fake.seq.last = v;
      },
      async commit() {
        fake.log.push('commit');
        fake.dbs[host] = work;
      },
      async rollback() {
        fake.log.push('rollback');
      },
    };
  }
}

function fakePgTools(_sql: FakeSql): PgTools {
  return {
    versions: async () => ({ pg_dump: 'fake' }),
    inspect: async (url) => ({ serverVersion: '16.4', serverVersionNum: 160004, database: 'bot', host: `${new URL(url).hostname}:5432` }),
    openSnapshot: async () => ({ snapshotId: 'snap-1', countTables: async () => ({}), close: async () => undefined }),
    dump: () => ({ stdout: new PassThrough(), done: Promise.reject(new Error('not used')), kill: () => undefined }),
    restore: async () => undefined,
    tableCounts: async () => ({}),
    userTableCount: async () => 1,
    ping: async () => 1,
    replicaLag: async () => ({ inRecovery: false, lagBytes: 0, lagSeconds: 0 }),
  };
}

const noScratchDbs: ScratchDatabases = {
  createDatabase: async () => assert.fail('no scratch database for a point-in-time source'),
  dropDatabase: async () => undefined,
  listDatabases: async () => [],
};

describe('selective restore --until on AWS: the point-in-time scratch instance (aws-sdk-client-mock, fake SQL side)', () => {
  let rds: ReturnType<typeof mockClient>;
  const at = parseUntil('2026-11-30 13:00:00');

  beforeEach(() => {
    rds = mockClient(RDSClient);
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'botdr-use1-pg' }).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'botdr-use1-pg', LatestRestorableTime: new Date('2026-12-01T00:00:00Z'), DBSubnetGroup: { DBSubnetGroupName: 'sn' }, VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-1' }], DBInstanceClass: 'db.t4g.medium' }],
    });
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'dr-sel-1' })
      .resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: 'dr-sel-1', DBInstanceStatus: 'creating', TagList: [{ Key: 'purpose', Value: 'dr-scratch-restore' }] }] })
      .resolves({ DBInstances: [{ DBInstanceIdentifier: 'dr-sel-1', DBInstanceStatus: 'available', Endpoint: { Address: 'scratch.example', Port: 5433 }, TagList: [{ Key: 'purpose', Value: 'dr-scratch-restore' }] }] });
    rds.on(RestoreDBInstanceToPointInTimeCommand).resolves({});
    rds.on(DeleteDBInstanceCommand).resolves({});
  });
  afterEach(() => rds.restore());

  function run(sql: FakeSql, store: MemoryStore, extra: { dryRun?: boolean } = {}) {
    const scratch = rdsPointInTimeScratch(new RDSClient({ region: 'us-east-1' }), { sourceInstance: 'botdr-use1-pg', targetInstance: 'dr-sel-1', region: 'us-east-1', restoreTime: at, targetUrl: TARGET, pollMs: 0 });
    return selectiveRestore({
      targetUrl: TARGET,
      tables: ['public.users'],
      mode: 'replace',
      source: { kind: 'point-in-time', scratch },
      store,
      tools: fakePgTools(sql),
      tableTools: sql,
      scratch: noScratchDbs,
      temp: localTempFiles(),
      clock: fixedClock(() => new Date('2026-12-01T10:00:00Z')),
      ...extra,
    });
  }

  it('restores the point in time into a new instance, reads it with the target login at its endpoint, safety backup before the change, then deletes the instance', async () => {
    const sql = new FakeSql();
    const store = new MemoryStore();
    const res = await run(sql, store);
    const restore = rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input;
    assert.equal(restore.SourceDBInstanceIdentifier, 'botdr-use1-pg');
    assert.equal(restore.TargetDBInstanceIdentifier, 'dr-sel-1');
    assert.deepEqual(restore.RestoreTime, at);
    assert.equal(restore.DeletionProtection, false);
    assert.ok(restore.Tags?.some((t) => t.Key === 'purpose' && t.Value === 'dr-scratch-restore'));
    assert.deepEqual(res.source, { kind: 'point-in-time', restore_time: '2026-11-30T13:00:00.000Z', instance: 'dr-sel-1' });
    const scratchUrl = 'postgresql://botadmin:Secr3t-pw@scratch.example:5433/bot?sslmode=require';
    assert.ok(sql.log.includes(`stage id,name from ${scratchUrl}`), sql.log.join('\n'));
    // Order: the lock, then the safety backup of the target's table, then triggers off and the change, setval, commit.
    const order = ['lock', 'dump prod.example public.users', 'session_replication_role = replica', 'replace', 'setval 2', 'commit'].map((x) => sql.log.indexOf(x));
    assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), sql.log.join('\n'));
    assert.deepEqual(sql.dbs['prod.example'], sql.dbs['scratch.example']);
    assert.deepEqual(res.tables[0].by_key, { missing: 1, extra: 0, changed: 1 });
    assert.equal(res.safety_backup?.taken, true);
    const key = res.safety_backup?.taken ? res.safety_backup.key : '';
    assert.equal((await readManifest(store, key)).safety?.before, 'restore postgres --table public.users --mode replace from point in time 2026-11-30T13:00:00.000Z');
    const del = rds.commandCalls(DeleteDBInstanceCommand);
    assert.equal(del.length, 1);
    assert.deepEqual(del[0].args[0].input, { DBInstanceIdentifier: 'dr-sel-1', SkipFinalSnapshot: true, DeleteAutomatedBackups: true });
    assert.equal(res.scratch_dropped, true);
  });

  it('a failure mid-way rolls back (the target unchanged) and still deletes the scratch instance', async () => {
    const sql = new FakeSql();
    sql.failReplace = true;
    await assert.rejects(run(sql, new MemoryStore()), /injected: connection reset mid-way/);
    assert.deepEqual(sql.dbs['prod.example'], [{ id: 1, name: 'oops' }]);
    assert.ok(sql.log.includes('rollback') && !sql.log.includes('commit'));
    assert.ok(!sql.log.some((l) => l.startsWith('setval')), 'no sequence moved');
    assert.equal(rds.commandCalls(DeleteDBInstanceCommand).length, 1);
  });

  it('--dry-run: counts, rollback, no safety backup, the instance deleted', async () => {
    const sql = new FakeSql();
    const store = new MemoryStore();
    const res = await run(sql, store, { dryRun: true });
    assert.equal(res.dry_run, true);
    assert.deepEqual([res.tables[0].rows_before, res.tables[0].rows_after], [1, 2]);
    assert.equal(res.tables[0].sequences[0].set_to, '2');
    assert.ok(sql.log.includes('rollback') && !sql.log.includes('lock') && !sql.log.some((l) => l.startsWith('dump')));
    assert.equal(store.objects.size, 0);
    assert.deepEqual(sql.dbs['prod.example'], [{ id: 1, name: 'oops' }]);
    assert.equal(rds.commandCalls(DeleteDBInstanceCommand).length, 1);
  });

  it('never deletes an instance without the scratch tag', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'prod-db' }).resolves({ DBInstances: [{ DBInstanceIdentifier: 'prod-db', DBInstanceStatus: 'available', TagList: [] }] });
    const lines: string[] = [];
    const s = rdsPointInTimeScratch(new RDSClient({ region: 'us-east-1' }), { sourceInstance: 'x', targetInstance: 'prod-db', region: 'us-east-1', restoreTime: at, targetUrl: TARGET });
    await s.drop((l) => lines.push(l));
    assert.equal(rds.commandCalls(DeleteDBInstanceCommand).length, 0);
    assert.match(lines.join('\n'), /not tagged purpose=dr-scratch-restore; not deleting it/);
  });

  it('refuses --mode missing-rows on a table without a primary key before anything is created', async () => {
    const sql = new FakeSql();
    sql.describeTables = async () => [{ ...users, primaryKey: [] }];
    const scratch = rdsPointInTimeScratch(new RDSClient({ region: 'us-east-1' }), { sourceInstance: 'botdr-use1-pg', targetInstance: 'dr-sel-1', region: 'us-east-1', restoreTime: at, targetUrl: TARGET, pollMs: 0 });
    await assert.rejects(
      selectiveRestore({ targetUrl: TARGET, tables: ['public.users'], mode: 'missing-rows', source: { kind: 'point-in-time', scratch }, store: new MemoryStore(), tools: fakePgTools(sql), tableTools: sql, scratch: noScratchDbs, temp: localTempFiles(), clock: fixedClock(() => new Date()) }),
      (e: unknown) => e instanceof RefusedError && /has none/.test(e.message),
    );
    assert.equal(rds.commandCalls(RestoreDBInstanceToPointInTimeCommand).length, 0);
  });
});

describe('selective restore: pure helpers', () => {
  it('parseTableName: SCHEMA.TABLE, quoted parts keep their case, unquoted fold to lower case', () => {
    assert.deepEqual(parseTableName('public.users'), { schema: 'public', table: 'users' });
    assert.deepEqual(parseTableName('Public.Users'), { schema: 'public', table: 'users' });
    assert.deepEqual(parseTableName('app."Bot Users"'), { schema: 'app', table: 'Bot Users' });
    assert.deepEqual(parseTableName('"a""b".t'), { schema: 'a"b', table: 't' });
    for (const bad of ['users', 'a.b.c', 'public.', '.users', 'pub lic.users']) assert.throws(() => parseTableName(bad), FlagError, bad);
  });

  it('parseArchiveList reads pg_restore -l lines (multi-word kinds, names with spaces)', () => {
    const text = [
      ';',
      '; Archive created at 2026-12-01 10:00:00 UTC',
      '215; 1259 16390 TABLE public users postgres',
      '3345; 0 16390 TABLE DATA public users postgres',
      '3346; 0 16399 TABLE DATA app Bot Users bot',
      '3350; 0 0 SEQUENCE SET public users_id_seq postgres',
      ';3351; 0 16399 TABLE DATA public skipped postgres',
    ].join('\n');
    assert.deepEqual(parseArchiveList(text), [
      { id: 215, desc: 'TABLE', schema: 'public', name: 'users' },
      { id: 3345, desc: 'TABLE DATA', schema: 'public', name: 'users' },
      { id: 3346, desc: 'TABLE DATA', schema: 'app', name: 'Bot Users' },
      { id: 3350, desc: 'SEQUENCE SET', schema: 'public', name: 'users_id_seq' },
    ]);
  });

  it('safety keys: safety/<service>/backup_<stamp>.<ext> and its manifest key', () => {
    assert.deepEqual(parseSafetyKey('safety/postgresql/backup_20261201_100000.dump')?.tier, 'safety');
    assert.equal(parseSafetyKey('safety/redis/backup_20261201_100000.rdb.metadata.json')?.dataKey, 'safety/redis/backup_20261201_100000.rdb');
    assert.equal(parseSafetyKey('safety/redis/backup_20261201_100000.dump'), undefined);
    assert.equal(parseSafetyKey('postgresql/daily/backup_20261201_100000.dump'), undefined);
  });

  it('urlAt moves a URL to the scratch endpoint, keeping login, database and parameters', () => {
    assert.equal(urlAt(TARGET, 'scratch.example', 5433), 'postgresql://botadmin:Secr3t-pw@scratch.example:5433/bot?sslmode=require');
  });
});
