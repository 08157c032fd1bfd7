/**
 * The readiness Lambda's entry (`automation/lambda/readiness.handler`, the backup job's image with another handler:
 * components/readiness.ts sets `imageConfig.commands`). EventBridge invokes it every 30 minutes in EACH region; one
 * invocation is one run of the readiness engine over both regions (adapters/aws/readiness-observer.ts, the bots
 * probed from this region), then:
 *  - `DrReady` (0 not-ready, 1 degraded, 2 ready) and `DrCheckFailed` per check (adapters/aws/readiness-publish.ts),
 *    which the not-ready and degraded-for-24-h alarms watch;
 *  - the report in this region's bucket under `readiness/<region>/` (latest.json and the day's copy);
 *  - one JSON log line (verdict and failed checks).
 * A not-ready verdict is a result, not an error. The invocation fails (the function's Errors metric) only when the
 * environment is wrong or the result could not be published or stored: a readiness run nobody can see is no run.
 *
 * Like the other entry files it alone reads `process.env` and builds the clients; {@link runReadinessLambda} takes
 * env, clients and clock injected (test/lambda/readiness.test.ts runs it end to end over mocked clients).
 */
import { parseReadinessEnv, readinessLine, type ReadinessReport } from '../../lib/readiness';
import { defaultClients, type AwsClientFactories } from '../adapters/aws/index';
import { awsJobsProbe, awsKmsKeyProbe } from '../adapters/aws/readiness-jobs';
import { awsReadinessObserver } from '../adapters/aws/readiness-observer';
import { publishReadiness } from '../adapters/aws/readiness-publish';
import { type Clock, systemClock } from '../core/clock';
import { errorSummary, OperationError } from '../core/errors';
import { redact } from '../core/redact';
import { checksFor, runReadiness } from '../readiness/index';
import type { TokenProber } from '../tokens';

/** Every client the run reaches, per region (both regions are read; the metrics and the report go to this one). */
export type ReadinessLambdaClients = Pick<AwsClientFactories, 'rds' | 'cloudwatch' | 'elasticache' | 'secretsManager' | 's3' | 'route53'> & Required<Pick<AwsClientFactories, 'kms' | 'ecr' | 'lambda' | 'scheduler'>>;

export interface ReadinessLambdaDeps {
  clock?: Clock;
  /** Log lines (redacted here); default console.log. */
  log?: (line: string) => void;
  /** Default: the Telegram and Discord probers over `DR_TELEGRAM_API_URL` / `DR_DISCORD_API_URL`. */
  prober?: TokenProber;
}

export interface ReadinessLambdaResult {
  region: string;
  verdict: ReadinessReport['verdict'];
  failed: string[];
  warned: string[];
  /** Datums published and the keys written. */
  datums: number;
  keys: string[];
  calls: ReadinessReport['calls'];
  duration_ms: number;
}

type Env = Record<string, string | undefined>;

export async function runReadinessLambda(env: Env, clients: ReadinessLambdaClients, deps: ReadinessLambdaDeps = {}): Promise<ReadinessLambdaResult> {
  const cfg = parseReadinessEnv(env);
  const clock = deps.clock ?? systemClock;
  const log = (l: string): void => (deps.log ?? console.log)(redact(l));
  const observer = awsReadinessObserver({
    targets: cfg.targets,
    clients,
    from: cfg.region,
    apis: { telegram: cfg.telegramApiUrl, discord: cfg.discordApiUrl },
    kms: awsKmsKeyProbe(clients.kms),
    jobs: awsJobsProbe(clients),
    clock,
    ...(deps.prober ? { prober: deps.prober } : {}),
  });
  const report = await runReadiness(observer, { clock });
  const failed = [...new Set(report.checks.filter((c) => c.status === 'fail').map((c) => c.name))];
  const warned = [...new Set(report.checks.filter((c) => c.status === 'warn').map((c) => c.name))];
  log(JSON.stringify({ msg: 'readiness', region: cfg.region, verdict: report.verdict, line: readinessLine(report), failed, warned, calls: report.calls, duration_ms: report.duration_ms }));
  let written: { datums: number; keys: string[] };
  try {
    written = await publishReadiness(report, { region: cfg.region, bucket: cfg.bucket, namespace: cfg.metricsNamespace, cloudwatch: clients.cloudwatch(cfg.region), s3: clients.s3(cfg.region) }, checksFor('aws').map((c) => c.name));
  } catch (err) {
    throw new OperationError(redact(`readiness in ${cfg.region}: the ${report.verdict} result could not be published or stored: ${errorSummary(err)}`));
  }
  return { region: cfg.region, verdict: report.verdict, failed, warned, datums: written.datums, keys: written.keys, calls: report.calls, duration_ms: report.duration_ms };
}

/** Lambda entry (EventBridge schedule; the event is not read). */
export async function handler(): Promise<ReadinessLambdaResult> {
  const c = defaultClients();
  const clients: ReadinessLambdaClients = { ...c, kms: c.kms!, ecr: c.ecr!, lambda: c.lambda!, scheduler: c.scheduler! };
  return runReadinessLambda(process.env, clients);
}
