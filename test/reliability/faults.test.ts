// Faults in agent code and in the processes around it, against the real `serve agent` binary
// (`npm run build` first; `npm test` does it). Nothing here sleeps: tests wait on log lines, on
// executor events and on the clients' own deadlines.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ProbeClient } from "../../src/conformance/index.js";
import { executeTask, type ExecutionEvent } from "../../src/executor/index.js";
import type { GetTaskResponse } from "../../src/gen/flyteidl/admin/agent.js";
import { TaskExecutionPhase, defineTask } from "../../src/index.js";
import { clients, executeSync, failure, unary } from "../server/helpers.js";
import { startCli } from "../server/serve-process.js";

const fixture = "test/reliability/fixtures/fault-agents.ts";
const local = ["--port", "0", "--host", "127.0.0.1", "--no-discover", "-m", fixture];

const faultTask = defineTask({
  name: "fault_task",
  taskType: "fault",
  inputs: { mode: z.string(), id: z.string().optional(), run_ms: z.number().int().optional() },
  outputs: { mode: z.string() },
});
const slowSyncTask = defineTask({
  name: "slow_sync",
  taskType: "fault_sync",
  inputs: { delay_ms: z.number().int() },
  outputs: { done: z.boolean() },
});

type Clients = ReturnType<typeof clients>;

function get(c: Clients, meta: Record<string, unknown>, deadlineMs?: number): Promise<GetTaskResponse> {
  return unary(
    c.async.getTask.bind(c.async),
    {
      taskType: "fault",
      taskCategory: { name: "fault", version: 0 },
      resourceMeta: Buffer.from(JSON.stringify(meta)),
      outputPrefix: "",
    },
    deadlineMs,
  );
}

async function healthOf(port: number): Promise<string> {
  const probe = new ProbeClient(`127.0.0.1:${port}`);
  try {
    return (await probe.health(3000)).value.status;
  } finally {
    probe.close();
  }
}

describe("faults in agent code do not take the server down", () => {
  let cli: Awaited<ReturnType<typeof startCli>>;
  let c: Clients;
  beforeAll(async () => {
    cli = await startCli(["agent", ...local, "--prometheus-port", "0"]);
    c = clients(`127.0.0.1:${cli.port}`);
  });
  afterAll(() => {
    c.close();
    cli.child.kill("SIGKILL");
  });

  it("answers a synchronous throw in create and a rejection in get with a one-line INTERNAL", async () => {
    const created = await failure(
      unary(c.async.createTask.bind(c.async), {
        inputs: faultTask.encodeInputs({ mode: "throw-create" }),
        template: faultTask.template(),
        outputPrefix: "",
        taskExecutionMetadata: undefined,
      }),
    );
    expect(created.code).toBe(status.INTERNAL);
    expect(created.details).toContain("create exploded synchronously");
    const got = await failure(get(c, { mode: "reject" }));
    expect(got.code).toBe(status.INTERNAL);
    expect(got.details).toContain("backend exploded");
    for (const e of [created, got]) expect(e.details).not.toMatch(/\n|\s+at /);
  });

  it("keeps answering 200 good calls while 50 calls hang past their deadline, then frees them", async () => {
    const hungSettled: number[] = [];
    const hung = Array.from({ length: 50 }, () =>
      failure(get(c, { mode: "hang" }, 3000)).finally(() => hungSettled.push(Date.now())),
    );
    await cli.loggedTimes("hanging get started", 50);
    const good = await Promise.all(Array.from({ length: 200 }, () => get(c, { mode: "ok" })));
    const goodDone = Date.now();
    expect(good.map((r) => r.resource?.phase)).toEqual(Array(200).fill(TaskExecutionPhase.SUCCEEDED));
    const errors = await Promise.all(hung);
    expect(errors.map((e) => e.code)).toEqual(Array(50).fill(status.DEADLINE_EXCEEDED));
    // The good calls were all answered while every hung call was still hanging.
    expect(Math.min(...hungSettled)).toBeGreaterThanOrEqual(goodDone);
    expect(await healthOf(cli.port)).toBe("SERVING");
    const metrics = await (await fetch(`http://127.0.0.1:${cli.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^flyte_agent_requests_in_flight 0$/m);
  });

  it("logs and counts a leaked rejection and a throw in a timer, and serves on", async () => {
    const leaked = await get(c, { mode: "leak" });
    expect(leaked.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    const rejection = await cli.logged("an agent left a promise rejection unhandled; serving on");
    const exception = await cli.logged("an agent threw outside any call; serving on");
    expect(rejection).toMatchObject({ level: "error", err: { message: "a rejection nobody handles" } });
    expect(exception).toMatchObject({ level: "error", err: { message: "a throw in a timer callback" } });
    expect((await get(c, { mode: "ok" })).resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect(cli.child.exitCode).toBeNull();
    const metrics = await (await fetch(`http://127.0.0.1:${cli.metricsPort}/metrics`)).text();
    expect(metrics).toContain('flyte_agent_unhandled_errors_total{kind="rejection"} 1');
    expect(metrics).toContain('flyte_agent_unhandled_errors_total{kind="exception"} 1');
  });
});

describe("hung calls hold --max-concurrent slots only until their deadline", () => {
  it("refuses calls beyond the limit with RESOURCE_EXHAUSTED, then serves again", async () => {
    const cli = await startCli(["agent", ...local, "--no-prometheus", "--max-concurrent", "10"]);
    const c = clients(`127.0.0.1:${cli.port}`);
    try {
      const hung = Array.from({ length: 10 }, () => failure(get(c, { mode: "hang" }, 1500)));
      await cli.loggedTimes("hanging get started", 10);
      const refused = await failure(get(c, { mode: "ok" }));
      expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
      expect((await Promise.all(hung)).map((e) => e.code)).toEqual(Array(10).fill(status.DEADLINE_EXCEEDED));
      expect((await get(c, { mode: "ok" })).resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    } finally {
      c.close();
      cli.child.kill("SIGKILL");
    }
  });
});

describe("SIGTERM drains the calls in flight", () => {
  it("finishes async and sync calls in flight, refuses new ones, and exits 0", async () => {
    const cli = await startCli(["agent", ...local, "--no-prometheus", "--grace-period", "20"]);
    const c = clients(`127.0.0.1:${cli.port}`);
    try {
      const gets = Array.from({ length: 5 }, () => get(c, { mode: "slow", delay_ms: 600 }));
      const syncs = Array.from({ length: 3 }, () =>
        executeSync(c.sync, [
          {
            header: {
              template: slowSyncTask.template(),
              outputPrefix: "",
              taskExecutionMetadata: undefined,
              maxDatasetSizeBytes: 0n,
            },
          },
          { inputs: slowSyncTask.encodeInputs({ delay_ms: 600 }) },
        ]),
      );
      await Promise.all([cli.loggedTimes("slow get started", 5), cli.loggedTimes("slow do started", 3)]);
      cli.child.kill("SIGTERM");
      await cli.logged("draining");
      const late = await failure(get(c, { mode: "ok" }, 3000));
      expect(late.code).toBe(status.UNAVAILABLE);
      expect((await Promise.all(gets)).map((r) => r.resource?.phase)).toEqual(
        Array(5).fill(TaskExecutionPhase.SUCCEEDED),
      );
      expect((await Promise.all(syncs)).map((r) => r[0]?.header?.resource?.phase)).toEqual(
        Array(3).fill(TaskExecutionPhase.SUCCEEDED),
      );
      expect((await cli.child).exitCode).toBe(0);
    } finally {
      c.close();
      cli.child.kill("SIGKILL");
    }
  });

  it("cuts calls that outlast --grace-period with a status and still exits", async () => {
    const cli = await startCli(["agent", ...local, "--no-prometheus", "--grace-period", "0.3"]);
    const c = clients(`127.0.0.1:${cli.port}`);
    try {
      const stuck = failure(get(c, { mode: "hang" }, 30_000));
      await cli.logged("hanging get started");
      cli.child.kill("SIGTERM");
      const err = await stuck;
      expect([status.UNAVAILABLE, status.CANCELLED, status.INTERNAL]).toContain(err.code);
      expect((await cli.child).exitCode).toBe(0);
    } finally {
      c.close();
      cli.child.kill("SIGKILL");
    }
  });
});

describe("the executor against server and executor faults", () => {
  it("completes a task with the same result when the server is killed -9 and restarted while it polls", async () => {
    const first = await startCli(["agent", ...local, "--no-prometheus"]);
    const port = first.port;
    let second: Awaited<ReturnType<typeof startCli>> | undefined;
    const events: ExecutionEvent[] = [];
    let restarted: Promise<void> | undefined;
    try {
      const baseline = await executeTask({
        task: faultTask,
        inputs: { mode: "timed", id: "restart", run_ms: 50 },
        endpoint: `127.0.0.1:${port}`,
        pollIntervalMs: 20,
      });
      const result = await executeTask({
        task: faultTask,
        inputs: { mode: "timed", id: "restart", run_ms: 1500 },
        endpoint: `127.0.0.1:${port}`,
        pollIntervalMs: 20,
        maxPollIntervalMs: 100,
        errorBackoffMs: 100,
        onEvent: (e) => {
          events.push(e);
          if (e.type === "phase" && e.phase === "RUNNING" && !restarted) {
            first.child.kill("SIGKILL");
            restarted = first.child.then(async () => {
              second = await startCli([
                "agent",
                ...local.slice(2),
                "--port",
                String(port),
                "--no-prometheus",
              ]);
            });
          }
        },
      });
      await restarted;
      expect(events.some((e) => e.type === "get-error")).toBe(true);
      expect(result.phase).toBe("SUCCEEDED");
      expect(result.outputs).toEqual(baseline.outputs);
      expect(result.outputs).toEqual({ mode: "timed restart" });
    } finally {
      first.child.kill("SIGKILL");
      second?.child.kill("SIGKILL");
    }
  });

  it("deletes a running job exactly once with its resource_meta when interrupted, and never a finished one", async () => {
    const cli = await startCli(["agent", ...local, "--no-prometheus"]);
    const endpoint = `127.0.0.1:${cli.port}`;
    try {
      const controller = new AbortController();
      const interrupted = await executeTask({
        task: faultTask,
        inputs: { mode: "timed", id: "interrupt-me", run_ms: 60_000 },
        endpoint,
        pollIntervalMs: 20,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === "phase" && e.phase === "RUNNING") controller.abort();
        },
      });
      expect(interrupted).toMatchObject({ phase: "ABORTED", interrupted: "interrupted" });

      const done = new AbortController();
      const finished = await executeTask({
        task: faultTask,
        inputs: { mode: "timed", id: "finished", run_ms: 0 },
        endpoint,
        pollIntervalMs: 20,
        signal: done.signal,
      });
      done.abort();
      expect(finished.phase).toBe("SUCCEEDED");

      const failing = await executeTask({
        task: faultTask,
        inputs: { mode: "timed", id: "delete-fails", run_ms: 60_000 },
        endpoint,
        pollIntervalMs: 20,
        signal: AbortSignal.abort(),
      });
      expect(failing.phase).toBe("ABORTED");

      // A marker call: once its log line is there, every earlier delete has been logged too.
      const c = clients(endpoint);
      await get(c, { mode: "slow", delay_ms: 0 });
      c.close();
      await cli.logged("slow get started");
      const deletes = cli.lines.filter((l) => l.msg === "delete");
      expect(deletes.map((l) => (l.meta as { id: string }).id)).toEqual(["interrupt-me"]);
      expect(deletes[0]).toMatchObject({
        task_type: "fault",
        op: "delete",
        meta: { mode: "timed", id: "interrupt-me" },
      });
    } finally {
      cli.child.kill("SIGKILL");
    }
  });
});
