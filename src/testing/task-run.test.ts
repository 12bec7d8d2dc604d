import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AsyncAgentBase, SyncAgentBase } from "@flyte-agent/runtime/internal/core/agent.js";
import type { AgentContext, Connection, TaskRequest } from "@flyte-agent/runtime/internal/core/context.js";
import { TaskExecutionPhase } from "@flyte-agent/runtime/internal/core/phase.js";
import type { Resource } from "@flyte-agent/runtime/internal/core/resource.js";
import { defineTask } from "@flyte-agent/runtime/internal/task/define-task.js";
import { createManualClock } from "./manual-clock.js";
import { createAgentContext, createTaskRequest } from "./task-request.js";
import { runAsyncTask, runSyncTask, startAsyncTask } from "./task-run.js";

const countTask = defineTask({
  name: "tests.count",
  taskType: "counter",
  inputs: { word: z.string(), times: z.int().default(2), at: z.date().optional() },
  outputs: { text: z.string(), length: z.int() },
  config: { delayMs: 1000 },
});

const Meta = z.object({ text: z.string(), ready_at: z.number() });

class CounterAgent extends AsyncAgentBase<typeof Meta> {
  readonly seen: unknown[] = [];
  readonly deleted: unknown[] = [];
  constructor(private readonly now: () => number) {
    super({ taskTypeName: "counter", metadataSchema: Meta, outputs: countTask.outputs });
  }
  async create(req: TaskRequest) {
    this.seen.push(req);
    const { word, times } = req.inputs as { word: string; times: number };
    const delay = (req.taskTemplate.custom as { delayMs: number }).delayMs;
    return { text: word.repeat(times), ready_at: this.now() + delay };
  }
  async get(meta: z.output<typeof Meta>): Promise<Resource> {
    if (this.now() < meta.ready_at) return { phase: TaskExecutionPhase.RUNNING, message: "counting" };
    return {
      phase: TaskExecutionPhase.SUCCEEDED,
      outputs: { text: meta.text, length: meta.text.length },
      logLinks: [{ name: "Job", uri: `https://jobs.example/${meta.text}` }],
    };
  }
  async delete(meta: z.output<typeof Meta>, _ctx: AgentContext) {
    this.deleted.push(meta);
  }
}

class EchoAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "counter" });
  }
  async do(req: TaskRequest): Promise<Resource> {
    const { word } = req.inputs as { word: string };
    if (word === "") return { phase: TaskExecutionPhase.FAILED, message: "empty word" };
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { text: word, length: word.length } };
  }
}

describe("createTaskRequest", () => {
  it("hands the agent inputs decoded as the server would, with defaults filled in", () => {
    const at = new Date("2024-05-01T00:00:00Z");
    const req = createTaskRequest(countTask, { word: "ab", at }, { outputPrefix: "file:///tmp/out" });
    expect(req.inputs).toEqual({ word: "ab", times: 2, at });
    expect(req.taskTemplate.type).toBe("counter");
    expect(req.taskTemplate.custom).toEqual({ delayMs: 1000 });
    expect(req.outputPrefix).toBe("file:///tmp/out");
    expect(req.inputLiterals?.literals.word?.scalar?.primitive?.stringValue).toBe("ab");
    expect(req.signal.aborted).toBe(false);
  });

  it("rejects inputs that do not fit the task", () => {
    expect(() => createTaskRequest(countTask, { word: 3 as unknown as string })).toThrow(/word/);
  });
});

describe("startAsyncTask", () => {
  it("steps a job through its phases as the clock moves, without waiting", async () => {
    const clock = createManualClock();
    const agent = new CounterAgent(clock.now);
    const run = await startAsyncTask(agent, countTask, { word: "ho", times: 3 });
    expect(run.meta).toEqual({ text: "hohoho", ready_at: clock.now() + 1000 });
    expect(Buffer.from(run.resourceMeta).toString()).toBe(
      `{"text": "hohoho", "ready_at": ${clock.now() + 1000}}`,
    );

    const first = await run.poll();
    expect(first).toMatchObject({
      phaseName: "RUNNING",
      done: false,
      message: "counting",
      outputs: undefined,
    });
    clock.advance(1000);
    const second = await run.poll();
    expect(second.succeeded).toBe(true);
    expect(second.outputs).toEqual({ text: "hohoho", length: 6 });
    expect(second.outputLiterals?.literals.length?.scalar?.primitive?.integer).toBe(6n);
    expect(second.logLinks[0]?.uri).toBe("https://jobs.example/hohoho");
    expect(run.polls).toBe(2);

    await run.delete();
    expect(agent.deleted).toEqual([{ text: "hohoho", ready_at: clock.now() }]);
  });

  it("polls until done, letting the test move the clock before each poll", async () => {
    const clock = createManualClock();
    const result = await runAsyncTask(
      new CounterAgent(clock.now),
      countTask,
      { word: "x" },
      {
        beforePoll: () => clock.advance(300),
      },
    );
    expect(result.outputs).toEqual({ text: "xx", length: 2 });
  });

  it("gives up after maxPolls with the last phase in the message", async () => {
    const clock = createManualClock();
    const run = await startAsyncTask(new CounterAgent(clock.now), countTask, { word: "x" });
    await expect(run.pollUntilDone({ maxPolls: 3 })).rejects.toThrow(/3 polls \(last: RUNNING, "counting"\)/);
    expect(run.polls).toBe(3);
  });

  it("refuses an agent that does not serve the task's type", async () => {
    const other = defineTask({ name: "tests.other", taskType: "other" });
    await expect(startAsyncTask(new CounterAgent(Date.now), other, {})).rejects.toThrow(
      /other_v0\. Available: \[counter_v0\]/,
    );
  });
});

describe("runSyncTask", () => {
  it("returns the outputs of do decoded with the task's output types", async () => {
    const result = await runSyncTask(new EchoAgent(), countTask, { word: "hey" });
    expect(result).toMatchObject({ phaseName: "SUCCEEDED", outputs: { text: "hey", length: 3 } });
  });

  it("reports a failure with its message", async () => {
    const result = await runSyncTask(new EchoAgent(), countTask, { word: "" });
    expect(result).toMatchObject({
      phaseName: "FAILED",
      done: true,
      succeeded: false,
      message: "empty word",
    });
  });

  it("refuses an async agent", async () => {
    await expect(runSyncTask(new CounterAgent(Date.now) as never, countTask, { word: "a" })).rejects.toThrow(
      /not a sync agent/,
    );
  });
});

/** Records the connection each call received. */
class ConnectionSpyAgent extends AsyncAgentBase<typeof Meta> {
  readonly calls: { op: string; connection: Connection | undefined }[] = [];
  constructor() {
    super({ taskTypeName: "counter", metadataSchema: Meta, outputs: countTask.outputs });
  }
  async create(req: TaskRequest) {
    this.calls.push({ op: "create", connection: req.connection });
    return { text: "ok", ready_at: 0 };
  }
  async get(meta: z.output<typeof Meta>, ctx: AgentContext): Promise<Resource> {
    this.calls.push({ op: "get", connection: ctx.connection });
    const token = ctx.connection?.secrets.token ?? "";
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { text: meta.text, length: token.length } };
  }
  async delete(_meta: z.output<typeof Meta>, ctx: AgentContext) {
    this.calls.push({ op: "delete", connection: ctx.connection });
  }
}

class ConnectionEchoAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "counter" });
  }
  async do(req: TaskRequest): Promise<Resource> {
    const c = req.connection;
    const text = c ? `${c.configs.region ?? ""}:${c.secrets.token ?? ""}:${JSON.stringify(c)}` : "flyte 1";
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { text, length: 0 } };
  }
}

describe("a Flyte 2 connection through the direct helpers", () => {
  const connection = { taskType: "counter", secrets: { token: "s3cr3t" }, configs: { region: "eu" } };

  it("hands do the connection as the server would, its secret redacted when serialized", async () => {
    const result = await runSyncTask(new ConnectionEchoAgent(), countTask, { word: "a" }, { connection });
    expect(result.outputs?.text).toBe(
      'eu:s3cr3t:{"taskType":"counter","secrets":{"token":"***"},"configs":{"region":"eu"}}',
    );
    // Without one, the call is a Flyte 1 call.
    expect((await runSyncTask(new ConnectionEchoAgent(), countTask, { word: "a" })).outputs?.text).toBe(
      "flyte 1",
    );
  });

  it("passes the connection to create and again to every get and delete, as Flyte 2 sends it", async () => {
    const agent = new ConnectionSpyAgent();
    const run = await startAsyncTask(agent, countTask, { word: "a" }, { connection });
    expect((await run.pollUntilDone()).outputs).toEqual({ text: "ok", length: 6 });
    await run.poll();
    await run.delete();
    expect(agent.calls.map((c) => c.op)).toEqual(["create", "get", "get", "delete"]);
    for (const c of agent.calls) {
      expect(c.connection).toEqual(connection);
      expect(Object.isFrozen(c.connection)).toBe(true);
    }
  });

  it("leaves the connection out of every call of a Flyte 1 run, and of a context made without one", async () => {
    const agent = new ConnectionSpyAgent();
    expect((await runAsyncTask(agent, countTask, { word: "a" })).outputs).toEqual({ text: "ok", length: 0 });
    expect(agent.calls.map((c) => c.connection)).toEqual([undefined, undefined]);
    expect(createAgentContext()).not.toHaveProperty("connection");
    expect(createAgentContext({ connection }).connection?.secrets).toEqual({ token: "s3cr3t" });
  });
});
