/**
 * Bounded retry with exponential backoff for the AWS adapters and the stack driver: throttling (`Throttling`,
 * `TooManyRequestsException`, Route 53 `PriorRequestNotComplete`, HTTP 429) and a concurrent Pulumi update
 * ({@link isConcurrentUpdate}). Never retries forever, never retries a real failure, and waits through the injected
 * {@link Clock} so tests never sleep.
 *
 * Also classifies "the region does not answer" errors ({@link isUnreachable}): DNS failure, connection refused or
 * reset, socket/request timeouts. Those are NOT retried here: the adapters turn them into `unreachable` roles or
 * clear errors, because during a regional outage retrying only delays the failover.
 */
import { systemClock, type Clock } from '../../core/clock';
import { errorSummary } from '../../core/errors';


export interface RetryOptions {
  /** Total attempts including the first (≥ 1). */
  attempts: number;
  /** First backoff in ms; doubles each retry, capped by {@link maxDelayMs}. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Which errors are worth another attempt. */
  retryable: (err: unknown) => boolean;
  clock?: Clock;
  signal?: AbortSignal;
  /** One line per retry for the step log. */
  log?: (line: string) => void;
  /** What is being tried, for the log and the final error (e.g. `RDS DescribeDBInstances in us-west-2`). */
  what: string;
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
]);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  cause?: unknown;
}

/** AWS throttling (any service), by error name, `$retryable.throttling` or HTTP 429. */
export function isThrottling(err: unknown): boolean {
  const e = err as AwsLikeError | undefined;
  if (!e || typeof e !== 'object') return false;
  return THROTTLING.has(e.name ?? '') || THROTTLING.has(e.code ?? '') || e.$retryable?.throttling === true || e.$metadata?.httpStatusCode === 429;
}

/** Our own marker for "another update of this stack is running" (raised by the Automation API workspace module). */
export class StackBusyError extends Error {
  constructor(readonly stack: string, message: string) {
    super(message);
    this.name = 'StackBusyError';
  }
}

/** A concurrent Pulumi update: {@link StackBusyError}, the Automation API's `ConcurrentUpdateError`, or its text. */
export function isConcurrentUpdate(err: unknown): boolean {
  const e = err as AwsLikeError | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e instanceof StackBusyError || e.name === 'ConcurrentUpdateError') return true;
  return /\[409\] Conflict: Another update is currently in progress|conflict: another update is currently in progress/i.test(e.message ?? '');
}

const UNREACHABLE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
const UNREACHABLE_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError', 'ConnectTimeoutError', 'AbortError']);

/** The endpoint did not answer: DNS failure, refused/reset connection, timeout (also when wrapped in `cause`). */
export function isUnreachable(err: unknown, depth = 0): boolean {
  const e = err as AwsLikeError | undefined;
  if (!e || typeof e !== 'object' || depth > 3) return false;
  if (UNREACHABLE_CODES.has(e.code ?? '') || UNREACHABLE_NAMES.has(e.name ?? '')) return true;
  if (/\b(ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|getaddrinfo)\b/.test(e.message ?? '')) return true;
  return isUnreachable(e.cause, depth + 1);
}


/**
 * Run `fn` until it succeeds, a non-retryable error is thrown, or `attempts` are used up (the last error is
 * rethrown, annotated with the attempt count in the log). Aborting the signal stops waiting immediately.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const attempts = Math.max(1, Math.floor(opts.attempts));
  let delay = opts.baseDelayMs;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !opts.retryable(err)) {
        if (attempt > 1) opts.log?.(`${opts.what}: giving up after ${attempt} attempt(s): ${errorSummary(err)}`);
        throw err;
      }
      const wait = Math.min(delay, opts.maxDelayMs);
      opts.log?.(`${opts.what}: ${errorSummary(err)}; retry ${attempt}/${attempts - 1} in ${Math.round(wait / 100) / 10}s`);
      await clock.sleep(wait, opts.signal);
      delay = Math.min(delay * 2, opts.maxDelayMs);
    }
  }
}

/** Defaults for AWS API calls: 5 attempts, 0.5 s doubling to 8 s. */
export interface Backoff {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const AWS_RETRY: Backoff = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8_000 };

/** Defaults for a concurrent stack update: 6 attempts, 15 s doubling to 2 min (≈ 6 min in all). */
export const STACK_RETRY: Backoff = { attempts: 6, baseDelayMs: 15_000, maxDelayMs: 120_000 };
