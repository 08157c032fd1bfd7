/**
 * The datacenter drill with the bot tier (issue 11, one consumer per token), on real PostgreSQL and Redis replication
 * and the environment's fake Telegram (127.0.0.1 only): a polling worker per region gated on `shouldConsume()`, users
 * writing throughout; a clean failover loses no update and hands out no 409 after the switch, and a's worker, started
 * again once a is back, consumes nothing. The environment is kept to read its tokens (none may appear in any output),
 * then taken down here, and by the root's after hook if the test fails first.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { down } from '../../automation/rehearsal/environment';
import { dr } from '../helpers/cli';
import { useLocalRoot } from '../helpers/local-env';

describe('dr drill --local --scenario datacenter: the bot tier @integration', function () {
  this.timeout(180_000);
  const root = useLocalRoot('dr-drill-bots-');

  it('b\'s worker consumes after the switch, a\'s consumes nothing on return, 0 updates lost, 0 conflicts after the switch', async () => {
    const envDir = path.join(root.dir, 'dc');
    const res = await dr(['drill', '--local', '--scenario', 'datacenter', '--load-tps', '20', '--duration', '2', '--dir', envDir, '--reports-dir', path.join(root.dir, 'reports'), '--keep', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const r = res.json();
    // Every token of every region's copy (a's tokens.json; b's own copy once promoted) and no output holding one.
    const copies = [path.join(envDir, 'tokens.json'), path.join(envDir, 'b', 'tokens.json')];
    assert.ok(fs.existsSync(copies[1]), "promote-secrets wrote b's own copy of the bots' secrets");
    const records = copies.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as { bots: Record<string, { tokens: string[]; active_region?: string }> });
    const tokens = records.flatMap((c) => Object.values(c.bots).flatMap((b) => b.tokens));
    assert.ok(tokens.length >= 5);
    const report = fs.readFileSync(r.report, 'utf8');
    for (const [name, text] of Object.entries({ stdout: res.stdout, stderr: res.stderr, report })) for (const t of tokens) assert.ok(!text.includes(t), `${name} contains a bot token`);
    await down(envDir);

    // Both copies name b: b's written by the failover before DNS switched, a's by the split-brain guard on return.
    for (const c of records) for (const [bot, rec] of Object.entries(c.bots)) assert.equal(rec.active_region, 'b', `${bot}: active_region`);
    const steps = (r.failover.steps as Array<{ name: string; status: string }>).map((s) => `${s.name}:${s.status}`);
    assert.ok(steps.indexOf('promote-secrets:ok') >= 0 && steps.indexOf('promote-secrets:ok') < steps.indexOf('switch-dns:ok'), steps.join(' '));
    assert.equal(r.steps.find((s: { name: string }) => s.name === 'region-returns')?.status, 'ok');

    const b = r.bots;
    assert.ok(b, '--json has bots');
    for (const k of ['updates_sent', 'updates_handled_a', 'updates_handled_b', 'updates_lost', 'conflicts_after_switch', 'webhook_target']) assert.ok(k in b, `bots.${k}`);
    assert.equal(b.webhook_target, 'polling');
    assert.ok(b.updates_sent >= 40, `users wrote throughout (${b.updates_sent})`);
    assert.ok(b.updates_handled_a > 0, 'a consumed before the failure');
    assert.ok(b.updates_handled_b > 0, 'b consumed after the switch');
    assert.equal(b.updates_lost, 0);
    assert.equal(b.updates_still_queued, 0, 'b drained the queue');
    // Every update handled at least once; one handled twice only if a died before confirming it.
    assert.equal(b.updates_handled_a + b.updates_handled_b - b.updates_handled_twice, b.updates_sent);
    assert.equal(b.conflicts_after_switch, 0);
    assert.deepEqual(b.returned_a, { consuming: false, polls: 0, handled: 0 });
    assert.ok(b.switch_seconds > 0 && b.switch_seconds < 30, `failure → b's first update ${b.switch_seconds} s`);
    assert.equal(typeof b.dns_switch_to_first_update_seconds, 'number');
    for (const name of ['bots: b consumes after the switch', 'bots: the returning region consumes nothing', 'bots: no 409 conflict after the switch', 'bots: no update lost']) {
      assert.equal(r.checks.find((c: { name: string }) => c.name === name)?.ok, true, name);
    }
    assert.match(report, /## Bots: one consumer per token/);
    assert.ok(report.includes(`| updates sent | ${b.updates_sent} |`));
    assert.ok(report.includes(`| handled in a / in b | ${b.updates_handled_a} / ${b.updates_handled_b} |`));
    assert.ok(r.ok, JSON.stringify(r.checks));
  });
});
