/**
 * The incident runbook as data (`runbook.yaml` at the repository root, issue 13): its schema as a TypeScript
 * validator, the incident each alarm of the program belongs to, the line every notification ends with, and the
 * README's incident table. Pure: the CLI reads and parses the file (`dr runbook`), the program imports the alarm
 * mapping (components/alerts.ts), the notifiers the link line.
 */

/** The incidents of the seeds' runbook, as this project numbers them. */
export const INCIDENT_IDS = ['INC-001', 'INC-002', 'INC-003', 'INC-004', 'INC-005', 'INC-006', 'INC-007', 'INC-008'] as const;
export type IncidentId = (typeof INCIDENT_IDS)[number];

export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function isIncidentId(v: string): v is IncidentId {
  return (INCIDENT_IDS as readonly string[]).includes(v);
}

/** One step: a `dr` command to run, or something to do by hand; always with why. */
export interface RunbookStep {
  /** A `dr …` command line (placeholders in capitals: URL, TIME, BOT). */
  run?: string;
  /** A manual action (exactly one of `run` and `do`). */
  do?: string;
  why: string;
}

export interface Incident {
  id: IncidentId;
  title: string;
  severity: Severity;
  /** Target recovery time and recovery point, in minutes. */
  rto_minutes: number;
  rpo_minutes: number;
  detection: {
    /** Alarm ids (`<namePrefix>-<region>-<id>` is the alarm's name) that open this incident. */
    alarms: string[];
    /** Other signals (notifications, command findings, user reports). */
    signals: string[];
  };
  steps: RunbookStep[];
  verification: RunbookStep[];
}

export interface Runbook {
  version: 1;
  severities: Record<Severity, string>;
  /** Where the escalation matrix lives (stack config), and a note for people. */
  escalation: { from: string; note: string };
  incidents: Incident[];
}

/** Every problem of a runbook document, with its path (e.g. `incidents[2].steps[0].run`). */
export class RunbookError extends Error {
  constructor(readonly problems: string[]) {
    super(`runbook.yaml is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RunbookError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max = 400): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

function unknownKeys(p: string[], at: string, o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) p.push(`${at}.${k}: unknown key (allowed: ${allowed.join(', ')})`);
}

function checkSteps(p: string[], at: string, v: unknown): void {
  if (!Array.isArray(v) || v.length === 0) return void p.push(`${at}: must be a non-empty list of steps`);
  v.forEach((s, i) => {
    const here = `${at}[${i}]`;
    if (!isObject(s)) return void p.push(`${here}: must be { run | do, why }`);
    unknownKeys(p, here, s, ['run', 'do', 'why']);
    if ((s.run === undefined) === (s.do === undefined)) p.push(`${here}: exactly one of run (a dr command) and do (a manual action)`);
    if (s.run !== undefined && !(isText(s.run) && /^dr [a-z]/.test(s.run))) p.push(`${here}.run: must be a command line starting with "dr "`);
    if (s.do !== undefined && !isText(s.do)) p.push(`${here}.do: must be a non-empty text`);
    if (!isText(s.why)) p.push(`${here}.why: must say why (a non-empty text)`);
  });
}

const minutes = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 10080;

function checkIncident(p: string[], i: number, v: unknown, seen: Set<string>): void {
  const at = `incidents[${i}]`;
  if (!isObject(v)) return void p.push(`${at}: must be an incident object`);
  unknownKeys(p, at, v, ['id', 'title', 'severity', 'rto_minutes', 'rpo_minutes', 'detection', 'steps', 'verification']);
  if (typeof v.id !== 'string' || !isIncidentId(v.id)) p.push(`${at}.id: must be one of ${INCIDENT_IDS.join(', ')}, got ${JSON.stringify(v.id)}`);
  else if (seen.has(v.id)) p.push(`${at}.id: ${v.id} is listed twice`);
  else seen.add(v.id);
  if (!isText(v.title, 80)) p.push(`${at}.title: must be a non-empty text of at most 80 characters`);
  if (typeof v.severity !== 'string' || !(SEVERITIES as readonly string[]).includes(v.severity)) p.push(`${at}.severity: must be one of ${SEVERITIES.join(', ')}`);
  for (const k of ['rto_minutes', 'rpo_minutes'] as const) if (!minutes(v[k])) p.push(`${at}.${k}: must be a whole number of minutes from 0 to 10080`);
  const d = v.detection;
  if (!isObject(d)) p.push(`${at}.detection: must be { alarms: [...], signals: [...] }`);
  else {
    unknownKeys(p, `${at}.detection`, d, ['alarms', 'signals']);
    if (!Array.isArray(d.alarms) || !d.alarms.every((a) => typeof a === 'string' && /^[a-z][a-z0-9-]*$/.test(a))) p.push(`${at}.detection.alarms: must be a list of alarm ids like backup-age-postgresql-daily`);
    if (!Array.isArray(d.signals) || !d.signals.every((s) => isText(s))) p.push(`${at}.detection.signals: must be a list of texts`);
    else if (Array.isArray(d.alarms) && d.alarms.length + d.signals.length === 0) p.push(`${at}.detection: needs at least one alarm or signal`);
  }
  checkSteps(p, `${at}.steps`, v.steps);
  checkSteps(p, `${at}.verification`, v.verification);
}

/** Validate a parsed runbook document; throws a {@link RunbookError} listing every problem. */
export function validateRunbook(doc: unknown): Runbook {
  const p: string[] = [];
  if (!isObject(doc)) throw new RunbookError(['the document must be a mapping { version, severities, escalation, incidents }']);
  unknownKeys(p, '$', doc, ['version', 'severities', 'escalation', 'incidents']);
  if (doc.version !== 1) p.push('version: must be 1');
  const sev = doc.severities;
  if (!isObject(sev) || SEVERITIES.some((s) => !isText(sev[s])) || Object.keys(sev).some((k) => !(SEVERITIES as readonly string[]).includes(k))) {
    p.push(`severities: must describe exactly ${SEVERITIES.join(', ')}`);
  }
  const esc = doc.escalation;
  if (!isObject(esc) || esc.from !== 'bot-platform-dr:alerts.escalation' || !isText(esc.note)) p.push('escalation: must be { from: bot-platform-dr:alerts.escalation, note }');
  const seen = new Set<string>();
  if (!Array.isArray(doc.incidents)) p.push('incidents: must be a list');
  else doc.incidents.forEach((inc, i) => checkIncident(p, i, inc, seen));
  if (Array.isArray(doc.incidents)) for (const id of INCIDENT_IDS) if (!seen.has(id)) p.push(`incidents: ${id} is missing`);
  if (Array.isArray(doc.incidents) && seen.size === INCIDENT_IDS.length) {
    const order = (doc.incidents as Array<{ id: string }>).map((x) => x.id).join(',');
    if (order !== INCIDENT_IDS.join(',')) p.push(`incidents: must be in order ${INCIDENT_IDS.join(', ')}`);
  }
  if (p.length) throw new RunbookError(p);
  return doc as unknown as Runbook;
}

/**
 * The incident each alarm id of the program opens (components/alerts.ts appends it to the alarm's description).
 * Throws for an alarm id with no incident, so no alarm can be declared without one.
 */
export function incidentForAlarm(alarmId: string): IncidentId {
  if (alarmId === 'health-check') return 'INC-001';
  if (alarmId === 'replica-lag' || alarmId === 'db-free-storage' || alarmId === 'db-cpu') return 'INC-002';
  if (/^backup-age-/.test(alarmId) || /^restore-test-/.test(alarmId) || alarmId === 'backup-job-errors' || alarmId === 'backup-job-dead-letters' || alarmId === 'backup-task-failed' || alarmId === 'backup-deletes') return 'INC-007';
  if (alarmId === 'token-active-unhealthy' || alarmId === 'token-all-unhealthy' || alarmId === 'token-monitor-not-running') return 'INC-006';
  if (alarmId === 'webhook-url-drift' || alarmId === 'webhook-pending-growing' || alarmId === 'webhook-recent-error' || alarmId === 'channel-rights-missing') return 'INC-006';
  if (alarmId === 'readiness-not-ready' || alarmId === 'readiness-degraded') return 'INC-008';
  throw new Error(`alarm ${alarmId}: no runbook incident; add it to lib/runbook.ts incidentForAlarm and to runbook.yaml`);
}

/** The incident a failover of `incident` (datacenter | database | cache) is the response to. */
export function incidentForFailover(incident: string): IncidentId {
  return incident === 'database' ? 'INC-002' : incident === 'cache' ? 'INC-003' : 'INC-004';
}

/** The line that links a notification to its runbook entry: `runbook: INC-004 — dr runbook INC-004`. */
export function runbookLine(id: IncidentId): string {
  return `runbook: ${id} — dr runbook ${id}`;
}

/** The suffix of an alarm's description naming its incident. */
/** The tag every alarm carries with its alarm id (the id incidentForAlarm and runbook.yaml know it by). */
export const ALARM_ID_TAG = 'bot-dr:alarm';

export function alarmRunbookSuffix(alarmId: string): string {
  const id = incidentForAlarm(alarmId);
  return ` (runbook ${id}: dr runbook ${id})`;
}

/** `backup-age-postgresql-daily`, … → `backup-age-*` when several alarms share a family. */
function alarmFamilies(alarms: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of alarms) {
    const family = /^(backup-age|restore-test|backup-job)-/.exec(a)?.[1];
    const shown = family && alarms.filter((x) => x.startsWith(`${family}-`)).length > 1 ? `${family}-*` : a;
    if (!out.includes(shown)) out.push(shown);
  }
  return out;
}

/** The distinct `dr` commands (their words, e.g. `restore postgres`) a list of steps runs, in order. */
export function commandsOf(steps: readonly RunbookStep[]): string[] {
  const out: string[] = [];
  for (const s of steps) {
    if (!s.run) continue;
    const words: string[] = [];
    for (const w of splitCommandLine(s.run).slice(1)) {
      if (words.length === 2 || !/^[a-z][a-z-]*$/.test(w)) break;
      words.push(w);
    }
    const name = words.join(' ');
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** The README's incident table (Markdown), generated from the runbook (`dr runbook --markdown`). */
export function incidentTable(rb: Runbook): string {
  const lines = ['| Incident | Severity | RTO | RPO | Detected by | `dr` commands, in order |', '|---|---|---|---|---|---|'];
  const dur = (m: number) => (m >= 60 && m % 60 === 0 ? `${m / 60} h` : `${m} min`);
  const short = (t: string) => (t.length <= 60 ? t : `${t.slice(0, t.lastIndexOf(' ', 59))} …`);
  for (const i of rb.incidents) {
    const detected = i.detection.alarms.length ? alarmFamilies(i.detection.alarms).map((a) => `\`${a}\``).join(', ') : `no alarm: ${short(i.detection.signals[0])}`;
    const cmds = commandsOf(i.steps).map((c) => `\`${c}\``).join(', ');
    lines.push(`| **${i.id}** ${i.title} | ${i.severity} | ${dur(i.rto_minutes)} | ${dur(i.rpo_minutes)} | ${detected} | ${cmds} |`);
  }
  return lines.join('\n');
}

/** Split a command line into words, honouring double and single quotes (the runbook's `run:` lines). */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}
