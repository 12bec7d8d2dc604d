import { State, type Resource as ProtoResource } from "../gen/flyteidl/admin/agent.js";
import { TaskExecutionPhase, phaseName } from "../core/phase.js";

/** What FlytePropeller makes of one `Resource` (its agent plugin's status mapping). */
export type PhaseOutcome =
  | {
      readonly kind: "pending";
      readonly phase: TaskExecutionPhase;
      /** The message, shown as the phase reason. */
      readonly reason: string;
    }
  | { readonly kind: "running"; readonly phase: TaskExecutionPhase }
  | { readonly kind: "succeeded"; readonly phase: TaskExecutionPhase }
  | {
      readonly kind: "failed";
      readonly phase: TaskExecutionPhase;
      readonly retryable: boolean;
      readonly code: string;
      readonly message: string;
    }
  | { readonly kind: "system-error"; readonly phase: TaskExecutionPhase; readonly message: string };

/** Where the resource came from: `agent_error.code` is honoured on the sync path only. */
export type CallPath = "async" | "sync";

const FAILED_PREFIX = "failed to run the job: ";

/**
 * Maps a `Resource` to the outcome FlytePropeller would record, table for table: pending phases keep
 * their message as the reason, RUNNING drops it, failures get propeller's fixed message and code, an
 * unset phase falls back to the deprecated `state` (whose default means a retryable failure).
 */
export function mapResource(resource: ProtoResource, path: CallPath): PhaseOutcome {
  const failure = (retryable: boolean, phase: TaskExecutionPhase): PhaseOutcome => ({
    kind: "failed",
    phase,
    retryable,
    code: (path === "sync" ? resource.agentError?.code : undefined) || "TaskFailedWithError",
    message: FAILED_PREFIX + resource.message,
  });
  switch (resource.phase as number) {
    case TaskExecutionPhase.QUEUED:
    case TaskExecutionPhase.WAITING_FOR_RESOURCES:
    case TaskExecutionPhase.INITIALIZING:
      return { kind: "pending", phase: resource.phase as TaskExecutionPhase, reason: resource.message };
    case TaskExecutionPhase.RUNNING:
      return { kind: "running", phase: TaskExecutionPhase.RUNNING };
    case TaskExecutionPhase.SUCCEEDED:
      return { kind: "succeeded", phase: TaskExecutionPhase.SUCCEEDED };
    case TaskExecutionPhase.FAILED:
      return failure(false, TaskExecutionPhase.FAILED);
    case TaskExecutionPhase.RETRYABLE_FAILED:
      return failure(true, TaskExecutionPhase.RETRYABLE_FAILED);
    case TaskExecutionPhase.ABORTED:
      return {
        kind: "failed",
        phase: TaskExecutionPhase.ABORTED,
        retryable: false,
        code: "TaskFailedWithError",
        message: "failed to run the job with aborted phase.",
      };
    case TaskExecutionPhase.UNDEFINED:
      return fromState(resource, path);
    default:
      return {
        kind: "system-error",
        phase: TaskExecutionPhase.UNDEFINED,
        message: `unknown execution phase [${phaseName(resource.phase)}]`,
      };
  }
}

function fromState(resource: ProtoResource, path: CallPath): PhaseOutcome {
  switch (resource.state) {
    case State.PENDING:
      return { kind: "pending", phase: TaskExecutionPhase.INITIALIZING, reason: resource.message };
    case State.RUNNING:
      return { kind: "running", phase: TaskExecutionPhase.RUNNING };
    case State.SUCCEEDED:
      return { kind: "succeeded", phase: TaskExecutionPhase.SUCCEEDED };
    case State.PERMANENT_FAILURE:
      return {
        kind: "failed",
        phase: TaskExecutionPhase.FAILED,
        retryable: false,
        code: (path === "sync" ? resource.agentError?.code : undefined) || "TaskFailedWithError",
        message: FAILED_PREFIX + resource.message,
      };
    default:
      // RETRYABLE_FAILURE is state 0, the proto default: an empty Resource lands here.
      return {
        kind: "failed",
        phase: TaskExecutionPhase.RETRYABLE_FAILED,
        retryable: true,
        code: (path === "sync" ? resource.agentError?.code : undefined) || "TaskFailedWithError",
        message: FAILED_PREFIX + resource.message,
      };
  }
}

/** The Resource FlytePropeller reads when an answer carries none: every field at its default. */
export function emptyResource(): ProtoResource {
  return {
    state: 0,
    outputs: undefined,
    message: "",
    logLinks: [],
    phase: 0,
    customInfo: undefined,
    agentError: undefined,
  };
}
