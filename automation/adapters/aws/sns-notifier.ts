/**
 * NotifierPort on AWS: SNS `Publish` to BOTH regions' alert topics (each with a client in the topic's region), so
 * people hear about a failover whichever region is down. A topic that cannot be reached (region down, throttled
 * beyond the retry bound, access denied) is reported in `failed`, never thrown.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { redact } from '../../core/redact';
import type { CallOptions, FailoverNotice, NotifierPort, NotifyReport } from '../../failover/index';
import { AWS_RETRY, isThrottling, withRetry } from './retry';
import { arnRegion } from './topology';
import { systemClock, type Clock } from '../../core/clock';
import { errorSummary } from '../../core/errors';

export interface SnsNotifierOptions {
  /** Topic ARNs (one per region). */
  topics: string[];
  sns: (region: string) => SNSClient;
  clock?: Clock;
  retry?: Partial<typeof AWS_RETRY>;
}

/** The SNS subject (≤ 100 ASCII characters, no newlines). */
export function noticeSubject(n: FailoverNotice): string {
  const s = `[dr] failover ${n.kind}: ${n.incident} ${n.from} -> ${n.to} (${n.mode})`;
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

/** The SNS message body: the one-line message, then the steps so far. Redacted. */
export function noticeBody(n: FailoverNotice): string {
  const lines = [n.message, '', `failover ${n.id}: ${n.mode} ${n.incident} ${n.from} -> ${n.to}`];
  for (const s of n.steps) lines.push(`  ${s.name}: ${s.status} (${s.duration_ms} ms)${s.detail ? ` ${s.detail}` : ''}`);
  return redact(lines.join('\n'));
}

export class SnsNotifier implements NotifierPort {
  readonly unavailable: string | undefined;
  private readonly clock: Clock;
  private readonly retry: typeof AWS_RETRY;

  constructor(private readonly o: SnsNotifierOptions) {
    this.clock = o.clock ?? systemClock;
    this.retry = { ...AWS_RETRY, ...o.retry };
    this.unavailable = o.topics.length ? undefined : 'the stacks output no alerts topic ARN (topicArn)';
  }

  async notify(notice: FailoverNotice, opts?: CallOptions): Promise<NotifyReport> {
    const report: NotifyReport = { delivered: [], failed: [] };
    const subject = noticeSubject(notice);
    const body = noticeBody(notice);
    await Promise.all(
      this.o.topics.map(async (topic) => {
        const region = arnRegion(topic) ?? 'us-east-1';
        try {
          await withRetry(() => this.o.sns(region).send(new PublishCommand({ TopicArn: topic, Subject: subject, Message: body })), {
            ...this.retry,
            retryable: isThrottling,
            clock: this.clock,
            signal: opts?.signal,
            log: opts?.log && ((l) => opts.log!(redact(l))),
            what: `SNS Publish ${topic}`,
          });
          report.delivered.push(topic);
        } catch (err) {
          report.failed.push({ target: topic, error: redact(errorSummary(err)) });
        }
      }),
    );
    // Stable order regardless of which region answered first.
    report.delivered.sort((a, b) => this.o.topics.indexOf(a) - this.o.topics.indexOf(b));
    report.failed.sort((a, b) => this.o.topics.indexOf(a.target) - this.o.topics.indexOf(b.target));
    return report;
  }
}
