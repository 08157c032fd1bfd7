/**
 * A small simulated AWS for the adapter tests: two regions' RDS instances, an ElastiCache global datastore,
 * Secrets Manager replicas, a Route 53 failover record pair, SNS topics and an S3 bucket, all answered through
 * aws-sdk-client-mock on per-region client instances (no network, no credentials lookup: every client is mocked
 * before use). Plus a fake Pulumi workspace ({@link FakeDriver}) and a clock that never sleeps.
 */
import { mockClient, AwsClientStub } from 'aws-sdk-client-mock';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeleteGlobalReplicationGroupCommand,
  DescribeGlobalReplicationGroupsCommand,
  DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand,
  DisassociateGlobalReplicationGroupCommand,
  ElastiCacheClient,
  FailoverGlobalReplicationGroupCommand,
} from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand, DescribeDBParametersCommand, ModifyDBInstanceCommand, ModifyDBParameterGroupCommand, PromoteReadReplicaCommand, RDSClient, ResetDBParameterGroupCommand } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, GetChangeCommand, ListResourceRecordSetsCommand, ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { ConditionalObjects, s3Error } from './s3-conditional';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, StopReplicationToReplicaCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { AwsClientFactories, AwsPortsOptions } from '../../automation/adapters/aws';
import { StackBusyError } from '../../automation/adapters/aws/retry';
import type { StackDriver, StackLike, StackUpdateSummary } from '../../automation/adapters/aws/stacks';
import type { Clock } from '../../automation/core/clock';
import { globalDatastoreSuffix } from '../../lib/naming';

export const A = 'us-east-1';
export const B = 'us-west-2';
export const ACCOUNT = '123456789012';
export const SECRET_TOKEN = 'TOKEN-123456:AAHsuperSecretBotToken';

export const PRIMARY_OUTPUTS = {
  role: 'primary',
  region: A,
  peerRegion: B,
  dbIdentifier: 'botdr-use1-db',
  dbArn: `arn:aws:rds:${A}:${ACCOUNT}:db:botdr-use1-db`,
  dbEndpoint: 'botdr-use1-db.abc.us-east-1.rds.amazonaws.com:5432',
  dbSecretArn: `arn:aws:secretsmanager:${A}:${ACCOUNT}:secret:botdr/db/master-Mn34Op`,
  cacheReplicationGroupId: 'botdr-use1-cache',
  cacheEndpoint: 'master.botdr-use1-cache.abc.use1.cache.amazonaws.com',
  cacheAuthSecretArn: `arn:aws:secretsmanager:${A}:${ACCOUNT}:secret:botdr/cache-auth-Qw12Er`,
  globalDatastoreId: 'ldgnf-botdr-global',
  bucketName: 'botdr-use1-backups-0a1b2c',
  bucketArn: 'arn:aws:s3:::botdr-use1-backups-0a1b2c',
  kmsKeyArn: `arn:aws:kms:${A}:${ACCOUNT}:key/1111`,
  botTokenSecretArns: {
    community: `arn:aws:secretsmanager:${A}:${ACCOUNT}:secret:botdr/bot-tokens/community-Zx98Yv`,
    moderation: `arn:aws:secretsmanager:${A}:${ACCOUNT}:secret:botdr/bot-tokens/moderation-Lk76Jh`,
  },
  healthCheckId: 'hc-use1-0001',
  recordName: 'bot.example.com',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  topicArn: `arn:aws:sns:${A}:${ACCOUNT}:botdr-use1-alerts`,
};

export const SECONDARY_OUTPUTS = {
  role: 'secondary',
  region: B,
  peerRegion: A,
  dbIdentifier: 'botdr-usw2-db',
  dbArn: `arn:aws:rds:${B}:${ACCOUNT}:db:botdr-usw2-db`,
  dbEndpoint: 'botdr-usw2-db.def.us-west-2.rds.amazonaws.com:5432',
  dbSecretArn: `arn:aws:secretsmanager:${B}:${ACCOUNT}:secret:botdr/db/master-Mn34Op`,
  cacheReplicationGroupId: 'botdr-usw2-cache',
  cacheEndpoint: 'master.botdr-usw2-cache.def.usw2.cache.amazonaws.com',
  cacheAuthSecretArn: `arn:aws:secretsmanager:${B}:${ACCOUNT}:secret:botdr/cache-auth-Qw12Er`,
  globalDatastoreId: 'ldgnf-botdr-global',
  bucketName: 'botdr-usw2-backups-3d4e5f',
  bucketArn: 'arn:aws:s3:::botdr-usw2-backups-3d4e5f',
  kmsKeyArn: `arn:aws:kms:${B}:${ACCOUNT}:key/2222`,
  botTokenSecretArns: {},
  healthCheckId: 'hc-usw2-0002',
  recordName: 'bot.example.com',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  topicArn: `arn:aws:sns:${B}:${ACCOUNT}:botdr-usw2-alerts`,
};

/** A clock whose sleep advances time instantly. */
export class FakeClock implements Clock {
  t = Date.parse('2026-11-22T10:00:00Z');
  sleeps: number[] = [];
  now(): Date {
    return new Date(this.t);
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    this.sleeps.push(ms);
    this.t += ms;
  }
}

/** The error a client raises when its region's endpoint does not resolve. */
export function enotfound(host: string): Error {
  const e = new Error(`getaddrinfo ENOTFOUND ${host}`) as Error & { code: string };
  e.code = 'ENOTFOUND';
  return e;
}

export function throttle(name = 'ThrottlingException'): Error {
  const e = new Error('Rate exceeded') as Error & { $metadata: { httpStatusCode: number } };
  e.name = name;
  e.$metadata = { httpStatusCode: 400 };
  return e;
}

export function awsError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

export interface DbState {
  status: string;
  replicaOf?: string;
  retention: number;
  paramGroup: string;
  readOnly?: string;
  multiAz?: boolean;
  /** A Multi-AZ conversion requested and not finished (`PendingModifiedValues.MultiAZ`). */
  pendingMultiAz?: boolean;
}

/** Counts of every acting call, by name. */
export type Acts = Record<string, number>;

export class World {
  readonly down = new Set<string>();
  route53Down = false;
  readonly acts: Acts = {};
  /** Throttle the next N calls of a command name (e.g. `PromoteReadReplica`). */
  readonly throttleNext: Record<string, number> = {};
  db: Record<string, DbState> = {
    [A]: { status: 'available', retention: 14, paramGroup: 'botdr-use1-pg16', multiAz: true },
    [B]: { status: 'available', replicaOf: PRIMARY_OUTPUTS.dbArn, retention: 0, paramGroup: 'botdr-usw2-pg16' },
  };
  /** Polls left before a promoting instance becomes available. */
  promoteDelayPolls = 2;
  private promotingPolls = 0;
  replicaLag: { seconds: number; at: Date } | undefined = { seconds: 4, at: new Date('2026-11-22T09:59:00Z') };
  /**
   * Each region's replication group: its status, its role in the global datastore it belongs to (`global`), or `NONE`
   * when it stands alone (disassociated, or its datastore deleted).
   */
  cache: Record<string, { status: string; role: 'PRIMARY' | 'SECONDARY' | 'NONE'; global?: string }> = {
    [A]: { status: 'available', role: 'PRIMARY', global: PRIMARY_OUTPUTS.globalDatastoreId },
    [B]: { status: 'available', role: 'SECONDARY', global: PRIMARY_OUTPUTS.globalDatastoreId },
  };
  /** The global datastores that exist; their members are the groups whose `global` names them. */
  globals: Record<string, { status: string }> = { [PRIMARY_OUTPUTS.globalDatastoreId]: { status: 'available' } };
  /** ElastiCache snapshots, `<region>/<name>` (a final snapshot name can be used once). */
  cacheSnapshots = new Set<string>();
  /** Describes a deleted global datastore answers `deleting` (members still listed) before it is gone. */
  globalDeletePolls = 0;
  private deleting: Record<string, number> = {};
  globalFailoverPolls = 1;
  private cachePolls = 0;
  /** Replica ARN → its primary region (undefined = standalone). */
  secrets: Record<string, string | undefined> = {};
  /**
   * The bot-token secrets' values (issue 11), per ARN in each region: versions with staging labels. A replica (in
   * {@link secrets} with a primary region) answers GetSecretValue/DescribeSecret with its primary's versions and refuses
   * PutSecretValue; StopReplicationToReplica leaves it a standalone copy of what it had. Both copies start naming A as
   * the active region.
   */
  readonly botValues = new Map<string, Map<string, { text: string; stages: string[] }>>();
  private botSeq = 0;
  /** What the platforms answer about each bot's updates (default: Telegram polling, Discord gateway). */
  botUpdateTargets: Record<string, { url: string } | { endpoint: string | null }> = {};
  records: ResourceRecordSet[] = [
    { Name: 'bot.example.com.', Type: 'CNAME', SetIdentifier: A, Failover: 'PRIMARY', TTL: 60, HealthCheckId: PRIMARY_OUTPUTS.healthCheckId, ResourceRecords: [{ Value: 'bot-use1.example.com' }] },
    { Name: 'bot.example.com.', Type: 'CNAME', SetIdentifier: B, Failover: 'SECONDARY', TTL: 60, HealthCheckId: SECONDARY_OUTPUTS.healthCheckId, ResourceRecords: [{ Value: 'bot-usw2.example.com' }] },
  ];
  changePolls = 1;
  s3: Record<string, string> = {};
  /** The buckets' objects with ETags and S3's conditional writes (over {@link s3}). */
  readonly objects = new ConditionalObjects(this.s3);
  published: Array<{ topic: string; subject: string; message: string }> = [];

  readonly rds: Record<string, RDSClient> = {};
  readonly cw: Record<string, CloudWatchClient> = {};
  readonly ec: Record<string, ElastiCacheClient> = {};
  readonly sm: Record<string, SecretsManagerClient> = {};
  readonly sns: Record<string, SNSClient> = {};
  readonly s3c: Record<string, S3Client> = {};
  readonly r53 = new Route53Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  readonly mocks: {
    rds: Record<string, AwsClientStub<RDSClient>>;
    cw: Record<string, AwsClientStub<CloudWatchClient>>;
    ec: Record<string, AwsClientStub<ElastiCacheClient>>;
    sm: Record<string, AwsClientStub<SecretsManagerClient>>;
    sns: Record<string, AwsClientStub<SNSClient>>;
    s3: Record<string, AwsClientStub<S3Client>>;
    r53: AwsClientStub<Route53Client>;
  };

  constructor() {
    for (const r of [PRIMARY_OUTPUTS.botTokenSecretArns.community, PRIMARY_OUTPUTS.botTokenSecretArns.moderation, PRIMARY_OUTPUTS.cacheAuthSecretArn, PRIMARY_OUTPUTS.dbSecretArn]) {
      this.secrets[r.replace(`:${A}:`, `:${B}:`)] = A;
    }
    for (const [bot, arn] of Object.entries(PRIMARY_OUTPUTS.botTokenSecretArns)) {
      const platform = bot === 'moderation' ? 'discord' : 'telegram';
      this.botValues.set(arn, new Map([['v-initial-'.padEnd(32, '0'), { text: JSON.stringify({ active: 0, tokens: [`${bot.toUpperCase()}-${SECRET_TOKEN}`], platform, active_region: A }), stages: ['AWSCURRENT'] }]]));
    }
    const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
    this.mocks = { rds: {}, cw: {}, ec: {}, sm: {}, sns: {}, s3: {}, r53: mockClient(this.r53) };
    for (const region of [A, B]) {
      this.rds[region] = new RDSClient({ region, credentials: creds });
      this.cw[region] = new CloudWatchClient({ region, credentials: creds });
      this.ec[region] = new ElastiCacheClient({ region, credentials: creds });
      this.sm[region] = new SecretsManagerClient({ region, credentials: creds });
      this.sns[region] = new SNSClient({ region, credentials: creds });
      this.s3c[region] = new S3Client({ region, credentials: creds });
      this.mockRds(region);
      this.mockCache(region);
      this.mockOthers(region);
    }
    this.mockRoute53();
  }

  clients(): AwsClientFactories {
    return {
      rds: (r) => this.rds[r],
      cloudwatch: (r) => this.cw[r],
      elasticache: (r) => this.ec[r],
      secretsManager: (r) => this.sm[r],
      sns: (r) => this.sns[r],
      s3: (r) => this.s3c[r],
      route53: () => this.r53,
    };
  }

  /** Simulate `dr` dying right after this act took effect (the engine treats CrashError as the process dying). */
  crashAfterAct?: string;

  /** Every acting call in order (the {@link acts} counts, as a sequence). */
  readonly actLog: string[] = [];

  private act(name: string): void {
    this.acts[name] = (this.acts[name] ?? 0) + 1;
    this.actLog.push(name);
    if (this.crashAfterAct && name.startsWith(this.crashAfterAct)) {
      this.crashAfterAct = undefined;
      const e = new Error(`injected crash after ${name}`);
      e.name = 'CrashError';
      throw e;
    }
  }

  /** Common gate: region down → ENOTFOUND; throttled → ThrottlingException. */
  private gate(region: string, service: string, command: string): void {
    if (this.down.has(region)) throw enotfound(`${service}.${region}.amazonaws.com`);
    if ((this.throttleNext[command] ?? 0) > 0) {
      this.throttleNext[command]--;
      throw throttle();
    }
  }

  idOf(region: string): string {
    return region === A ? PRIMARY_OUTPUTS.dbIdentifier : SECONDARY_OUTPUTS.dbIdentifier;
  }

  /**
   * What Pulumi's provider does when the stack drops replicateSourceDb: promote, later set retention. `stateSaysReplica`:
   * the stack's state still records the replica (no refresh since the direct promotion) — the provider then calls
   * PromoteReadReplica on an instance that is no longer one, and RDS refuses.
   */
  pulumiPromote(region: string, retention: number, stateSaysReplica = true): void {
    if (this.down.has(region)) throw enotfound(`rds.${region}.amazonaws.com`);
    const d = this.db[region];
    if (stateSaysReplica && !d.replicaOf) throw awsError('InvalidDBInstanceStateFault', 'promoting RDS DB Instance: DB Instance is not a read replica.');
    if (d.replicaOf) {
      d.replicaOf = undefined;
      d.retention = 0;
      this.act('stack:promote');
    } else if (d.retention < retention) {
      d.retention = retention;
      this.act('stack:retention');
    }
  }

  private mockRds(region: string): void {
    const m = mockClient(this.rds[region]);
    this.mocks.rds[region] = m;
    m.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
      this.gate(region, 'rds', 'DescribeDBInstances');
      if (input.DBInstanceIdentifier !== this.idOf(region)) throw awsError('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
      const d = this.db[region];
      if (d.status === 'modifying' || d.status === 'promoting') {
        if (this.promotingPolls-- <= 0) {
          d.status = 'available';
          if (d.pendingMultiAz) [d.multiAz, d.pendingMultiAz] = [true, false];
        }
      }
      return {
        DBInstances: [
          {
            DBInstanceIdentifier: this.idOf(region),
            DBInstanceStatus: d.status,
            ReadReplicaSourceDBInstanceIdentifier: d.replicaOf,
            BackupRetentionPeriod: d.retention,
            MultiAZ: d.multiAz ?? false,
            PendingModifiedValues: d.pendingMultiAz ? { MultiAZ: true } : {},
            DBParameterGroups: [{ DBParameterGroupName: d.paramGroup, ParameterApplyStatus: 'in-sync' }],
          },
        ],
      };
    });
    m.on(PromoteReadReplicaCommand).callsFake((input: { DBInstanceIdentifier?: string; BackupRetentionPeriod?: number }) => {
      this.gate(region, 'rds', 'PromoteReadReplica');
      const d = this.db[region];
      if (d.status !== 'available') throw awsError('InvalidDBInstanceStateFault', `DB Instance is not in an available state (${d.status}).`);
      if (!d.replicaOf) throw awsError('InvalidDBInstanceStateFault', 'DB Instance is not a read replica.');
      d.replicaOf = undefined;
      d.status = 'modifying';
      // The PostgreSQL caveat: RDS leaves automated backups off on the promoted instance.
      void input.BackupRetentionPeriod;
      d.retention = 0;
      this.promotingPolls = this.promoteDelayPolls;
      this.act('PromoteReadReplica');
      return {};
    });
    m.on(ModifyDBInstanceCommand).callsFake((input: { BackupRetentionPeriod?: number; MultiAZ?: boolean }) => {
      this.gate(region, 'rds', 'ModifyDBInstance');
      const d = this.db[region];
      d.retention = input.BackupRetentionPeriod ?? d.retention;
      if (input.MultiAZ) d.pendingMultiAz = true;
      d.status = 'modifying';
      this.promotingPolls = 1;
      this.act(input.MultiAZ ? 'ModifyDBInstance:MultiAZ' : 'ModifyDBInstance');
      return {};
    });
    m.on(ModifyDBParameterGroupCommand).callsFake((input: { DBParameterGroupName?: string; Parameters?: Array<{ ParameterName?: string; ParameterValue?: string }> }) => {
      this.gate(region, 'rds', 'ModifyDBParameterGroup');
      const p = input.Parameters?.find((x) => x.ParameterName === 'default_transaction_read_only');
      if (p) this.db[region].readOnly = p.ParameterValue;
      this.act(`fence:${region}`);
      return { DBParameterGroupName: input.DBParameterGroupName };
    });
    m.on(ResetDBParameterGroupCommand).callsFake(() => {
      this.gate(region, 'rds', 'ResetDBParameterGroup');
      this.db[region].readOnly = undefined;
      this.act(`unfence:${region}`);
      return {};
    });
    m.on(DescribeDBParametersCommand).callsFake(() => {
      this.gate(region, 'rds', 'DescribeDBParameters');
      const v = this.db[region].readOnly;
      return { Parameters: v === undefined ? [{ ParameterName: 'rds.force_ssl', ParameterValue: '1' }] : [{ ParameterName: 'rds.force_ssl', ParameterValue: '1' }, { ParameterName: 'default_transaction_read_only', ParameterValue: v }] };
    });
    const cw = mockClient(this.cw[region]);
    this.mocks.cw[region] = cw;
    cw.on(GetMetricStatisticsCommand).callsFake(() => {
      this.gate(region, 'monitoring', 'GetMetricStatistics');
      return { Datapoints: this.replicaLag ? [{ Timestamp: new Date(this.replicaLag.at.getTime() - 60_000), Maximum: 99 }, { Timestamp: this.replicaLag.at, Maximum: this.replicaLag.seconds }] : [] };
    });
  }

  private groupOf(region: string): string {
    return region === A ? PRIMARY_OUTPUTS.cacheReplicationGroupId : SECONDARY_OUTPUTS.cacheReplicationGroupId;
  }

  private membersOf(gid: string): string[] {
    return [A, B].filter((r) => this.cache[r].global === gid && this.cache[r].role !== 'NONE');
  }

  private mockCache(region: string): void {
    const m = mockClient(this.ec[region]);
    this.mocks.ec[region] = m;
    m.on(DescribeReplicationGroupsCommand).callsFake((input: { ReplicationGroupId?: string }) => {
      this.gate(region, 'elasticache', 'DescribeReplicationGroups');
      if (input.ReplicationGroupId && input.ReplicationGroupId !== this.groupOf(region)) throw awsError('ReplicationGroupNotFoundFault', `ReplicationGroup ${input.ReplicationGroupId} not found.`);
      const c = this.cache[region];
      const info = c.global && c.role !== 'NONE' ? { GlobalReplicationGroupInfo: { GlobalReplicationGroupId: c.global, GlobalReplicationGroupMemberRole: c.role } } : {};
      return { ReplicationGroups: [{ ReplicationGroupId: this.groupOf(region), Status: c.status, ...info }] };
    });
    m.on(DescribeGlobalReplicationGroupsCommand).callsFake((input: { GlobalReplicationGroupId?: string }) => {
      this.gate(region, 'elasticache', 'DescribeGlobalReplicationGroups');
      const gid = input.GlobalReplicationGroupId ?? PRIMARY_OUTPUTS.globalDatastoreId;
      if (gid in this.deleting && this.deleting[gid]-- <= 0) this.finishDelete(gid);
      if (!this.globals[gid]) throw awsError('GlobalReplicationGroupNotFoundFault', `GlobalReplicationGroup ${gid} not found.`);
      let status = this.globals[gid].status;
      if (this.cachePolls > 0) {
        this.cachePolls--;
        status = 'modifying';
      }
      return {
        GlobalReplicationGroups: [
          {
            GlobalReplicationGroupId: gid,
            Status: status,
            Members: this.membersOf(gid).map((r) => ({ ReplicationGroupId: this.groupOf(r), ReplicationGroupRegion: r, Role: status === 'modifying' && r === region ? 'SECONDARY' : this.cache[r].role, Status: 'associated' })),
          },
        ],
      };
    });
    m.on(FailoverGlobalReplicationGroupCommand).callsFake((input: { GlobalReplicationGroupId?: string; PrimaryRegion?: string }) => {
      this.gate(region, 'elasticache', 'FailoverGlobalReplicationGroup');
      const other = input.PrimaryRegion === A ? B : A;
      if (this.down.has(other)) throw awsError('InvalidGlobalReplicationGroupStateFault', 'The Global datastore is not available or in primary-only state.');
      const members = this.membersOf(input.GlobalReplicationGroupId!);
      if (!members.includes(input.PrimaryRegion!) || !members.includes(other)) throw awsError('InvalidParameterValueException', `both regions must be members of ${input.GlobalReplicationGroupId}`);
      this.cache[input.PrimaryRegion!].role = 'PRIMARY';
      this.cache[other].role = 'SECONDARY';
      this.cachePolls = this.globalFailoverPolls;
      this.act('FailoverGlobalReplicationGroup');
      return {};
    });
    m.on(DisassociateGlobalReplicationGroupCommand).callsFake((input: { GlobalReplicationGroupId?: string; ReplicationGroupRegion?: string }) => {
      this.gate(region, 'elasticache', 'DisassociateGlobalReplicationGroup');
      const c = this.cache[input.ReplicationGroupRegion!];
      if (c.global !== input.GlobalReplicationGroupId || c.role === 'NONE') throw awsError('InvalidParameterValueException', `Replication group is not associated with Global Replication Group ${input.GlobalReplicationGroupId}`);
      Object.assign(c, { role: 'NONE', global: undefined });
      this.act('DisassociateGlobalReplicationGroup');
      return {};
    });
    m.on(DeleteGlobalReplicationGroupCommand).callsFake((input: { GlobalReplicationGroupId?: string; RetainPrimaryReplicationGroup?: boolean }) => {
      this.gate(region, 'elasticache', 'DeleteGlobalReplicationGroup');
      const gid = input.GlobalReplicationGroupId!;
      if (!this.globals[gid]) throw awsError('GlobalReplicationGroupNotFoundFault', `GlobalReplicationGroup ${gid} not found.`);
      if (this.membersOf(gid).some((r) => this.cache[r].role === 'SECONDARY')) throw awsError('InvalidGlobalReplicationGroupStateFault', 'The Global datastore still has secondary clusters: disassociate them first.');
      if (input.RetainPrimaryReplicationGroup !== true) throw awsError('InvalidParameterValueException', 'RetainPrimaryReplicationGroup must be true: the primary cluster is never deleted with the Global datastore.');
      if (this.globals[gid].status === 'deleting') throw awsError('InvalidGlobalReplicationGroupStateFault', `Global datastore ${gid} is being deleted.`);
      this.act('DeleteGlobalReplicationGroup');
      if (this.globalDeletePolls > 0) {
        this.globals[gid].status = 'deleting';
        this.deleting[gid] = this.globalDeletePolls;
      } else this.finishDelete(gid);
      return {};
    });
    m.on(DescribeSnapshotsCommand).callsFake((input: { SnapshotName?: string }) => {
      this.gate(region, 'elasticache', 'DescribeSnapshots');
      if (input.SnapshotName && !this.cacheSnapshots.has(`${region}/${input.SnapshotName}`)) throw awsError('SnapshotNotFoundFault', `Snapshot ${input.SnapshotName} not found.`);
      return { Snapshots: input.SnapshotName ? [{ SnapshotName: input.SnapshotName, SnapshotStatus: 'available' }] : [] };
    });
  }

  private finishDelete(gid: string): void {
    for (const r of this.membersOf(gid)) Object.assign(this.cache[r], { role: 'NONE', global: undefined });
    delete this.globals[gid];
    delete this.deleting[gid];
  }

  /** The id AWS gives a datastore created in `region` with `suffix` (a stand-in for its per-region prefix). */
  static globalId(region: string, suffix: string): string {
    return `${region === A ? 'ldgnf' : 'sgaui'}-${suffix}`;
  }

  /**
   * What a stack's `up` does to its region's cache (components/cache.ts), as the provider would:
   * - `lead`: the group creates the datastore `gid` (CreateGlobalReplicationGroup, which refuses a group already in
   *   another one);
   * - `join`: the group must be a member of `gid`; if it is not, the group is replaced (deleted with its final
   *   snapshot, which fails when the name is taken or while it is still the primary of another datastore, then
   *   created as a secondary of `gid`).
   */
  pulumiCache(region: string, want: { lead?: string; join?: string }): void {
    const c = this.cache[region];
    const gid = want.lead ?? want.join!;
    if (c.global === gid && c.role !== 'NONE') return;
    if (c.role !== 'NONE') throw awsError('InvalidReplicationGroupStateFault', `Replication group ${this.groupOf(region)} is the ${c.role.toLowerCase()} of global datastore ${c.global}`);
    if (want.lead) {
      this.globals[gid] = { status: 'available' };
      Object.assign(c, { role: 'PRIMARY', global: gid });
      this.act('stack:CreateGlobalReplicationGroup');
      return;
    }
    if (!this.globals[gid]) throw awsError('GlobalReplicationGroupNotFoundFault', `GlobalReplicationGroup ${gid} not found.`);
    const final = `${region}/${this.groupOf(region)}-final`;
    if (this.cacheSnapshots.has(final)) throw awsError('SnapshotAlreadyExistsFault', `Snapshot ${final.split('/')[1]} already exists.`);
    this.cacheSnapshots.add(final);
    Object.assign(c, { role: 'SECONDARY', global: gid, status: 'available' });
    this.act('stack:replace-cache-group');
  }

  /** The versions a bot secret answers with: its own, or — while it is a replica — its primary's. */
  private botVersions(id: string): Map<string, { text: string; stages: string[] }> | undefined {
    const primary = this.secrets[id];
    return primary ? this.botValues.get(id.replace(/:secretsmanager:[^:]+:/, `:secretsmanager:${primary}:`)) : this.botValues.get(id);
  }

  /** A bot's record as `region`'s copy of its secret holds it (AWSCURRENT). */
  botRecord(bot: 'community' | 'moderation', region: string): { active: number; tokens: string[]; platform: string; active_region?: string } {
    const arn = PRIMARY_OUTPUTS.botTokenSecretArns[bot].replace(`:${A}:`, `:${region}:`);
    const cur = [...(this.botVersions(arn) ?? new Map()).values()].find((v) => v.stages.includes('AWSCURRENT'));
    return JSON.parse(cur!.text) as ReturnType<World['botRecord']>;
  }

  /** The BotsPort's platform side for tests: every active token healthy, targets from {@link botUpdateTargets}. */
  botsOptions(): NonNullable<Exclude<AwsPortsOptions['bots'], false>> {
    const target = (bot: string) => this.botUpdateTargets[bot];
    const botOf = (token: string) => token.split('-')[0].toLowerCase();
    return {
      prober: { probe: async (req) => ({ index: req.index, state: 'healthy', latency_ms: 12 }) },
      targets: {
        telegram: async (token) => {
          const t = target(botOf(token));
          return { url: t && 'url' in t ? t.url : '', pending_update_count: 0 };
        },
        discord: async (token) => {
          const t = target(botOf(token));
          return { interactions_endpoint_url: t && 'endpoint' in t ? t.endpoint : null };
        },
      },
    };
  }

  private mockOthers(region: string): void {
    const sm = mockClient(this.sm[region]);
    this.mocks.sm[region] = sm;
    sm.on(DescribeSecretCommand).callsFake((input: { SecretId?: string }) => {
      this.gate(region, 'secretsmanager', 'DescribeSecret');
      const bot = this.botVersions(input.SecretId!);
      if (!(input.SecretId! in this.secrets) && !bot) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      const p = this.secrets[input.SecretId!];
      const stages = bot ? { VersionIdsToStages: Object.fromEntries([...bot].filter(([, v]) => v.stages.length).map(([id, v]) => [id, [...v.stages]])) } : {};
      return { ARN: input.SecretId, Name: input.SecretId!.split(':')[6], ...(p ? { PrimaryRegion: p } : {}), ...stages };
    });
    sm.on(GetSecretValueCommand).callsFake((input: { SecretId?: string; VersionStage?: string }) => {
      this.gate(region, 'secretsmanager', 'GetSecretValue');
      const found = [...(this.botVersions(input.SecretId!) ?? new Map())].find(([, v]) => v.stages.includes(input.VersionStage ?? 'AWSCURRENT'));
      if (!found) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value.");
      return { ARN: input.SecretId, Name: input.SecretId!.split(':')[6], VersionId: found[0], SecretString: found[1].text, VersionStages: [...found[1].stages] };
    });
    sm.on(PutSecretValueCommand).callsFake((input: { SecretId?: string; SecretString?: string; ClientRequestToken?: string }) => {
      this.gate(region, 'secretsmanager', 'PutSecretValue');
      const id = input.SecretId!;
      if (this.secrets[id]) throw awsError('InvalidRequestException', `Operation not permitted on a replica secret. Call must be made in primary secret's region ${this.secrets[id]}.`);
      const vs = this.botValues.get(id);
      if (!vs) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      const vid = input.ClientRequestToken ?? `w-${++this.botSeq}`.padEnd(32, '0');
      const had = vs.get(vid);
      if (had && had.text !== input.SecretString) throw awsError('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
      if (!had) {
        for (const v of vs.values()) v.stages = v.stages.filter((x) => x !== 'AWSPREVIOUS').map((x) => (x === 'AWSCURRENT' ? 'AWSPREVIOUS' : x));
        vs.set(vid, { text: input.SecretString!, stages: ['AWSCURRENT'] });
        this.act(`PutSecretValue:${id}`);
      }
      return { ARN: id, Name: id.split(':')[6], VersionId: vid, VersionStages: [...vs.get(vid)!.stages] };
    });
    sm.on(StopReplicationToReplicaCommand).callsFake((input: { SecretId?: string }) => {
      this.gate(region, 'secretsmanager', 'StopReplicationToReplica');
      // A bot secret's replica keeps what it had, as a standalone copy.
      const copy = this.botVersions(input.SecretId!);
      if (copy && this.secrets[input.SecretId!]) this.botValues.set(input.SecretId!, new Map([...copy].map(([k, v]) => [k, { text: v.text, stages: [...v.stages] }])));
      this.secrets[input.SecretId!] = undefined;
      this.act(`StopReplicationToReplica:${input.SecretId}`);
      return { ARN: input.SecretId };
    });
    const sns = mockClient(this.sns[region]);
    this.mocks.sns[region] = sns;
    sns.on(PublishCommand).callsFake((input: { TopicArn?: string; Subject?: string; Message?: string }) => {
      this.gate(region, 'sns', 'Publish');
      this.published.push({ topic: input.TopicArn!, subject: input.Subject!, message: input.Message! });
      return { MessageId: `m-${this.published.length}` };
    });
    const s3 = mockClient(this.s3c[region]);
    this.mocks.s3[region] = s3;
    s3.on(PutObjectCommand).callsFake((input: { Bucket?: string; Key?: string; Body?: unknown; IfNoneMatch?: string; IfMatch?: string }) => {
      this.gate(region, 's3', 'PutObject');
      return this.objects.put(`${input.Bucket}/${input.Key}`, input.Body instanceof Uint8Array ? Buffer.from(input.Body).toString('utf8') : String(input.Body), input);
    });
    s3.on(GetObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
      this.gate(region, 's3', 'GetObject');
      const v = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (v === undefined) throw s3Error('NoSuchKey', 404, 'The specified key does not exist.');
      // A stream (what S3Store reads) that also answers transformToString (what the journal and the lease read).
      return { Body: Object.assign(Readable.from([Buffer.from(v.body)]), { transformToString: async () => v.body }), ETag: v.ETag };
    });
    s3.on(HeadObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
      this.gate(region, 's3', 'HeadObject');
      const v = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (v === undefined) throw awsError('NotFound', 'Not Found');
      return { ContentLength: Buffer.byteLength(v.body), ETag: v.ETag };
    });
    s3.on(DeleteObjectCommand).callsFake((input: { Bucket?: string; Key?: string; IfMatch?: string }) => {
      this.gate(region, 's3', 'DeleteObject');
      this.objects.delete(`${input.Bucket}/${input.Key}`, input);
      return {};
    });
    s3.on(ListObjectsV2Command).callsFake((input: { Bucket?: string; Prefix?: string }) => {
      this.gate(region, 's3', 'ListObjectsV2');
      return { Contents: Object.keys(this.s3).filter((k) => k.startsWith(`${input.Bucket}/${input.Prefix ?? ''}`)).map((k) => ({ Key: k.slice(input.Bucket!.length + 1) })), IsTruncated: false };
    });
  }

  private mockRoute53(): void {
    const m = this.mocks.r53;
    m.on(ListResourceRecordSetsCommand).callsFake(() => {
      if (this.route53Down) throw enotfound('route53.amazonaws.com');
      return { ResourceRecordSets: [...this.records.map((r) => ({ ...r })), { Name: 'other.example.com.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.1' }] }], IsTruncated: false, MaxItems: 20 };
    });
    m.on(ChangeResourceRecordSetsCommand).callsFake((input: { ChangeBatch?: { Changes?: Array<{ Action?: string; ResourceRecordSet?: ResourceRecordSet }> } }) => {
      if (this.route53Down) throw enotfound('route53.amazonaws.com');
      if ((this.throttleNext.ChangeResourceRecordSets ?? 0) > 0) {
        this.throttleNext.ChangeResourceRecordSets--;
        throw throttle('PriorRequestNotComplete');
      }
      // Atomic like Route 53: apply to a copy, validate the result (one PRIMARY at most, DELETE must match exactly).
      const next = this.records.map((r) => ({ ...r }));
      for (const c of input.ChangeBatch?.Changes ?? []) {
        const s = c.ResourceRecordSet!;
        const i = next.findIndex((r) => r.SetIdentifier === s.SetIdentifier);
        if (c.Action === 'DELETE') {
          if (i < 0 || JSON.stringify(next[i]) !== JSON.stringify(s)) throw awsError('InvalidChangeBatch', `Tried to delete resource record set ${s.SetIdentifier} but the values provided do not match the current values`);
          next.splice(i, 1);
        } else if (c.Action === 'CREATE') {
          if (i >= 0) throw awsError('InvalidChangeBatch', `Tried to create resource record set ${s.SetIdentifier} but it already exists`);
          next.push({ ...s });
        } else if (i >= 0) next[i] = { ...s };
        else next.push({ ...s });
      }
      if (next.filter((r) => r.Failover === 'PRIMARY').length > 1) throw awsError('InvalidChangeBatch', 'two PRIMARY failover records');
      this.records = next;
      this.act('ChangeResourceRecordSets');
      return { ChangeInfo: { Id: '/change/C123', Status: 'PENDING', SubmittedAt: new Date() } };
    });
    let polls = 0;
    m.on(GetChangeCommand).callsFake(() => {
      polls++;
      return { ChangeInfo: { Id: '/change/C123', Status: polls > this.changePolls ? 'INSYNC' : 'PENDING', SubmittedAt: new Date() } };
    });
  }

  restore(): void {
    for (const group of [this.mocks.rds, this.mocks.cw, this.mocks.ec, this.mocks.sm, this.mocks.sns, this.mocks.s3]) for (const m of Object.values(group)) m.restore();
    this.mocks.r53.restore();
  }
}

interface FakeStackState {
  config: Record<string, string>;
  history: StackUpdateSummary[];
  outputs: Record<string, { value: unknown; secret: boolean }>;
  region: string;
  /** The stack's state records its database as a replica (true until a refresh or an up sees otherwise). */
  stateReplica: boolean;
}

/** A fake Automation API workspace: config per stack, update history, `up` that drives the {@link World}. */
export class FakeDriver implements StackDriver {
  readonly stacks: Record<string, FakeStackState>;
  readonly calls: string[] = [];
  /** The options of every `up` (refresh, target), in order. */
  readonly upOptions: Array<{ refresh: boolean; target: string[] }> = [];
  /** Throw a concurrent-update error on the next N `up` calls. */
  busyUps = 0;
  /** The backend does not answer (select fails). */
  backendDown = false;
  /** Crash (as `dr` dying) right after the N-th successful `up`. */
  crashAfterUp?: number;
  private ups = 0;
  /** Lines `up` streams to onOutput (e.g. containing a secret). */
  upOutput = ['Updating (secondary)', '~ aws:rds:Instance bot-dr-db-instance updating [diff: -replicateSourceDb]', 'Resources: 1 updated'];

  constructor(readonly world: World, retention = 14) {
    this.retention = retention;
    this.stacks = {
      'acme/bot-platform-dr/primary': { config: { 'bot-platform-dr:role': 'primary', 'bot-platform-dr:database.promoted': 'false' }, history: [], region: A, outputs: wrap(PRIMARY_OUTPUTS), stateReplica: false },
      'acme/bot-platform-dr/secondary': { config: { 'bot-platform-dr:role': 'secondary', 'bot-platform-dr:database.promoted': 'false' }, history: [], region: B, outputs: wrap(SECONDARY_OUTPUTS), stateReplica: true },
    };
    this.stacks['acme/bot-platform-dr/secondary'].outputs.apiToken = { value: SECRET_TOKEN, secret: true };
  }
  private readonly retention: number;

  /** What `up` does to the stack's cache and its `globalDatastoreId` output ({@link applyCache}); for wrappers of `up`. */
  applyCache(name: string): void {
    applyCache(this, name);
  }

  async select(name: string): Promise<StackLike> {
    this.calls.push(`select ${name}`);
    if (this.backendDown) throw enotfound('api.pulumi.com');
    const st = this.stacks[name];
    if (!st) throw awsError('StackNotFoundError', `no stack named '${name}' found`);
    const driver = this;
    return {
      name,
      async refresh(opts) {
        if (driver.backendDown) throw enotfound('api.pulumi.com');
        if (driver.world.down.has(st.region)) throw new Error(`refresh failed: getaddrinfo ENOTFOUND rds.${st.region}.amazonaws.com`);
        driver.calls.push(`refresh ${name}`);
        st.stateReplica = Boolean(driver.world.db[st.region].replicaOf);
        opts.onOutput('Refreshing (x)\n');
        st.history.unshift({ kind: 'refresh', result: 'succeeded', config: structured(st.config) });
      },
      async up(opts) {
        if (driver.backendDown) throw enotfound('api.pulumi.com');
        if (driver.busyUps > 0) {
          driver.busyUps--;
          driver.calls.push(`up-busy ${name}`);
          throw new StackBusyError(name, `stack ${name}: another update is in progress`);
        }
        driver.calls.push(`up ${name} ${opts.message}`);
        driver.upOptions.push({ refresh: opts.refresh ?? false, target: opts.target ?? [] });
        if (opts.refresh) st.stateReplica = Boolean(driver.world.db[st.region].replicaOf);
        for (const l of driver.upOutput) opts.onOutput(l + '\n');
        if (st.config['bot-platform-dr:database.promoted'] === 'true') {
          driver.world.pulumiPromote(st.region, driver.retention, st.stateReplica);
          st.stateReplica = false;
        }
        driver.applyCache(name);
        st.history.unshift({ kind: 'update', result: 'succeeded', message: opts.message, config: structured(st.config) });
        driver.ups++;
        if (driver.crashAfterUp === driver.ups) {
          const e = new Error(`injected crash after up #${driver.ups}`);
          e.name = 'CrashError';
          throw e;
        }
        return { result: 'succeeded' };
      },
      async outputs() {
        return st.outputs;
      },
      async getConfig(key) {
        return st.config[key];
      },
      async setConfig(key, value) {
        driver.calls.push(`config ${name} ${key}=${value}`);
        st.config[key] = value;
      },
      async history(n) {
        return st.history.slice(0, n);
      },
    };
  }
}

/**
 * The cache part of a stack's `up` (components/cache.ts + lib/roles.ts) on the {@link World}, and the output it
 * changes: a `secondary` stack with `cache.detached` creates the datastore of its `cache.globalDatastoreGeneration`
 * from its group; any other `secondary` stack's group must be a member of the datastore its peer outputs (rebuilt as
 * one if it is not). A `primary` stack's cache is left as it is (it owns the datastore it created).
 */
function applyCache(driver: FakeDriver, name: string): void {
  const st = driver.stacks[name];
  const cfg = st.config;
  if (cfg['bot-platform-dr:role'] !== 'secondary') return;
  let gid: string;
  if (cfg['bot-platform-dr:cache.detached'] === 'true') {
    gid = World.globalId(st.region, globalDatastoreSuffix('botdr', Number(cfg['bot-platform-dr:cache.globalDatastoreGeneration'] ?? '1')));
    driver.world.pulumiCache(st.region, { lead: gid });
  } else {
    const peer = Object.values(driver.stacks).find((x) => x !== st)!;
    gid = String(peer.outputs.globalDatastoreId?.value);
    driver.world.pulumiCache(st.region, { join: gid });
  }
  st.outputs.globalDatastoreId = { value: gid, secret: false };
}

function wrap(o: Record<string, unknown>): Record<string, { value: unknown; secret: boolean }> {
  const out: Record<string, { value: unknown; secret: boolean }> = {};
  for (const [k, v] of Object.entries(o)) out[k] = { value: v, secret: false };
  return out;
}

/** Config as `pulumi stack history` reports it: structured keys (`database.*`, `cache.*`) hold a JSON object. */
function structured(flat: Record<string, string>): StackUpdateSummary['config'] {
  const out: StackUpdateSummary['config'] = {};
  const objects: Record<string, Record<string, unknown>> = { 'bot-platform-dr:database': {} };
  for (const [k, v] of Object.entries(flat)) {
    const m = /^(bot-platform-dr:(?:database|cache))\.(.+)$/.exec(k);
    if (m) (objects[m[1]] ??= {})[m[2]] = v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v;
    else out[k] = { value: v };
  }
  for (const [k, o] of Object.entries(objects)) out[k] = { value: JSON.stringify(o) };
  return out;
}
