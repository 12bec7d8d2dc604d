/**
 * An agent's {@link Resource} as the protocol's `Resource` message. Apart from the rest of core so
 * that importing the package root (which defines agents, not serves them) does not load the
 * service messages.
 */
import type {
  AgentError as ProtoAgentError,
  Resource as ProtoResource,
} from "../gen/flyteidl/admin/agent.js";
import { AgentError_Kind, State } from "../gen/flyteidl/admin/agent.js";
import { type TaskLog, TaskLog_MessageFormat } from "../gen/flyteidl/core/execution.js";
import type { LiteralMap } from "../gen/flyteidl/core/literals.js";
import {
  type AgentErrorInfo,
  isLiteralMap,
  type LogLink,
  type OutputEncoder,
  type Resource,
} from "./resource.js";

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
