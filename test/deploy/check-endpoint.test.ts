import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkAgentEndpoint } from "../../src/deploy/check-endpoint.js";
import type { AgentServer } from "../../packages/runtime/src/server/index.js";
import { startAgentServer } from "./agent-server.js";

describe("checkAgentEndpoint against a real server", () => {
  let canary: AgentServer;
  let everything: AgentServer;
  beforeAll(async () => {
    canary = await startAgentServer({ allow: ["custom_task"] });
    everything = await startAgentServer();
  });
  afterAll(async () => {
    await canary.shutdown(100);
    await everything.shutdown(100);
  });

  it("passes when health is SERVING and ListAgents lists exactly the allowed task types", async () => {
    const r = await checkAgentEndpoint(canary.address, {
      expected: [{ name: "custom_task", isSync: false }],
    });
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.served).toEqual([{ category: "custom_task_v0", agent: expect.any(String), isSync: false }]);
  });

  it("fails a server that takes task types it was not given", async () => {
    const r = await checkAgentEndpoint(everything.address, { expected: ["custom_task"] });
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => c.name === "task-types")?.detail).toBe("not allowed echo_v0");
  });

  it("fails a wrong is_sync and a missing task type", async () => {
    const r = await checkAgentEndpoint(everything.address, {
      expected: [{ name: "custom_task", isSync: true }, "echo", "other"],
    });
    expect(r.checks.find((c) => c.name === "is-sync")?.detail).toMatch(
      /wrong is_sync for custom_task_v0 \(expected sync\)/,
    );
    expect(r.checks.find((c) => c.name === "task-types")?.detail).toBe("missing other_v0");
  });

  it("reports an endpoint nobody listens on instead of throwing", async () => {
    const gone = await startAgentServer();
    const address = gone.address;
    await gone.shutdown(100);
    const r = await checkAgentEndpoint(address, { expected: ["custom_task"], timeoutMs: 500 });
    expect(r.ok).toBe(false);
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
      ["health", false],
      ["list-agents", false],
    ]);
  });
});
