/**
 * Failure codes and messages exactly as FlytePropeller 1.16.8 writes them, so that what `run` prints
 * matches what the console shows (and scripts grepping for them find the same text).
 */

/** Error codes Propeller records for agent tasks (`flyteplugins/go/tasks/errors/errors.go`). */
export const FailureCode = {
  /** Every agent failure without an `agent_error.code` (`errors.go:8`). */
  TaskFailedWithError: "TaskFailedWithError",
  /** GetTask's failure budget spent before any Resource was seen (`errors.go:14`). */
  AutoRefreshCacheFailed: "AutoRefreshCacheFailed",
  /** No `outputs.pb` under the output prefix (`ioutils` / task handler). */
  OutputsNotFound: "OutputsNotFound",
  /** `outputs.pb` over `storage.limits.maxDownloadMBs`. */
  OutputSizeExceeded: "OutputSizeExceeded",
  /** The attempt's execution deadline expired (`nodes/executor.go:879`); retryable. */
  TimeoutExpired: "TimeoutExpired",
  /** The node's active deadline (2x the timeout) expired (`nodes/executor.go:869`); not retryable. */
  TimedOut: "TimedOut",
  /** A workflow abort whose DeleteTask kept failing (`workflow/executor.go:507`). */
  WorkflowAbortFailed: "Workflow abort failed",
  /** `core.SystemErrorCode`: Status returned an error (unknown phase or state). */
  SystemError: "SystemError",
} as const;
export type FailureCode = (typeof FailureCode)[keyof typeof FailureCode];

/** grpc-go's names of the status codes (`codes.Code.String()`), as `%v` of a status error prints them. */
const GO_CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
] as const;

/** A gRPC status error as grpc-go prints it: `rpc error: code = Unavailable desc = ...`. */
export function goRpcError(code: number, details: string): string {
  const name = GO_CODE_NAMES[code] ?? `Code(${code})`;
  // A deadline the caller set expires in grpc-go as the context's error.
  const desc = code === 4 && /^Deadline exceeded/.test(details) ? "context deadline exceeded" : details;
  return `rpc error: code = ${name} desc = ${desc}`;
}

/**
 * CreateTask failed (`agent/plugin.go:178`; Flyte 2 says "connector", main `connector/plugin.go:221`).
 */
export const createFailed = (rpcError: string, noun: "agent" | "connector" = "agent") =>
  `failed to create task from ${noun} with ${rpcError}`;

/**
 * GetTask failed (`agent/plugin.go:268`; main `connector/plugin.go:256`); the cache keeps it as the
 * item's ErrorMessage.
 */
export const getFailed = (rpcError: string, noun: "agent" | "connector" = "agent") =>
  `failed to get task from ${noun} with ${rpcError}`;

/** DeleteTask failed (`agent/plugin.go:302`; main `connector/plugin.go:298`). */
export const deleteFailed = (rpcError: string, noun: "agent" | "connector" = "agent") =>
  `failed to delete task from ${noun} with ${rpcError}`;

/**
 * Flyte 2's routing found no connector and there is no defaultConnector endpoint (main
 * `connector/plugin.go:436`); Create fails with it, retryably (main `webapi/launcher.go:16-19`).
 */
export const noConnectorFound = (name: string, version: number) =>
  `no connector found for task type [${name}] and version [${version}]`;

/** ExecuteTaskSync's one Recv failed, EOF included (`agent/plugin.go:230`). */
export const syncRecvFailed = (rpcErrorOrEof: string) =>
  `failed to receive stream from server ${rpcErrorOrEof}`;

/** The first sync message has no header (`agent/plugin.go:233`). */
export const SYNC_NO_HEADER = "expected header in the response, but got none";

/** The task template's args could not be rendered (`agent/plugin.go:123`). */
export const renderFailed = (reason: string) => `failed to render args with error: ${reason}`;

/** FAILED / RETRYABLE_FAILED phase (`agent/plugin.go:334,336`). */
export const jobFailed = (message: string) => `failed to run the job: ${message}`;

/** ABORTED phase (`agent/plugin.go:332`). */
export const JOB_ABORTED = "failed to run the job with aborted phase.";

/** Failure through the deprecated `state` (`agent/plugin.go:350,352`). */
export const jobFailedByState = (message: string) => `failed to run the job.\n${message}`;

/**
 * An unknown phase (`agent/plugin.go:340`; main `connector/plugin.go:380`). Go's `%v` of the enum
 * prints a known value's name (Flyte 2's unset phase: `UNDEFINED`) and an unknown one's number.
 */
export const unknownPhase = (phase: number | string) => `unknown execution phase [${phase}].`;

/** An unknown state (`agent/plugin.go:361`). */
export const unknownState = (state: number) => `unknown execution state [${state}].`;

/** Task execution timeout (`nodes/executor.go:879`), with Go's duration text. */
export const timeoutExpired = (goDuration: string) => `task execution timeout [${goDuration}] expired`;

/** Active deadline (`nodes/executor.go:869`). */
export const activeTimeoutExpired = (goDuration: string) => `task active timeout [${goDuration}] expired`;

/** The workflow gave up after max-workflow-retries failed rounds (`workflow/executor.go:497`). */
export const retriesExhausted = (attempts: number, max: number, last: string) =>
  `max number of system retry attempts [${attempts}/${max}] exhausted. Last known status message: ${last}`;
