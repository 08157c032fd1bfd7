/**
 * The fake Discord's guilds and applications over raw HTTP on 127.0.0.1: roles, members and channels with Discord's
 * error bodies (Unknown Guild/Member/Channel, Missing Access, including a channel the bot cannot view), and
 * `GET|PATCH /applications/@me` where an interactions endpoint is saved only after Discord's signed-PING check.
 */
import assert from 'node:assert/strict';
import { PermissionFlagsBits as P } from 'discord-api-types/v10';
import { FakeDiscord } from '../../../automation/adapters/rehearsal/fake-discord';
import { everyoneOverwrite } from '../../../automation/adapters/rehearsal/fake-discord-guilds';
import { InteractionsEndpoint } from '../../helpers/interactions-endpoint';
import { discordToken } from '../../helpers/token-fakes';

const DC = discordToken('guilds-dc');
const G = '300000000000000001';
const CH = '300000000000000101';
const HIDDEN = '300000000000000102';
const ROLE = '300000000000000201';
const BOT = '1100000000000000042';

describe('rehearsal: fake Discord — guilds, roles, members, channels, applications', () => {
  let dc: FakeDiscord;
  let endpoint: InteractionsEndpoint;
  const req = async (method: string, path: string, body?: unknown, token = DC): Promise<{ status: number; body: Record<string, unknown> & unknown[] }> => {
    const res = await fetch(`${dc.api}/v10${path}`, { method, headers: { authorization: `Bot ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & unknown[] };
  };

  beforeEach(async () => {
    dc = await new FakeDiscord().start();
    dc.addToken(DC, { id: BOT, username: 'chess-discord' });
    dc.setGuild({ id: G, name: 'Chess club', everyone: P.ViewChannel | P.SendMessages, roles: [{ id: ROLE, name: 'Bots', permissions: P.AttachFiles | P.ReadMessageHistory }] })
      .setMember(G, { token: DC }, { roles: [ROLE] })
      .setChannel({ id: CH, guild_id: G, name: 'course-files', permission_overwrites: [everyoneOverwrite(G, 0n, P.AttachFiles)] })
      .setChannel({ id: HIDDEN, guild_id: G, permission_overwrites: [everyoneOverwrite(G, 0n, P.ViewChannel)] });
    endpoint = await new InteractionsEndpoint().start();
  });
  afterEach(async () => {
    await Promise.all([dc.stop(), endpoint.stop()]);
  });

  it('GET /guilds/:guild/roles: @everyone has the guild id; permissions are decimal strings', async () => {
    const r = await req('GET', `/guilds/${G}/roles`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.map((x) => [(x as { id: string }).id, (x as { name: string }).name, (x as { permissions: string }).permissions]), [
      [G, '@everyone', String(P.ViewChannel | P.SendMessages)],
      [ROLE, 'Bots', String(P.AttachFiles | P.ReadMessageHistory)],
    ]);
    assert.deepEqual(await req('GET', '/guilds/999/roles'), { status: 404, body: { message: 'Unknown Guild', code: 10004 } });
  });

  it('GET /guilds/:guild/members/:user: the role ids and timeout; Unknown Member; Missing Access outside the guild', async () => {
    const m = await req('GET', `/guilds/${G}/members/${BOT}`);
    assert.deepEqual([m.status, m.body.roles, m.body.communication_disabled_until, (m.body.user as { bot: boolean }).bot], [200, [ROLE], null, true]);
    assert.deepEqual(await req('GET', `/guilds/${G}/members/1234`), { status: 404, body: { message: 'Unknown Member', code: 10007 } });
    dc.removeMember(G, { token: DC });
    assert.deepEqual(await req('GET', `/guilds/${G}/members/${BOT}`), { status: 403, body: { message: 'Missing Access', code: 50001 } });
    assert.deepEqual(await req('GET', `/guilds/${G}/roles`), { status: 403, body: { message: 'Missing Access', code: 50001 } });
  });

  it('GET /channels/:channel: guild_id and permission_overwrites; Missing Access when the bot cannot View Channel', async () => {
    const c = await req('GET', `/channels/${CH}`);
    assert.deepEqual([c.status, c.body.guild_id, c.body.type, c.body.permission_overwrites], [200, G, 0, [{ id: G, type: 0, allow: '0', deny: String(P.AttachFiles) }]]);
    assert.deepEqual(await req('GET', `/channels/${HIDDEN}`), { status: 403, body: { message: 'Missing Access', code: 50001 } });
    dc.setOverwrites(HIDDEN, [everyoneOverwrite(G, 0n, P.ViewChannel), { id: ROLE, type: 0, allow: P.ViewChannel }]);
    assert.equal((await req('GET', `/channels/${HIDDEN}`)).status, 200, 'a role overwrite gives it back');
    assert.deepEqual(await req('GET', '/channels/42'), { status: 404, body: { message: 'Unknown Channel', code: 10003 } });
  });

  it('GET /applications/@me: interactions_endpoint_url null until set; a real Ed25519 verify_key', async () => {
    const a = await req('GET', '/applications/@me');
    assert.deepEqual([a.status, a.body.id, a.body.interactions_endpoint_url], [200, BOT, null]);
    assert.match(String(a.body.verify_key), /^[0-9a-f]{64}$/);
    dc.setInteractionsEndpoint(DC, 'https://a.bots.example.org/discord/interactions');
    assert.equal((await req('GET', '/applications/@me')).body.interactions_endpoint_url, 'https://a.bots.example.org/discord/interactions');
  });

  it('PATCH /applications/@me saves an endpoint only after a signed PING gets {type:1} and a bad signature gets 401', async () => {
    endpoint.publicKeyHex = dc.application(DC).verify_key;
    const ok = await req('PATCH', '/applications/@me', { interactions_endpoint_url: endpoint.url });
    assert.deepEqual([ok.status, ok.body.interactions_endpoint_url], [200, endpoint.url]);
    assert.deepEqual(endpoint.seen, [{ valid: true, status: 200 }, { valid: false, status: 401 }]);
    endpoint.mode = 'accept-all';
    const lax = await req('PATCH', '/applications/@me', { interactions_endpoint_url: `${endpoint.url}?v=2` });
    assert.equal(lax.status, 400);
    assert.equal(lax.body.code, 50035);
    assert.match(JSON.stringify(lax.body.errors), /APPLICATION_INTERACTIONS_ENDPOINT_URL_INVALID.*invalid signature got 200, not 401/);
    assert.equal(dc.application(DC).interactions_endpoint_url, endpoint.url, 'a refused URL is not saved');
    endpoint.mode = 'down';
    assert.equal((await req('PATCH', '/applications/@me', { interactions_endpoint_url: endpoint.url })).status, 400);
    assert.equal((await req('PATCH', '/applications/@me', { interactions_endpoint_url: 'http://bots.example.org/x' })).status, 400, 'http off loopback');
    assert.equal((await req('PATCH', '/applications/@me', { interactions_endpoint_url: null })).body.interactions_endpoint_url, null);
    assert.deepEqual(dc.applicationPatches(DC).map((p) => p.outcome), ['saved', 'refused', 'refused', 'refused', 'saved']);
  });

  it('verifyInteractions: false saves without the check; faults and 401 still apply to the new routes', async () => {
    const lax = await new FakeDiscord({ verifyInteractions: false }).start();
    try {
      lax.addToken(DC);
      const r = await fetch(`${lax.api}/v10/applications/@me`, { method: 'PATCH', headers: { authorization: `Bot ${DC}`, 'content-type': 'application/json' }, body: JSON.stringify({ interactions_endpoint_url: 'https://b.bots.example.org/discord/interactions' }) });
      assert.equal(r.status, 200);
      lax.fail(DC, { status: 502 });
      assert.equal((await fetch(`${lax.api}/v10/applications/@me`, { headers: { authorization: `Bot ${DC}` } })).status, 502);
      lax.heal(DC).revoke(DC);
      assert.equal((await fetch(`${lax.api}/v10/channels/1`, { headers: { authorization: `Bot ${DC}` } })).status, 401);
    } finally {
      await lax.stop();
    }
  });
});
