import assert from 'node:assert/strict';
import * as path from 'node:path';
import { stackDeps } from '../../automation/cli/commands/deploy';
import { dr } from '../helpers/cli';
import { DEFERRED_KEY, deploy, formatDeploy, REPLICATE_KEY } from '../../automation/ops/deploy';
import { OperationError, UsageError } from '../../automation/core/errors';
import { registerSecret } from '../../automation/core/redact';
import { drPairProgram, FakeWorld } from '../helpers/fake-stacks';

const stacks = { primary: 'acme/bot-platform-dr/primary', secondary: 'acme/bot-platform-dr/secondary' };
const noSleep = { now: () => new Date('2026-05-01T00:00:00Z'), sleep: async () => undefined };

describe('dr deploy (fake Automation API workspace)', () => {
  it('fresh account: creates both stacks, then primary (replication deferred) → secondary → primary (replication on)', async () => {
    const world = new FakeWorld(drPairProgram);
    const r = await deploy({ driver: world, stacks, clock: noSleep });
    assert.deepEqual(world.ops('up'), [`up ${stacks.primary}`, `up ${stacks.secondary}`, `up ${stacks.primary}`]);
    assert.deepEqual(r.steps.map((s) => [s.n, s.stack, s.outcome]), [
      [1, stacks.primary, 'up'],
      [2, stacks.secondary, 'up'],
      [3, stacks.primary, 'up'],
    ]);
    assert.deepEqual(r.steps[0].config, { [DEFERRED_KEY]: 'true', [REPLICATE_KEY]: 'false' });
    assert.deepEqual(r.steps[2].config, { [REPLICATE_KEY]: 'true' });
    const primary = world.stacks.get(stacks.primary)!;
    assert.equal(primary.config[REPLICATE_KEY], 'true', 'replication restored');
    assert.equal(primary.config[DEFERRED_KEY], undefined, 'the deferral marker is removed');
    assert.match(primary.deployed!.fingerprint, /"replicate":true/);
    assert.equal(r.converged, false);
    // Order: the secondary's update starts only after the primary's first update.
    const i1 = world.calls.indexOf(`up ${stacks.primary}`);
    const i2 = world.calls.indexOf(`up ${stacks.secondary}`);
    assert.ok(i1 >= 0 && i2 > i1);
  });

  it('rerun converges: previews only, no update, every step "no-changes"', async () => {
    const world = new FakeWorld(drPairProgram);
    await deploy({ driver: world, stacks, clock: noSleep });
    world.calls.length = 0;
    const again = await deploy({ driver: world, stacks, clock: noSleep });
    assert.deepEqual(world.ops('up'), []);
    assert.deepEqual(world.calls.filter((c) => c.startsWith('config-')), [], 'no config written on a converged rerun');
    assert.equal(again.converged, true);
    assert.deepEqual(again.steps.map((s) => s.outcome), ['no-changes', 'no-changes', 'no-changes']);
    assert.match(formatDeploy(again), /converged/);
  });

  it('a failure in step 2 stops before step 3 with an error naming the step; a rerun resumes and restores replication', async () => {
    const world = new FakeWorld(drPairProgram);
    world.fail.set(`up ${stacks.secondary}`, new Error('InvalidParameterCombination: replica source not available'));
    await assert.rejects(deploy({ driver: world, stacks, clock: noSleep }), (err: unknown) => {
      assert.ok(err instanceof OperationError);
      assert.match(err.message, /deploy step 2\/3 \(acme\/bot-platform-dr\/secondary.*failed: InvalidParameterCombination/);
      assert.match(err.message, /Done so far: step 1 acme\/bot-platform-dr\/primary: up/);
      return true;
    });
    assert.deepEqual(world.ops('up'), [`up ${stacks.primary}`, `up ${stacks.secondary}`], 'step 3 did not run');
    const primary = world.stacks.get(stacks.primary)!;
    assert.equal(primary.config[REPLICATE_KEY], 'false');
    assert.equal(primary.config[DEFERRED_KEY], 'true', 'the operator\'s value is remembered for the rerun');

    world.fail.clear();
    world.calls.length = 0;
    const r = await deploy({ driver: world, stacks, clock: noSleep });
    assert.deepEqual(r.steps.map((s) => s.outcome), ['no-changes', 'up', 'up']);
    assert.equal(primary.config[REPLICATE_KEY], 'true');
    assert.equal(primary.config[DEFERRED_KEY], undefined);
  });

  it('an operator who configured replication off keeps it off', async () => {
    const world = new FakeWorld(drPairProgram);
    world.add(stacks.primary, { [REPLICATE_KEY]: 'false' });
    const r = await deploy({ driver: world, stacks, clock: noSleep });
    assert.equal(world.stacks.get(stacks.primary)!.config[REPLICATE_KEY], 'false');
    assert.deepEqual(r.steps.map((s) => s.outcome), ['up', 'up', 'no-changes']);
  });

  it('--dry-run previews every step and changes nothing (a step that needs an earlier apply is reported blocked)', async () => {
    const world = new FakeWorld(drPairProgram);
    world.add(stacks.primary, { [REPLICATE_KEY]: 'false' });
    world.add(stacks.secondary);
    const r = await deploy({ driver: world, stacks, dryRun: true, clock: noSleep });
    assert.deepEqual(r.steps.map((s) => s.outcome), ['would-up', 'blocked', 'would-up']);
    assert.match(r.steps[1].reason, /dbArn/);
    assert.deepEqual(world.ops('up'), []);
    assert.deepEqual(world.calls.filter((c) => c.startsWith('config-')), []);
    assert.match(formatDeploy(r), /dry run: nothing was changed/);
  });

  it('--dry-run on an account without the stacks creates nothing and says so', async () => {
    const world = new FakeWorld(drPairProgram);
    await assert.rejects(deploy({ driver: world, stacks, dryRun: true, clock: noSleep }), /a dry run creates no stack/);
    assert.equal(world.stacks.size, 0);
  });

  it('waits for a concurrent update (bounded) instead of cancelling it', async () => {
    const world = new FakeWorld(drPairProgram);
    let busy = 2;
    const primary = world.add(stacks.primary);
    const realUp = primary.up.bind(primary);
    primary.up = async (o) => {
      if (busy-- > 0) {
        const e = new Error('[409] Conflict: Another update is currently in progress.');
        e.name = 'StackBusyError';
        throw e;
      }
      return realUp(o);
    };
    const lines: string[] = [];
    const r = await deploy({ driver: world, stacks, clock: noSleep, log: (l) => lines.push(l), retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 1 } });
    assert.equal(r.steps[0].outcome, 'up');
    assert.ok(lines.some((l) => /never cancelled/.test(l)), lines.join('\n'));
    assert.equal(world.ops('cancel').length, 0);
  });

  it('stack names are validated before any stack is touched', async () => {
    const world = new FakeWorld(drPairProgram);
    await assert.rejects(deploy({ driver: world, stacks: { primary: 'x', secondary: 'x' } }), (e: unknown) => e instanceof UsageError && /same stack/.test(e.message));
    await assert.rejects(deploy({ driver: world, stacks: { primary: 'a b', secondary: 'y' } }), (e: unknown) => e instanceof UsageError && /--primary-stack 'a b'/.test(e.message));
    assert.deepEqual(world.calls, []);
  });

  it('pulumi output is streamed into the log redacted', async () => {
    const world = new FakeWorld(drPairProgram);
    const secret = 'db-password-Zx81!q';
    registerSecret(secret);
    const primary = world.add(stacks.primary);
    const realUp = primary.up.bind(primary);
    primary.up = async (o) => {
      o.onOutput(`  + aws:rds:Instance password=${secret}\n`);
      return realUp(o);
    };
    const lines: string[] = [];
    await deploy({ driver: world, stacks, clock: noSleep, log: (l) => lines.push(l) });
    assert.ok(lines.some((l) => l.includes('aws:rds:Instance')));
    assert.ok(!lines.join('\n').includes(secret));
  });
});

describe('dr deploy (CLI)', () => {
  const root = path.join(__dirname, '..', '..');
  let world: FakeWorld;
  const saved = stackDeps.driver;
  beforeEach(() => {
    world = new FakeWorld(drPairProgram);
    stackDeps.driver = () => world;
  });
  after(() => (stackDeps.driver = saved));

  it('--yes --json deploys and prints one JSON report; a rerun reports converged', async () => {
    const env = { DR_PRIMARY_STACK: stacks.primary, DR_SECONDARY_STACK: stacks.secondary };
    const r = await dr(['deploy', '--yes', '--json'], env, { cwd: root });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json().steps.map((s: { outcome: string }) => s.outcome), ['up', 'up', 'up']);
    const again = await dr(['deploy', '--yes', '--json'], env, { cwd: root });
    assert.equal(again.json().converged, true);
  });

  it('without --yes and without a terminal it refuses (exit 2) and touches no stack', async () => {
    const r = await dr(['deploy'], {}, { cwd: root });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pass --yes/);
    assert.deepEqual(world.calls, []);
  });

  it('a directory without Pulumi.yaml is a usage error naming --work-dir', async () => {
    const r = await dr(['deploy', '--yes', '--work-dir', '/tmp'], {}, { cwd: root });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--work-dir \/tmp is not a Pulumi project/);
  });

  it('a failing step exits 1 with the step named', async () => {
    world.fail.set(`up ${stacks.secondary}`, new Error('boom'));
    const r = await dr(['deploy', '--yes', '--primary-stack', stacks.primary, '--secondary-stack', stacks.secondary], {}, { cwd: root });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /deploy step 2\/3/);
  });
});
