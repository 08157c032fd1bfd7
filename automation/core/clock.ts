/**
 * Time, injected everywhere it matters, so tests never sleep and never assert on wall time. One interface for
 * every engine, adapter and operation.
 */
export interface Clock {
  now(): Date;
  /** Resolves after `ms`; rejects with the signal's reason as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Sleep `ms`, rejecting with the signal's reason (or `Error('aborted')`) when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date(), sleep };

/** A clock reading `now` from `at` whose sleeps do not wait (for callers that only need the time). */
export function fixedClock(at: () => Date): Clock {
  return { now: at, sleep: (_ms, signal) => (signal?.aborted ? Promise.reject(signal.reason ?? new Error('aborted')) : Promise.resolve()) };
}
