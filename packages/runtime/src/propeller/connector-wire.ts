import {
  type Resource as V1Resource,
  TaskExecutionMetadata as V1TaskExecutionMetadata,
} from "../gen/flyteidl/admin/agent.js";
import { Literal as V1Literal, type LiteralMap } from "../gen/flyteidl/core/literals.js";
import { TaskLog as V1TaskLog } from "../gen/flyteidl/core/execution.js";
import { TaskTemplate as V1TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import {
  type Resource as V2Resource,
  TaskExecutionMetadata as V2TaskExecutionMetadata,
} from "../gen/v2/flyteidl2/connector/connector.js";
import { TaskLog as V2TaskLog } from "../gen/v2/flyteidl2/core/execution.js";
import { Literal as V2Literal } from "../gen/v2/flyteidl2/core/literals.js";
import type { Connection } from "../gen/v2/flyteidl2/core/security.js";
import { TaskTemplate as V2TaskTemplate } from "../gen/v2/flyteidl2/core/tasks.js";
import type { Inputs } from "../gen/v2/flyteidl2/task/common.js";

// flyteidl2's core messages keep flyteidl's field numbers and types for everything both define
// (TaskTemplate 1-9,16-18; Literal; TaskExecutionIdentifier; TaskLog 1-4), so a message moves
// between the protocols by re-decoding its bytes, and nothing is copied field by field by hand.
const transcode =
  <A, B>(from: { encode(m: A): { finish(): Uint8Array } }, to: { decode(b: Uint8Array): B }) =>
  (m: A): B =>
    to.decode(from.encode(m).finish());

/** A Flyte 1 TaskTemplate as Flyte 2's `flyteidl2.core.TaskTemplate`. */
export const toConnectorTemplate = transcode(V1TaskTemplate, V2TaskTemplate);

/**
 * A LiteralMap as `task.Inputs`, as Flyte 2's executor builds it from the input map (main
 * `connector/plugin.go:203-210`): one NamedLiteral per entry and no `context`. The executor ranges
 * over a Go map, so its order varies from call to call; here it is the map's key order.
 */
export function toConnectorInputs(map: LiteralMap): Inputs {
  const toV2 = transcode(V1Literal, V2Literal);
  return {
    literals: Object.entries(map.literals).map(([name, value]) => ({ name, value: toV2(value) })),
    context: [],
  };
}

/**
 * Task execution metadata as Flyte 2's `buildTaskExecutionMetadata` fills it (main
 * `connector/plugin.go:461-473`): id, namespace, labels, annotations, service account, environment
 * and identity; max_attempts, interruptible and its threshold stay unset.
 */
export function toConnectorMetadata(m: V1TaskExecutionMetadata): V2TaskExecutionMetadata {
  const v2 = transcode(V1TaskExecutionMetadata, V2TaskExecutionMetadata)(m);
  return { ...v2, maxAttempts: 0, interruptible: false, interruptibleFailureThreshold: 0 };
}

/**
 * A Flyte 2 Resource in the shape the shared status rules read: `task.Outputs` becomes the literal
 * map the executor writes (a repeated name: the last wins, as in its Go map, main
 * `connector/plugin.go:359-365`), and there is no `state` nor `agent_error` to read.
 */
export function fromConnectorResource(r: V2Resource): V1Resource {
  const toV1 = transcode(V2Literal, V1Literal);
  let outputs: LiteralMap | undefined;
  if (r.outputs) {
    outputs = { literals: {} };
    for (const l of r.outputs.literals) if (l.value) outputs.literals[l.name] = toV1(l.value);
  }
  return {
    state: 0,
    outputs,
    message: r.message,
    logLinks: r.logLinks.map(transcode(V2TaskLog, V1TaskLog)),
    phase: r.phase,
    customInfo: r.customInfo,
    agentError: undefined,
  };
}

/** Why a template's custom is no Connection. */
export class ConnectionReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConnectionReadError";
  }
}

const stringMap = (v: unknown, key: string): Record<string, string> => {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v))
    throw new ConnectionReadError(`${key}: expected an object, got ${JSON.stringify(v)}`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x !== "string")
      throw new ConnectionReadError(`${key}.${k}: expected a string, got ${JSON.stringify(x)}`);
    out[k] = x;
  }
  return out;
};

/**
 * The Connection Flyte 2's executor reads from `TaskTemplate.custom` before resolving its secrets
 * (main `connector/plugin.go:171-175`): protojson with unknown fields allowed
 * (`pluginmachinery/utils/marshal_utils.go:14-34`), so `task_type`/`taskType`, `secrets` and
 * `configs` are read and everything else is ignored. The secret values are still secret names here.
 * @throws ConnectionReadError with the executor's reason: a template without custom fails
 * ("nil Struct Object passed"), as does a non-string secret or config.
 */
export function connectionFromCustom(custom: Record<string, unknown> | undefined): Connection {
  if (custom === undefined) throw new ConnectionReadError("nil Struct Object passed");
  const taskType = custom.taskType ?? custom.task_type ?? "";
  if (typeof taskType !== "string")
    throw new ConnectionReadError(`task_type: expected a string, got ${JSON.stringify(taskType)}`);
  return {
    taskType,
    secrets: stringMap(custom.secrets, "secrets"),
    configs: stringMap(custom.configs, "configs"),
  };
}

/** Create's failure when the connection cannot be read (main `connector/plugin.go:174`). */
export const connectionReadFailed = (reason: string) =>
  `failed to unmarshal connection from task template custom: ${reason}`;

/**
 * Create's failure when a secret cannot be resolved: the executor returns it as a gRPC Internal
 * status (main `connector/plugin.go:184-188`), which the launcher prints with `%v`.
 */
export const secretValueFailed = (reason: string) =>
  `rpc error: code = Internal desc = Failed to get secret value with error: ${reason}`;
