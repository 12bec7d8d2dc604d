/**
 * The rules `flyte-agent conformance` checks: what FlytePropeller 1.16's agent plugin needs from a server,
 * one line each. The id is stable (for `--json` consumers); the text is what a check prints.
 */
export const ConformanceRule = {
  health: "grpc.health.v1 Check answers SERVING (Kubernetes probes and deploy canaries rely on it)",
  "list-agents": "ListAgents answers within FlytePropeller's 3 s deadline and lists at least one agent",
  "list-agents.unique": "Each task category (name, version) is listed once, by one agent",
  "get-agent": "GetAgent agrees with ListAgents for every listed agent (task categories, is_sync)",
  "get-agent.unknown": "GetAgent for an unknown agent name answers NOT_FOUND",
  "unknown-category": "CreateTask, GetTask and DeleteTask for a task category nobody serves answer NOT_FOUND",
  "task.listed": "The task's category (type, version) is listed by ListAgents",
  "is-sync": "The agent answers on the path its is_sync names (ExecuteTaskSync if sync, CreateTask if async)",
  create: "CreateTask answers OK well within its 5 s deadline and returns a resource_meta",
  "create.repeat": "CreateTask is safe to repeat: the same request again answers OK and the job ends alike",
  phase: "Every Resource sets phase explicitly (an unset phase reads as a retryable failure)",
  "get.deadline": "GetTask answers well within its 5 s deadline",
  "get.terminal": "GetTask reaches a terminal phase",
  "get.idempotent":
    "GetTask is idempotent: asked twice, it gives the same answer and changes nothing under the output prefix",
  delete: "DeleteTask answers OK for a finished job, and again when repeated",
  "sync.header": "ExecuteTaskSync answers with a header carrying the Resource first",
  "sync.single": "ExecuteTaskSync answers with one message (FlytePropeller reads only the first)",
  "sync.terminal": "ExecuteTaskSync answers with a terminal phase (otherwise the task stays queued forever)",
  "sync.deadline": "ExecuteTaskSync answers well within its 10 s deadline",
  outputs:
    "SUCCEEDED comes with every declared output, inline or in {output_prefix}/outputs.pb (at most 2 MB), and no error.pb",
  "task.result": "The task succeeds with the given inputs",
  "response-size": "Every response stays under gRPC's 4 MiB limit, which FlytePropeller keeps",
  "cross-replica": "resource_meta written by one replica is read alike by another",
} as const;

/** The id of a conformance rule, e.g. `get.idempotent`. */
export type ConformanceRuleId = keyof typeof ConformanceRule;

/** FlytePropeller's default per-RPC deadlines for its default agent (ms). */
export const PropellerDeadlines = {
  ListAgents: 3_000,
  CreateTask: 5_000,
  GetTask: 5_000,
  DeleteTask: 5_000,
  ExecuteTaskSync: 10_000,
  GetAgent: 3_000,
} as const;
