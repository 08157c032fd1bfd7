/**
 * `dr runbook [INC-ID] [--json]`: the incident runbook (runbook.yaml in the project directory, validated by
 * lib/runbook.ts) — the index, or one incident's detection, `dr` commands in order and verification — with the
 * escalation matrix of each stack (`alerts.escalation` in Pulumi.<stack>.yaml). `--markdown` prints the README's
 * incident table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { mapConfigSource, readEscalation, type EscalationLevel } from '../../../lib/config';
import { incidentTable, INCIDENT_IDS, isIncidentId, type Incident, type Runbook, RunbookError, type RunbookStep, validateRunbook } from '../../../lib/runbook';
import { FlagError, OperationError, UsageError } from '../../core/errors';
import { Command, JSON_FLAG } from '../command';

/** The runbook file, at the root of the project. */
export const RUNBOOK_FILE = 'runbook.yaml';

/** Read and validate `runbook.yaml` of a project directory. */
export function loadRunbook(dir: string): Runbook {
  const file = path.join(dir, RUNBOOK_FILE);
  if (!fs.existsSync(file)) throw new UsageError(`no ${RUNBOOK_FILE} in ${dir}; run dr runbook from the project directory or pass --work-dir`);
  try {
    return validateRunbook(parse(fs.readFileSync(file, 'utf8')));
  } catch (err) {
    if (err instanceof RunbookError) throw new OperationError(err.message);
    throw new OperationError(`${file} is not YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** One stack's escalation matrix (and the name prefix and region its alarms are named with). */
export interface StackEscalation {
  stack: string;
  namePrefix: string;
  region?: string;
  levels: EscalationLevel[];
}

/** The escalation matrices of the stacks in `dir` (every Pulumi.<stack>.yaml, or only `only`). */
export function loadEscalation(dir: string, only?: string): StackEscalation[] {
  const files = fs.readdirSync(dir).filter((f) => /^Pulumi\.[^.]+\.ya?ml$/.test(f)).sort();
  const out: StackEscalation[] = [];
  for (const f of files) {
    const stack = f.replace(/^Pulumi\.|\.ya?ml$/g, '');
    if (only !== undefined && stack !== only) continue;
    const doc = (parse(fs.readFileSync(path.join(dir, f), 'utf8')) ?? {}) as { config?: Record<string, unknown> };
    const config = doc.config ?? {};
    const { levels, problems } = readEscalation(mapConfigSource(config));
    if (problems.length) throw new UsageError(`${f}: ${problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`);
    const prefix = config['bot-platform-dr:namePrefix'];
    out.push({ stack, namePrefix: typeof prefix === 'string' ? prefix : 'botdr', region: typeof config['aws:region'] === 'string' ? (config['aws:region'] as string) : undefined, levels });
  }
  if (only !== undefined && !out.length) throw new FlagError(`--stack ${only}: no Pulumi.${only}.yaml in ${dir}`);
  return out;
}

export const command: Command = {
  name: 'runbook',
  summary: 'the incident runbook (runbook.yaml): the index, or one incident — detection, dr commands in order, verification — and the escalation matrix from stack config',
  args: [{ name: 'incident', description: `an incident id (${INCIDENT_IDS[0]} … ${INCIDENT_IDS[INCIDENT_IDS.length - 1]}); without it, the index`, optional: true }],
  flags: {
    'work-dir': { type: 'string', description: 'the project directory holding runbook.yaml and the Pulumi.<stack>.yaml files (default: the working directory)', env: 'DR_WORK_DIR' },
    stack: { type: 'string', description: 'only this stack\'s escalation matrix (default: every Pulumi.<stack>.yaml)' },
    markdown: { type: 'boolean', description: 'print the incident table as Markdown (the README\'s "When it is not a region" table)' },
    ...JSON_FLAG,
  },
  async run(ctx) {
    const dir = path.resolve(ctx.cwd, ctx.flags.string('work-dir') ?? '.');
    const rb = loadRunbook(dir);
    if (ctx.flags.bool('markdown')) {
      ctx.out.result({ markdown: incidentTable(rb) }, incidentTable(rb));
      return 0;
    }
    const escalation = loadEscalation(dir, ctx.flags.string('stack'));
    const wanted = ctx.flags.arg('incident');
    if (wanted === undefined) {
      const index = rb.incidents.map((i) => ({ id: i.id, title: i.title, severity: i.severity, rto_minutes: i.rto_minutes, rpo_minutes: i.rpo_minutes, alarms: i.detection.alarms }));
      ctx.out.result({ version: rb.version, severities: rb.severities, incidents: index, escalation }, indexText(rb, escalation));
      return 0;
    }
    const id = wanted.toUpperCase();
    if (!isIncidentId(id)) throw new FlagError(`no incident '${wanted}'; the runbook has ${INCIDENT_IDS.join(', ')}`);
    const incident = rb.incidents.find((i) => i.id === id)!;
    ctx.out.result({ incident, severity: { level: incident.severity, meaning: rb.severities[incident.severity] }, escalation }, incidentText(rb, incident, escalation));
    return 0;
  },
};

const dur = (m: number) => (m >= 60 && m % 60 === 0 ? `${m / 60} h` : `${m} min`);

function indexText(rb: Runbook, escalation: readonly StackEscalation[]): string {
  const lines = ['Incidents (dr runbook INC-ID for the steps):', ''];
  for (const i of rb.incidents) lines.push(`  ${i.id}  ${i.severity}  RTO ${dur(i.rto_minutes).padEnd(7)} RPO ${dur(i.rpo_minutes).padEnd(7)} ${i.title}`);
  lines.push('', 'Severities:', ...Object.entries(rb.severities).map(([k, v]) => `  ${k}  ${v}`), '', ...escalationText(escalation));
  return lines.join('\n');
}

function stepText(s: RunbookStep, n: number): string[] {
  return [`  ${n}. ${s.run ? `$ ${s.run}` : `(by hand) ${s.do}`}`, `     ${s.why}`];
}

function incidentText(rb: Runbook, i: Incident, escalation: readonly StackEscalation[]): string {
  const lines = [`${i.id} ${i.title} — ${i.severity} (${rb.severities[i.severity]})`, `target RTO ${dur(i.rto_minutes)}, RPO ${dur(i.rpo_minutes)}`, '', 'Detected by:'];
  const e = escalation.find((x) => x.region);
  const named = (a: string) => (e ? `${e.namePrefix}-${e.region}-${a}` : a);
  if (i.detection.alarms.length) lines.push(`  alarms: ${i.detection.alarms.map(named).join(', ')}${e ? ` (names <namePrefix>-<region>-<id>, here for ${e.stack})` : ''}`);
  else lines.push('  no alarm: the signals below');
  for (const s of i.detection.signals) lines.push(`  - ${s}`);
  lines.push('', 'Steps, in order:');
  i.steps.forEach((s, k) => lines.push(...stepText(s, k + 1)));
  lines.push('', 'Verify:');
  i.verification.forEach((s, k) => lines.push(...stepText(s, k + 1)));
  lines.push('', ...escalationText(escalation, i.severity));
  return lines.join('\n');
}

function escalationText(escalation: readonly StackEscalation[], severity?: string): string[] {
  // Stacks usually share one matrix: print each distinct one once, naming the stacks it belongs to.
  const groups = new Map<string, { stacks: string[]; levels: EscalationLevel[] }>();
  for (const e of escalation) {
    const k = JSON.stringify(e.levels);
    const g = groups.get(k) ?? { stacks: [], levels: e.levels };
    g.stacks.push(e.stack);
    groups.set(k, g);
  }
  const lines: string[] = [];
  for (const g of groups.values()) {
    lines.push(`Escalation (alerts.escalation of ${g.stacks.join(', ')})${severity ? ` for ${severity}` : ''}:`);
    if (!g.levels.length) lines.push('  none configured — set alerts.escalation in the stack config (Pulumi.yaml documents it)');
    for (const l of g.levels.filter((x) => severity === undefined || (x.severities as readonly string[]).includes(severity))) {
      lines.push(`  ${l.level}. ${l.who} — ${l.contact} — ${l.afterMinutes === 0 ? 'at once' : `after ${dur(l.afterMinutes)}`} (${l.severities.join(', ')})`);
    }
  }
  return lines.length ? lines : ['Escalation: no Pulumi.<stack>.yaml found'];
}
