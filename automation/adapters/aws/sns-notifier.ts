/**
 * SNS notifications, one class for every engine:
 * - the failover's NotifierPort ({@link SnsNotifier.notify}): `Publish` to BOTH regions' alert topics (each with a
 *   client in the topic's region), so people hear about a failover whichever region is down. A topic that cannot
 *   be reached (region down, throttled beyond the retry bound, access denied) is reported in `failed`, never thrown.
 * - the backup jobs' {@link Notifier} ({@link SnsNotifier.backupNotifier}): a one-line alert (subject redacted and
 *   cut to SNS's 100-character limit) to the configured topics; it throws when no topic took it, so the job can
 *   say the alert was lost.
 * - the token engine's {@link TokenNotifier} ({@link SnsNotifier.tokenNotifier}): a bot-token switch, alert,
 *   platform outage or pin change to the configured topics; it throws when no topic took it, so `runTokenCheck` /
 *   `applyManualChange` report the notice as not delivered.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { redact } from '../../core/redact';
import { incidentForFailover, runbookLine } from '../../../lib/runbook';
import type { Notifier } from '../../backup/index';
import type { CallOptions, FailoverNotice, NotifierPort, NotifyReport } from '../../failover/index';
import type { TokenNotice, TokenNotifier } from '../../tokens';
import { AWS_RETRY, isThrottling, withRetry } from './retry';
import { arnRegion } from './topology';
import { systemClock, type Clock } from '../../core/clock';
import { errorSummary, OperationError } from '../../core/errors';

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

/** A backup alert's subject: redacted, on one line, at most 100 characters (SNS's limit). */
export function alertSubject(subject: string): string {
  const s = redact(subject).replace(/[\r\n]+/g, ' ');
  return s.length > 100 ? s.slice(0, 99) + '…' : s;
}

/** The SNS message body: the one-line message, then the steps so far, then the runbook entry. Redacted. */
export function noticeBody(n: FailoverNotice): string {
  const lines = [n.message, '', `failover ${n.id}: ${n.mode} ${n.incident} ${n.from} -> ${n.to}`];
  for (const s of n.steps) lines.push(`  ${s.name}: ${s.status} (${s.duration_ms} ms)${s.detail ? ` ${s.detail}` : ''}`);
  lines.push('', runbookLine(incidentForFailover(n.incident)));
  return redact(lines.join('\n'));
}

/** A token notice's SNS subject (≤ 100 ASCII characters, no newlines). */
export function tokenNoticeSubject(n: TokenNotice): string {
  const what = n.from === n.to ? `token ${n.to}` : `token ${n.from} -> ${n.to}`;
  return redact(`[dr] bot token ${n.kind}: ${n.bot} (${n.platform}) ${what}`).replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

/** A token notice's SNS body: the sentence for people, the decision's fields, the runbook entry. Redacted; never a token. */
export function tokenNoticeBody(n: TokenNotice): string {
  return redact([n.message, '', `bot ${n.bot} (${n.platform}): ${n.kind}, reason ${n.reason}, active ${n.from} -> ${n.to}`, `decision ${n.id} by ${n.by} at ${n.at}`, '', runbookLine('INC-006')].join('\n'));
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
    return this.publish(noticeSubject(notice), noticeBody(notice), opts);
  }

  /** The backup jobs' notifier over the same topics. */
  backupNotifier(): Notifier {
    return {
      notify: async (subject, message) => {
        const r = await this.publish(alertSubject(subject), redact(message));
        if (r.failed.length && !r.delivered.length) throw new OperationError(`SNS alert not delivered: ${r.failed.map((f) => `${f.target}: ${f.error}`).join('; ')}`);
      },
    };
  }

  /** The token engine's notifier over the same topics. */
  tokenNotifier(): TokenNotifier {
    return {
      notify: async (notice, opts) => {
        const r = await this.publish(tokenNoticeSubject(notice), tokenNoticeBody(notice), opts);
        if (!r.delivered.length) {
          const why = r.failed.length ? r.failed.map((f) => `${f.target}: ${f.error}`).join('; ') : (this.unavailable ?? 'no topic');
          throw new OperationError(`SNS token notice not delivered: ${why}`);
        }
      },
    };
  }

  /** Publish to every topic (in its own region); each topic's outcome is reported, never thrown. */
  private async publish(subject: string, body: string, opts?: CallOptions): Promise<NotifyReport> {
    const report: NotifyReport = { delivered: [], failed: [] };
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
