/**
 * The readiness engine's observer on AWS (automation/readiness `ReadinessObserver`): every observation of both
 * regions, read-only, each API call counted (the report's `calls`, retries included).
 *
 * Which region stands by is read from RDS, not from the stacks' role outputs (they are stale after a failover): the
 * instance with `ReadReplicaSourceDBInstanceIdentifier` is the standby. The calls per run, with two bots:
 *  - database: RDS `DescribeDBInstances` ×2 (shared with certificates), `DescribeDBParameterGroups` ×2 (family),
 *    `DescribeDBParameters` ×2 (Source=user: rds.force_ssl, ssl_min_protocol_version), CloudWatch `GetMetricData`
 *    ReplicaLag ×1, `DescribeDBInstanceAutomatedBackups` ×1 in the standby's region (RestoreWindow.LatestTime);
 *  - certificates: `DescribeCertificates` ×2 (the CA's ValidTill; the server's is DescribeDBInstances'
 *    CertificateDetails.ValidTill);
 *  - cache: ElastiCache `DescribeGlobalReplicationGroups` (ShowMemberInfo) ×1, CloudWatch `GetMetricData`
 *    GlobalDatastoreReplicationLag (a SEARCH over the member's nodes) ×1;
 *  - backups: S3 `ListObjectsV2` per service/tier prefix and bucket (6 ×2, more pages past 1,000 keys), `GetObject`
 *    per complete PostgreSQL manifest in one bucket (the restore tests), CloudWatch `GetMetricData`
 *    OperationsFailedReplication ×1;
 *  - secrets: Secrets Manager `DescribeSecret` per replicated secret (DB credentials, cache auth, each bot's tokens);
 *  - dns: Route 53 `ListResourceRecordSets` ×1, `GetHealthCheck` per record, `GetHealthCheckStatus` ×1 (standby);
 *  - bots: Secrets Manager `GetSecretValue` per bot (in the region the bots are probed from) and the platform
 *    requests (adapters/bots/readiness.ts).
 *  - KMS `DescribeKey` per region's key, ECR `DescribeImages` ×1, Lambda `GetFunction` per function (standby),
 *    Scheduler `GetSchedule` per schedule in both regions, through {@link KmsKeyProbe} / {@link JobsProbe}
 *    (readiness-jobs.ts over the real clients); without a probe those facts are reported as not observed (the checks
 *    warn), never guessed.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeGlobalReplicationGroupsCommand } from '@aws-sdk/client-elasticache';
import { DescribeCertificatesCommand, DescribeDBInstanceAutomatedBackupsCommand, DescribeDBInstancesCommand, DescribeDBParameterGroupsCommand, DescribeDBParametersCommand, type DBInstance } from '@aws-sdk/client-rds';
import { GetHealthCheckCommand, GetHealthCheckStatusCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { S3Client } from '@aws-sdk/client-s3';
import { READINESS_LIMITS, type ReadinessArea, type ReadinessCalls, type ReadinessRegionTarget, type ReadinessTargets } from '../../../lib/readiness';
import { systemClock, type Clock } from '../../core/clock';
import { errorSummary } from '../../core/errors';
import { redact } from '../../core/redact';
import { observationFailed, unobserved, type AreaObservations, type CacheObservation, type CertificatesObservation, type DatabaseObservation, type DbInstanceView, type DnsObservation, type JobsObservation, type Observed, type ReadinessObserver, type SecretReplicaView, type SecretsObservation, type TlsSettings } from '../../readiness';
import type { TokenProber } from '../../tokens';
import { botTokenProber } from '../bots/index';
import type { AwsClientFactories } from './index';
import { observeAwsBackups } from './readiness-backups';
import { observeAwsBots } from './readiness-bots';
import { AWS_RETRY, isThrottling, withRetry, type Backoff } from './retry';
import { healthFromObservations, LAG_WINDOW_MS } from './status-probes';
import { arnRegion, secretArnInRegion } from './topology';

/** KMS `DescribeKey` → `KeyMetadata.KeyState` (needs @aws-sdk/client-kms). */
export interface KmsKeyProbe {
  keyState(region: string, keyId: string): Promise<string>;
}

/** ECR `DescribeImages`, Lambda `GetFunction`, Scheduler `GetSchedule` (readiness-jobs.ts `awsJobsProbe`). */
export interface JobsProbe {
  image(region: string, repository: string): Promise<{ present: boolean; detail?: string }>;
  /** The function's `Configuration.State`, or null when it does not exist. */
  functionState(region: string, name: string): Promise<string | null>;
  /** The schedule's state, or null when it does not exist. */
  scheduleState(region: string, name: string): Promise<'ENABLED' | 'DISABLED' | null>;
}

export interface AwsReadinessObserverOptions {
  targets: ReadinessTargets;
  clients: Pick<AwsClientFactories, 'rds' | 'cloudwatch' | 'elasticache' | 'secretsManager' | 's3' | 'route53'>;
  /** The region the bots are probed from and the report is made in (the Lambda's; default: the standby's). */
  from?: string;
  /** Default: the Telegram and Discord probers over `apis`. */
  prober?: TokenProber;
  /** API roots of the default prober and the webhook/rights checks (the CLI's and the Lambda's DR_*_API_URL). */
  apis?: { telegram?: string; discord?: string };
  kms?: KmsKeyProbe;
  jobs?: JobsProbe;
  clock?: Clock;
  retry?: Partial<Backoff>;
}

/** Which region serves and which stands by, from RDS. */
export interface Orientation {
  serving: ReadinessRegionTarget;
  standby: ReadinessRegionTarget;
  /** DescribeDBInstances per region (an Error when it failed). */
  db: Record<string, DBInstance | Error>;
  /** `replica`: the standby replicates; `none`: both are standalone (after a failover); `unknown`: the standby does not answer. */
  replica: 'replica' | 'none' | 'unknown';
}

const why = (err: unknown) => redact(errorSummary(err));

/** The readiness observer over AWS; {@link toObserver} gives the engine's port. */
export class AwsReadiness {
  readonly clock: Clock;
  private readonly retry: Backoff;
  private readonly counts: ReadinessCalls = { aws: 0, platform: 0, local: 0, by_area: {} };
  private readonly described = new Map<string, Promise<DBInstance>>();
  private orientationMemo?: Promise<Orientation>;

  constructor(readonly o: AwsReadinessObserverOptions) {
    this.clock = o.clock ?? systemClock;
    this.retry = { ...AWS_RETRY, ...o.retry };
  }

  /** Count `n` calls of `kind` for `area`. */
  count(area: ReadinessArea, n = 1, kind: 'aws' | 'platform' = 'aws'): void {
    this.counts[kind] += n;
    this.counts.by_area[area] = (this.counts.by_area[area] ?? 0) + n;
  }

  calls(): ReadinessCalls {
    return { ...this.counts, by_area: { ...this.counts.by_area } };
  }

  /** One AWS call for `area`: counted per attempt, throttling retried with the bounded backoff. */
  call<T>(area: ReadinessArea, what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      () => {
        this.count(area);
        return fn();
      },
      { ...this.retry, retryable: isThrottling, clock: this.clock, what },
    );
  }

  /** `client` with every request counted for `area` (for the clients handed to other adapters: S3Store, the token store). */
  counted<C extends { send(...args: never[]): unknown }>(area: ReadinessArea, client: C): C {
    return new Proxy(client, {
      get: (t, p, r) => {
        if (p !== 'send') return Reflect.get(t, p, r);
        return (...args: unknown[]) => {
          this.count(area);
          return (t.send as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  }

  /** An S3 client of `region` whose every request counts for `area`. */
  s3(area: ReadinessArea, region: string): S3Client {
    return this.counted(area, this.o.clients.s3(region));
  }

  get prober(): TokenProber {
    return this.o.prober ?? botTokenProber({ clock: this.clock, telegram: { apiRoot: this.o.apis?.telegram }, discord: { api: this.o.apis?.discord } });
  }

  /** DescribeDBInstances of a region's instance, once per run (database and certificates share it). */
  describe(t: ReadinessRegionTarget): Promise<DBInstance> {
    let p = this.described.get(t.region);
    if (!p) {
      p = this.call('database', `RDS DescribeDBInstances ${t.dbIdentifier} in ${t.region}`, () => this.o.clients.rds(t.region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: t.dbIdentifier }))).then((r) => {
        const i = r.DBInstances?.[0];
        if (!i) throw new Error(`DescribeDBInstances returned no instance ${t.dbIdentifier}`);
        return i;
      });
      this.described.set(t.region, p);
    }
    return p;
  }

  orientation(): Promise<Orientation> {
    this.orientationMemo ??= this.orient().then((or) => {
      this.standbyRegion = or.standby.region;
      return or;
    });
    return this.orientationMemo;
  }

  /** The standby region once the orientation is known. */
  standbyRegion?: string;

  private async orient(): Promise<Orientation> {
    const [r0, r1] = this.o.targets.regions;
    const got = await Promise.all([r0, r1].map((t) => this.describe(t).then((d): DBInstance | Error => d, (e: unknown): DBInstance | Error => (e instanceof Error ? e : new Error(String(e))))));
    const db = { [r0.region]: got[0], [r1.region]: got[1] };
    const replicaOf = (d: DBInstance | Error) => !(d instanceof Error) && !!d.ReadReplicaSourceDBInstanceIdentifier;
    if (replicaOf(got[1])) return { serving: r0, standby: r1, db, replica: 'replica' };
    if (replicaOf(got[0])) return { serving: r1, standby: r0, db, replica: 'replica' };
    const byRole = r1.role === 'primary' && r0.role !== 'primary' ? [r1, r0] : [r0, r1];
    const ok = [r0, r1].filter((t) => !(db[t.region] instanceof Error));
    if (ok.length === 2) return { serving: byRole[0], standby: byRole[1], db, replica: 'none' };
    if (ok.length === 1) return { serving: ok[0], standby: ok[0] === r0 ? r1 : r0, db, replica: 'unknown' };
    return { serving: byRole[0], standby: byRole[1], db, replica: 'unknown' };
  }

  // --- database ------------------------------------------------------------------------------

  async database(): Promise<DatabaseObservation> {
    const or = await this.orientation();
    const d = or.db[or.standby.region];
    const [primary, replica, lag, automatedBackups] = await Promise.all([
      this.instanceView(or.serving, or.db[or.serving.region]),
      or.replica === 'none' ? Promise.resolve(null) : this.instanceView(or.standby, d),
      this.replicaLag(or),
      this.replicatedBackups(or),
    ]);
    let replication: DatabaseObservation['replication'];
    if (d instanceof Error) replication = observationFailed(`DescribeDBInstances ${or.standby.dbIdentifier} in ${or.standby.region}: ${why(d)}`);
    else {
      const s = d.StatusInfos?.find((x) => x.StatusType === 'read replication');
      replication = s?.Status
        ? { streaming: s.Status === 'replicating', state: s.Status, detail: redact(s.Message ?? `read replica of ${d.ReadReplicaSourceDBInstanceIdentifier ?? '?'} (${d.DBInstanceStatus ?? '?'})`) }
        : unobserved(`${or.standby.dbIdentifier} reports no read-replication status (DBInstanceStatus ${d.DBInstanceStatus ?? '?'})`);
    }
    return { rpoSeconds: this.o.targets.rpoSeconds, primary, replica, replication, lag, automatedBackups };
  }

  private async instanceView(t: ReadinessRegionTarget, d: DBInstance | Error): Promise<Observed<DbInstanceView>> {
    if (d instanceof Error) return observationFailed(`DescribeDBInstances ${t.dbIdentifier} in ${t.region}: ${why(d)}`);
    const group = d.DBParameterGroups?.[0]?.DBParameterGroupName;
    const view: DbInstanceView = { id: t.dbIdentifier, region: t.region, status: d.DBInstanceStatus ?? 'unknown', ...(d.EngineVersion ? { engineVersion: d.EngineVersion } : {}), ...(d.DBInstanceClass ? { instanceClass: d.DBInstanceClass } : {}) };
    if (!group) return { ...view, parameterFamily: unobserved('the instance names no parameter group'), tls: unobserved('the instance names no parameter group') };
    const rds = this.o.clients.rds(t.region);
    const [family, tls] = await Promise.all([
      this.call('database', `RDS DescribeDBParameterGroups ${group} in ${t.region}`, () => rds.send(new DescribeDBParameterGroupsCommand({ DBParameterGroupName: group }))).then(
        (r): Observed<string> => r.DBParameterGroups?.[0]?.DBParameterGroupFamily ?? unobserved(`${group} reports no family`),
        (e: unknown) => observationFailed(`DescribeDBParameterGroups ${group} in ${t.region}: ${why(e)}`),
      ),
      this.tls(t, group, d).catch((e: unknown) => observationFailed(`DescribeDBParameters ${group} in ${t.region}: ${why(e)}`)),
    ]);
    return { ...view, parameterFamily: family, tls };
  }

  /** The group's user-set TLS parameters (every page) and the instance's CA. */
  private async tls(t: ReadinessRegionTarget, group: string, d: DBInstance): Promise<TlsSettings> {
    const out: TlsSettings = { ...(d.CACertificateIdentifier ? { caIdentifier: d.CACertificateIdentifier } : {}) };
    let marker: string | undefined;
    do {
      const r = await this.call('database', `RDS DescribeDBParameters ${group} in ${t.region}`, () => this.o.clients.rds(t.region).send(new DescribeDBParametersCommand({ DBParameterGroupName: group, Source: 'user', ...(marker ? { Marker: marker } : {}) })));
      for (const p of r.Parameters ?? []) {
        if (p.ParameterName === 'rds.force_ssl' && p.ParameterValue !== undefined) out.forceSsl = p.ParameterValue;
        if (p.ParameterName === 'ssl_min_protocol_version' && p.ParameterValue !== undefined) out.minProtocol = p.ParameterValue;
      }
      marker = r.Marker;
    } while (marker);
    return out;
  }

  private async replicaLag(or: Orientation): Promise<DatabaseObservation['lag']> {
    if (or.replica === 'none') return { seconds: null };
    const id = or.standby.dbIdentifier;
    try {
      return await this.latest('database', or.standby.region, `ReplicaLag ${id}`, { Id: 'lag', MetricStat: { Metric: { Namespace: 'AWS/RDS', MetricName: 'ReplicaLag', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: id }] }, Period: 60, Stat: 'Maximum' }, ReturnData: true });
    } catch (err) {
      return observationFailed(`CloudWatch ReplicaLag of ${id} in ${or.standby.region}: ${why(err)}`);
    }
  }

  /** The newest datapoint (max over the series) of one metric query in the lag window. */
  async latest(area: ReadinessArea, region: string, what: string, q: MetricDataQuery): Promise<{ seconds: number | null; observedAt?: string }> {
    const end = this.clock.now();
    const cw: CloudWatchClient = this.o.clients.cloudwatch(region);
    const r = await this.call(area, `CloudWatch GetMetricData ${what} in ${region}`, () => cw.send(new GetMetricDataCommand({ StartTime: new Date(end.getTime() - LAG_WINDOW_MS), EndTime: end, ScanBy: 'TimestampDescending', MetricDataQueries: [q] })));
    let best: { seconds: number; at: number } | undefined;
    for (const s of r.MetricDataResults ?? []) {
      const v = s.Values?.[0];
      const at = s.Timestamps?.[0] ? new Date(s.Timestamps[0]).getTime() : 0;
      if (v !== undefined && (!best || v > best.seconds)) best = { seconds: v, at };
    }
    return best ? { seconds: best.seconds, ...(best.at ? { observedAt: new Date(best.at).toISOString() } : {}) } : { seconds: null };
  }

  private async replicatedBackups(or: Orientation): Promise<DatabaseObservation['automatedBackups']> {
    const { serving, standby } = or;
    const resource = `${standby.region}/${serving.dbIdentifier} automated backups`;
    const primary = or.db[serving.region];
    const arn = primary instanceof Error ? undefined : primary.DBInstanceAutomatedBackupsReplications?.find((x) => x.DBInstanceAutomatedBackupsArn && arnRegion(x.DBInstanceAutomatedBackupsArn) === standby.region)?.DBInstanceAutomatedBackupsArn;
    if (!(primary instanceof Error) && !arn) return { replicated: false, region: standby.region, resource };
    try {
      const r = await this.call('database', `RDS DescribeDBInstanceAutomatedBackups in ${standby.region}`, () =>
        this.o.clients.rds(standby.region).send(new DescribeDBInstanceAutomatedBackupsCommand(arn ? { DBInstanceAutomatedBackupsArn: arn } : { Filters: [{ Name: 'db-instance-id', Values: [serving.dbIdentifier] }] })),
      );
      const b = (r.DBInstanceAutomatedBackups ?? []).find((x) => !x.Region || x.Region === serving.region);
      if (!b) return { replicated: false, region: standby.region, resource };
      const latest = b.RestoreWindow?.LatestTime;
      return { replicated: true, region: standby.region, resource, ...(b.Status ? { status: b.Status } : {}), ...(latest ? { latestRestorableTime: new Date(latest).toISOString() } : {}) };
    } catch (err) {
      return observationFailed(`DescribeDBInstanceAutomatedBackups in ${standby.region}: ${why(err)}`);
    }
  }

  // --- certificates --------------------------------------------------------------------------

  async certificates(): Promise<CertificatesObservation> {
    const items: CertificatesObservation['items'] = [];
    await Promise.all(
      this.o.targets.regions.map(async (t) => {
        let d: DBInstance;
        try {
          d = await this.describe(t);
        } catch (err) {
          const failed = observationFailed(`DescribeDBInstances ${t.dbIdentifier} in ${t.region}: ${why(err)}`);
          items.push({ kind: 'rds-ca', resource: `${t.region}/${t.dbIdentifier} CA`, validTill: failed }, { kind: 'rds-server', resource: `${t.region}/${t.dbIdentifier}`, validTill: failed });
          return;
        }
        const ca = d.CACertificateIdentifier;
        const caRes = `${t.region}/${ca ?? 'CA'}`;
        if (!ca) items.push({ kind: 'rds-ca', resource: caRes, validTill: unobserved(`${t.dbIdentifier} names no CA`) });
        else {
          const validTill = await this.call('certificates', `RDS DescribeCertificates ${ca} in ${t.region}`, () => this.o.clients.rds(t.region).send(new DescribeCertificatesCommand({ CertificateIdentifier: ca }))).then(
            (r): Observed<string> => {
              const v = r.Certificates?.[0]?.ValidTill;
              return v ? new Date(v).toISOString() : unobserved(`DescribeCertificates ${ca} reports no ValidTill`);
            },
            (e: unknown) => observationFailed(`DescribeCertificates ${ca} in ${t.region}: ${why(e)}`),
          );
          items.push({ kind: 'rds-ca', resource: caRes, validTill });
        }
        const server = d.CertificateDetails?.ValidTill;
        items.push({ kind: 'rds-server', resource: `${t.region}/${t.dbIdentifier}`, validTill: server ? new Date(server).toISOString() : unobserved(`${t.dbIdentifier} reports no CertificateDetails.ValidTill`) });
      }),
    );
    return { items: items.sort((a, b) => a.kind.localeCompare(b.kind) || a.resource.localeCompare(b.resource)) };
  }

  // --- cache ---------------------------------------------------------------------------------

  async cache(): Promise<CacheObservation> {
    const or = await this.orientation();
    const base = { servingRegion: or.serving.region, standbyRegion: or.standby.region, lagBudgetSeconds: this.o.targets.rpoSeconds };
    const gid = this.o.targets.globalDatastoreId;
    if (!gid) return { ...base, global: null };
    let global: CacheObservation['global'];
    try {
      const r = await this.call('cache', `ElastiCache DescribeGlobalReplicationGroups ${gid} in ${or.standby.region}`, () => this.o.clients.elasticache(or.standby.region).send(new DescribeGlobalReplicationGroupsCommand({ GlobalReplicationGroupId: gid, ShowMemberInfo: true })));
      const g = r.GlobalReplicationGroups?.[0];
      global = g
        ? { id: gid, status: g.Status ?? 'unknown', members: (g.Members ?? []).map((m) => ({ replicationGroupId: m.ReplicationGroupId ?? '?', region: m.ReplicationGroupRegion ?? '?', role: m.Role ?? '?', status: m.Status ?? '?' })) }
        : observationFailed(`the global datastore ${gid} was not found`);
    } catch (err) {
      return { ...base, global: observationFailed(`DescribeGlobalReplicationGroups ${gid} in ${or.standby.region}: ${why(err)}`), lag: observationFailed('the global datastore could not be read') };
    }
    const secondary = 'members' in global ? global.members.find((m) => m.role === 'SECONDARY') : undefined;
    if (!secondary) return { ...base, global, lag: unobserved('the global datastore has no SECONDARY member') };
    const search = `SEARCH('{AWS/ElastiCache,CacheClusterId} MetricName="GlobalDatastoreReplicationLag" "${secondary.replicationGroupId}"', 'Maximum', 60)`;
    const lag = await this.latest('cache', secondary.region, `GlobalDatastoreReplicationLag ${secondary.replicationGroupId}`, { Id: 'lag', Expression: search, ReturnData: true }).catch((e: unknown) => observationFailed(`CloudWatch GlobalDatastoreReplicationLag in ${secondary.region}: ${why(e)}`));
    return { ...base, global, lag };
  }

  // --- secrets -------------------------------------------------------------------------------

  async secrets(): Promise<SecretsObservation> {
    const or = await this.orientation();
    const list = [...this.o.targets.secrets, ...this.o.targets.bots.map((b) => ({ label: `bot-tokens/${b.bot}`, secret: b.secret }))];
    const replicas = await Promise.all(
      list.map(async ({ label, secret }): Promise<Observed<SecretReplicaView> & { label: string }> => {
        const id = secret.startsWith('arn:') ? secretArnInRegion(secret, or.serving.region) : secret;
        try {
          const r = await this.call('secrets', `Secrets Manager DescribeSecret ${label} in ${or.serving.region}`, () => this.o.clients.secretsManager(or.serving.region).send(new DescribeSecretCommand({ SecretId: id })));
          return {
            label,
            secret: id,
            region: or.serving.region,
            peerRegion: or.standby.region,
            replication: (r.ReplicationStatus ?? []).map((x) => ({ region: x.Region ?? '?', status: x.Status ?? '?', ...(x.KmsKeyId ? { kmsKeyId: x.KmsKeyId } : {}), ...(x.StatusMessage ? { message: redact(x.StatusMessage) } : {}) })),
            ...(r.PrimaryRegion && r.PrimaryRegion !== or.serving.region ? { primaryRegion: r.PrimaryRegion } : {}),
          };
        } catch (err) {
          return { label, ...observationFailed(`DescribeSecret ${id} in ${or.serving.region}: ${why(err)}`) };
        }
      }),
    );
    return { replicas, keys: await this.keys() };
  }

  private async keys(): Promise<SecretsObservation['keys']> {
    const kms = this.o.kms;
    if (!kms) return unobserved('no KMS client was given, so KMS key states (DescribeKey KeyState) are not read');
    const out: Array<{ region: string; keyId: string; state: string }> = [];
    for (const t of this.o.targets.regions) {
      if (!t.kmsKeyArn) continue;
      this.count('secrets');
      out.push({ region: t.region, keyId: t.kmsKeyArn, state: await kms.keyState(t.region, t.kmsKeyArn).catch((e: unknown) => `unknown (${why(e)})`) });
    }
    return out.length ? out : unobserved('the stacks output no KMS key ARNs');
  }

  // --- dns -----------------------------------------------------------------------------------

  async dns(): Promise<DnsObservation> {
    const or = await this.orientation();
    const dns = this.o.targets.dns!;
    const name = dns.recordName.replace(/\.$/, '').toLowerCase();
    const base = { recordName: dns.recordName, standbyRegion: or.standby.region, ...(dns.ttl !== undefined ? { expectedTtl: dns.ttl } : {}) };
    const r53 = this.o.clients.route53();
    let records: Array<{ setIdentifier: string; failover?: string; ttl?: number; healthCheckId?: string }>;
    try {
      const r = await this.call('dns', `Route 53 ListResourceRecordSets ${dns.recordName}`, () => r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: dns.zoneId, StartRecordName: dns.recordName, MaxItems: 10 })));
      records = (r.ResourceRecordSets ?? [])
        .filter((x) => x.Name?.replace(/\.$/, '').toLowerCase() === name && x.SetIdentifier)
        .map((x) => ({ setIdentifier: x.SetIdentifier!, ...(x.Failover ? { failover: x.Failover } : {}), ...(x.TTL !== undefined ? { ttl: x.TTL } : {}), ...(x.HealthCheckId ? { healthCheckId: x.HealthCheckId } : {}) }));
    } catch (err) {
      const failed = observationFailed(`ListResourceRecordSets ${dns.recordName} in ${dns.zoneId}: ${why(err)}`);
      return { ...base, records: failed, healthChecks: failed, standbyHealth: failed };
    }
    const healthChecks = await Promise.all(
      records.filter((x) => x.healthCheckId).map(async (x) => {
        try {
          await this.call('dns', `Route 53 GetHealthCheck ${x.healthCheckId}`, () => r53.send(new GetHealthCheckCommand({ HealthCheckId: x.healthCheckId })));
          return { id: x.healthCheckId!, setIdentifier: x.setIdentifier, exists: true };
        } catch (err) {
          if ((err as { name?: string }).name === 'NoSuchHealthCheck') return { id: x.healthCheckId!, setIdentifier: x.setIdentifier, exists: false };
          throw err;
        }
      }),
    ).catch((e: unknown) => observationFailed(`GetHealthCheck: ${why(e)}`));
    const id = records.find((x) => x.setIdentifier === or.standby.region)?.healthCheckId ?? or.standby.healthCheckId;
    const standbyHealth: DnsObservation['standbyHealth'] = !id
      ? observationFailed(`no health check for ${or.standby.region}'s record`)
      : await this.call('dns', `Route 53 GetHealthCheckStatus ${id}`, () => r53.send(new GetHealthCheckStatusCommand({ HealthCheckId: id }))).then(
          (r) => ({ id, ...healthFromObservations((r.HealthCheckObservations ?? []).map((x) => x.StatusReport?.Status ?? '')) }),
          (e: unknown) => observationFailed(`GetHealthCheckStatus ${id}: ${why(e)}`),
        );
    return { ...base, records, healthChecks, standbyHealth };
  }

  // --- jobs ----------------------------------------------------------------------------------

  async jobs(): Promise<JobsObservation> {
    const or = await this.orientation();
    const p = this.o.jobs;
    const t = or.standby;
    if (!p) {
      return {
        region: t.region,
        image: unobserved('no ECR client was given, so the image in the standby region (ecr:DescribeImages) is not read'),
        functions: unobserved('no Lambda client was given, so the functions (lambda:GetFunction) are not read'),
        schedules: unobserved('no Scheduler client was given, so the schedules (scheduler:GetSchedule) are not read'),
      };
    }
    const counted = <T>(f: () => Promise<T>) => {
      this.count('jobs');
      return f();
    };
    const image: JobsObservation['image'] = t.jobs.repository ? await counted(() => p.image(t.region, t.jobs.repository!)).then((x) => ({ repository: t.jobs.repository!, ...x }), (e: unknown) => observationFailed(`DescribeImages: ${why(e)}`)) : unobserved('the stack outputs no repository');
    const functions = await Promise.all(t.jobs.functions.map(async (name) => ({ name, state: await counted(() => p.functionState(t.region, name)) }))).then(
      (xs) => xs.map((x) => ({ name: x.name, present: x.state !== null, ...(x.state ? { state: x.state } : {}) })),
      (e: unknown) => observationFailed(`GetFunction: ${why(e)}`),
    );
    const schedules = await Promise.all(
      [or.serving, or.standby].flatMap((r) => r.jobs.schedules.map(async (name) => ({ name, region: r.region, expected: (r === or.serving ? 'ENABLED' : 'DISABLED') as 'ENABLED' | 'DISABLED', state: (await counted(() => p.scheduleState(r.region, name))) ?? ('missing' as const) }))),
    ).catch((e: unknown) => observationFailed(`GetSchedule: ${why(e)}`));
    return { region: t.region, image, functions, schedules };
  }

  // --- backups and bots (their own modules) --------------------------------------------------

  async backups(): Promise<AreaObservations['backups']> {
    return observeAwsBackups(this, await this.orientation(), READINESS_LIMITS.replicationWindowHours);
  }

  async bots(): Promise<AreaObservations['bots']> {
    return observeAwsBots(this, await this.orientation());
  }

  /** The engine's port: the areas this pair has (no DNS area without a failover record). */
  toObserver(): ReadinessObserver {
    const self = this;
    const guess = this.o.targets.regions.find((r) => r.role !== 'primary')?.region ?? this.o.targets.regions[1].region;
    const obs: ReadinessObserver = {
      environment: 'aws',
      // Where the bots are probed from: the Lambda's region, else the standby (known once RDS has been read).
      get from() {
        return self.o.from ?? self.standbyRegion ?? guess;
      },
      calls: () => this.calls(),
      database: () => this.database(),
      cache: () => this.cache(),
      backups: () => this.backups(),
      secrets: () => this.secrets(),
      bots: () => this.bots(),
      certificates: () => this.certificates(),
      jobs: () => this.jobs(),
      ...(this.o.targets.dns ? { dns: () => this.dns() } : {}),
      notApplicable: this.o.targets.dns ? {} : { dns: 'the stacks configure no failover DNS (bot-platform-dr:dns)' },
    };
    return obs;
  }
}

/** The observer over AWS for `targets`. */
export function awsReadinessObserver(o: AwsReadinessObserverOptions): ReadinessObserver {
  return new AwsReadiness(o).toObserver();
}
