/**
 * SNS notifications (backup failures here; failover notifications reuse it). Subject and message are
 * redacted; the subject is cut to SNS's 100-character limit.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { redact } from '../../core/redact';
import type { Notifier } from '../../backup/index';

export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async notify(subject: string, message: string): Promise<void> {
    const s = redact(subject).replace(/[\r\n]+/g, ' ');
    await this.client.send(new PublishCommand({ TopicArn: this.topicArn, Subject: s.length > 100 ? s.slice(0, 99) + '…' : s, Message: redact(message) }));
  }
}
