/**
 * TokenNotifier on a local file: every notice (switch, alert, platform-degraded, pin, unpin) is appended as one
 * JSON line to a notifications log — the local stand-in for the alerts topic, used by `dr tokens --file` (default
 * `<tokens file>.notifications.log`) and the local rehearsal. The file is created 0600 and put back to 0600 if it
 * was widened. Notices are redacted by the engine and never carry a token; each line is redacted once more anyway.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { redact } from '../../core/redact';
import type { TokenNotice, TokenNotifier } from '../../tokens';

/** Appends token notices to a JSON-lines file; see the module comment. */
export class TokenNoticeLog implements TokenNotifier {
  /** The log's absolute path. */
  readonly file: string;

  constructor(file: string) {
    this.file = path.resolve(file);
  }

  /** Append `notice` as one line. Rejects when the file cannot be written (the engine reports it, never fatal). */
  async notify(notice: TokenNotice): Promise<void> {
    const fh = await fs.open(this.file, 'a', 0o600);
    try {
      await fh.chmod(0o600);
      await fh.appendFile(redact(JSON.stringify(notice)) + '\n', 'utf8');
    } finally {
      await fh.close();
    }
  }
}
