/**
 * Typed errors. Every error the library throws on purpose is a {@link FlyteAgentError} with a stable
 * `code`; the server maps these codes to gRPC status codes in one place, and the CLI turns them into
 * one human sentence and an exit code.
 */

/** Stable error codes. Never renumber or rename: users match on them. */
export const ErrorCode = {
  /** No agent is registered for a task category. */
  AGENT_NOT_FOUND: "AGENT_NOT_FOUND",
  /** A second agent was registered for a category without `override`. */
  DUPLICATE_AGENT: "DUPLICATE_AGENT",
  /** resource_meta bytes could not be decoded or did not match the agent's schema. */
  INVALID_RESOURCE_META: "INVALID_RESOURCE_META",
  /** A value does not fit its Flyte type (names the field). */
  TYPE_MISMATCH: "TYPE_MISMATCH",
  /** A task template is malformed or misses what the agent needs. */
  INVALID_TASK_TEMPLATE: "INVALID_TASK_TEMPLATE",
  /** An external job state string has no phase mapping. */
  UNKNOWN_STATE: "UNKNOWN_STATE",
  /** A secret could not be found in any configured source. */
  SECRET_NOT_FOUND: "SECRET_NOT_FOUND",
  /** The agent does not implement an optional operation (metrics, logs). */
  UNIMPLEMENTED: "UNIMPLEMENTED",
  /** The operation was called on the wrong kind of agent (sync vs async). */
  WRONG_AGENT_KIND: "WRONG_AGENT_KIND",
  /** Invalid user configuration or options. */
  INVALID_CONFIG: "INVALID_CONFIG",
  /** The call was cancelled or ran past its deadline. */
  ABORTED: "ABORTED",
  /** Anything else raised by agent code. */
  AGENT_FAILURE: "AGENT_FAILURE",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error this library throws on purpose. */
export class FlyteAgentError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `err` is a {@link FlyteAgentError}, even one thrown by another copy of the library. */
export function isFlyteAgentError(err: unknown): err is FlyteAgentError {
  return (
    err instanceof FlyteAgentError ||
    (err instanceof Error &&
      typeof (err as Error & { code?: unknown }).code === "string" &&
      String((err as Error & { code?: unknown }).code) in ErrorCode)
  );
}

/** No agent serves the requested category. The message lists what is registered. */
export class AgentNotFoundError extends FlyteAgentError {
  constructor(
    readonly category: string,
    readonly available: readonly string[],
  ) {
    super(
      ErrorCode.AGENT_NOT_FOUND,
      `Cannot find connector for task category: ${category}. Available: [${available.join(", ")}]`,
    );
  }
}

/** A second agent was registered for a category without asking for an override. */
export class DuplicateAgentError extends FlyteAgentError {
  constructor(readonly category: string) {
    super(ErrorCode.DUPLICATE_AGENT, `Duplicate connector for task type: ${category}`);
  }
}
