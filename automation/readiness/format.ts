/** The human readiness report (`dr readiness`): the verdict line, failures and warnings with their fixes, then passes. */
import type { ReadinessReport } from '../../lib/readiness';

const ORDER = { fail: 0, warn: 1, pass: 2 } as const;

/** `1.2 s` / `850 ms`. */
function ms(n: number): string {
  return n >= 1000 ? `${Math.round(n / 100) / 10} s` : `${n} ms`;
}

export function formatReadiness(r: ReadinessReport, o: { passes?: boolean } = {}): string {
  const count = (s: string) => r.checks.filter((c) => c.status === s).length;
  const calls = [r.calls.aws ? `${r.calls.aws} AWS` : '', r.calls.platform ? `${r.calls.platform} platform` : '', r.calls.local ? `${r.calls.local} local` : ''].filter(Boolean).join(', ');
  const lines = [
    `readiness (${r.environment}, from ${r.from}) at ${r.at}: ${r.verdict.toUpperCase()}`,
    `  ${r.checks.length} results: ${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail; ${calls || 'no'} calls in ${ms(r.duration_ms)}`,
  ];
  const width = Math.min(28, Math.max(...r.checks.map((c) => c.name.length), 10));
  const sorted = [...r.checks].map((c, i) => ({ c, i })).sort((a, b) => ORDER[a.c.status] - ORDER[b.c.status] || a.i - b.i);
  for (const { c } of sorted) {
    if (c.status === 'pass' && o.passes === false) continue;
    lines.push(`  ${c.status === 'pass' ? 'pass' : c.status.toUpperCase()} ${c.name.padEnd(width)} ${c.resource}: ${c.reason}`);
    if (c.fix) lines.push(`       ${''.padEnd(width)} fix: ${c.fix}`);
  }
  for (const n of r.not_applicable) lines.push(`  n/a  ${n.area.padEnd(width)} ${n.why}`);
  return lines.join('\n');
}
