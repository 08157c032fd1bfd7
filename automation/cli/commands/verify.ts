import { httpHealthProbe } from '../../adapters/tools/http-health';
import { verify } from '../../backup/index';
import { Command, JSON_FLAG } from '../command';
import { FlagError, UsageError } from '../../core/errors';
import { registerUrlSecret } from '../../core/redact';
import { DATABASE_URL_FLAG, LOCAL_SOURCE_FLAGS, localSources, makeStore, pgTools, REDIS_URL_FLAG, redisTools } from './backup-shared';
import { systemClock } from '../../core/clock';

export const command: Command = {
  name: 'verify',
  summary: 'recovery checks (quick: DB query, Redis PING, health URL; full: + rows vs manifest, replica lag, backup age, re-hash latest backup)',
  flags: {
    quick: { type: 'boolean', description: 'connection checks only' },
    full: { type: 'boolean', description: 'quick checks plus backup and replication checks' },
    'database-url': DATABASE_URL_FLAG,
    'redis-url': REDIS_URL_FLAG,
    bucket: { type: 'string', description: 'backup bucket (for --full backup checks)', env: 'DR_BACKUP_BUCKET' },
    'health-url': { type: 'string', description: 'HTTP health endpoint of the bot', env: 'DR_HEALTH_URL' },
    'replica-url': { type: 'string', description: 'PostgreSQL standby URL (for --full replica lag)', env: 'DR_REPLICA_URL' },
    'max-replica-lag': { type: 'number', description: 'replica lag limit in seconds', default: 60 },
    ...LOCAL_SOURCE_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    const quick = ctx.flags.bool('quick');
    const full = ctx.flags.bool('full');
    if (quick === full) throw new UsageError('pass exactly one of --quick or --full');
    const local = localSources(ctx);
    const databaseUrl = local?.urls['database-url'] ?? ctx.flags.string('database-url');
    const redisUrl = local?.urls['redis-url'] ?? ctx.flags.string('redis-url');
    const healthUrl = ctx.flags.string('health-url');
    const replicaUrl = local ? (full ? local.urls['replica-url'] : undefined) : ctx.flags.string('replica-url');
    const bucket = local?.bucket ?? ctx.flags.string('bucket');
    [databaseUrl, redisUrl, healthUrl, replicaUrl].forEach(registerUrlSecret);
    if (!databaseUrl && !redisUrl && !healthUrl && !(full && bucket)) {
      throw new UsageError('nothing to verify: give --database-url, --redis-url, --health-url (or DATABASE_URL, REDIS_URL, DR_HEALTH_URL) and, for --full, --bucket');
    }
    if (replicaUrl && !databaseUrl) throw new FlagError('--replica-url needs --database-url (the primary) to measure lag against');
    const results = await verify({
      mode: full ? 'full' : 'quick',
      databaseUrl,
      redisUrl,
      healthUrl,
      replicaUrl,
      maxReplicaLagSeconds: ctx.flags.number('max-replica-lag'),
      store: full && bucket ? makeStore(ctx, bucket) : undefined,
      pg: pgTools(ctx),
      redis: redisTools(ctx),
      health: httpHealthProbe,
      clock: systemClock,
      onCheck: (c) => ctx.out.info(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`),
      signal: ctx.signal,
    });
    const passed = results.filter((r) => r.ok).length;
    const ok = passed === results.length;
    ctx.out.result(
      { ok, mode: full ? 'full' : 'quick', passed, failed: results.length - passed, checks: results },
      `${ok ? 'PASS' : 'FAIL'}: ${passed}/${results.length} checks passed`,
    );
    return ok ? 0 : 1;
  },
};
