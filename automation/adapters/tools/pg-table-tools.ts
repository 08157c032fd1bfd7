/**
 * PgTableTools over the PostgreSQL client binaries and the `pg` driver: the table-level half of the backup engine's
 * PostgreSQL ports, used by the selective restore (`dr restore postgres --table`) and the safety backups.
 *
 * - catalog facts of a table (columns, primary key, partitions, sequences, foreign keys, triggers that ignore
 *   `session_replication_role`);
 * - `pg_dump` of the whole schema with the data of only some tables, and exact counts of those tables in the dump's
 *   snapshot;
 * - `pg_restore -l` (the archive's table of contents), `--section=pre-data`, and `-L` of chosen entries;
 * - the selective restore's transaction on the target: staging tables filled by COPY from the scratch database
 *   (pg-copy.ts), comparison by primary key, replace / insert-missing, foreign-key checks, sequences.
 *
 * Connection details go to the tools through libpq environment variables, never argv. SQL identifiers come from the
 * catalog (`quote_ident`) or go through `escapeIdentifier`; values are always parameters.
 */
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { Client } from 'pg';
import type { ArchiveEntry, DumpProcess, ForeignKeyInfo, PgTableTools, RelationView, SelectiveSession, SequenceState, TableInfo } from '../../backup/index';
import { OperationError, UsageError } from '../../core/errors';
import { redact } from '../../core/redact';
import { findBinary } from './binaries';
import { pipeCopy } from './pg-copy';
import { parsePgUrl, pgEnv } from './pg-env';
import { connectPg } from './pg-tools';
import { lastLines, run, toolEnv, type ToolEnv } from './proc';

export interface LocalPgTableToolsOptions {
  pgDump?: string;
  pgRestore?: string;
  connectTimeoutMs?: number;
  env?: ToolEnv;
  /** Lock timeout of the selective restore's `LOCK TABLE` (default 15 s). */
  lockTimeoutMs?: number;
}

/** Every user table (plain and partitioned), canonical names: the tables whose data a table dump leaves out. */
const ALL_TABLES_SQL = `
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  ORDER BY 1`;

const SEQUENCES_SQL = `
  SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname) AS sequence, a.attname::text AS column
  FROM pg_depend d
  JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  JOIN pg_namespace sn ON sn.oid = s.relnamespace
  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = $1 AND d.deptype IN ('a', 'i')
  UNION
  SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname), a.attname::text
  FROM pg_attrdef ad
  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass
  JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
  JOIN pg_namespace sn ON sn.oid = s.relnamespace
  JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
  WHERE ad.adrelid = $1
  ORDER BY 1, 2`;

const FOREIGN_KEYS_SQL = `
  SELECT k.conname::text AS name,
         quote_ident(cn.nspname) || '.' || quote_ident(c.relname) AS "table",
         (SELECT array_agg(a.attname::text ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(n, ord) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n) AS columns,
         quote_ident(pn.nspname) || '.' || quote_ident(p.relname) AS "references",
         (SELECT array_agg(a.attname::text ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY u(n, ord) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n) AS referenced,
         k.convalidated AS validated
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
  JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
  WHERE k.contype = 'f' AND k.conparentid = 0 AND (k.conrelid = $1 OR k.confrelid = $1)
  ORDER BY 2, 1`;

/** Multi-word object kinds of `pg_restore -l` (longest first); anything else is one word. */
const ARCHIVE_DESCS = ['MATERIALIZED VIEW DATA', 'SEQUENCE OWNED BY', 'TABLE DATA', 'SEQUENCE SET', 'TABLE ATTACH', 'INDEX ATTACH', 'FK CONSTRAINT', 'CHECK CONSTRAINT', 'DEFAULT ACL', 'MATERIALIZED VIEW', 'FOREIGN TABLE', 'EVENT TRIGGER', 'LARGE OBJECT', 'ROW SECURITY'];

/** Parse `pg_restore -l` output: `<id>; <tableoid> <oid> <DESC> <schema> <name> <owner>` per entry. */
export function parseArchiveList(text: string): ArchiveEntry[] {
  const out: ArchiveEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+); \d+ \d+ (.+)$/.exec(line.trim());
    if (!m) continue;
    const rest = m[2];
    const desc = ARCHIVE_DESCS.find((d) => rest.startsWith(`${d} `)) ?? rest.split(' ')[0];
    const words = rest.slice(desc.length + 1).split(' ');
    // schema first, owner last, the name (which may hold spaces) in between.
    const schema = words[0] ?? '';
    const name = words.length > 2 ? words.slice(1, -1).join(' ') : (words[1] ?? '');
    out.push({ id: Number(m[1]), desc, schema, name });
  }
  return out;
}

/** A pg_dump table pattern matching exactly one canonical `schema.table` (quote_ident output is pattern-safe). */
function tablePattern(canonical: string): string {
  return canonical;
}

export class LocalPgTableTools implements PgTableTools {
  constructor(private readonly opts: LocalPgTableToolsOptions = {}) {}

  private bin(name: 'pg_dump' | 'pg_restore'): string {
    if (name === 'pg_dump' && this.opts.pgDump) return this.opts.pgDump;
    if (name === 'pg_restore' && this.opts.pgRestore) return this.opts.pgRestore;
    return findBinary(name, { env: this.opts.env });
  }

  /** A connected client (the adapters' one TLS decision), or UnreachableError naming the (redacted) URL. */
  connect(url: string): Promise<Client> {
    return connectPg(url, { env: this.opts.env, connectTimeoutMs: this.opts.connectTimeoutMs });
  }

  private async withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await this.connect(url);
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  describeTables(url: string, tables: ReadonlyArray<{ schema: string; table: string }>): Promise<TableInfo[]> {
    return this.withClient(url, async (c) => {
      const out: TableInfo[] = [];
      for (const t of tables) out.push(await describeOne(c, t));
      return out;
    });
  }

  canDisableTriggers(url: string): Promise<boolean> {
    return this.withClient(url, async (c) => {
      await c.query('BEGIN');
      try {
        await c.query('SET LOCAL session_replication_role = replica');
        return true;
      } catch (err) {
        if ((err as { code?: string }).code === '42501') return false;
        throw err;
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  dumpTables(url: string, opts: { tables: readonly string[]; compressLevel: number; snapshotId?: string }): DumpProcess {
    const wanted = new Set(opts.tables);
    const args = ['--format=custom', `--compress=${opts.compressLevel}`, '--no-password', '--no-blobs'];
    if (opts.snapshotId) args.push(`--snapshot=${opts.snapshotId}`);
    // The whole schema (so the archive restores on its own), the data of only the wanted tables.
    const others = this.withClient(url, async (c) => (await c.query<{ name: string }>(ALL_TABLES_SQL)).rows.map((r) => r.name).filter((n) => !wanted.has(n)));
    return startDump(this.bin('pg_dump'), args, others.then((o) => o.map((n) => `--exclude-table-data=${tablePattern(n)}`)), toolEnv(pgEnv(url, this.opts.env ?? {}), this.opts.env));
  }

  countRows(url: string, tables: readonly string[], snapshotId?: string): Promise<Record<string, number>> {
    return this.withClient(url, async (c) => {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      if (snapshotId) await c.query(`SET TRANSACTION SNAPSHOT ${c.escapeLiteral(snapshotId)}`);
      const out: Record<string, number> = {};
      for (const t of tables) out[t] = Number((await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${t}`)).rows[0].n);
      await c.query('COMMIT');
      return out;
    });
  }

  async archiveEntries(file: string, signal?: AbortSignal): Promise<ArchiveEntry[]> {
    const res = await run(this.bin('pg_restore'), ['--list', file], { baseEnv: this.opts.env, check: false, signal });
    if (res.code !== 0) throw new OperationError(`pg_restore --list could not read the archive: ${redact(lastLines(res.stderr, 5))}`);
    return parseArchiveList(res.stdout);
  }

  async restoreSchema(url: string, file: string, signal?: AbortSignal): Promise<void> {
    await this.pgRestore(url, ['--section=pre-data', file], signal);
  }

  async restoreEntries(url: string, file: string, ids: readonly number[], opts: { jobs: number; signal?: AbortSignal }): Promise<void> {
    const list = `${file}.selected.list`;
    fs.writeFileSync(list, ids.map((id) => `${id};\n`).join(''), { mode: 0o600 });
    try {
      await this.pgRestore(url, [`--jobs=${opts.jobs}`, `--use-list=${list}`, file], opts.signal);
    } finally {
      fs.rmSync(list, { force: true });
    }
  }

  private async pgRestore(url: string, args: string[], signal?: AbortSignal): Promise<void> {
    const all = ['--no-owner', '--no-acl', '--exit-on-error', '--no-password', `--dbname=${parsePgUrl(url).database}`, ...args];
    const res = await run(this.bin('pg_restore'), all, { env: pgEnv(url, this.opts.env ?? {}), baseEnv: this.opts.env, check: false, signal });
    if (res.code !== 0) throw new OperationError(`pg_restore exited with ${res.code ?? res.signal}: ${redact(lastLines(res.stderr, 8))}`);
  }

  async beginSelective(url: string): Promise<SelectiveSession> {
    const c = await this.connect(url);
    try {
      await c.query('BEGIN');
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    return new PgSelectiveSession(c, (u) => this.connect(u), this.opts.lockTimeoutMs ?? 15_000);
  }
}

/** `pg_dump` with arguments known only after a catalog query; a DumpProcess like LocalPgTools.dump's. */
function startDump(bin: string, args: string[], extra: Promise<string[]>, env: Record<string, string>): DumpProcess {
  const stdout = new PassThrough({ highWaterMark: 1024 * 1024 });
  let child: ReturnType<typeof spawn> | undefined;
  let killed = false;
  const done = extra.then(
    (more) =>
      new Promise<void>((resolve, reject) => {
        if (killed) return reject(new Error('pg_dump was stopped before it started'));
        const p = spawn(bin, [...args, ...more], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        child = p;
        let stderr = '';
        p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
        p.stdout!.pipe(stdout);
        p.on('error', (err) => reject(new Error(`pg_dump could not start: ${err.message}`)));
        p.on('close', (code, signal) => {
          if (code === 0) resolve();
          else reject(new Error(`pg_dump exited with ${code ?? signal}: ${redact(lastLines(stderr, 5)) || '(no output)'}`));
        });
      }),
  );
  done.catch((err: unknown) => stdout.destroy(err instanceof Error ? err : new Error(String(err))));
  return {
    stdout,
    done,
    kill: () => {
      killed = true;
      child?.kill('SIGTERM');
    },
  };
}

/** The catalog facts of one table (UsageError when it is not a table of this database). */
async function describeOne(c: Client, t: { schema: string; table: string }): Promise<TableInfo> {
  const found = await c.query<{ oid: number; kind: string; name: string; children: boolean }>(
    `SELECT c.oid::int AS oid, c.relkind::text AS kind, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
            EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid) AS children
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [t.schema, t.table],
  );
  const db = (await c.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d;
  if (!found.rows.length) throw new UsageError(`table ${t.schema}.${t.table} does not exist in database ${db} (the selective restore restores rows into an existing table)`);
  const { oid, kind, name, children } = found.rows[0];
  const columns = (
    await c.query<{ name: string; type: string; generated: boolean }>(
      `SELECT attname::text AS name, format_type(atttypid, atttypmod) AS type, attgenerated <> '' AS generated
       FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [oid],
    )
  ).rows;
  const primaryKey = (
    await c.query<{ name: string }>(
      `SELECT a.attname::text AS name FROM pg_constraint k CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum WHERE k.conrelid = $1 AND k.contype = 'p' ORDER BY u.ord`,
      [oid],
    )
  ).rows.map((r) => r.name);
  const partitions =
    kind === 'p'
      ? (
          await c.query<{ schema: string; table: string; name: string }>(
            `SELECT ln.nspname::text AS schema, l.relname::text AS "table", quote_ident(ln.nspname) || '.' || quote_ident(l.relname) AS name
             FROM pg_partition_tree($1::oid::regclass) pt JOIN pg_class l ON l.oid = pt.relid JOIN pg_namespace ln ON ln.oid = l.relnamespace
             WHERE pt.isleaf ORDER BY 3`,
            [oid],
          )
        ).rows
      : [];
  const sequences = (await c.query<{ sequence: string; column: string }>(SEQUENCES_SQL, [oid])).rows;
  const alwaysTriggers = (
    await c.query<{ name: string }>(
      `SELECT tgname::text AS name FROM pg_trigger WHERE NOT tgisinternal AND tgenabled IN ('A', 'R')
         AND (tgrelid = $1 OR tgrelid IN (SELECT relid FROM pg_partition_tree($1::oid::regclass))) ORDER BY 1`,
      [oid],
    )
  ).rows.map((r) => r.name);
  const foreignKeys: ForeignKeyInfo[] = (
    await c.query<{ name: string; table: string; columns: string[]; references: string; referenced: string[]; validated: boolean }>(FOREIGN_KEYS_SQL, [oid])
  ).rows.map((r) => ({ name: r.name, table: r.table, columns: r.columns, references: r.references, referencedColumns: r.referenced, validated: r.validated }));
  return { name, schema: t.schema, table: t.table, partitioned: kind === 'p', partitions, hasInheritanceChildren: kind === 'r' && children, columns, primaryKey, sequences, alwaysTriggers, foreignKeys };
}

/** The selective restore's transaction (see {@link SelectiveSession}). */
class PgSelectiveSession implements SelectiveSession {
  private readonly staged = new Map<string, { stage: string; info: TableInfo }>();

  constructor(
    private readonly c: Client,
    private readonly connect: (url: string) => Promise<Client>,
    private readonly lockTimeoutMs: number,
  ) {}

  private q(id: string): string {
    return this.c.escapeIdentifier(id);
  }

  private cols(columns: readonly string[], alias?: string): string {
    return columns.map((x) => (alias ? `${alias}.${this.q(x)}` : this.q(x))).join(', ');
  }

  private stageOf(table: string): { stage: string; info: TableInfo } {
    const s = this.staged.get(table);
    if (!s) throw new OperationError(`internal: ${table} was not staged`);
    return s;
  }

  /** `pk` equality between aliases `a` and `b`. */
  private keyMatch(info: TableInfo, a: string, b: string, columns = info.primaryKey, other = info.primaryKey): string {
    return columns.map((k, i) => `${a}.${this.q(k)} = ${b}.${this.q(other[i])}`).join(' AND ');
  }

  /** The relation a table is read as: itself, its staging table, or itself plus the staged rows it lacks. */
  private relation(table: string, view: RelationView, columns: readonly string[]): string {
    if (view === 'table') return table;
    const { stage, info } = this.stageOf(table);
    if (view === 'staged') return stage;
    const list = this.cols(columns);
    return `(SELECT ${list} FROM ${table} UNION ALL SELECT ${this.cols(columns, 's')} FROM ${stage} s WHERE NOT EXISTS (SELECT 1 FROM ${table} x WHERE ${this.keyMatch(info, 'x', 's')}))`;
  }

  private readonly differ = new Map<string, string>();

  /**
   * `t` and `s` (same key) differ: compared column by column with each type's equality (fast), or — when a column's
   * type has none (json, point, …) — through the rows' text, which every type has. Decided once per table, by
   * planning the comparison inside a savepoint.
   */
  private async differs(table: TableInfo, columns: readonly string[]): Promise<string> {
    const known = this.differ.get(table.name);
    if (known) return known;
    const { stage } = this.stageOf(table.name);
    const fast = `ROW(${this.cols(columns, 't')}) IS DISTINCT FROM ROW(${this.cols(columns, 's')})`;
    let expr = fast;
    await this.c.query('SAVEPOINT dr_differs');
    try {
      await this.c.query(`EXPLAIN SELECT 1 FROM ${table.name} t JOIN ${stage} s ON ${this.keyMatch(table, 't', 's')} WHERE ${fast}`);
      await this.c.query('RELEASE SAVEPOINT dr_differs');
    } catch {
      await this.c.query('ROLLBACK TO SAVEPOINT dr_differs');
      expr = `ROW(${this.cols(columns, 't')})::text IS DISTINCT FROM ROW(${this.cols(columns, 's')})::text`;
    }
    this.differ.set(table.name, expr);
    return expr;
  }

  async stage(table: TableInfo, columns: readonly string[], sourceUrl: string, signal?: AbortSignal): Promise<number> {
    const stage = `pg_temp.${this.q(`dr_stage_${this.staged.size + 1}`)}`;
    const list = this.cols(columns);
    await this.c.query(`CREATE TEMP TABLE ${stage.slice('pg_temp.'.length)} ON COMMIT DROP AS SELECT ${list} FROM ${table.name} WITH NO DATA`);
    this.staged.set(table.name, { stage, info: table });
    const src = await this.connect(sourceUrl);
    try {
      await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const rows = await pipeCopy(src, `COPY (SELECT ${list} FROM ${table.name}) TO STDOUT`, this.c, `COPY ${stage} (${list}) FROM STDIN`, signal);
      // Temporary tables are never analysed automatically: without statistics the joins by key below plan badly.
      await this.c.query(`ANALYZE ${stage}`);
      return rows;
    } finally {
      await src.end().catch(() => undefined);
    }
  }

  async count(table: TableInfo): Promise<number> {
    return Number((await this.c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table.name}`)).rows[0].n);
  }

  async compare(table: TableInfo, columns: readonly string[]): Promise<{ missing: number; extra: number; changed: number }> {
    const { stage } = this.stageOf(table.name);
    const on = this.keyMatch(table, 't', 's');
    const n = async (sql: string) => Number((await this.c.query<{ n: string }>(sql)).rows[0].n);
    return {
      missing: await n(`SELECT count(*)::text AS n FROM ${stage} s WHERE NOT EXISTS (SELECT 1 FROM ${table.name} t WHERE ${on})`),
      extra: await n(`SELECT count(*)::text AS n FROM ${table.name} t WHERE NOT EXISTS (SELECT 1 FROM ${stage} s WHERE ${on})`),
      changed: await n(`SELECT count(*)::text AS n FROM ${table.name} t JOIN ${stage} s ON ${on} WHERE ${await this.differs(table, columns)}`),
    };
  }

  async lock(tables: readonly TableInfo[]): Promise<void> {
    await this.c.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(this.lockTimeoutMs))}`);
    try {
      await this.c.query(`LOCK TABLE ${tables.map((t) => t.name).join(', ')} IN EXCLUSIVE MODE`);
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') throw new OperationError(`could not lock ${tables.map((t) => t.name).join(', ')} within ${this.lockTimeoutMs / 1000} s (another session holds a conflicting lock); nothing was changed`);
      throw err;
    }
  }

  async disableTriggers(): Promise<void> {
    await this.c.query('SET LOCAL session_replication_role = replica');
  }

  async replace(table: TableInfo, columns: readonly string[]): Promise<{ deleted: number; updated: number; inserted: number }> {
    const { stage } = this.stageOf(table.name);
    const list = this.cols(columns);
    if (!table.primaryKey.length) {
      const deleted = (await this.c.query(`DELETE FROM ${table.name}`)).rowCount ?? 0;
      const inserted = (await this.c.query(`INSERT INTO ${table.name} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM ${stage}`)).rowCount ?? 0;
      return { deleted, updated: 0, inserted };
    }
    const on = this.keyMatch(table, 't', 's');
    const deleted = (await this.c.query(`DELETE FROM ${table.name} t WHERE NOT EXISTS (SELECT 1 FROM ${stage} s WHERE ${on})`)).rowCount ?? 0;
    const set = columns.filter((c) => !table.primaryKey.includes(c));
    let updated = 0;
    if (set.length) {
      const sql = `UPDATE ${table.name} t SET (${this.cols(set)}) = ROW(${this.cols(set, 's')}) FROM ${stage} s WHERE ${on} AND ${await this.differs(table, columns)}`;
      updated = (await this.c.query(sql)).rowCount ?? 0;
    }
    const inserted = await this.insertMissing(table, columns);
    return { deleted, updated, inserted };
  }

  async insertMissing(table: TableInfo, columns: readonly string[]): Promise<number> {
    const { stage } = this.stageOf(table.name);
    const list = this.cols(columns);
    const sql = `INSERT INTO ${table.name} (${list}) OVERRIDING SYSTEM VALUE SELECT ${this.cols(columns, 's')} FROM ${stage} s WHERE NOT EXISTS (SELECT 1 FROM ${table.name} t WHERE ${this.keyMatch(table, 't', 's')})`;
    return (await this.c.query(sql)).rowCount ?? 0;
  }

  async foreignKeyViolations(fk: ForeignKeyInfo, views: Readonly<Record<string, RelationView>>): Promise<number> {
    const child = this.relation(fk.table, views[fk.table] ?? 'table', fk.columns);
    const parent = this.relation(fk.references, views[fk.references] ?? 'table', fk.referencedColumns);
    const notNull = fk.columns.map((k) => `c.${this.q(k)} IS NOT NULL`).join(' AND ');
    const match = fk.columns.map((k, i) => `p.${this.q(fk.referencedColumns[i])} = c.${this.q(k)}`).join(' AND ');
    const sql = `SELECT count(*)::text AS n FROM ${child} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${parent} p WHERE ${match})`;
    return Number((await this.c.query<{ n: string }>(sql)).rows[0].n);
  }

  async maxValue(table: TableInfo, column: string, view: RelationView): Promise<bigint | null> {
    const rel = this.relation(table.name, view, [column]);
    const v = (await this.c.query<{ m: string | null }>(`SELECT max(r.${this.q(column)})::text AS m FROM ${rel} r`)).rows[0].m;
    return v === null ? null : BigInt(v);
  }

  async sequence(name: string): Promise<SequenceState> {
    const r = (await this.c.query<{ last: string; called: boolean }>(`SELECT last_value::text AS last, is_called AS called FROM ${name}`)).rows[0];
    const inc = (await this.c.query<{ i: string }>('SELECT seqincrement::text AS i FROM pg_sequence WHERE seqrelid = $1::regclass', [name])).rows[0];
    return { lastValue: BigInt(r.last), isCalled: r.called, increment: BigInt(inc?.i ?? '1') };
  }

  async setSequence(name: string, value: bigint): Promise<void> {
    await this.c.query('SELECT setval($1::regclass, $2::bigint, true)', [name, String(value)]);
  }

  async commit(): Promise<void> {
    try {
      await this.c.query('COMMIT');
    } finally {
      await this.c.end().catch(() => undefined);
    }
  }

  async rollback(): Promise<void> {
    try {
      await this.c.query('ROLLBACK');
    } finally {
      await this.c.end().catch(() => undefined);
    }
  }
}
