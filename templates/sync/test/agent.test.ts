import { runSyncTask, runThroughExecutor, startTestServer } from "flyte-agent/testing";
import { describe, expect, it } from "vitest";
import { StarterAgent } from "../src/agent.js";
import type { RatesClient } from "../src/rates-service.js";
import { starterTask } from "../src/task.js";

describe("StarterAgent", () => {
  it("converts an amount with the API's rate", async () => {
    const result = await runSyncTask(new StarterAgent(), starterTask, {
      amount: 100,
      from: "EUR",
      to: "USD",
    });
    expect(result.phaseName).toBe("SUCCEEDED");
    expect(result.outputs?.converted).toBe(108);
    expect(result.outputs?.rate).toBeCloseTo(1.08);
  });

  it("rounds to the task's configured number of decimals", async () => {
    const third: RatesClient = { rate: async () => 1 / 3 };
    const result = await runSyncTask(new StarterAgent({ client: third }), starterTask, {
      amount: 1,
      from: "AAA",
      to: "BBB",
    });
    expect(result.outputs?.converted).toBe(0.33);
  });

  it("fails without retries on a currency the API does not know", async () => {
    const result = await runSyncTask(new StarterAgent(), starterTask, { amount: 1, from: "EUR", to: "XYZ" });
    expect(result).toMatchObject({ phaseName: "FAILED", message: "no rate from EUR to XYZ" });
    expect(result.resource.agentError).toEqual({ code: "UNKNOWN_CURRENCY", kind: "NON_RECOVERABLE" });
  });

  it("rejects an input that is not a currency code before calling the agent", async () => {
    await expect(
      runSyncTask(new StarterAgent(), starterTask, { amount: 1, from: "euro", to: "USD" }),
    ).rejects.toThrow(/from/);
  });
});

describe("StarterAgent through the executor", () => {
  it("answers FlytePropeller's ExecuteTaskSync call with the outputs", async () => {
    const result = await runThroughExecutor(
      starterTask,
      { amount: 10, from: "GBP", to: "EUR" },
      {
        agents: [new StarterAgent()],
      },
    );
    expect(result).toMatchObject({ phase: "SUCCEEDED", outputs: { converted: 11.76 } });
  });

  it("reports the agent's error code through the agent server", async () => {
    await using server = await startTestServer({ agents: [new StarterAgent()] });
    const result = await runThroughExecutor(starterTask, { amount: 1, from: "EUR", to: "XYZ" }, { server });
    expect(result).toMatchObject({ phase: "FAILED", code: "UNKNOWN_CURRENCY" });
  });
});
