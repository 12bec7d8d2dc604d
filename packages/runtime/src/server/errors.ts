import { status } from "@grpc/grpc-js";
import { ErrorCode, isFlyteAgentError } from "../core/errors.js";

/** A failed call as it goes on the wire. */
export interface WireError {
  readonly code: status;
  readonly details: string;
}

/** The operation names used in messages, logs and metrics labels. */
export type Operation = "create" | "get" | "delete" | "do" | "metrics" | "logs" | "list" | "describe";

const abortMessages = {
  deadline: "deadline exceeded",
  cancelled: "call cancelled by the client",
  shutdown: "the server is shutting down and the call outlasted its grace period",
} as const;

/**
 * Raised inside the server when a call's deadline passes, the client cancels, or a drain's grace
 * period ends with the call still running.
 */
export class CallAbortedError extends Error {
  constructor(readonly reason: keyof typeof abortMessages) {
    super(abortMessages[reason]);
    this.name = "CallAbortedError";
  }
}

const byCode: Partial<Record<string, status>> = {
  [ErrorCode.AGENT_NOT_FOUND]: status.NOT_FOUND,
  [ErrorCode.INVALID_RESOURCE_META]: status.INVALID_ARGUMENT,
  [ErrorCode.INVALID_TASK_TEMPLATE]: status.INVALID_ARGUMENT,
  [ErrorCode.TYPE_MISMATCH]: status.INVALID_ARGUMENT,
  [ErrorCode.UNIMPLEMENTED]: status.UNIMPLEMENTED,
  [ErrorCode.WRONG_AGENT_KIND]: status.FAILED_PRECONDITION,
  [ErrorCode.ABORTED]: status.DEADLINE_EXCEEDED,
};

/**
 * The one place where errors become gRPC statuses. Agent exceptions become INTERNAL with flytekit's
 * one-line message (`failed to create bigquery task with error: ...`); stacks stay in the server log.
 */
export function toWireError(err: unknown, op: Operation, taskType: string): WireError {
  if (err instanceof CallAbortedError) {
    return {
      code:
        err.reason === "deadline"
          ? status.DEADLINE_EXCEEDED
          : err.reason === "shutdown"
            ? status.UNAVAILABLE
            : status.CANCELLED,
      details: `${op} ${taskType}: ${err.message}`,
    };
  }
  if (isFlyteAgentError(err)) {
    const code = byCode[err.code];
    if (code !== undefined) return { code, details: firstLine(err.message) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    code: status.INTERNAL,
    details: `failed to ${op} ${taskType} task with error: ${firstLine(message)}`,
  };
}

function firstLine(s: string): string {
  const line = s.split("\n", 1)[0] ?? "";
  return line.length > 1000 ? `${line.slice(0, 1000)}…` : line;
}
