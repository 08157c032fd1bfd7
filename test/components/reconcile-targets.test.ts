/**
 * The reconcile step's targeted `up` (lib/reconcile.ts) covers everything a promotion changes: the program run as a
 * secondary and as the same secondary with `database.promoted = true` — and, after an unplanned failover whose cache
 * left the global datastore, also `cache.detached` with the next `cache.globalDatastoreGeneration` — compared resource
 * by resource (added, removed, or with inputs the provider would plan a change for: test/helpers/provider-schema.ts).
 * A change to a type outside RECONCILE_TARGET_TYPES fails here, before a real failover would leave it behind; the job
 * image and the serving replication group are never among the changes.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { RECONCILE_NEVER_TYPES, RECONCILE_TARGET_TYPES, reconcileTargets } from '../../lib/reconcile';
import { loadStackFile, type RecordedResource } from '../helpers/pulumi';
import { inputChanges } from '../helpers/provider-schema';
import { P, ROOT, runStack } from '../helpers/stacks';

const key = (r: RecordedResource) => `${r.type}::${r.name}`;
const RG = 'aws:elasticache/replicationGroup:ReplicationGroup';
const GLOBAL = 'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup';

/** What the failover's reconcile sets on the survivor, by how the failover went. */
const fileDb = () => loadStackFile(path.join(ROOT, 'Pulumi.secondary.yaml')).config[`${P}:database`] as Record<string, unknown>;
const fileCache = () => loadStackFile(path.join(ROOT, 'Pulumi.secondary.yaml')).config[`${P}:cache`] as Record<string, unknown>;
const VARIANTS: Record<string, () => Record<string, unknown>> = {
  'the cache failed over (FailoverGlobalReplicationGroup)': () => ({ [`${P}:database`]: { ...fileDb(), promoted: true } }),
  'the cache left the datastore (DisassociateGlobalReplicationGroup)': () => ({
    [`${P}:database`]: { ...fileDb(), promoted: true },
    [`${P}:cache`]: { ...fileCache(), detached: true, globalDatastoreGeneration: 2 },
  }),
};

async function promotionChanges(after: Record<string, unknown>): Promise<Map<string, string>> {
  const before = await runStack('secondary');
  const now = await runStack('secondary', after);
  const was = new Map(before.resources.map((r) => [key(r), r]));
  const is = new Map(now.resources.map((r) => [key(r), r]));
  const changes = new Map<string, string>();
  for (const [k, r] of is) {
    const old = was.get(k);
    if (!old) changes.set(k, 'added');
    else if (inputChanges(r.type, old.inputs, r.inputs).length) changes.set(k, `changed (${inputChanges(r.type, old.inputs, r.inputs).join(', ')})`);
  }
  for (const k of was.keys()) if (!is.has(k)) changes.set(k, 'removed');
  return changes;
}

describe('reconcile targets (lib/reconcile.ts) cover what a promotion changes', () => {
  const seen = new Set<string>();
  for (const [variant, after] of Object.entries(VARIANTS)) {
    it(`${variant}: every added, removed or changed resource is of a targeted type; the job image and the serving group never change`, async () => {
      const changes = await promotionChanges(after());
      const types = new Set([...changes.keys()].map((k) => k.split('::')[0]));
      for (const t of types) seen.add(t);
      for (const t of types) assert.ok((RECONCILE_TARGET_TYPES as readonly string[]).includes(t), `a promotion changes ${t} (${[...changes].filter(([k]) => k.startsWith(t)).map(([k, v]) => `${k.split('::')[1]} ${v}`).join(', ')}), which the reconcile up does not target`);
      for (const never of RECONCILE_NEVER_TYPES) assert.ok(!types.has(never), `${never} must not change with a promotion`);
      assert.ok(!types.has(RG), `the serving replication group must not change: ${[...changes].filter(([k]) => k.startsWith(RG)).map(([, v]) => v).join('; ')}`);
      assert.equal(changes.get('aws:rds/instance:Instance::bot-dr-db-instance')?.startsWith('changed'), true);
      assert.equal(changes.get('aws:cloudwatch/metricAlarm:MetricAlarm::bot-dr-alerts-replica-lag'), 'removed');
      assert.equal(changes.get(`${GLOBAL}::bot-dr-cache-global`), variant.includes('left') ? 'added' : undefined);
    });
  }

  it('the list is not padded: each targeted type really changes in one of those promotions', () => {
    assert.ok(seen.size > 0, 'the promotions above ran first');
    for (const t of RECONCILE_TARGET_TYPES) assert.ok(seen.has(t), `${t} is targeted but no promotion changes it`);
  });

  it('the patterns match any parent chain and name of those types', () => {
    const re = (glob: string) => new RegExp(`^${glob.split('**').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const urn = 'urn:pulumi:secondary::bot-platform-dr::bot-dr:regional:RegionalDr$bot-dr:database:Database$aws:rds/instance:Instance::bot-dr-db-instance';
    assert.ok(reconcileTargets().some((g) => re(g).test(urn)));
    const image = 'urn:pulumi:secondary::bot-platform-dr::bot-dr:regional:RegionalDr$bot-dr:backup:BackupJobs$docker:index/image:Image::bot-dr-backup-jobs-image';
    assert.ok(!reconcileTargets().some((g) => re(g).test(image)));
  });
});
