/**
 * The small interfaces ("ports") the token engine talks to, and the stored record it decides over. The engine never
 * imports an SDK, never opens a socket and never touches a file: probing a token, reading and writing a bot's record
 * and telling people go through one of these.
 *
 * Implementations:
 * - {@link TokenProber}: `adapters/bots/telegram.ts` (grammY `getMe`), `adapters/bots/discord.ts` (`@discordjs/rest`
 *   `GET /users/@me` + `GET /gateway/bot`), combined per platform by `adapters/bots/index.ts`.
 * - {@link TokenStore}: `adapters/aws/token-store.ts` (Secrets Manager, versions + staging labels) and
 *   `adapters/tools/token-file-store.ts` (a local JSON file under an exclusive lock, for the CLI and the rehearsal).
 * - {@link TokenNotifier}: supplied by the caller (SNS on AWS, a log/file locally).
 *
 * Token VALUES travel only between a store, the prober and the bot runtime. They are never part of a probe result,
 * a decision, a history entry, a notice or an error message.
 */

/** The chat platforms whose bot tokens the engine watches. */
export type Platform = 'telegram' | 'discord';

/** Every platform, in a fixed order (for validation and messages). */
export const PLATFORMS: readonly Platform[] = ['telegram', 'discord'];

/**
 * What one probe of one token found.
 * - `healthy`: the platform accepted the token (Telegram `getMe` ok, Discord `GET /users/@me` 200).
 * - `revoked`: 401 or 403: the token is wrong or revoked; it fails at once.
 * - `rate-limited`: 429: not a token fault; `retry_after_s` says when to ask again.
 * - `unreachable`: timeout, connection error or 5xx: the platform did not answer properly.
 * - `failing`: any other answer (another 4xx, an answer that is not the platform's format, `is_bot: false`).
 */
export type ProbeState = 'healthy' | 'revoked' | 'rate-limited' | 'unreachable' | 'failing';

/** Discord `GET /gateway/bot` → `session_start_limit` (how many IDENTIFYs are left before Discord resets the token). */
export interface SessionStartLimit {
  total: number;
  remaining: number;
  /** Milliseconds until `remaining` is reset to `total`. */
  reset_after_ms: number;
  max_concurrency?: number;
  /** True when `remaining` < 10 % of `total`: reconnect loops are about to get the token reset by Discord. */
  warning: boolean;
}

/** The result of probing one token once. Never carries the token. */
export interface TokenProbe {
  /** The token's index in the record's `tokens`. */
  index: number;
  state: ProbeState;
  /** Round trip measured with the injected clock (0 when the token was not probed this run). */
  latency_ms: number;
  /** With `rate-limited`: seconds the platform asked us to wait before the next call with this token. */
  retry_after_s?: number;
  /** One redacted line for people (e.g. `401: Unauthorized`, `timeout after 10000 ms`); never the token. */
  detail?: string;
  /** Discord only, when `GET /gateway/bot` answered. */
  session_start?: SessionStartLimit;
  /**
   * True when the token was NOT asked this run because the platform's `retry_after` had not passed yet (the
   * record's `next_probe_at`); `state` is then `rate-limited` and nothing is learnt about the token.
   */
  skipped?: boolean;
}

/** One probe to run. */
export interface ProbeRequest {
  platform: Platform;
  /** The token value (the prober registers it with `registerSecret` before any call). */
  token: string;
  index: number;
  signal?: AbortSignal;
}

/** Probes one token of one platform. */
export interface TokenProber {
  /**
   * Ask the platform once whether `token` works. Resolves with a {@link TokenProbe} for every platform answer and
   * every network failure (a probe that cannot reach the platform is `unreachable`, not an exception). Only a bug or
   * an unsupported platform rejects. Bounded by the prober's own timeout; no internal retries or rate-limit waits.
   */
  probe(req: ProbeRequest): Promise<TokenProbe>;
}

/** A manual override: the engine never switches away from a pinned token (it still alerts). */
export interface TokenPin {
  index: number;
  reason: string;
  /** `operator:<user>`. */
  by: string;
  /** ISO 8601. */
  at: string;
}

/**
 * Per-token state the rules need across runs (the monitor is a stateless Lambda run every minute). Counters
 * saturate at the thresholds they are compared with (failures at N, passes at M), so a steady world leaves the
 * record unchanged and nothing is written.
 */
export interface TokenHealth {
  index: number;
  /** Failed probes in a row (revoked counts as N at once; rate-limited and platform-wide outages do not count). */
  consecutive_failures: number;
  /** Healthy probes in a row. */
  consecutive_passes: number;
  /** State of the last real (not skipped) probe. */
  last_state?: ProbeState;
  /** ISO 8601: when `last_state` began (unchanged while the state stays the same). */
  since?: string;
  /** ISO 8601: when the monitor last switched away from this token; cleared when it becomes active again. */
  switched_away_at?: string;
  /** ISO 8601: with a 429, the earliest time this token may be probed again (the platform's `retry_after`). */
  next_probe_at?: string;
}

/** What a history entry records. `keep` decisions are not recorded (see `decide`). */
export type HistoryAction = 'switch' | 'alert' | 'pin' | 'unpin';

/** One decision kept in the record's bounded history. Never a token value. */
export interface HistoryEntry {
  /** The decision id (see `decisionId`). */
  id: string;
  /** ISO 8601. */
  at: string;
  /** `monitor@<region>` or `operator:<user>`. */
  by: string;
  what: HistoryAction;
  /** Active index before. */
  from: number;
  /** Active index after (equals `from` for an alert). */
  to: number;
  /** Machine reason code (`revoked`, `failing`, `platform-degraded`, …, or `manual` for pins). */
  reason: string;
  /** One redacted sentence for people. */
  why: string;
}

/**
 * A bot's stored record. The first two fields are the existing secret format (`{ "active": N, "tokens": [...] }`,
 * written by the BotTokens component); the rest is added by the engine and optional on read, so a hand-written or
 * component-written record is accepted.
 */
export interface TokenRecord {
  /** Index into {@link tokens} of the token in use. */
  active: number;
  /** The bot's tokens in rotation order (≥ 1). */
  tokens: string[];
  platform: Platform;
  pin?: TokenPin;
  health?: TokenHealth[];
  /** The last decisions, oldest first, bounded (default 100). */
  history?: HistoryEntry[];
  /**
   * The region whose bot workers consume updates (poll, hold Discord shards, answer webhooks). Written by the
   * failover into the survivor's copy of the secret before DNS switches; bots read it through `shouldConsume()`
   * (bot-runtime). Absent: the record predates it, and every region may consume (the old behaviour).
   */
  active_region?: string;
  /**
   * Telegram only: the webhook's `secret_token` (generated once, 1-256 of A-Za-z0-9_-; Telegram sends it in
   * `X-Telegram-Bot-Api-Secret-Token` with every update). A secret like the tokens: never printed.
   */
  webhook_secret?: string;
}

/** A record as read, with the store's version of it (Secrets Manager VersionId, the file store's version tag). */
export interface StoredTokenRecord {
  record: TokenRecord;
  version: string;
}

/** How a compare-and-set write ended. A lost race is an outcome, not an exception. */
export type WriteOutcome =
  | { outcome: 'written'; version: string; detail?: string }
  | { outcome: 'conflict'; detail: string };

/** Options of {@link TokenStore.write}. */
export interface WriteOptions {
  /** The version read; the write happens only if it is still the current one. */
  expectVersion: string;
  /**
   * Idempotency key: the decision id. Writing the same request id with the same record again succeeds without a
   * second version; the same request id with a different record is a conflict (another writer made that decision).
   */
  requestId: string;
  signal?: AbortSignal;
}

/** Where bots' token records live. */
export interface TokenStore {
  /** Human name for messages (`secretsmanager:eu-west-1`, a file path). Never a secret. */
  readonly location: string;
  /**
   * Read a bot's current record and its version. Registers every token value with `registerSecret`. Rejects with
   * `NotFoundError` when the bot has no record, `UnreachableError` when the store does not answer.
   */
  read(bot: string, opts?: { signal?: AbortSignal }): Promise<StoredTokenRecord>;
  /** The current version only (cheap; no token value is read). Same errors as {@link read}. */
  currentVersion(bot: string, opts?: { signal?: AbortSignal }): Promise<string>;
  /**
   * Compare-and-set: store `record` as the bot's new current record only if `expectVersion` is still current.
   * Resolves `{ outcome: 'conflict' }` when another writer got there first (nothing of ours stays current).
   */
  write(bot: string, record: TokenRecord, opts: WriteOptions): Promise<WriteOutcome>;
}

/** What a notice is about. */
export type TokenNoticeKind = 'switch' | 'alert' | 'platform-degraded' | 'pin' | 'unpin';

/** A decision for people. Already redacted; never a token value. */
export interface TokenNotice {
  kind: TokenNoticeKind;
  bot: string;
  platform: Platform;
  /** The decision id (same for every monitor that saw the same world). */
  id: string;
  from: number;
  to: number;
  reason: string;
  by: string;
  at: string;
  /** One line for people. */
  message: string;
}

/** Tells people about switches, alerts, platform outages and pin changes. */
export interface TokenNotifier {
  /** Deliver `notice`. May reject; the caller reports the failure and never lets it stop a decision. */
  notify(notice: TokenNotice, opts?: { signal?: AbortSignal }): Promise<void>;
}
