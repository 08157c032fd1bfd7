/**
 * The typed error family of the `dr` command. The CLI maps each class to one exit code in a single
 * place (`main.ts` through {@link exitCodeFor}); the engines throw these, never call `process.exit`.
 */

/** Base of every error the CLI knows how to report. */
export class DrError extends Error {
  /** Process exit code for this error: 1 failure, 2 bad usage. */
  readonly exitCode: number = 1;
  /** Optional machine-readable detail, printed under `--json`. */
  readonly detail?: Record<string, unknown>;
  constructor(message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.detail = detail;
  }
}

/** Bad flags, bad arguments, or input that names something that does not exist (exit 2). */
export class UsageError extends DrError {
  override readonly exitCode = 2;
}

/** The operation was refused on purpose, before acting, because acting would be unsafe (exit 2). */
export class RefusedError extends DrError {
  override readonly exitCode = 2;
}

/** The operation ran and failed (exit 1). */
export class OperationError extends DrError {}

/** A verification ran and found the thing broken: checksum mismatch, missing backup, failed check (exit 1). */
export class VerificationError extends DrError {}

/** Exit code for anything thrown: DrError subclasses carry their own, anything else is a failure. */
export function exitCodeFor(err: unknown): number {
  return err instanceof DrError ? err.exitCode : 1;
}
