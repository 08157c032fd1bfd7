/**
 * The reconcile step's targeted `up` (lib/reconcile.ts) covers everything a promotion changes: the program run as a
 * secondary and as the same secondary with `database.promoted = true`, compared resource by resource (added,
 * removed, or with other inputs). A change to a type outside RECONCILE_TARGET_TYPES fails here, before a real
 * failover would leave it behind; the job image is never among the changes.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { RECONCILE_NEVER_TYPES, RECONCILE_TARGET_TYPES, reconcileTargets } from '../../lib/reconcile';
import { loadStackFile, type RecordedResource } from '../helpers/pulumi';
import { P, ROOT, runStack } from '../helpers/stacks';

const key = (r: RecordedResource) => `${r.type}::${r.name}`;

async function promotionChanges(extra: Record<string, unknown> = {}): Promise<Map<string, string>> {
  const fileDb = loadStackFile(path.join(ROOT, 'Pulumi.secondary.yaml')).config[`${P}:database`] as Record<string, unknown>;
  const before = await runStack('secondary', extra);
  const after = await runStack('secondary', { ...extra, [`${P}:database`]: { ...fileDb, promoted: true } });
  const was = new Map(before.resources.map((r) => [key(r), r]));
  const is = new Map(after.resources.map((r) => [key(r), r]));
  const changes = new Map<string, string>();
  for (const [k, r] of is) {
    const old = was.get(k);
    if (!old) changes.set(k, 'added');
    else if (JSON.stringify(old.inputs) !== JSON.stringify(r.inputs)) changes.set(k, 'changed');
  }
  for (const k of was.keys()) if (!is.has(k)) changes.set(k, 'removed');
  return changes;
}

describe('reconcile targets (lib/reconcile.ts) cover what a promotion changes', () => {
  it('every added, removed or changed resource of a promoted secondary is of a targeted type; the job image never changes', async () => {
    const changes = await promotionChanges();
    const types = new Set([...changes.keys()].map((k) => k.split('::')[0]));
    for (const t of types) assert.ok((RECONCILE_TARGET_TYPES as readonly string[]).includes(t), `a promotion changes ${t} (${[...changes].filter(([k]) => k.startsWith(t)).map(([k, v]) => `${k.split('::')[1]} ${v}`).join(', ')}), which the reconcile up does not target`);
    for (const never of RECONCILE_NEVER_TYPES) assert.ok(!types.has(never), `${never} must not change with a promotion`);
    // The list is not padded: each targeted type really changes (or is the component holding what does).
    for (const t of RECONCILE_TARGET_TYPES) assert.ok(types.has(t), `${t} is targeted but no promotion changes it`);
    assert.equal(changes.get('aws:rds/instance:Instance::bot-dr-db-instance'), 'changed');
    assert.equal(changes.get('aws:cloudwatch/metricAlarm:MetricAlarm::bot-dr-alerts-replica-lag'), 'removed');
  });

  it('the patterns match any parent chain and name of those types', () => {
    const re = (glob: string) => new RegExp(`^${glob.split('**').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const urn = 'urn:pulumi:secondary::bot-platform-dr::bot-dr:regional:RegionalDr$bot-dr:database:Database$aws:rds/instance:Instance::bot-dr-db-instance';
    assert.ok(reconcileTargets().some((g) => re(g).test(urn)));
    const image = 'urn:pulumi:secondary::bot-platform-dr::bot-dr:regional:RegionalDr$bot-dr:backup:BackupJobs$docker:index/image:Image::bot-dr-backup-jobs-image';
    assert.ok(!reconcileTargets().some((g) => re(g).test(image)));
  });
});
