import { State, type Resource as ProtoResource } from "../gen/flyteidl/admin/agent.js";
import { TaskExecutionPhase } from "../core/phase.js";
import {
  FailureCode,
  JOB_ABORTED,
  jobFailed,
  jobFailedByState,
  unknownPhase,
  unknownState,
} from "./messages.js";
import { FLYTE1_PROFILE, type PropellerProfile } from "./profile.js";

/** What FlytePropeller makes of one `Resource` (its agent plugin's `Status`). */
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
  /**
   * `Status` returned an error (unknown phase or state): the Handle round fails and is tried again;
   * after max-workflow-retries rounds the workflow is given up and aborted (DeleteTask).
   */
  | { readonly kind: "status-error"; readonly phase: TaskExecutionPhase; readonly message: string };

/** Where the resource came from: the two paths build the ResourceWrapper differently. */
export type CallPath = "async" | "sync";

/**
 * The ResourceWrapper Propeller builds from an answer. GetTask copies phase, state, outputs, message,
 * log links and custom_info but drops agent_error (`agent/plugin.go:271-278`); ExecuteTaskSync copies
 * agent_error but never `state` (`agent/plugin.go:239-246`).
 */
export function resourceWrapper(resource: ProtoResource | undefined, path: CallPath): ProtoResource {
  const r = resource ?? emptyResource();
  return path === "async" ? { ...r, agentError: undefined } : { ...r, state: 0 };
}

/**
 * Maps a `Resource` to the outcome FlytePropeller would record (`agent/plugin.go:307-362`), through
 * the wrapper of its path: pending phases keep their message as the reason, RUNNING drops it,
 * failures get Propeller's fixed message and code, an unset phase falls back to the deprecated
 * `state` (always absent on the sync path, whose default reads as a retryable failure). With the
 * Flyte 2 profile (main `connector/plugin.go:349-380`) there is no state to fall back to: an unset
 * phase is a system error.
 */
export function mapResource(
  resource: ProtoResource | undefined,
  path: CallPath,
  profile: PropellerProfile = FLYTE1_PROFILE,
): PhaseOutcome {
  const r = resourceWrapper(resource, path);
  const code = r.agentError?.code || FailureCode.TaskFailedWithError;
  const failure = (retryable: boolean, phase: TaskExecutionPhase): PhaseOutcome => ({
    kind: "failed",
    phase,
    retryable,
    code,
    message: jobFailed(r.message),
  });
  switch (r.phase as number) {
    case TaskExecutionPhase.QUEUED:
    case TaskExecutionPhase.WAITING_FOR_RESOURCES:
    case TaskExecutionPhase.INITIALIZING:
      return { kind: "pending", phase: r.phase as TaskExecutionPhase, reason: r.message };
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
        code,
        message: JOB_ABORTED,
      };
    case TaskExecutionPhase.UNDEFINED:
      if (profile.stateFallback) return fromState(r);
      // Flyte 2's Resource has no state: an unset phase is Status's system error.
      return {
        kind: "status-error",
        phase: TaskExecutionPhase.UNDEFINED,
        message: unknownPhase("UNDEFINED"),
      };
    default:
      return { kind: "status-error", phase: TaskExecutionPhase.UNDEFINED, message: unknownPhase(r.phase) };
  }
}

function fromState(r: ProtoResource): PhaseOutcome {
  switch (r.state) {
    case State.PENDING:
      return { kind: "pending", phase: TaskExecutionPhase.INITIALIZING, reason: r.message };
    case State.RUNNING:
      return { kind: "running", phase: TaskExecutionPhase.RUNNING };
    case State.SUCCEEDED:
      return { kind: "succeeded", phase: TaskExecutionPhase.SUCCEEDED };
    case State.PERMANENT_FAILURE:
      return {
        kind: "failed",
        phase: TaskExecutionPhase.FAILED,
        retryable: false,
        code: FailureCode.TaskFailedWithError,
        message: jobFailedByState(r.message),
      };
    case State.RETRYABLE_FAILURE:
      // State 0, the proto default: an empty Resource lands here.
      return {
        kind: "failed",
        phase: TaskExecutionPhase.RETRYABLE_FAILED,
        retryable: true,
        code: FailureCode.TaskFailedWithError,
        message: jobFailedByState(r.message),
      };
    default:
      return { kind: "status-error", phase: TaskExecutionPhase.UNDEFINED, message: unknownState(r.state) };
  }
}

/** True for outcomes that end an attempt. */
export function isTerminal(outcome: PhaseOutcome): boolean {
  return outcome.kind === "succeeded" || outcome.kind === "failed";
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
