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

export type StepStatus = 'running' | 'ok' | 'skipped' | 'failed' | 'planned' | 'done-before';

/**
 * Output for one command run. Human mode prints progress lines as things happen; JSON mode stays silent
 * until {@link Output.result}, which prints exactly one JSON document on stdout. Everything is redacted.
 */
export class Output {
  constructor(private readonly io: Io, readonly json: boolean) {}

  /** A progress line (stderr in JSON mode, so stdout stays one parseable document). */
  info(message: string): void {
    const line = redact(message) + '\n';
    if (this.json) this.io.stderr(line);
    else this.io.stdout(line);
  }

  warn(message: string): void {
    this.io.stderr(`warning: ${redact(message)}\n`);
  }

  /** Step progress: `[ok] fence (412 ms) detail`. */
  step(name: string, status: StepStatus, durationMs?: number, detail?: string): void {
    if (this.json) return;
    const icon = STATUS_ICON[status];
    const ms = durationMs === undefined ? '' : ` (${formatMs(durationMs)})`;
    const tail = detail ? `  ${detail}` : '';
    this.io.stdout(redact(`${icon} ${name}${ms}${tail}`) + '\n');
  }

  /** The final result. JSON mode prints `value`; human mode prints `human` (or nothing). */
  result(value: unknown, human?: string): void {
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
};

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
