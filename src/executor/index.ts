export {
  parsePropellerConfig,
  parseGoDuration,
  deadlineFor,
  RpcOperation,
  type AgentDeployment,
  type PropellerAgentConfig,
} from "./propeller-config.js";
export { executeTask, type ExecuteTaskOptions, type ExecutionResult } from "./execute-task.js";
export type { ContractWarning, ExecutionEvent, ExecutionLogLink } from "./events.js";
export { realClock, createManualClock, RateLimiter, type ExecutorClock } from "./clock.js";
export { AgentRouter, type AgentRoute, type DiscoveryReport } from "./agent-router.js";
export {
  AgentConnection,
  CallSlots,
  RpcError,
  grpcTarget,
  type AgentConnectionOptions,
  type RpcObserver,
  type RpcRecord,
  type TlsOptions,
} from "./transport.js";
export { ExecutorSession, endpointConfig, type ExecutorSessionOptions } from "./executor-session.js";
export { mapResource, type PhaseOutcome, type CallPath } from "./status-mapping.js";
export { localStorage, localPrefix, type ExecutorStorage } from "./storage.js";
export { decodeErrorDocument, encodeErrorDocument, type ContainerErrorInfo } from "./error-document.js";
export { renderArg, renderTemplate, type TemplateVariables } from "./render-template.js";
export { loadTaskFile, pickTask, importModule, type LoadedTaskFile } from "./load-task-file.js";
export { writeOutputsFile, writeErrorFile } from "./output-files.js";
