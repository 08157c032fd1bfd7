/**
 * Failover step switch-dns: point every service record at the survivor (each record checked first, never pointed back).
 */
import type { PlanStep } from '../plan';
import { asList, type StepContext, type StepOutcome } from './context';

export async function switchDnsStep(step: PlanStep, ctx: StepContext): Promise<StepOutcome> {
  const { ports, call } = ctx;
  const { to } = ctx.plan;
  const acted: string[] = [];
  for (const rec of asList(step.target.records)) {
    if ((await ports.dns.current(rec, call)) === to) continue;
    await ports.dns.point(rec, to, call);
    acted.push(rec);
  }
  const data = { records: asList(step.target.records), region: to };
  if (!acted.length) return { status: 'done-before', detail: `already pointing at ${to}`, data };
  return { status: 'ok', detail: `${acted.join(', ')} → ${to}`, data };
}
