/**
 * The readiness contract (issue 14), shared by the readiness engine (automation/readiness), the `readiness` Lambda
 * (automation/lambda/readiness.ts), the component that deploys it (components/readiness.ts), `dr readiness`,
 * `dr status` and the failover's preflight. Pure and Pulumi-free: the Lambda image compiles lib/.
 *
 * - The report: one verdict and every check's `{ name, status, resource, reason, fix }` (the JSON of
 *   `dr readiness --json`), check names `<area>.<check>`.
 * - The verdict rule ({@link verdictOf}): any `fail` → `not-ready`; else any `warn` → `degraded`; else `ready`. A
 *   check that could not observe what it checks is never a pass: `fail` when the observation itself failed (an API
 *   error, a region that does not answer), `warn` when this deployment cannot observe it at all (a missing SDK client).
 * - The metrics: `DrReady` (0 not-ready, 1 degraded, 2 ready) per region and `DrCheckFailed` (1 when a check failed
 *   on any of its resources, else 0) per region and check, in {@link READINESS_METRICS}.namespace.
 * - Where reports are stored: `readiness/<region>/latest.json` and one copy per day (the last run of the day), in the
 *   region's backup bucket. Per region, because the buckets replicate into each other.
 * - The Lambda's environment ({@link READINESS_ENV}, {@link parseReadinessEnv}) and the targets it observes
 *   ({@link ReadinessTargets}: identifiers only, never a secret value).
 */
import { isBotName, isBotPlatform, type BotPlatform } from './validators';

export const CHECK_STATUSES = ['pass', 'warn', 'fail'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export const VERDICTS = ['ready', 'degraded', 'not-ready'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** The areas, in report order. */
export const READINESS_AREAS = ['database', 'cache', 'backups', 'secrets', 'dns', 'bots', 'certificates', 'jobs'] as const;
export type ReadinessArea = (typeof READINESS_AREAS)[number];

/** Where a report was observed: the AWS pair, or the local two-region rehearsal. */
export type ReadinessEnvironment = 'aws' | 'local';

/** One check's result on one resource. */
export interface ReadinessCheck {
  /** `<area>.<check>`, e.g. `database.lag`. */
  name: string;
  status: CheckStatus;
  /** What was checked, e.g. `us-west-2/botdr-usw2-pg` or `s3://bot-dr-b/postgresql/daily`. */
  resource: string;
  /** Why it passes, warns or fails (redacted). */
  reason: string;
  /** The `dr` or AWS action that fixes it ('' for a pass). */
  fix: string;
}

/** API calls one run made (the observer counts them). */
export interface ReadinessCalls {
  /** AWS API requests (SDK `send` calls, retries included). */
  aws: number;
  /** Telegram/Discord API requests (probes, webhook info, rights checks). */
  platform: number;
  /** Local probes (SQL queries, Redis commands, S3 requests, file stats) in the rehearsal. */
  local: number;
  /** Per area, all kinds together. */
  by_area: Partial<Record<ReadinessArea, number>>;
}

/** The report of one readiness run. */
export interface ReadinessReport {
  verdict: Verdict;
  checks: ReadinessCheck[];
  environment: ReadinessEnvironment;
  /** The region the run observed from (`local` for the rehearsal). */
  from: string;
  /** When the run started (ISO 8601). */
  at: string;
  duration_ms: number;
  calls: ReadinessCalls;
  /** Areas this environment has nothing of (the rehearsal has no DNS health checks, certificates or Lambda jobs). */
  not_applicable: Array<{ area: ReadinessArea; why: string }>;
}

/** The verdict rule: any fail → not-ready; else any warn → degraded; else ready (an empty list is not ready). */
export function verdictOf(checks: readonly Pick<ReadinessCheck, 'status'>[]): Verdict {
  if (checks.length === 0 || checks.some((c) => c.status === 'fail')) return 'not-ready';
  return checks.some((c) => c.status === 'warn') ? 'degraded' : 'ready';
}

/** `DrReady`'s value for a verdict. */
export function readyMetricValue(v: Verdict): 0 | 1 | 2 {
  return v === 'ready' ? 2 : v === 'degraded' ? 1 : 0;
}

/** The failed checks (by name, each once) and the warned ones: what `dr status` and the failover print. */
export function failedCheckNames(report: Pick<ReadinessReport, 'checks'>, status: CheckStatus = 'fail'): string[] {
  return [...new Set(report.checks.filter((c) => c.status === status).map((c) => c.name))];
}

/** One line for people: `NOT-READY: database.lag, backups.newest failed; 2 warnings`. */
export function readinessLine(report: Pick<ReadinessReport, 'verdict' | 'checks'>): string {
  const failed = failedCheckNames(report);
  const warned = failedCheckNames(report, 'warn');
  const parts = [failed.length ? `${failed.join(', ')} failed` : '', warned.length ? `${warned.length === 1 ? `${warned[0]} warns` : `${warned.length} checks warn (${warned.join(', ')})`}` : ''].filter(Boolean);
  return `${report.verdict.toUpperCase()}${parts.length ? `: ${parts.join('; ')}` : ''}`;
}

/** What `dr status` shows of a report: the verdict and the checks that failed (warnings by name). */
export interface ReadinessSummary {
  verdict: Verdict;
  at: string;
  from: string;
  failed: Array<Pick<ReadinessCheck, 'name' | 'resource' | 'reason' | 'fix'>>;
  warned: string[];
}

export function readinessSummary(r: Pick<ReadinessReport, 'verdict' | 'at' | 'from' | 'checks'>): ReadinessSummary {
  return {
    verdict: r.verdict,
    at: r.at,
    from: r.from,
    failed: r.checks.filter((c) => c.status === 'fail').map(({ name, resource, reason, fix }) => ({ name, resource, reason, fix })),
    warned: failedCheckNames(r, 'warn'),
  };
}

/** The summary's lines for a status table (`prefix` indents them). */
export function readinessSummaryLines(s: ReadinessSummary, prefix = '  '): string[] {
  const lines = [`${prefix}readiness  ${s.verdict.toUpperCase()} (from ${s.from} at ${s.at})${s.warned.length ? `; warnings: ${s.warned.join(', ')}` : ''}`];
  for (const f of s.failed) lines.push(`${prefix}  FAIL ${f.name} ${f.resource}: ${f.reason}`, `${prefix}       fix: ${f.fix}`);
  return lines;
}

/** The CloudWatch contract between the Lambda (publisher) and its alarms (components/readiness.ts). */
export const READINESS_METRICS = Object.freeze({
  namespace: 'BotDR/Readiness',
  ready: 'DrReady',
  checkFailed: 'DrCheckFailed',
  regionDimension: 'Region',
  checkDimension: 'Check',
});

/** Every 30 minutes (EventBridge). */
export const READINESS_SCHEDULE_EXPRESSION = 'rate(30 minutes)';
export const READINESS_PERIOD_SECONDS = 1800;
/** The degraded alarm fires after this many hours without a ready run. */
export const DEGRADED_ALARM_HOURS = 24;

/** The thresholds the checks apply (documented with each check in automation/readiness/checks). */
export const READINESS_LIMITS = Object.freeze({
  /** The newest successful restore test must be younger than this. */
  restoreTestMaxAgeDays: 8,
  /** Certificates expiring within this many days warn … */
  certificateWarnDays: 30,
  /** … and within this many days (or expired) fail. */
  certificateFailDays: 7,
  /** A replica-lag datapoint older than this is stale (CloudWatch publishes ReplicaLag every minute). */
  lagStaleSeconds: 300,
  /** A newest backup younger than this may still be replicating (S3 RTC replicates 99.99 % within 15 minutes). */
  replicationGraceSeconds: 900,
  /** Hours of S3 replication metrics read for failed operations. */
  replicationWindowHours: 24,
  /** A Telegram webhook delivery error younger than this fails the webhook check (readiness runs every 30 min). */
  webhookErrorWindowSeconds: 3600,
  /** Discord session starts: warn below this share of `total` left, fail at 0. */
  sessionStartWarnShare: 0.1,
  /** Healthy tokens a bot needs (the active one and one to switch to). */
  minHealthyTokens: 2,
});

/**
 * The id of the backup bucket's replication rule (components/backup-bucket.ts): S3's replication metrics carry it as
 * the `RuleId` dimension (test/components/readiness.test.ts keeps the two equal).
 */
export const S3_REPLICATION_RULE_ID = 'to-peer-region';

/** `readiness/<region>/latest.json` and the day's copy `readiness/<region>/<YYYY-MM-DD>.json`. */
export function readinessReportKeys(region: string, at: Date): { latest: string; daily: string } {
  return { latest: `readiness/${region}/latest.json`, daily: `readiness/${region}/${at.toISOString().slice(0, 10)}.json` };
}

// ---------------------------------------------------------------------------------------------
// What is observed (identifiers only)
// ---------------------------------------------------------------------------------------------

/** One region of the pair as readiness observes it. */
export interface ReadinessRegionTarget {
  region: string;
  /** The stack's `role` output (informative: the live replica relationship decides which region is the standby). */
  role: string;
  dbIdentifier: string;
  bucketName: string;
  kmsKeyArn?: string;
  cacheReplicationGroupId?: string;
  /** Route 53 health check of this region's endpoint (else read from the failover record). */
  healthCheckId?: string;
  /** The Lambda functions, the image repository and the schedules of this region's jobs. */
  jobs: { functions: string[]; repository?: string; schedules: string[] };
}

/** One bot as readiness observes it. */
export interface ReadinessBotTarget {
  bot: string;
  /** Its platform (from the stack config; absent when not known: the record's own `platform` is used). */
  platform?: BotPlatform;
  /** Its token secret: a name (the same in both regions) or an ARN (moved to the region read from). */
  secret: string;
  /** Chat or channel ids (the rights check); empty when none are configured. */
  channels: string[];
  /** Whether a webhook (Telegram) / interactions endpoint (Discord) is expected; undefined when not known. */
  webhook?: boolean;
}

/** Everything one readiness run observes. */
export interface ReadinessTargets {
  regions: [ReadinessRegionTarget, ReadinessRegionTarget];
  /** The RPO budget in seconds (config `alerts.replicaLagSeconds`, default 900). */
  rpoSeconds: number;
  globalDatastoreId?: string;
  /** The failover record and its configured TTL (undefined when not known). */
  dns?: { zoneId: string; recordName: string; ttl?: number };
  /** The secrets replicated to the peer region (DB credentials, cache auth token): ARNs or names. */
  secrets: Array<{ label: string; secret: string }>;
  bots: ReadinessBotTarget[];
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/**
 * The job names of one region from its naming base `<namePrefix>-<region short>` (lib/naming.ts `regionalBase`): the
 * backup job's function and repository, the token monitor, the readiness function, and the schedules
 * (`<base>-<service>-<tier>`, `<base>-postgresql-restore-test`) — components/backup-jobs.ts, token-monitor.ts,
 * readiness.ts name them so.
 */
export function readinessJobNames(base: string, schedules: readonly string[], withTokenMonitor: boolean): ReadinessRegionTarget['jobs'] {
  return {
    functions: [`${base}-backup-job`, ...(withTokenMonitor ? [`${base}-token-monitor`] : []), `${base}-readiness`],
    repository: `${base}-backup-job`,
    schedules: schedules.map((s) => `${base}-${s}`),
  };
}

/** The problems of a targets document (empty when it is valid). */
export function targetProblems(v: unknown): string[] {
  const p: string[] = [];
  const t = (v ?? {}) as Partial<ReadinessTargets>;
  if (!Array.isArray(t.regions) || t.regions.length !== 2) p.push('regions: exactly two regions');
  else {
    t.regions.forEach((r, i) => {
      if (!r || typeof r.region !== 'string' || !REGION.test(r.region)) p.push(`regions[${i}].region: an AWS region`);
      if (!r || typeof r.dbIdentifier !== 'string' || !r.dbIdentifier) p.push(`regions[${i}].dbIdentifier: required`);
      if (!r || typeof r.bucketName !== 'string' || !r.bucketName) p.push(`regions[${i}].bucketName: required`);
      if (!r || !r.jobs || !Array.isArray(r.jobs.functions) || !Array.isArray(r.jobs.schedules)) p.push(`regions[${i}].jobs: { functions: [], schedules: [] }`);
    });
    if (t.regions[0]?.region && t.regions[0].region === t.regions[1]?.region) p.push('regions: two different regions');
  }
  if (!(typeof t.rpoSeconds === 'number' && t.rpoSeconds > 0)) p.push('rpoSeconds: a number of seconds > 0');
  if (!Array.isArray(t.secrets)) p.push('secrets: a list of { label, secret }');
  if (!Array.isArray(t.bots)) p.push('bots: a list');
  else
    t.bots.forEach((b, i) => {
      if (!b || !isBotName(String(b.bot)) || (b.platform !== undefined && !isBotPlatform(b.platform)) || typeof b.secret !== 'string' || !Array.isArray(b.channels)) p.push(`bots[${i}]: { bot, platform?, secret, channels }`);
    });
  return p;
}

// ---------------------------------------------------------------------------------------------
// The Lambda's environment
// ---------------------------------------------------------------------------------------------

export const READINESS_ENV = {
  DR_REGION: { required: true, doc: 'Region the function runs in: the bots are probed from here, the report is stored in its bucket, the metrics carry it as Region.' },
  READINESS_TARGETS: { required: true, doc: 'JSON ReadinessTargets (lib/readiness.ts): both regions\' identifiers, the RPO budget, DNS, secrets and bots. Identifiers only.' },
  READINESS_BUCKET: { required: true, doc: "This region's backup bucket: the report goes to readiness/<region>/." },
  METRICS_NAMESPACE: { required: false, doc: 'CloudWatch namespace of DrReady/DrCheckFailed; must match the alarms and the IAM condition.', default: READINESS_METRICS.namespace },
  DR_TELEGRAM_API_URL: { required: false, doc: 'Telegram Bot API root (default https://api.telegram.org).' },
  DR_DISCORD_API_URL: { required: false, doc: 'Discord API base (default https://discord.com/api).' },
} as const satisfies Record<string, { required: boolean; doc: string; default?: string }>;

export type ReadinessEnvName = keyof typeof READINESS_ENV;

export interface ReadinessEnv {
  region: string;
  targets: ReadinessTargets;
  bucket: string;
  metricsNamespace: string;
  telegramApiUrl?: string;
  discordApiUrl?: string;
}

/** Every problem of the Lambda's environment, reported together. */
export class ReadinessEnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`readiness misconfigured (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ReadinessEnvError';
  }
}

/** Parse and check the Lambda's environment; throws one {@link ReadinessEnvError} naming every problem. */
export function parseReadinessEnv(env: Record<string, string | undefined>): ReadinessEnv {
  const problems: string[] = [];
  const get = (n: ReadinessEnvName): string | undefined => (env[n] === undefined || env[n]!.trim() === '' ? undefined : env[n]!.trim());
  const need = (n: ReadinessEnvName): string => {
    const v = get(n);
    if (v === undefined) problems.push(`${n} is required: ${READINESS_ENV[n].doc}`);
    return v ?? '';
  };
  const url = (n: 'DR_TELEGRAM_API_URL' | 'DR_DISCORD_API_URL'): string | undefined => {
    const v = get(n);
    if (v !== undefined && !/^https?:\/\/[^\s/]+/.test(v)) problems.push(`${n} must be an http(s) URL`);
    return v;
  };
  const region = need('DR_REGION');
  if (region && !REGION.test(region)) problems.push(`DR_REGION must be an AWS region, got '${region}'`);
  const raw = need('READINESS_TARGETS');
  let targets = undefined as unknown as ReadinessTargets;
  if (raw) {
    try {
      targets = JSON.parse(raw) as ReadinessTargets;
      problems.push(...targetProblems(targets).map((x) => `READINESS_TARGETS.${x}`));
      if (region && Array.isArray(targets.regions) && !targets.regions.some((r) => r?.region === region)) problems.push(`READINESS_TARGETS names neither region as DR_REGION ${region}`);
    } catch {
      problems.push('READINESS_TARGETS must be JSON (lib/readiness.ts ReadinessTargets)');
    }
  }
  const out: ReadinessEnv = { region, targets, bucket: need('READINESS_BUCKET'), metricsNamespace: get('METRICS_NAMESPACE') ?? READINESS_ENV.METRICS_NAMESPACE.default, telegramApiUrl: url('DR_TELEGRAM_API_URL'), discordApiUrl: url('DR_DISCORD_API_URL') };
  if (problems.length) throw new ReadinessEnvError(problems);
  return out;
}
