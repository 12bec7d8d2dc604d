/**
 * FlytePropeller 1.16.8's agent plugin behaviour, once: config loading with viper's semantics,
 * defaults, the routing registry, template rendering, task execution metadata, status mapping of the
 * async and sync paths, output rules, the GetTask failure budget and the task deadlines. Pure
 * functions and data; nothing here talks to the network.
 */
export * from "./defaults.js";
export {
  RpcOperation,
  deadlineFor,
  defaultTimeoutOf,
  endpointConfig,
  parsePropellerConfig,
  timeoutKey,
  type AgentDeployment,
  type ConfigWarning,
  type ParseConfigOptions,
  type PluginFlavor,
  type PropellerAgentConfig,
} from "./config.js";
export { FLYTE1_PROFILE, FLYTE2_PROFILE, FlyteVersion, profileOf, type PropellerProfile } from "./profile.js";
export {
  buildConnectorRegistry,
  buildRegistry,
  connectorTaskTypes,
  lookupConnectorRoute,
  lookupRoute,
  type ConnectorRegistryView,
  type RouteScope,
  type AgentRegistryView,
  type DeploymentListing,
  type ListedAgent,
  type RegistryRoute,
  type RegistryWarning,
  type RouteLookup,
  type RouteSource,
} from "./registry.js";
export {
  emptyResource,
  isTerminal,
  mapResource,
  resourceWrapper,
  type CallPath,
  type PhaseOutcome,
} from "./status.js";
export { syncNonTerminalMessage, syncVerdict, type SyncAnswer, type SyncVerdict } from "./sync.js";
export * from "./messages.js";
export { SyncFailureCount, budgetSpentOutcome, fastErrorBackoffMs } from "./cache.js";
export { expiredDeadline, taskDeadlines, untilNextDeadline, type TaskDeadlines } from "./deadlines.js";
export {
  buildTaskExecutionMetadata,
  nodeLabels,
  sanitizeLabelValue,
  type TaskExecutionMetadataInput,
} from "./metadata.js";
export {
  TemplateRenderError,
  durationText,
  goFloat,
  renderArg,
  renderTemplate,
  rfc3339Nano,
  sanitizePerRetryKey,
  type TemplateVariables,
} from "./template.js";
export {
  judgeOutputs,
  maxPayloadBytes,
  type ErrorDocumentInfo,
  type OutputsEvidence,
  type OutputsVerdict,
} from "./outputs.js";
export { NEAR_LIMIT_BYTES, resourceFindings, responseSizeFinding, type ContractFinding } from "./findings.js";
