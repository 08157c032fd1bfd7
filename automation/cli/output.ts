import { redact, redactValue } from '../core/redact';

/** Where the CLI writes. Injected so commands are testable without touching `process`. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stdout is a terminal: human progress output is richer there. */
  isTTY: boolean;
  /** Ask a yes/no question on the terminal; resolves false when there is no terminal. */
  confirm(question: string): Promise<boolean>;
}

export type StepStatus = 'running' | 'ok' | 'skipped' | 'failed' | 'planned' | 'done-before' | 'pending';

/**
 * Output for one command run. Human mode prints progress lines as things happen; JSON mode stays silent
 * until {@link Output.result}, which prints exactly one JSON document on stdout. Everything is redacted.
 */
export class Output {
  /** A live line is on screen (TTY only) and must be cleared before the next write. */
  private liveShown = false;

  constructor(private readonly io: Io, readonly json: boolean) {}

  /** Progress goes to stderr in JSON mode, so stdout stays one parseable document. */
  private progress(text: string): void {
    this.clearLive();
    if (this.json) this.io.stderr(text);
    else this.io.stdout(text);
  }

  private clearLive(): void {
    if (!this.liveShown) return;
    this.liveShown = false;
    if (this.json) this.io.stderr('\r\x1b[2K');
    else this.io.stdout('\r\x1b[2K');
  }

  /** A progress line. */
  info(message: string): void {
    this.progress(redact(message) + '\n');
  }

  warn(message: string): void {
    this.clearLive();
    this.io.stderr(`warning: ${redact(message)}\n`);
  }

  /** Step progress: `[ok] fence (412 ms) detail` (on stderr in JSON mode). */
  step(name: string, status: StepStatus, durationMs?: number, detail?: string): void {
    const icon = STATUS_ICON[status];
    const ms = durationMs === undefined ? '' : ` (${formatMs(durationMs)})`;
    const tail = detail ? `  ${detail}` : '';
    this.progress(redact(`${icon} ${name}${ms}${tail}`) + '\n');
  }

  /** A status line rewritten in place while something runs (a terminal only; nothing is printed otherwise). */
  live(message: string): void {
    if (!this.io.isTTY) return;
    const line = `\r\x1b[2K${redact(message)}`;
    this.liveShown = true;
    if (this.json) this.io.stderr(line);
    else this.io.stdout(line);
  }

  /** The final result. JSON mode prints `value`; human mode prints `human` (or nothing). */
  result(value: unknown, human?: string): void {
    this.clearLive();
    if (this.json) this.io.stdout(JSON.stringify(redactValue(value), null, 2) + '\n');
    else if (human) this.io.stdout(redact(human.endsWith('\n') ? human : human + '\n'));
  }

  get isTTY(): boolean {
    return this.io.isTTY;
  }

  confirm(question: string): Promise<boolean> {
    return this.io.confirm(question);
  }
}

const STATUS_ICON: Record<StepStatus, string> = {
  running: '[..]',
  ok: '[ok]',
  skipped: '[--]',
  failed: '[!!]',
  planned: '[plan]',
  'done-before': '[ok*]',
  pending: '[..!]',
};

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
