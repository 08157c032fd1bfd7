/**
 * NotifierPort for the local environment: one JSON line per notice appended to the environment's
 * notifications log (the local stand-in for SNS in both regions), plus an optional in-process listener that
 * the drill uses for its report.
 */
import * as fs from 'node:fs';
import type { FailoverNotice, Incident, NotifierPort, NotifyReport } from '../../failover/index';
import { redact } from '../../core/redact';
import { incidentForFailover, runbookLine } from '../../../lib/runbook';

/** The health monitor's alert when an incident is detected (sent whether or not it fails over). */
export interface IncidentAlert {
  kind: 'incident';
  incident: Incident;
  from: string;
  to: string;
  auto_failover: boolean;
  /** One line for people. */
  message: string;
}

export class LocalNotifier implements NotifierPort {
  constructor(private readonly file: string, private readonly listener?: (n: FailoverNotice) => void) {}

  async notify(notice: FailoverNotice): Promise<NotifyReport> {
    const report: NotifyReport = { delivered: [], failed: [] };
    try {
      // Like the SNS body, every notice links its runbook entry (`runbook: INC-004 — dr runbook INC-004`).
      fs.appendFileSync(this.file, JSON.stringify({ at: new Date().toISOString(), ...notice, runbook: runbookLine(incidentForFailover(notice.incident)) }) + '\n', { mode: 0o600 });
      report.delivered.push(`file:${this.file}`);
    } catch (err) {
      report.failed.push({ target: `file:${this.file}`, error: err instanceof Error ? err.message : String(err) });
    }
    if (this.listener) {
      try {
        this.listener(notice);
        report.delivered.push('drill-report');
      } catch (err) {
        report.failed.push({ target: 'drill-report', error: err instanceof Error ? err.message : String(err) });
      }
    }
    return report;
  }

  /** Append the monitor's incident alert to the same log (one JSON line, redacted). */
  async alert(a: IncidentAlert): Promise<NotifyReport> {
    const report: NotifyReport = { delivered: [], failed: [] };
    try {
      fs.appendFileSync(this.file, redact(JSON.stringify({ at: new Date().toISOString(), ...a, runbook: runbookLine(incidentForFailover(a.incident)) })) + '\n', { mode: 0o600 });
      report.delivered.push(`file:${this.file}`);
    } catch (err) {
      report.failed.push({ target: `file:${this.file}`, error: err instanceof Error ? err.message : String(err) });
    }
    return report;
  }
}
