/** What a command asked `main` to do if the process outlives it. */
export interface ExitBackstop {
  readonly afterMs: number;
  /** Runs just before the process is ended (to log why). */
  readonly onExit: () => void;
}

let requested: ExitBackstop | undefined;

/**
 * Asks the CLI's `main` to end the process if it is still running `afterMs` after the command
 * finished: a server stopped by a signal must not be kept alive by an agent's leftover timer or
 * socket. Commands only ask; `main` is the one place that exits the process.
 */
export function requestExitBackstop(afterMs: number, onExit: () => void): void {
  requested = { afterMs, onExit };
}

/** The backstop a command asked for, if any (cleared once taken). */
export function takeExitBackstop(): ExitBackstop | undefined {
  const backstop = requested;
  requested = undefined;
  return backstop;
}
