import { strict as assert } from 'node:assert';
import { decideRegionRoles, RegionRoles, RegionRolesInput } from '../../lib/roles';

const PRIMARY: RegionRolesInput = {
  role: 'primary',
  region: 'us-east-1',
  peerRegion: 'us-west-2',
  peerStack: 'acme/bot-platform-dr/secondary',
  database: { promoted: false },
  cache: { globalDatastore: true, detached: false },
  backup: { replicateToPeer: true },
  bots: ['community', 'moderation'],
  dns: { recordName: 'bot.example.com' },
};
const SECONDARY: RegionRolesInput = { ...PRIMARY, role: 'secondary', region: 'us-west-2', peerRegion: 'us-east-1', peerStack: 'acme/bot-platform-dr/primary', bots: [] };
const SCRATCH: RegionRolesInput = { ...PRIMARY, role: 'scratch', peerStack: undefined, cache: { globalDatastore: false, detached: false }, backup: { replicateToPeer: false }, dns: undefined };

const PRIMARY_ROLES: RegionRoles = {
  scratch: false,
  activeRole: 'primary',
  database: 'primary',
  dbCredentials: 'owner',
  cache: 'owner',
  ownsGlobalDatastore: true,
  botTokens: 'own',
  adoptTokens: false,
  replicateTokensToPeer: true,
  peerRegionResources: true,
  readsPeerStack: true,
  replicateBackupsToPeer: true,
  dns: true,
  backupJobs: true,
  replicaLagAlarm: false,
  usEast1Provider: 'none',
};
const SECONDARY_ROLES: RegionRoles = {
  ...PRIMARY_ROLES,
  activeRole: 'secondary',
  database: 'replica',
  dbCredentials: 'reader',
  cache: 'member',
  ownsGlobalDatastore: false,
  botTokens: 'none',
  replicateTokensToPeer: false,
  replicaLagAlarm: true,
  usEast1Provider: 'peer',
};
const PROMOTED_ROLES: RegionRoles = { ...SECONDARY_ROLES, activeRole: 'primary', database: 'promoted', adoptTokens: true, replicaLagAlarm: false };
const SCRATCH_ROLES: RegionRoles = {
  ...PRIMARY_ROLES,
  scratch: true,
  activeRole: 'scratch',
  database: 'scratch',
  dbCredentials: 'none',
  ownsGlobalDatastore: false,
  replicateTokensToPeer: false,
  peerRegionResources: false,
  readsPeerStack: false,
  replicateBackupsToPeer: false,
  dns: false,
  backupJobs: false,
};

const CASES: [string, RegionRolesInput, RegionRoles][] = [
  ['primary (committed stack file)', PRIMARY, PRIMARY_ROLES],
  ['primary without a global datastore', { ...PRIMARY, cache: { globalDatastore: false, detached: false } }, { ...PRIMARY_ROLES, ownsGlobalDatastore: false }],
  ['primary without bots', { ...PRIMARY, bots: [] }, { ...PRIMARY_ROLES, botTokens: 'none', replicateTokensToPeer: false }],
  ['primary on its first deploy (no peer stack yet)', { ...PRIMARY, peerStack: undefined, backup: { replicateToPeer: false } }, { ...PRIMARY_ROLES, readsPeerStack: false, replicateBackupsToPeer: false }],
  ['primary replicating without a peer stack (no replication without its outputs)', { ...PRIMARY, peerStack: undefined }, { ...PRIMARY_ROLES, readsPeerStack: false, replicateBackupsToPeer: false }],
  ['primary not replicating its backups', { ...PRIMARY, backup: { replicateToPeer: false } }, { ...PRIMARY_ROLES, replicateBackupsToPeer: false }],
  ['primary without DNS', { ...PRIMARY, dns: undefined }, { ...PRIMARY_ROLES, dns: false }],
  ['primary in us-west-2, peer us-east-1', { ...PRIMARY, region: 'us-west-2', peerRegion: 'us-east-1' }, { ...PRIMARY_ROLES, usEast1Provider: 'peer' }],
  ['primary in eu-west-1, peer eu-central-1', { ...PRIMARY, region: 'eu-west-1', peerRegion: 'eu-central-1' }, { ...PRIMARY_ROLES, usEast1Provider: 'extra' }],
  ['primary in eu-west-1 without DNS', { ...PRIMARY, region: 'eu-west-1', peerRegion: 'eu-central-1', dns: undefined }, { ...PRIMARY_ROLES, dns: false, usEast1Provider: 'none' }],
  ['secondary (committed stack file)', SECONDARY, SECONDARY_ROLES],
  ['secondary without a global datastore (its own cache and token)', { ...SECONDARY, cache: { globalDatastore: false, detached: false } }, { ...SECONDARY_ROLES, cache: 'owner' }],
  ['secondary without DNS', { ...SECONDARY, dns: undefined }, { ...SECONDARY_ROLES, dns: false, usEast1Provider: 'none' }],
  ['secondary in eu-west-1 with DNS', { ...SECONDARY, region: 'eu-west-1' }, { ...SECONDARY_ROLES, usEast1Provider: 'peer' }],
  ['secondary with bots (config refuses them; never declared here)', { ...SECONDARY, bots: ['community'] }, SECONDARY_ROLES],
  ['promoted secondary', { ...SECONDARY, database: { promoted: true } }, PROMOTED_ROLES],
  ['promoted secondary with bots: adopts the promoted replicas', { ...SECONDARY, database: { promoted: true }, bots: ['community'] }, { ...PROMOTED_ROLES, botTokens: 'adopt' }],
  ['promoted secondary without a global datastore', { ...SECONDARY, database: { promoted: true }, cache: { globalDatastore: false, detached: false } }, { ...PROMOTED_ROLES, cache: 'owner' }],
  // Issue 12: the survivor of an unplanned failover whose cache left the global datastore leads the next one.
  ['promoted secondary whose cache left the global datastore (detached): it declares the next datastore', { ...SECONDARY, database: { promoted: true }, cache: { globalDatastore: true, detached: true } }, { ...PROMOTED_ROLES, cache: 'detached', ownsGlobalDatastore: true }],
  ['detached secondary not promoted (its DB still a replica): still leads the cache', { ...SECONDARY, cache: { globalDatastore: true, detached: true } }, { ...SECONDARY_ROLES, cache: 'detached', ownsGlobalDatastore: true }],
  ['detached without a global datastore (config refuses it): a standalone owner', { ...SECONDARY, cache: { globalDatastore: false, detached: true } }, { ...SECONDARY_ROLES, cache: 'owner' }],
  ['primary with detached (config refuses it): the owner, as any primary', { ...PRIMARY, cache: { globalDatastore: true, detached: true } }, PRIMARY_ROLES],
  ['scratch with bots: its own throw-away copies, not replicated', SCRATCH, SCRATCH_ROLES],
  ['scratch without bots', { ...SCRATCH, bots: [] }, { ...SCRATCH_ROLES, botTokens: 'none' }],
  ['scratch with DNS and a peer stack configured (both ignored)', { ...SCRATCH, dns: {}, peerStack: 'acme/bot-platform-dr/secondary', backup: { replicateToPeer: true } }, SCRATCH_ROLES],
  ['scratch in eu-west-1', { ...SCRATCH, region: 'eu-west-1', peerRegion: 'eu-central-1' }, SCRATCH_ROLES],
];

describe('lib/roles: decideRegionRoles (what a region declares, per role)', () => {
  for (const [title, input, expected] of CASES) {
    it(title, () => assert.deepEqual(decideRegionRoles(input), expected));
  }
});
