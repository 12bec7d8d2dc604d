import type { Resource as ProtoResource } from "../gen/flyteidl/admin/agent.js";
import { TaskExecutionPhase } from "../core/phase.js";
import { MAX_GRPC_MESSAGE_BYTES } from "./defaults.js";
import { FLYTE1_PROFILE, type PropellerProfile } from "./profile.js";
import type { CallPath } from "./status.js";

/** A rule of Propeller's contract that an answer runs into. */
export interface ContractFinding {
  /** A stable name, e.g. `running-message-dropped`. */
  readonly rule: string;
  readonly message: string;
}

/** Responses over this share of gRPC's 4 MiB limit are worth a warning. */
export const NEAR_LIMIT_BYTES = Math.floor(MAX_GRPC_MESSAGE_BYTES * 0.75);

/** What Propeller silently drops or misreads in one Resource. */
export function resourceFindings(
  resource: ProtoResource,
  path: CallPath,
  profile: PropellerProfile = FLYTE1_PROFILE,
): ContractFinding[] {
  const out: ContractFinding[] = [];
  const phase = resource.phase as number;
  if (phase === 0 && !profile.stateFallback) {
    out.push({
      rule: "phase-unset",
      message:
        'the connector returned a Resource without a phase; Flyte 2\'s executor has no state to fall back to, so every round fails with "unknown execution phase [UNDEFINED]." until the workflow is given up: always set phase',
    });
  } else if (phase === 0) {
    out.push({
      rule: "phase-unset",
      message:
        path === "sync"
          ? "the sync agent returned a Resource without a phase; FlytePropeller never reads the deprecated state on the sync path, so this is always a retryable failure: always set phase"
          : "the agent returned a Resource without a phase; FlytePropeller falls back to the deprecated state, whose default means a retryable failure: always set phase",
    });
  }
  if (phase === TaskExecutionPhase.RUNNING && resource.message) {
    out.push({
      rule: "running-message-dropped",
      message: `FlytePropeller drops the message on RUNNING ("${resource.message}"); report progress through QUEUED/INITIALIZING reasons, log links or custom_info`,
    });
  }
  if (
    path === "async" &&
    resource.agentError?.code &&
    (phase === TaskExecutionPhase.FAILED ||
      phase === TaskExecutionPhase.RETRYABLE_FAILED ||
      phase === TaskExecutionPhase.ABORTED)
  ) {
    out.push({
      rule: "async-agent-error-dropped",
      message: `FlytePropeller ignores agent_error.code ("${resource.agentError.code}") on GetTask; the failure is recorded as TaskFailedWithError`,
    });
  }
  return out;
}

/** A response near or over gRPC's 4 MiB receive limit, which Propeller keeps. */
export function responseSizeFinding(bytes: number, what: string): ContractFinding | undefined {
  if (bytes > MAX_GRPC_MESSAGE_BYTES) {
    return {
      rule: "response-size",
      message: `${what} is ${bytes} bytes, over gRPC's 4 MiB limit that FlytePropeller keeps: it fails with RESOURCE_EXHAUSTED there; write big results to {output_prefix}/outputs.pb or storage instead`,
    };
  }
  if (bytes > NEAR_LIMIT_BYTES) {
    return {
      rule: "response-size",
      message: `${what} is ${bytes} bytes, near gRPC's 4 MiB limit that FlytePropeller keeps; write big results to {output_prefix}/outputs.pb or storage instead`,
    };
  }
  return undefined;
}
