/**
 * The rules `flyte-agent conformance` checks: what FlytePropeller 1.16's agent plugin needs from a server,
 * one line each. The id is stable (for `--json` consumers); the text is what a check prints.
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
} as const;

/** The id of a conformance rule, e.g. `get.idempotent`. */
export type ConformanceRuleId = keyof typeof ConformanceRule;
