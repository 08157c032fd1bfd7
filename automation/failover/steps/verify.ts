/**
 * Failover step verify: the survivor takes writes, the old primary is not an unfenced primary, every record points at it.
 */
import { VerificationError } from '../../core/errors';
import type { PlanStep } from '../plan';
import { asList, type StepContext, type StepOutcome } from './context';

export async function verifyStep(step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { to, from } = ctx.plan;
  const problems: string[] = [];
  const ok: string[] = [];
  if (step.target.database) {
    if (await ports.database.writable(to, call)) ok.push(`database in ${to} takes writes`);
    else problems.push(`the database in ${to} does not take writes`);
    if ((await ports.database.role(from, call)) === 'primary' && !(await ports.database.isFenced(from, call))) problems.push(`the old primary database in ${from} answers, unfenced: split-brain risk`);
  }
  if (step.target.cache) {
    if (await ports.cache.writable(to, call)) ok.push(`cache in ${to} takes writes`);
    else problems.push(`the cache in ${to} does not take writes`);
  }
  for (const rec of asList(step.target.records)) {
    const cur = await ports.dns.current(rec, call);
    if (cur === to) ok.push(`${rec} → ${to}`);
    else problems.push(`${rec} points at ${cur ?? 'nothing'}, not ${to}`);
  }
  if (problems.length) throw new VerificationError(problems.join('; '));
  return { status: 'ok', detail: ok.join('; ') };
}
