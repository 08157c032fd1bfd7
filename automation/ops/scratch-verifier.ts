/**
 * The production {@link ScratchVerifier} of `dr drill --stack scratch`: the same checks `dr verify --full` runs
 * (connection + query, backup age per tier, re-hash of the latest backups, schema and row counts vs the latest
 * manifest), against the RESTORED scratch instance, with the source's backup bucket as the manifest store.
 *
 * Credentials: the scratch stack outputs the RDS-managed master secret's ARN; it is read with Secrets Manager
 * `GetSecretValue` in the scratch region (through a {@link SecretReader}), the password is registered for redaction before anything can print it,
 * and the connection URL asks for `sslmode=verify-full`: the restored instance's certificate is checked against the
 * RDS CA bundle (or PGSSLROOTCERT) and its host name (adapters/tools/pg-tls.ts). The database checked is the one the latest
 * PostgreSQL manifest names (the bot's database), unless given.
 *
 * A verifier that cannot read the credentials reports that as a FAILED check rather than returning nothing.
 */
import type { SecretReader } from '../adapters/aws/secret-values';
import { registerSecret, redact } from '../core/redact';
import { CheckResult, type HealthProbe, listBackups, type ObjectStore, type PgTools, readManifest, type RedisTools, verify } from '../backup/index';
import type { ScratchTarget, ScratchVerifier } from './scratch-drill';
import type { Clock } from '../core/clock';
import { OperationError, errorSummary } from '../core/errors';
import type { PgSslMode } from '../../lib/pg-tls';

export interface ScratchVerifierDeps {
  /** Secret values in the scratch region (adapters/aws/secret-values.ts). */
  secrets: SecretReader;
  /** The source's backup bucket (manifests, backup objects). */
  store: (region: string, bucket: string) => ObjectStore;
  pg: PgTools;
  redis: RedisTools;
  health: HealthProbe;
  clock: Clock;
  /** Database to verify; default: the latest PostgreSQL manifest's `database`. */
  database?: string;
  /** TLS mode in the connection URL (default `verify-full`). */
  sslmode?: PgSslMode;
  onCheck?: (c: CheckResult) => void;
}

/** `host:port` (or a bare host) → [host, port]. */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const m = endpoint.match(/^(.+?)(?::(\d+))?$/);
  if (!m || !m[1]) throw new OperationError(`not a database endpoint: ${endpoint}`);
  return { host: m[1], port: m[2] ? Number(m[2]) : 5432 };
}

/** The connection URL for the restored instance (credentials percent-encoded). */
export function scratchDatabaseUrl(o: { endpoint: string; username: string; password: string; database: string; sslmode: string }): string {
  const { host, port } = splitEndpoint(o.endpoint);
  return `postgresql://${encodeURIComponent(o.username)}:${encodeURIComponent(o.password)}@${host}:${port}/${encodeURIComponent(o.database)}?sslmode=${o.sslmode}`;
}

async function readSecretJson(secrets: SecretReader, region: string, arn: string): Promise<Record<string, unknown>> {
  const text = await secrets(region, arn);
  if (!text) throw new OperationError(`secret ${arn} has no SecretString`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    registerSecret(text);
    throw new OperationError(`secret ${arn} is not a JSON document`);
  }
  if (!doc || typeof doc !== 'object') throw new OperationError(`secret ${arn} is not a JSON object`);
  const d = doc as Record<string, unknown>;
  if (typeof d.password === 'string') {
    registerSecret(d.password);
    registerSecret(encodeURIComponent(d.password));
  }
  return d;
}

/** The database the latest PostgreSQL manifest was taken from. */
async function manifestDatabase(store: ObjectStore): Promise<string | undefined> {
  const latest = (await listBackups(store)).filter((e) => e.complete && e.service === 'postgresql').at(-1);
  if (!latest) return undefined;
  return (await readManifest(store, latest.dataKey)).database;
}

export function productionScratchVerifier(deps: ScratchVerifierDeps): ScratchVerifier {
  return async (target: ScratchTarget, opts) => {
    const failed = (name: string, detail: string): CheckResult[] => {
      const c = { name, ok: false, detail: redact(detail), durationMs: 0 };
      deps.onCheck?.(c);
      return [c];
    };
    if (!target.dbSecretArn) return failed('database credentials', `the scratch stack outputs no dbSecretArn for ${target.dbIdentifier}: cannot connect to the restored instance`);
    const store = deps.store(target.region, target.sourceBucket);
    let url: string;
    try {
      const secret = await readSecretJson(deps.secrets, target.region, target.dbSecretArn);
      const username = typeof secret.username === 'string' ? secret.username : undefined;
      const password = typeof secret.password === 'string' ? secret.password : undefined;
      if (!username || !password) throw new OperationError(`secret ${target.dbSecretArn} lacks username/password`);
      const database = deps.database ?? (typeof secret.dbname === 'string' ? secret.dbname : undefined) ?? (await manifestDatabase(store)) ?? 'postgres';
      url = scratchDatabaseUrl({ endpoint: target.dbEndpoint, username, password, database, sslmode: deps.sslmode ?? 'verify-full' });
      registerSecret(url);
      opts.log(`verify --full against ${target.dbEndpoint}/${database} (sslmode=${deps.sslmode ?? 'verify-full'}) with the manifests in s3://${target.sourceBucket}`);
    } catch (err) {
      return failed('database credentials', `reading ${target.dbSecretArn} in ${target.region}: ${errorSummary(err)}`);
    }
    let redisUrl: string | undefined;
    if (target.cacheEndpoint && target.cacheAuthSecretArn) {
      try {
        const token = (await deps.secrets(target.region, target.cacheAuthSecretArn)) ?? '';
        registerSecret(token);
        const { host, port } = splitEndpoint(target.cacheEndpoint.includes(':') ? target.cacheEndpoint : `${target.cacheEndpoint}:6379`);
        redisUrl = `rediss://:${encodeURIComponent(token)}@${host}:${port}`;
        registerSecret(redisUrl);
      } catch (err) {
        opts.log(`cache auth token ${target.cacheAuthSecretArn} not readable (${redact(errorSummary(err))}); the cache is not checked`);
      }
    }
    return verify({
      mode: 'full',
      databaseUrl: url,
      ...(redisUrl ? { redisUrl } : {}),
      store,
      pg: deps.pg,
      redis: deps.redis,
      health: deps.health,
      clock: deps.clock,
      onCheck: deps.onCheck,
      signal: opts.signal,
    });
  };
}
