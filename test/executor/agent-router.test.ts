import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentRegistry,
  AsyncAgentBase,
  TaskExecutionPhase,
  type Resource,
} from "../../packages/runtime/src/index.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { AgentRouter } from "../../src/executor/agent-router.js";
import { parsePropellerConfig } from "../../packages/runtime/src/propeller/config.js";

class Named extends AsyncAgentBase {
  constructor(taskType: string) {
    super({ taskTypeName: taskType });
  }
  async create() {
    return {};
  }
  async get(): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED };
  }
  async delete() {}
}

describe("AgentRouter", () => {
  const defaultRegistry = new AgentRegistry();
  const otherRegistry = new AgentRegistry();
  let a: AgentServer;
  let b: AgentServer;
  let router: AgentRouter;

  beforeAll(async () => {
    defaultRegistry.register(new Named("x"));
    a = await AgentServer.start({ registry: defaultRegistry, host: "127.0.0.1", port: 0 });
    b = await AgentServer.start({ registry: otherRegistry, host: "127.0.0.1", port: 0 });
    const config = parsePropellerConfig(`
plugins:
  agent-service:
    pollInterval: 10s
    defaultAgent: { endpoint: "${a.address}" }
    agents:
      other: { endpoint: "${b.address}", insecure: true }
`);
    router = await AgentRouter.create(config);
  });
  afterAll(async () => {
    router.close();
    await Promise.all([a.shutdown(500), b.shutdown(500)]);
  });

  it("picks up a task type a deployment starts serving, at the next pollInterval only", async () => {
    // A type no deployment lists never reaches the agent plugin (nodes/task/handler.go:384-425).
    expect(() => router.route({ name: "y", version: 0 })).toThrow(/would not send task type y/);
    // Once in the plugin (Get, Delete), an unknown name falls back to the default (agent/plugin.go:401-409).
    expect(router.route({ name: "y", version: 0 }, { withinPlugin: true }).via).toBe("default");
    otherRegistry.register(new Named("y"));
    await router.refreshIfDue(0); // baseline
    expect(await router.refreshIfDue(9_999)).toBeUndefined();
    expect(() => router.route({ name: "y", version: 0 })).toThrow(/would not send/);
    const reports = await router.refreshIfDue(10_000);
    expect(reports?.find((r) => r.deployment === "other")?.categories).toEqual([
      { name: "y", version: 0, isSync: false },
    ]);
    const route = router.route({ name: "y", version: 0 });
    expect(route).toMatchObject({ via: "discovery", deployment: { id: "other" } });
  });
});
