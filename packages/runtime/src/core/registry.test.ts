import { beforeEach, describe, expect, it, vi } from "vitest";
import { AsyncAgentBase, SyncAgentBase } from "./agent.js";
import { TaskExecutionPhase } from "./phase.js";
import { AgentRegistry, parseCategory } from "./registry.js";
import type { Resource } from "./resource.js";

class Dummy extends AsyncAgentBase {
  constructor(taskTypeName = "dummy", version = 0, name?: string) {
    super({ taskTypeName, taskTypeVersion: version, ...(name ? { name } : {}) });
  }
  async create() {
    return {};
  }
  async get(): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED };
  }
  async delete() {}
}

class Echo extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "echo" });
  }
  async do(): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED };
  }
}

describe("AgentRegistry", () => {
  let registry: AgentRegistry;
  beforeEach(() => {
    registry = new AgentRegistry();
  });

  it("finds an agent by task type and version", () => {
    const a = new Dummy("dummy", 1);
    registry.register(a);
    expect(registry.getAgent("dummy", 1)).toBe(a);
  });

  it("rejects a duplicate task category with flytekit's message", () => {
    registry.register(new Dummy());
    expect(() => registry.register(new Dummy())).toThrow("Duplicate connector for task type: dummy_v0");
  });

  it("registering the same instance twice is harmless", () => {
    const a = new Dummy();
    registry.register(a);
    registry.register(a);
    expect(registry.listAgents()).toHaveLength(1);
  });

  it("names the missing category and lists what is served", () => {
    registry.register(new Dummy());
    registry.register(new Echo());
    expect(() => registry.getAgent("bigquery")).toThrow(
      "Cannot find connector for task category: bigquery_v0. Available: [dummy_v0, echo_v0]",
    );
  });

  it("moves a category on override so it is never listed twice", () => {
    registry.register(new Dummy("dummy", 0, "Old"));
    const replacement = new Dummy("dummy", 0, "New");
    registry.register(replacement, { override: true });
    expect(registry.getAgent("dummy")).toBe(replacement);
    expect(registry.listAgents()).toEqual([
      { name: "New", isSync: false, categories: [{ name: "dummy", version: 0 }] },
    ]);
  });

  it("groups categories under the agent name and marks sync agents", () => {
    registry.register(new Dummy("a", 0, "Multi"));
    registry.register(new Dummy("b", 2, "Multi"));
    registry.register(new Echo());
    expect(registry.listAgents()).toEqual([
      {
        name: "Multi",
        isSync: false,
        categories: [
          { name: "a", version: 0 },
          { name: "b", version: 2 },
        ],
      },
      { name: "Echo", isSync: true, categories: [{ name: "echo", version: 0 }] },
    ]);
  });

  it("filters to an allowlist and fails on an allowed category nobody serves", () => {
    registry.register(new Dummy());
    registry.register(new Echo());
    const only = registry.filter(["echo"]);
    expect(only.listAgents().map((a) => a.name)).toEqual(["Echo"]);
    expect(() => registry.filter(["nope_v3"])).toThrow(/nope_v3/);
  });

  it("shares one process-wide registry between two loaded copies of the library", async () => {
    const first = (await import("./registry.js")).AgentRegistry;
    vi.resetModules();
    const second = (await import("./registry.js")).AgentRegistry;
    expect(second).not.toBe(first);
    const agent = new Dummy("shared_task");
    first.register(agent);
    expect(second.getAgent("shared_task")).toBe(agent);
    first.default.clear();
  });

  it("refuses things that are not agents", () => {
    expect(() => registry.register({} as never)).toThrow(/takes an agent/);
  });
});

describe("parseCategory", () => {
  it("reads bare names as version 0 and name_vN forms", () => {
    expect(parseCategory("sensor")).toEqual({ name: "sensor", version: 0 });
    expect(parseCategory("bigquery_query_job_task_v2")).toEqual({
      name: "bigquery_query_job_task",
      version: 2,
    });
  });
});
