import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RefusedError, UsageError } from '../../automation/core/errors';
import { offlinePlanJson, planFromOutputsDir } from '../../automation/ops/offline-plan';
import { COMMANDS } from '../../automation/cli/registry';
import { dr } from '../helpers/cli';
import { ACCOUNT, outputsDir, primaryOutputs, secondaryOutputs } from '../helpers/aws-fixtures';

const stacks = { primary: 'acme/bot-platform-dr/primary', secondary: 'acme/bot-platform-dr/secondary' };

function step(plan: ReturnType<typeof offlinePlanJson>, name: string) {
  const s = plan.steps.find((x) => x.name === name);
  assert.ok(s, `step ${name}`);
  return s;
}

describe('offline failover plan from saved stack outputs', () => {
  const dirs: string[] = [];
  const dir = (...a: Parameters<typeof outputsDir>) => {
    const d = outputsDir(...a);
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('datacenter, unplanned: every step with the real identifiers it would touch', () => {
    const plan = offlinePlanJson(planFromOutputsDir(dir(), 'unplanned', 'datacenter', { stacks }));
    assert.equal(plan.mode, 'unplanned');
    assert.equal(plan.incident, 'datacenter');
    assert.equal(plan.from, 'us-east-1');
    assert.equal(plan.to, 'us-west-2');
    assert.deepEqual(plan.steps.map((s) => s.name), ['preflight', 'fence', 'catch-up', 'promote-database', 'promote-cache', 'promote-secrets', 'switch-dns', 'verify', 'record', 'reconcile']);
    for (const s of plan.steps) assert.ok(typeof s.action === 'string' && s.action.length > 0 && s.target && typeof s.target === 'object');
    assert.equal(step(plan, 'preflight').target.stacks, undefined, 'no stack refresh before traffic moves');
    assert.equal(step(plan, 'fence').target.database, 'botdr-use1-pg');
    assert.deepEqual(step(plan, 'promote-database').target, { region: 'us-west-2', database: 'botdr-usw2-pg' });
    assert.deepEqual(step(plan, 'reconcile').target.stacks, [stacks.primary, stacks.secondary]);
    assert.deepEqual(step(plan, 'promote-cache').target, { region: 'us-west-2', cache: 'botdr-usw2-redis', global_datastore: 'ldgnf-botdr-global' });
    assert.deepEqual(step(plan, 'promote-secrets').target.secrets, [
      `arn:aws:secretsmanager:us-west-2:${ACCOUNT}:secret:botdr/bot-tokens/community-Qw1234`,
      `arn:aws:secretsmanager:us-west-2:${ACCOUNT}:secret:botdr/bot-tokens/moderation-Er5678`,
      `arn:aws:secretsmanager:us-west-2:${ACCOUNT}:secret:botdr/cache-auth-XyZ123`,
    ]);
    assert.equal(step(plan, 'promote-secrets').target.active_region, 'us-west-2', 'the bots\' consumers move to the survivor before DNS');
    assert.equal(step(plan, 'verify').target.bots, 'every bot');
    assert.deepEqual(step(plan, 'switch-dns').target, { region: 'us-west-2', records: ['bot.example.com'], zone: 'Z0123456789ABCDEFGHIJ' });
    assert.equal(step(plan, 'catch-up').runs, true, 'unplanned: a bounded catch-up if the old primary still answers');
    assert.deepEqual(step(plan, 'record').target, { survivor: 'us-west-2', lost: 'us-east-1' });
  });

  it('database incident: moves only the database; DNS is skipped with the reason (no record serves the database)', () => {
    const plan = offlinePlanJson(planFromOutputsDir(dir(), 'planned', 'database', { stacks }));
    assert.equal(step(plan, 'catch-up').runs, true);
    assert.equal(step(plan, 'promote-cache').runs, false);
    assert.equal(step(plan, 'promote-secrets').runs, false);
    assert.equal(step(plan, 'switch-dns').runs, false);
    assert.match(step(plan, 'switch-dns').reason, /database/);
  });

  it('after a failover both stacks say secondary: --from names the lost region', () => {
    const d = dir(primaryOutputs({ role: 'secondary' }), secondaryOutputs());
    const plan = planFromOutputsDir(d, 'planned', 'datacenter', { stacks, from: 'us-west-2' });
    assert.equal(plan.from, 'us-west-2');
    assert.equal(plan.to, 'us-east-1');
  });

  it('after an earlier failover (roles swapped in the outputs) it plans the way back', () => {
    const d = dir(primaryOutputs({ role: 'secondary' }), secondaryOutputs({ role: 'primary' }));
    const plan = planFromOutputsDir(d, 'planned', 'datacenter', { stacks });
    assert.equal(plan.from, 'us-west-2');
    assert.equal(plan.to, 'us-east-1');
  });

  describe('bad input is a usage error naming what is wrong', () => {
    const rejects = (fn: () => unknown, cls: Function, re: RegExp) => {
      assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
        assert.match((err as Error).message, re);
        assert.equal((err as UsageError).exitCode, 2);
        return true;
      });
    };
    it('a missing outputs file names the file', () => {
      const d = dir(primaryOutputs(), null);
      rejects(() => planFromOutputsDir(d, 'unplanned', 'datacenter'), UsageError, new RegExp(`missing outputs: ${path.join(d, 'secondary.json').replace(/[.\\/]/g, '\\$&')}`));
    });
    it('a missing output key names the file and key', () => {
      const p = primaryOutputs();
      delete p.dbIdentifier;
      rejects(() => planFromOutputsDir(dir(p), 'unplanned', 'datacenter'), UsageError, /stack primary: output 'dbIdentifier' is missing/);
    });
    it('not JSON', () => rejects(() => planFromOutputsDir(dir('{ nope'), 'unplanned', 'datacenter'), UsageError, /primary\.json is not JSON/));
    it('the same region on both stacks', () =>
      rejects(() => planFromOutputsDir(dir(primaryOutputs(), secondaryOutputs({ region: 'us-east-1', peerRegion: 'us-west-2', dbArn: `arn:aws:rds:us-east-1:${ACCOUNT}:db:botdr-usw2-pg` })), 'unplanned', 'datacenter'), UsageError, /both in region us-east-1/));
    it('an unknown incident, before any file is read', () => rejects(() => planFromOutputsDir('/nonexistent', 'unplanned', 'meteor'), UsageError, /--incident 'meteor'.*datacenter, database, cache/));
    it('an unknown mode', () => rejects(() => planFromOutputsDir(dir(), 'sideways', 'database'), UsageError, /mode 'sideways'/));
    it('two primaries (a half-done failover)', () => rejects(() => planFromOutputsDir(dir(primaryOutputs(), secondaryOutputs({ role: 'primary' })), 'unplanned', 'datacenter'), UsageError, /exactly one primary.*--from/));
    it('a secret output is never used (it counts as missing)', () => rejects(() => planFromOutputsDir(dir(primaryOutputs({ dbIdentifier: '[secret]' })), 'unplanned', 'database'), UsageError, /'dbIdentifier' is missing/));
    it('--from naming a region of neither stack', () => rejects(() => planFromOutputsDir(dir(), 'unplanned', 'database', { from: 'eu-west-1' }), UsageError, /--from eu-west-1 is not one of the stacks' regions/));
    it('--planned when the primary is unreachable is refused (exit 2)', () =>
      rejects(() => planFromOutputsDir(dir(), 'planned', 'datacenter', { primaryReachable: false }), RefusedError, /--planned refused: the primary in us-east-1 is unreachable/));
    it('--unplanned when the primary is unreachable plans', () => assert.equal(planFromOutputsDir(dir(), 'unplanned', 'datacenter', { primaryReachable: false }).from, 'us-east-1'));
  });

  it('the plan carries no secret value (only ARNs and names)', () => {
    const text = JSON.stringify(offlinePlanJson(planFromOutputsDir(dir(), 'unplanned', 'datacenter', { stacks })));
    assert.doesNotMatch(text, /password|PLACEHOLDER|\[secret\]/i);
  });

  describe('end to end through `dr failover --dry-run --json --outputs-dir`', () => {
    // The failover command wires --outputs-dir to planFromOutputsDir (automation/cli/failover-aws.ts).
    it('dr failover has --outputs-dir', async () => {
      const cmd = await COMMANDS.failover();
      assert.ok(cmd.flags['outputs-dir'], 'dr failover --outputs-dir');
    });
    it('prints the plan as one JSON document, exit 0', async () => {
      const r = await dr(['failover', '--dry-run', '--json', '--unplanned', '--incident', 'datacenter', '--outputs-dir', dir()]);
      assert.equal(r.code, 0, r.stderr);
      const plan = r.json();
      assert.equal(plan.mode, 'unplanned');
      assert.equal(plan.incident, 'datacenter');
      assert.ok(plan.steps.some((s: { name: string; target: Record<string, unknown> }) => s.name === 'promote-database' && s.target.database === 'botdr-usw2-pg'));
    });
    for (const [label, argv, re] of [
      ['missing outputs', ['--unplanned', '--incident', 'datacenter'], /missing outputs/],
      ['an unknown incident', ['--unplanned', '--incident', 'meteor'], /meteor/],
    ] as const) {
      it(`${label} → exit 2`, async () => {
          const r = await dr(['failover', '--dry-run', '--json', ...argv, '--outputs-dir', dir(primaryOutputs(), null)]);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stderr, re);
      });
    }
    it('the same region on both stacks → exit 2', async () => {
      const r = await dr(['failover', '--dry-run', '--json', '--unplanned', '--incident', 'datacenter', '--outputs-dir', dir(primaryOutputs(), secondaryOutputs({ region: 'us-east-1', peerRegion: 'us-west-2', dbArn: `arn:aws:rds:us-east-1:${ACCOUNT}:db:botdr-usw2-pg` }))]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /both in region us-east-1: a failover needs two different regions/);
    });
  });
});
