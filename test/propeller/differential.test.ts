// One table of FlytePropeller 1.16.8 behaviours. Each row cites the Propeller source line it encodes
// (flyteorg/flyte at tag v1.16.8; A/ = flyteplugins/go/tasks/plugins/webapi/agent/, W/ =
// flyteplugins/go/tasks/pluginmachinery/internal/webapi/, H = flytepropeller/pkg/controller/nodes/
// task/handler.go, NE = flytepropeller/pkg/controller/nodes/executor.go, WE =
// flytepropeller/pkg/controller/workflow/executor.go), makes a bare grpc-js server give the edge-case
// answer, and runs it through the executor AND conformance. Time runs on an injected clock.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { checkConformance, type ConformanceReport } from "../../src/conformance/index.js";
import { createManualClock, type ManualClock } from "../../packages/runtime/src/core/clock.js";
import { TaskExecutionPhase } from "../../packages/runtime/src/core/phase.js";
import {
  executeTask,
  type ExecuteTaskOptions,
  type ExecutionEvent,
  type ExecutionResult,
  encodeErrorDocument,
} from "../../src/executor/index.js";
import { Agent, type Resource, State } from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import { TaskLog } from "../../packages/runtime/src/gen/flyteidl/core/execution.js";
import { LiteralMap } from "../../packages/runtime/src/gen/flyteidl/core/literals.js";
import { parsePropellerConfig } from "../../packages/runtime/src/propeller/config.js";
import { defineTask } from "../../packages/runtime/src/task/define-task.js";
import { type RawAgentServer, type RawScript, startRawAgentServer } from "./raw-agent-server.js";

const asyncTask = defineTask({ name: "diff.async", taskType: "diff_async", outputs: { n: z.int() } });
const syncTask = defineTask({ name: "diff.sync", taskType: "diff_sync", outputs: { n: z.int() } });

const agentFor = (name: string, isSync = false, versions: readonly number[] = [0]) =>
  Agent.fromPartial({
    name: `${name}-agent`,
    isSync,
    supportedTaskCategories: versions.map((version) => ({ name, version })),
  });
const ASYNC = [agentFor("diff_async")];
const SYNC = [agentFor("diff_sync", true)];

const res = (phase: number, extra: Partial<Resource> = {}): Resource => ({
  state: State.RETRYABLE_FAILURE,
  outputs: undefined,
  message: "",
  logLinks: [],
  phase,
  customInfo: undefined,
  agentError: undefined,
  ...extra,
});
const OUT = LiteralMap.fromPartial({ literals: { n: { scalar: { primitive: { integer: 7n } } } } });
const done = () => res(TaskExecutionPhase.SUCCEEDED, { outputs: OUT });
const running = (extra: Partial<Resource> = {}) => res(TaskExecutionPhase.RUNNING, extra);
const header = (resource: Resource | undefined) => ({ header: { resource }, outputs: undefined });
const unavailable = { error: status.UNAVAILABLE, details: "agent restarting" };

interface ExecRun {
  readonly result: ExecutionResult;
  readonly events: readonly ExecutionEvent[];
  readonly server: RawAgentServer;
  readonly clock: ManualClock;
  readonly rules: readonly string[];
}

interface Row {
  /** The behaviour, as the test name. */
  readonly name: string;
  /** The Propeller source lines it encodes. */
  readonly cite: string;
  readonly task?: Parameters<typeof executeTask>[0]["task"];
  readonly script: (clock: ManualClock) => RawScript;
  readonly executor?: Partial<ExecuteTaskOptions> | ((clock: ManualClock) => Partial<ExecuteTaskOptions>);
  /** Aborts the run once this event is seen. */
  readonly abortOn?: (e: ExecutionEvent) => boolean;
  readonly expectExecutor: (run: ExecRun) => void;
  readonly expectConformance: (report: ConformanceReport, server: RawAgentServer) => void;
}

const statusOf = (r: ConformanceReport, id: string) => r.checks.find((c) => c.id === id)?.status;
const evidenceOf = (r: ConformanceReport, id: string) => r.checks.find((c) => c.id === id)?.evidence ?? "";

const rows: Row[] = [
  // --- ExecuteTaskSync: one Recv, then the stream is cancelled --------------------------------
  {
    name: "sync: zero messages are a failed create, retryable",
    cite: "A/plugin.go:228-230 (Recv returns EOF), W/launcher.go:16-19",
    task: syncTask,
    script: () => ({ agents: SYNC, sync: () => ({ messages: [], then: "end" }) }),
    expectExecutor: ({ result }) =>
      expect(result).toMatchObject({
        phase: "RETRYABLE_FAILED",
        code: "TaskFailedWithError",
        message: "failed to receive stream from server EOF",
      }),
    expectConformance: (r) => {
      expect(statusOf(r, "sync.header")).toBe("fail");
      expect(evidenceOf(r, "sync.header")).toMatch(/without a message.*retryable/);
    },
  },
  {
    name: "sync: a first message without a header is 'expected header', retryable",
    cite: "A/plugin.go:232-234",
    task: syncTask,
    script: () => ({
      agents: SYNC,
      sync: () => ({ messages: [{ header: undefined, outputs: OUT }], then: "end" }),
    }),
    expectExecutor: ({ result }) =>
      expect(result).toMatchObject({
        phase: "RETRYABLE_FAILED",
        code: "TaskFailedWithError",
        message: "expected header in the response, but got none",
      }),
    expectConformance: (r) => expect(evidenceOf(r, "sync.header")).toMatch(/expected header in the response/),
  },
  {
    name: "sync: a header without a resource is an empty Resource, a retryable failure",
    cite: "A/plugin.go:237-246, 351-352",
    task: syncTask,
    script: () => ({ agents: SYNC, sync: () => ({ messages: [header(undefined)], then: "end" }) }),
    expectExecutor: ({ result }) =>
      expect(result).toMatchObject({ phase: "RETRYABLE_FAILED", message: "failed to run the job.\n" }),
    expectConformance: (r) => {
      expect(statusOf(r, "sync.header")).toBe("fail");
      expect(evidenceOf(r, "sync.header")).toMatch(/header carries no resource/);
    },
  },
  {
    name: "sync: the deprecated state is never read; phase unset with state SUCCEEDED still fails retryably",
    cite: "A/plugin.go:239-246 (the sync ResourceWrapper has no State)",
    task: syncTask,
    script: () => ({
      agents: SYNC,
      sync: () => ({ messages: [header(res(0, { state: State.SUCCEEDED, outputs: OUT }))], then: "end" }),
    }),
    expectExecutor: ({ result, rules }) => {
      expect(result).toMatchObject({ phase: "RETRYABLE_FAILED", code: "TaskFailedWithError" });
      expect(rules).toContain("phase-unset");
    },
    expectConformance: (r) => {
      expect(statusOf(r, "phase")).toBe("fail");
      expect(evidenceOf(r, "phase")).toMatch(/never reads on the sync path.*a retryable failure/);
    },
  },
  {
    name: "sync: a header then a stream that stays open succeeds (one message read, then cancelled)",
    cite: "A/plugin.go:228-247 (one Recv; the deferred cancel ends the stream)",
    task: syncTask,
    script: () => ({ agents: SYNC, sync: () => ({ messages: [header(done())], then: "open" }) }),
    expectExecutor: ({ result }) => expect(result).toMatchObject({ succeeded: true, outputs: { n: 7 } }),
    expectConformance: (r) => {
      expect(statusOf(r, "sync.header")).toBe("pass");
      expect(statusOf(r, "sync.deadline")).toBe("pass");
      expect(statusOf(r, "outputs")).toBe("pass");
    },
  },
  {
    name: "sync: a header then an error status succeeds",
    cite: "A/plugin.go:228-247",
    task: syncTask,
    script: () => ({ agents: SYNC, sync: () => ({ messages: [header(done())], then: "error" }) }),
    expectExecutor: ({ result }) => expect(result.succeeded).toBe(true),
    expectConformance: (r) => expect(statusOf(r, "task.result")).toBe("pass"),
  },
  {
    name: "sync: a non-terminal answer says what it does to a real Propeller",
    cite: "W/launcher.go:24-48, W/monitor.go:33-42, A/plugin.go:250, flytestdlib/cache/in_memory_auto_refresh.go:166-174,312-327",
    task: syncTask,
    script: () => ({ agents: SYNC, sync: () => ({ messages: [header(running())], then: "end" }) }),
    expectExecutor: ({ result, rules }) => {
      expect(result).toMatchObject({ phase: "FAILED", code: "SyncNonTerminal" });
      expect(result.message).toMatch(
        /stays Queued \("job submitted"\) forever.*cache workers panics.*polls no agent task/,
      );
      expect(rules).toContain("sync-non-terminal");
    },
    expectConformance: (r) => expect(statusOf(r, "sync.terminal")).toBe("fail"),
  },
  {
    name: "sync: agent_error.code is the failure code of FAILED and ABORTED",
    cite: "A/plugin.go:310-313, 331-336",
    task: syncTask,
    script: () => ({
      agents: SYNC,
      sync: () => ({
        messages: [
          header(res(TaskExecutionPhase.ABORTED, { agentError: { code: "Cancelled", kind: 0, origin: 0 } })),
        ],
        then: "end",
      }),
    }),
    expectExecutor: ({ result }) =>
      expect(result).toMatchObject({
        phase: "ABORTED",
        code: "Cancelled",
        message: "failed to run the job with aborted phase.",
      }),
    expectConformance: (r) =>
      expect(evidenceOf(r, "task.result")).toBe("ABORTED: failed to run the job with aborted phase."),
  },
  // --- Async status mapping ----------------------------------------------------------------------
  {
    name: "async: agent_error is dropped on GetTask; the code is TaskFailedWithError",
    cite: "A/plugin.go:271-278",
    script: () => ({
      agents: ASYNC,
      get: () =>
        res(TaskExecutionPhase.FAILED, {
          message: "quota",
          agentError: { code: "Quota", kind: 0, origin: 0 },
        }),
    }),
    expectExecutor: ({ result, rules }) => {
      expect(result).toMatchObject({
        phase: "FAILED",
        code: "TaskFailedWithError",
        message: "failed to run the job: quota",
      });
      expect(rules).toContain("async-agent-error-dropped");
    },
    expectConformance: (r) =>
      expect(evidenceOf(r, "task.result")).toBe("FAILED: failed to run the job: quota"),
  },
  {
    name: "async: the state fallback says 'failed to run the job.\\n' with TaskFailedWithError",
    cite: "A/plugin.go:343-352",
    script: () => ({ agents: ASYNC, get: () => res(0, { state: State.PERMANENT_FAILURE, message: "bad" }) }),
    expectExecutor: ({ result }) =>
      expect(result).toMatchObject({
        phase: "FAILED",
        code: "TaskFailedWithError",
        message: "failed to run the job.\nbad",
      }),
    expectConformance: (r) => expect(statusOf(r, "phase")).toBe("fail"),
  },
  {
    name: "async: an unknown state fails every round; after max-workflow-retries the task is aborted",
    cite: "A/plugin.go:361, WE:478-517, controller/config/config.go:65",
    script: () => ({ agents: ASYNC, get: () => res(0, { state: 9 as State }) }),
    expectExecutor: ({ result, server }) => {
      expect(result).toMatchObject({ phase: "FAILED", code: "Workflow abort failed" });
      expect(result.message).toMatch(
        /^max number of system retry attempts \[11\/10\] exhausted\. Last known status message: unknown execution state \[9\]\.$/,
      );
      expect(server.count("GetTask")).toBe(11);
      expect(server.count("DeleteTask")).toBe(1);
    },
    expectConformance: (r) => expect(statusOf(r, "get.terminal")).toBe("fail"),
  },
  {
    name: "async: an unknown phase is retried as a failing round, not failed at once",
    cite: "A/plugin.go:340, WE:478-517",
    script: () => ({
      agents: ASYNC,
      get: (_req, n) => (n <= 2 ? res(42) : done()),
    }),
    expectExecutor: ({ result, events }) => {
      expect(result.succeeded).toBe(true);
      expect(events.filter((e) => e.type === "phase" && e.phase === "UNDEFINED")).toHaveLength(2);
    },
    expectConformance: (r) => expect(statusOf(r, "get.terminal")).toBe("pass"),
  },
  {
    name: "async: no event while the phase stays the same (log links show at the next phase change)",
    cite: "H:565-570",
    script: () => ({
      agents: ASYNC,
      get: (_req, n) =>
        n < 4 ? running({ logLinks: [TaskLog.fromPartial({ name: "log", uri: `u${n}` })] }) : done(),
    }),
    // --verbose (midPhaseEvents) shows the updates, marked as not visible on a cluster.
    executor: { midPhaseEvents: true },
    expectExecutor: ({ events }) => {
      const info = events.filter((e) => e.type === "info");
      expect(info).toHaveLength(2);
      expect(info.every((e) => e.visibleOnCluster === false)).toBe(true);
      expect(events.filter((e) => e.type === "phase").map((e) => (e as { phase: string }).phase)).toEqual([
        "RUNNING",
        "SUCCEEDED",
      ]);
    },
    expectConformance: (r) => expect(r.ok).toBe(true),
  },
  // --- CreateTask ----------------------------------------------------------------------------------
  {
    name: "create: any error is a retryable TaskFailedWithError, worded as Propeller's",
    cite: "A/plugin.go:178, W/launcher.go:16-19",
    script: () => ({ agents: ASYNC, create: () => unavailable }),
    expectExecutor: ({ result, server }) => {
      expect(result).toMatchObject({
        phase: "RETRYABLE_FAILED",
        code: "TaskFailedWithError",
        message:
          "failed to create task from agent with rpc error: code = Unavailable desc = agent restarting",
      });
      expect(server.count("DeleteTask")).toBe(0);
    },
    expectConformance: (r) => expect(statusOf(r, "create")).toBe("fail"),
  },
  {
    name: "create: a template placeholder Propeller cannot render fails the create (retryable) without calling the agent",
    cite: "A/plugin.go:121-124, pluginmachinery/core/template/template.go:146-154",
    task: defineTask({
      name: "diff.render",
      taskType: "diff_async",
      outputs: { n: z.int() },
      container: { image: "x", args: ["{{$input}}", "{{ .inputs.missing }}"] },
    }),
    script: () => ({ agents: ASYNC }),
    expectExecutor: ({ result, server }) => {
      expect(result).toMatchObject({ phase: "RETRYABLE_FAILED", code: "TaskFailedWithError" });
      expect(result.message).toBe(
        "failed to render args with error: 0: input template [{{ .inputs.missing }}]: requested input is not found [missing]\r\n",
      );
      expect(server.count("CreateTask")).toBe(0);
    },
    expectConformance: (r, server) => {
      expect(evidenceOf(r, "create")).toMatch(/cannot render the task's args/);
      expect(server.count("CreateTask")).toBe(1); // only the unknown-category probe
    },
  },
  {
    name: "create: task execution metadata as 1.16 fills it",
    cite: "A/plugin.go:433-445, nodes/node_exec_context.go:216-226, compiler/transformers/k8s/workflow.go:236-245",
    script: () => ({ agents: ASYNC, get: () => done() }),
    expectExecutor: ({ server }) => {
      const req = server.calls.find((c) => c.op === "CreateTask")!.request as {
        taskExecutionMetadata: {
          labels: Record<string, string>;
          maxAttempts: number;
          interruptible: boolean;
        };
      };
      expect(req.taskExecutionMetadata.maxAttempts).toBe(0);
      expect(req.taskExecutionMetadata.interruptible).toBe(false);
      expect(Object.keys(req.taskExecutionMetadata.labels).sort()).toEqual(
        [
          "domain",
          "execution-id",
          "interruptible",
          "node-id",
          "project",
          "shard-key",
          "task-name",
          "workflow-name",
        ].sort(),
      );
      expect(req.taskExecutionMetadata.labels["task-name"]).toBe("diff-async");
    },
    expectConformance: (r, server) => {
      expect(r.ok).toBe(true);
      // Answer times are judged by agent-service's 3 s defaultTimeout (agent/config.go:45).
      expect(evidenceOf(r, "create")).toMatch(/\(deadline 3 s\)/);
      expect(evidenceOf(r, "get.deadline")).toMatch(/\(deadline 3 s\)/);
      const req = server.calls.filter((c) => c.op === "CreateTask").at(-1)!.request as {
        taskExecutionMetadata: { maxAttempts: number };
      };
      expect(req.taskExecutionMetadata.maxAttempts).toBe(0);
    },
  },
  // --- GetTask failure budget --------------------------------------------------------------------
  {
    name: "get: 7 errors in 16 calls (alternating) spend the budget: it is never reset by a success",
    cite: "W/cache.go:99-128, W/monitor.go:45-72",
    script: () => ({
      agents: ASYNC,
      get: (_req, n) => (n % 2 === 1 && n <= 13 ? unavailable : n >= 16 ? done() : running()),
    }),
    expectExecutor: ({ result, rules, server }) => {
      expect(result).toMatchObject({ phase: "FAILED", code: "AutoRefreshCacheFailed" });
      expect(rules).toContain("get-failure-budget");
      expect(server.count("GetTask")).toBe(11);
    },
    expectConformance: (r) => {
      expect(r.ok).toBe(false);
      expect(statusOf(r, "get.terminal")).toBe("fail");
      expect(evidenceOf(r, "get.terminal")).toMatch(
        /GetTask failed 6 times .*never resets.*hangs in RUNNING/,
      );
    },
  },
  {
    name: "get: six errors before any Resource fail the attempt with the last error",
    cite: "W/monitor.go:33-40, A/plugin.go:268",
    script: () => ({ agents: ASYNC, get: () => unavailable }),
    expectExecutor: ({ result, server }) => {
      expect(result).toMatchObject({
        phase: "FAILED",
        code: "AutoRefreshCacheFailed",
        message: "failed to get task from agent with rpc error: code = Unavailable desc = agent restarting",
      });
      expect(server.count("GetTask")).toBe(6);
    },
    expectConformance: (r) => {
      expect(statusOf(r, "get.deadline")).toBe("skip");
      expect(evidenceOf(r, "get.terminal")).toMatch(
        /failed 6 times before any answer.*AutoRefreshCacheFailed/,
      );
    },
  },
  {
    name: "get: the budget is per attempt (a new attempt is a new cache item)",
    cite: "W/cache.go:99-128, NE:1340-1358",
    script: () => ({
      agents: ASYNC,
      get: (req, n) =>
        req.resourceMeta.toString() === "job-1"
          ? n <= 4
            ? unavailable
            : res(TaskExecutionPhase.RETRYABLE_FAILED)
          : n <= 4
            ? unavailable
            : done(),
    }),
    executor: { retries: 1 },
    expectExecutor: ({ result }) => expect(result).toMatchObject({ succeeded: true, attempts: 2 }),
    expectConformance: (r) =>
      expect(evidenceOf(r, "get.terminal")).toMatch(/4 error\(s\), within FlytePropeller's budget of 6/),
  },
  {
    name: "get: without --propeller-timing a 20 s agent restart is survived, as on a cluster",
    cite: "W/cache.go:99 (6 errors), flyteplugins/.../webapi/agent/config.go:28 (30 s resync)",
    script: (clock) => {
      let createdAt = 0;
      return {
        agents: ASYNC,
        create: (_req, n) => {
          createdAt = clock.now();
          return { resourceMeta: Buffer.from(`job-${n}`) };
        },
        get: () => (clock.now() - createdAt < 20_000 ? unavailable : done()),
      };
    },
    expectExecutor: ({ result, events }) => {
      expect(result.succeeded).toBe(true);
      expect(
        events.filter((e) => e.type === "get-error").map((e) => (e as { retryInMs: number }).retryInMs),
      ).toEqual([1000, 2000, 4000, 8000, 16_000]);
    },
    expectConformance: (r) => expect(statusOf(r, "get.terminal")).toBe("pass"),
  },
  // --- Task timeout, abort ---------------------------------------------------------------------
  {
    name: "timeout: per attempt (DeleteTask, retryable TimeoutExpired), then the 2x active deadline (TimedOut)",
    cite: "NE:862-881, NE:1340-1345, compiler/transformers/k8s/node.go:78-82",
    script: () => ({ agents: ASYNC, get: () => running() }),
    executor: { timeoutMs: 60_000, retries: 3 },
    expectExecutor: ({ result, events, server }) => {
      const failed = events.filter((e) => e.type === "attempt-failed") as {
        code: string;
        willRetry: boolean;
      }[];
      expect(failed.map((e) => [e.code, e.willRetry])).toEqual([
        ["TimeoutExpired", true],
        ["TimedOut", false],
      ]);
      expect(result).toMatchObject({
        phase: "FAILED",
        code: "TimedOut",
        message: "task active timeout [2m0s] expired",
        attempts: 2,
      });
      expect(server.count("DeleteTask")).toBe(2);
      expect(server.count("CreateTask")).toBe(2);
    },
    expectConformance: (r) => expect(evidenceOf(r, "get.terminal")).toMatch(/^still RUNNING after/),
  },
  {
    name: "abort: a failing DeleteTask ends the run FAILED 'Workflow abort failed', not ABORTED",
    cite: "W/core.go:109-114, NE:902-910, WE:478-517",
    script: () => ({
      agents: ASYNC,
      get: (_req, n) => (n < 3 ? running() : done()),
      delete: () => ({ error: status.NOT_FOUND, details: "no such job" }),
    }),
    abortOn: (e) => e.type === "phase",
    expectExecutor: ({ result }) => {
      expect(result).toMatchObject({
        phase: "FAILED",
        code: "Workflow abort failed",
        interrupted: "interrupted",
      });
      expect(result.message).toMatch(
        /^failed to delete task from agent with rpc error: code = NotFound desc = no such job/,
      );
    },
    expectConformance: (r) => {
      expect(statusOf(r, "delete")).toBe("fail");
      expect(evidenceOf(r, "delete")).toMatch(/Workflow abort failed/);
    },
  },
  // --- Routing ------------------------------------------------------------------------------------
  {
    name: "routing: one version per task type name survives (the last listed); other versions go to the default agent, async",
    cite: "A/client.go:131-146",
    script: () => ({
      agents: [agentFor("diff_async", true, [0, 1])],
      get: () => done(),
    }),
    expectExecutor: ({ result, events, rules, server }) => {
      expect(events[0]).toMatchObject({ type: "started", via: "default", sync: false });
      expect(rules).toContain("one-version-per-task-type");
      expect(server.count("CreateTask")).toBe(1);
      expect(result.succeeded).toBe(true);
    },
    expectConformance: (r) => {
      expect(statusOf(r, "list-agents.unique")).toBe("fail");
      expect(statusOf(r, "task.listed")).toBe("fail");
    },
  },
  {
    name: "routing: a task type no deployment lists never reaches the agent plugin",
    cite: "flytepropeller/pkg/controller/nodes/task/handler.go:384-425, A/plugin.go:452-456",
    script: () => ({ agents: [agentFor("something_else")] }),
    expectExecutor: () => {
      throw new Error("executeTask should have rejected");
    },
    expectConformance: (r) => {
      expect(statusOf(r, "task.listed")).toBe("fail");
      expect(evidenceOf(r, "task.listed")).toMatch(
        /would not send task type diff_async to the agent-service plugin at all/,
      );
    },
  },
  {
    name: "GetAgent is never called by Propeller: an UNKNOWN answer for an unknown agent passes with a warning",
    cite: "A/ (no GetAgent call anywhere in the plugin)",
    script: () => ({
      agents: ASYNC,
      getAgent: (name) =>
        name === "diff_async-agent" ? ASYNC[0]! : { error: status.UNKNOWN, details: "boom" },
      get: () => done(),
    }),
    expectExecutor: ({ result, server }) => {
      expect(result.succeeded).toBe(true);
      expect(server.count("GetAgent")).toBe(0);
    },
    expectConformance: (r) => {
      expect(r.ok).toBe(true);
      expect(statusOf(r, "get-agent.unknown")).toBe("warn");
    },
  },
  // --- Outputs -------------------------------------------------------------------------------------
  {
    name: "outputs: the content of a file-based outputs.pb is not read at task end (warned, not failed)",
    cite: "H:885-925 (existence and size only)",
    script: () => ({
      agents: ASYNC,
      get: (req) => {
        writeFileSync(join(req.outputPrefix, "outputs.pb"), Buffer.from([0xff, 0xff, 0xff]));
        return res(TaskExecutionPhase.SUCCEEDED);
      },
    }),
    expectExecutor: ({ result, rules }) => {
      expect(result.succeeded).toBe(true);
      expect(rules).toContain("outputs-unreadable");
    },
    expectConformance: (r) => expect(statusOf(r, "outputs")).toBe("warn"),
  },
  {
    name: "outputs: literals are not checked against the interface (a warning; --strict fails)",
    cite: "A/plugin.go:423-425, H:915-923",
    script: () => ({
      agents: ASYNC,
      get: () =>
        res(TaskExecutionPhase.SUCCEEDED, {
          outputs: LiteralMap.fromPartial({
            literals: { n: { scalar: { primitive: { stringValue: "x" } } } },
          }),
        }),
    }),
    executor: { strict: true },
    expectExecutor: ({ result, rules }) => {
      // Without --strict the run succeeds with the warning; --strict turns it into a failure.
      expect(rules).toContain("outputs-mismatch");
      expect(result).toMatchObject({ phase: "FAILED", code: "ContractWarning" });
      expect(result.message).toMatch(/outputs-mismatch/);
    },
    expectConformance: (r) => {
      expect(statusOf(r, "outputs")).toBe("warn");
      expect(r.ok).toBe(true);
    },
  },
  {
    name: "outputs: error.pb's code is taken verbatim, RECOVERABLE is retryable, origin SYSTEM spends the system-retry budget",
    cite: "ioutils/remote_file_output_reader.go:114-135, H:869-883, NE:830-849",
    script: () => ({
      agents: ASYNC,
      get: (req, _n) => {
        writeFileSync(
          join(req.outputPrefix, "error.pb"),
          encodeErrorDocument({ code: "", message: "node lost", kind: "RECOVERABLE", origin: "SYSTEM" }),
        );
        return res(TaskExecutionPhase.SUCCEEDED);
      },
    }),
    executor: { retries: 0 },
    expectExecutor: ({ result, events }) => {
      expect(result).toMatchObject({
        phase: "RETRYABLE_FAILED",
        code: "",
        message: "node lost",
        attempts: 4,
      });
      expect(events.filter((e) => e.type === "attempt-failed" && e.willRetry)).toHaveLength(3);
    },
    expectConformance: (r) => expect(evidenceOf(r, "outputs")).toMatch(/error\.pb exists/),
  },
  {
    name: "outputs: the outputs.pb size limit is storage.limits.maxDownloadMBs from the config",
    cite: "H:889-913, ioutils/remote_file_output_reader.go:84-90,315-323, flytestdlib/storage/config.go:36",
    script: () => ({
      agents: ASYNC,
      get: (req) => {
        writeFileSync(join(req.outputPrefix, "outputs.pb"), Buffer.alloc(1_500_000));
        return res(TaskExecutionPhase.SUCCEEDED);
      },
    }),
    executor: {},
    expectExecutor: ({ result }) =>
      expect(result).toMatchObject({ phase: "FAILED", code: "OutputSizeExceeded" }),
    expectConformance: (r) =>
      expect(evidenceOf(r, "outputs")).toMatch(/refuses more than 1 MB \(OutputSizeExceeded/),
  },
];

/** Rows whose config comes from a ConfigMap (here: maxDownloadMBs 1). */
const configFor = (row: Row, address: string) =>
  row.name.includes("maxDownloadMBs")
    ? parsePropellerConfig(
        `plugins: { agent-service: { defaultAgent: { endpoint: "${address}" } } }\nstorage: { limits: { maxDownloadMBs: 1 } }`,
      )
    : undefined;

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "differential-"));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  const { rm } = await import("node:fs/promises");
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("FlytePropeller 1.16.8, row by row, through the executor and conformance", () => {
  for (const row of rows) {
    it(`${row.name} [${row.cite}]`, async () => {
      const task = row.task ?? asyncTask;
      // The executor.
      {
        const clock = createManualClock(0);
        const server = await startRawAgentServer(row.script(clock));
        const config = configFor(row, server.address);
        try {
          const events: ExecutionEvent[] = [];
          const controller = new AbortController();
          const extra = typeof row.executor === "function" ? row.executor(clock) : (row.executor ?? {});
          const run = executeTask({
            task,
            ...(config ? { config } : { endpoint: server.address }),
            clock,
            outputDir: tempDir(),
            signal: controller.signal,
            onEvent: (e) => {
              events.push(e);
              if (row.abortOn?.(e)) controller.abort();
            },
            ...extra,
          });
          if (row.name.startsWith("routing: a task type no deployment")) {
            await expect(run).rejects.toThrow(
              /would not send task type diff_async to the agent-service plugin at all/,
            );
          } else {
            const result = await run;
            row.expectExecutor({
              result,
              events,
              server,
              clock,
              rules: events.filter((e) => e.type === "warning").map((e) => (e as { rule: string }).rule),
            });
          }
        } finally {
          await server.close();
        }
      }
      // Conformance, against a fresh server with the same script.
      {
        const clock = createManualClock(0);
        const server = await startRawAgentServer(row.script(clock));
        try {
          const config = configFor(row, server.address);
          const report = await checkConformance({
            endpoint: server.address,
            task,
            clock,
            pollIntervalMs: 10_000,
            taskTimeoutMs: 200_000,
            outputPrefix: tempDir(),
            ...(config ? { config } : {}),
          });
          row.expectConformance(report, server);
        } finally {
          await server.close();
        }
      }
    });
  }
});

describe("conformance's cross-replica check reads answers as FlytePropeller reads them", () => {
  it("ignores the deprecated state when phase is set, and agent_error, which GetTask drops [A/plugin.go:271-278, 343]", async () => {
    const answer = (state: State, code: string) => () =>
      res(TaskExecutionPhase.SUCCEEDED, { outputs: OUT, state, agentError: { code, kind: 0, origin: 0 } });
    const a = await startRawAgentServer({ agents: ASYNC, get: answer(State.SUCCEEDED, "a") });
    const b = await startRawAgentServer({ agents: ASYNC, get: answer(State.RUNNING, "b") });
    const c = await startRawAgentServer({
      agents: ASYNC,
      get: () => res(TaskExecutionPhase.SUCCEEDED, { outputs: OUT, message: "other" }),
    });
    try {
      const report = await checkConformance({
        endpoint: [a.address, b.address, c.address],
        task: asyncTask,
        clock: createManualClock(0),
        outputPrefix: tempDir(),
      });
      expect(statusOf(report, "cross-replica")).toBe("fail");
      expect(evidenceOf(report, "cross-replica")).toBe(
        `${c.address} answers differently in resource.message`,
      );
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
