/**
 * One readiness run: ask the observer for each area's observation (in parallel; each may fail on its own), run every
 * check that applies to the environment over it, and reduce the results to one verdict (lib/readiness.ts
 * `verdictOf`). Never throws for the world's state: an area that cannot be observed fails each of its checks with
 * the error as the reason, a check that throws fails with its error.
 */
import { READINESS_AREAS, verdictOf, type ReadinessArea, type ReadinessCheck, type ReadinessReport } from '../../lib/readiness';
import { systemClock, type Clock } from '../core/clock';
import { errorSummary } from '../core/errors';
import { redact } from '../core/redact';
import { CHECKS, type CheckDefinition } from './checks/index';
import type { AreaObservations, ReadinessObserver } from './ports';

export interface ReadinessOptions {
  clock?: Clock;
  /** Only these areas (default all the observer has). */
  areas?: readonly ReadinessArea[];
}

/** The checks of `environment`, in report order. */
export function checksFor(environment: ReadinessReport['environment']): readonly CheckDefinition[] {
  return CHECKS.filter((c) => c.environments.includes(environment));
}

/** The fix shown when a whole area could not be observed. */
const AREA_FIX: Record<ReadinessArea, { aws: string; local: string }> = {
  database: { aws: 'dr status (does each region\'s RDS answer?); check rds:Describe* permissions', local: 'dr status --local' },
  cache: { aws: 'dr status; check elasticache:DescribeGlobalReplicationGroups and that the standby region answers', local: 'dr status --local' },
  backups: { aws: 'dr backups list; check s3:ListBucket on both buckets', local: 'dr status --local (is the S3 server running?)' },
  secrets: { aws: 'check secretsmanager:DescribeSecret and that the serving region answers', local: 'dr status --local' },
  dns: { aws: 'check route53:ListResourceRecordSets and route53:GetHealthCheck*', local: '—' },
  bots: { aws: "check secretsmanager:GetSecretValue on the bots' secrets and the platforms' reachability", local: 'dr status --local (are the fake platforms running?)' },
  certificates: { aws: 'check rds:DescribeDBInstances and rds:DescribeCertificates', local: '—' },
  jobs: { aws: 'check the jobs\' Describe/Get permissions', local: '—' },
};

async function observe(observer: ReadinessObserver, area: ReadinessArea): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const fn = observer[area] as (() => Promise<unknown>) | undefined;
  try {
    return { ok: true, value: await fn!.call(observer) };
  } catch (err) {
    return { ok: false, error: redact(errorSummary(err)) };
  }
}

/** Run every applicable check and reduce them to the report. */
export async function runReadiness(observer: ReadinessObserver, o: ReadinessOptions = {}): Promise<ReadinessReport> {
  const clock = o.clock ?? systemClock;
  const start = clock.now();
  const wanted = o.areas ?? READINESS_AREAS;
  const present = READINESS_AREAS.filter((a) => wanted.includes(a) && typeof observer[a] === 'function');
  const results = await Promise.all(present.map((a) => observe(observer, a)));
  const byArea = new Map(present.map((a, i) => [a, results[i]]));
  const now = clock.now();
  const ctx = { now, environment: observer.environment };
  const checks: ReadinessCheck[] = [];
  for (const c of checksFor(observer.environment)) {
    const got = byArea.get(c.area);
    if (!got) continue;
    if (!got.ok) {
      checks.push({ name: c.name, status: 'fail', resource: c.area, reason: `could not observe the ${c.area}: ${got.error}`, fix: AREA_FIX[c.area][observer.environment] });
      continue;
    }
    try {
      const out = c.run(got.value as AreaObservations[typeof c.area], ctx);
      if (!out.length) checks.push({ name: c.name, status: 'warn', resource: c.area, reason: 'the check found nothing to check', fix: AREA_FIX[c.area][observer.environment] });
      for (const x of out) checks.push({ name: c.name, status: x.status, resource: redact(x.resource), reason: redact(x.reason), fix: redact(x.fix) });
    } catch (err) {
      checks.push({ name: c.name, status: 'fail', resource: c.area, reason: redact(`the check failed: ${errorSummary(err)}`), fix: AREA_FIX[c.area][observer.environment] });
    }
  }
  const notApplicable = READINESS_AREAS.filter((a) => wanted.includes(a) && !present.includes(a)).map((area) => ({ area, why: observer.notApplicable?.[area] ?? `the ${observer.environment} environment has no ${area} to check` }));
  const end = clock.now();
  return {
    verdict: verdictOf(checks),
    checks,
    environment: observer.environment,
    from: observer.from,
    at: start.toISOString(),
    duration_ms: Math.max(0, end.getTime() - start.getTime()),
    calls: observer.calls?.() ?? { aws: 0, platform: 0, local: 0, by_area: {} },
    not_applicable: notApplicable,
  };
}
