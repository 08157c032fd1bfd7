/**
 * What every check is made of: its definition (name, area, where it applies, its rules as text) and the small
 * constructors of its outcomes. A check is a pure function of its area's observation and the time.
 */
import type { CheckStatus, ReadinessArea, ReadinessCheck, ReadinessEnvironment } from '../../../lib/readiness';
import type { AreaObservations, Unobserved } from '../ports';
import { isUnobserved } from '../ports';

export interface CheckContext {
  now: Date;
  environment: ReadinessEnvironment;
}

/** A check's result before its name is attached. */
export type Outcome = Omit<ReadinessCheck, 'name'>;

export interface CheckDefinition<A extends ReadinessArea = ReadinessArea> {
  /** `<area>.<check>`. */
  name: string;
  area: A;
  /** The environments it applies to. */
  environments: readonly ReadinessEnvironment[];
  /** What it checks, and when it passes, warns and fails (the README's table is made from these). */
  rules: { pass: string; warn: string; fail: string };
  run(obs: AreaObservations[A], ctx: CheckContext): Outcome[];
}

export function define<A extends ReadinessArea>(d: CheckDefinition<A>): CheckDefinition<A> {
  return d;
}

export function outcome(status: CheckStatus, resource: string, reason: string, fix = ''): Outcome {
  return { status, resource, reason, fix: status === 'pass' ? '' : fix };
}

export const pass = (resource: string, reason: string): Outcome => outcome('pass', resource, reason);
export const warn = (resource: string, reason: string, fix: string): Outcome => outcome('warn', resource, reason, fix);
export const fail = (resource: string, reason: string, fix: string): Outcome => outcome('fail', resource, reason, fix);

/** A fact that could not be observed: a failure when the observation failed, else a warning; never a pass. */
export function notObserved(resource: string, u: Unobserved, fix: string): Outcome {
  return u.error ? fail(resource, `could not observe: ${u.unobserved}`, fix) : warn(resource, `not observed: ${u.unobserved}`, fix);
}

/** `v` when observed; else the not-observed outcome (for `if (!('value' in r)) return [r.outcome]`). */
export function observed<T>(v: T | Unobserved | undefined, resource: string, fix: string): { value: T } | { outcome: Outcome } {
  if (v === undefined) return { outcome: warn(resource, 'not observed: the observer reported nothing for it', fix) };
  if (isUnobserved(v)) return { outcome: notObserved(resource, v, fix) };
  return { value: v };
}

/** Whole seconds between an ISO time and now (never negative). */
export function ageSeconds(iso: string, now: Date): number {
  return Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
}

/** `3 h 5 min`, `2 d 4 h`, `45 s`. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

/** Pick the fix text for the environment. */
export function byEnv(ctx: CheckContext, fixes: { aws: string; local: string }): string {
  return ctx.environment === 'aws' ? fixes.aws : fixes.local;
}
