// flyte-agent/testing: test an agent alone, against the executor loop, or behind the real server.
export {
  createAgentContext,
  createTaskRequest,
  type AgentContextOptions,
  type TaskRequestOptions,
} from "./task-request.js";
export {
  runAsyncTask,
  runSyncTask,
  startAsyncTask,
  type AsyncTaskRun,
  type MetaOf,
  type PollOptions,
  type TaskResult,
} from "./task-run.js";
export { createManualClock, type ManualClock } from "./manual-clock.js";
export { startTestServer, type TestServer, type TestServerOptions } from "./test-server.js";
export { runThroughExecutor, type RunThroughExecutorOptions } from "./run-through-executor.js";
