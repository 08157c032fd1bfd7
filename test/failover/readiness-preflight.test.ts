/**
 * The failover's preflight includes readiness (issue 14): a planned switchover refuses while the verdict is
 * not-ready (exit 2, nothing acted, every failed check named), unless forced; degraded and unplanned only note it.
 */
import assert from 'node:assert/strict';
import { RefusedError } from '../../automation/core/errors';
import { runFailover, type FailoverRequest, type ReadinessPort } from '../../automation/failover';
import type { ReadinessSummary } from '../../lib/readiness';
import { FakeWorld, fakePorts, fakeTopology } from '../helpers/failover-fakes';

const AT = '2025-01-01T00:09:00.000Z';
const NOT_READY: ReadinessSummary = {
  verdict: 'not-ready',
  at: AT,
  from: 'b',
  failed: [{ name: 'backups.newest', resource: 's3://bucket-b/postgresql/daily', reason: 'the newest daily postgresql backup is not in s3://bucket-b', fix: 'check the replication of s3://bucket-a' }],
  warned: [],
};
const DEGRADED: ReadinessSummary = { verdict: 'degraded', at: AT, from: 'b', failed: [], warned: ['database.instance-class'] };

function readiness(r: ReadinessSummary | Error): ReadinessPort & { calls: number } {
  const port = {
    calls: 0,
    check: async () => {
      port.calls++;
      if (r instanceof Error) throw r;
      return r;
    },
  };
  return port;
}

function request(world: FakeWorld, port: ReadinessPort, over: Partial<FailoverRequest> = {}): FailoverRequest {
  return { ports: { ...fakePorts(world), readiness: port }, topology: fakeTopology({ secrets: true, stacks: true }), mode: 'planned', incident: 'datacenter', from: 'a', to: 'b', confirm: true, id: 'fo-ready', ...over };
}

async function refused(p: Promise<unknown>): Promise<RefusedError> {
  const err = await p.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RefusedError, String(err));
  assert.equal(err.exitCode, 2);
  return err;
}

describe('failover preflight: readiness', () => {
  it('planned and not-ready: refused before anything acts, naming each failed check with its fix and --force', async () => {
    const world = new FakeWorld();
    const port = readiness(NOT_READY);
    const err = await refused(runFailover(request(world, port)));
    assert.match(err.message, /readiness is not-ready, so a planned switchover is refused \(nothing was changed\)/);
    assert.match(err.message, /backups\.newest s3:\/\/bucket-b\/postgresql\/daily: the newest daily postgresql backup is not in s3:\/\/bucket-b \(fix: check the replication of s3:\/\/bucket-a\)/);
    assert.match(err.message, /--force/);
    assert.equal(port.calls, 1);
    assert.equal(world.actCount(), 0, `acts: ${[...world.acts.keys()].join(', ')}`);
    assert.equal(world.db.b.role, 'standby');
    assert.equal(world.db.a.fenced, false);
  });

  it('planned, not-ready and forced: completes, preflight says it was forced', async () => {
    const world = new FakeWorld();
    const res = await runFailover(request(world, readiness(NOT_READY), { force: true }));
    assert.equal(res.outcome, 'completed');
    const pre = res.steps.find((s) => s.name === 'preflight')!;
    assert.match(pre.detail ?? '', /^readiness: not-ready; failed: backups\.newest \(forced\)/);
    assert.equal(world.db.b.role, 'primary');
  });

  it('planned and degraded: goes on, the warnings noted', async () => {
    const world = new FakeWorld();
    const res = await runFailover(request(world, readiness(DEGRADED)));
    assert.equal(res.outcome, 'completed');
    assert.match(res.steps.find((s) => s.name === 'preflight')!.detail ?? '', /^readiness: degraded; warnings: database\.instance-class/);
  });

  it('unplanned and not-ready: never refused (the region it leaves is expected to be broken), the verdict recorded', async () => {
    const world = new FakeWorld();
    const res = await runFailover(request(world, readiness(NOT_READY), { mode: 'unplanned' }));
    assert.equal(res.outcome, 'completed');
    assert.match(res.steps.find((s) => s.name === 'preflight')!.detail ?? '', /^readiness: not-ready; failed: backups\.newest;/);
    assert.equal(world.db.b.role, 'primary');
  });

  it('unplanned: a readiness run that hangs (a lost region) is not waited for past 5 s; the failover goes on', async function () {
    this.timeout(15_000);
    const world = new FakeWorld();
    const t0 = Date.now();
    const res = await runFailover(request(world, { check: () => new Promise(() => undefined) }, { mode: 'unplanned' }));
    assert.equal(res.outcome, 'completed');
    assert.ok(Date.now() - t0 < 5_000 + 3_000, `${Date.now() - t0} ms`);
    assert.match(res.steps.find((s) => s.name === 'preflight')!.detail ?? '', /readiness: could not be checked \(not finished within 5 s \(an unplanned failover does not wait for it\)\)/);
  });

  it('planned and readiness cannot run: refused unless forced', async () => {
    const err = await refused(runFailover(request(new FakeWorld(), readiness(new Error('DescribeDBInstances: throttled')))));
    assert.match(err.message, /readiness could not be checked \(DescribeDBInstances: throttled\).*--force/);
    const world = new FakeWorld();
    const res = await runFailover(request(world, readiness(new Error('DescribeDBInstances: throttled')), { force: true }));
    assert.equal(res.outcome, 'completed');
    assert.match(res.steps.find((s) => s.name === 'preflight')!.detail ?? '', /readiness: could not be checked \(DescribeDBInstances: throttled\); forced/);
  });

  it('a dry-run never runs readiness', async () => {
    const port = readiness(NOT_READY);
    const res = await runFailover(request(new FakeWorld(), port, { dryRun: true, confirm: false }));
    assert.ok(res.plan);
    assert.equal(port.calls, 0);
  });
});
