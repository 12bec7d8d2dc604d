import { afterEach, describe, expect, it } from "vitest";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { z } from "zod";
import {
  AgentRegistry,
  AsyncAgentBase,
  TaskExecutionPhase,
  defineTask,
  type Resource,
} from "../../packages/runtime/src/index.js";
import {
  createManualClock,
  decodeErrorDocument,
  encodeErrorDocument,
  executeTask,
  mapResource,
  renderArg,
  type ExecutionEvent,
} from "../../src/executor/index.js";
import {
  State,
  type Resource as ProtoResource,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";

const Meta = z.object({ polls: z.number() });

/** Runs for `polls` GetTask calls (counted through a shared array, not resource_meta). */
class CountingAgent extends AsyncAgentBase<typeof Meta> {
  calls: string[] = [];
  constructor(private readonly runningPolls: number) {
    super({ taskTypeName: "counting", metadataSchema: Meta });
  }
  async create() {
    this.calls.push("create");
    return { polls: this.runningPolls };
  }
  async get(meta: { polls: number }): Promise<Resource> {
    this.calls.push("get");
    const gets = this.calls.filter((c) => c === "get").length;
    return gets <= meta.polls
      ? { phase: TaskExecutionPhase.RUNNING }
      : { phase: TaskExecutionPhase.SUCCEEDED, outputs: { total: gets } };
  }
  async delete() {
    this.calls.push("delete");
  }
}

const task = defineTask({ name: "t.counting", taskType: "counting", outputs: { total: z.int() } });

function proto(fields: Partial<ProtoResource>): ProtoResource {
  return {
    state: State.RETRYABLE_FAILURE,
    outputs: undefined,
    message: "",
    logLinks: [],
    phase: 0,
    customInfo: undefined,
    agentError: undefined,
    ...fields,
  };
}

const servers: AgentServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.shutdown(500)));
});

/** Serves a registry on a loopback port; the executor takes its address (it never starts servers). */
async function serve(registry: AgentRegistry): Promise<string> {
  const server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0 });
  servers.push(server);
  return server.address;
}

describe("executeTask", () => {
  it("polls on the injected clock, so a long-running task finishes without real waiting", async () => {
    const registry = new AgentRegistry();
    const agent = new CountingAgent(20);
    registry.register(agent);
    const clock = createManualClock();
    const events: ExecutionEvent[] = [];
    const result = await executeTask({
      task,
      endpoint: await serve(registry),
      clock,
      onEvent: (e) => events.push(e),
    });
    expect(result).toMatchObject({
      succeeded: true,
      phase: "SUCCEEDED",
      outputs: { total: 21 },
      attempts: 1,
    });
    // 20 waits, growing by half from 200 ms up to 2 s: over 30 s of simulated polling.
    expect(clock.slept).toHaveLength(20);
    expect(clock.slept[0]).toBe(200);
    expect(Math.max(...clock.slept)).toBe(2000);
    // Over 30 s on the clock; waited for real, it would run past the test timeout.
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeGreaterThan(30_000);
    expect(agent.calls.filter((c) => c === "delete")).toEqual([]);
    expect(events.filter((e) => e.type === "phase").map((e) => (e as { phase: string }).phase)).toEqual([
      "RUNNING",
      "SUCCEEDED",
    ]);
  });

  it("polls every resyncInterval with propeller timing", async () => {
    const registry = new AgentRegistry();
    registry.register(new CountingAgent(3));
    const clock = createManualClock();
    const result = await executeTask({ task, endpoint: await serve(registry), clock, propellerTiming: true });
    expect(result.succeeded).toBe(true);
    expect(clock.slept).toEqual([30_000, 30_000, 30_000]);
  });

  it("deletes the task when the signal aborts while it runs", async () => {
    const registry = new AgentRegistry();
    const agent = new CountingAgent(1_000_000);
    registry.register(agent);
    const controller = new AbortController();
    const clock = createManualClock();
    const result = await executeTask({
      task,
      endpoint: await serve(registry),
      clock,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "phase") controller.abort();
      },
    });
    expect(result).toMatchObject({ phase: "ABORTED", interrupted: "interrupted", succeeded: false });
    expect(agent.calls.at(-1)).toBe("delete");
  });
});

describe("mapResource", () => {
  it("follows FlytePropeller's status table", () => {
    expect(mapResource(proto({ phase: 1, message: "in line" }), "async")).toEqual({
      kind: "pending",
      phase: 1,
      reason: "in line",
    });
    expect(mapResource(proto({ phase: 2, message: "dropped" }), "async")).toEqual({
      kind: "running",
      phase: 2,
    });
    const failed = { phase: 5, message: "boom", agentError: { code: "Quota", kind: 0, origin: 0 } };
    expect(mapResource(proto(failed), "async")).toMatchObject({
      retryable: false,
      code: "TaskFailedWithError",
      message: "failed to run the job: boom",
    });
    expect(mapResource(proto(failed), "sync")).toMatchObject({ code: "Quota" });
    expect(mapResource(proto({ phase: 8 }), "async")).toMatchObject({ kind: "failed", retryable: true });
    expect(mapResource(proto({ phase: 4 }), "async")).toMatchObject({
      message: "failed to run the job with aborted phase.",
    });
    expect(mapResource(proto({ phase: 42 as never }), "async")).toMatchObject({
      kind: "status-error",
      message: "unknown execution phase [42].",
    });
  });

  it("falls back to the deprecated state when the phase is unset", () => {
    expect(mapResource(proto({ state: State.PENDING }), "async")).toMatchObject({
      kind: "pending",
      phase: 6,
    });
    expect(mapResource(proto({ state: State.RUNNING }), "async")).toMatchObject({ kind: "running" });
    expect(mapResource(proto({ state: State.SUCCEEDED }), "async")).toMatchObject({ kind: "succeeded" });
    expect(mapResource(proto({ state: State.PERMANENT_FAILURE }), "async")).toMatchObject({
      retryable: false,
    });
    expect(mapResource(proto({}), "async")).toMatchObject({ kind: "failed", retryable: true, phase: 8 });
  });
});

describe("helpers", () => {
  it("round-trips an ErrorDocument", () => {
    const bytes = encodeErrorDocument({ code: "Oom", message: "out of memory", kind: "RECOVERABLE" });
    expect(decodeErrorDocument(bytes)).toEqual({
      code: "Oom",
      message: "out of memory",
      kind: "RECOVERABLE",
      origin: "UNKNOWN",
    });
    expect(decodeErrorDocument(encodeErrorDocument({ code: "", message: "m", origin: "SYSTEM" }))).toEqual({
      code: "",
      message: "m",
      kind: "NON_RECOVERABLE",
      origin: "SYSTEM",
    });
  });

  it("renders container args like propeller", () => {
    const vars = {
      inputPrefix: "/r/in",
      inputPath: "/r/in/inputs.pb",
      outputPrefix: "/r/out",
      rawOutputDataPrefix: "/r/out/raw",
      perRetryUniqueKey: "k",
      taskTemplatePath: "/r/task.pb",
      checkpointOutputPrefix: "/r/out/cp",
      prevCheckpointPrefix: "",
      namespace: "p-d",
      inputs: { literals: { n: { scalar: { primitive: { integer: 5n } } } } } as never,
    };
    expect(renderArg("--in={{.input}} --out {{ .outputPrefix }} {{.Inputs.n}} {{.namespace}}", vars)).toBe(
      "--in=/r/in/inputs.pb --out /r/out 5 p-d",
    );
  });
});
