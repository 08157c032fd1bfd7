/**
 * {@link DivergenceProbe} over the `pg` driver: failback's comparison of an old primary with the survivor by primary
 * key, in plain SQL (works against RDS as well as the local clusters; no file or WAL access).
 *
 * - a row's key is its primary key as text (`(t.id)::text`, `ROW(t.a, t.b)::text` for a composite key); its digest
 *   is `md5(t::text)`, the whole row's text, under fixed output settings (DateStyle, TimeZone, extra_float_digits,
 *   …) so both servers render the same row the same way;
 * - buckets are `(hashtext(key) & 2147483647) % N`; a bucket's digest is the md5 of its rows' digests in byte order;
 * - tables: every user table and partitioned parent (not its partitions, not extension-owned), with its
 *   primary-key columns.
 */
import type { Client } from 'pg';
import type { BucketDigest, DivergenceProbe, RowDigest } from '../../backup/index';
import { walFileTimeline } from '../../backup/index';
import { UsageError } from '../../core/errors';
import { connectPg } from './pg-tools';

const TABLES_SQL = `
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
         COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord)
                   FROM pg_constraint con
                   CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                   WHERE con.conrelid = c.oid AND con.contype = 'p'), '{}'::text[]) AS pk
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  ORDER BY 1`;

/** Output settings that make `row::text` the same on both servers. */
const STABLE_OUTPUT = "SET DateStyle = 'ISO, MDY'; SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; SET bytea_output = 'hex'";

/** A table name as `tables()` returned it: quoted identifiers joined by a dot, nothing else. */
const QUALIFIED = /^("([^"]|"")+"|[a-z_][a-z0-9_$]*)\.("([^"]|"")+"|[a-z_][a-z0-9_$]*)$/;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function tableRef(table: string): string {
  if (!QUALIFIED.test(table)) throw new UsageError(`not a qualified table name: ${table}`);
  return table;
}

/** The key's text expression over alias `t`. */
export function keyExpression(primaryKey: readonly string[]): string {
  if (!primaryKey.length) throw new UsageError('a table without a primary key cannot be compared by key');
  return primaryKey.length === 1 ? `(t.${quoteIdent(primaryKey[0])})::text` : `ROW(${primaryKey.map((c) => `t.${quoteIdent(c)}`).join(', ')})::text`;
}

function bucketExpression(primaryKey: readonly string[], buckets: number): string {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1_000_000) throw new UsageError(`bucket count must be 1-1000000, got ${buckets}`);
  return `((hashtext(${keyExpression(primaryKey)}) & 2147483647) % ${buckets})`;
}

export class PgDivergenceProbe implements DivergenceProbe {
  constructor(private readonly opts: { connectTimeoutMs?: number; env?: Record<string, string | undefined> } = {}) {}

  private async withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await connectPg(url, { env: this.opts.env, connectTimeoutMs: this.opts.connectTimeoutMs, applicationName: 'dr-failback-divergence' });
    try {
      await c.query(STABLE_OUTPUT);
      return await fn(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  tables(url: string): Promise<Array<{ table: string; primaryKey: string[] }>> {
    return this.withClient(url, async (c) => (await c.query<{ name: string; pk: string[] }>(TABLES_SQL)).rows.map((r) => ({ table: r.name, primaryKey: r.pk })));
  }

  countRows(url: string, table: string): Promise<number> {
    return this.withClient(url, async (c) => Number((await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${tableRef(table)}`)).rows[0].n));
  }

  bucketDigests(url: string, table: string, primaryKey: readonly string[], buckets: number): Promise<Record<string, BucketDigest>> {
    const sql = `SELECT b::text AS b, count(*)::int AS n, md5(string_agg(h, '' ORDER BY h COLLATE "C")) AS d
                 FROM (SELECT ${bucketExpression(primaryKey, buckets)} AS b, md5(t::text) AS h FROM ${tableRef(table)} t) s GROUP BY b`;
    return this.withClient(url, async (c) => Object.fromEntries((await c.query<{ b: string; n: number; d: string }>(sql)).rows.map((r) => [r.b, { rows: r.n, digest: r.d }])));
  }

  bucketRows(url: string, table: string, primaryKey: readonly string[], buckets: number, which: readonly number[]): Promise<RowDigest[]> {
    const sql = `SELECT ${keyExpression(primaryKey)} AS k, md5(t::text) AS h, t.xmin::text AS x FROM ${tableRef(table)} t WHERE ${bucketExpression(primaryKey, buckets)} = ANY($1::int[])`;
    return this.withClient(url, async (c) => (await c.query<{ k: string; h: string; x: string }>(sql, [which])).rows.map((r) => ({ key: r.k, digest: r.h, xmin: r.x })));
  }

  rowsByKey(url: string, table: string, primaryKey: readonly string[], keys: readonly string[]): Promise<RowDigest[]> {
    const sql = `SELECT ${keyExpression(primaryKey)} AS k, md5(t::text) AS h, t.xmin::text AS x FROM ${tableRef(table)} t WHERE ${keyExpression(primaryKey)} = ANY($1::text[])`;
    return this.withClient(url, async (c) => (await c.query<{ k: string; h: string; x: string }>(sql, [keys])).rows.map((r) => ({ key: r.k, digest: r.h, xmin: r.x })));
  }

  walPosition(url: string): Promise<{ lsn: string; timeline: number }> {
    return this.withClient(url, async (c) => {
      const r = (await c.query<{ lsn: string; f: string }>('SELECT pg_current_wal_lsn()::text AS lsn, pg_walfile_name(pg_current_wal_lsn()) AS f')).rows[0];
      return { lsn: r.lsn, timeline: walFileTimeline(r.f) };
    });
  }
}
