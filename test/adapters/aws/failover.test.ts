/**
 * The failover engine driven through the AWS adapters: a fake Automation API workspace + aws-sdk-client-mock
 * (see ./world.ts). Asserts the config changes and `up` calls per mode and incident, the concurrent-update bound,
 * resume after a crash at every acting call (each action exactly once), and that no secret value leaks.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OperationError, RefusedError } from '../../../automation/core/errors';
import { registerSecret } from '../../../automation/core/redact';
import { AwsStacks, awsFailoverPorts, buildAwsTopology, probeStacks, retargetChanges, s3LeaseFor, SqlProbe } from '../../../automation/adapters/aws';
import { reconcileTargets } from '../../../lib/reconcile';
import { FailoverResult, Incident, formatPlan, planFailover, runFailover } from '../../../automation/failover';
import { A, B, FakeClock, FakeDriver, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS, SECRET_TOKEN, World } from '../../helpers/aws-world';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';
const built = () => buildAwsTopology({ primary: { name: P, outputs: PRIMARY_OUTPUTS }, secondary: { name: S, outputs: SECONDARY_OUTPUTS } });

describe('aws failover: engine + AWS adapters (fake workspace, mocked AWS)', () => {
  let w: World;
  let driver: FakeDriver;
  let clock: FakeClock;
  let dir: string;
  let log: string[];
  beforeEach(async () => {
    w = new World();
    driver = new FakeDriver(w);
    clock = new FakeClock();
    log = [];
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dr-awsfo-'));
  });
  afterEach(async () => {
    w.restore();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const ports = (extra: { sql?: SqlProbe } = {}) =>
    awsFailoverPorts({
      topology: built().aws,
      survivor: B,
      journalDir: path.join(dir, 'journal'),
      driver,
      clients: w.clients(), bots: w.botsOptions(),
      clock,
      failoverId: 'fo-test',
      backupRetentionDays: 14,
      waits: { timeoutMs: 120_000, pollMs: 5_000 },
      retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 200 },
      stackRetry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 2_000 },
      log: (l) => log.push(l),
      ...extra,
    });
  const run = (mode: 'planned' | 'unplanned', incident: Incident, extra: { sql?: SqlProbe } = {}) =>
    runFailover({ ports: ports(extra), topology: built().topology, mode, incident, from: A, to: B, confirm: true, id: 'fo-test', log: (l) => log.push(l) });
  const config = (stack: string) => driver.stacks[stack].config;
  const ups = () => driver.calls.filter((c) => c.startsWith('up '));

  describe('stacks: config changes and up calls', () => {
    it('datacenter/database: survivor promoted=true with one apply (the promotion happened directly); lost region recorded as secondary, never up-ed', () => {
      for (const incident of ['datacenter', 'database'] as const) {
        assert.deepEqual(retargetChanges({ id: 'x', incident, survivor: B, lost: A }, { [A]: P, [B]: S }, { [A]: 'primary', [B]: 'secondary' }), [
          { stack: S, region: B, set: { 'bot-platform-dr:database.promoted': 'true' }, apply: true, applies: 1 },
          { stack: P, region: A, set: { 'bot-platform-dr:role': 'secondary', 'bot-platform-dr:database.promoted': 'false' }, apply: false, applies: 0 },
        ]);
      }
      assert.deepEqual(retargetChanges({ id: 'x', incident: 'cache', survivor: B, lost: A }, { [A]: P, [B]: S }, {}), []);
    });

    /** What promote-database leaves behind: RDS promoted the replica directly and set the retention. */
    const promotedDirectly = () => Object.assign(w.db[B], { replicaOf: undefined, retention: 14 });

    it('retarget after the direct promotion: one targeted up with refresh, never the job image; check-then-act on the update history, a rerun applies nothing', async () => {
      promotedDirectly();
      const st = new AwsStacks({ driver, stacks: { [A]: P, [B]: S }, roles: { [A]: 'primary', [B]: 'secondary' }, clock });
      const change = { id: 'fo-1', incident: 'datacenter' as const, survivor: B, lost: A };
      assert.equal(await st.isRetargeted(change), false);
      await st.retarget(change, { log: (l) => log.push(l) });
      assert.deepEqual(ups(), [`up ${S} dr failover fo-1: ${B} serves (datacenter), ${A} lost`]);
      // Without the refresh the provider would call PromoteReadReplica on an instance that is no longer a replica.
      assert.deepEqual(driver.upOptions, [{ refresh: true, target: reconcileTargets() }]);
      assert.ok(reconcileTargets().includes('**aws:rds/instance:Instance::**'));
      assert.ok(!reconcileTargets().some((t) => t.includes('docker')), 'never the job image');
      assert.equal(config(S)['bot-platform-dr:database.promoted'], 'true');
      assert.equal(config(P)['bot-platform-dr:role'], 'secondary');
      assert.equal(config(P)['bot-platform-dr:database.promoted'], 'false');
      assert.ok(!driver.calls.some((c) => c.startsWith(`up ${P}`)), 'the lost stack is never updated during a failover');
      assert.equal(w.acts['stack:promote'], undefined);
      assert.equal(w.acts['stack:retention'], undefined);
      assert.ok(log.some((l) => l.startsWith(`[${S} up] ~ aws:rds:Instance`)), 'up output streamed into the step log');
      // Issue 10: no hand-over. A survivor without a bot list is told to declare it (the non-secret list only, never a
      // token); dr copies nothing itself.
      const handOver = log.find((l) => l.startsWith('bot tokens:'));
      assert.ok(handOver, log.join('\n'));
      assert.ok(handOver.includes(`WARNING ${S} declares no bots`) && handOver.includes(`pulumi config cp bots -s ${P} -d ${S}`) && handOver.includes('no token value is needed'), handOver);
      assert.ok(!handOver.includes('botTokens -s'), 'no token is copied between stacks');
      assert.ok(!('bot-platform-dr:bots' in config(S)), 'dr copies no config during the incident');
      assert.equal(await st.isRetargeted(change), true);
      await st.retarget(change);
      assert.equal(ups().length, 1);
    });

    it('a survivor that declares the bots needs no hand-over: its promotion apply adopts the secrets', async () => {
      const st = new AwsStacks({ driver, stacks: { [A]: P, [B]: S }, roles: { [A]: 'primary', [B]: 'secondary' }, clock });
      config(S)['bot-platform-dr:bots'] = '{"community":{"platform":"telegram"},"moderation":{"platform":"discord"}}';
      await st.retarget({ id: 'fo-2', incident: 'datacenter', survivor: B, lost: A }, { log: (l) => log.push(l) });
      const note = log.find((l) => l.startsWith('bot tokens:'))!;
      assert.match(note, new RegExp(`no hand-over needed: ${S} declares the bots, so its promotion apply adopts the bot-token secrets in ${B} by name`));
      assert.ok(!/pulumi config cp/.test(note), note);
      assert.ok(!('bot-platform-dr:botTokens' in config(S)), 'no token reaches the survivor\'s config');
    });

    it('config set but up never finished (crash): the check says not done and the rerun applies', async () => {
      promotedDirectly();
      const st = new AwsStacks({ driver, stacks: { [A]: P, [B]: S }, roles: { [A]: 'primary', [B]: 'secondary' }, clock });
      config(S)['bot-platform-dr:database.promoted'] = 'true';
      config(P)['bot-platform-dr:role'] = 'secondary';
      const change = { id: 'fo-1', incident: 'database' as const, survivor: B, lost: A };
      assert.equal(await st.isRetargeted(change), false);
      await st.retarget(change);
      assert.equal(ups().length, 1);
    });

    it('ConcurrentUpdateError: waits and retries with a bound, never cancels', async () => {
      promotedDirectly();
      const st = new AwsStacks({ driver, stacks: { [A]: P, [B]: S }, roles: { [A]: 'primary', [B]: 'secondary' }, clock, retry: { attempts: 3, baseDelayMs: 10_000, maxDelayMs: 20_000 } });
      driver.busyUps = 2;
      await st.retarget({ id: 'fo-2', incident: 'datacenter', survivor: B, lost: A }, { log: (l) => log.push(l) });
      assert.deepEqual(driver.calls.filter((c) => c.startsWith('up')).map((c) => c.split(' ')[0]), ['up-busy', 'up-busy', 'up']);
      assert.deepEqual(clock.sleeps, [10_000, 20_000]);
      assert.ok(log.some((l) => /another update is running; it is never cancelled/.test(l)));
      driver.busyUps = 10;
      config(S)['bot-platform-dr:database.promoted'] = 'false';
      driver.stacks[S].history = [];
      await assert.rejects(st.retarget({ id: 'fo-3', incident: 'datacenter', survivor: B, lost: A }), (e: unknown) => e instanceof OperationError && /still running after 3 attempts/.test(e.message));
    });
  });

  it('unplanned datacenter failover with us-east-1 down: traffic first (RDS promotes directly), the stacks follow in reconcile', async () => {
    w.down.add(A);
    const r = await run('unplanned', 'datacenter');
    assert.equal(r.outcome, 'completed');
    assert.deepEqual(
      r.steps.map((s) => [s.name, s.status]),
      [
        ['preflight', 'ok'],
        ['fence', 'skipped'],
        ['catch-up', 'skipped'],
        ['promote-database', 'ok'],
        ['promote-cache', 'ok'],
        ['promote-secrets', 'ok'],
        ['switch-dns', 'ok'],
        ['verify', 'ok'],
        ['record', 'ok'],
        ['reconcile', 'ok'],
      ],
    );
    assert.deepEqual(r.estimated_data_loss && [r.estimated_data_loss.lag_seconds, r.estimated_data_loss.observed_at], [4, '2026-11-22T09:59:00.000Z']);
    // The lost region's database and its copies of the bot secrets wait for the split-brain guard.
    assert.deepEqual(r.pending_fences, [{ region: A, tiers: ['database', 'bots'] }]);
    // One consumer per token: the survivor's promoted copies say active_region=B (one PutSecretValue each), A's are stale.
    assert.deepEqual([w.botRecord('community', B).active_region, w.botRecord('moderation', B).active_region], [B, B]);
    assert.deepEqual([w.botRecord('community', A).active_region, w.botRecord('moderation', A).active_region], [A, A]);
    assert.equal(Object.keys(w.acts).filter((k) => k.startsWith(`PutSecretValue:arn:aws:secretsmanager:${B}:`)).length, 2);
    assert.match(r.steps.find((x) => x.name === 'verify')!.detail ?? '', /community: active_region=us-west-2, token 0 healthy, updates by polling; moderation: active_region=us-west-2, token 0 healthy, updates by gateway/);
    // Promotion straight through RDS (no Pulumi backend on the critical path), retention set, then one reconcile up
    // that only records it, and the Multi-AZ conversion started.
    assert.equal(w.acts.PromoteReadReplica, 1);
    assert.equal(w.acts.ModifyDBInstance, undefined, 'no retention change before traffic moved');
    assert.equal(w.acts['ModifyDBInstance:MultiAZ'], 1, 'one online modification after: Multi-AZ + backup retention');
    assert.equal(w.db[B].retention, 14);
    assert.equal(w.acts['stack:promote'], undefined);
    assert.equal(w.acts['stack:retention'], undefined);
    assert.equal(ups().length, 1);
    const order = ['promote-database', 'switch-dns', 'verify', 'reconcile'].map((n) => r.steps.findIndex((x) => x.name === n));
    assert.deepEqual([...order].sort((a, b) => a - b), order, 'DNS and verify before the stacks');
    assert.match(r.steps.find((x) => x.name === 'reconcile')!.detail ?? '', /Multi-AZ conversion and backup retention 0 → 14 days started.*stacks re-targeted/);
    assert.equal(w.acts.DisassociateGlobalReplicationGroup, 1);
    // Two bot-token secrets, the cache auth token and the DB credentials.
    assert.deepEqual(Object.keys(w.acts).filter((k) => k.startsWith('StopReplicationToReplica:')).length, 4);
    assert.equal(w.acts[`StopReplicationToReplica:${SECONDARY_OUTPUTS.dbSecretArn}`], 1);
    assert.equal(w.acts.ChangeResourceRecordSets, 1);
    assert.equal(config(P)['bot-platform-dr:role'], 'secondary');
    for (const n of r.notifications) {
      assert.deepEqual(n.delivered, [SECONDARY_OUTPUTS.topicArn]);
      assert.equal(n.failed[0].target, PRIMARY_OUTPUTS.topicArn);
    }
    assert.ok(r.journal.startsWith(`s3://${SECONDARY_OUTPUTS.bucketName}/failover/journal/`));
    assert.ok(w.s3[`${SECONDARY_OUTPUTS.bucketName}/failover/journal/fo-test.json`]);
  });

  it('planned datacenter switchover (SQL reach): fence, catch-up, FailoverGlobalReplicationGroup', async () => {
    const sql: SqlProbe = { query: async (_region, text) => (text.includes('current_wal') || text.includes('replay_lsn') ? [{ lsn: '0/5000000', delay: 0 }] : [{ ok: 1, n: 3 }]) };
    const r = await run('planned', 'datacenter', { sql });
    assert.equal(r.outcome, 'completed');
    assert.equal(w.acts[`fence:${A}`], 1);
    assert.equal(w.db[A].readOnly, '1');
    assert.equal(w.acts.FailoverGlobalReplicationGroup, 1);
    assert.equal(w.acts.DisassociateGlobalReplicationGroup, undefined);
    assert.deepEqual(r.notifications.map((n) => n.failed.length), [0, 0]);
  });

  it('planned with the primary region unreachable is refused (exit 2) and suggests --unplanned', async () => {
    w.down.add(A);
    await assert.rejects(run('planned', 'datacenter'), (e: unknown) => e instanceof RefusedError && e.exitCode === 2 && /--unplanned/.test(e.message));
    assert.equal(ups().length, 0);
  });

  it('cache incident: only the global datastore moves; no stack config change', async () => {
    const r = await run('unplanned', 'cache');
    assert.equal(r.outcome, 'completed');
    assert.equal(w.acts.FailoverGlobalReplicationGroup, 1);
    assert.equal(ups().length, 0);
    assert.equal(w.acts.ChangeResourceRecordSets, undefined);
    assert.ok(log.some((l) => /changes no stack config/.test(l)));
  });

  const crashPoints = ['PromoteReadReplica', 'DisassociateGlobalReplicationGroup', 'StopReplicationToReplica:', 'ChangeResourceRecordSets', 'ModifyDBInstance:MultiAZ', 'up'];
  for (const point of crashPoints) {
    it(`crash right after ${point}, then rerun: converges with each action once`, async () => {
      w.down.add(A);
      if (point === 'up') driver.crashAfterUp = 1;
      else w.crashAfterAct = point;
      await assert.rejects(run('unplanned', 'datacenter'), (e: unknown) => (e as Error).name === 'CrashError');
      const r: FailoverResult = await run('unplanned', 'datacenter');
      assert.equal(r.outcome, 'completed');
      assert.equal(w.acts.PromoteReadReplica, 1);
      assert.equal(w.acts.ModifyDBInstance, undefined);
      assert.equal(w.acts['ModifyDBInstance:MultiAZ'], 1);
      assert.equal(w.db[B].retention, 14);
      assert.equal(w.acts['stack:promote'], undefined);
      assert.equal(ups().length, 1);
      assert.equal(w.acts.DisassociateGlobalReplicationGroup, 1);
      for (const k of Object.keys(w.acts).filter((x) => x.startsWith('StopReplicationToReplica:'))) assert.equal(w.acts[k], 1, k);
      assert.equal(w.acts.ChangeResourceRecordSets, 1);
    });
  }

  it('Pulumi backend unreachable: traffic moves anyway, reconcile stays pending, the failover stays open, and --resume finishes it once the backend answers', async () => {
    w.down.add(A);
    driver.backendDown = true;
    const reason = await probeStacks(driver, { survivor: S, lost: P });
    assert.match(reason ?? '', /Pulumi backend does not answer for acme\/bot-platform-dr\/secondary .*traffic moves anyway.*--resume.*database.promoted=true/);
    const portsWith = (stacksUnavailable?: string) =>
      awsFailoverPorts({
        topology: built().aws, survivor: B, journalDir: path.join(dir, 'journal'), driver, ...(stacksUnavailable ? { stacksUnavailable } : {}), clients: w.clients(), bots: w.botsOptions(), clock, failoverId: 'fo-dark',
        waits: { timeoutMs: 120_000, pollMs: 5_000 }, retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 200 },
      });
    const r = await runFailover({ ports: portsWith(reason), topology: built().topology, mode: 'unplanned', incident: 'database', from: A, to: B, confirm: true, id: 'fo-dark', log: (l) => log.push(l) });
    assert.equal(r.outcome, 'serving');
    assert.deepEqual(r.steps.filter((s) => s.status !== 'skipped').map((s) => [s.name, s.status]), [
      ['preflight', 'ok'], ['promote-database', 'ok'], ['verify', 'ok'], ['record', 'ok'], ['reconcile', 'pending'],
    ]);
    assert.equal(w.acts.PromoteReadReplica, 1);
    assert.equal(w.acts['ModifyDBInstance:MultiAZ'], 1, 'the survivor is hardened (backups, Multi-AZ) without the backend');
    assert.equal(w.db[B].retention, 14);
    assert.equal(ups().length, 0);
    assert.match(r.steps.find((s) => s.name === 'reconcile')!.detail ?? '', /stacks not re-targeted.*served by us-west-2.*--resume/);
    const journal = (JSON.parse(w.s3[`${SECONDARY_OUTPUTS.bucketName}/failover/journal/fo-dark.json`] ?? '{}') as { entries?: Array<{ kind: string; step?: string; phase?: string }> }).entries ?? [];
    assert.ok(journal.some((e) => e.step === 'reconcile' && e.phase === 'pending'), 'reconcile journaled as pending');
    assert.ok(!journal.some((e) => e.kind === 'end'), 'the journal stays open');
    assert.ok(w.published.some((p) => /PENDING: reconcile/.test(p.message)), 'people are told what is owed');

    // The backend is back: --resume does only what is owed.
    driver.backendDown = false;
    const again = await runFailover({ ports: portsWith(), topology: built().topology, resume: true, id: 'fo-dark', confirm: true, log: (l) => log.push(l) });
    assert.equal(again.outcome, 'completed');
    assert.deepEqual(again.steps.filter((s) => s.status === 'ok').map((s) => s.name), ['verify', 'reconcile'], 'only a fresh verification and what was owed');
    assert.match(again.steps.find((s) => s.name === 'verify')!.detail ?? '', /^verified again/);
    assert.equal(w.acts.PromoteReadReplica, 1);
    assert.equal(w.acts['ModifyDBInstance:MultiAZ'], 1, 'a conversion under way is not requested twice');
    assert.equal(ups().length, 1);
    assert.equal(config(S)['bot-platform-dr:database.promoted'], 'true');
    assert.equal(config(P)['bot-platform-dr:role'], 'secondary');
  });

  describe('one operator at a time: the failover lease in the survivor\'s bucket', () => {
    const ALICE = { user: 'alice', host: 'laptop-a', pid: 4242, command: 'dr failover --unplanned' };
    const BOB = { user: 'bob', host: 'laptop-b', pid: 777, command: 'dr failover --unplanned' };
    const machine = (identity: typeof ALICE, journal: string, breakLock = false) =>
      awsFailoverPorts({
        topology: built().aws, survivor: B, journalDir: path.join(dir, journal), driver, clients: w.clients(), bots: w.botsOptions(), clock,
        waits: { timeoutMs: 120_000, pollMs: 5_000 }, retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 200 }, stackRetry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 2_000 },
        lease: s3LeaseFor(built().aws, B, w.clients(), { identity, clock, breakLock, every: () => () => undefined }),
      });
    const lockKey = `${SECONDARY_OUTPUTS.bucketName}/failover/lock`;

    it('two engines on two machines racing on one bucket: exactly one acts, the other is refused (exit 2) naming the holder', async () => {
      w.down.add(A);
      const go = (ports: ReturnType<typeof machine>, id: string) => runFailover({ ports, topology: built().topology, mode: 'unplanned', incident: 'datacenter', from: A, to: B, confirm: true, id });
      const [a, b] = await Promise.allSettled([go(machine(ALICE, 'journal-a'), 'fo-alice'), go(machine(BOB, 'journal-b'), 'fo-bob')]);
      const won = [a, b].filter((r) => r.status === 'fulfilled');
      const lost = [a, b].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 1);
      assert.ok(lost[0].reason instanceof RefusedError && lost[0].reason.exitCode === 2, String(lost[0].reason));
      assert.match(lost[0].reason.message, /failover lease s3:\/\/.*\/failover\/lock is held by (alice@laptop-a|bob@laptop-b)/);
      assert.equal((won[0] as PromiseFulfilledResult<FailoverResult>).value.outcome, 'completed');
      assert.equal(w.acts.PromoteReadReplica, 1);
      assert.equal(w.acts.DisassociateGlobalReplicationGroup, 1);
      assert.equal(w.acts.ChangeResourceRecordSets, 1);
      assert.equal(ups().length, 1);
      assert.equal(Object.keys(w.s3).filter((k) => k.includes('/failover/journal/')).length, 1, 'only the winner journaled');
      assert.equal(w.s3[lockKey], undefined, 'released at the end');
    });

    it('the holder died and its lease expired: refused without --break-lock (no act), taken over with it, and the takeover is journaled', async () => {
      w.down.add(A);
      const dead = { holder: 'bob@laptop-b', host: 'laptop-b', pid: 777, command: 'dr failover --unplanned', failover_id: 'fo-dead', started_at: '2026-11-22T09:40:00.000Z', renewed_at: '2026-11-22T09:50:00.000Z', expires_at: '2026-11-22T09:55:00.000Z', token: 'bobs' };
      w.objects.put(lockKey, JSON.stringify(dead), {});
      const go = (breakLock: boolean) => runFailover({ ports: machine(ALICE, 'journal-a', breakLock), topology: built().topology, mode: 'unplanned', incident: 'datacenter', from: A, to: B, confirm: true, id: 'fo-alice' });
      await assert.rejects(go(false), (e: unknown) => e instanceof RefusedError && e.exitCode === 2 && /bob@laptop-b .*expired at 2026-11-22T09:55:00.000Z.*--break-lock/.test(e.message));
      assert.deepEqual(Object.keys(w.acts), []);
      const r = await go(true);
      assert.equal(r.outcome, 'completed');
      const journal = (JSON.parse(w.s3[`${SECONDARY_OUTPUTS.bucketName}/failover/journal/fo-alice.json`]) as { entries: Array<{ kind: string; took_over?: string }> }).entries;
      const note = journal.find((e) => e.kind === 'lease');
      assert.match(note?.took_over ?? '', /broke the expired lease of bob@laptop-b \(pid 777, dr failover --unplanned, failover fo-dead\)/);
    });

    it('a lease broken mid-run stops the old holder before its next step (resumable), and the new holder finishes it', async () => {
      w.down.add(A);
      const mine = machine(ALICE, 'journal-a');
      const realLease = mine.lease!;
      let renewals = 0;
      // Alice's machine freezes before her 5th step, past the lease's expiry; Bob breaks the lease meanwhile.
      const bobsLease = s3LeaseFor(built().aws, B, w.clients(), { identity: BOB, clock, breakLock: true, every: () => () => undefined });
      mine.lease = {
        acquire: (id, o) => realLease.acquire(id, o),
        release: (o) => realLease.release(o),
        renew: async (o) => {
          if (++renewals === 5) {
            clock.t += 10 * 60_000;
            await bobsLease.acquire('fo-shared');
          }
          return realLease.renew(o);
        },
      };
      await assert.rejects(
        runFailover({ ports: mine, topology: built().topology, mode: 'unplanned', incident: 'datacenter', from: A, to: B, confirm: true, id: 'fo-shared' }),
        (e: unknown) => e instanceof OperationError && /stopped before promote-cache: the failover lease .* was taken over by bob@laptop-b/.test(e.message),
      );
      assert.equal(w.acts.PromoteReadReplica, 1);
      assert.equal(w.acts.ChangeResourceRecordSets, undefined, 'alice stopped before switching DNS');
      // Bob (same shared journal copy here) resumes under the lease he holds: re-entrant, and finishes once.
      const bobsPorts = machine(BOB, 'journal-a');
      bobsPorts.lease = bobsLease;
      const r = await runFailover({ ports: bobsPorts, topology: built().topology, resume: true, confirm: true });
      assert.equal(r.outcome, 'completed');
      assert.equal(w.acts.PromoteReadReplica, 1);
      assert.equal(w.acts.ChangeResourceRecordSets, 1);
      await bobsLease.release();
      assert.equal(w.s3[lockKey], undefined);
    });
  });

  it('no secret value in any log line, plan, result, journal or notification', async () => {
    registerSecret(SECRET_TOKEN);
    driver.upOutput = [`Updating with token=${SECRET_TOKEN}`, `raw ${SECRET_TOKEN} in provider output`];
    w.down.add(A);
    const r = await run('unplanned', 'datacenter');
    const plan = planFailover({ mode: 'unplanned', incident: 'datacenter', from: A, to: B, topology: built().topology });
    const everything = [JSON.stringify(r), formatPlan(plan), ...log, ...Object.values(w.s3), ...w.published.map((p) => p.subject + p.message), JSON.stringify(built())].join('\n');
    assert.ok(log.some((l) => l.includes('Updating with token=***')), 'up output reached the log, redacted');
    assert.ok(!everything.includes(SECRET_TOKEN));
    const journalFiles = await fs.readdir(path.join(dir, 'journal'));
    for (const f of journalFiles) assert.ok(!(await fs.readFile(path.join(dir, 'journal', f), 'utf8')).includes(SECRET_TOKEN));
  });
});
