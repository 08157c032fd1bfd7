/**
 * The typed error family of bot-platform-dr. Engines, adapters and operations throw these; the CLI maps each
 * class to one exit code in a single place (`cli/run.ts` through {@link exitCodeFor}); nothing else decides an
 * exit code. Every constructor takes an optional `cause` (the lower-level error), kept for `DR_DEBUG` output.
 *
 *   DrError               exit 1 unless a subclass says otherwise
 *   ├── UsageError        exit 2: bad flags or arguments, or input naming something that does not exist
 *   │   └── FlagError     a flag or argument itself is wrong (the CLI points at `--help`)
 *   ├── RefusedError      exit 2: refused on purpose before anything was touched, because acting would be unsafe
 *   ├── OperationError    exit 1: it ran and failed
 *   │   ├── NotFoundError     an object (backup, manifest, journal) is not in the store
 *   │   └── UnreachableError  a database, cache or endpoint did not answer (or refused the credentials)
 *   ├── VerificationError exit 1: a check ran and found the thing broken (checksum, missing backup, failed probe)
 *   └── InterruptedError  exit 130: the operator interrupted (Ctrl-C) and the command stopped cleanly
 */

export interface DrErrorOptions {
  /** The lower-level error this one explains. */
  cause?: unknown;
}

/** Base of every error the CLI knows how to report. */
export class DrError extends Error {
  /** Process exit code for this error: 1 failure, 2 bad usage or refusal. */
  readonly exitCode: number = 1;
  /** Optional machine-readable detail, printed under `--json`. */
  readonly detail?: Record<string, unknown>;
  constructor(message: string, detail?: Record<string, unknown>, options?: DrErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = detail;
  }
}

/** Bad flags, bad arguments, or input that names something that does not exist (exit 2). */
export class UsageError extends DrError {
  override readonly exitCode = 2;
}

/** A usage error about the command line's flags or arguments: the CLI adds where to find the allowed flags (exit 2). */
export class FlagError extends UsageError {}

/** The operation was refused on purpose, before acting, because acting would be unsafe (exit 2). */
export class RefusedError extends DrError {
  override readonly exitCode = 2;
}

/** The operation ran and failed (exit 1). */
export class OperationError extends DrError {}

/** A verification ran and found the thing broken: checksum mismatch, missing backup, failed check (exit 1). */
export class VerificationError extends DrError {}

/** An object is not in the store (exit 1). */
export class NotFoundError extends OperationError {
  constructor(
    readonly key: string,
    options?: DrErrorOptions,
  ) {
    super(`object not found: ${key}`, undefined, options);
  }
}

/** A database, cache or endpoint could not be reached (connection refused, DNS, auth). Message must be redacted-safe. */
export class UnreachableError extends OperationError {
  constructor(
    readonly target: string,
    readonly reason: string,
    options?: DrErrorOptions,
  ) {
    super(`cannot reach ${target}: ${reason}`, undefined, options);
  }
}

/** The operator interrupted (SIGINT/SIGTERM) and the command stopped cleanly (exit 130, as shells report Ctrl-C). */
export class InterruptedError extends DrError {
  override readonly exitCode = 130;
}

/** Exit code for anything thrown: DrError subclasses carry their own, anything else is a failure. */
export function exitCodeFor(err: unknown): number {
  return err instanceof DrError ? err.exitCode : 1;
}

/** The message of anything thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One line of an error for logs and step details: `Name: message` for named (SDK) errors, no stack, no metadata. */
export function errorSummary(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name && err.name !== 'Error' && !err.message.startsWith(err.name) ? `${err.name}: ` : '';
    return `${name}${err.message}`.split('\n')[0];
  }
  return String(err);
}
