import {
  AgentError_Kind,
  type Resource as V1Resource,
  TaskExecutionMetadata as V1TaskExecutionMetadata,
} from "../../gen/flyteidl/admin/agent.js";
import { TaskLog as V1TaskLog } from "../../gen/flyteidl/core/execution.js";
import { Literal as V1Literal, type LiteralMap } from "../../gen/flyteidl/core/literals.js";
import { TaskTemplate as V1TaskTemplate } from "../../gen/flyteidl/core/tasks.js";
import {
  type Resource as V2Resource,
  TaskExecutionMetadata as V2TaskExecutionMetadata,
} from "../../gen/v2/flyteidl2/connector/connector.js";
import { TaskLog as V2TaskLog } from "../../gen/v2/flyteidl2/core/execution.js";
import { Literal as V2Literal } from "../../gen/v2/flyteidl2/core/literals.js";
import type { Connection as V2Connection } from "../../gen/v2/flyteidl2/core/security.js";
import { TaskTemplate as V2TaskTemplate } from "../../gen/v2/flyteidl2/core/tasks.js";
import type { Inputs, Outputs } from "../../gen/v2/flyteidl2/task/common.js";
import {
  LogLineOriginator,
  type LogLine as V2LogLine,
} from "../../gen/v2/flyteidl2/logs/dataplane/payload.js";
import type { LogLine } from "../../core/agent.js";
import { TaskExecutionPhase } from "../../core/phase.js";
import { type Connection, redactingConnection } from "../../core/context.js";

// Flyte 2's messages that reach an agent (TaskTemplate, Literal, TaskExecutionMetadata, TaskLog)
// keep Flyte 1's field numbers and types, and only add fields (flyteidl2/core/tasks.proto,
// literals.proto, connector/connector.proto on flyteorg/flyte main, checked field by field by
// test/python/flyte2-server.test.ts). So they are converted by re-decoding their bytes with the
// other protocol's message: agents see one set of shapes whatever the protocol, and fields only
// Flyte 2 has are dropped on the way in.

/** Flyte 2's task template, as the Flyte 1 message agents receive. */
export function v1Template(template: V2TaskTemplate): V1TaskTemplate {
  return V1TaskTemplate.decode(V2TaskTemplate.encode(template).finish());
}

/** Flyte 2's task execution metadata, as the Flyte 1 message agents receive. */
export function v1Metadata(
  metadata: V2TaskExecutionMetadata | undefined,
): V1TaskExecutionMetadata | undefined {
  if (!metadata) return undefined;
  return V1TaskExecutionMetadata.decode(V2TaskExecutionMetadata.encode(metadata).finish());
}

/**
 * Flyte 2's inputs (named literals, in order) as a Flyte 1 LiteralMap, keeping the order. A name
 * sent twice keeps its last value, as Flyte 2's executor builds the list from a map
 * (plugin.go, Create).
 */
export function v1Inputs(inputs: Inputs | undefined): LiteralMap | undefined {
  if (!inputs) return undefined;
  const literals: Record<string, V1Literal> = {};
  for (const named of inputs.literals) {
    literals[named.name] = named.value
      ? V1Literal.decode(V2Literal.encode(named.value).finish())
      : V1Literal.fromPartial({});
  }
  return { literals };
}

/** `Inputs.context` as a record, or undefined when the caller sent none. */
export function inputContextOf(inputs: Inputs | undefined): Record<string, string> | undefined {
  if (!inputs || inputs.context.length === 0) return undefined;
  return Object.fromEntries(inputs.context.map((kv) => [kv.key, kv.value]));
}

/** The connection a request carried, for the agent's context; undefined when it carried none. */
export function connectionOf(connection: V2Connection | undefined): Connection | undefined {
  if (!connection) return undefined;
  return redactingConnection(connection.taskType, connection.secrets, connection.configs);
}

/**
 * A Resource (as {@link encodeResource} builds it) as Flyte 2's `flyteidl2.connector.Resource`, which
 * has no `state` and no `agent_error`: a failure the agent marked RECOVERABLE becomes the phase
 * RETRYABLE_FAILED (the executor's only retryable outcome, plugin.go Status), and the error code
 * goes in front of the message so it is not lost. Outputs keep their order.
 */
export function toV2Resource(wire: V1Resource): V2Resource {
  // Both protocols number phases as core/phase.ts does.
  let phase: number = wire.phase;
  let message = wire.message;
  const agentError = wire.agentError;
  if (agentError && phase === TaskExecutionPhase.FAILED && agentError.kind === AgentError_Kind.RECOVERABLE) {
    phase = TaskExecutionPhase.RETRYABLE_FAILED;
  }
  if (agentError?.code && !message.includes(agentError.code)) {
    message = message ? `${agentError.code}: ${message}` : agentError.code;
  }
  return {
    phase: phase,
    message,
    outputs: wire.outputs ? toV2Outputs(wire.outputs) : undefined,
    logLinks: wire.logLinks.map((l) => V2TaskLog.decode(V1TaskLog.encode(l).finish())),
    customInfo: wire.customInfo,
  };
}

/** Output literals as Flyte 2's ordered list. */
export function toV2Outputs(map: LiteralMap): Outputs {
  return {
    literals: Object.entries(map.literals).map(([name, lit]) => ({
      name,
      value: V2Literal.decode(V1Literal.encode(lit).finish()),
    })),
  };
}

/** A log line as Flyte 2's structured line; a plain string becomes its message. */
export function toV2LogLine(line: string | LogLine): V2LogLine {
  if (typeof line === "string") {
    return { message: line, timestamp: undefined, originator: LogLineOriginator.UNKNOWN };
  }
  const t = line.timestamp;
  return {
    message: line.message,
    timestamp: t
      ? { seconds: BigInt(Math.floor(t.getTime() / 1000)), nanos: (t.getTime() % 1000) * 1e6 }
      : undefined,
    originator:
      line.originator === "user"
        ? LogLineOriginator.USER
        : line.originator === "system"
          ? LogLineOriginator.SYSTEM
          : LogLineOriginator.UNKNOWN,
  };
}
