/**
 * Cache readiness. AWS: the standby region's replication group is an associated member of the global datastore, the
 * datastore is available, and its replication lag is reported. Local: the standby Redis' link to its primary is up,
 * and the serving Redis is not fenced.
 */
import { fenceOutcomes } from './database';
import { define, duration, fail, observed, pass, warn, type Outcome } from './common';
import type { CacheObservation, GlobalDatastoreView } from '../ports';

const NO_GLOBAL_FIX = 'set cache.globalDatastore true on both stacks (it needs an m or r node type) and pulumi up the primary, then the secondary';

/** The global datastore, or the outcome replacing the check (not observed, or none configured). */
function globalOf(o: CacheObservation, resource: string): { g: GlobalDatastoreView } | { outcome: Outcome } {
  const r = observed(o.global, resource, `aws elasticache describe-global-replication-groups --show-member-info --region ${o.standbyRegion}`);
  if ('outcome' in r) return r;
  if (r.value === null) return { outcome: warn(resource, 'the stacks have no ElastiCache global datastore: after a failover the cache starts from the newest RDB backup (INC-003: up to a day of cache)', NO_GLOBAL_FIX) };
  return { g: r.value };
}

export const globalMember = define({
  name: 'cache.global-member',
  area: 'cache',
  environments: ['aws'],
  rules: { pass: "the standby region's replication group is an associated member (one PRIMARY, one SECONDARY)", warn: 'no global datastore configured', fail: 'the standby region has no member, or a member is not associated' },
  run(o) {
    const r = globalOf(o, `global datastore (${o.standbyRegion})`);
    if ('outcome' in r) return [r.outcome];
    const member = r.g.members.find((m) => m.region === o.standbyRegion);
    const fix = `pulumi up the secondary stack (its cache joins the global datastore ${r.g.id}); a member left behind by an unplanned cache failover: dr failback re-adds it`;
    if (!member) return [fail(`global datastore ${r.g.id}`, `the standby region ${o.standbyRegion} has no member (members: ${r.g.members.map((m) => `${m.replicationGroupId} in ${m.region}`).join(', ') || 'none'})`, fix)];
    const res = `${o.standbyRegion}/${member.replicationGroupId}`;
    if (member.status !== 'associated') return [fail(res, `member of ${r.g.id} but ${member.status}`, fix)];
    const roles = r.g.members.map((m) => m.role).sort().join('+');
    if (roles !== 'PRIMARY+SECONDARY') return [fail(res, `the members' roles are ${roles}, not one PRIMARY and one SECONDARY`, fix)];
    return [pass(res, `associated ${member.role} of ${r.g.id}`)];
  },
});

export const status = define({
  name: 'cache.status',
  area: 'cache',
  environments: ['aws'],
  rules: { pass: 'the global datastore is available', warn: 'it is being created or modified, or there is none', fail: 'any other status' },
  run(o) {
    const r = globalOf(o, 'global datastore');
    if ('outcome' in r) return [r.outcome];
    const res = `global datastore ${r.g.id}`;
    const fix = `aws elasticache describe-global-replication-groups --global-replication-group-id ${r.g.id} --show-member-info; wait for a modification to finish, or see INC-003 (dr runbook INC-003)`;
    if (r.g.status === 'available') return [pass(res, 'available')];
    if (['creating', 'modifying', 'primary-only'].includes(r.g.status)) return [warn(res, `${r.g.status}: not available for a failover until it is done`, fix)];
    return [fail(res, `status ${r.g.status}`, fix)];
  },
});

export const lag = define({
  name: 'cache.lag',
  area: 'cache',
  environments: ['aws'],
  rules: { pass: "the standby member's GlobalDatastoreReplicationLag is reported (last 15 min) and within the RPO budget", warn: 'not reported, over the budget, or no global datastore', fail: '—' },
  run(o) {
    const r = globalOf(o, `cache lag (${o.standbyRegion})`);
    if ('outcome' in r) return [r.outcome];
    const res = `${o.standbyRegion}/${r.g.members.find((m) => m.region === o.standbyRegion)?.replicationGroupId ?? 'cache'}`;
    const fix = `CloudWatch AWS/ElastiCache GlobalDatastoreReplicationLag in ${o.standbyRegion}; a lag that stays high: the primary's write load exceeds the link (scale cache.nodeType)`;
    const l = observed(o.lag, res, fix);
    if ('outcome' in l) return [l.outcome];
    if (l.value.seconds === null) return [warn(res, 'no GlobalDatastoreReplicationLag reported in the last 15 minutes', fix)];
    if (l.value.seconds > o.lagBudgetSeconds) return [warn(res, `lag ${duration(l.value.seconds)} over the budget of ${duration(o.lagBudgetSeconds)}`, fix)];
    return [pass(res, `lag ${l.value.seconds} s`)];
  },
});

export const replicaLink = define({
  name: 'cache.replica-link',
  area: 'cache',
  environments: ['local'],
  rules: { pass: "the standby Redis' master_link_status is up", warn: '—', fail: 'the link is down, or the standby Redis does not answer' },
  run(o) {
    const fix = `restart the standby's Redis and re-point it: dr failback --local (it rebuilds the cache replica), or redis-cli REPLICAOF on ${o.standbyRegion}`;
    const r = observed(o.link, `redis:${o.standbyRegion}`, fix);
    if ('outcome' in r) return [r.outcome];
    const res = `redis:${r.value.region}`;
    if (r.value.status !== 'up') return [fail(res, `master_link_status ${r.value.status}`, fix)];
    return [pass(res, `link up${r.value.lagBytes !== undefined ? `, ${r.value.lagBytes} bytes behind` : ''}`)];
  },
});

export const fence = define({
  name: 'cache.fence',
  area: 'cache',
  environments: ['local'],
  rules: { pass: 'the serving Redis is an unfenced primary and no other unfenced primary exists', warn: '—', fail: 'the serving Redis is fenced or a replica, or two unfenced primaries' },
  run(o) {
    return fenceOutcomes('cache', o.fence);
  },
});

export const CACHE_CHECKS = [globalMember, status, lag, replicaLink, fence];
