import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { ConfigError, loadConfig, mapConfigSource, StackConfig } from '../../lib/config';
import { FARGATE_RECOMMENDED_ABOVE_GB, LIMIT_SHARE, MEASURED, plannedDumpGb, plannedJobSeconds, RUNNER_LIMITS, runnerFitProblems, SAFETY_FACTOR } from '../../lib/backup-runner';
import { parseBackupJobEnv } from '../../lib/backup-job-env';

const P = 'bot-platform-dr';
const ROOT = path.resolve(__dirname, '..', '..');
const load = (backup: Record<string, unknown> = {}): StackConfig =>
  loadConfig(
    mapConfigSource({
      [`${P}:role`]: 'primary',
      'aws:region': 'us-east-1',
      [`${P}:peerRegion`]: 'us-west-2',
      [`${P}:peerStack`]: 'acme/bot-platform-dr/secondary',
      [`${P}:backup`]: backup,
    }),
  );

function problemsOf(backup: Record<string, unknown>): ConfigError {
  try {
    load(backup);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(backup)}`);
}

function assertProblem(backup: Record<string, unknown>, field: string, re: RegExp): void {
  const err = problemsOf(backup);
  const key = `${P}:backup.${field}`;
  const p = err.problems.find((x) => x.key === key);
  assert.ok(p, `no problem for ${key}; got ${err.message}`);
  assert.match(p.message, re);
}

describe('backup runner: config (backup.runner and the job size)', () => {
  it('defaults to the Lambda with its old sizes and a streamed restore test', () => {
    assert.deepEqual(load().backup.job, { runner: 'lambda', expectedDatabaseGb: undefined, memoryMb: 2048, cpu: 0, timeoutSeconds: 900, ephemeralStorageGb: 4, restoreTestJobs: 1 });
  });

  it('fargate has its own defaults: 1 vCPU, 4 GiB, a 6 h deadline, 21 GiB', () => {
    assert.deepEqual(load({ runner: 'fargate' }).backup.job, { runner: 'fargate', expectedDatabaseGb: undefined, memoryMb: 4096, cpu: 1024, timeoutSeconds: 21600, ephemeralStorageGb: 21, restoreTestJobs: 1 });
    assert.deepEqual(load({ runner: 'fargate', cpu: 4096, memoryMb: 16384, ephemeralStorageGb: 200, timeoutSeconds: 86400 }).backup.job.ephemeralStorageGb, 200);
    assert.equal(load({ runner: 'fargate', cpu: 4096 }).backup.job.memoryMb, 8192, 'the default memory is raised to the smallest size the CPU allows');
  });

  it('names the key and the runner\'s range for every value out of it', () => {
    assertProblem({ runner: 'ec2' }, 'runner', /unknown runner "ec2"; allowed: lambda \| fargate/);
    assertProblem({ timeoutSeconds: 1200 }, 'timeoutSeconds', /from 60 to 900 seconds on lambda/);
    assertProblem({ runner: 'fargate', timeoutSeconds: 90000 }, 'timeoutSeconds', /from 60 to 86400 seconds on fargate/);
    assertProblem({ memoryMb: 20000 }, 'memoryMb', /from 512 to 10240 MB on lambda/);
    assertProblem({ ephemeralStorageGb: 11 }, 'ephemeralStorageGb', /from 1 to 10 GB on lambda/);
    assertProblem({ runner: 'fargate', ephemeralStorageGb: 300 }, 'ephemeralStorageGb', /from 21 to 200 GB on fargate/);
    assertProblem({ runner: 'fargate', cpu: 3000 }, 'cpu', /must be one of 256, 512, 1024, 2048, 4096, 8192, 16384/);
    assertProblem({ runner: 'fargate', cpu: 1024, memoryMb: 5000 }, 'memoryMb', /5000 MiB is not a Fargate size for backup.cpu 1024: 2048–8192 MiB in steps of 1024/);
    assertProblem({ cpu: 1024 }, 'cpu', /applies only to backup.runner fargate/);
    assertProblem({ restoreTestJobs: 0 }, 'restoreTestJobs', /from 1 to 16/);
    assertProblem({ expectedDatabaseGb: 'big' }, 'expectedDatabaseGb', /integer from 1 to 65536 GB/);
    assertProblem({ run: 'lambda' }, 'run', /unknown key; allowed: .*runner/);
  });

  it('refuses a database that cannot fit the Lambda, and says to use fargate above the measured size', () => {
    const big = FARGATE_RECOMMENDED_ABOVE_GB * 4;
    assertProblem({ expectedDatabaseGb: big }, 'expectedDatabaseGb', new RegExp(`${big} GB needs about \\d+ min for the (backup|restore test) .* more than backup.timeoutSeconds 900 s on lambda; use backup.runner fargate \\(recommended above ${FARGATE_RECOMMENDED_ABOVE_GB} GB\\)`));
    assert.equal(load({ expectedDatabaseGb: FARGATE_RECOMMENDED_ABOVE_GB }).backup.job.expectedDatabaseGb, FARGATE_RECOMMENDED_ABOVE_GB, 'the threshold itself fits');
    assert.equal(load({ runner: 'fargate', expectedDatabaseGb: big }).backup.job.runner, 'fargate');
    // A shorter Lambda timeout lowers what fits.
    assertProblem({ expectedDatabaseGb: FARGATE_RECOMMENDED_ABOVE_GB, timeoutSeconds: 300 }, 'expectedDatabaseGb', /more than backup.timeoutSeconds 300 s on lambda/);
    // Past even a day on fargate.
    const huge = Math.ceil(86400 / (Math.max(MEASURED.backupSecondsPerGb, MEASURED.restoreTestSecondsPerGb) * SAFETY_FACTOR)) + 10;
    assertProblem({ runner: 'fargate', expectedDatabaseGb: huge, timeoutSeconds: 86400 }, 'expectedDatabaseGb', /on fargate; raise backup.timeoutSeconds/);
  });

  it('a restore test with several jobs must hold the dump on local storage; one job streams and needs none', () => {
    const gb = Math.ceil(10 / plannedDumpGb(1)) + 1;
    const fits = gb <= FARGATE_RECOMMENDED_ABOVE_GB;
    if (fits) assertProblem({ expectedDatabaseGb: gb, restoreTestJobs: 4, ephemeralStorageGb: 10 }, 'ephemeralStorageGb', /keeps the dump on local storage: about [\d.]+ GB .* more than 10 GB on lambda/);
    assertProblem({ runner: 'fargate', expectedDatabaseGb: 500, timeoutSeconds: 86400, restoreTestJobs: 4, ephemeralStorageGb: 100 }, 'ephemeralStorageGb', /more than 100 GB on fargate; raise it \(at most 200 GiB\) or set backup.restoreTestJobs 1/);
    assert.equal(load({ runner: 'fargate', expectedDatabaseGb: 500, timeoutSeconds: 86400, restoreTestJobs: 1, ephemeralStorageGb: 21 }).backup.job.restoreTestJobs, 1);
  });
});

describe('backup runner: planning figures (lib/backup-runner.ts)', () => {
  it('turns GB into seconds with the measured figures and the safety factor', () => {
    assert.deepEqual(plannedJobSeconds(10), { backup: 10 * MEASURED.backupSecondsPerGb * SAFETY_FACTOR, restoreTest: 10 * MEASURED.restoreTestSecondsPerGb * SAFETY_FACTOR });
    assert.ok(plannedDumpGb(10) > 10 * MEASURED.dumpBytesPerDatabaseByte);
  });

  it('the fargate threshold is the largest whole GB whose slower job stays within 80 % of the Lambda limit', () => {
    const slower = (gb: number) => Math.max(...Object.values(plannedJobSeconds(gb)));
    assert.ok(slower(FARGATE_RECOMMENDED_ABOVE_GB) <= RUNNER_LIMITS.lambda.maxTimeoutSeconds * LIMIT_SHARE);
    assert.ok(slower(FARGATE_RECOMMENDED_ABOVE_GB + 1) > RUNNER_LIMITS.lambda.maxTimeoutSeconds * LIMIT_SHARE);
    assert.deepEqual(runnerFitProblems({ runner: 'lambda', expectedDatabaseGb: FARGATE_RECOMMENDED_ABOVE_GB, timeoutSeconds: 900, ephemeralStorageGb: 4, restoreTestJobs: 1 }), []);
  });

  it('Pulumi.yaml states the same threshold', () => {
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8'));
    assert.match(project.config.backup.description, new RegExp(`recommended above ${FARGATE_RECOMMENDED_ABOVE_GB} GB`));
  });

  it('the job environment carries the runner and its limits (DR_RUNNER…, RESTORE_TEST_JOBS) and refuses bad values', () => {
    const env = { DR_REGION: 'eu-west-1', BACKUP_BUCKET: 'b', DB_SECRET_ARN: 'arn:s', DB_HOST: 'h' };
    assert.deepEqual(parseBackupJobEnv(env, 'postgresql').runner, { kind: 'lambda' });
    assert.equal(parseBackupJobEnv(env, 'postgresql').restoreTestJobs, 1);
    const f = parseBackupJobEnv({ ...env, DR_RUNNER: 'fargate', DR_RUNNER_TIMEOUT_SECONDS: '21600', DR_RUNNER_STORAGE_MB: '21504', RESTORE_TEST_JOBS: '4' }, 'postgresql');
    assert.deepEqual(f.runner, { kind: 'fargate', timeoutSeconds: 21600, storageMb: 21504 });
    assert.equal(f.restoreTestJobs, 4);
    assert.throws(() => parseBackupJobEnv({ ...env, DR_RUNNER: 'batch', DR_RUNNER_TIMEOUT_SECONDS: '-1', RESTORE_TEST_JOBS: '99' }, 'postgresql'), (e: Error) =>
      /DR_RUNNER must be one of lambda\|fargate/.test(e.message) && /DR_RUNNER_TIMEOUT_SECONDS must be a whole number ≥ 1/.test(e.message) && /RESTORE_TEST_JOBS must be a whole number 1-16/.test(e.message),
    );
  });
});
