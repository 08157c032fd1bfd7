/**
 * Database readiness: the cross-region standby replicates within the RPO budget, matches the primary (engine major
 * version, parameter group family, TLS), is not smaller, and (AWS) the primary's automated backups are replicated
 * into the standby's region with a recent latest restorable time; (local) the fence state is sane.
 */
import { isUnobserved, type DatabaseObservation, type DbInstanceView, type FenceState, type TlsSettings } from '../ports';
import { ageSeconds, byEnv, define, duration, fail, notObserved, observed, pass, warn, type CheckContext, type Outcome } from './common';
import { READINESS_LIMITS } from '../../../lib/readiness';

const where = (v: { id: string; region: string }) => `${v.region}/${v.id}`;

const NO_REPLICA = {
  aws: 'rebuild the cross-region replica: dr failback (after a failover it rebuilds the lost region as a replica), or pulumi up the secondary stack',
  local: 'rebuild the standby: dr failback --local',
};

/** The standby, or the outcome that replaces the check when there is none / it cannot be read. */
function standby(o: DatabaseObservation, ctx: CheckContext, noneStatus: 'fail' | 'warn'): { replica: DbInstanceView } | { outcome: Outcome } {
  if (o.replica === null) {
    const reason = 'there is no cross-region standby: a failover would have to restore from backups';
    return { outcome: noneStatus === 'fail' ? fail('database', reason, byEnv(ctx, NO_REPLICA)) : warn('database', `${reason} (nothing to compare; see database.replicating)`, byEnv(ctx, NO_REPLICA)) };
  }
  if (isUnobserved(o.replica)) return { outcome: notObserved('database standby', o.replica, byEnv(ctx, { aws: 'check the standby region answers: dr status', local: 'dr status --local' })) };
  return { replica: o.replica };
}

export const replicating = define({
  name: 'database.replicating',
  area: 'database',
  environments: ['aws', 'local'],
  rules: { pass: 'the standby streams from the primary', warn: '—', fail: 'no standby, or it does not replicate (stopped, error, WAL receiver down), or it cannot be read' },
  run(o, ctx) {
    const s = standby(o, ctx, 'fail');
    if ('outcome' in s) return [s.outcome];
    const fix = byEnv(ctx, {
      aws: `aws rds describe-db-instances --db-instance-identifier ${s.replica.id} --region ${s.replica.region} (StatusInfos: read replication); a replica whose replication stopped or errored must be rebuilt: dr failback or pulumi up the secondary stack`,
      local: `restart the standby's WAL receiver (primary_conninfo on ${s.replica.region}, then pg_reload_conf()) or rebuild it: dr failback --local`,
    });
    const r = observed(o.replication, where(s.replica), fix);
    if ('outcome' in r) return [r.outcome];
    return [r.value.streaming ? pass(where(s.replica), `${r.value.state}: ${r.value.detail}`) : fail(where(s.replica), `not replicating (${r.value.state}): ${r.value.detail}`, fix)];
  },
});

export const lag = define({
  name: 'database.lag',
  area: 'database',
  environments: ['aws', 'local'],
  rules: { pass: 'lag below half the RPO budget', warn: 'lag at half the budget or more, or the datapoint is stale (> 5 min)', fail: 'lag at or over the RPO budget, or no lag reported' },
  run(o, ctx) {
    const s = standby(o, ctx, 'fail');
    if ('outcome' in s) return [s.outcome];
    const fix = byEnv(ctx, {
      aws: `dr status (lag, predicted RPO); find what holds ${s.replica.id} back (CloudWatch ReplicaLag, the primary's WriteIOPS); a replica that cannot keep up needs the primary's class: database.instanceClass on the secondary stack, then pulumi up`,
      local: `dr status --local; check the standby's WAL receiver on ${s.replica.region} (SELECT status FROM pg_stat_wal_receiver)`,
    });
    const l = observed(o.lag, where(s.replica), fix);
    if ('outcome' in l) return [l.outcome];
    const budget = o.rpoSeconds;
    if (l.value.seconds === null) return [fail(where(s.replica), `no replication lag reported${ctx.environment === 'aws' ? ' (CloudWatch ReplicaLag, last 15 min): a replica that stopped replicating reports none' : ''}`, fix)];
    const sec = l.value.seconds;
    if (sec >= budget) return [fail(where(s.replica), `lag ${duration(sec)} is at or over the RPO budget of ${duration(budget)}`, fix)];
    if (l.value.observedAt && ageSeconds(l.value.observedAt, ctx.now) > READINESS_LIMITS.lagStaleSeconds) {
      return [warn(where(s.replica), `the last lag datapoint (${duration(sec)}) is ${duration(ageSeconds(l.value.observedAt, ctx.now))} old: the replica may be further behind`, fix)];
    }
    if (sec >= budget / 2) return [warn(where(s.replica), `lag ${duration(sec)} is over half the RPO budget of ${duration(budget)}`, fix)];
    return [pass(where(s.replica), `lag ${sec < 10 ? `${Math.round(sec * 10) / 10} s` : duration(sec)} (RPO budget ${duration(budget)})`)];
  },
});

/** Both instances' views, or the outcome replacing a comparison check. */
function pair(o: DatabaseObservation, ctx: CheckContext): { primary: DbInstanceView; replica: DbInstanceView } | { outcome: Outcome } {
  const s = standby(o, ctx, 'warn');
  if ('outcome' in s) return s;
  if (isUnobserved(o.primary)) return { outcome: notObserved('database primary', o.primary, 'check the primary region answers: dr status') };
  return { primary: o.primary, replica: s.replica };
}

const major = (v: string) => v.split('.')[0];

export const engineVersion = define({
  name: 'database.engine-version',
  area: 'database',
  environments: ['aws'],
  rules: { pass: 'same engine version', warn: 'same major version, different minor', fail: 'different major versions, or unknown' },
  run(o, ctx) {
    const p = pair(o, ctx);
    if ('outcome' in p) return [p.outcome];
    const { primary: a, replica: b } = p;
    const fix = 'set database.engineVersion to the same version on both stacks and pulumi up (the replica first for a minor upgrade)';
    if (!a.engineVersion || !b.engineVersion) return [warn(where(b), 'an engine version is not reported', fix)];
    if (major(a.engineVersion) !== major(b.engineVersion)) return [fail(where(b), `the standby runs PostgreSQL ${b.engineVersion}, the primary ${a.engineVersion}: different major versions`, fix)];
    if (a.engineVersion !== b.engineVersion) return [warn(where(b), `the standby runs ${b.engineVersion}, the primary ${a.engineVersion} (same major version)`, fix)];
    return [pass(where(b), `PostgreSQL ${b.engineVersion} on both`)];
  },
});

export const parameterFamily = define({
  name: 'database.parameter-family',
  area: 'database',
  environments: ['aws'],
  rules: { pass: 'same parameter group family', warn: 'a family not observed', fail: 'different families' },
  run(o, ctx) {
    const p = pair(o, ctx);
    if ('outcome' in p) return [p.outcome];
    const fix = 'both stacks derive the family from database.engineVersion: make the versions equal and pulumi up';
    const a = observed(p.primary.parameterFamily, where(p.primary), fix);
    const b = observed(p.replica.parameterFamily, where(p.replica), fix);
    if ('outcome' in a) return [a.outcome];
    if ('outcome' in b) return [b.outcome];
    return [a.value === b.value ? pass(where(p.replica), `${b.value} on both`) : fail(where(p.replica), `the standby's parameter group is ${b.value}, the primary's ${a.value}`, fix)];
  },
});

export const tls = define({
  name: 'database.tls',
  area: 'database',
  environments: ['aws'],
  rules: { pass: 'rds.force_ssl, ssl_min_protocol_version and the CA match, TLS enforced', warn: 'they match but TLS is not enforced, or not observed', fail: 'they differ' },
  run(o, ctx) {
    const p = pair(o, ctx);
    if ('outcome' in p) return [p.outcome];
    const fix = 'the parameter group sets rds.force_ssl=1 and ssl_min_protocol_version=TLSv1.2, the instance caCertIdentifier (components/database.ts): pulumi up the stack that differs, then reboot its instance (pending-reboot parameters)';
    const a = observed(p.primary.tls, where(p.primary), fix);
    const b = observed(p.replica.tls, where(p.replica), fix);
    if ('outcome' in a) return [a.outcome];
    if ('outcome' in b) return [b.outcome];
    const keys: Array<[keyof TlsSettings, string]> = [['forceSsl', 'rds.force_ssl'], ['minProtocol', 'ssl_min_protocol_version'], ['caIdentifier', 'CA']];
    const diff = keys.filter(([k]) => a.value[k] !== b.value[k]).map(([k, label]) => `${label} ${b.value[k] ?? 'unset'} on the standby, ${a.value[k] ?? 'unset'} on the primary`);
    if (diff.length) return [fail(where(p.replica), `TLS settings differ: ${diff.join('; ')}`, fix)];
    if (a.value.forceSsl !== '1') return [warn(where(p.replica), 'the settings match, but rds.force_ssl is not 1: connections without TLS are accepted', fix)];
    return [pass(where(p.replica), `rds.force_ssl=1, ${a.value.minProtocol ?? 'default'} minimum, CA ${a.value.caIdentifier ?? 'default'} on both`)];
  },
});

/** A size rank of `db.<family>.<size>` (micro < small < medium < large < xlarge < 2xlarge < … < metal). */
export function classRank(cls: string): number | undefined {
  const size = cls.split('.')[2];
  if (!size) return undefined;
  const fixed: Record<string, number> = { nano: 0.5, micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, metal: 10_000 };
  if (size in fixed) return fixed[size];
  const m = /^(\d+)xlarge$/.exec(size);
  return m ? 16 * Number(m[1]) : undefined;
}

export const instanceClass = define({
  name: 'database.instance-class',
  area: 'database',
  environments: ['aws'],
  rules: { pass: 'the standby is as large as the primary', warn: 'the standby is smaller (or burstable where the primary is not), or a class is unknown', fail: '—' },
  run(o, ctx) {
    const p = pair(o, ctx);
    if ('outcome' in p) return [p.outcome];
    const [a, b] = [p.primary.instanceClass, p.replica.instanceClass];
    const fix = 'set database.instanceClass on the secondary stack to the primary\'s (or larger) and pulumi up: after a failover the standby serves everything';
    const ra = a ? classRank(a) : undefined;
    const rb = b ? classRank(b) : undefined;
    if (!a || !b || ra === undefined || rb === undefined) return [warn(where(p.replica), `instance classes not comparable (${b ?? '?'} vs ${a ?? '?'})`, fix)];
    const burstable = (c: string) => /^db\.t\d/.test(c);
    if (rb < ra || (burstable(b) && !burstable(a))) return [warn(where(p.replica), `the standby is ${b}, smaller than the primary's ${a}`, fix)];
    return [pass(where(p.replica), `${b} (primary ${a})`)];
  },
});

export const backupsReplicated = define({
  name: 'database.backups-replicated',
  area: 'database',
  environments: ['aws'],
  rules: { pass: "the primary's automated backups are replicated into the standby's region, latest restorable time within the RPO budget", warn: 'replication still being created, or no latest restorable time yet', fail: 'not replicated, or the latest restorable time is older than the RPO budget' },
  run(o, ctx) {
    const fix = 'pulumi up the secondary stack (it declares the InstanceAutomatedBackupsReplication), or aws rds start-db-instance-automated-backups-replication --source-db-instance-arn <primary ARN> --region <standby region>';
    const r = observed(o.automatedBackups, 'automated backups', fix);
    if ('outcome' in r) return [r.outcome];
    const v = r.value;
    if (!v.replicated) return [fail(v.resource, `the primary's automated backups are not replicated to ${v.region}: point-in-time restore there needs them once the primary region is lost`, fix)];
    if (v.status && !['active', 'replicating'].includes(v.status)) return [warn(v.resource, `replicated automated backups in ${v.region} are ${v.status}`, fix)];
    if (!v.latestRestorableTime) return [warn(v.resource, `replicated automated backups in ${v.region} report no latest restorable time yet`, fix)];
    const age = ageSeconds(v.latestRestorableTime, ctx.now);
    if (age >= o.rpoSeconds) return [fail(v.resource, `the latest restorable time in ${v.region} is ${duration(age)} old, over the RPO budget of ${duration(o.rpoSeconds)}`, fix)];
    return [pass(v.resource, `replicated to ${v.region}, restorable to ${duration(age)} ago`)];
  },
});

export const fence = define({
  name: 'database.fence',
  area: 'database',
  environments: ['local'],
  rules: { pass: 'the serving database is an unfenced primary and no other unfenced primary exists', warn: '—', fail: 'the serving database is fenced or not a primary, or two unfenced primaries (split brain)' },
  run(o) {
    return fenceOutcomes('database', o.fence);
  },
});

/** The fence rules, shared with cache.fence. */
export function fenceOutcomes(tier: 'database' | 'cache', f: DatabaseObservation['fence']): Outcome[] {
  const fix = 'dr status --local; a switchover that fenced the primary and stopped: dr failover --local --resume; a second primary: dr watch --local (its split-brain guard fences it)';
  const r = observed(f, tier, fix);
  if ('outcome' in r) return [r.outcome];
  const states: FenceState[] = r.value;
  const serving = states.find((x) => x.serving);
  if (!serving) return [fail(tier, `no region serves the ${tier} (the service name points nowhere)`, fix)];
  const res = `${tier}:${serving.region}`;
  if (serving.role !== 'primary') return [fail(res, `the ${tier} in ${serving.region} serves but is ${serving.role}`, fix)];
  if (serving.fenced) return [fail(res, `the serving ${tier} in ${serving.region} is fenced: it takes no writes`, fix)];
  const other = states.find((x) => !x.serving && x.role === 'primary' && !x.fenced);
  if (other) return [fail(res, `split brain: ${other.region} is an unfenced ${tier} primary too`, fix)];
  return [pass(res, `${serving.region} serves unfenced; ${states.filter((x) => !x.serving).map((x) => `${x.region} ${x.role}${x.fenced ? ' (fenced)' : ''}`).join(', ') || 'no other region'}`)];
}

export const DATABASE_CHECKS = [replicating, lag, engineVersion, parameterFamily, tls, instanceClass, backupsReplicated, fence];
