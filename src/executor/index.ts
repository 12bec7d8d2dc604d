export {
  executeTask,
  type ExecuteTaskOptions,
  type ExecutionResult,
  type ReplayedRequestParts,
} from "./execute-task.js";
export { readRecordedRequest, replayRequest, type RecordedRequest, type ReplayOptions } from "./replay.js";
export type { ContractWarning, ExecutionEvent, ExecutionLogLink } from "./events.js";
export { realClock, createManualClock, RateLimiter, type ExecutorClock } from "./clock.js";
export { AgentRouter, type AgentRoute, type DiscoveryReport } from "./agent-router.js";
export {
  AgentConnection,
  CallSlots,
  type AgentConnectionOptions,
  type RpcObserver,
  type RpcRecord,
} from "./connection.js";
export { ExecutorSession, endpointConfig, type ExecutorSessionOptions } from "./executor-session.js";
export { localPrefix } from "@flyte-agent/runtime/internal/storage/run-storage.js";
export {
  decodeErrorDocument,
  encodeErrorDocument,
  type ContainerErrorInfo,
} from "@flyte-agent/runtime/internal/propeller/error-document.js";
export { loadTaskFile, pickTask, importModule, type LoadedTaskFile } from "./load-task-file.js";
export { writeOutputsFile, writeErrorFile } from "@flyte-agent/runtime/internal/executor/output-files.js";
// FlytePropeller's rules and the agent client, re-exported for existing imports.
export {
  parsePropellerConfig,
  deadlineFor,
  RpcOperation,
  mapResource,
  renderArg,
  renderTemplate,
  type AgentDeployment,
  type PropellerAgentConfig,
  type PhaseOutcome,
  type CallPath,
  type TemplateVariables,
} from "@flyte-agent/runtime/internal/propeller/index.js";
export { RpcError, grpcTarget, type TlsOptions } from "../client/agent-client.js";
