/**
 * The database rules of the policy pack (policy/rules/database.ts) on fake resources: a compliant instance passes,
 * each broken setting is reported, and the documented exceptions (read replica, scratch restore) are not.
 */
import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import { fake, resourcePolicy, runResourcePolicy, runStackPolicy, stackPolicy } from './harness';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/primary-key';
const PEER_KEY = 'arn:aws:kms:us-west-2:123456789012:key/secondary-key';

/** A primary instance as components/database.ts declares it. */
const source = (over: Partial<aws.rds.InstanceArgs> = {}) =>
  fake(aws.rds.Instance, 'db', {
    identifier: 'botdr-use1-pg',
    engine: 'postgres',
    instanceClass: 'db.r6g.large',
    storageEncrypted: true,
    kmsKeyId: KEY,
    publiclyAccessible: false,
    multiAz: true,
    backupRetentionPeriod: 14,
    deletionProtection: true,
    skipFinalSnapshot: false,
    finalSnapshotIdentifier: 'botdr-use1-pg-final',
    ...(over as object),
  });
const replica = (over: Partial<aws.rds.InstanceArgs> = {}) =>
  fake(
    aws.rds.Instance,
    'replica',
    {
      identifier: 'botdr-usw2-pg',
      replicateSourceDb: 'arn:aws:rds:us-east-1:123456789012:db:botdr-use1-pg',
      storageEncrypted: true,
      kmsKeyId: PEER_KEY,
      multiAz: false,
      backupRetentionPeriod: 0,
      deletionProtection: true,
      skipFinalSnapshot: true,
      ...(over as object),
    },
    { region: 'us-west-2' },
  );
const restore = (over: Partial<aws.rds.InstanceArgs> = {}) =>
  fake(aws.rds.Instance, 'scratch', { snapshotIdentifier: 'rds:botdr-use1-pg-2024', storageEncrypted: true, kmsKeyId: KEY, backupRetentionPeriod: 1, deletionProtection: false, skipFinalSnapshot: true, multiAz: false, ...(over as object) });

const check = (name: string, r: ReturnType<typeof source>) => runResourcePolicy(resourcePolicy(name), r);

describe('policy pack: the database rules', () => {
  it('a primary, a replica and a scratch restore as the program declares them pass every database rule', async () => {
    for (const name of ['rds-storage-encrypted', 'rds-no-public-access', 'rds-backups-retained', 'rds-deletion-protection', 'rds-multi-az']) {
      for (const r of [source(), replica(), restore()]) assert.deepEqual(await check(name, r), [], `${name} on ${r.name}`);
    }
  });

  it('rds-storage-encrypted: unencrypted storage, or no customer key (a replica too), is reported', async () => {
    assert.match((await check('rds-storage-encrypted', source({ storageEncrypted: false })))[0], /storageEncrypted: true/);
    assert.match((await check('rds-storage-encrypted', source({ kmsKeyId: undefined })))[0], /customer-managed KMS key/);
    assert.match((await check('rds-storage-encrypted', replica({ kmsKeyId: undefined })))[0], /key of its own region/);
    // A replica inherits encryption from its source: storageEncrypted is not required of it (as in AWS Guard).
    assert.deepEqual(await check('rds-storage-encrypted', replica({ storageEncrypted: undefined })), []);
  });

  it('rds-no-public-access: a publicly accessible instance is reported', async () => {
    assert.deepEqual(await check('rds-no-public-access', source({ publiclyAccessible: true })), ['RDS instance must not be publicly accessible.']);
  });

  it('rds-backups-retained: under 7 days, or unset (RDS defaults to 1), is reported; a replica and a scratch restore are exempt', async () => {
    assert.match((await check('rds-backups-retained', source({ backupRetentionPeriod: 6 })))[0], /at least 7 days/);
    assert.match((await check('rds-backups-retained', source({ backupRetentionPeriod: undefined })))[0], /defaults to 1 day/);
    assert.deepEqual(await check('rds-backups-retained', replica({ backupRetentionPeriod: 0 })), []);
    assert.deepEqual(await check('rds-backups-retained', restore({ backupRetentionPeriod: 1 })), []);
  });

  it('rds-deletion-protection: off, or no final snapshot, is reported; a replica needs no final snapshot; a scratch restore is exempt', async () => {
    assert.match((await check('rds-deletion-protection', source({ deletionProtection: false })))[0], /deletion protection/);
    assert.match((await check('rds-deletion-protection', source({ skipFinalSnapshot: true })))[0], /final snapshot/);
    assert.match((await check('rds-deletion-protection', source({ finalSnapshotIdentifier: undefined })))[0], /final snapshot/);
    assert.match((await check('rds-deletion-protection', replica({ deletionProtection: false })))[0], /deletion protection/);
    assert.deepEqual(await check('rds-deletion-protection', replica({ skipFinalSnapshot: true })), []);
    assert.deepEqual(await check('rds-deletion-protection', restore()), []);
  });

  it('rds-multi-az (advisory): a single-AZ source is reported; a replica (the standby itself) and a scratch restore are not', async () => {
    assert.equal(resourcePolicy('rds-multi-az').enforcementLevel, 'advisory');
    assert.match((await check('rds-multi-az', source({ multiAz: false })))[0], /Multi-AZ/);
    assert.deepEqual(await check('rds-multi-az', replica({ multiAz: false })), []);
  });
});

describe('policy pack: dr-peer-region-copy (a replica in the peer region with its own key)', () => {
  const policy = stackPolicy('dr-peer-region-copy');
  const ownKey = fake(aws.kms.Key, 'key', { enableKeyRotation: true }, { region: 'us-west-2', outputs: { arn: PEER_KEY } });
  const peerKey = fake(aws.kms.Key, 'peer-key', { enableKeyRotation: true }, { region: 'us-east-1', outputs: { arn: KEY } });
  const secondaryDb = (keyDep: typeof ownKey, kmsKeyId = PEER_KEY) =>
    fake(aws.rds.Instance, 'replica', { replicateSourceDb: 'arn:aws:rds:us-east-1:123456789012:db:botdr-use1-pg', kmsKeyId }, { region: 'us-west-2', deps: { kmsKeyId: [keyDep] } });
  const backups = (over: Partial<aws.rds.InstanceAutomatedBackupsReplicationArgs> = {}, keyDep = ownKey) =>
    fake(
      aws.rds.InstanceAutomatedBackupsReplication,
      'backups',
      { sourceDbInstanceArn: 'arn:aws:rds:us-east-1:123456789012:db:botdr-use1-pg', kmsKeyId: PEER_KEY, retentionPeriod: 14, ...(over as object) },
      { region: 'us-west-2', deps: { kmsKeyId: [keyDep] } },
    );

  it('a secondary as the program declares it passes: replica and replicated backups under its own region key, a key in the peer region', async () => {
    assert.deepEqual(await runStackPolicy(policy, [ownKey, peerKey, secondaryDb(ownKey), backups()]), []);
  });

  it('a replica under the source region\'s key, missing backups replication, short or foreign-keyed backups are reported', async () => {
    const underSourceKey = await runStackPolicy(policy, [ownKey, peerKey, secondaryDb(peerKey, KEY), backups()]);
    assert.match(underSourceKey[0].message, /read replica must be encrypted with a key of its own region \(us-west-2\)/);
    assert.match((await runStackPolicy(policy, [ownKey, peerKey, secondaryDb(ownKey)]))[0].message, /automated backups are not replicated/);
    assert.match((await runStackPolicy(policy, [ownKey, peerKey, secondaryDb(ownKey), backups({ retentionPeriod: 3 })]))[0].message, /at least 7 days/);
    assert.match((await runStackPolicy(policy, [ownKey, peerKey, secondaryDb(ownKey), backups({ kmsKeyId: KEY }, peerKey)]))[0].message, /encrypted with a key of this region/);
  });

  it('a stack without a key in the peer region is reported; a scratch drill is exempt', async () => {
    const primary = fake(aws.rds.Instance, 'db', { storageEncrypted: true, kmsKeyId: KEY });
    const ownPrimaryKey = fake(aws.kms.Key, 'key', { enableKeyRotation: true });
    assert.match((await runStackPolicy(policy, [primary, ownPrimaryKey]))[0].message, /no KMS key in the peer region/);
    assert.deepEqual(await runStackPolicy(policy, [primary, ownPrimaryKey, fake(aws.kms.Key, 'replicas', { enableKeyRotation: true }, { region: 'us-west-2' })]), []);
    const scratch = fake(aws.rds.Instance, 'scratch', { snapshotIdentifier: 'rds:x', kmsKeyId: KEY });
    assert.deepEqual(await runStackPolicy(policy, [scratch, ownPrimaryKey]), []);
  });

  it('a promoted secondary with the replicated backups passes; without them it reads as a primary (the limit of reading the role from the resources)', async () => {
    const promoted = fake(aws.rds.Instance, 'db', { storageEncrypted: true, kmsKeyId: PEER_KEY, backupRetentionPeriod: 14 }, { region: 'us-west-2' });
    const home = fake(aws.kms.Key, 'key', { enableKeyRotation: true }, { region: 'us-west-2' });
    assert.deepEqual(await runStackPolicy(policy, [promoted, home, peerKey, backups()]), []);
    // Without the backups replication the stack reads as a primary (docs/policy.md): still checked for its peer-region key.
    assert.deepEqual(await runStackPolicy(policy, [promoted, home, peerKey]), []);
  });
});
