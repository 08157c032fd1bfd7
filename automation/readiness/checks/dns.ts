/**
 * DNS readiness (AWS): both failover records carry a Route 53 health check that exists, the standby region's
 * endpoint is healthy (a dead secondary means no DR: the failover would move traffic to an endpoint that does not
 * answer), and the records' TTL is the configured one (the TTL is part of the RTO).
 */
import { define, fail, observed, pass, warn, type Outcome } from './common';

export const healthChecks = define({
  name: 'dns.health-checks',
  area: 'dns',
  environments: ['aws'],
  rules: { pass: 'the PRIMARY and SECONDARY records each carry a health check that exists', warn: '—', fail: 'a record or its health check is missing' },
  run(o) {
    const fix = 'pulumi up both stacks (components/failover-dns.ts declares each region\'s record and health check)';
    const r = observed(o.records, o.recordName, fix);
    if ('outcome' in r) return [r.outcome];
    const out: Outcome[] = [];
    for (const kind of ['PRIMARY', 'SECONDARY']) {
      const rec = r.value.find((x) => x.failover === kind);
      if (!rec) out.push(fail(`${o.recordName} ${kind}`, `no ${kind} failover record for ${o.recordName}`, fix));
      else if (!rec.healthCheckId) out.push(fail(`${o.recordName} ${kind} (${rec.setIdentifier})`, 'the record has no health check: Route 53 cannot fail over away from it', fix));
    }
    const h = observed(o.healthChecks, 'health checks', fix);
    if ('outcome' in h) return [...out, h.outcome];
    for (const c of h.value) out.push(c.exists ? pass(`healthcheck/${c.id}`, `exists (${c.setIdentifier}${c.detail ? `: ${c.detail}` : ''})`) : fail(`healthcheck/${c.id}`, `the ${c.setIdentifier} record names a health check that does not exist${c.detail ? ` (${c.detail})` : ''}`, fix));
    return out.length ? out : [fail(o.recordName, 'no health check found on the failover records', fix)];
  },
});

export const secondaryHealthy = define({
  name: 'dns.secondary-healthy',
  area: 'dns',
  environments: ['aws'],
  rules: { pass: "Route 53's checkers see the standby region's endpoint healthy", warn: 'no checker has reported yet', fail: 'unhealthy: a failover would move traffic to an endpoint that does not answer' },
  run(o) {
    const fix = `start the bot service in ${o.standbyRegion} (it must answer the health check path while standing by) and see its health check in the Route 53 console; dr status shows both`;
    const r = observed(o.standbyHealth, `${o.standbyRegion} endpoint`, fix);
    if ('outcome' in r) return [r.outcome];
    const res = `healthcheck/${r.value.id} (${o.standbyRegion})`;
    if (r.value.status === 'healthy') return [pass(res, r.value.detail)];
    if (r.value.status === 'unknown') return [warn(res, r.value.detail, fix)];
    return [fail(res, `unhealthy: ${r.value.detail}: a dead secondary means no DR`, fix)];
  },
});

export const ttl = define({
  name: 'dns.ttl',
  area: 'dns',
  environments: ['aws'],
  rules: { pass: 'both records have the configured TTL', warn: 'a TTL differs from the configured one (or from the other record), or the configuration is unknown', fail: '—' },
  run(o) {
    const fix = 'set dns.ttl on both stacks and pulumi up (resolvers keep the old answer up to the TTL: it adds to the RTO)';
    const r = observed(o.records, o.recordName, fix);
    if ('outcome' in r) return [r.outcome];
    const ttls = r.value.map((x) => `${x.setIdentifier} ${x.ttl ?? '?'} s`).join(', ');
    const distinct = new Set(r.value.map((x) => x.ttl));
    if (o.expectedTtl === undefined) return [distinct.size === 1 ? warn(o.recordName, `TTL ${ttls}; the configured TTL is not known here`, 'run dr readiness where it can read the stack config (not --outputs-dir)') : warn(o.recordName, `the records' TTLs differ: ${ttls}`, fix)];
    const off = r.value.filter((x) => x.ttl !== o.expectedTtl);
    if (off.length) return [warn(o.recordName, `TTL ${off.map((x) => `${x.setIdentifier} ${x.ttl ?? '?'} s`).join(', ')}, configured ${o.expectedTtl} s`, fix)];
    return [pass(o.recordName, `TTL ${o.expectedTtl} s on both records`)];
  },
});

export const DNS_CHECKS = [healthChecks, secondaryHealthy, ttl];
