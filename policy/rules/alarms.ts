/**
 * The alarms present: every alarm the stack's role needs is declared (found by its `bot-dr:alarm` tag), notifies a
 * topic, and names its runbook incident (lib/runbook.ts) at the end of its description.
 *
 * Needed by role (lib/roles.ts): the database's free-storage and CPU alarms everywhere; the backup alarms (age per
 * service and tier, the restore test, the job's errors and dead letters, deletes by others) on every role that runs the backup job
 * (not scratch); replica lag on a secondary that is still a replica; the health-check alarm where a Route 53 health
 * check is declared; the token monitor's alarms where the monitor is declared.
 *
 * Justified exception (docs/policy.md): the token monitor's health alarms on a standby secondary are declared with
 * actions disabled — the standby's monitor sees the same tokens and must not page twice; its not-running alarm
 * notifies everywhere.
 */
import type { PolicyResource, ReportViolation, StackValidationArgs } from '@pulumi/policy';
import { BACKUP_DELETES_ALARM_ID } from '../../lib/audit';
import { RESTORE_TEST_SERVICE } from '../../lib/backup-metrics';
import { BACKUP_SERVICES, BACKUP_TIERS } from '../../lib/lifecycle';
import { ALARM_ID_TAG, alarmRunbookSuffix, incidentForAlarm } from '../../lib/runbook';
import { COMPONENT_TAG, inferRole, label, list, read, StackRole, tagsOf, TYPES, UNKNOWN } from './model';

/** The alarm ids a stack of `role` must declare, given what else it declares. */
export function requiredAlarmIds(role: StackRole, has: { database: boolean; healthCheck: boolean; tokenMonitor: boolean }): string[] {
  const ids: string[] = [];
  if (has.database) ids.push('db-free-storage', 'db-cpu');
  if (role !== 'scratch') {
    for (const s of BACKUP_SERVICES) for (const t of BACKUP_TIERS) ids.push(`backup-age-${s}-${t}`);
    ids.push(`restore-test-age-${RESTORE_TEST_SERVICE}`, `restore-test-failed-${RESTORE_TEST_SERVICE}`, 'backup-job-errors', 'backup-job-dead-letters', BACKUP_DELETES_ALARM_ID);
  }
  if (role === 'secondary') ids.push('replica-lag');
  if (has.healthCheck) ids.push('health-check');
  if (has.tokenMonitor) ids.push('token-active-unhealthy', 'token-all-unhealthy', 'token-monitor-not-running');
  return ids;
}

/** The problems of one alarm: an id without an incident, a description without the runbook suffix, no actions. */
export function alarmProblems(alarm: PolicyResource, role: StackRole): string[] {
  const id = tagsOf(alarm)[ALARM_ID_TAG];
  if (!id) return [`no ${ALARM_ID_TAG} tag: the runbook cannot say which incident it opens`];
  const problems: string[] = [];
  let suffix: string | undefined;
  try {
    incidentForAlarm(id);
    suffix = alarmRunbookSuffix(id);
  } catch (e) {
    problems.push((e as Error).message);
  }
  const description = read(alarm.props, 'alarmDescription');
  if (suffix && typeof description === 'string' && !description.endsWith(suffix)) problems.push(`its description must end with its runbook incident ("${suffix.trim()}")`);
  const silentByDesign = role === 'secondary' && (id === 'token-active-unhealthy' || id === 'token-all-unhealthy');
  if (!silentByDesign) {
    const actions = list(alarm.props, 'alarmActions');
    if (actions !== UNKNOWN && actions.length === 0) problems.push('it notifies nobody (no alarmActions)');
    if (read(alarm.props, 'actionsEnabled') === false) problems.push('its actions are disabled');
  }
  return problems;
}

/** dr-alarms-present: the role's alarms are declared, each notifying and naming its incident. */
export function drAlarmsPresent(args: StackValidationArgs, report: ReportViolation): void {
  const role = inferRole(args.resources);
  const alarms = args.resources.filter((r) => r.type === TYPES.alarm);
  const has = {
    database: args.resources.some((r) => r.type === TYPES.rdsInstance),
    healthCheck: args.resources.some((r) => r.type === TYPES.healthCheck),
    tokenMonitor: args.resources.some((r) => r.type === TYPES.lambda && tagsOf(r)[COMPONENT_TAG] === 'token-monitor'),
  };
  const declared = new Set(alarms.map((a) => tagsOf(a)[ALARM_ID_TAG]).filter((x): x is string => !!x));
  const missing = requiredAlarmIds(role, has).filter((id) => !declared.has(id));
  if (missing.length) report(`the ${role} stack is missing alarms: ${missing.join(', ')}.`);
  for (const a of alarms) for (const p of alarmProblems(a, role)) report(`${label(a)}: ${p}.`, a.urn);
}
