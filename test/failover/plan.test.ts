import assert from 'node:assert/strict';
import { UsageError } from '../../automation/core/errors';
import { FailoverMode, Incident, planFailover, planToJson, formatPlan, STEP_NAMES, StepName } from '../../automation/failover';
import { fakeTopology } from '../helpers/failover-fakes';

const runs = (mode: FailoverMode, incident: Incident, opts: Parameters<typeof fakeTopology>[0] = { secrets: true, stacks: true }): StepName[] =>
  planFailover({ mode, incident, from: 'a', to: 'b', topology: fakeTopology(opts) })
    .steps.filter((s) => s.runs)
    .map((s) => s.name);

describe('failover plan', () => {
  it('always lists the ten fixed steps in order, whatever the mode and incident', () => {
    for (const mode of ['planned', 'unplanned'] as const)
      for (const incident of ['datacenter', 'database', 'cache'] as const) {
        const plan = planFailover({ mode, incident, from: 'a', to: 'b', topology: fakeTopology() });
        assert.deepEqual(plan.steps.map((s) => s.name), [...STEP_NAMES]);
        for (const s of plan.steps) {
          assert.ok(s.action.length > 0, `${s.name} has an action`);
          assert.ok(s.reason.length > 0, `${s.name} has a reason`);
          if (!s.runs) assert.match(s.reason, /^skipped: /);
        }
      }
  });

  it('runs the steps each mode × incident needs, in order', () => {
    assert.deepEqual(runs('planned', 'datacenter'), [...STEP_NAMES]);
    assert.deepEqual(runs('unplanned', 'datacenter'), [...STEP_NAMES]);
    assert.deepEqual(runs('planned', 'database'), ['preflight', 'fence', 'catch-up', 'promote-database', 'switch-dns', 'verify', 'record', 'reconcile']);
    assert.deepEqual(runs('unplanned', 'database'), ['preflight', 'fence', 'catch-up', 'promote-database', 'switch-dns', 'verify', 'record', 'reconcile']);
    assert.deepEqual(runs('planned', 'cache'), ['preflight', 'fence', 'promote-cache', 'switch-dns', 'verify', 'record', 'reconcile']);
    assert.deepEqual(runs('unplanned', 'cache'), ['preflight', 'fence', 'promote-cache', 'switch-dns', 'verify', 'record', 'reconcile']);
  });

  it('targets the concrete identifiers from the topology', () => {
    const plan = planFailover({ mode: 'planned', incident: 'datacenter', from: 'a', to: 'b', topology: { ...fakeTopology({ secrets: true, stacks: true }), cacheGlobalId: 'gds-bot', dns: { zone: 'Z123', records: fakeTopology().dns.records } } });
    const step = (n: StepName) => plan.steps.find((s) => s.name === n)!;
    assert.deepEqual(step('fence').target, { region: 'a', database: 'pg-a', cache: 'redis-a' });
    assert.deepEqual(step('catch-up').target, { region: 'b', database: 'pg-b', source: 'pg-a' });
    assert.deepEqual(step('promote-database').target, { region: 'b', database: 'pg-b' }, 'promoted directly: the stack follows in reconcile');
    assert.deepEqual(step('promote-cache').target, { region: 'b', cache: 'redis-b', global_datastore: 'gds-bot' });
    assert.deepEqual(step('promote-secrets').target, { region: 'b', secrets: ['bot-token', 'db-credentials'], active_region: 'b' });
    assert.deepEqual(step('verify').target, { region: 'b', database: 'pg-b', cache: 'redis-b', records: ['platform', 'database', 'cache'], bots: 'every bot' });
    assert.deepEqual(step('switch-dns').target, { region: 'b', records: ['platform', 'database', 'cache'], zone: 'Z123' });
    assert.deepEqual(step('record').target, { survivor: 'b', lost: 'a' });
    assert.deepEqual(step('reconcile').target, { survivor: 'b', lost: 'a', stacks: ['primary', 'secondary'] });
  });

  it('switches only the record of the tier a database or cache incident moves', () => {
    const db = planFailover({ mode: 'unplanned', incident: 'database', from: 'a', to: 'b', topology: fakeTopology() });
    assert.deepEqual(db.steps.find((s) => s.name === 'switch-dns')!.target.records, ['database']);
    const cache = planFailover({ mode: 'unplanned', incident: 'cache', from: 'a', to: 'b', topology: fakeTopology() });
    assert.deepEqual(cache.steps.find((s) => s.name === 'switch-dns')!.target.records, ['cache']);
    assert.deepEqual(cache.steps.find((s) => s.name === 'fence')!.target, { region: 'a', cache: 'redis-a' });
  });

  it('unplanned: plans a bounded catch-up for a primary that still answers (10 s by default), skipped when it does not', () => {
    const plan = planFailover({ mode: 'unplanned', incident: 'datacenter', from: 'a', to: 'b', topology: fakeTopology() });
    const cu = plan.steps.find((s) => s.name === 'catch-up')!;
    assert.equal(cu.runs, true);
    assert.match(cu.action, /if a still answers.*up to 10s.*then promote anyway; if it does not answer, skip \(the estimated data loss is recorded\)/);
    assert.deepEqual(cu.target, { region: 'b', database: 'pg-b', source: 'pg-a' });
    const bounded = planFailover({ mode: 'unplanned', incident: 'datacenter', from: 'a', to: 'b', topology: fakeTopology(), limits: { unplannedCatchUpTimeoutMs: 3000 } });
    assert.match(bounded.steps.find((s) => s.name === 'catch-up')!.action, /up to 3s/);
  });

  it('skips steps whose capability is unavailable, with the port\'s reason', () => {
    const plan = planFailover({
      mode: 'planned', incident: 'datacenter', from: 'a', to: 'b', topology: fakeTopology({ secrets: true, stacks: true }),
      unavailable: { secrets: 'no local counterpart: secrets stay in the environment', stacks: 'no local counterpart: no Pulumi stacks', bots: 'no bots port' },
    });
    const ps = plan.steps.find((s) => s.name === 'promote-secrets')!;
    assert.equal(ps.runs, false);
    assert.equal(ps.reason, 'skipped: no local counterpart: secrets stay in the environment');
    assert.equal(plan.steps.find((s) => s.name === 'verify')!.target.bots, undefined, 'no bots port: no bot is verified');
    assert.equal(plan.steps.find((s) => s.name === 'record')!.target.stacks, undefined);
    assert.equal(plan.steps.find((s) => s.name === 'promote-database')!.target.stack, undefined);
  });

  it('promote-secrets moves the bots\' consumers even where no secret is replicated; never for a database or cache incident', () => {
    const plan = planFailover({ mode: 'unplanned', incident: 'datacenter', from: 'a', to: 'b', topology: fakeTopology(), unavailable: { secrets: 'no local counterpart' } });
    const ps = plan.steps.find((s) => s.name === 'promote-secrets')!;
    assert.equal(ps.runs, true);
    assert.deepEqual(ps.target, { region: 'b', secrets: [], active_region: 'b' });
    assert.match(ps.action, /^set active_region=b in each bot's secret \(a's copy first when it answers, else a pending fence for the split-brain guard; then b's\), so only b's workers consume updates$/);
    assert.match(plan.steps.find((s) => s.name === 'verify')!.action, /its secret in b says active_region=b, its updates go to the shared name or b \(never the lost region\), its active token answers from b/);
    for (const incident of ['database', 'cache'] as const) {
      const p = planFailover({ mode: 'unplanned', incident, from: 'a', to: 'b', topology: fakeTopology({ secrets: true }) });
      assert.equal(p.steps.find((s) => s.name === 'promote-secrets')!.runs, false);
      assert.equal(p.steps.find((s) => s.name === 'verify')!.target.bots, undefined);
    }
  });

  it('skips the cache fence when the cache port has no fence (global datastore demotes itself)', () => {
    const plan = planFailover({ mode: 'unplanned', incident: 'cache', from: 'a', to: 'b', topology: fakeTopology(), unavailable: { cacheFence: 'the global datastore failover demotes the old primary' } });
    const fence = plan.steps.find((s) => s.name === 'fence')!;
    assert.equal(fence.runs, false);
    assert.match(fence.reason, /demotes the old primary/);
  });

  it('rejects bad requests with a usage error naming the key', () => {
    const t = fakeTopology();
    assert.throws(() => planFailover({ mode: 'planned', incident: 'datacenter', from: 'a', to: 'a', topology: t }), (e: unknown) => e instanceof UsageError && /same region/.test(e.message));
    assert.throws(() => planFailover({ mode: 'planned', incident: 'datacenter', from: 'a', to: 'c', topology: t }), (e: unknown) => e instanceof UsageError && /to region 'c'.*known regions: a, b/.test(e.message));
    assert.throws(() => planFailover({ mode: 'planned', incident: 'network' as Incident, from: 'a', to: 'b', topology: t }), (e: unknown) => e instanceof UsageError && /--incident 'network'.*datacenter, database, cache/.test(e.message));
    const dup = { ...t, regions: [t.regions[0], { ...t.regions[1], name: 'a' }] };
    assert.throws(() => planFailover({ mode: 'planned', incident: 'datacenter', from: 'a', to: 'b', topology: dup }), (e: unknown) => e instanceof UsageError && /twice/.test(e.message));
    const noCache = { ...t, regions: t.regions.map((r) => ({ name: r.name, database: r.database })) };
    assert.throws(() => planFailover({ mode: 'planned', incident: 'cache', from: 'a', to: 'b', topology: noCache }), (e: unknown) => e instanceof UsageError && /no cache id/.test(e.message));
  });

  it('has a JSON shape that is a superset of {mode, incident, steps:[{name, action, target}]} and a human form', () => {
    const plan = planFailover({ mode: 'planned', incident: 'database', from: 'a', to: 'b', topology: fakeTopology() });
    const json = JSON.parse(JSON.stringify(planToJson(plan)));
    assert.equal(json.mode, 'planned');
    assert.equal(json.incident, 'database');
    for (const s of json.steps) for (const k of ['name', 'action', 'target', 'reason', 'runs']) assert.ok(k in s, `${s.name}.${k}`);
    const text = formatPlan(plan);
    assert.match(text, /dry run: nothing is changed/);
    assert.match(text, / 3\. \[run \] catch-up: /);
    assert.match(text, / 5\. \[skip\] promote-cache: /);
    assert.match(text, /target: region=b database=pg-b source=pg-a/);
  });
});
