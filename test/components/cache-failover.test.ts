/**
 * Issue 12, the cache after an unplanned failover: the programs each stack runs through the config sequence (under
 * mocks). The survivor's group left the global datastore (DisassociateGlobalReplicationGroup); `dr failover`'s reconcile
 * sets `cache.detached` and the next `cache.globalDatastoreGeneration` on it, and records the same generation (and
 * `detached: false`) on the lost stack, which rejoins as a member at failback.
 *
 * What mocks can prove here: the survivor's group keeps its URN and physical id, every input the provider compares is
 * equal or an optional computed input left out (test/helpers/provider-schema.ts, from the provider's schema), no token
 * is generated and no secret is declared over the promoted one, and the new datastore has an unused suffix. What only a
 * real `pulumi preview` proves: that the provider agrees (no diff for the left-out computed input).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadConfig, mapConfigSource } from '../../lib/config';
import { globalDatastoreSuffix } from '../../lib/naming';
import { loadStackFile } from '../helpers/pulumi';
import { inputChanges, REPLICATION_GROUP_SCHEMA } from '../helpers/provider-schema';
import { registration } from '../helpers/registrations';
import { P, PRIMARY_OUTPUTS, ROOT, runStack, SECONDARY_OUTPUTS } from '../helpers/stacks';

const RG = 'aws:elasticache/replicationGroup:ReplicationGroup';
const GLOBAL = 'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup';
const SECRET = 'aws:secretsmanager/secret:Secret';
const stackFile = (stack: 'primary' | 'secondary') => loadStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`)).config;
const fileCache = (stack: 'primary' | 'secondary') => stackFile(stack)[`${P}:cache`] as Record<string, unknown>;
const fileDb = (stack: 'primary' | 'secondary') => stackFile(stack)[`${P}:database`] as Record<string, unknown>;

/** The survivor's config after the reconcile of an unplanned failover whose cache left the datastore. */
const SURVIVOR = () => ({ [`${P}:database`]: { ...fileDb('secondary'), promoted: true }, [`${P}:cache`]: { ...fileCache('secondary'), detached: true, globalDatastoreGeneration: 2 } });
/** The survivor's outputs once that reconcile ran: the datastore it created, its (promoted) auth secret in us-west-2. */
const SURVIVOR_OUTPUTS = { ...SECONDARY_OUTPUTS, globalDatastoreId: `sgaui-${globalDatastoreSuffix('botdr', 2)}` };

describe('the cache across an unplanned failover and its failback (issue 12)', () => {
  it('survivor (detached, generation 2): the same group as the member — URN, id, every compared input — without globalReplicationGroupId, and a new datastore from it', async () => {
    const member = await runStack('secondary', { [`${P}:database`]: { ...fileDb('secondary'), promoted: true } });
    const detached = await runStack('secondary', SURVIVOR());
    const [was, now] = [member.one(RG), detached.one(RG)];
    assert.equal(now.urn, was.urn, 'same URN: Pulumi sees the same resource');
    assert.equal(now.inputs.replicationGroupId, 'botdr-usw2-redis');
    assert.equal(was.inputs.globalReplicationGroupId, PRIMARY_OUTPUTS.globalDatastoreId);
    assert.equal(now.inputs.globalReplicationGroupId, undefined, 'a standalone group: it belongs to no datastore now');
    // The provider compares these: none changes. The one input left out is optional and computed (kept as read).
    assert.deepEqual(inputChanges(RG, was.inputs, now.inputs), []);
    for (const k of REPLICATION_GROUP_SCHEMA.forceNew) {
      if (k in now.inputs) assert.deepEqual(now.inputs[k], was.inputs[k], `${k} forces a replacement: it must not change`);
      else assert.ok(!(k in was.inputs) || REPLICATION_GROUP_SCHEMA.computed.includes(k as never), `${k} left out must be computed`);
    }
    // Nothing the member inherited is set now either (setting engine, encryption or a token would be a change).
    for (const k of ['authToken', 'engine', 'engineVersion', 'nodeType', 'atRestEncryptionEnabled', 'transitEncryptionEnabled', 'transitEncryptionMode', 'parameterGroupName']) {
      assert.equal(now.inputs[k], undefined, `${k} stays inherited`);
    }
    const reg = registration(detached.regs, now.name);
    assert.deepEqual(reg.ignoreChanges, [], 'nothing to ignore: no input differs (ignoring globalReplicationGroupId would feed the old id back to the provider)');
    assert.equal(reg.deleteBeforeReplace, true, 'a fixed id: any replacement would delete first (none is planned)');
    // Its AUTH token is the one it inherited: no generated token, no secret over the promoted replica.
    assert.equal(detached.byType('random:index/randomPassword:RandomPassword').length, 0);
    assert.ok(!detached.byType(SECRET).some((s) => /redis/.test(s.inputs.name)), 'declares no cache auth secret');
    assert.equal(detached.outputs.cacheAuthSecretArn, PRIMARY_OUTPUTS.cacheAuthSecretArn.replace(':us-east-1:', ':us-west-2:'));
    assert.equal(detached.outputs.cacheAuthSecretArn, member.outputs.cacheAuthSecretArn);
    // The next generation's datastore, created from this group, with a suffix the first one never used.
    const g = detached.one(GLOBAL);
    assert.equal(g.region, 'us-west-2');
    assert.equal(g.inputs.globalReplicationGroupIdSuffix, 'botdr-redis-g2');
    assert.notEqual(g.inputs.globalReplicationGroupIdSuffix, globalDatastoreSuffix('botdr'));
    assert.equal(g.inputs.primaryReplicationGroupId, now.state.id);
    const greg = registration(detached.regs, g.name);
    assert.deepEqual(greg.ignoreChanges, ['primaryReplicationGroupId'], 'a later cache failover moves its primary; no up may replace it');
    assert.equal(greg.retainOnDelete, true);
    assert.equal(detached.outputs.globalDatastoreId, g.state.globalReplicationGroupId);
    assert.equal(member.byType(GLOBAL).length, 0, 'a member declares none');
  });

  it('a later unplanned failover with the survivor as the lost region again: the next generation replaces only the datastore (retained), never the group', async () => {
    const g2 = await runStack('secondary', SURVIVOR());
    const g3 = await runStack('secondary', { ...SURVIVOR(), [`${P}:cache`]: { ...fileCache('secondary'), detached: true, globalDatastoreGeneration: 3 } });
    assert.deepEqual(inputChanges(RG, g2.one(RG).inputs, g3.one(RG).inputs), []);
    assert.equal(g3.one(GLOBAL).inputs.globalReplicationGroupIdSuffix, 'botdr-redis-g3');
    assert.equal(g3.one(GLOBAL).urn, g2.one(GLOBAL).urn, 'the suffix forces a replacement of the datastore resource…');
    assert.equal(registration(g3.regs, g3.one(GLOBAL).name).retainOnDelete, true, '…which only forgets the old one (dr failback removes it)');
  });

  it('the lost stack at failback (secondary, generation 2): its group is rebuilt as a member of the survivor\'s datastore — the expected replacement — and reads the auth secret it created (retained)', async () => {
    const owner = await runStack('primary');
    const home = await runStack(
      'primary',
      {
        [`${P}:role`]: 'secondary',
        [`${P}:peerStack`]: 'acme/bot-platform-dr/secondary',
        [`${P}:database`]: { ...fileDb('primary'), promoted: false },
        [`${P}:cache`]: { ...fileCache('primary'), globalDatastoreGeneration: 2, detached: false },
        [`${P}:botTokens`]: undefined,
      },
      { stackRefs: { 'acme/bot-platform-dr/secondary': SURVIVOR_OUTPUTS } },
    );
    const [was, now] = [owner.one(RG), home.one(RG)];
    assert.equal(now.urn, was.urn);
    assert.equal(now.inputs.globalReplicationGroupId, SURVIVOR_OUTPUTS.globalDatastoreId, 'joins the survivor\'s datastore');
    // globalReplicationGroupId forces a replacement: the home group is recreated as a secondary (the survivor's data
    // flows to it); ElastiCache only adds a region to a datastore by creating a group there.
    assert.ok(inputChanges(RG, was.inputs, now.inputs).includes('globalReplicationGroupId'));
    assert.equal(registration(home.regs, now.name).deleteBeforeReplace, true, 'same id: delete (final snapshot) then create');
    // No datastore of its own any more; the old one is retained in the state's eyes (dr failback deleted it before).
    assert.equal(home.byType(GLOBAL).length, 0);
    assert.equal(registration(owner.regs, owner.one(GLOBAL).name).retainOnDelete, true);
    // The owner's auth secret and its value are retained when the home stack stops declaring them, and the rebuilt
    // member reads that very secret: the datastore's token, which the survivor inherited and keeps.
    const secret = owner.byType(SECRET).find((s) => /redis/.test(s.inputs.name))!;
    assert.equal(registration(owner.regs, secret.name).retainOnDelete, true);
    assert.equal(registration(owner.regs, owner.one('aws:secretsmanager/secretVersion:SecretVersion', /auth-secret-value/).name).retainOnDelete, true);
    assert.equal(home.outputs.cacheAuthSecretArn, secret.state.arn);
    assert.ok(!home.byType(SECRET).some((s) => /redis/.test(s.inputs.name)));
  });

  it('scratch keeps deleting its throw-away auth secret', async () => {
    const scratch = await runStack('scratch');
    const secret = scratch.byType(SECRET).find((s) => /redis/.test(s.inputs.name))!;
    assert.equal(registration(scratch.regs, secret.name).retainOnDelete, false);
  });

  it('the primary names its datastore by generation: the first keeps its suffix, later ones are -g<n>', async () => {
    assert.equal((await runStack('primary')).one(GLOBAL).inputs.globalReplicationGroupIdSuffix, 'botdr-redis-global');
    const third = await runStack('primary', { [`${P}:cache`]: { ...fileCache('primary'), globalDatastoreGeneration: 3 } });
    assert.equal(third.one(GLOBAL).inputs.globalReplicationGroupIdSuffix, 'botdr-redis-g3');
  });
});

describe('config: cache.detached and cache.globalDatastoreGeneration', () => {
  const load = (stack: 'primary' | 'secondary', cache: Record<string, unknown>) => () => loadConfig(mapConfigSource({ ...stackFile(stack), [`${P}:cache`]: { ...fileCache(stack), ...cache } }));
  it('defaults: generation 1, not detached', () => {
    const c = load('secondary', {})();
    assert.equal(c.cache.globalDatastoreGeneration, 1);
    assert.equal(c.cache.detached, false);
  });
  it('a detached survivor loads', () => assert.equal(load('secondary', { detached: true, globalDatastoreGeneration: 2 })().cache.detached, true));
  for (const [title, stack, cache, keyName, message] of [
    ['detached on a primary', 'primary', { detached: true, globalDatastoreGeneration: 2 }, 'cache.detached', /applies only to role secondary/],
    ['detached without a global datastore', 'secondary', { detached: true, globalDatastoreGeneration: 2, globalDatastore: false }, 'cache.detached', /needs cache.globalDatastore true/],
    ['detached on generation 1 (the datastore it left)', 'secondary', { detached: true }, 'cache.globalDatastoreGeneration', /must be 2 or more with cache.detached/],
    ['generation 0', 'secondary', { globalDatastoreGeneration: 0 }, 'cache.globalDatastoreGeneration', /integer from 1 to 99/],
    ['detached not a boolean', 'secondary', { detached: 'yes' }, 'cache.detached', /true or false/],
  ] as const) {
    it(`${title}: refused naming ${keyName}`, () => assert.throws(load(stack, cache), (e: Error) => e.message.includes(`${P}:${keyName}: `) && message.test(e.message)));
  }
});
