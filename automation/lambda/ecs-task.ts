/**
 * The backup job's entry as an ECS Fargate task (`backup.runner: fargate`, components/backup-task.ts): the same
 * image, the same environment contract (lib/backup-job-env.ts) and the same engine as the Lambda — it calls
 * {@link runEvent} from handler.ts, so backups, restore tests, metrics (BackupSuccess/BackupAgeSeconds,
 * RestoreTestSuccess/RestoreTestAgeSeconds) and alerts are exactly the function's.
 *
 * The event: the first argument (JSON), else the `DR_JOB_EVENT` environment variable, which the EventBridge
 * Scheduler schedules set per run as a container override (`{ "service": "postgresql", "tier": "daily" }`,
 * `{ "service": "postgresql", "action": "restore-test" }`, …).
 *
 * Exit code (ECS shows it; a non-zero exit is matched by the task-failure rule → the job's DLQ and the
 * `backup-task-failed` alarm): 0 the job succeeded; 1 it failed (it has already alerted and published its failure
 * metric, as in Lambda); 2 the event is not valid JSON or names no job; 124 the task's own deadline
 * (`DR_RUNNER_TIMEOUT_SECONDS`, from `backup.timeoutSeconds`) passed — the Fargate counterpart of the Lambda
 * timeout, since ECS itself never stops a task.
 *
 * Like handler.ts this is an entry file: only `main` touches `process`; {@link runTask} takes argv, env and the
 * clients, which is what the tests call.
 */
import { redact } from '../core/redact';
import { systemClock, type Clock } from '../core/clock';
import { UsageError } from '../core/errors';
import { awsClients, AwsClients, runEvent, runSummary } from './handler';

type Env = Record<string, string | undefined>;
type Log = (line: string) => void;

/** The exit codes of {@link runTask}. */
export const TASK_EXIT = Object.freeze({ ok: 0, failed: 1, badEvent: 2, deadline: 124 });

/** The event from argv[0] or DR_JOB_EVENT; a UsageError naming the problem when there is none or it is not JSON. */
export function taskEvent(argv: readonly string[], env: Env): unknown {
  const raw = argv[0] ?? env.DR_JOB_EVENT;
  if (raw === undefined || raw.trim() === '') throw new UsageError('no job event: pass it as the first argument or in DR_JOB_EVENT (e.g. {"service":"postgresql","tier":"daily"})');
  try {
    return JSON.parse(raw);
  } catch {
    throw new UsageError(`the job event is not JSON: ${JSON.stringify(raw.slice(0, 80))}`);
  }
}

/** The task's deadline in ms (DR_RUNNER_TIMEOUT_SECONDS), or undefined when none is set. */
export function taskDeadlineMs(env: Env): number | undefined {
  const n = Number(env.DR_RUNNER_TIMEOUT_SECONDS);
  return env.DR_RUNNER_TIMEOUT_SECONDS !== undefined && Number.isInteger(n) && n > 0 ? n * 1000 : undefined;
}

/**
 * Run one job event to completion and return the task's exit code ({@link TASK_EXIT}); never throws. Logs the
 * same one-line summary the Lambda logs, or the (redacted) failure.
 */
export async function runTask(argv: readonly string[], env: Env, clients: AwsClients, o: { clock?: Clock; log?: Log; deadlineMs?: number } = {}): Promise<number> {
  const log = o.log ?? ((l: string) => console.log(redact(l)));
  let event: unknown;
  try {
    event = taskEvent(argv, env);
  } catch (err) {
    log(`backup task could not start: ${redact(err instanceof Error ? err.message : String(err))}`);
    return TASK_EXIT.badEvent;
  }
  const deadlineMs = o.deadlineMs ?? taskDeadlineMs(env);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    if (deadlineMs !== undefined) timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  try {
    const outcome = await Promise.race([runEvent(event, env, clients, o.clock ?? systemClock, log), deadline]);
    if (outcome === 'deadline') {
      log(`backup task stopped at its deadline (${Math.round((deadlineMs ?? 0) / 1000)} s, DR_RUNNER_TIMEOUT_SECONDS); no manifest was written for this run`);
      return TASK_EXIT.deadline;
    }
    log(JSON.stringify(runSummary(outcome)));
    return TASK_EXIT.ok;
  } catch (err) {
    log(`backup task failed: ${redact(err instanceof Error ? err.message : String(err))}`);
    return err instanceof UsageError ? TASK_EXIT.badEvent : TASK_EXIT.failed;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** The container's entry: run the event, exit with its code (tools the job started go with the container). */
function main(): void {
  const env = process.env;
  void runTask(process.argv.slice(2), env, awsClients(env)).then((code) => process.exit(code));
}

if (require.main === module) main();
