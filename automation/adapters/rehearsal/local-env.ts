/**
 * Connection details of the local two-region environment, derived from its state file. Shared by the local
 * failover adapters, the traffic simulator, the health monitor and the drill.
 */
import { Client } from 'pg';
import type { LocalState, RegionName } from './state';
import { isRegion } from './state';
import { UsageError } from '../../core/errors';

export class LocalEnv {
  constructor(readonly state: LocalState) {}

  region(name: string): RegionName {
    if (!isRegion(name)) throw new UsageError(`unknown local region '${name}' (allowed: a, b)`);
    return name;
  }

  pgPort(region: string): number {
    return this.state.regions[this.region(region)].postgres.port;
  }

  redisPort(region: string): number {
    return this.state.regions[this.region(region)].redis.port;
  }

  /** Superuser URL (operations: role, fence, promote). */
  superUrl(region: string, db = 'postgres'): string {
    return `postgresql://postgres:${encodeURIComponent(this.state.secrets.pg_superuser_password)}@127.0.0.1:${this.pgPort(region)}/${encodeURIComponent(db)}`;
  }

  /** The application's URL (what the bot uses through the service name). */
  appUrl(region: string): string {
    const { user, database } = this.state.app;
    return `postgresql://${user}:${encodeURIComponent(this.state.secrets.app_password)}@127.0.0.1:${this.pgPort(region)}/${database}`;
  }

  /** The cache's URL (what the bot and the backup engine use). */
  redisUrl(region: string): string {
    return `redis://:${encodeURIComponent(this.state.secrets.redis_password)}@127.0.0.1:${this.redisPort(region)}`;
  }

  get redisPassword(): string {
    return this.state.secrets.redis_password;
  }

  /** Open a short-lived superuser connection (fails fast when the server is down). */
  async superClient(region: string, db = 'postgres', timeoutMs = 2000): Promise<Client> {
    const c = new Client({ connectionString: this.superUrl(region, db), connectionTimeoutMillis: timeoutMs, application_name: 'dr-local' });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  /** Run one superuser query and close. */
  async superQuery<R extends Record<string, unknown> = Record<string, unknown>>(region: string, sql: string, params: unknown[] = [], db = 'postgres'): Promise<R[]> {
    const c = await this.superClient(region, db);
    try {
      return (await c.query(sql, params)).rows as R[];
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}
