/**
 * The policy pack over the program: every resource the program declares under mocks, for each role (primary,
 * secondary, a secondary promoted by a failover, scratch), fed to every policy as the engine would (inputs to the
 * resource policies, outputs to the stack policies, linked by parent and per-property dependencies) — zero mandatory
 * violations; the advisory ones expected, with their reasons. The same on a simulated first preview of a fresh stack
 * (every value computed from a resource not created yet unknown). And the findings the pack made in the program
 * while it was built, reproduced by taking their fix away.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DR_POLICIES } from '../../policy/policies';
import { loadStackFile } from '../helpers/pulumi';
import { P, ROOT, RoleRun, runStack } from '../helpers/stacks';
import { fromRun, listViolations, runPack, Violation } from './harness';

/**
 * What Secrets Manager returns for a promoted bot-token replica in us-west-2 (the mock's default has no key): the
 * primary stack created the replica under its replica key in that region (components/bot-tokens.ts).
 */
const REPLICA_KEY = 'arn:aws:kms:us-west-2:123456789012:key/mock-bot-dr-keys-replicas';
const promotedReplica = (inputs: { name: string }, region: string) => ({
  id: inputs.name,
  arn: `arn:aws:secretsmanager:${region}:123456789012:secret:${inputs.name}-AbCdEf`,
  name: inputs.name,
  description: `Telegram/Discord tokens of bot ${inputs.name.split('/').pop()}: {"active": <index>, "tokens": [...]}`,
  kmsKeyId: REPLICA_KEY,
  tags: {},
  policy: '',
});

const fileDb = () => loadStackFile(path.join(ROOT, 'Pulumi.secondary.yaml')).config[`${P}:database`] as Record<string, unknown>;
const ROLES: Record<string, () => Promise<RoleRun>> = {
  primary: () => runStack('primary'),
  secondary: () => runStack('secondary'),
  'promoted secondary': () => runStack('secondary', { [`${P}:database`]: { ...fileDb(), promoted: true } }, { calls: { 'aws:secretsmanager/getSecret:getSecret': promotedReplica } }),
  scratch: () => runStack('scratch'),
};

/** The advisory violations each role is expected to have, and why they are accepted. */
const EXPECTED_ADVISORY: Record<string, { policy: string; count: number; reason: string }[]> = {
  primary: [],
  secondary: [],
  // After a failover the survivor's bot-token secrets are the promoted replicas, standalone: the old primary region
  // is gone or fenced. `dr failback` rebuilds the pair; until then the advisory rule says so on every preview.
  'promoted secondary': [{ policy: 'dr-survivor-secrets-standalone', count: 2, reason: 'the adopted bot-token secrets (community, moderation) have no copy outside us-west-2 until the failback' }],
  scratch: [],
};

const mandatory = (v: Violation[]) => v.filter((x) => x.level === 'mandatory');
const advisoryCounts = (v: Violation[]) => {
  const counts = new Map<string, number>();
  for (const x of v.filter((y) => y.level === 'advisory')) counts.set(x.policy, (counts.get(x.policy) ?? 0) + 1);
  return [...counts.entries()].map(([policy, count]) => ({ policy, count })).sort((a, b) => a.policy.localeCompare(b.policy));
};

describe('policy pack over the program (every role, under mocks)', () => {
  const runs = new Map<string, RoleRun>();
  before(async () => {
    for (const [role, run] of Object.entries(ROLES)) runs.set(role, await run());
  });

  for (const role of Object.keys(ROLES)) {
    it(`${role}: zero mandatory violations; the expected advisory ones only`, async () => {
      const run = runs.get(role)!;
      const resources = fromRun(run);
      assert.ok(resources.outputs.length > 40, `${resources.outputs.length} resources`);
      const violations = await runPack(DR_POLICIES, resources);
      assert.deepEqual(mandatory(violations), [], listViolations(mandatory(violations)));
      assert.deepEqual(advisoryCounts(violations), EXPECTED_ADVISORY[role].map(({ policy, count }) => ({ policy, count })), listViolations(violations));
    });

    it(`${role}: on a simulated first preview of a fresh stack, still zero mandatory violations and no policy fails on an unknown value`, async () => {
      const violations = await runPack(DR_POLICIES, fromRun(runs.get(role)!, { freshPreview: true }));
      assert.deepEqual(mandatory(violations), [], listViolations(violations));
      assert.deepEqual(advisoryCounts(violations), EXPECTED_ADVISORY[role].map(({ policy, count }) => ({ policy, count })));
    });
  }

  it('the role the pack reads from each stack is the role it was run as', async () => {
    const { inferRole } = await import('../../policy/rules/model');
    const roles = Object.fromEntries([...runs.entries()].map(([role, run]) => [role, inferRole(fromRun(run).outputs)]));
    assert.deepEqual(roles, { primary: 'primary', secondary: 'secondary', 'promoted secondary': 'promoted', scratch: 'scratch' });
  });
});

describe('policy pack over the program: what it finds when a guardrail is broken', () => {
  const without = (run: RoleRun, componentType: string) => {
    // Drop a component and everything under it, as if the program did not declare it.
    const drop = new Set(run.resources.filter((r) => r.type === componentType).map((r) => r.urn));
    let grew = true;
    while (grew) {
      grew = false;
      for (const r of run.resources) if (r.parentUrn && drop.has(r.parentUrn) && !drop.has(r.urn)) (drop.add(r.urn), (grew = true));
    }
    return { ...run, resources: run.resources.filter((r) => !drop.has(r.urn)) };
  };

  it('finding 1 (fixed by components/backup-audit.ts): without the backup audit, the backup bucket has no server access logging, no trail of its deletes and no backup-deletes alarm', async () => {
    for (const stack of ['primary', 'secondary'] as const) {
      const violations = mandatory(await runPack(DR_POLICIES, fromRun(without(await runStack(stack), 'bot-dr:backup:BackupAudit'))));
      assert.deepEqual(violations.map((v) => v.policy).sort(), ['dr-alarms-present', 'dr-backup-delete-audit', 's3-bucket-logging'], listViolations(violations));
      assert.match(violations.find((v) => v.policy === 's3-bucket-logging')!.message, /^bot-dr-backups-bucket .*server access logging must be enabled/);
      assert.match(violations.find((v) => v.policy === 'dr-alarms-present')!.message, /missing alarms: backup-deletes\./);
    }
  });

  it('config that weakens a stack is caught: no replication to the peer, no deletion protection (mandatory), single-AZ (advisory)', async () => {
    const primary = await runStack('primary', {
      [`${P}:backup`]: { ...(loadStackFile(path.join(ROOT, 'Pulumi.primary.yaml')).config[`${P}:backup`] as object), replicateToPeer: false },
      [`${P}:database`]: { ...(loadStackFile(path.join(ROOT, 'Pulumi.primary.yaml')).config[`${P}:database`] as object), deletionProtection: false, multiAz: false },
    });
    const violations = await runPack(DR_POLICIES, fromRun(primary));
    assert.deepEqual(mandatory(violations).map((v) => v.policy).sort(), ['rds-deletion-protection', 's3-backup-replication'], listViolations(violations));
    assert.deepEqual(advisoryCounts(violations), [{ policy: 'rds-multi-az', count: 1 }]);
  });
});
