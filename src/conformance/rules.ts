/**
 * The rules `flyte-agent conformance` checks: what FlytePropeller 1.16's agent plugin (ids without a
 * prefix) and Flyte 2's connector plugin (`v2.` ids) need from a server, one line each. The id is stable (for `--json` consumers); the text is what a check prints.
 */
export const ConformanceRule = {
  health: "grpc.health.v1 Check answers SERVING (Kubernetes probes and deploy canaries rely on it)",
  "list-agents":
    "ListAgents answers well within FlytePropeller's deadline (3 s by default) and lists at least one agent",
  "list-agents.unique":
    "Each task type is listed once, in one version (FlytePropeller's registry keeps one version per task type name)",
  "get-agent":
    "GetAgent agrees with ListAgents for every listed agent (a warning only: FlytePropeller never calls GetAgent)",
  "get-agent.unknown": "GetAgent for an unknown agent name answers NOT_FOUND (a warning only)",
  "unknown-category": "CreateTask, GetTask and DeleteTask for a task category nobody serves answer NOT_FOUND",
  "task.listed":
    "The task's category (type, version) is in FlytePropeller's registry, so it reaches the agent plugin and this server",
  "is-sync": "The agent answers on the path its is_sync names (ExecuteTaskSync if sync, CreateTask if async)",
  create: "CreateTask answers OK well within its deadline (3 s by default) and returns a resource_meta",
  "create.repeat": "CreateTask is safe to repeat: the same request again answers OK and the job ends alike",
  phase: "Every Resource sets phase explicitly (an unset phase reads as a retryable failure)",
  "get.deadline": "GetTask answers well within its deadline (3 s by default)",
  "get.terminal":
    "GetTask reaches a terminal phase within FlytePropeller's failure budget (6 errors per attempt, never reset)",
  "get.idempotent":
    "GetTask is idempotent: asked twice, it gives the same answer and changes nothing under the output prefix",
  delete: "DeleteTask answers OK for a finished job, and again when repeated",
  "sync.header":
    "ExecuteTaskSync's first message is a header carrying the Resource (FlytePropeller reads one message, then cancels)",
  "sync.terminal":
    "ExecuteTaskSync answers with a terminal phase (otherwise the task stays queued forever and FlytePropeller's cache workers die)",
  "sync.deadline": "ExecuteTaskSync's first message comes well within its deadline (3 s by default)",
  outputs:
    "SUCCEEDED comes with every declared output, inline or in {output_prefix}/outputs.pb (at most storage.limits.maxDownloadMBs, 2 MB by default), and no error.pb",
  "task.result": "The task succeeds with the given inputs",
  "response-size": "Every response stays under gRPC's 4 MiB limit, which FlytePropeller keeps",
  "cross-replica": "resource_meta written by one replica is read alike by another",
  protocols:
    "The server answers the asked protocols: Flyte 1 (ListAgents) and/or Flyte 2 (ListConnectors); UNIMPLEMENTED means a protocol is not served",
  "v2.list-connectors":
    "ListConnectors answers well within Flyte 2's deadline (10 s by default) and lists at least one connector",
  "v2.list-connectors.unique":
    "Each task category (name, version) is listed once (the executor's registry keeps one connector per category)",
  "v2.get-connector":
    "GetConnector agrees with ListConnectors for every listed connector (a warning only: the executor never calls GetConnector)",
  "v2.get-connector.unknown": "GetConnector for an unknown connector name answers NOT_FOUND (a warning only)",
  "v2.unknown-category":
    "CreateTask, GetTask and DeleteTask for a task category nobody serves answer NOT_FOUND",
  "v2.task.listed":
    "The task's category (type, version) is listed by ListConnectors, so the executor's routing reaches this server",
  "v2.create": "CreateTask answers OK well within its deadline (10 s by default) and returns a resource_meta",
  "v2.phase":
    "Every Resource sets phase explicitly (Flyte 2's Resource has no state: an unset phase is a system error)",
  "v2.get.deadline": "GetTask answers well within its deadline (10 s by default)",
  "v2.get.terminal": "GetTask reaches a terminal phase within the executor's failure budget",
  "v2.task.result": "The task succeeds with the given inputs",
  "v2.outputs":
    "SUCCEEDED comes with every declared output, inline or in {output_prefix}/outputs.pb, and no error.pb",
  "v2.delete": "DeleteTask answers OK for a finished job, and again when repeated",
  "v2.logs":
    "GetTaskLogs streams well-formed messages (a header with the next token, bodies with lines) and ends OK (skipped for a connector that serves no logs)",
  "v2.connection":
    "The task's connection (task_type, secrets, configs from TaskTemplate.custom, secret values resolved) can be sent, and the server accepts it on CreateTask, GetTask and DeleteTask",
  "v2.secrets":
    "No secret value of the connection appears in any answer (resource_meta, Resource, log lines) nor, given the server's log, in its log",
  "v2.response-size": "Every response stays under gRPC's 4 MiB limit",
} as const;

/** The id of a conformance rule, e.g. `get.idempotent`. */
export type ConformanceRuleId = keyof typeof ConformanceRule;

/** How one rule fared. */
export type CheckStatus = "pass" | "fail" | "warn" | "skip";
