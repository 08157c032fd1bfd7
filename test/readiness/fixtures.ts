/**
 * Hand-built observations for the readiness engine's table tests: a ready AWS pair and a ready local rehearsal, at
 * NOW. Each test copies one and breaks a single fact.
 */
import { fixedClock } from '../../automation/core/clock';
import { runReadiness, type AreaObservations, type ReadinessObserver, type ReadinessReport } from '../../automation/readiness/index';
import type { ReadinessArea } from '../../lib/readiness';

export const NOW = new Date('2026-11-22T10:00:00Z');
export const A = 'us-east-1';
export const B = 'us-west-2';

const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const inDays = (d: number) => new Date(NOW.getTime() + d * 86400_000).toISOString();

const backups = (bucket: string, region: string) => ({
  region,
  bucket,
  entries: (['postgresql', 'redis'] as const).flatMap((service) => [
    { service, tier: 'daily' as const, dataKey: `${service}/daily/backup_20261122_030000`, date: '2026-11-22T03:00:00.000Z', complete: true },
    { service, tier: 'daily' as const, dataKey: `${service}/daily/backup_20261121_030000`, date: '2026-11-21T03:00:00.000Z', complete: true },
    { service, tier: 'weekly' as const, dataKey: `${service}/weekly/backup_20261122_040000`, date: '2026-11-22T04:00:00.000Z', complete: true },
    { service, tier: 'monthly' as const, dataKey: `${service}/monthly/backup_20261101_050000`, date: '2026-11-01T05:00:00.000Z', complete: true },
  ]),
});

/** A ready AWS pair: us-east-1 serves, us-west-2 stands by. */
export function awsObservations(): AreaObservations {
  const tls = { forceSsl: '1', minProtocol: 'TLSv1.2', caIdentifier: 'rds-ca-rsa2048-g1' };
  return {
    database: {
      rpoSeconds: 900,
      primary: { id: 'botdr-use1-pg', region: A, status: 'available', engineVersion: '16.4', instanceClass: 'db.r6g.large', parameterFamily: 'postgres16', tls: { ...tls } },
      replica: { id: 'botdr-usw2-pg', region: B, status: 'available', engineVersion: '16.4', instanceClass: 'db.r6g.large', parameterFamily: 'postgres16', tls: { ...tls } },
      replication: { streaming: true, state: 'replicating', detail: 'read replica of botdr-use1-pg' },
      lag: { seconds: 4, observedAt: ago(60) },
      automatedBackups: { replicated: true, region: B, resource: `${B}/botdr-use1-pg automated backups`, status: 'replicating', latestRestorableTime: ago(300) },
    },
    cache: {
      servingRegion: A,
      standbyRegion: B,
      lagBudgetSeconds: 900,
      global: { id: 'ldgnf-botdr-global', status: 'available', members: [{ replicationGroupId: 'botdr-use1-redis', region: A, role: 'PRIMARY', status: 'associated' }, { replicationGroupId: 'botdr-usw2-redis', region: B, role: 'SECONDARY', status: 'associated' }] },
      lag: { seconds: 1, observedAt: ago(60) },
    },
    backups: {
      tiers: ['daily', 'weekly', 'monthly'],
      buckets: [backups('botdr-use1-backups', A), backups('botdr-usw2-backups', B)],
      restoreTest: { bucket: 'botdr-usw2-backups', newest: { at: ago(3 * 86400), ok: true, key: 'postgresql/weekly/backup_20261115_040000.dump' } },
      replication: { source: 'botdr-use1-backups', destination: 'botdr-usw2-backups', failed: 0, windowHours: 24 },
    },
    secrets: {
      replicas: ['db-credentials', 'cache-auth', 'bot-tokens/community'].map((label) => ({ label, secret: `botdr/${label}`, region: A, peerRegion: B, replication: [{ region: B, status: 'InSync', kmsKeyId: `arn:aws:kms:${B}:123456789012:key/2222` }] })),
      keys: [
        { region: A, keyId: 'arn:aws:kms:us-east-1:123456789012:key/1111', state: 'Enabled' },
        { region: B, keyId: 'arn:aws:kms:us-west-2:123456789012:key/2222', state: 'Enabled' },
      ],
    },
    dns: {
      recordName: 'bot.example.com',
      standbyRegion: B,
      expectedTtl: 60,
      records: [
        { setIdentifier: A, failover: 'PRIMARY', ttl: 60, healthCheckId: 'hc-a' },
        { setIdentifier: B, failover: 'SECONDARY', ttl: 60, healthCheckId: 'hc-b' },
      ],
      healthChecks: [
        { id: 'hc-a', setIdentifier: A, exists: true },
        { id: 'hc-b', setIdentifier: B, exists: true },
      ],
      standbyHealth: { id: 'hc-b', status: 'healthy', detail: '16/16 checkers report success' },
    },
    bots: {
      bots: [
        {
          bot: 'community',
          platform: 'telegram',
          from: B,
          active: 0,
          tokens: [0, 1, 2].map((index) => ({ index, state: 'healthy' as const })),
          webhook: { expected: true, url: 'https://bot.example.com/telegram/community', pending: 0 },
          permissions: { channels: 2, missing: [], errors: [] },
        },
        {
          bot: 'moderation',
          platform: 'discord',
          from: B,
          active: 0,
          tokens: [0, 1].map((index) => ({ index, state: 'healthy' as const, sessionStart: { total: 1000, remaining: 990, resetAfterMs: 3_600_000 } })),
          webhook: { expected: true, url: 'https://bot-usw2.example.com/discord/interactions' },
          permissions: { channels: 1, missing: [], errors: [] },
        },
      ],
    },
    certificates: {
      items: [
        { kind: 'rds-ca', resource: `${A}/rds-ca-rsa2048-g1`, validTill: inDays(400) },
        { kind: 'rds-ca', resource: `${B}/rds-ca-rsa2048-g1`, validTill: inDays(400) },
        { kind: 'rds-server', resource: `${A}/botdr-use1-pg`, validTill: inDays(300) },
        { kind: 'rds-server', resource: `${B}/botdr-usw2-pg`, validTill: inDays(300) },
      ],
    },
    jobs: {
      region: B,
      image: { repository: 'botdr-usw2-backup-job', present: true },
      functions: [
        { name: 'botdr-usw2-backup-job', present: true, state: 'Active' },
        { name: 'botdr-usw2-readiness', present: true, state: 'Active' },
      ],
      schedules: [
        { name: 'botdr-use1-postgresql-daily', region: A, state: 'ENABLED', expected: 'ENABLED' },
        { name: 'botdr-usw2-postgresql-daily', region: B, state: 'DISABLED', expected: 'DISABLED' },
      ],
    },
  };
}

/** A ready local rehearsal: a serves, b stands by. */
export function localObservations(): Pick<AreaObservations, 'database' | 'cache' | 'backups' | 'secrets' | 'bots'> {
  const fence = [
    { region: 'a', role: 'primary' as const, fenced: false, serving: true },
    { region: 'b', role: 'standby' as const, fenced: false, serving: false },
  ];
  return {
    database: {
      rpoSeconds: 900,
      primary: { id: 'postgresql', region: 'a', status: 'primary' },
      replica: { id: 'postgresql', region: 'b', status: 'standby' },
      replication: { streaming: true, state: 'streaming', detail: 'WAL receiver streaming from a' },
      lag: { seconds: 0, observedAt: NOW.toISOString() },
      fence,
    },
    cache: { servingRegion: 'a', standbyRegion: 'b', lagBudgetSeconds: 900, link: { region: 'b', status: 'up', lagBytes: 0 }, fence: fence.map((f) => ({ ...f })) },
    backups: {
      tiers: ['daily'],
      buckets: [backups('bot-dr-a', 'a'), backups('bot-dr-b', 'b')],
    },
    secrets: { files: [{ path: '/x/secrets.json', kind: 'file', mode: 0o100600, allowed: 0o600 }, { path: '/x', kind: 'dir', mode: 0o40711, allowed: 0o711 }] },
    bots: { bots: [{ bot: 'community', platform: 'telegram', from: 'local', active: 0, tokens: [0, 1, 2].map((index) => ({ index, state: 'healthy' as const })) }] },
  };
}

/** An observer over fixed observations; `fail` makes an area reject. */
export function fixedObserver(environment: 'aws' | 'local', obs: Partial<AreaObservations>, fail: Partial<Record<ReadinessArea, string>> = {}): ReadinessObserver {
  const o: Record<string, unknown> = { environment, from: environment === 'aws' ? B : 'local' };
  for (const [area, value] of Object.entries(obs)) o[area] = async () => {
    if (fail[area as ReadinessArea]) throw new Error(fail[area as ReadinessArea]);
    return value;
  };
  o.calls = () => ({ aws: 7, platform: 3, local: 0, by_area: { database: 7 } });
  return o as unknown as ReadinessObserver;
}

/**
 * A whole report from the real engine over the fixtures, for the commands' tests (`dr failover`'s preflight,
 * `dr status`): `ready`, or `not-ready` with the backups area unobservable.
 */
export function fixtureReport(verdict: 'ready' | 'not-ready'): Promise<ReadinessReport> {
  const fail: Partial<Record<ReadinessArea, string>> = verdict === 'ready' ? {} : { backups: `S3 ListObjectsV2 in ${B}: AccessDenied` };
  return runReadiness(fixedObserver('aws', awsObservations(), fail), { clock: fixedClock(() => NOW) });
}
