// Fault suite, server side: misbehaving agents and SIGTERM against the real `flyte-agent serve agent`
// process (`npm run build` first; `npm test` does it). Nothing here sleeps: every step waits for a
// log line the server writes, a request reaching the gate server, or a gRPC deadline.
import { type ClientUnaryCall, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defineTask, TaskExecutionPhase } from "../../packages/runtime/src/index.js";
import type {
  GetTaskResponse,
  ListAgentsResponse,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import { ServingStatus } from "../../packages/runtime/src/server/health.js";
import { clients, executeSync, failure, unary } from "../server/helpers.js";
import {
  type ServeProcess,
  healthCheck,
  healthWatch,
  metric,
  startGate,
  startServe,
} from "./faults-helpers.js";

type Clients = ReturnType<typeof clients>;

const getReq = (meta: Record<string, string>) => ({
  taskType: "fault",
  taskCategory: { name: "fault", version: 0 },
  resourceMeta: Buffer.from(JSON.stringify(meta)),
  outputPrefix: "",
});

const get = (c: Clients, meta: Record<string, string>, deadlineMs?: number): Promise<GetTaskResponse> =>
  unary(c.async.getTask.bind(c.async), getReq(meta), deadlineMs);

/** A GetTask that can be cancelled from the client side (grpc-js returns the call object). */
function cancellableGet(c: Clients, meta: Record<string, string>) {
  let call!: ClientUnaryCall;
  const done = new Promise<ServiceError | undefined>((resolve) => {
    call = c.async.getTask(getReq(meta), new Metadata(), {}, (e) => resolve(e ?? undefined));
  });
  return { done, cancel: () => call.cancel() };
}

const syncTemplate = (id: string, gate: string) =>
  defineTask({ name: `faults.sync_${id}`, taskType: "fault_sync", config: { id, gate } }).template();

function syncCall(c: Clients, id: string, gate: string) {
  return executeSync(c.sync, [
    {
      header: {
        template: syncTemplate(id, gate),
        outputPrefix: "",
        maxDatasetSizeBytes: 0n,
        taskExecutionMetadata: undefined,
      },
    },
    { inputs: { literals: {} } },
  ]);
}

const processes: ServeProcess[] = [];
afterEach(() => {
  for (const p of processes.splice(0)) p.child.kill("SIGKILL");
});

async function serveFaults(extra: readonly string[] = []): Promise<ServeProcess> {
  const p = await startServe(extra);
  processes.push(p);
  return p;
}

describe("misbehaving agents against the real server process", () => {
  let p: ServeProcess;
  let a: Clients;
  let b: Clients;
  beforeAll(async () => {
    p = await startServe();
    a = clients(p.address);
    b = clients(p.address);
  });
  afterAll(() => {
    a.close();
    b.close();
    p.child.kill("SIGKILL");
  });

  it("answers a create that throws synchronously and a get that rejects with one-line INTERNAL statuses", async () => {
    const template = defineTask({
      name: "faults.create_throws",
      taskType: "fault",
      config: { mode: "create-throws" },
    }).template();
    const created = await failure(
      unary(a.async.createTask.bind(a.async), {
        template,
        outputPrefix: "/tmp/out",
        inputs: undefined,
        taskExecutionMetadata: undefined,
      }),
    );
    expect(created.code).toBe(status.INTERNAL);
    expect(created.details).toBe(
      "failed to create fault task with error: create exploded before returning a promise",
    );

    const rejected = await failure(get(a, { mode: "reject", id: "r1" }));
    expect(rejected.code).toBe(status.INTERNAL);
    expect(rejected.details).toBe("failed to get fault task with error: backend refused r1");
    // The stack stays in the server log.
    expect(rejected.details).not.toContain("stack frame");
  });

  it("answers DEADLINE_EXCEEDED for a get that hangs ignoring its signal and for one that outlasts its deadline", async () => {
    const [hung, slow] = await Promise.all([
      failure(get(a, { mode: "hang", id: "deadline-hang" }, 300)),
      failure(get(a, { mode: "slow", id: "deadline-slow" }, 300)),
    ]);
    expect(hung.code).toBe(status.DEADLINE_EXCEEDED);
    expect(slow.code).toBe(status.DEADLINE_EXCEEDED);
    // Both agents were told: the polite one stopped, the rude one ignored it. The client gives up at
    // the deadline too and resets the stream, so the server hears whichever comes first.
    const aborted = await p.logged((l) => l.msg === "slow get aborted" && l.id === "deadline-slow");
    expect(String(aborted.reason)).toMatch(/deadline exceeded|call cancelled by the client/);
    await p.logged((l) => l.msg === "hung get saw its signal" && l.id === "deadline-hang");
  });

  it("logs and counts leaked rejections and async throws after answering, and keeps serving", async () => {
    const before = p.count((l) => l.kind === "unhandledRejection");
    for (const id of ["leak-1", "leak-2", "leak-3"]) {
      const res = await get(a, { mode: "leak", id });
      expect(res.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    }
    // Each leak call drops two promises: a rejected one and an async function that throws.
    const last = await p.logged((l) => l.kind === "unhandledRejection", before + 6);
    expect(last.level).toBe("error");
    const messages = p.lines.filter((l) => l.kind === "unhandledRejection").map((l) => String(l.msg));
    expect(messages).toEqual(
      expect.arrayContaining([
        "unhandled promise rejection (an agent dropped a promise; still serving): leaked rejection leak-2",
        "unhandled promise rejection (an agent dropped a promise; still serving): async throw after answering leak-3",
      ]),
    );
    expect(await metric(p, 'flyte_agent_unhandled_errors_total{kind="unhandledRejection"}')).toBe(before + 6);
    expect(await healthCheck(p.address)).toBe(ServingStatus.SERVING);
    expect((await get(b, { mode: "ok", id: "after-leaks" })).resource?.phase).toBe(
      TaskExecutionPhase.SUCCEEDED,
    );
    expect(p.child.exitCode).toBeNull();
  });

  it("serves 200 good calls from another client while 50 calls hang, then frees the hung calls on cancel", async () => {
    const hung = Array.from({ length: 50 }, (_, i) => cancellableGet(a, { mode: "hang", id: `h${i}` }));
    const hangStarted = (l: { msg?: string; id?: unknown }) =>
      l.msg === "hang started" && typeof l.id === "string" && /^h\d+$/.test(l.id);
    await p.logged(hangStarted, 50);
    expect(await metric(p, "flyte_agent_requests_in_flight")).toBe(50);

    const t0 = performance.now();
    const good = await Promise.allSettled([
      ...Array.from({ length: 150 }, (_, i) => get(b, { mode: "ok", id: `g${i}` })),
      ...Array.from({ length: 50 }, () => unary(b.meta.listAgents.bind(b.meta), {})),
    ]);
    const ms = performance.now() - t0;
    const ok = good.filter((r) => r.status === "fulfilled").length;
    console.info(`faults: 50 hung + 200 good calls: ${ok} OK in ${ms.toFixed(0)} ms`);
    expect(ok).toBe(200);
    const first = good[0] as PromiseFulfilledResult<GetTaskResponse>;
    expect(first.value.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    const agents = good[199] as PromiseFulfilledResult<ListAgentsResponse>;
    expect(agents.value.agents.map((x) => x.name)).toContain("FaultAgent");
    expect(await healthCheck(p.address)).toBe(ServingStatus.SERVING);

    // Still hung: the 200 answers did not wait for them, nor did they free them.
    expect(await metric(p, "flyte_agent_requests_in_flight")).toBe(50);
    const sawSignal = p.count("hung get saw its signal");
    for (const h of hung) h.cancel();
    for (const h of hung) expect((await h.done)?.code).toBe(status.CANCELLED);
    await p.logged("hung get saw its signal", sawSignal + 50);
    expect(await metric(p, "flyte_agent_requests_in_flight")).toBe(0);
    expect(p.child.exitCode).toBeNull();
  });
});

describe("limits and fatal errors", () => {
  it("counts hung calls against --max-concurrent only until they are answered", async () => {
    const p = await serveFaults(["--max-concurrent", "5"]);
    const c = clients(p.address);
    try {
      const hung = Array.from({ length: 5 }, (_, i) => cancellableGet(c, { mode: "hang", id: `m${i}` }));
      await p.logged("hang started", 5);
      const refused = await failure(get(c, { mode: "ok", id: "sixth" }));
      expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
      // Health is not an agent call: a full server still answers its probes.
      expect(await healthCheck(p.address)).toBe(ServingStatus.SERVING);
      hung[0]!.cancel();
      hung[1]!.cancel();
      await p.logged("hung get saw its signal", 2);
      // The two agents never settled, but their calls were answered, so their slots are free again.
      const [x, y] = await Promise.all([get(c, { mode: "ok", id: "x" }), get(c, { mode: "ok", id: "y" })]);
      expect([x.resource?.phase, y.resource?.phase]).toEqual([
        TaskExecutionPhase.SUCCEEDED,
        TaskExecutionPhase.SUCCEEDED,
      ]);
      expect(await metric(p, 'flyte_agent_requests_rejected_total{operation="get",protocol="flyte1"}')).toBe(
        1,
      );
      for (const h of hung) h.cancel();
    } finally {
      c.close();
    }
  });

  it("drains and exits 1 after an uncaught exception, letting the call in flight finish", async () => {
    const gate = await startGate();
    const p = await serveFaults(["--grace-period", "10"]);
    const c = clients(p.address);
    const watch = healthWatch(p.address);
    try {
      await watch.saw(ServingStatus.SERVING);
      const inFlight = get(c, { mode: "gate", id: "survivor", gate: gate.url("survivor") });
      await gate.arrived(1);
      const answered = await get(c, { mode: "uncaught", id: "u1" });
      expect(answered.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
      const fatal = await p.logged((l) => l.kind === "uncaughtException");
      expect(fatal).toMatchObject({
        level: "error",
        msg: "uncaught exception: draining and exiting: timer callback threw u1",
      });
      await watch.saw(ServingStatus.NOT_SERVING);
      gate.releaseAll();
      expect((await inFlight).resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
      const result = await p.child;
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trim()).toBe(
        "error: the agent server stopped after an uncaught exception: timer callback threw u1",
      );
    } finally {
      watch.close();
      c.close();
      await gate.close();
    }
  });
});

describe("SIGTERM with calls in flight", () => {
  it("finishes async and sync calls in flight, refuses new ones, turns health NOT_SERVING and exits 0", async () => {
    const gate = await startGate();
    const p = await serveFaults(["--grace-period", "20"]);
    const c = clients(p.address);
    const watch = healthWatch(p.address);
    try {
      await watch.saw(ServingStatus.SERVING);
      const asyncCalls = ["d1", "d2", "d3"].map((id) => get(c, { mode: "gate", id, gate: gate.url(id) }));
      const syncCalls = ["s1", "s2"].map((id) => syncCall(c, id, gate.url(id)));
      await gate.arrived(5);
      const t0 = performance.now();
      p.child.kill("SIGTERM");
      const draining = await p.logged("draining");
      expect(draining.in_flight).toBe(5);
      await watch.saw(ServingStatus.NOT_SERVING);

      const late = clients(p.address);
      const refused = await failure(get(late, { mode: "ok", id: "late" }, 2000));
      late.close();
      expect(refused.code).toBe(status.UNAVAILABLE);

      gate.releaseAll();
      const got = await Promise.all(asyncCalls);
      expect(got.map((r) => r.resource?.phase)).toEqual(Array(3).fill(TaskExecutionPhase.SUCCEEDED));
      const synced = await Promise.all(syncCalls);
      expect(synced.map((r) => r[0]?.header?.resource?.phase)).toEqual([
        TaskExecutionPhase.SUCCEEDED,
        TaskExecutionPhase.SUCCEEDED,
      ]);
      const result = await p.child;
      const ms = performance.now() - t0;
      console.info(`faults: SIGTERM with 5 calls in flight: drained and exited in ${ms.toFixed(0)} ms`);
      expect(result.exitCode).toBe(0);
      expect(p.count("agent server stopped")).toBe(1);
    } finally {
      watch.close();
      c.close();
      await gate.close();
    }
  });

  it("answers calls that outlast --grace-period with UNAVAILABLE and still exits, even with an agent's socket open", async () => {
    const gate = await startGate();
    const p = await serveFaults(["--grace-period", "0.3"]);
    const c = clients(p.address);
    try {
      const calls = [
        get(c, { mode: "hang", id: "cut-hang" }),
        get(c, { mode: "slow", id: "cut-slow" }),
        // Holds a socket to the gate and ignores its signal: only the exit backstop ends the process.
        get(c, { mode: "gate-ignore", id: "cut-socket", gate: gate.url("cut-socket") }),
        syncCall(c, "cut-sync", gate.url("cut-sync")),
      ];
      await Promise.all([p.logged("hang started"), p.logged("slow started"), gate.arrived(2)]);
      const t0 = performance.now();
      p.child.kill("SIGTERM");
      const errors = await Promise.all(calls.map((call) => failure(call)));
      for (const e of errors) {
        expect(e.code).toBe(status.UNAVAILABLE);
        expect(e.details).toContain("the server is shutting down and the call outlasted its grace period");
      }
      const result = await p.child;
      const ms = performance.now() - t0;
      console.info(
        `faults: SIGTERM, 4 calls past a 0.3 s grace period: all UNAVAILABLE, exited in ${ms.toFixed(0)} ms`,
      );
      expect(result.exitCode).toBe(0);
      expect(p.count("slow get aborted")).toBe(1);
      expect(
        p.count("still running a second after stopping (agent timers or sockets are open): exiting"),
      ).toBe(1);
    } finally {
      c.close();
      gate.releaseAll();
      await gate.close();
    }
  });
});
