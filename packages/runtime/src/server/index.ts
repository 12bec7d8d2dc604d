export { AgentServer, type AgentServerOptions } from "./server.js";
export {
  serve,
  resolveServeOptions,
  type ServeOptions,
  type ResolvedServeOptions,
  type ServeTlsOptions,
  type ServeRecordOptions,
  type RunningAgentServer,
  StopReason,
} from "./serve.js";
export {
  createServiceHandlers,
  toProtoAgent,
  type ServiceBinding,
  type ServiceOptions,
} from "./services/index.js";
export { MAX_SYNC_RESULT_BYTES } from "./services/async-connector-service.js";
export { toProtoConnector } from "./services/connector-metadata-service.js";
export {
  createCallPipeline,
  UNSERVED_TASK_TYPE,
  type CallHooks,
  type CallPipeline,
  type CallPipelineOptions,
  type Send,
} from "./call-pipeline.js";
export { CallScope, type CallInfo, type Protocol } from "./call-scope.js";
export { toWireError, CallAbortedError, type Operation, type WireError } from "./errors.js";
export { HealthService, HealthStatus, ServingStatus, agentServiceNames } from "./health.js";
export { addLazyReflection, addReflection } from "./reflection.js";
export {
  ServerMetrics,
  createServerMetrics,
  createCallHooks,
  startMetricsEndpoint,
  type CallHooksOptions,
  type MetricsEndpoint,
  type ServerMetricsOptions,
} from "./metrics.js";
export {
  loadAgentModules,
  packageJsonField,
  type LoadAgentModulesOptions,
  type LoadedModule,
} from "./module-loader.js";
export { createServerLogger, redactedKeys, type ServerLoggerOptions } from "./logger.js";
export { formatBanner, type BannerInfo } from "./banner.js";
export {
  serveWorkers,
  WorkerRestarts,
  type ServeWorkersOptions,
  type RunningWorkers,
  type RestartBackoffOptions,
} from "./workers.js";
export { availableCpus, cgroupCpuLimit, type AvailableCpusOptions } from "./available-cpus.js";
export {
  RequestRecorder,
  REDACTED,
  SECRET_KEY_PATTERN,
  redactCreateTaskRequest,
  redactExecuteTaskSyncRequest,
  type RequestRecorderOptions,
} from "./recorder.js";
export {
  RecordedOp,
  decodeRecordedRequest,
  decodeRecordedSyncRequests,
  encodeRecordedSyncRequests,
  type RecordedRequest,
} from "../core/recorded-request.js";
