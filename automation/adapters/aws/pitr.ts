/**
 * RDS point-in-time restore into a NEW scratch instance (never in place): `dr restore postgres --until`.
 *
 * In the region that runs the source instance: RestoreDBInstanceToPointInTime from SourceDBInstanceIdentifier.
 * In the secondary region (the source instance does not exist there): the replicated automated backups of the
 * source (DescribeDBInstanceAutomatedBackups) and SourceDBInstanceAutomatedBackupsArn. The requested time is
 * checked against the restorable window first (a usage error naming the window), then the new instance is
 * awaited until `available` and its endpoint returned.
 */
import {
  DBInstance,
  DeleteDBInstanceCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  RestoreDBInstanceToPointInTimeCommand,
  RestoreDBInstanceToPointInTimeCommandInput,
} from '@aws-sdk/client-rds';
import type { PointInTimeScratch } from '../../backup/index';
import { FlagError, OperationError, UsageError } from '../../core/errors';

/** `YYYY-MM-DD HH:MM:SS` (UTC) → Date; UsageError naming the form otherwise. */
export function parseUntil(value: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})Z?$/.exec(value.trim());
  const bad = () => new FlagError(`--until '${value}' is not allowed; expected "YYYY-MM-DD HH:MM:SS" in UTC`);
  if (!m) throw bad();
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw bad();
  return date;
}

/** The tag every scratch instance carries; {@link rdsPointInTimeScratch} deletes only instances that have it. */
const SCRATCH_TAG = { Key: 'purpose', Value: 'dr-scratch-restore' } as const;

export interface PitrOptions {
  sourceInstance: string;
  targetInstance: string;
  region: string;
  restoreTime: Date;
  /** Subnet group / security groups for the scratch instance (default: the source instance's, when visible). */
  subnetGroup?: string;
  securityGroupIds?: string[];
  instanceClass?: string;
  /** Poll interval while waiting for `available` (default 30 s) and the overall limit (default 90 min). */
  pollMs?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface PitrResult {
  mode: 'instance' | 'replicated-automated-backups';
  targetInstance: string;
  restoreTime: string;
  endpoint: string;
  port?: number;
  sourceAutomatedBackupsArn?: string;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? '';
  return name === 'DBInstanceNotFoundFault' || name === 'DBInstanceNotFound';
}

function checkWindow(at: Date, earliest: Date | undefined, latest: Date | undefined, what: string): void {
  if ((earliest && at < earliest) || (latest && at > latest)) {
    throw new FlagError(`--until ${at.toISOString()} is outside the restorable window of ${what}: ${earliest?.toISOString() ?? '?'} … ${latest?.toISOString() ?? '?'}`);
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new OperationError('interrupted while waiting for the scratch instance; it keeps restoring in AWS'));
    }, { once: true });
  });

export async function restorePointInTime(rds: RDSClient, o: PitrOptions): Promise<PitrResult> {
  const log = o.log ?? (() => undefined);
  let source: DBInstance | undefined;
  try {
    source = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: o.sourceInstance }))).DBInstances?.[0];
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const input: RestoreDBInstanceToPointInTimeCommandInput = {
    TargetDBInstanceIdentifier: o.targetInstance,
    RestoreTime: o.restoreTime,
    MultiAZ: false,
    PubliclyAccessible: false,
    DeletionProtection: false,
    CopyTagsToSnapshot: true,
    Tags: [
      { ...SCRATCH_TAG },
      { Key: 'restored-from', Value: o.sourceInstance },
    ],
  };
  let mode: PitrResult['mode'];
  let arn: string | undefined;
  if (source) {
    mode = 'instance';
    checkWindow(o.restoreTime, undefined, source.LatestRestorableTime, o.sourceInstance);
    input.SourceDBInstanceIdentifier = o.sourceInstance;
    input.DBSubnetGroupName = o.subnetGroup ?? source.DBSubnetGroup?.DBSubnetGroupName;
    input.VpcSecurityGroupIds = o.securityGroupIds ?? source.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId).filter((id): id is string => Boolean(id));
    input.DBInstanceClass = o.instanceClass ?? source.DBInstanceClass;
  } else {
    mode = 'replicated-automated-backups';
    const backups = (await rds.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: o.sourceInstance }))).DBInstanceAutomatedBackups ?? [];
    const usable = backups.find((b) => b.DBInstanceAutomatedBackupsArn && (b.Status === 'replicating' || b.Status === 'active' || b.Status === 'retained'));
    if (!usable?.DBInstanceAutomatedBackupsArn) {
      throw new UsageError(`no instance '${o.sourceInstance}' and no replicated automated backups of it in ${o.region}; check --source-instance and --region`);
    }
    arn = usable.DBInstanceAutomatedBackupsArn;
    checkWindow(o.restoreTime, usable.RestoreWindow?.EarliestTime, usable.RestoreWindow?.LatestTime, `the replicated automated backups in ${o.region}`);
    input.SourceDBInstanceAutomatedBackupsArn = arn;
    input.DBSubnetGroupName = o.subnetGroup;
    input.VpcSecurityGroupIds = o.securityGroupIds;
    input.DBInstanceClass = o.instanceClass;
  }
  log(`restoring ${o.sourceInstance} to ${o.restoreTime.toISOString()} into new instance ${o.targetInstance} (${mode})`);
  await rds.send(new RestoreDBInstanceToPointInTimeCommand(input));
  const deadline = Date.now() + (o.timeoutMs ?? 90 * 60_000);
  for (;;) {
    const inst = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: o.targetInstance }))).DBInstances?.[0];
    const status = inst?.DBInstanceStatus;
    if (status === 'available' && inst?.Endpoint?.Address) {
      return { mode, targetInstance: o.targetInstance, restoreTime: o.restoreTime.toISOString(), endpoint: inst.Endpoint.Address, port: inst.Endpoint.Port, sourceAutomatedBackupsArn: arn };
    }
    if (status === 'failed' || status === 'incompatible-restore' || status === 'incompatible-parameters') {
      throw new OperationError(`scratch instance ${o.targetInstance} ended in status '${status}'`);
    }
    if (Date.now() > deadline) throw new OperationError(`scratch instance ${o.targetInstance} not available after ${Math.round((o.timeoutMs ?? 90 * 60_000) / 60_000)} min (status ${status})`);
    log(`waiting for ${o.targetInstance}: ${status ?? 'not visible yet'}`);
    await sleep(o.pollMs ?? 30_000, o.signal);
  }
}

/** `url` (the target's) pointing at `host:port` instead: the point-in-time copy keeps the source's logins and databases. */
export function urlAt(url: string, host: string, port?: number): string {
  const u = new URL(url);
  u.hostname = host;
  if (port !== undefined) u.port = String(port);
  return u.toString();
}

/**
 * The selective restore's point-in-time source on AWS: {@link restorePointInTime} into a new scratch instance (the
 * same call `dr restore postgres --until` makes), read with the target URL's login at the new endpoint, and
 * deleted afterwards (`DeleteDBInstance`, no final snapshot, automated backups deleted) — only if it carries the
 * scratch tag this restore put on it, so an existing instance of that name is never touched.
 */
export function rdsPointInTimeScratch(rds: RDSClient, o: Omit<PitrOptions, 'log' | 'signal'> & { targetUrl: string }): PointInTimeScratch {
  return {
    restoreTime: o.restoreTime.toISOString(),
    async create(log, signal) {
      const res = await restorePointInTime(rds, { ...o, log, signal });
      return { url: urlAt(o.targetUrl, res.endpoint, res.port), instance: res.targetInstance };
    },
    async drop(log) {
      let inst: DBInstance | undefined;
      try {
        inst = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: o.targetInstance }))).DBInstances?.[0];
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (!inst) return;
      if (!inst.TagList?.some((t) => t.Key === SCRATCH_TAG.Key && t.Value === SCRATCH_TAG.Value)) {
        log(`warning: ${o.targetInstance} is not tagged ${SCRATCH_TAG.Key}=${SCRATCH_TAG.Value}; not deleting it`);
        return;
      }
      if (inst.DBInstanceStatus === 'deleting') return;
      await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: o.targetInstance, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }));
      log(`scratch instance ${o.targetInstance} deleted (no final snapshot)`);
    },
  };
}
