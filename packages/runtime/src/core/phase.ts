import { ErrorCode, FlyteAgentError } from "./errors.js";

/**
 * Task execution phases, numbered as `flyteidl.core.TaskExecution.Phase` so a value can be put on the
 * wire as is.
 */
export const TaskExecutionPhase = {
  UNDEFINED: 0,
  QUEUED: 1,
  RUNNING: 2,
  SUCCEEDED: 3,
  ABORTED: 4,
  FAILED: 5,
  INITIALIZING: 6,
  WAITING_FOR_RESOURCES: 7,
  RETRYABLE_FAILED: 8,
} as const;
export type TaskExecutionPhase = (typeof TaskExecutionPhase)[keyof typeof TaskExecutionPhase];

const phaseNames = new Map<number, string>(Object.entries(TaskExecutionPhase).map(([k, v]) => [v, k]));

/** The name of a phase (`"SUCCEEDED"`), or `"UNKNOWN(n)"` for a number Flyte does not define. */
export function phaseName(phase: number): string {
  return phaseNames.get(phase) ?? `UNKNOWN(${phase})`;
}

const terminal: ReadonlySet<number> = new Set([
  TaskExecutionPhase.SUCCEEDED,
  TaskExecutionPhase.ABORTED,
  TaskExecutionPhase.FAILED,
  TaskExecutionPhase.RETRYABLE_FAILED,
]);

/**
 * True for phases after which FlytePropeller stops polling: SUCCEEDED, ABORTED, FAILED and
 * RETRYABLE_FAILED (the last is terminal for the attempt; propeller retries with a new attempt).
 */
export function isTerminalPhase(phase: number): boolean {
  return terminal.has(phase);
}

const stateToPhase: ReadonlyMap<string, TaskExecutionPhase> = new Map([
  ...["failed", "timeout", "timedout", "canceled", "cancelled", "skipped"].map(
    (s) => [s, TaskExecutionPhase.FAILED] as const,
  ),
  ["internal_error", TaskExecutionPhase.RETRYABLE_FAILED],
  ...["done", "succeeded", "success", "completed"].map((s) => [s, TaskExecutionPhase.SUCCEEDED] as const),
  ...["running", "terminating"].map((s) => [s, TaskExecutionPhase.RUNNING] as const),
  ["pending", TaskExecutionPhase.INITIALIZING],
]);

/**
 * Maps the state string of an external job to a phase, as flytekit's `convert_to_flyte_phase` does
 * (case-insensitive): failed/timeout/timedout/canceled/cancelled/skipped → FAILED;
 * internal_error → RETRYABLE_FAILED; done/succeeded/success/completed → SUCCEEDED;
 * running/terminating → RUNNING; pending → INITIALIZING.
 * @throws FlyteAgentError (`UNKNOWN_STATE`) for any other string.
 */
export function convertToFlytePhase(state: string): TaskExecutionPhase {
  const phase = stateToPhase.get(state.toLowerCase());
  if (phase === undefined) {
    throw new FlyteAgentError(ErrorCode.UNKNOWN_STATE, `Unrecognized state: ${state}`);
  }
  return phase;
}
