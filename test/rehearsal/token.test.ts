/**
 * The bot-token drills on real PostgreSQL, Redis, s3rver and the fake Telegram API (one long-lived platform process
 * per environment): a revoked token is switched away from and the bot posts again with the next one; a platform
 * outage is reported and never switched. No token value reaches the result, the report, the notices or the output.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { down } from '../../automation/rehearsal/environment';
import { dr } from '../helpers/cli';
import { useLocalRoot } from '../helpers/local-env';

describe('rehearsal: bot tokens @integration', function () {
  this.timeout(180_000);
  const root = useLocalRoot('dr-token-');

  it('--scenario token: the revoked active token is switched away from; the bot posts again with the next one, sessions kept', async () => {
    const dir = path.join(root.dir, 'token');
    const res = await dr(['drill', '--local', '--scenario', 'token', '--duration', '2', '--dir', dir, '--reports-dir', path.join(root.dir, 'reports'), '--keep', '--json']);
    const tokens = Object.values((JSON.parse(fs.readFileSync(path.join(dir, 'tokens.json'), 'utf8')) as { bots: Record<string, { tokens: string[] }> }).bots).flatMap((b) => b.tokens);
    const notices = fs.readFileSync(path.join(dir, 'token-notices.log'), 'utf8');
    const report = res.code === 0 ? fs.readFileSync(res.json().report, 'utf8') : '';
    await down(dir);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const r = res.json();
    assert.equal(r.ok, true, JSON.stringify(r.checks));
    assert.ok(r.token.switch_seconds > 0 && r.token.switch_seconds < 10, `switch ${r.token.switch_seconds}s`);
    assert.ok(r.token.calls_ok > 10, `calls ok ${r.token.calls_ok}`);
    assert.equal(r.token.sessions_kept, r.token.sessions);
    assert.equal(r.checks.find((c: { name: string }) => c.name === 'token switched').ok, true);
    assert.match(r.checks.find((c: { name: string }) => c.name === 'bot calls resumed with the new token').detail, /with token [12]$/);
    assert.match(notices, /"kind":"switch"/);
    assert.match(report, /## Bot token[\s\S]*switch time: revocation → first successful call with the new token/);
    assert.equal(tokens.length, 5);
    for (const [name, text] of Object.entries({ stdout: res.stdout, stderr: res.stderr, report, notices })) for (const t of tokens) assert.ok(!text.includes(t), `${name} contains a token`);
  });

  it('--scenario token-outage: every token gets 5xx — no switch, a platform-degraded alert, the same token afterwards', async () => {
    const dir = path.join(root.dir, 'outage');
    const res = await dr(['drill', '--local', '--scenario', 'token-outage', '--duration', '2', '--dir', dir, '--reports-dir', path.join(root.dir, 'reports'), '--json']);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const r = res.json();
    assert.equal(r.ok, true, JSON.stringify(r.checks));
    assert.equal(r.token.switch_seconds, null);
    assert.equal(r.checks.find((c: { name: string }) => c.name === 'no switch during the outage').ok, true);
    assert.equal(r.checks.find((c: { name: string }) => c.name === 'platform-degraded alert raised').ok, true);
    assert.match(r.checks.find((c: { name: string }) => c.name === 'bot calls resumed with the same token').detail, /with token 0$/);
    assert.ok(r.token.calls_failed > 0, 'calls failed during the outage');
    assert.equal(fs.existsSync(dir), false);
  });

  it('--scenario permissions: the backup token lacks a right in one channel; the check reports it and the switch prefers the token with every right', async () => {
    const dir = path.join(root.dir, 'permissions');
    const res = await dr(['drill', '--local', '--scenario', 'permissions', '--duration', '2', '--dir', dir, '--reports-dir', path.join(root.dir, 'reports'), '--keep', '--json']);
    const tokens = Object.values((JSON.parse(fs.readFileSync(path.join(dir, 'tokens.json'), 'utf8')) as { bots: Record<string, { tokens: string[] }> }).bots).flatMap((b) => b.tokens);
    const report = res.code === 0 ? fs.readFileSync(res.json().report, 'utf8') : '';
    const status = await dr(['status', '--local', '--dir', dir, '--json']);
    const matrix = await dr(['bots', 'check-permissions', '--local', '--dir', dir, '--json']);
    const human = await dr(['bots', 'check-permissions', '--local', '--dir', dir]);
    await down(dir);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const r = res.json();
    assert.equal(r.ok, true, JSON.stringify(r.checks));
    assert.deepEqual(r.permissions.missing.map(({ action: _, ...m }: { action?: string }) => m), [{ bot: 'community', token: 1, channel: '-1001000000001', missing: ['can_delete_messages'] }]);
    // The admin action it needs, in words (bots cannot grant themselves rights: nothing is corrected).
    assert.match(r.permissions.missing[0].action, /^give \S+ the administrator right Delete messages in -1001000000001/);
    assert.deepEqual([r.permissions.switched_to, r.permissions.skipped], [2, [1]]);
    assert.match(r.checks.find((c: { name: string }) => c.name === 'rights gap reported').detail, /^token 1 missing can_delete_messages in -1001000000001; admin action: give \S+ the administrator right Delete messages in -1001000000001/);
    assert.match(r.checks.find((c: { name: string }) => c.name === 'bot calls resumed with the new token').detail, /with token 2$/);
    assert.match(report, /## Channel rights[\s\S]*the switch went to token \*\*2\*\*, skipping token 1[\s\S]*\| community \| 1 \| -1001000000001 \| can_delete_messages \| give \S+ the administrator right Delete messages in -1001000000001/);
    // dr status --local: the per-bot section shows the switch, the polling bot without a webhook, the gap.
    const bots = status.json().bots;
    const community = bots.find((b: { bot: string }) => b.bot === 'community');
    assert.deepEqual([community.active, community.endpoint.expected, community.endpoint.current, community.endpoint.action], [2, null, null, 'unchanged']);
    assert.deepEqual(community.missing_rights.map((m: { token: number; missing: string[] }) => [m.token, m.missing]), [[1, ['can_delete_messages']]]);
    // dr bots check-permissions --local: every token × channel; exit 1 (a right missing; the revoked token 0 unreadable).
    assert.equal(matrix.code, 1, matrix.stderr);
    const cells = matrix.json().bots.flatMap((b: { bot: string; tokens: Array<{ index: number; channels: Array<{ channel: string; state: string }> }> }) => b.tokens.flatMap((t) => t.channels.map((c) => `${b.bot} ${t.index} ${c.channel} ${c.state}`)));
    assert.deepEqual(cells, ['community 0 -1001000000001 error', 'community 0 -1001000000002 error', 'community 1 -1001000000001 missing', 'community 1 -1001000000002 ok', 'community 2 -1001000000001 ok', 'community 2 -1001000000002 ok', 'moderation 0 900000000000000001/900000000000000101 ok', 'moderation 1 900000000000000001/900000000000000101 ok']);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /token 1 @community_1_bot {2}-1001000000001 {2}MISSING can_delete_messages\n {6}admin action: give @community_1_bot the administrator right Delete messages in -1001000000001/);
    for (const [name, text] of Object.entries({ stdout: res.stdout, stderr: res.stderr, report, status: status.stdout, matrix: matrix.stdout + matrix.stderr, human: human.stdout + human.stderr })) for (const t of tokens) assert.ok(!text.includes(t), `${name} contains a token`);
  });
});
