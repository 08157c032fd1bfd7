/**
 * DatabasePort on AWS: RDS PostgreSQL primary + cross-region read replica.
 *
 * - role: `DescribeDBInstances` in the region. A `ReadReplicaSourceDBInstanceIdentifier` means standby; none means
 *   primary (already promoted); a stopped/failed instance or an API that does not answer means `unreachable`.
 * - lag: from SQL when a {@link SqlProbe} reaches the databases (LSNs, bytes, replay delay), otherwise CloudWatch
 *   `ReplicaLag` (`GetMetricStatistics`, AWS/RDS, DBInstanceIdentifier = the replica, in the replica's region): the
 *   last datapoint of the last 15 minutes, with its timestamp (the "last known lag" when the primary is gone).
 * - promote (traffic first: no stack update on the critical path; the `reconcile` step re-targets the stacks after
 *   traffic moved): `PromoteReadReplica`, then a bounded poll of `DescribeDBInstances` until `available` and no
 *   longer a replica. Check-then-act at each point.
 * - harden (in `reconcile`, after traffic moved): one `ModifyDBInstance` (`ApplyImmediately`) for what the survivor
 *   still lacks of the primary's posture — the backup retention RDS leaves at 0 on a promoted PostgreSQL replica,
 *   and Multi-AZ — not waited for.
 * - fence (chosen design): the old primary's DB parameter group gets `default_transaction_read_only = 1`
 *   (`ModifyDBParameterGroup`, ApplyMethod immediate — a dynamic parameter, persistent across restarts); when a
 *   SqlProbe reaches it, application sessions are terminated too. The check reads the parameter back
 *   (`DescribeDBParameters`, Source user). Replication is not affected. A session can override that parameter, so
 *   when the stack outputs carry the security-group ids the fence ALSO moves the instance onto the region's empty
 *   fence security group ({@link SecurityGroupFence}: `ModifyDBInstance VpcSecurityGroupIds`, no Pulumi-managed
 *   rule is edited); fenced = both in place; unfence lifts both.
 */

import { DBInstance, DescribeDBInstancesCommand, DescribeDBParametersCommand, ModifyDBInstanceCommand, ModifyDBParameterGroupCommand, PromoteReadReplicaCommand, RDSClient, ResetDBParameterGroupCommand } from '@aws-sdk/client-rds';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { errorSummary, OperationError } from '../../core/errors';
import { redact } from '../../core/redact';
import { type CallOptions, compareLsn, type DatabasePort, type DataRole, lsnDiffBytes, type ReplicationState } from '../../failover/index';
import { SQL_PROBES } from './sql-probes';
import { AWS_RETRY, isThrottling, isUnreachable, withRetry } from './retry';
import { SecurityGroupFence } from './sg-fence';
import { AwsTopology, awsRegion } from './topology';
import { systemClock, type Clock } from '../../core/clock';

/** SQL reach into the databases (optional: RDS usually sits in private subnets the operator cannot reach). */
export interface SqlProbe {
  /** Run one statement against `region`'s database; throws when it cannot connect. */
  query(region: string, sql: string): Promise<Array<Record<string, unknown>>>;
}

export interface RdsDatabaseOptions {
  topology: AwsTopology;
  rds: (region: string) => RDSClient;
  cloudwatch: (region: string) => CloudWatchClient;
  sql?: SqlProbe;
  /** Make the promoted instance Multi-AZ after traffic moved (stack config `database.promotedMultiAz`, default true). */
  promotedMultiAz?: boolean;
  /** Backup retention the promoted instance must have (stack config `database.backupRetentionDays`). Default 14. */
  backupRetentionDays?: number;
  /** Bounded waits for `available`. Defaults: 40 min, polled every 15 s. */
  waitTimeoutMs?: number;
  pollMs?: number;
  clock?: Clock;
  retry?: Partial<typeof AWS_RETRY>;
  /** Failover id used in stack update messages. */
  failoverId?: string;
  /** Network fence (security group); applied in the regions it covers. */
  sgFence?: SecurityGroupFence;
}

export const READ_ONLY_PARAMETER = 'default_transaction_read_only';
const DOWN_STATES = new Set(['stopped', 'stopping', 'failed', 'deleting', 'inaccessible-encryption-credentials', 'incompatible-restore', 'incompatible-parameters', 'restore-error']);

export class RdsDatabase implements DatabasePort {
  readonly unavailable = undefined;
  private readonly clock: Clock;
  private readonly retry: typeof AWS_RETRY;

  constructor(private readonly o: RdsDatabaseOptions) {
    this.clock = o.clock ?? systemClock;
    this.retry = { ...AWS_RETRY, ...o.retry };
  }

  private id(region: string): string {
    return awsRegion(this.o.topology, region).dbIdentifier;
  }

  private call<T>(what: string, fn: () => Promise<T>, opts?: CallOptions): Promise<T> {
    return withRetry(fn, { ...this.retry, retryable: isThrottling, clock: this.clock, signal: opts?.signal, log: opts?.log && ((l) => opts.log!(redact(l))), what });
  }

  /** The instance, or undefined when the region's API does not answer. Throws for any other error. */
  async describe(region: string, opts?: CallOptions): Promise<DBInstance | undefined> {
    const id = this.id(region);
    try {
      const r = await this.call(`RDS DescribeDBInstances ${id} in ${region}`, () => this.o.rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })), opts);
      const inst = r.DBInstances?.[0];
      if (!inst) throw new OperationError(`RDS instance ${id} not found in ${region}`);
      return inst;
    } catch (err) {
      if (isUnreachable(err)) {
        opts?.log?.(`RDS in ${region} does not answer: ${errorSummary(err)}`);
        return undefined;
      }
      if ((err as { name?: string }).name === 'DBInstanceNotFoundFault') throw new OperationError(`RDS instance ${id} does not exist in ${region}`);
      throw err;
    }
  }

  async role(region: string, opts?: CallOptions): Promise<DataRole> {
    const inst = await this.describe(region, opts);
    if (!inst || DOWN_STATES.has(inst.DBInstanceStatus ?? '')) return 'unreachable';
    return inst.ReadReplicaSourceDBInstanceIdentifier ? 'standby' : 'primary';
  }

  private async sql(region: string, text: string): Promise<Array<Record<string, unknown>> | undefined> {
    if (!this.o.sql) return undefined;
    try {
      return await this.o.sql.query(region, text);
    } catch {
      return undefined;
    }
  }

  /** Last `ReplicaLag` datapoint (seconds, and when) of the replica in `standby`'s region, last 15 minutes. */
  async cloudWatchLag(standby: string, opts?: CallOptions): Promise<{ seconds: number; at: Date } | undefined> {
    const id = this.id(standby);
    const end = this.clock.now();
    const start = new Date(end.getTime() - 15 * 60_000);
    try {
      const r = await this.call(
        `CloudWatch ReplicaLag ${id} in ${standby}`,
        () =>
          this.o.cloudwatch(standby).send(
            new GetMetricStatisticsCommand({ Namespace: 'AWS/RDS', MetricName: 'ReplicaLag', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: id }], StartTime: start, EndTime: end, Period: 60, Statistics: ['Maximum'] }),
          ),
        opts,
      );
      const points = (r.Datapoints ?? []).filter((d) => d.Timestamp && typeof d.Maximum === 'number').sort((a, b) => b.Timestamp!.getTime() - a.Timestamp!.getTime());
      return points.length ? { seconds: points[0].Maximum!, at: points[0].Timestamp! } : undefined;
    } catch (err) {
      if (isUnreachable(err)) return undefined;
      throw err;
    }
  }

  async replicationState(primary: string, standby: string, opts?: CallOptions): Promise<ReplicationState> {
    const primaryReachable = (await this.role(primary, opts)) !== 'unreachable';
    const st: ReplicationState = { primaryReachable, observedAt: this.clock.now().toISOString() };
    if (primaryReachable) {
      const p = await this.sql(primary, SQL_PROBES['current-wal-lsn']);
      const s = await this.sql(standby, SQL_PROBES['replay-position']);
      if (p?.[0]?.lsn && s?.[0]?.lsn) {
        st.primaryLsn = String(p[0].lsn);
        st.standbyReplayLsn = String(s[0].lsn);
        st.lagBytes = Math.max(0, lsnDiffBytes(st.primaryLsn, st.standbyReplayLsn));
        st.lagSeconds = st.lagBytes === 0 ? 0 : Math.round(Number(s[0].delay) * 10) / 10;
        return st;
      }
    }
    const cw = await this.cloudWatchLag(standby, opts);
    if (cw) {
      st.lagSeconds = cw.seconds;
      st.observedAt = cw.at.toISOString();
    }
    return st;
  }

  private async parameterGroup(region: string, opts?: CallOptions): Promise<string | undefined> {
    const inst = await this.describe(region, opts);
    return inst?.DBParameterGroups?.[0]?.DBParameterGroupName;
  }

  async isFenced(region: string, opts?: CallOptions): Promise<boolean> {
    if (!(await this.parameterFenced(region, opts))) return false;
    const sg = this.o.sgFence;
    if (!sg?.covers(region)) return true;
    try {
      return await sg.isFenced(region, opts);
    } catch (err) {
      if (err instanceof OperationError) return false;
      throw err;
    }
  }

  private async parameterFenced(region: string, opts?: CallOptions): Promise<boolean> {
    const group = await this.parameterGroup(region, opts);
    if (!group) return false;
    let marker: string | undefined;
    try {
      do {
        const r = await this.call(`RDS DescribeDBParameters ${group} in ${region}`, () => this.o.rds(region).send(new DescribeDBParametersCommand({ DBParameterGroupName: group, Source: 'user', Marker: marker })), opts);
        const p = r.Parameters?.find((x) => x.ParameterName === READ_ONLY_PARAMETER);
        if (p) return ['1', 'on', 'true'].includes(String(p.ParameterValue).toLowerCase());
        marker = r.Marker;
      } while (marker);
    } catch (err) {
      if (isUnreachable(err)) return false;
      throw err;
    }
    return false;
  }

  async fence(region: string, opts?: CallOptions): Promise<void> {
    const group = await this.parameterGroup(region, opts);
    if (!group) throw new OperationError(`cannot fence the database in ${region}: RDS there does not answer`);
    if (group.startsWith('default.')) throw new OperationError(`cannot fence ${this.id(region)}: it uses the default parameter group ${group}, which RDS does not let anyone modify; give it its own parameter group (the Pulumi program does)`);
    await this.call(
      `RDS ModifyDBParameterGroup ${group} in ${region}`,
      () => this.o.rds(region).send(new ModifyDBParameterGroupCommand({ DBParameterGroupName: group, Parameters: [{ ParameterName: READ_ONLY_PARAMETER, ParameterValue: '1', ApplyMethod: 'immediate' }] })),
      opts,
    );
    opts?.log?.(`database ${this.id(region)} in ${region}: ${READ_ONLY_PARAMETER}=1 on parameter group ${group}`);
    if (this.o.sgFence?.covers(region)) await this.o.sgFence.fence(region, opts);
    const killed = await this.sql(region, SQL_PROBES['terminate-sessions']);
    if (killed) opts?.log?.(`database ${this.id(region)}: ${String(killed[0]?.n ?? 0)} application session(s) terminated`);
  }

  async unfence(region: string, opts?: CallOptions): Promise<void> {
    const group = await this.parameterGroup(region, opts);
    if (!group) throw new OperationError(`cannot unfence the database in ${region}: RDS there does not answer`);
    await this.call(
      `RDS ResetDBParameterGroup ${group} in ${region}`,
      () => this.o.rds(region).send(new ResetDBParameterGroupCommand({ DBParameterGroupName: group, Parameters: [{ ParameterName: READ_ONLY_PARAMETER, ApplyMethod: 'immediate' }] })),
      opts,
    );
    if (this.o.sgFence?.covers(region)) await this.o.sgFence.unfence(region, opts);
  }

  async currentLsn(region: string): Promise<string> {
    if (!this.o.sql) throw new OperationError(`a planned switchover needs SQL access to the databases to read ${this.id(region)}'s final WAL position; give dr a database connection (run it where the VPC is reachable) or use --unplanned`);
    const r = await this.o.sql.query(region, SQL_PROBES['current-wal-lsn']);
    const lsn = r[0]?.lsn;
    if (typeof lsn !== 'string') throw new OperationError(`${this.id(region)} returned no WAL position`);
    return lsn;
  }

  async waitForReplay(region: string, lsn: string, timeoutMs: number, opts?: CallOptions): Promise<{ caughtUp: boolean; replayLsn?: string }> {
    if (!this.o.sql) throw new OperationError(`waiting for ${this.id(region)} to replay ${lsn} needs SQL access to it`);
    const deadline = this.clock.now().getTime() + timeoutMs;
    let last: string | undefined;
    for (;;) {
      const r = await this.sql(region, SQL_PROBES['replay-lsn']);
      if (typeof r?.[0]?.lsn === 'string') last = r[0].lsn;
      if (last && compareLsn(last, lsn) >= 0) return { caughtUp: true, replayLsn: last };
      if (this.clock.now().getTime() >= deadline) return { caughtUp: false, ...(last ? { replayLsn: last } : {}) };
      await this.clock.sleep(Math.min(1000, timeoutMs), opts?.signal);
    }
  }

  /**
   * Poll `DescribeDBInstances` until `ok(instance)`, at most {@link RdsDatabaseOptions.waitTimeoutMs}. Throws an
   * {@link OperationError} naming the last status on timeout.
   */
  async waitFor(region: string, what: string, ok: (i: DBInstance) => boolean, opts?: CallOptions): Promise<DBInstance> {
    const timeout = this.o.waitTimeoutMs ?? 40 * 60_000;
    const poll = this.o.pollMs ?? 15_000;
    const start = this.clock.now().getTime();
    let last = 'unknown';
    for (let n = 1; ; n++) {
      const inst = await this.describe(region, opts);
      if (inst && ok(inst)) return inst;
      last = inst ? `${inst.DBInstanceStatus ?? 'unknown'}${inst.ReadReplicaSourceDBInstanceIdentifier ? ', still a replica' : ''}` : 'RDS does not answer';
      const waited = this.clock.now().getTime() - start;
      if (waited >= timeout) throw new OperationError(`${this.id(region)} in ${region} did not become ${what} within ${Math.round(timeout / 1000)}s (last status: ${last})`);
      opts?.log?.(`waiting for ${this.id(region)} to be ${what} (status ${last}, poll ${n})`);
      await this.clock.sleep(poll, opts?.signal);
    }
  }

  async promote(region: string, opts?: CallOptions): Promise<void> {
    const id = this.id(region);
    const retention = this.o.backupRetentionDays ?? 14;
    let inst = await this.describe(region, opts);
    if (!inst) throw new OperationError(`cannot promote ${id}: RDS in ${region} does not answer`);
    if (inst.ReadReplicaSourceDBInstanceIdentifier) {
      if (inst.DBInstanceStatus !== 'available') {
        opts?.log?.(`replica ${id} is ${inst.DBInstanceStatus}; RDS promotes only an available replica: waiting`);
        inst = await this.waitFor(region, 'available (before promotion)', (i) => i.DBInstanceStatus === 'available' || !i.ReadReplicaSourceDBInstanceIdentifier, opts);
      }
      if (inst.ReadReplicaSourceDBInstanceIdentifier) {
        await this.call(`RDS PromoteReadReplica ${id} in ${region}`, () => this.o.rds(region).send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: id, BackupRetentionPeriod: retention })), opts);
        opts?.log?.(`RDS PromoteReadReplica ${id} (backup retention ${retention} days) requested`);
      }
    }
    await this.settle(region, opts);
  }

  /**
   * What a promotion leaves to finish before traffic can use the instance (also after a crash right after
   * PromoteReadReplica): wait until it is available as a standalone primary. Resolves with what it waited for, or
   * undefined when there was nothing to wait for. The backup retention is not on this path: {@link harden}.
   */
  async settle(region: string, opts?: CallOptions): Promise<string | undefined> {
    const before = await this.describe(region, opts);
    if (before && before.DBInstanceStatus === 'available' && !before.ReadReplicaSourceDBInstanceIdentifier) return undefined;
    await this.waitFor(region, 'available as a standalone primary', (i) => i.DBInstanceStatus === 'available' && !i.ReadReplicaSourceDBInstanceIdentifier, opts);
    return `waited until ${this.id(region)} was available as a standalone primary`;
  }

  /**
   * After traffic moved: the survivor gets the primary's posture in ONE online modification (`ApplyImmediately`),
   * not waited for (`dr status` shows it until it is there): its backup retention (the PostgreSQL caveat: RDS leaves
   * a promoted replica at 0, ignoring the retention asked for at promotion) and Multi-AZ (unless
   * `database.promotedMultiAz = false`). Check-then-act on the instance and its pending modifications, so a rerun
   * requests nothing twice.
   */
  async harden(region: string, opts?: CallOptions): Promise<string> {
    const id = this.id(region);
    const retention = this.o.backupRetentionDays ?? 14;
    const inst = await this.describe(region, opts);
    if (!inst) throw new OperationError(`RDS in ${region} does not answer`);
    const pending = inst.PendingModifiedValues ?? {};
    const wantMultiAz = this.o.promotedMultiAz !== false && !inst.MultiAZ && !pending.MultiAZ;
    const wantRetention = (inst.BackupRetentionPeriod ?? 0) < retention && (pending.BackupRetentionPeriod ?? 0) < retention;
    const found: string[] = [];
    if (!wantMultiAz) found.push(inst.MultiAZ ? 'Multi-AZ' : pending.MultiAZ ? 'Multi-AZ conversion under way' : 'single-AZ (database.promotedMultiAz = false)');
    if (!wantRetention) found.push(`backups ${Math.max(inst.BackupRetentionPeriod ?? 0, pending.BackupRetentionPeriod ?? 0)} days`);
    if (!wantMultiAz && !wantRetention) return `${id}: ${found.join(', ')}`;
    await this.call(
      `RDS ModifyDBInstance ${id} in ${region}`,
      () => this.o.rds(region).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, ApplyImmediately: true, ...(wantMultiAz ? { MultiAZ: true } : {}), ...(wantRetention ? { BackupRetentionPeriod: retention } : {}) })),
      opts,
    );
    const started = [...(wantMultiAz ? ['Multi-AZ conversion'] : []), ...(wantRetention ? [`backup retention ${inst.BackupRetentionPeriod ?? 0} → ${retention} days`] : [])];
    return `${id}: ${started.join(' and ')} started (online; dr status shows it until it is done)${found.length ? `; ${found.join(', ')}` : ''}`;
  }

  async writable(region: string, opts?: CallOptions): Promise<boolean> {
    if (this.o.sql) {
      const r = await this.sql(region, SQL_PROBES['write-probe']);
      return !!r;
    }
    // No SQL reach: the control plane's evidence (standalone, available, not fenced). The step log says which.
    const inst = await this.describe(region, opts);
    if (!inst || inst.DBInstanceStatus !== 'available' || inst.ReadReplicaSourceDBInstanceIdentifier) return false;
    const fenced = await this.isFenced(region, opts);
    opts?.log?.(`database ${this.id(region)}: writable judged from RDS (available, standalone, ${fenced ? 'FENCED' : 'not fenced'}); no SQL probe configured`);
    return !fenced;
  }
}
