import { describe, expect, it } from "vitest";
import { AgentRegistry } from "../core/registry.js";
import { SyncAgentBase } from "../core/agent.js";
import { TaskExecutionPhase } from "../core/phase.js";
import { builtinAgents, parseBuiltinAgentNames, registerBuiltinAgents } from "./builtin-agents.js";

describe("built-in agents", () => {
  it("are not registered by importing the package", async () => {
    await import("../index.js");
    expect(AgentRegistry.default.has("sensor")).toBe(false);
    expect(AgentRegistry.default.has("webhook")).toBe(false);
  });

  it("are built on request, fresh each time", () => {
    const [sensor, webhook] = builtinAgents(["sensor", "webhook"]);
    expect(sensor?.taskCategory).toEqual({ name: "sensor", version: 0 });
    expect(sensor?.isSync).toBe(false);
    expect(webhook?.taskCategory).toEqual({ name: "webhook", version: 0 });
    expect(webhook?.isSync).toBe(true);
    expect(builtinAgents(["sensor"])[0]).not.toBe(sensor);
  });

  it("parses comma lists, repeats and all", () => {
    expect(parseBuiltinAgentNames("sensor, webhook")).toEqual(["sensor", "webhook"]);
    expect(parseBuiltinAgentNames(["webhook", "WEBHOOK"])).toEqual(["webhook"]);
    expect(parseBuiltinAgentNames("all")).toEqual(["sensor", "webhook"]);
    expect(() => parseBuiltinAgentNames("sensor,email")).toThrow(
      'unknown built-in agent "email" (available: sensor, webhook, or all)',
    );
  });

  it("register into a registry once, listing only what was asked for", () => {
    const registry = new AgentRegistry();
    expect(registerBuiltinAgents(registry, ["webhook"])).toHaveLength(1);
    expect(registerBuiltinAgents(registry, ["webhook"])).toHaveLength(0);
    expect(registry.listAgents()).toEqual([
      { name: "Webhook", isSync: true, categories: [{ name: "webhook", version: 0 }] },
    ]);
  });

  it("refuse to displace another agent serving the same task type", () => {
    class MyWebhook extends SyncAgentBase {
      constructor() {
        super({ taskTypeName: "webhook" });
      }
      async do() {
        return { phase: TaskExecutionPhase.SUCCEEDED };
      }
    }
    const registry = new AgentRegistry();
    registry.register(new MyWebhook());
    expect(() => registerBuiltinAgents(registry, ["webhook"])).toThrow(
      /Duplicate connector for task type: webhook_v0/,
    );
  });
});
