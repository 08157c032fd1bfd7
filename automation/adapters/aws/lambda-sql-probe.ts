/**
 * {@link SqlProbe} through the region's backup-job Lambda, which runs inside the VPC: for an operator's machine with
 * no route into the private subnets. `query(region, sql)` accepts only the named probes (sql-probes.ts), invokes
 * the region's function synchronously (`Invoke`, `RequestResponse`) with `{ "probe": "<name>" }`, and returns the
 * rows it answers. A function error (`FunctionError`: the database refused, the probe is unknown to an older image)
 * is an OperationError naming the function and the probe; throttling is retried with the bounded backoff.
 *
 * {@link fallbackSqlProbe} puts it behind the operator's own URLs: direct first where a URL is given, the Lambda
 * when there is none or the direct connection cannot be made.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { OperationError, UnreachableError } from '../../core/errors';
import { redact } from '../../core/redact';
import { systemClock, type Clock } from '../../core/clock';
import type { SqlProbe } from './rds';
import { AWS_RETRY, isThrottling, withRetry } from './retry';
import { sqlProbeNameOf, type SqlProbeAnswer, type SqlProbeEvent } from './sql-probes';

/** What a probe event asks and what the function answers (automation/lambda/probe.ts). */
export type { SqlProbeAnswer, SqlProbeEvent } from './sql-probes';

export interface LambdaSqlProbeOptions {
  /** Region → the backup job's function name (stack output `backupFunctionName`). */
  functions: Record<string, string | undefined>;
  lambda: (region: string) => LambdaClient;
  clock?: Clock;
  retry?: Partial<typeof AWS_RETRY>;
}

export class LambdaSqlProbe implements SqlProbe {
  constructor(private readonly o: LambdaSqlProbeOptions) {}

  /** Whether a region has a function to ask. */
  covers(region: string): boolean {
    return !!this.o.functions[region];
  }

  async query(region: string, sql: string): Promise<Array<Record<string, unknown>>> {
    const probe = sqlProbeNameOf(sql);
    const fn = this.o.functions[region];
    if (!fn) throw new OperationError(`no backup-job function is known in ${region} (stack output backupFunctionName) to run the ${probe} probe`);
    const event: SqlProbeEvent = { probe };
    const out = await withRetry(() => this.o.lambda(region).send(new InvokeCommand({ FunctionName: fn, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) })), {
      ...AWS_RETRY,
      ...this.o.retry,
      retryable: isThrottling,
      clock: this.o.clock ?? systemClock,
      what: `Lambda Invoke ${fn} (${probe}) in ${region}`,
    });
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) {
      let message = text;
      try {
        message = (JSON.parse(text) as { errorMessage?: string }).errorMessage ?? text;
      } catch {
        /* not JSON: keep the text */
      }
      throw new OperationError(redact(`the ${probe} probe through ${fn} in ${region} failed: ${message.slice(0, 500)}`));
    }
    let answer: SqlProbeAnswer;
    try {
      answer = JSON.parse(text) as SqlProbeAnswer;
    } catch {
      throw new OperationError(`the ${probe} probe through ${fn} in ${region} answered something that is not JSON`);
    }
    if (answer.probe !== probe || !Array.isArray(answer.rows)) throw new OperationError(`the ${probe} probe through ${fn} in ${region} answered ${JSON.stringify(answer).slice(0, 200)}: not a probe answer (an older job image?)`);
    return answer.rows;
  }
}

/**
 * Per region: the direct probe where a URL was given; the Lambda where none was, or where the direct connection
 * could not be made (no route from this machine). A query the database itself refuses is not retried elsewhere.
 * `log` says once per region that the Lambda answered instead.
 */
export function fallbackSqlProbe(direct: { probe: SqlProbe; regions: string[] } | undefined, lambda: LambdaSqlProbe, log?: (line: string) => void): SqlProbe {
  const via = new Set<string>();
  const useLambda = (region: string, why: string) => {
    if (!via.has(region)) log?.(`SQL in ${region} through the backup-job Lambda (${why})`);
    via.add(region);
  };
  return {
    async query(region, sql) {
      if (direct && direct.regions.includes(region) && !via.has(region)) {
        try {
          return await direct.probe.query(region, sql);
        } catch (err) {
          if (!lambda.covers(region) || !isConnectionFailure(err)) throw err;
          useLambda(region, `no direct connection: ${redact((err as Error).message)}`);
        }
      } else if (!via.has(region)) useLambda(region, 'no --primary-db-url/--secondary-db-url for it');
      return lambda.query(region, sql);
    },
  };
}

function isConnectionFailure(err: unknown): boolean {
  if (err instanceof UnreachableError) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return ['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(code ?? '') || /timeout expired|Connection terminated due to connection timeout/i.test((err as Error).message ?? '');
}
