import type { ExecutionError_ErrorKind, TaskLog } from "../gen/flyteidl/core/execution.js";
import type { Literal, LiteralMap } from "../gen/flyteidl/core/literals.js";
import type { TaskExecutionPhase } from "./phase.js";

/** A link shown in the Flyte console next to the task (a job page, a log viewer). */
export interface LogLink {
  readonly name: string;
  readonly uri: string;
}

/** Classifies a failure; FlytePropeller honours `code` on the sync path only. */
export interface AgentErrorInfo {
  readonly code: string;
  /** @default "NON_RECOVERABLE" */
  readonly kind?: "RECOVERABLE" | "NON_RECOVERABLE";
  readonly origin?: ExecutionError_ErrorKind;
}

/**
 * What an agent reports about a task: its phase and, when it has them, a message, outputs, log links
 * and custom info. Mirrors flytekit's `Resource`.
 */
export interface Resource {
  /** Always set a phase: an unset phase is read by FlytePropeller as a retryable failure. */
  readonly phase: TaskExecutionPhase;
  /** Shown for QUEUED / WAITING_FOR_RESOURCES / INITIALIZING and failures; FlytePropeller drops it on RUNNING. */
  readonly message?: string;
  /**
   * Outputs: plain values keyed by output name (converted with the task's output types when the agent
   * knows them, else inferred), or a ready `LiteralMap`. Leave unset when the job writes
   * `{outputPrefix}/outputs.pb` itself.
   */
  readonly outputs?: Record<string, unknown> | LiteralMap;
  readonly logLinks?: readonly (LogLink | TaskLog)[];
  /** Free-form JSON shown in the console (becomes a protobuf Struct). */
  readonly customInfo?: Record<string, unknown>;
  readonly agentError?: AgentErrorInfo;
}

/** True when `value` is a `LiteralMap` (an object whose only key is `literals`). */
export function isLiteralMap(value: unknown): value is LiteralMap {
  if (typeof value !== "object" || value === null) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === "literals" && typeof (value as LiteralMap).literals === "object";
}

/** Converts plain output values to literals; supplied by the caller that knows the output types. */
export type OutputEncoder = (values: Record<string, unknown>) => LiteralMap;

/** Re-exported for agents that build literals by hand. */
export type { Literal, LiteralMap };
