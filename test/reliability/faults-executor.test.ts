// Fault suite, executor side: the agent server killed -9 and restarted while `executeTask` polls,
// and the executor interrupted (AbortSignal) with DeleteTask recorded at the server; Ctrl-C on the
// `flyte-agent run` binary is run-cli.test.ts's smoke test. Steps wait for executor events, requests reaching the server, or gRPC deadlines.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTask, TaskExecutionPhase } from "../../packages/runtime/src/index.js";
import { executeTask, type ExecuteTaskOptions, type ExecutionResult } from "../../src/executor/index.js";
import type { ExecutionEvent } from "../../src/executor/events.js";
import type {
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteTaskRequest,
  DeleteTaskResponse,
  GetTaskRequest,
  GetTaskResponse,
  ListAgentsResponse,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import {
  AgentMetadataServiceService,
  AsyncAgentServiceService,
} from "../../packages/runtime/src/gen/flyteidl/service/agent.js";
import { toProtoResource } from "../../packages/runtime/src/core/proto-resource.js";
import { toLiteralMap } from "../../packages/runtime/src/types/index.js";
import { type ServeProcess, startServe } from "./faults-helpers.js";
import { recorded } from "./fixtures/fault-tasks.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "faults-"));

/** Waits for the first executor event that matches. */
function eventWaiter() {
  const events: ExecutionEvent[] = [];
  const waiters: { match: (e: ExecutionEvent) => boolean; resolve: (e: ExecutionEvent) => void }[] = [];
  return {
    events,
    onEvent: (e: ExecutionEvent): void => {
      events.push(e);
      for (const w of waiters.filter((x) => x.match(e))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    },
    next: (match: (e: ExecutionEvent) => boolean) =>
      new Promise<ExecutionEvent>((resolve) => {
        const found = events.find(match);
        if (found) resolve(found);
        else waiters.push({ match, resolve });
      }),
  };
}

/** What a fault test compares between two runs: everything but ids, prefixes and timings. */
const comparable = (r: ExecutionResult) => ({
  phase: r.phase,
  succeeded: r.succeeded,
  outputs: r.outputs,
  outputLiterals: r.outputLiterals,
  message: r.message,
  code: r.code,
  attempts: r.attempts,
  interrupted: r.interrupted,
});

describe("the agent server killed -9 while the executor polls", () => {
  const processes: ServeProcess[] = [];
  afterEach(() => {
    for (const p of processes.splice(0)) p.child.kill("SIGKILL");
  });

  it("completes the task with the same result as an uninterrupted run once the server is back on its port", async () => {
    const job = defineTask({
      name: "faults.file_job",
      taskType: "fault_job",
      inputs: { n: z.int(), done: z.string() },
      outputs: { doubled: z.int(), label: z.string() },
    });
    const first = await startServe(["--no-prometheus"]);
    processes.push(first);
    const done = join(tempDir(), "done");
    const options = (w: ReturnType<typeof eventWaiter>): ExecuteTaskOptions => ({
      task: job,
      inputs: { n: 21, done },
      endpoint: first.address,
      pollIntervalMs: 5,
      maxPollIntervalMs: 20,
      // Six GetTask failures end the run (propeller's budget); backing off 250 ms, doubling, leaves
      // about 8 s for the restart and grpc-js's reconnect backoff.
      errorBackoffMs: 250,
      onEvent: w.onEvent,
    });

    const w = eventWaiter();
    const run = executeTask(options(w));
    await w.next((e) => e.type === "phase" && e.phase === "RUNNING");
    first.child.kill("SIGKILL");
    await first.child;
    const lost = await w.next((e) => e.type === "get-error");
    expect(lost).toMatchObject({ code: "UNAVAILABLE" });
    const second = await startServe(["--no-prometheus"], first.port);
    processes.push(second);
    writeFileSync(done, "");
    const interrupted = await run;

    const plain = await executeTask(options(eventWaiter()));
    expect(plain).toMatchObject({ phase: "SUCCEEDED", outputs: { doubled: 42, label: "job-21" } });
    expect(comparable(interrupted)).toEqual(comparable(plain));
    // One task, created once: the restarted server picked it up from resource_meta alone.
    expect(w.events.filter((e) => e.type === "created")).toHaveLength(1);
    const failures = w.events.filter((e) => e.type === "get-error").length;
    console.info(
      `faults: server killed -9 and restarted mid-poll: SUCCEEDED after ${failures} failed GetTask call(s)`,
    );
  });
});

interface Recorded {
  readonly op: "create" | "get" | "delete";
  readonly taskType?: string;
  readonly taskCategory?: { name: string; version: number } | undefined;
  readonly resourceMeta?: Buffer;
}

/**
 * An agent server made of raw grpc-js handlers, so the test sees each request exactly as the
 * executor sent it. CreateTask answers deliberately non-UTF-8 resource_meta bytes.
 */
async function startRecordingServer() {
  const calls: Recorded[] = [];
  const resourceMeta = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7b, 0x22, 0x0a, 0xc3, 0x28, 0x42]);
  type Handler<Req, Res> = (req: Req, answer: sendUnaryData<Res>) => void;
  const running = (): GetTaskResponse => ({
    resource: toProtoResource({ phase: TaskExecutionPhase.RUNNING }, () => ({ literals: {} })),
  });
  const behaviour: {
    get: Handler<GetTaskRequest, GetTaskResponse>;
    delete: Handler<DeleteTaskRequest, DeleteTaskResponse>;
  } = {
    get: (_req, answer) => answer(null, running()),
    delete: (_req, answer) => answer(null, {}),
  };
  let waiters: { op: Recorded["op"]; n: number; resolve: () => void }[] = [];
  const record = (r: Recorded): void => {
    calls.push(r);
    const count = (op: Recorded["op"]) => calls.filter((c) => c.op === op).length;
    const ready = waiters.filter((w) => count(w.op) >= w.n);
    waiters = waiters.filter((w) => count(w.op) < w.n);
    for (const w of ready) w.resolve();
  };
  const server = new Server();
  const unimplemented = (_call: unknown, cb: sendUnaryData<never>) =>
    cb({ code: status.UNIMPLEMENTED, details: "not here" }, null);
  server.addService(AsyncAgentServiceService, {
    createTask: (
      call: ServerUnaryCall<CreateTaskRequest, CreateTaskResponse>,
      cb: sendUnaryData<CreateTaskResponse>,
    ) => {
      record({ op: "create", taskType: call.request.template?.type });
      cb(null, { resourceMeta });
    },
    getTask: (call: ServerUnaryCall<GetTaskRequest, GetTaskResponse>, cb: sendUnaryData<GetTaskResponse>) => {
      const r = call.request;
      record({ op: "get", taskType: r.taskType, taskCategory: r.taskCategory, resourceMeta: r.resourceMeta });
      behaviour.get(r, cb);
    },
    deleteTask: (
      call: ServerUnaryCall<DeleteTaskRequest, DeleteTaskResponse>,
      cb: sendUnaryData<DeleteTaskResponse>,
    ) => {
      const r = call.request;
      record({
        op: "delete",
        taskType: r.taskType,
        taskCategory: r.taskCategory,
        resourceMeta: r.resourceMeta,
      });
      behaviour.delete(r, cb);
    },
    getTaskMetrics: unimplemented,
    getTaskLogs: (call: { emit(e: "error", err: unknown): void }) =>
      call.emit("error", { code: status.UNIMPLEMENTED, details: "not here", metadata: new Metadata() }),
  });
  server.addService(AgentMetadataServiceService, {
    listAgents: (_call: unknown, cb: sendUnaryData<ListAgentsResponse>) =>
      cb(null, {
        agents: [
          {
            name: "Recorder",
            isSync: false,
            supportedTaskTypes: ["recorder"],
            supportedTaskCategories: [{ name: "recorder", version: 2 }],
          },
        ],
      }),
    getAgent: unimplemented,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    calls,
    resourceMeta,
    behaviour,
    running,
    deletes: () => calls.filter((c) => c.op === "delete"),
    /** Resolves once `n` calls of `op` have arrived. */
    received: (op: Recorded["op"], n: number) =>
      new Promise<void>((resolve) => {
        if (calls.filter((c) => c.op === op).length >= n) resolve();
        else waiters.push({ op, n, resolve });
      }),
    close: () => server.forceShutdown(),
  };
}

const succeeded = (): GetTaskResponse => ({
  resource: toProtoResource({ phase: TaskExecutionPhase.SUCCEEDED, outputs: { doubled: 4 } }, (values) =>
    toLiteralMap({ doubled: z.int() }, values as { doubled: number }),
  ),
});

describe("the executor interrupted", () => {
  const servers: Awaited<ReturnType<typeof startRecordingServer>>[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });
  async function recorder() {
    const s = await startRecordingServer();
    servers.push(s);
    return s;
  }
  const run = (s: { address: string }, signal: AbortSignal, extra: Partial<ExecuteTaskOptions> = {}) =>
    executeTask({
      task: recorded,
      inputs: { n: 2 },
      endpoint: s.address,
      pollIntervalMs: 5,
      signal,
      ...extra,
    });

  /** The one DeleteTask must name the task as the create did, with the create's bytes unchanged. */
  function expectOneFaithfulDelete(s: Awaited<ReturnType<typeof recorder>>): void {
    const deletes = s.deletes();
    expect(deletes).toHaveLength(1);
    expect(deletes[0]).toMatchObject({
      taskType: "recorder",
      taskCategory: { name: "recorder", version: 2 },
    });
    expect(deletes[0]!.resourceMeta!.equals(s.resourceMeta)).toBe(true);
    // And GetTask carried the same bytes.
    for (const g of s.calls.filter((c) => c.op === "get"))
      expect(g.resourceMeta!.equals(s.resourceMeta)).toBe(true);
  }

  it("sends exactly one faithful DeleteTask when aborted between polls", async () => {
    const s = await recorder();
    const controller = new AbortController();
    // A long poll interval: the abort must cut the wait, not outlast it.
    const result = run(s, controller.signal, { pollIntervalMs: 60_000 });
    await s.received("get", 1);
    controller.abort();
    expect(await result).toMatchObject({ phase: "ABORTED", interrupted: "interrupted" });
    expectOneFaithfulDelete(s);
  });

  it("sends exactly one faithful DeleteTask when aborted while a GetTask that answers RUNNING is in flight", async () => {
    const s = await recorder();
    const controller = new AbortController();
    s.behaviour.get = (_req, answer) => {
      controller.abort();
      answer(null, s.running());
    };
    const result = await run(s, controller.signal);
    expect(result).toMatchObject({ phase: "ABORTED", interrupted: "interrupted" });
    expectOneFaithfulDelete(s);
  });

  it("sends no DeleteTask when the task reached a terminal phase, even if the abort comes during that GetTask", async () => {
    const s = await recorder();
    const controller = new AbortController();
    s.behaviour.get = (_req, answer) => {
      controller.abort();
      answer(null, succeeded());
    };
    const during = await run(s, controller.signal);
    expect(during).toMatchObject({ phase: "SUCCEEDED", outputs: { doubled: 4 }, interrupted: undefined });
    expect(s.deletes()).toHaveLength(0);

    const after = new AbortController();
    s.behaviour.get = (_req, answer) =>
      answer(null, {
        resource: toProtoResource({ phase: TaskExecutionPhase.FAILED, message: "no" }, () => ({
          literals: {},
        })),
      });
    const failed = await run(s, after.signal);
    after.abort();
    expect(failed.phase).toBe("FAILED");
    expect(s.deletes()).toHaveLength(0);
  });

  it("does not hang when DeleteTask fails, hangs past its deadline, or finds the server gone", async () => {
    const s = await recorder();
    const cases: [string, (req: DeleteTaskRequest, answer: sendUnaryData<DeleteTaskResponse>) => void][] = [
      ["INTERNAL", (_req, answer) => answer({ code: status.INTERNAL, details: "cancel failed" }, null)],
      ["DEADLINE_EXCEEDED", () => {}],
    ];
    for (const [code, behaviour] of cases) {
      s.behaviour.delete = behaviour;
      const controller = new AbortController();
      const w = eventWaiter();
      const result = run(s, controller.signal, { rpcTimeouts: { DeleteTask: 200 }, onEvent: w.onEvent });
      await w.next((e) => e.type === "phase" && e.phase === "RUNNING");
      controller.abort();
      // A failed DeleteTask fails the abort: FlytePropeller ends the workflow FAILED, not ABORTED
      // (flytepropeller/pkg/controller/workflow/executor.go:478-517).
      expect(await result).toMatchObject({
        phase: "FAILED",
        code: "Workflow abort failed",
        interrupted: "interrupted",
      });
      const del = w.events.find((e) => e.type === "delete");
      expect(del).toMatchObject({ ok: false });
      expect(JSON.stringify(del)).toContain(code);
    }
    expect(s.deletes()).toHaveLength(2);

    // The server vanishes after the task started running.
    const gone = await startRecordingServer();
    const controller = new AbortController();
    const w = eventWaiter();
    const result = run(gone, controller.signal, { onEvent: w.onEvent });
    await w.next((e) => e.type === "phase" && e.phase === "RUNNING");
    gone.close();
    controller.abort();
    expect(await result).toMatchObject({ phase: "FAILED", code: "Workflow abort failed" });
    expect(w.events.find((e) => e.type === "delete")).toMatchObject({ ok: false });
  });
});
