import assert from 'node:assert/strict';
import { isConcurrentUpdate, isThrottling, isUnreachable, StackBusyError, withRetry } from '../../../automation/adapters/aws/retry';
import { FakeClock, enotfound, throttle } from '../../helpers/aws-world';

describe('aws retry and error classes', () => {
  it('classifies throttling, concurrent updates and unreachable endpoints', () => {
    assert.equal(isThrottling(throttle()), true);
    assert.equal(isThrottling(throttle('PriorRequestNotComplete')), true);
    assert.equal(isThrottling(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 429 } })), true);
    assert.equal(isThrottling(new Error('AccessDenied')), false);
    assert.equal(isConcurrentUpdate(new StackBusyError('s', 'busy')), true);
    assert.equal(isConcurrentUpdate(new Error('error: [409] Conflict: Another update is currently in progress.')), true);
    assert.equal(isConcurrentUpdate(new Error('update failed')), false);
    assert.equal(isUnreachable(enotfound('rds.us-east-1.amazonaws.com')), true);
    assert.equal(isUnreachable(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })), true);
    assert.equal(isUnreachable(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) })), true);
    assert.equal(isUnreachable(throttle()), false);
  });

  it('retries only what is retryable, backs off exponentially up to the cap, and stops at the bound', async () => {
    const clock = new FakeClock();
    let n = 0;
    const lines: string[] = [];
    await assert.rejects(
      withRetry(async () => {
        n++;
        throw throttle();
      }, { attempts: 5, baseDelayMs: 100, maxDelayMs: 300, retryable: isThrottling, clock, what: 'X', log: (l) => lines.push(l) }),
      /Rate exceeded/,
    );
    assert.equal(n, 5);
    assert.deepEqual(clock.sleeps, [100, 200, 300, 300]);
    assert.match(lines[lines.length - 1], /X: giving up after 5 attempt\(s\)/);
    n = 0;
    await assert.rejects(withRetry(async () => { n++; throw new Error('AccessDenied'); }, { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, retryable: isThrottling, clock, what: 'Y' }), /AccessDenied/);
    assert.equal(n, 1);
    const ac = new AbortController();
    ac.abort(new Error('operator interrupt'));
    await assert.rejects(withRetry(async () => 1, { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, retryable: isThrottling, clock, signal: ac.signal, what: 'Z' }), /operator interrupt/);
  });
});
