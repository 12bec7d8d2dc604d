import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { AsyncAgentBase } from "@flyte-agent/runtime/internal/core/agent.js";
import type { TaskRequest } from "@flyte-agent/runtime/internal/core/context.js";
import { TaskExecutionPhase } from "@flyte-agent/runtime/internal/core/phase.js";
import type { Resource } from "@flyte-agent/runtime/internal/core/resource.js";
import { defineTask } from "@flyte-agent/runtime/internal/task/define-task.js";
import { createManualClock, type ManualClock } from "./manual-clock.js";
import { runThroughExecutor } from "./run-through-executor.js";
import { startTestServer, type TestServer } from "./test-server.js";

const bake = defineTask({
  name: "tests.bake",
  taskType: "oven",
  inputs: { minutes: z.int() },
  outputs: { loaves: z.int() },
});

const Meta = z.object({ ready_at: z.number() });
class OvenAgent extends AsyncAgentBase<typeof Meta> {
  polls = 0;
  constructor(private readonly clock: ManualClock) {
    super({ taskTypeName: "oven", metadataSchema: Meta, outputs: bake.outputs });
  }
  async create({ inputs }: TaskRequest) {
    return { ready_at: this.clock.now() + Number(inputs.minutes) * 60_000 };
  }
  async get(meta: z.output<typeof Meta>): Promise<Resource> {
    this.polls++;
    return this.clock.now() < meta.ready_at
      ? { phase: TaskExecutionPhase.RUNNING }
      : { phase: TaskExecutionPhase.SUCCEEDED, outputs: { loaves: 2 } };
  }
  async delete() {}
}

describe("runThroughExecutor", () => {
  it("runs a task through the executor against agents it serves itself, the clock moving as it polls", async () => {
    const clock = createManualClock();
    const agent = new OvenAgent(clock);
    const started = clock.now();
    const result = await runThroughExecutor(bake, { minutes: 1 }, { agents: [agent], clock });
    expect(result).toMatchObject({ phase: "SUCCEEDED", succeeded: true, outputs: { loaves: 2 } });
    expect(clock.now() - started).toBeGreaterThanOrEqual(60_000);
    expect(agent.polls).toBeGreaterThan(1);
  });

  describe("against a test server", () => {
    let server: TestServer;
    const clock = createManualClock();
    beforeAll(async () => {
      server = await startTestServer({ agents: [new OvenAgent(clock)] });
    });
    afterAll(async () => {
      await server.close();
    });

    it("dials the server over its loopback socket", async () => {
      const result = await runThroughExecutor(bake, { minutes: 5 }, { server, clock });
      expect(result.succeeded).toBe(true);
      expect(result.outputs).toEqual({ loaves: 2 });
    });
  });

  it("takes either agents or a server", async () => {
    await expect(runThroughExecutor(bake, { minutes: 1 }, {})).rejects.toThrow(/either agents or server/);
  });
});
