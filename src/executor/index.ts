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
export { localPrefix } from "../storage/run-storage.js";
export {
  decodeErrorDocument,
  encodeErrorDocument,
  type ContainerErrorInfo,
} from "../propeller/error-document.js";
export { loadTaskFile, pickTask, importModule, type LoadedTaskFile } from "./load-task-file.js";
export { writeOutputsFile, writeErrorFile } from "./output-files.js";
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
} from "../propeller/index.js";
export { RpcError, grpcTarget, type TlsOptions } from "../client/agent-client.js";
