export {
  AsyncAgentBase,
  SyncAgentBase,
  isAgent,
  isAsyncAgent,
  isSyncAgent,
  type Agent,
  type AgentBaseOptions,
  type AsyncAgentOptions,
  type LogChunk,
  type LogLine,
  type LogsQuery,
  type MetricResult,
  type MetricsQuery,
} from "./agent.js";
export {
  redactingConnection,
  silentLogger,
  type AgentContext,
  type Connection,
  type Logger,
  type TaskRequest,
} from "./context.js";
export {
  AgentNotFoundError,
  DuplicateAgentError,
  ErrorCode,
  FlyteAgentError,
  isFlyteAgentError,
} from "./errors.js";
export { TaskExecutionPhase, convertToFlytePhase, isTerminalPhase, phaseName } from "./phase.js";
export { AgentRegistry, parseCategory, type AgentInfo, type RegisterOptions } from "./registry.js";
export {
  isLiteralMap,
  type AgentErrorInfo,
  type LogLink,
  type OutputEncoder,
  type Resource,
} from "./resource.js";
export { jsonResourceMetaCodec, pythonJsonDumps, type ResourceMetaCodec } from "./resource-meta.js";
export { getAgentSecret, type SecretsOptions } from "./secrets.js";
export { formatCategory, taskCategory, type TaskCategory } from "./task-category.js";
