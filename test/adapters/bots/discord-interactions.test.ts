/**
 * DiscordInteractions against the fake Discord over real HTTP on 127.0.0.1: the interactions endpoint read from
 * `GET /applications/@me`, re-pointed with `PATCH /applications/@me` when it drifts — which Discord (and the fake)
 * saves only when the new endpoint passes the signed-PING check — and an unexpected endpoint reported, not cleared.
 */
import assert from 'node:assert/strict';
import { DiscordInteractions } from '../../../automation/adapters/bots';
import { FakeDiscord } from '../../../automation/adapters/rehearsal/fake-discord';
import { OperationError, UnreachableError } from '../../../automation/core/errors';
import { InteractionsEndpoint } from '../../helpers/interactions-endpoint';
import { discordToken, refusedUrl } from '../../helpers/token-fakes';

const DC = discordToken('interactions-adapter');
const A = 'https://a.bots.example.org/discord/interactions';

describe('adapters/bots: DiscordInteractions against the fake Discord', () => {
  let dc: FakeDiscord;
  let survivor: InteractionsEndpoint;
  const adapter = () => new DiscordInteractions({ api: dc.api, timeoutMs: 3000 });

  beforeEach(async () => {
    dc = await new FakeDiscord().start();
    dc.addToken(DC, { id: '1100000000000000077', username: 'chess-discord' });
    survivor = await new InteractionsEndpoint(dc.application(DC).verify_key).start();
  });
  afterEach(async () => {
    await Promise.all([dc.stop(), survivor.stop()]);
  });

  it('endpoint(): the application id and interactions_endpoint_url (null when unset)', async () => {
    assert.deepEqual(await adapter().endpoint(DC), { application_id: '1100000000000000077', interactions_endpoint_url: null });
    dc.setInteractionsEndpoint(DC, A);
    assert.deepEqual((await adapter().endpoint(DC)).interactions_endpoint_url, A);
  });

  it('ensure(): drifted to region A → PATCH to the survivor, which passes the PING check; then unchanged', async () => {
    dc.setInteractionsEndpoint(DC, A);
    const r = await adapter().ensure(DC, survivor.url);
    assert.deepEqual([r.action, r.drift.reason, r.before.interactions_endpoint_url, r.after?.interactions_endpoint_url], ['set', 'url-mismatch', A, survivor.url]);
    assert.deepEqual(survivor.seen.map((s) => s.status), [200, 401], 'Discord PINGed it twice: a valid and an invalid signature');
    assert.deepEqual(dc.applicationPatches(DC).map((p) => [p.interactions_endpoint_url, p.outcome]), [[survivor.url, 'saved']]);
    assert.equal((await adapter().ensure(DC, survivor.url)).action, 'unchanged');
    assert.equal(dc.callCount(DC, 'PATCH /applications/@me'), 1);
  });

  it('ensure(): an unset endpoint is set; a survivor that fails the check is refused by Discord and nothing changes', async () => {
    survivor.mode = 'accept-all';
    const refused = await adapter().ensure(DC, survivor.url).catch((e: Error) => e);
    assert.ok(refused instanceof OperationError);
    assert.match(refused.message, /^Discord PATCH \/applications\/@me: 400 Invalid Form Body.*could not be verified.*invalid signature got 200, not 401.*\(code 50035\)$/);
    assert.equal(dc.application(DC).interactions_endpoint_url, null);
    survivor.mode = 'verify';
    const r = await adapter().ensure(DC, survivor.url);
    assert.deepEqual([r.action, r.drift.reason], ['set', 'unset']);
  });

  it('ensure(null): a gateway-only bot with an endpoint set is reported, never cleared', async () => {
    dc.setInteractionsEndpoint(DC, A);
    const r = await adapter().ensure(DC, null);
    assert.deepEqual([r.action, r.drift.reason], ['reported', 'unexpected']);
    assert.equal(dc.callCount(DC, 'PATCH /applications/@me'), 0);
    assert.equal((await adapter().ensure(DC, null)).action, 'reported');
  });

  it('errors: 401 is an OperationError with its status; no answer an UnreachableError; never the token', async () => {
    dc.revoke(DC);
    const e401 = await adapter().endpoint(DC).catch((e: Error) => e);
    assert.ok(e401 instanceof OperationError);
    assert.deepEqual(e401.detail, { status: 401, message: '401: Unauthorized', code: 0 });
    const down = await new DiscordInteractions({ api: `${await refusedUrl()}/api`, timeoutMs: 1000 }).endpoint(DC).catch((e: Error) => e);
    assert.ok(down instanceof UnreachableError, String(down));
    dc.restore(DC).fail(DC, { status: 503 });
    const e503 = await adapter().endpoint(DC).catch((e: Error) => e);
    assert.ok(e503 instanceof UnreachableError);
    for (const e of [e401, down, e503]) assert.ok(!`${e.message} ${JSON.stringify(e.detail ?? {})} ${e.stack}`.includes(DC));
  });
});
