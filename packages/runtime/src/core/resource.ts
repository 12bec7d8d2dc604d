import type {
  AgentError as ProtoAgentError,
  Resource as ProtoResource,
} from "../gen/flyteidl/admin/agent.js";
import { AgentError_Kind, State } from "../gen/flyteidl/admin/agent.js";
import type { ExecutionError_ErrorKind } from "../gen/flyteidl/core/execution.js";
import { type TaskLog, TaskLog_MessageFormat } from "../gen/flyteidl/core/execution.js";
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

/** Builds the protobuf `Resource` for a domain resource. */
export function toProtoResource(resource: Resource, encodeOutputs: OutputEncoder): ProtoResource {
  let outputs: LiteralMap | undefined;
  if (resource.outputs !== undefined) {
    outputs = isLiteralMap(resource.outputs) ? resource.outputs : encodeOutputs(resource.outputs);
  }
  return {
    // The deprecated state mirrors the phase so that old readers see the same thing.
    // A phase-less Resource is an agent bug; it still goes on the wire as UNDEFINED, which
    // FlytePropeller reads through the deprecated state (a retryable failure).
    state: stateForPhase(resource.phase ?? 0),
    outputs,
    message: resource.message ?? "",
    logLinks: (resource.logLinks ?? []).map(toTaskLog),
    phase: resource.phase ?? 0,
    customInfo: resource.customInfo,
    agentError: resource.agentError ? toProtoAgentError(resource.agentError) : undefined,
  };
}

/**
 * The wire `TaskLog` of a link: every field set, as the encoder expects, built in one object literal
 * (no spread and no `fromPartial` copy: links go out on every GetTask). Fields other than these are
 * not on the wire, so they are not carried.
 */
function toTaskLog(link: LogLink | TaskLog): TaskLog {
  const full = link as Partial<TaskLog>;
  return {
    uri: link.uri ?? "",
    name: link.name ?? "",
    messageFormat: full.messageFormat ?? TaskLog_MessageFormat.UNKNOWN,
    ttl: full.ttl ? { seconds: full.ttl.seconds ?? 0n, nanos: full.ttl.nanos ?? 0 } : undefined,
    ShowWhilePending: full.ShowWhilePending ?? false,
    HideOnceFinished: full.HideOnceFinished ?? false,
  };
}

function toProtoAgentError(e: AgentErrorInfo): ProtoAgentError {
  return {
    code: e.code,
    kind: e.kind === "RECOVERABLE" ? AgentError_Kind.RECOVERABLE : AgentError_Kind.NON_RECOVERABLE,
    origin: e.origin ?? 0,
  };
}

function stateForPhase(phase: number): State {
  switch (phase) {
    case 1:
    case 6:
    case 7:
      return State.PENDING;
    case 2:
      return State.RUNNING;
    case 3:
      return State.SUCCEEDED;
    case 4:
    case 5:
      return State.PERMANENT_FAILURE;
    default:
      return State.RETRYABLE_FAILURE;
  }
}

/** Re-exported for agents that build literals by hand. */
export type { Literal, LiteralMap };
