/**
 * FlytePropeller 1.16.8's defaults for its agent plugin, each defined once. Every other module that
 * needs one imports it from here. Sources are files of flyteorg/flyte at tag v1.16.8.
 */

/** `defaultTimeout` of `agent-service.defaultAgent` (`flyteplugins/.../webapi/agent/config.go:45`). */
export const AGENT_SERVICE_DEFAULT_TIMEOUT_MS = 3_000;

/** `defaultTimeout` of `connector-service.defaultConnector` (`.../webapi/connector/config.go:45`). */
export const CONNECTOR_SERVICE_DEFAULT_TIMEOUT_MS = 10_000;

/** `webApi.caching.resyncInterval`: the AutoRefreshCache tick that paces GetTask (`agent/config.go:28`). */
export const RESYNC_INTERVAL_MS = 30_000;

/** `webApi.caching.workers` (`agent/config.go:29`). */
export const CACHE_WORKERS = 10;

/** `webApi.caching.size` (`agent/config.go:27`). */
export const CACHE_SIZE = 500_000;

/**
 * `webApi.caching.maxSystemFailures`: the cache stops polling once `SyncFailureCount` exceeds it, so
 * the 6th GetTask error is the last one (`agent/config.go:30`, `pluginmachinery/internal/webapi/cache.go:99`).
 */
export const MAX_SYSTEM_FAILURES = 5;

/** `webApi.readRateLimiter` (`agent/config.go:18-21`): a token bucket shared by every GetTask. */
export const READ_RATE_LIMITER = { qps: 10, burst: 100 } as const;

/** `pollInterval`: ListAgents re-discovery (`agent/config.go:51`). */
export const POLL_INTERVAL_MS = 10_000;

/** `supportedTaskTypes` when the config sets none (`agent/config.go:50`, `connector/config.go:50`). */
export const DEFAULT_SUPPORTED_TASK_TYPES = {
  "agent-service": ["task_type_1", "task_type_2"],
  "connector-service": ["task_type_3", "task_type_4"],
} as const;

/**
 * `storage.limits.maxDownloadMBs`: the largest `outputs.pb` Propeller accepts, in MB of 1 MiB
 * (`flytestdlib/storage/config.go:36`; the flyte-core chart sets 10).
 */
export const MAX_DOWNLOAD_MBS = 2;

/** gRPC's default receive limit, which Propeller keeps on its agent connections. */
export const MAX_GRPC_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * `max-workflow-retries`: failed rounds after which a workflow is given up; an abort whose
 * DeleteTask keeps failing ends "Workflow abort failed" then (`controller/config/config.go:65`).
 */
export const MAX_WORKFLOW_RETRIES = 10;

/** Validation ranges of the `webApi` block (`pluginmachinery/webapi/config.go` tags). */
export const WEBAPI_RANGES = {
  resyncIntervalMs: [5_000, 3_600_000],
  workers: [1, 10_000],
  size: [10, 500_000],
  qps: [1, 100_000],
  burst: [5, 10_000],
} as const;

/**
 * The active deadline of a node is this many times its timeout, counted from first queueing
 * (`flytepropeller/pkg/compiler/transformers/k8s/node.go:78-82`).
 */
export const ACTIVE_DEADLINE_FACTOR = 2;

/**
 * `max-node-retries-system-failures`: retries of failures whose kind is SYSTEM (an `error.pb` with
 * origin SYSTEM), a budget separate from the task's retries (`controller/config/config.go:102`).
 */
export const MAX_NODE_RETRIES_SYSTEM_FAILURES = 3;

/**
 * Flyte 2's connector channels ping every `timeMs` while calls are active and give up after
 * `timeoutMs` without an answer (flyteorg/flyte main `webapi/connector/client.go:121-127`).
 */
export const CONNECTOR_KEEPALIVE = { timeMs: 30_000, timeoutMs: 10_000 } as const;
