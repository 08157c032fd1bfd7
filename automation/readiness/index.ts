/**
 * The readiness engine's public API (issue 14). Entry points (`dr readiness`, `dr status`, the failover's preflight,
 * the `readiness` Lambda, the rehearsal's drill) import from here only.
 *
 * - {@link runReadiness}: one run over a {@link ReadinessObserver} → a {@link ReadinessReport} with one verdict.
 * - {@link CHECKS}: every named check (`<area>.<check>`), its environments and its pass/warn/fail rules.
 * - {@link formatReadiness}: the human report.
 * - The observations (`./ports`): implement the observer for an environment (adapters/aws, adapters/rehearsal).
 * - The contract (lib/readiness.ts, re-exported): report and check types, the verdict rule, metric names, targets.
 */
export * from './ports';
export * from './engine';
export * from './format';
export { CHECKS, classRank, type CheckContext, type CheckDefinition, type Outcome } from './checks/index';
export { verdictOf, readyMetricValue, readinessLine, failedCheckNames, READINESS_AREAS, READINESS_LIMITS, READINESS_METRICS, type ReadinessArea, type ReadinessCheck, type ReadinessReport, type ReadinessTargets, type Verdict, type CheckStatus } from '../../lib/readiness';
