/**
 * Where the scheduled backup job and the weekly restore test run (`backup.runner`), each runner's limits, and
 * how long a database of a given size takes — the decisions shared by the config loader (a configured size that
 * cannot fit the runner is a validation error), the BackupJobs component (the Lambda's or the task's sizes) and
 * `dr status` (the runner's limits, as the job records them in each manifest).
 *
 * Runners (same image, same engine, same IAM scope, same EventBridge Scheduler schedules):
 * - `lambda`  (default): the function; at most 15 minutes and 10 GB of /tmp, CPU in proportion to memory.
 * - `fargate`: an ECS Fargate task (automation/lambda/ecs-task.ts), no platform time limit (the job stops itself at
 *   `backup.timeoutSeconds`), 21–200 GiB of ephemeral storage, CPU and memory chosen independently.
 *
 * Throughput (bench/backup.ts on the less compressible "realistic" dataset, README "Benchmarks"; one pg_dump
 * process compressing at -Z6 is the backup's bottleneck, so a Lambda's share of a vCPU is what matters): the
 * planning figures below are the measured medians × {@link SAFETY_FACTOR}, because a Lambda at the default 2048 MB
 * gets about 1.2 vCPU of a slower core than the bench machine's and RDS is across the network. `dr status` uses the
 * job's own measured durations instead, once there are manifests.
 */

export const BACKUP_RUNNERS = ['lambda', 'fargate'] as const;
export type BackupRunner = (typeof BACKUP_RUNNERS)[number];

/** Platform limits of each runner. */
export const RUNNER_LIMITS = Object.freeze({
  lambda: { minTimeoutSeconds: 60, maxTimeoutSeconds: 900, minMemoryMb: 512, maxMemoryMb: 10240, minStorageGb: 1, maxStorageGb: 10 },
  fargate: { minTimeoutSeconds: 60, maxTimeoutSeconds: 86400, minStorageGb: 21, maxStorageGb: 200 },
});

/** Fargate task sizes: vCPU units → allowed memory (MiB) range and step. */
export const FARGATE_SIZES: Readonly<Record<number, { min: number; max: number; step: number }>> = Object.freeze({
  256: { min: 512, max: 2048, step: 512 },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
});

/** Defaults per runner (config keys backup.memoryMb, backup.cpu, backup.timeoutSeconds, backup.ephemeralStorageGb). */
export const RUNNER_DEFAULTS = Object.freeze({
  lambda: { memoryMb: 2048, cpu: 0, timeoutSeconds: 900, ephemeralStorageGb: 4 },
  fargate: { memoryMb: 4096, cpu: 1024, timeoutSeconds: 21600, ephemeralStorageGb: 21 },
});

/**
 * Measured on the bench (see the module comment): seconds per GB of database (pg_database_size) for the backup
 * and for the restore test (streamed, one pg_restore job, row counts included), and the dump's size per byte
 * of database at -Z6.
 */
export const MEASURED = Object.freeze({
  // bench:backup of 2026-12-01, realistic dataset at scale 70 (0.97 GB, a 332 MiB dump): the dr process's medians
  // 21.5 s (22.2 s/GB) for the backup and 9.8 s (10.1 s/GB) for the streamed restore test. The restore test is
  // planned at the backup's rate: restoring into RDS over the network is slower than into the bench's local server.
  backupSecondsPerGb: 22,
  restoreTestSecondsPerGb: 22,
  dumpBytesPerDatabaseByte: 0.34,
});

/** Planning margin over the bench figures (Lambda CPU share, RDS over the network, growth between deploys). */
export const SAFETY_FACTOR = 2;

/** A job should finish within this share of its runner's time limit; `dr status` warns above it. */
export const LIMIT_SHARE = 0.8;

/** Planned seconds of the backup and of the restore test for a database of `gb` GB. */
export function plannedJobSeconds(gb: number): { backup: number; restoreTest: number } {
  return { backup: gb * MEASURED.backupSecondsPerGb * SAFETY_FACTOR, restoreTest: gb * MEASURED.restoreTestSecondsPerGb * SAFETY_FACTOR };
}

/** Planned dump size (GB) of a database of `gb` GB — what a `-j N` restore test must hold on local storage. */
export function plannedDumpGb(gb: number): number {
  return gb * MEASURED.dumpBytesPerDatabaseByte * SAFETY_FACTOR;
}

/**
 * Above this database size the Lambda's 15 minutes no longer hold the slower of the two jobs with the planning
 * margin ({@link LIMIT_SHARE} of 900 s): `backup.runner: fargate` is recommended.
 */
export const FARGATE_RECOMMENDED_ABOVE_GB = Math.floor(
  (RUNNER_LIMITS.lambda.maxTimeoutSeconds * LIMIT_SHARE) / (Math.max(MEASURED.backupSecondsPerGb, MEASURED.restoreTestSecondsPerGb) * SAFETY_FACTOR),
);

/** The job's size on its runner, as validated config (lib/config.ts `backup`). */
export interface RunnerSizing {
  runner: BackupRunner;
  /** Declared database size (GB), when the operator states one. */
  expectedDatabaseGb?: number;
  timeoutSeconds: number;
  ephemeralStorageGb: number;
  /** pg_restore jobs of the restore test: 1 streams (no local copy), more need the dump on local storage. */
  restoreTestJobs: number;
}

/** A problem with a runner sizing: the config key to change and why. */
export interface RunnerProblem {
  /** Field under `backup.` (e.g. `expectedDatabaseGb`). */
  field: string;
  message: string;
}

/** Whether a declared database size fits the runner (pure; empty when it does or no size is declared). */
export function runnerFitProblems(s: RunnerSizing): RunnerProblem[] {
  if (s.expectedDatabaseGb === undefined) return [];
  const gb = s.expectedDatabaseGb;
  const planned = plannedJobSeconds(gb);
  const problems: RunnerProblem[] = [];
  const hint = s.runner === 'lambda' ? `; use backup.runner fargate (recommended above ${FARGATE_RECOMMENDED_ABOVE_GB} GB)` : '; raise backup.timeoutSeconds';
  for (const [job, seconds] of [['backup', planned.backup], ['restore test', planned.restoreTest]] as const) {
    if (seconds > s.timeoutSeconds) {
      problems.push({
        field: 'expectedDatabaseGb',
        message: `${gb} GB needs about ${Math.ceil(seconds / 60)} min for the ${job} (planning figure ${(seconds / gb).toFixed(0)} s/GB, README "Benchmarks"), more than backup.timeoutSeconds ${s.timeoutSeconds} s on ${s.runner}${hint}`,
      });
    }
  }
  if (s.restoreTestJobs > 1) {
    const dump = plannedDumpGb(gb);
    if (dump > s.ephemeralStorageGb) {
      problems.push({
        field: 'ephemeralStorageGb',
        message: `a restore test with backup.restoreTestJobs ${s.restoreTestJobs} keeps the dump on local storage: about ${dump.toFixed(1)} GB for ${gb} GB of database, more than ${s.ephemeralStorageGb} GB on ${s.runner}; raise it${s.runner === 'lambda' ? ' (Lambda: at most 10 GB; fargate: up to 200 GiB)' : ' (at most 200 GiB)'} or set backup.restoreTestJobs 1 (streamed, no local copy)`,
      });
    }
  }
  return problems;
}
