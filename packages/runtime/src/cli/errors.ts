/** Exit codes of the CLI (documented in the README). */
export const ExitCode = {
  OK: 0,
  /** The task failed, or the command could not do its job. */
  FAILURE: 1,
  /** Bad flags, arguments or configuration. */
  USAGE: 2,
  /** Interrupted by Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
  /** The reader of the output went away (`| head`): stopped quietly, as SIGPIPE would (128 + 13). */
  OUTPUT_CLOSED: 141,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for a person: one sentence that says what went wrong and what to do. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.FAILURE,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** A usage error (exit code 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
    this.name = "UsageError";
  }
}
