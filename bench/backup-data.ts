/**
 * The benchmark's databases: pgbench (`pgbench -i -s N`, compresses ~50× at -Z6) and a "realistic" bot
 * database of about the same on-disk size that compresses far less: a users table with jsonb settings and a
 * messages table with random-word text, jsonb metadata carrying incompressible base64 digests, a primary key
 * and two secondary indexes (what a chat bot's history table looks like).
 *
 * Both are created once per (dataset, scale) under bench/.work/ and reused; `VACUUM ANALYZE` + `CHECKPOINT`
 * after loading, so the first measured operation does not pay for hint bits or pending autovacuum work.
 */
import { findBinary } from '../automation/adapters/tools/binaries';
import { PgCluster } from '../automation/adapters/rehearsal/pg-cluster';
import { pgEnv } from '../automation/adapters/tools/pg-env';
import { run } from '../automation/adapters/tools/proc';

export const DATASETS = ['pgbench', 'realistic'] as const;
export type Dataset = (typeof DATASETS)[number];

/** Messages per scale unit: scale 70 gives about the same database size as pgbench scale 70 (~1 GB). */
const MESSAGES_PER_SCALE = 33_000;
const USERS_PER_SCALE = 2_000;
/** Rows per INSERT batch (bounded transactions, progress lines). */
const BATCH = 250_000;

/** The database name of a (dataset, scale). */
export function databaseName(dataset: Dataset, scale: number): string {
  return `bench_${dataset}_s${scale}`;
}

/** Create the database when missing (once; reused across runs). Returns its name. */
export async function ensureDatabase(pg: PgCluster, dataset: Dataset, scale: number, log: (l: string) => void): Promise<string> {
  const name = databaseName(dataset, scale);
  const exists = (await pg.query<{ n: string }>('SELECT count(*) AS n FROM pg_database WHERE datname = $1', 'postgres', [name]))[0].n !== '0';
  if (exists) return name;
  log(`creating the ${dataset} database at scale ${scale} (${name}) — once; reused later`);
  await pg.createDatabase(name);
  try {
    if (dataset === 'pgbench') await run(findBinary('pgbench'), ['-i', '-s', String(scale), '-q'], { env: pgEnv(pg.url(name)) });
    else await loadRealistic(pg, name, scale, log);
    await pg.query('VACUUM ANALYZE', name);
    await pg.query('CHECKPOINT');
  } catch (err) {
    await pg.dropDatabase(name).catch(() => undefined);
    throw err;
  }
  return name;
}

const SCHEMA = `
  CREATE TABLE vocab (i int PRIMARY KEY, w text NOT NULL);
  INSERT INTO vocab SELECT i, translate(substr(md5(i::text), 1, 2 + i % 9), '0123456789', 'ghijklmnop') FROM generate_series(1, 4096) i;
  CREATE TABLE users (id bigint PRIMARY KEY, username text NOT NULL, language text NOT NULL, settings jsonb NOT NULL, created_at timestamptz NOT NULL);
  CREATE TABLE messages (id bigint PRIMARY KEY, chat_id bigint NOT NULL, user_id bigint NOT NULL, sent_at timestamptz NOT NULL, body text NOT NULL, meta jsonb NOT NULL);`;

/** Random words from `vocab`, evaluated per row (the `g` reference makes the subquery correlated). */
const words = (n: string) => `(SELECT string_agg(v.w, ' ') FROM generate_series(1, ${n}) k JOIN vocab v ON v.i = 1 + ((hashtextextended(g::text || ':' || k, 7) & 4095)::int) WHERE g > 0)`;

async function loadRealistic(pg: PgCluster, db: string, scale: number, log: (l: string) => void): Promise<void> {
  await pg.query(SCHEMA, db);
  const users = scale * USERS_PER_SCALE;
  await pg.query(
    `INSERT INTO users SELECT g, 'user_' || md5(g::text), (ARRAY['en','de','fr','es','ru','pt','it'])[1 + g % 7],
       jsonb_build_object('notify', g % 3 = 0, 'tz', 'UTC' || (g % 25 - 12), 'tags', ${words('3')}, 'token', encode(sha256(g::text::bytea), 'base64')),
       timestamptz '2023-01-01' + (g % 31536000) * interval '1 second'
     FROM generate_series(1, ${users}) g`,
    db,
  );
  const total = scale * MESSAGES_PER_SCALE;
  for (let from = 1; from <= total; from += BATCH) {
    const to = Math.min(total, from + BATCH - 1);
    await pg.query(
      `INSERT INTO messages SELECT g, (hashtextextended(g::text, 1) & 1048575), 1 + (hashtextextended(g::text, 2) & 2147483647) % ${users},
         timestamptz '2024-01-01' + (hashtextextended(g::text, 3) & 33554431) * interval '1 second',
         ${words('4 + (g % 37)')},
         jsonb_build_object('client', (ARRAY['android','ios','web','desktop'])[1 + g % 4], 'reactions', g % 17, 'reply_to', CASE WHEN g % 3 = 0 THEN g - 1 - g % 1000 END,
                            'edited', g % 11 = 0, 'digest', encode(sha256(('m' || g)::bytea), 'base64'))
       FROM generate_series(${from}, ${to}) g`,
      db,
    );
    log(`  messages ${to}/${total}`);
  }
  await pg.query('CREATE INDEX messages_chat_sent ON messages (chat_id, sent_at); CREATE INDEX messages_user ON messages (user_id)', db);
}
