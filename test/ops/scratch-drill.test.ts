import assert from 'node:assert/strict';
import { parseRestorePoint, scratchDrill, ScratchTarget } from '../../automation/ops/scratch-drill';
import { UsageError } from '../../automation/core/errors';
import { registerSecret } from '../../automation/core/redact';
import { FakeWorld, Program } from '../helpers/fake-stacks';
import { MemoryStore } from '../helpers/memory-store';

const SRC = 'acme/bot-platform-dr/primary';
let t = Date.parse('2026-07-01T06:00:00Z');
const clock = { now: () => new Date((t += 60_000)), sleep: async () => undefined };

const scratchProgram: Program = (stack) => ({
  fingerprint: JSON.stringify(stack.config),
  resources: 20,
  outputs: { role: 'scratch', region: 'us-east-1', dbIdentifier: 'botdr-use1-pg-scratch', dbEndpoint: 'botdr-use1-pg-scratch.xyz.us-east-1.rds.amazonaws.com:5432', dbSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-scratch-AbC' },
});

function setup() {
  const world = new FakeWorld(scratchProgram);
  const src = world.add(SRC, { 'bot-platform-dr:namePrefix': 'acme' });
  src.outs = { region: 'us-east-1', peerRegion: 'us-west-2', dbIdentifier: 'botdr-use1-pg', bucketName: 'botdr-use1-backups' };
  const bucket = new MemoryStore('s3://botdr-use1-backups');
  return { world, bucket };
}
const passing = async (target: ScratchTarget) => [
  { name: 'database connection and query', ok: true, detail: `SELECT 1 against ${target.dbEndpoint}`, durationMs: 5 },
  { name: 'schema and rows vs latest manifest', ok: true, detail: '12 table(s) present', durationMs: 40 },
];

describe('dr drill --stack scratch (fake workspace)', () => {
  it('creates the scratch stack, restores (timed), verifies the restored endpoint, destroys, stores the report', async () => {
    const { world, bucket } = setup();
    const seen: ScratchTarget[] = [];
    const r = await scratchDrill({ driver: world, sourceStack: SRC, restore: { from: 'latest-snapshot' }, verify: async (tg) => (seen.push(tg), passing(tg)), reportStore: () => bucket, clock });
    assert.equal(r.ok, true, r.error);
    assert.match(r.scratch_stack, /^acme\/bot-platform-dr\/scratch-\d{8}-\d{6}$/);
    const order = world.calls.filter((c) => /^(select-or-create|up|destroy|remove) /.test(c)).map((c) => c.split(' ')[0]);
    assert.deepEqual(order, ['select-or-create', 'up', 'destroy', 'remove']);
    const scratchCfg = world.calls.filter((c) => c.startsWith('config-set')).map((c) => c.split(' ')[1]);
    assert.deepEqual(scratchCfg, ['aws:region=us-east-1', 'bot-platform-dr:role=scratch', 'bot-platform-dr:peerRegion=us-west-2', 'bot-platform-dr:namePrefix=acme', 'bot-platform-dr:scratch.restoreFrom=latest-snapshot', 'bot-platform-dr:scratch.sourceDbIdentifier=botdr-use1-pg']);
    assert.equal(seen[0].dbEndpoint, 'botdr-use1-pg-scratch.xyz.us-east-1.rds.amazonaws.com:5432');
    assert.equal(seen[0].sourceBucket, 'botdr-use1-backups');
    assert.equal(r.restore_seconds, 60, 'the fake clock advances one minute per reading around the up');
    assert.equal(r.destroyed, true);
    assert.equal(world.stacks.has(r.scratch_stack), false, 'stack removed');
    const stored = JSON.parse(bucket.text(`drills/${r.id}/report.json`));
    assert.equal(stored.ok, true);
    assert.equal(stored.verify.passed, 2);
    assert.equal(r.report_key, `s3://botdr-use1-backups/drills/${r.id}/report.json`);
  });

  it('point in time sets restoreTime', async () => {
    const { world, bucket } = setup();
    await scratchDrill({ driver: world, sourceStack: SRC, restore: parseRestorePoint('2026-06-30T23:00:00+02:00'), verify: passing, reportStore: () => bucket, clock });
    assert.ok(world.calls.includes(`config-set bot-platform-dr:scratch.restoreTime=2026-06-30T21:00:00Z ${[...world.calls].find((c) => c.startsWith('select-or-create'))!.split(' ')[1]}`));
  });

  it('a failed restore still destroys the scratch stack and stores a failing report', async () => {
    const { world, bucket } = setup();
    world.fail.set('up acme/bot-platform-dr/scratch-fixed', new Error('DBSnapshotNotFound: no snapshot of botdr-use1-pg'));
    let verified = false;
    const r = await scratchDrill({ driver: world, sourceStack: SRC, scratchStack: 'acme/bot-platform-dr/scratch-fixed', restore: { from: 'latest-snapshot' }, verify: async () => ((verified = true), []), reportStore: () => bucket, clock });
    assert.equal(r.ok, false);
    assert.match(r.error!, /DBSnapshotNotFound/);
    assert.equal(verified, false);
    assert.equal(r.destroyed, true);
    assert.ok(world.calls.includes('destroy acme/bot-platform-dr/scratch-fixed'));
    assert.equal(JSON.parse(bucket.text(`drills/${r.id}/report.json`)).ok, false);
  });

  it('a failing verification fails the drill but still destroys', async () => {
    const { world, bucket } = setup();
    const r = await scratchDrill({
      driver: world, sourceStack: SRC, restore: { from: 'latest-snapshot' }, reportStore: () => bucket, clock,
      verify: async () => [{ name: 'schema and rows vs latest manifest', ok: false, detail: 'public.messages is missing', durationMs: 3 }],
    });
    assert.equal(r.ok, false);
    assert.equal(r.verify?.failed, 1);
    assert.equal(r.destroyed, true);
  });

  it('a verifier that ran no check is a failure, not a pass', async () => {
    const { world, bucket } = setup();
    const r = await scratchDrill({ driver: world, sourceStack: SRC, restore: { from: 'latest-snapshot' }, verify: async () => [], reportStore: () => bucket, clock });
    assert.equal(r.ok, false);
    assert.match(r.error!, /no check/);
  });

  it('a failing destroy is reported with the manual cleanup command', async () => {
    const { world, bucket } = setup();
    world.fail.set('destroy acme/bot-platform-dr/scratch-x', new Error('DependencyViolation'));
    const r = await scratchDrill({ driver: world, sourceStack: SRC, scratchStack: 'acme/bot-platform-dr/scratch-x', restore: { from: 'latest-snapshot' }, verify: passing, reportStore: () => bucket, clock });
    assert.equal(r.ok, false);
    assert.equal(r.destroyed, false);
    assert.match(r.destroy_error!, /pulumi destroy -s acme\/bot-platform-dr\/scratch-x/);
  });

  it('the report carries no secret the verifier saw', async () => {
    const { world, bucket } = setup();
    const password = 'scratch-Pa55word-9f8e';
    registerSecret(password);
    const r = await scratchDrill({
      driver: world, sourceStack: SRC, restore: { from: 'latest-snapshot' }, reportStore: () => bucket, clock,
      verify: async () => {
        throw new Error(`connect failed for postgresql://botadmin:${password}@host:5432/bot`);
      },
    });
    assert.ok(!JSON.stringify(r).includes(password));
    assert.ok(!bucket.text(`drills/${r.id}/report.json`).includes(password));
  });

  it('restore points: latest, pitr-latest, ISO time; anything else is a usage error', () => {
    assert.deepEqual(parseRestorePoint(undefined), { from: 'latest-snapshot' });
    assert.deepEqual(parseRestorePoint('pitr-latest'), { from: 'point-in-time', time: 'latest' });
    assert.throws(() => parseRestorePoint('yesterday'), (e: unknown) => e instanceof UsageError && /--restore-point/.test(e.message));
  });
});
