/**
 * SQL through the backup-job Lambda (aws-sdk-client-mock on the Lambda client): the exact Invoke, the answer, a
 * function error, SQL that is not a named probe (never sent), throttling retried; and the fallback that prefers the
 * operator's own URL and turns to the Lambda only when this machine cannot connect.
 */
import assert from 'node:assert/strict';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { fallbackSqlProbe, LambdaSqlProbe } from '../../../automation/adapters/aws/lambda-sql-probe';
import { SQL_PROBES } from '../../../automation/adapters/aws/sql-probes';
import { OperationError, UnreachableError } from '../../../automation/core/errors';

const FN = { 'us-east-1': 'botdr-use1-backup-job', 'us-west-2': 'botdr-usw2-backup-job' };
/** A response Payload as the SDK hands it over (bytes that can also say themselves as text). */
const enc = (v: unknown) => {
  const text = JSON.stringify(v);
  return Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
};

describe('SQL probes through the backup-job Lambda (aws-sdk-client-mock)', () => {
  let lambda: AwsClientStub<LambdaClient>;
  const client = new LambdaClient({ region: 'us-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const clock = { now: () => new Date('2026-12-01T10:00:00Z'), sleep: async () => undefined };
  const probe = () => new LambdaSqlProbe({ functions: FN, lambda: () => client, clock, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 } });
  beforeEach(() => {
    lambda = mockClient(client);
  });
  afterEach(() => lambda.restore());

  it('invokes the region\'s function synchronously with the probe name and returns its rows', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: enc({ probe: 'current-wal-lsn', rows: [{ lsn: '0/5000000' }] }) });
    assert.deepEqual(await probe().query('us-west-2', SQL_PROBES['current-wal-lsn']), [{ lsn: '0/5000000' }]);
    const input = lambda.commandCalls(InvokeCommand)[0].args[0].input;
    assert.equal(input.FunctionName, 'botdr-usw2-backup-job');
    assert.equal(input.InvocationType, 'RequestResponse');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)), { probe: 'current-wal-lsn' });
  });

  it('SQL that is not a named probe is refused before any call; a function error names the function and probe', async () => {
    await assert.rejects(probe().query('us-west-2', 'select * from users'), (e: unknown) => e instanceof OperationError && /not one of the named SQL probes/.test(e.message));
    assert.equal(lambda.commandCalls(InvokeCommand).length, 0);
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: enc({ errorType: 'error', errorMessage: 'cannot execute CREATE TABLE in a read-only transaction' }) });
    await assert.rejects(probe().query('us-east-1', SQL_PROBES['write-probe']), (e: unknown) => e instanceof OperationError && /write-probe probe through botdr-use1-backup-job in us-east-1 failed: cannot execute CREATE TABLE in a read-only transaction/.test(e.message));
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: enc({ msg: 'backup job done' }) });
    await assert.rejects(probe().query('us-east-1', SQL_PROBES['replay-lsn']), /not a probe answer \(an older job image\?\)/);
  });

  it('throttling (429 TooManyRequestsException) is retried with the bounded backoff', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
    lambda.on(InvokeCommand).rejectsOnce(throttled).resolves({ StatusCode: 200, Payload: enc({ probe: 'replay-lsn', rows: [{ lsn: '0/1' }] }) });
    assert.deepEqual(await probe().query('us-west-2', SQL_PROBES['replay-lsn']), [{ lsn: '0/1' }]);
    assert.equal(lambda.commandCalls(InvokeCommand).length, 2);
  });

  it('fallback: the operator\'s URL first; the Lambda when this machine cannot connect (said once), or for a region without a URL', async () => {
    lambda.on(InvokeCommand).callsFake((i: { Payload: Uint8Array }) => ({ StatusCode: 200, Payload: enc({ probe: JSON.parse(new TextDecoder().decode(i.Payload)).probe, rows: [{ lsn: '0/via-lambda' }] }) }));
    const log: string[] = [];
    let directCalls = 0;
    const direct = {
      regions: ['us-east-1', 'us-west-2'],
      probe: {
        async query(region: string) {
          directCalls++;
          if (region === 'us-west-2') throw new UnreachableError('postgresql://***@db-b:5432/bot', 'connect ETIMEDOUT 10.41.3.7:5432');
          return [{ lsn: '0/direct' }];
        },
      },
    };
    const p = fallbackSqlProbe(direct, probe(), (l) => log.push(l));
    assert.deepEqual(await p.query('us-east-1', SQL_PROBES['current-wal-lsn']), [{ lsn: '0/direct' }]);
    assert.deepEqual(await p.query('us-west-2', SQL_PROBES['replay-lsn']), [{ lsn: '0/via-lambda' }]);
    assert.deepEqual(await p.query('us-west-2', SQL_PROBES['replay-lsn']), [{ lsn: '0/via-lambda' }]);
    assert.equal(directCalls, 2, 'after one failed connection the region goes straight to the Lambda');
    assert.equal(log.filter((l) => /us-west-2 through the backup-job Lambda \(no direct connection/.test(l)).length, 1);
    const noUrl = fallbackSqlProbe(undefined, probe(), (l) => log.push(l));
    assert.deepEqual(await noUrl.query('us-east-1', SQL_PROBES['current-wal-lsn']), [{ lsn: '0/via-lambda' }]);
    // A query the database refused is the database's answer, not a reason to ask elsewhere.
    const refused = fallbackSqlProbe({ regions: ['us-east-1'], probe: { query: async () => Promise.reject(Object.assign(new Error('permission denied'), { code: '42501' })) } }, probe());
    await assert.rejects(refused.query('us-east-1', SQL_PROBES['terminate-sessions']), /permission denied/);
  });
});
