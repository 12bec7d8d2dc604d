/**
 * `flyte-agent/flyteidl`: the Flyte protocol messages that appear in flyte-agent's public signatures
 * (`TaskRequest.taskTemplate`, `inputLiterals`, `toLiteral`, ...) and the agent services' request
 * and response messages, as types only: importing this entry loads no code. The names are the
 * protos' own (generated from `@flyteorg/flyteidl` by ts-proto), so `Resource` here is the wire
 * message, not the package root's `Resource`.
 * @packageDocumentation
 */
export type {
  Agent,
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteTaskRequest,
  DeleteTaskResponse,
  ExecuteTaskSyncRequest,
  ExecuteTaskSyncResponse,
  GetAgentRequest,
  GetAgentResponse,
  GetTaskLogsRequest,
  GetTaskLogsResponse,
  GetTaskMetricsRequest,
  GetTaskMetricsResponse,
  GetTaskRequest,
  GetTaskResponse,
  ListAgentsRequest,
  ListAgentsResponse,
  Resource,
  TaskCategory,
  TaskExecutionMetadata,
} from "./gen/flyteidl/admin/agent.js";
export type { TaskLog } from "./gen/flyteidl/core/execution.js";
export type { Identifier, TaskExecutionIdentifier } from "./gen/flyteidl/core/identifier.js";
export type { TypedInterface, Variable } from "./gen/flyteidl/core/interface.js";
export type {
  Binary,
  Blob,
  Literal,
  LiteralCollection,
  LiteralMap,
  Primitive,
  Scalar,
  StructuredDataset,
} from "./gen/flyteidl/core/literals.js";
export type { Secret } from "./gen/flyteidl/core/security.js";
export type { TaskTemplate } from "./gen/flyteidl/core/tasks.js";
export type { LiteralType } from "./gen/flyteidl/core/types.js";
export type { Struct } from "./gen/google/protobuf/struct.js";
