/**
 * TokenStore on Secrets Manager: one secret per bot (`<prefix>/bot-tokens/<bot>`, the BotTokens component's), its
 * AWSCURRENT version being the bot's record and its VersionId the record's version.
 *
 * - read: `GetSecretValue` (VersionStage AWSCURRENT) → the record and its `VersionId`.
 * - currentVersion: `DescribeSecret` → the version holding AWSCURRENT in `VersionIdsToStages` (no value decrypted).
 * - write (compare-and-set, as a NEW version):
 *   1. `DescribeSecret`: go on only if AWSCURRENT is still the version read (or is already this request's version:
 *      a retry of a write that landed); otherwise a conflict, and nothing is written.
 *   2. `PutSecretValue` with `ClientRequestToken` = the decision id and no `VersionStages` (AWSCURRENT moves to the
 *      new version, AWSPREVIOUS to the one it left). The same token with the same value is idempotent (a retried
 *      write, two monitors that decided exactly the same thing: one version); the same token with another value is
 *      `ResourceExistsException` — another monitor already wrote that decision: a conflict, not an error.
 *   3. `DescribeSecret` again: ours is AWSCURRENT and AWSPREVIOUS is the version read → written. Ours is AWSCURRENT
 *      but AWSPREVIOUS is someone else's → that writer got in between step 1 and step 2 and our write buried their
 *      decision: `UpdateSecretVersionStage` moves AWSCURRENT back to theirs, and we report a conflict. Ours is no
 *      longer AWSCURRENT → a later writer built on it (or, if it had read before us, will roll itself back): written.
 * Throttling is retried with backoff (`withRetry`; every call here is safe to repeat). KMS is used through Secrets
 * Manager only (the secret's key). The client must be the secret's PRIMARY region's: a replica is read-only.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { systemClock, type Clock } from '../../core/clock';
import { errorSummary, NotFoundError, OperationError, UnreachableError } from '../../core/errors';
import { redact, registerSecret } from '../../core/redact';
import { parseTokenRecordText, serializeTokenRecord, type Platform, type StoredTokenRecord, type TokenRecord, type TokenStore, type WriteOptions, type WriteOutcome } from '../../tokens';
import { AWS_RETRY, isThrottling, isUnreachable, withRetry, type Backoff } from './retry';

/** Secrets Manager's limit on a secret value. */
export const SECRET_VALUE_LIMIT = 65_536;

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';

/** Options of {@link SecretsTokenStore}. */
export interface SecretsTokenStoreOptions {
  /** A client in the region that holds the writable (primary) secrets. */
  client: SecretsManagerClient;
  /** That region (for messages). */
  region: string;
  /** The secret of a bot (name or ARN), e.g. `(bot) => botTokenSecretName(prefix, bot)`. */
  secretId: (bot: string) => string;
  clock?: Clock;
  retry?: Partial<Backoff>;
  /** Retry and rollback lines (redacted here). */
  log?: (line: string) => void;
  /**
   * The platform of a bot whose stored value has none (a secret seeded before the value carried `platform`); the
   * record is read with it and the next write stores it. Without it such a value is refused as before.
   */
  platformOf?: (bot: string) => Platform | undefined;
}

type Stages = Record<string, string[]>;

function holder(stages: Stages, stage: string): string | undefined {
  return Object.entries(stages).find(([, s]) => s.includes(stage))?.[0];
}

/** Register every token in a secret string before anything else can go wrong with it. */
function registerTokens(text: string): void {
  try {
    const v = JSON.parse(text) as { tokens?: unknown };
    if (Array.isArray(v.tokens)) v.tokens.forEach((t) => typeof t === 'string' && registerSecret(t));
  } catch {
    // Not JSON: parseTokenRecordText reports it without echoing the text.
  }
}

/** `text` with `platform` added when the stored object has none (any other text is returned as it is). */
function withPlatform(text: string, platform: Platform | undefined): string {
  if (!platform) return text;
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v) && (v as Record<string, unknown>).platform === undefined) return JSON.stringify({ ...v, platform });
  } catch {
    // Not JSON: parseTokenRecordText reports it without echoing the text.
  }
  return text;
}

/** Bots' token records in Secrets Manager; see the module comment. */
export class SecretsTokenStore implements TokenStore {
  readonly location: string;
  private readonly clock: Clock;
  private readonly retry: Backoff;

  constructor(private readonly o: SecretsTokenStoreOptions) {
    this.location = `secretsmanager:${o.region}`;
    this.clock = o.clock ?? systemClock;
    this.retry = { ...AWS_RETRY, ...o.retry };
  }

  private async call<T>(what: string, id: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const log = this.o.log && ((l: string) => this.o.log?.(redact(l)));
    try {
      return await withRetry(fn, { ...this.retry, retryable: isThrottling, clock: this.clock, signal, log, what: `Secrets Manager ${what} ${id}` });
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'ResourceNotFoundException') throw new NotFoundError(`secret ${id} in ${this.o.region}`, { cause: err });
      if (isUnreachable(err)) throw new UnreachableError(`Secrets Manager in ${this.o.region}`, redact(errorSummary(err)), { cause: err });
      if (name === 'ResourceExistsException') throw err;
      throw new OperationError(redact(`Secrets Manager ${what} ${id} in ${this.o.region}: ${errorSummary(err)}`), undefined, { cause: err });
    }
  }

  private async stages(id: string, signal?: AbortSignal): Promise<Stages> {
    const r = await this.call('DescribeSecret', id, () => this.o.client.send(new DescribeSecretCommand({ SecretId: id })), signal);
    return (r.VersionIdsToStages ?? {}) as Stages;
  }

  async read(bot: string, opts: { signal?: AbortSignal } = {}): Promise<StoredTokenRecord> {
    const id = this.o.secretId(bot);
    const r = await this.call('GetSecretValue', id, () => this.o.client.send(new GetSecretValueCommand({ SecretId: id, VersionStage: CURRENT })), opts.signal);
    if (r.SecretString === undefined || !r.VersionId) throw new OperationError(`secret ${id}: no SecretString in its AWSCURRENT version (bot records are JSON text)`);
    registerTokens(r.SecretString);
    const text = withPlatform(r.SecretString, this.o.platformOf?.(bot));
    return { record: parseTokenRecordText(text, `bot ${bot} (secret ${id})`), version: r.VersionId };
  }

  async currentVersion(bot: string, opts: { signal?: AbortSignal } = {}): Promise<string> {
    const id = this.o.secretId(bot);
    const v = holder(await this.stages(id, opts.signal), CURRENT);
    if (!v) throw new OperationError(`secret ${id}: no version is AWSCURRENT`);
    return v;
  }

  async write(bot: string, record: TokenRecord, opts: WriteOptions): Promise<WriteOutcome> {
    const id = this.o.secretId(bot);
    const text = serializeTokenRecord(record);
    if (Buffer.byteLength(text) > SECRET_VALUE_LIMIT) throw new OperationError(`bot ${bot}: the record is ${Buffer.byteLength(text)} bytes, over Secrets Manager's ${SECRET_VALUE_LIMIT} (lower the history limit)`);
    const before = holder(await this.stages(id, opts.signal), CURRENT);
    if (before !== opts.expectVersion && before !== opts.requestId) {
      return { outcome: 'conflict', detail: `secret ${id}: AWSCURRENT is ${before ?? 'no version'}, not the version read (${opts.expectVersion}): another writer got there first` };
    }
    try {
      await this.call('PutSecretValue', id, () => this.o.client.send(new PutSecretValueCommand({ SecretId: id, SecretString: text, ClientRequestToken: opts.requestId })), opts.signal);
    } catch (err) {
      if ((err as { name?: string }).name === 'ResourceExistsException') {
        return { outcome: 'conflict', detail: `secret ${id}: version ${opts.requestId} already exists with other content: another monitor wrote this decision` };
      }
      throw err;
    }
    return this.verify(id, opts);
  }

  /** Step 3 of the write: check the stage history, roll back our version if it buried another writer's. */
  private async verify(id: string, opts: WriteOptions): Promise<WriteOutcome> {
    const after = await this.stages(id, opts.signal);
    const current = holder(after, CURRENT);
    const previous = holder(after, PREVIOUS);
    if (current !== opts.requestId) {
      return { outcome: 'written', version: opts.requestId, detail: `superseded since by ${current ?? 'no version'}` };
    }
    if (previous === opts.expectVersion) return { outcome: 'written', version: opts.requestId };
    if (previous === undefined) return { outcome: 'conflict', detail: `secret ${id}: our version ${opts.requestId} is AWSCURRENT but no version is AWSPREVIOUS; left as it is, check the secret's versions` };
    await this.call(
      'UpdateSecretVersionStage',
      id,
      () => this.o.client.send(new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: CURRENT, MoveToVersionId: previous, RemoveFromVersionId: opts.requestId })),
      opts.signal,
    );
    this.o.log?.(redact(`secret ${id}: version ${previous} was written between our check and our write; AWSCURRENT moved back to it from ${opts.requestId}`));
    return { outcome: 'conflict', detail: `secret ${id}: another writer (${previous}) got in between our check and our write; AWSCURRENT moved back to theirs` };
  }
}
