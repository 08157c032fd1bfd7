/**
 * SecretsTokenStore through aws-sdk-client-mock: the exact commands and parameters of a read, a compare-and-set
 * write as a new version, a lost race (before the write, and in between the check and the write), idempotent
 * retries, and errors that carry no token.
 */
import assert from 'node:assert/strict';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { SecretsTokenStore } from '../../../automation/adapters/aws/token-store';
import { NotFoundError, OperationError, UnreachableError } from '../../../automation/core/errors';
import { redact } from '../../../automation/core/redact';
import { serializeTokenRecord, type TokenRecord } from '../../../automation/tokens';
import { FakeClock } from '../../helpers/aws-world';
import { TokenSecrets } from '../../helpers/token-secrets';
import { telegramToken } from '../../helpers/token-fakes';

const ID = 'botdr/bot-tokens/community';
const TOK = [telegramToken('sm-a'), telegramToken('sm-b')];
const V0 = 'initial-version-0000000000000000000';
const DECISION = 'd'.repeat(40);

describe('adapters/aws: SecretsTokenStore (aws-sdk-client-mock)', () => {
  let sm: TokenSecrets;
  let log: string[];
  const store = () => new SecretsTokenStore({ client: sm.client, region: 'us-east-1', secretId: (bot) => `botdr/bot-tokens/${bot}`, clock: new FakeClock(), retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 }, log: (l) => log.push(l) });
  const switched = (r: TokenRecord): TokenRecord => ({ ...r, active: 1 });
  const inputs = <T>(cmd: new (...a: never[]) => T) => sm.mock.commandCalls(cmd as never).map((c) => c.args[0].input as unknown);

  beforeEach(() => {
    sm = new TokenSecrets().create(ID, { active: 0, tokens: TOK, platform: 'telegram' });
    log = [];
  });
  afterEach(() => sm.restore());

  it('read: GetSecretValue AWSCURRENT → record and VersionId; tokens registered for redaction', async () => {
    const r = await store().read('community');
    assert.deepEqual(inputs(GetSecretValueCommand), [{ SecretId: ID, VersionStage: 'AWSCURRENT' }]);
    assert.deepEqual(r, { record: { active: 0, tokens: TOK, platform: 'telegram' }, version: V0 });
    assert.equal(redact(`token is ${TOK[1]}`), 'token is ***');
    assert.equal(await store().currentVersion('community'), V0);
    assert.deepEqual(inputs(DescribeSecretCommand), [{ SecretId: ID }]);
  });

  it('write: DescribeSecret, PutSecretValue(ClientRequestToken = decision id, no stages), DescribeSecret → a new AWSCURRENT', async () => {
    const s = store();
    const r = await s.read('community');
    const w = await s.write('community', switched(r.record), { expectVersion: r.version, requestId: DECISION });
    assert.deepEqual(w, { outcome: 'written', version: DECISION });
    assert.deepEqual(
      sm.mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name),
      ['GetSecretValueCommand', 'DescribeSecretCommand', 'PutSecretValueCommand', 'DescribeSecretCommand'],
    );
    assert.deepEqual(inputs(PutSecretValueCommand), [{ SecretId: ID, SecretString: serializeTokenRecord(switched(r.record)), ClientRequestToken: DECISION }]);
    assert.equal(sm.holder(ID, 'AWSCURRENT'), DECISION);
    assert.equal(sm.holder(ID, 'AWSPREVIOUS'), V0);
    assert.equal(sm.current(ID).active, 1);
  });

  it('the version read is no longer AWSCURRENT: conflict, and nothing is written', async () => {
    const s = store();
    const r = await s.read('community');
    sm.put(ID, JSON.stringify({ active: 1, tokens: TOK, platform: 'telegram' }), 'other-monitor-decision-000000000000');
    const w = await s.write('community', switched(r.record), { expectVersion: r.version, requestId: DECISION });
    assert.equal(w.outcome, 'conflict');
    assert.match(w.outcome === 'conflict' ? w.detail : '', /AWSCURRENT is other-monitor-decision-0+, not the version read/);
    assert.equal(sm.mock.commandCalls(PutSecretValueCommand).length, 0);
    assert.equal(sm.holder(ID, 'AWSCURRENT'), 'other-monitor-decision-000000000000');
  });

  it('another writer between our check and our write: AWSCURRENT is moved back to theirs and we report a conflict', async () => {
    const s = store();
    const r = await s.read('community');
    const theirs = 'other-monitor-decision-111111111111';
    sm.beforePut = () => {
      sm.beforePut = undefined;
      sm.put(ID, JSON.stringify({ active: 1, tokens: TOK, platform: 'telegram', history: [] }), theirs);
    };
    const w = await s.write('community', switched(r.record), { expectVersion: r.version, requestId: DECISION });
    assert.equal(w.outcome, 'conflict');
    assert.deepEqual(inputs(UpdateSecretVersionStageCommand), [{ SecretId: ID, VersionStage: 'AWSCURRENT', MoveToVersionId: theirs, RemoveFromVersionId: DECISION }]);
    assert.equal(sm.holder(ID, 'AWSCURRENT'), theirs);
    assert.equal(sm.holder(ID, 'AWSPREVIOUS'), DECISION);
    assert.ok(log.some((l) => l.includes('moved back')));
  });

  it('a later writer after ours (built on it): ours was written, reported as superseded, no rollback', async () => {
    const s = store();
    const r = await s.read('community');
    sm.afterPut = () => {
      sm.afterPut = undefined;
      sm.put(ID, JSON.stringify({ active: 0, tokens: TOK, platform: 'telegram' }), 'later-writer-22222222222222222222');
    };
    const w = await s.write('community', switched(r.record), { expectVersion: r.version, requestId: DECISION });
    assert.equal(w.outcome, 'written');
    assert.equal(sm.mock.commandCalls(UpdateSecretVersionStageCommand).length, 0);
  });

  it('idempotent retries: a throttled PutSecretValue is retried with the same ClientRequestToken; a repeated write makes no second version', async () => {
    const s = store();
    const r = await s.read('community');
    sm.throttleNext.PutSecretValue = 1;
    const first = await s.write('community', switched(r.record), { expectVersion: r.version, requestId: DECISION });
    assert.equal(first.outcome, 'written');
    assert.deepEqual(inputs(PutSecretValueCommand).map((i) => (i as { ClientRequestToken: string }).ClientRequestToken), [DECISION, DECISION]);
    const again = await s.write('community', switched(r.record), { expectVersion: r.version, requestId: DECISION });
    assert.deepEqual(again, { outcome: 'written', version: DECISION });
    assert.equal(sm.versionCount(ID), 2, 'the initial version and ours, once');
    assert.ok(log.some((l) => /ThrottlingException.*retry 1\/2/.test(l)));
  });

  it('the same decision id already written with other content (another monitor): conflict, not an error', async () => {
    const s = store();
    const r = await s.read('community');
    const theirs = { ...switched(r.record), history: [{ id: DECISION, at: '2026-11-22T10:00:00.000Z', by: 'monitor@us-west-2', what: 'switch' as const, from: 0, to: 1, reason: 'revoked', why: 'x' }] };
    sm.put(ID, serializeTokenRecord(theirs), DECISION);
    const w = await s.write('community', switched(r.record), { expectVersion: r.version, requestId: DECISION });
    assert.equal(w.outcome, 'conflict');
    assert.match(w.outcome === 'conflict' ? w.detail : '', /another monitor wrote this decision/);
    assert.equal(sm.current(ID).history !== undefined, true, 'theirs stays current');
  });

  it('errors: missing secret → NotFoundError; endpoint down → UnreachableError; none carries a token; an oversized record is refused', async () => {
    await assert.rejects(store().read('nobody'), NotFoundError);
    const r = await store().read('community');
    sm.down = true;
    await assert.rejects(store().read('community'), (e: unknown) => e instanceof UnreachableError && !TOK.some((t) => e.message.includes(t)));
    sm.down = false;
    const huge = { ...r.record, history: Array.from({ length: 400 }, (_, i) => ({ id: String(i), at: '', by: 'monitor@a', what: 'alert' as const, from: 0, to: 0, reason: 'x', why: 'y'.repeat(300) })) };
    await assert.rejects(store().write('community', huge, { expectVersion: r.version, requestId: DECISION }), OperationError);
    sm.create(ID, `{"tokens": ["${TOK[0]}"`);
    await assert.rejects(store().read('community'), (e: unknown) => e instanceof OperationError && /not valid JSON/.test(e.message) && !e.message.includes(TOK[0]));
  });
});
