import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkConformance, type ConformanceReport } from "../../src/conformance/index.js";
import { createManualClock } from "../../packages/runtime/src/core/clock.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { allFaults, startBrokenServer } from "./fixtures/broken-server.js";
import { goodRegistry } from "./fixtures/good-agents.js";
import { brokenSyncTask, brokenTask, fileTask, inlineTask, syncTask } from "./fixtures/tasks.js";

// The check polls on a manual clock, and the good agents' jobs run on the same clock: each wait
// between GetTask calls moves the jobs on without waiting (10 s per wait; a job runs for 30 s).
const clock = createManualClock();
const fast = { clock, pollIntervalMs: 10_000 };

const statuses = (report: ConformanceReport) =>
  Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
const evidence = (report: ConformanceReport, id: string) =>
  report.checks.find((c) => c.id === id)?.evidence ?? `(no ${id} check)`;

describe("checkConformance against agents that keep the contract (Flyte 1)", () => {
  let a: AgentServer;
  let b: AgentServer;
  beforeAll(async () => {
    a = await AgentServer.start({
      registry: goodRegistry(clock.now),
      host: "127.0.0.1",
      port: 0,
      health: true,
    });
    b = await AgentServer.start({
      registry: goodRegistry(clock.now),
      host: "127.0.0.1",
      port: 0,
      health: true,
    });
  });
  afterAll(async () => {
    await a.shutdown(1000);
    await b.shutdown(1000);
  });

  it("passes the server checks and an async lifecycle with inline outputs", async () => {
    const report = await checkConformance({
      endpoint: a.address,
      task: inlineTask,
      inputs: { n: 21 },
      flyte: "1",
      ...fast,
    });
    expect(report.ok).toBe(true);
    expect(report.protocols).toEqual({ flyte1: "served", flyte2: "not-checked" });
    expect(statuses(report)).toEqual({
      health: "pass",
      protocols: "pass",
      "list-agents": "pass",
      "list-agents.unique": "pass",
      "get-agent": "pass",
      "get-agent.unknown": "pass",
      "unknown-category": "pass",
      "task.listed": "pass",
      "is-sync": "pass",
      create: "pass",
      phase: "pass",
      "get.deadline": "pass",
      "get.terminal": "pass",
      "create.repeat": "pass",
      "get.idempotent": "pass",
      "task.result": "pass",
      outputs: "pass",
      delete: "pass",
      "cross-replica": "skip",
      "response-size": "pass",
    });
    expect(evidence(report, "outputs")).toBe("inline: doubled");
    // RUNNING at first, SUCCEEDED once 30 s passed on the clock (both jobs' waits move it).
    expect(evidence(report, "get.terminal")).toMatch(/^SUCCEEDED after [2-4] GetTask call\(s\)/);
    expect(evidence(report, "unknown-category")).toMatch(
      /CreateTask NOT_FOUND, GetTask NOT_FOUND, DeleteTask NOT_FOUND/,
    );
  });

  it("reads the outputs.pb a job wrote and checks that replicas read each other's resource_meta", async () => {
    const report = await checkConformance({
      endpoint: [a.address, b.address],
      task: fileTask,
      inputs: { n: 4 },
      ...fast,
    });
    expect(report.ok).toBe(true);
    expect(evidence(report, "outputs")).toMatch(/^outputs\.pb \(\d+ bytes\): doubled$/);
    expect(statuses(report)["cross-replica"]).toBe("pass");
    expect(evidence(report, "cross-replica")).toContain(b.address);
  });

  it("runs a sync agent through one ExecuteTaskSync", async () => {
    const report = await checkConformance({
      endpoint: a.address,
      task: syncTask,
      inputs: { text: "hi" },
      ...fast,
    });
    expect(report.ok).toBe(true);
    const s = statuses(report);
    expect(s).toMatchObject({
      "is-sync": "pass",
      "sync.deadline": "pass",
      "sync.header": "pass",
      "sync.terminal": "pass",
      outputs: "pass",
    });
    expect(s.create).toBeUndefined();
  });

  it("reports a task that fails with its inputs as a warning about the result, not a failure", async () => {
    const report = await checkConformance({
      endpoint: a.address,
      task: inlineTask,
      inputs: { n: -1 },
      ...fast,
    });
    expect(report.ok).toBe(true);
    expect(statuses(report)).toMatchObject({
      "task.result": "warn",
      outputs: "skip",
      "get.terminal": "pass",
    });
    expect(evidence(report, "task.result")).toBe(
      "FAILED: failed to run the job: negative numbers are not allowed",
    );
  });
});

describe("checkConformance against a deliberately broken server", () => {
  it("fails each broken rule and says why", async () => {
    const broken = await startBrokenServer(allFaults);
    try {
      const report = await checkConformance({
        endpoint: broken.address,
        task: brokenTask,
        inputs: { n: 1 },
        ...fast,
      });
      expect(report.ok).toBe(false);
      expect(statuses(report)).toMatchObject({
        health: "warn",
        "list-agents": "pass",
        "list-agents.unique": "fail",
        // FlytePropeller never calls GetAgent: bad answers are warnings.
        "get-agent": "warn",
        "get-agent.unknown": "warn",
        "unknown-category": "fail",
        create: "pass",
        "create.repeat": "fail",
        phase: "fail",
        "get.terminal": "pass",
        "get.idempotent": "fail",
        outputs: "fail",
        delete: "fail",
        "response-size": "fail",
      });
      expect(evidence(report, "health")).toMatch(/no grpc\.health\.v1 service/);
      expect(evidence(report, "list-agents.unique")).toBe(
        "listed more than once: broken_v0 by Broken and Broken",
      );
      expect(evidence(report, "get-agent")).toContain(
        'GetAgent("Broken") says is_sync=true, ListAgents says false',
      );
      expect(evidence(report, "unknown-category")).toMatch(/CreateTask INTERNAL: KeyError/);
      expect(evidence(report, "create.repeat")).toMatch(/ALREADY_EXISTS: a job already exists/);
      expect(evidence(report, "phase")).toMatch(
        /^GetTask #1 has no phase \(deprecated state RUNNING\): FlytePropeller reads it as running/,
      );
      expect(evidence(report, "get.idempotent")).toBe(
        "two GetTask calls in a row differ in resource.message",
      );
      expect(evidence(report, "outputs")).toMatch(/OutputsNotFound \(declared: doubled\)$/);
      expect(evidence(report, "delete")).toMatch(/NOT_FOUND: job \d+ already finished/);
      expect(evidence(report, "response-size")).toMatch(/GetTask, 4\.\d\d MiB/);
    } finally {
      broken.close();
    }
  });

  it("passes the same server with every fault turned off", async () => {
    const fine = await startBrokenServer([]);
    try {
      const report = await checkConformance({
        endpoint: fine.address,
        task: brokenTask,
        inputs: { n: 1 },
        ...fast,
      });
      expect(report.checks.filter((c) => c.status !== "pass" && c.status !== "skip")).toEqual([]);
    } finally {
      fine.close();
    }
  });

  it("fails a sync answer that is not terminal, and one whose first message is not the header", async () => {
    const notTerminal = await startBrokenServer(["sync-not-terminal"]);
    const outputsFirst = await startBrokenServer(["sync-outputs-first"]);
    try {
      const a = await checkConformance({
        endpoint: notTerminal.address,
        task: brokenSyncTask,
        inputs: { text: "x" },
      });
      expect(statuses(a)).toMatchObject({ "sync.header": "pass", "sync.terminal": "fail" });
      expect(evidence(a, "sync.terminal")).toMatch(
        /non-terminal phase RUNNING\. FlytePropeller never asks a sync agent again: the task stays Queued .* one of its 10 cache workers panics/,
      );
      const b = await checkConformance({
        endpoint: outputsFirst.address,
        task: brokenSyncTask,
        inputs: { text: "x" },
      });
      expect(statuses(b)).toMatchObject({ "sync.header": "fail" });
      expect(evidence(b, "sync.header")).toMatch(/expected header in the response, but got none/);
    } finally {
      notTerminal.close();
      outputsFirst.close();
    }
  });

  it("reads a GetTask answer without a Resource as FlytePropeller does: a retryable failure", async () => {
    const empty = await startBrokenServer(["get-no-resource"]);
    try {
      const report = await checkConformance({
        endpoint: empty.address,
        task: brokenTask,
        inputs: { n: 1 },
        ...fast,
      });
      expect(evidence(report, "phase")).toBe(
        "GetTask #1 has no Resource: FlytePropeller reads it as a retryable failure; 2 of 2 answers lack a phase",
      );
      // The state fallback's text (agent/plugin.go:352).
      expect(evidence(report, "task.result")).toBe("RETRYABLE_FAILED: failed to run the job.\n");
    } finally {
      empty.close();
    }
  });

  it("reports an unreachable server in two checks instead of throwing", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const report = await checkConformance({ endpoint: `127.0.0.1:${port}` });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ["health", "fail"],
      ["protocols", "fail"],
    ]);
    expect(evidence(report, "protocols")).toMatch(/ListAgents failed \(UNAVAILABLE: .*ECONNREFUSED/);
    expect(report.protocols).toEqual({ flyte1: "error", flyte2: "error" });
  });
});
