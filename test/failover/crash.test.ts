import assert from 'node:assert/strict';
import { FailoverMode, FailoverRequest, findResumable, Incident, runFailover } from '../../automation/failover';
import { CrashError, FakePortsOptions, FakeWorld, fakePorts, fakeTopology } from '../helpers/failover-fakes';

/**
 * A crash injected at EVERY operation of a failover — before and after each act and each journal append (so
 * also "acted but not journaled") — then a rerun (resume, or the same id): it must converge on exactly the world
 * of an uninterrupted run, with every action done exactly once.
 */

interface Scenario {
  title: string;
  mode: FailoverMode;
  incident: Incident;
  setup?: (w: FakeWorld) => void;
  ports?: FakePortsOptions;
}

const SCENARIOS: Scenario[] = [
  { title: 'planned datacenter', mode: 'planned', incident: 'datacenter' },
  { title: 'unplanned datacenter, region a dead', mode: 'unplanned', incident: 'datacenter', setup: (w) => w.kill('a') },
  { title: 'unplanned datacenter, region a still answering', mode: 'unplanned', incident: 'datacenter' },
  { title: 'planned database', mode: 'planned', incident: 'database' },
  { title: 'unplanned cache', mode: 'unplanned', incident: 'cache' },
  { title: 'planned datacenter, local-like ports', mode: 'planned', incident: 'datacenter', ports: { unavailable: { secrets: 'no local counterpart', stacks: 'no local counterpart' } } },
  // One consumer per token: every write of active_region (both regions' copies) is a crash point too.
  { title: 'planned datacenter with bots', mode: 'planned', incident: 'datacenter', ports: { bots: true } },
  { title: 'unplanned datacenter with bots, region a dead', mode: 'unplanned', incident: 'datacenter', setup: (w) => w.kill('a'), ports: { bots: true } },
  { title: 'unplanned datacenter with bots, local-like ports', mode: 'unplanned', incident: 'datacenter', ports: { bots: true, unavailable: { secrets: 'no local counterpart', stacks: 'no local counterpart' } } },
];

const ACT_STEP: Record<string, string> = { 'database.promote': 'promote-database', 'cache.promote': 'promote-cache', 'stacks.retarget': 'reconcile', 'bots.setActiveRegion:b/moderation': 'promote-secrets' };

function world(s: Scenario): FakeWorld {
  const w = new FakeWorld();
  s.setup?.(w);
  return w;
}

function req(w: FakeWorld, s: Scenario, over: Partial<FailoverRequest> = {}): FailoverRequest {
  return { ports: fakePorts(w, s.ports), topology: fakeTopology({ secrets: true, stacks: true }), mode: s.mode, incident: s.incident, from: 'a', to: 'b', confirm: true, id: 'fo-crash', ...over };
}

describe('failover engine: crash at every point, then rerun', () => {
  for (const s of SCENARIOS) {
    it(`${s.title}: converges with each action done exactly once`, async () => {
      const clean = world(s);
      const cleanResult = await runFailover(req(clean, s));
      assert.equal(cleanResult.outcome, 'completed');
      const ops = [...clean.ops];
      const cleanActs = new Map(clean.acts);
      for (const [, n] of cleanActs) assert.equal(n, 1);
      assert.ok(ops.length > 10, `a failover has many crash points (${ops.length})`);
      let points = 0;

      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        const nth = ops.slice(0, i + 1).filter((o) => o === op).length;
        for (const when of ['before', 'after'] as const) {
          const label = `${when} ${op}#${nth}`;
          const w = world(s);
          w.crash = { op, when, nth };
          let crashed: unknown;
          await runFailover(req(w, s)).then(
            () => assert.fail(`${label}: the injected crash did not happen`),
            (e: unknown) => (crashed = e),
          );
          assert.ok(crashed instanceof CrashError, `${label}: got ${String(crashed)}`);
          points++;

          // a new `dr` process: resume the unfinished failover, or rerun the same id when nothing was journaled
          w.recover();
          const resumable = await findResumable(fakePorts(w).journal);
          const rerun = resumable
            ? await runFailover(req(w, s, { resume: true, id: undefined, mode: undefined, incident: undefined, from: undefined, to: undefined }))
            : await runFailover(req(w, s));
          assert.equal(rerun.outcome, 'completed', label);
          assert.deepEqual(w.snapshot(), clean.snapshot(), `${label}: same final world`);
          assert.deepEqual(new Map(w.acts), cleanActs, `${label}: every action exactly once`);
          if (when === 'after' && ACT_STEP[op]) {
            assert.equal(rerun.steps.find((x) => x.name === ACT_STEP[op])!.status, 'done-before', `${label}: acted-but-not-journaled is found done`);
          }
          assert.deepEqual(rerun.estimated_data_loss, cleanResult.estimated_data_loss, `${label}: the estimate survives the crash`);

          // and a third run changes nothing
          const actsBefore = w.actCount();
          const again = await runFailover(req(w, s));
          assert.ok(again.steps.every((x) => x.status === 'done-before' || x.status === 'skipped'), `${label}: third run is all done-before`);
          assert.equal(w.actCount(), actsBefore);
        }
      }
      assert.equal(points, ops.length * 2);
    });
  }
});
