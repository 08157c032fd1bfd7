import assert from 'node:assert/strict';
import { UsageError } from '../../../automation/core/errors';
import { buildAwsTopology, defaultDirection, plainOutputs } from '../../../automation/adapters/aws/topology';
import { planFailover, planToJson } from '../../../automation/failover';
import { A, B, PRIMARY_OUTPUTS, SECONDARY_OUTPUTS, SECRET_TOKEN } from '../../helpers/aws-world';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';

describe('aws topology from stack outputs', () => {
  it('maps both stacks to the engine topology with real identifiers', () => {
    const { topology, aws } = buildAwsTopology({ primary: { name: P, outputs: PRIMARY_OUTPUTS }, secondary: { name: S, outputs: SECONDARY_OUTPUTS } });
    assert.deepEqual(topology.regions.map((r) => [r.name, r.stack, r.database, r.cache]), [
      [A, P, 'botdr-use1-db', 'botdr-use1-cache'],
      [B, S, 'botdr-usw2-db', 'botdr-usw2-cache'],
    ]);
    assert.deepEqual(topology.dns, { zone: 'Z0123456789ABCDEFGHIJ', records: [{ name: 'bot.example.com', service: 'platform' }] });
    assert.equal(topology.cacheGlobalId, 'ldgnf-botdr-global');
    // Replicas in B of what A owns (bot tokens + cache auth + DB credentials), same name and suffix, region B.
    assert.deepEqual(topology.regions[1].secrets, [
      'arn:aws:secretsmanager:us-west-2:123456789012:secret:botdr/bot-tokens/community-Zx98Yv',
      'arn:aws:secretsmanager:us-west-2:123456789012:secret:botdr/bot-tokens/moderation-Lk76Jh',
      'arn:aws:secretsmanager:us-west-2:123456789012:secret:botdr/cache-auth-Qw12Er',
      'arn:aws:secretsmanager:us-west-2:123456789012:secret:botdr/db/master-Mn34Op',
    ]);
    // B owns nothing that is replicated to A (its cache auth and DB secret ARNs are A's replicas, not its own).
    assert.deepEqual(topology.regions[0].secrets, []);
    assert.equal(aws.regions[0].topicArn, PRIMARY_OUTPUTS.topicArn);
    // The bot → secret map as output (dr tokens maps it to the region it uses); the unadopted secondary outputs {}.
    assert.deepEqual(aws.regions[0].botTokenSecrets, PRIMARY_OUTPUTS.botTokenSecretArns);
    assert.deepEqual(aws.regions[1].botTokenSecrets, {});
    assert.deepEqual(defaultDirection(aws), { from: A, to: B });
    const plan = planToJson(planFailover({ mode: 'unplanned', incident: 'datacenter', from: A, to: B, topology }));
    const text = JSON.stringify(plan);
    for (const id of ['botdr-usw2-db', 'ldgnf-botdr-global', 'Z0123456789ABCDEFGHIJ', 'bot.example.com', S, 'botdr/bot-tokens/community-Zx98Yv']) assert.ok(text.includes(id), id);
  });

  it('the DB secret is promoted in the survivor; a legacy RDS-managed secret (rds!db-…, not replicable) is not', () => {
    const both = (p: Record<string, unknown>, s: Record<string, unknown>) => buildAwsTopology({ primary: { name: P, outputs: p }, secondary: { name: S, outputs: s } }).topology.regions.map((r) => r.secrets ?? []);
    assert.ok(both(PRIMARY_OUTPUTS, SECONDARY_OUTPUTS)[1].includes(SECONDARY_OUTPUTS.dbSecretArn));
    // A secondary that does not output it yet: still its replica (same name, the survivor's region).
    const { dbSecretArn: _d, ...noDb } = SECONDARY_OUTPUTS;
    void _d;
    assert.ok(both(PRIMARY_OUTPUTS, noDb)[1].includes(SECONDARY_OUTPUTS.dbSecretArn));
    const legacy = { ...PRIMARY_OUTPUTS, dbSecretArn: `arn:aws:secretsmanager:${A}:123456789012:secret:rds!db-1111-AbCdEf` };
    assert.ok(!both(legacy, noDb)[1].some((s) => s.includes('rds!')));
    // After a failover both stacks say secondary: the stack named primary is the owner.
    const after = both({ ...PRIMARY_OUTPUTS, role: 'secondary' }, SECONDARY_OUTPUTS);
    assert.ok(after[1].includes(SECONDARY_OUTPUTS.dbSecretArn));
    assert.ok(!after[0].includes(PRIMARY_OUTPUTS.dbSecretArn));
  });

  it('accepts the Automation API {value, secret} shape and drops secret outputs', () => {
    const wrapped: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(SECONDARY_OUTPUTS)) wrapped[k] = { value: v, secret: false };
    wrapped.leaked = { value: SECRET_TOKEN, secret: true };
    const plain = plainOutputs(wrapped);
    assert.equal(plain.dbIdentifier, 'botdr-usw2-db');
    assert.ok(!('leaked' in plain));
    assert.ok(!('x' in plainOutputs({ x: '[secret]' })));
    const built = buildAwsTopology({ primary: { name: P, outputs: PRIMARY_OUTPUTS }, secondary: { name: S, outputs: wrapped } });
    assert.ok(!JSON.stringify(built).includes(SECRET_TOKEN));
  });

  it('missing outputs: one UsageError naming each stack and output', () => {
    const { dbArn: _a, bucketName: _b, ...broken } = SECONDARY_OUTPUTS;
    void _a;
    void _b;
    assert.throws(
      () => buildAwsTopology({ primary: { name: P, outputs: PRIMARY_OUTPUTS }, secondary: { name: S, outputs: broken } }),
      (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /stack acme\/bot-platform-dr\/secondary: output 'dbArn' is missing/.test(e.message) && /output 'bucketName' is missing/.test(e.message),
    );
  });

  it('the same region on both stacks is a UsageError', () => {
    const same = { ...SECONDARY_OUTPUTS, region: A, dbArn: `arn:aws:rds:${A}:123456789012:db:botdr-usw2-db` };
    assert.throws(() => buildAwsTopology({ primary: { name: P, outputs: PRIMARY_OUTPUTS }, secondary: { name: S, outputs: same } }), (e: unknown) => e instanceof UsageError && /both in region us-east-1/.test(e.message));
  });

  it('rejects a scratch stack, mismatched DNS, a DB ARN in another region, and half DNS', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...SECONDARY_OUTPUTS, role: 'scratch' }, /output 'role' is "scratch"/],
      [{ ...SECONDARY_OUTPUTS, recordName: 'other.example.com' }, /different failover records/],
      [{ ...SECONDARY_OUTPUTS, hostedZoneId: 'ZOTHER' }, /different hosted zones/],
      [{ ...SECONDARY_OUTPUTS, dbArn: PRIMARY_OUTPUTS.dbArn.replace('botdr-use1', 'x') }, /'dbArn' is in us-east-1, but the stack's region is us-west-2/],
      [{ ...SECONDARY_OUTPUTS, healthCheckId: undefined }, /output 'healthCheckId' is missing/],
      [{ ...SECONDARY_OUTPUTS, globalDatastoreId: 'ldgnf-other' }, /different global datastores/],
    ];
    for (const [outs, re] of cases) {
      assert.throws(() => buildAwsTopology({ primary: { name: P, outputs: PRIMARY_OUTPUTS }, secondary: { name: S, outputs: outs } }), (e: unknown) => e instanceof UsageError && re.test(e.message), String(re));
    }
    assert.throws(() => buildAwsTopology({ primary: { name: P, outputs: PRIMARY_OUTPUTS }, secondary: { name: P, outputs: SECONDARY_OUTPUTS } }), /same stack/);
  });
});
